//! `multipart/mixed` statement requests, attachment/part matching and signed statements.

use base64::Engine;
use lms_xapi::{AttachmentPart, XapiError, check_attachment_parts, check_signature, parse_multipart};
use serde_json::{Value, json};
use sha2::Digest;

const BOUNDARY: &str = "-------314159265358979323846";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A body from parts given as (header lines, content), with CRLF line ends.
fn body(parts: &[(&[&str], &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (headers, content) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        for header in *headers {
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn content_type() -> String {
    format!("multipart/mixed; boundary={BOUNDARY}")
}

fn attachment(text: &str, file_url: bool) -> Value {
    let mut attachment = json!({
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "A test attachment"},
        "contentType": "text/plain",
        "length": text.len(),
        "sha2": sha256(text.as_bytes()),
    });
    if file_url {
        attachment["fileUrl"] = json!("http://over.there.com/file.txt");
    }
    attachment
}

fn statement_with(attachments: Vec<Value>) -> Value {
    json!({
        "actor": {"mbox": "mailto:ann@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
        "object": {"id": "http://example.com/a"},
        "attachments": attachments,
    })
}

/// Parse a body and match its parts against the statement(s) of the first part.
fn check(content_type: &str, body: &[u8]) -> Result<usize, XapiError> {
    let multipart = parse_multipart(content_type, body)?;
    let statements: Value = serde_json::from_slice(multipart.statement_json).expect("first part is JSON");
    let statements = match statements {
        Value::Array(list) => list,
        single => vec![single],
    };
    check_attachment_parts(&statements, &multipart.attachments)?;
    Ok(multipart.attachments.len())
}

fn expect_error(result: Result<usize, XapiError>, fragment: &str) {
    match result {
        Err(error) => assert!(error.to_string().contains(fragment), "error {error:?} lacks {fragment:?}"),
        Ok(n) => panic!("accepted ({n} parts), expected an error with {fragment:?}"),
    }
}

const JSON: &[&str] = &["Content-Type: application/json"];

fn part_headers(hash: &str) -> Vec<String> {
    vec!["Content-Type: text/plain".into(), "Content-Transfer-Encoding: binary".into(), format!("X-Experience-API-Hash: {hash}")]
}

#[test]
fn one_statement_with_one_attachment() {
    let text = "here is a simple attachment";
    let statement = statement_with(vec![attachment(text, false)]);
    let headers = part_headers(&sha256(text.as_bytes()));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let body = body(&[(JSON, statement.to_string().as_bytes()), (&headers, text.as_bytes())]);
    assert_eq!(check(&content_type(), &body).unwrap(), 1);
    let parsed = parse_multipart(&content_type(), &body).unwrap();
    assert_eq!(parsed.attachments[0].body, text.as_bytes());
    assert_eq!(parsed.attachments[0].content_type, Some("text/plain"));
}

#[test]
fn batches_file_urls_shared_hashes_quoted_boundaries_and_preambles() {
    let (a, b) = ("first attachment", "second attachment");
    let statements = json!([
        statement_with(vec![attachment(a, false), attachment("remote", true)]),
        statement_with(vec![attachment(a, false), attachment(b, false)]),
    ]);
    let (ha, hb) = (part_headers(&sha256(a.as_bytes())), part_headers(&sha256(b.as_bytes())));
    let ha: Vec<&str> = ha.iter().map(String::as_str).collect();
    let hb: Vec<&str> = hb.iter().map(String::as_str).collect();
    let mut with_preamble = b"This is a preamble.\r\n".to_vec();
    with_preamble.extend(body(&[(JSON, statements.to_string().as_bytes()), (&ha, a.as_bytes()), (&hb, b.as_bytes())]));
    let quoted = format!("Multipart/Mixed; charset=utf-8; boundary=\"{BOUNDARY}\"");
    assert_eq!(check(&quoted, &with_preamble).unwrap(), 2);
}

#[test]
fn statements_without_attachments_may_come_as_multipart() {
    let statement = json!({"actor": {"mbox": "mailto:ann@example.com"}, "verb": {"id": "http://example.com/v"}, "object": {"id": "http://example.com/a"}});
    assert_eq!(check(&content_type(), &body(&[(JSON, statement.to_string().as_bytes())])).unwrap(), 0);
    let file_url_only = statement_with(vec![attachment("remote", true)]);
    assert_eq!(check(&content_type(), &body(&[(JSON, file_url_only.to_string().as_bytes())])).unwrap(), 0);
}

#[test]
fn malformed_multipart_bodies_are_rejected() {
    let text = "here is a simple attachment";
    let hash = sha256(text.as_bytes());
    let statement = statement_with(vec![attachment(text, false)]).to_string();
    let good_headers = part_headers(&hash);
    let good: Vec<&str> = good_headers.iter().map(String::as_str).collect();
    let good_body = body(&[(JSON, statement.as_bytes()), (&good, text.as_bytes())]);

    // Content-Type header of the request
    expect_error(check("multipart/form-data; boundary=x", &good_body), "not multipart/mixed");
    expect_error(check("application/json", &good_body), "not multipart/mixed");
    expect_error(check("multipart/mixed", &good_body), "no boundary parameter");
    expect_error(check("multipart/mixed; boundary=", &good_body), "boundary parameter is empty");
    expect_error(check("multipart/mixed; boundary=other", &good_body), "no boundary delimiter");

    // part headers
    let missing_hash: &[&str] = &["Content-Type: text/plain", "Content-Transfer-Encoding: binary"];
    expect_error(check(&content_type(), &body(&[(JSON, statement.as_bytes()), (missing_hash, text.as_bytes())])), "no X-Experience-API-Hash");
    let base64_encoding = [format!("X-Experience-API-Hash: {hash}"), "Content-Transfer-Encoding: base64".into()];
    let base64_encoding: Vec<&str> = base64_encoding.iter().map(String::as_str).collect();
    expect_error(check(&content_type(), &body(&[(JSON, statement.as_bytes()), (&base64_encoding, text.as_bytes())])), "must be binary");
    let no_encoding = [format!("X-Experience-API-Hash: {hash}")];
    let no_encoding: Vec<&str> = no_encoding.iter().map(String::as_str).collect();
    expect_error(check(&content_type(), &body(&[(JSON, statement.as_bytes()), (&no_encoding, text.as_bytes())])), "no Content-Transfer-Encoding");
    let other_hash = part_headers("b018994f8bbe0f08992a65c48c8c8c56f09e9baceaa6227ed85c90ae52b73c89");
    let other_hash: Vec<&str> = other_hash.iter().map(String::as_str).collect();
    expect_error(check(&content_type(), &body(&[(JSON, statement.as_bytes()), (&other_hash, text.as_bytes())])), "does not match the part's bytes");
    let not_hex = part_headers("should fail");
    let not_hex: Vec<&str> = not_hex.iter().map(String::as_str).collect();
    expect_error(check(&content_type(), &body(&[(JSON, statement.as_bytes()), (&not_hex, text.as_bytes())])), "not a SHA-2 hex digest");
    let bad_header_line: &[&str] = &["Content-Type application/json"];
    expect_error(check(&content_type(), &body(&[(bad_header_line, statement.as_bytes())])), "malformed part header");

    // first part
    let text_first: &[&str] = &["Content-Type: text/plain"];
    expect_error(check(&content_type(), &body(&[(text_first, statement.as_bytes()), (&good, text.as_bytes())])), "first part must be the statements");
    expect_error(check(&content_type(), &body(&[(&[], statement.as_bytes()), (&good, text.as_bytes())])), "first part has no Content-Type");
    // statements split over two JSON parts: the second is not an attachment part
    expect_error(
        check(&content_type(), &body(&[(JSON, statement.as_bytes()), (JSON, statement.as_bytes()), (&good, text.as_bytes())])),
        "part 2 has no X-Experience-API-Hash",
    );

    // structure
    let mut unterminated = good_body.clone();
    unterminated.truncate(good_body.len() - BOUNDARY.len() - 8);
    expect_error(check(&content_type(), &unterminated), "without a closing boundary");
    let lf_only = String::from_utf8(good_body.clone()).unwrap().replace("\r\n", "\n");
    expect_error(check(&content_type(), lf_only.as_bytes()), "not followed by a line break");
    expect_error(check(&content_type(), format!("--{BOUNDARY}--\r\n").as_bytes()), "no parts");
    expect_error(check(&content_type(), b""), "no boundary delimiter");
    let no_blank_line = format!("--{BOUNDARY}\r\nContent-Type: application/json\r\n--{BOUNDARY}--");
    expect_error(check(&content_type(), no_blank_line.as_bytes()), "no blank line");

    // parts against attachments
    expect_error(check(&content_type(), &body(&[(JSON, statement.as_bytes())])), "no part carries its data");
    let extra = "an extra part";
    let extra_headers = part_headers(&sha256(extra.as_bytes()));
    let extra_headers: Vec<&str> = extra_headers.iter().map(String::as_str).collect();
    expect_error(
        check(&content_type(), &body(&[(JSON, statement.as_bytes()), (&good, text.as_bytes()), (&extra_headers, extra.as_bytes())])),
        "matches no attachment",
    );
}

#[test]
fn every_prefix_of_a_body_gets_an_answer() {
    let text = "x".repeat(40);
    let statement = statement_with(vec![attachment(&text, false)]).to_string();
    let headers = part_headers(&sha256(text.as_bytes()));
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let full = body(&[(JSON, statement.as_bytes()), (&headers, text.as_bytes())]);
    let mut accepted = 0;
    for end in 0..full.len() {
        if check(&content_type(), &full[..end]).is_ok() {
            accepted += 1;
        }
    }
    assert!(accepted <= 2, "truncated bodies were accepted {accepted} times");
    assert!(check(&content_type(), &full).is_ok());
}

#[test]
fn rendered_responses_parse_back() {
    let (a, b) = (b"first".as_slice(), b"second\r\n--with a dash line".as_slice());
    let parts = [
        AttachmentPart { sha2: sha256(a), content_type: Some("text/plain"), body: a },
        AttachmentPart { sha2: sha256(b), content_type: None, body: b },
        AttachmentPart { sha2: sha256(a), content_type: Some("text/plain"), body: a },
    ];
    let result = br#"{"statements":[],"more":""}"#;
    let (content_type, body) = lms_xapi::render_multipart("b0undary-xyz", result, &parts);
    assert_eq!(content_type, "multipart/mixed; boundary=b0undary-xyz");
    let parsed = parse_multipart(&content_type, &body).unwrap();
    assert_eq!(parsed.statement_json, result);
    assert_eq!(parsed.attachments.len(), 2, "each sha2 once");
    assert_eq!(parsed.attachments[0].body, a);
    assert_eq!(parsed.attachments[1].body, b);
    assert_eq!(parsed.attachments[1].content_type, None);
}

// ---- signed statements ----

fn jws(header: &Value, payload: &str) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // The signature bytes are not checked cryptographically (see check_signature's docs).
    format!("{}.{}.{}", engine.encode(header.to_string()), engine.encode(payload), engine.encode(b"not-a-real-rsa-signature"))
}

fn signed(statement: &Value, token: &str, content_type: &str) -> (Value, Vec<u8>) {
    let mut signed = statement.clone();
    let mut attachments = signed.get("attachments").and_then(Value::as_array).cloned().unwrap_or_default();
    attachments.push(json!({
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en-US": "Signed by the Test Suite"},
        "contentType": content_type,
        "length": token.len(),
        "sha2": sha256(token.as_bytes()),
    }));
    signed["attachments"] = Value::Array(attachments);
    (signed, token.as_bytes().to_vec())
}

fn signature_check(statement: &Value, token: &str, content_type: &str) -> Result<Option<lms_xapi::SignatureCheck>, XapiError> {
    let (signed, bytes) = signed(statement, token, content_type);
    let parts = [AttachmentPart { sha2: sha256(&bytes), content_type: Some("application/octet-stream"), body: &bytes }];
    check_signature(&signed, &parts)
}

fn base_statement() -> Value {
    json!({
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "mbox": "mailto:ann@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
        "object": {"id": "http://example.com/a"},
        "result": {"duration": "P1DT12H36M0.12S"},
        "timestamp": "2023-05-04T12:00:00-05:00"
    })
}

#[test]
fn signed_statements_with_rs256_rs384_rs512_are_accepted() {
    let statement = base_statement();
    for algorithm in ["RS256", "RS384", "RS512"] {
        let token = jws(&json!({"alg": algorithm}), &statement.to_string());
        let found = signature_check(&statement, &token, "application/octet-stream").unwrap().unwrap();
        assert_eq!(found.algorithm, algorithm);
        assert!(!found.has_certificate_chain);
    }
    // no signature attachment: nothing to check
    assert_eq!(check_signature(&statement, &[]), Ok(None));
}

fn signing_key(file: &str) -> rsa::RsaPrivateKey {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let pem = std::fs::read_to_string(crate::support::data_dir().join("signing").join(file)).unwrap();
    rsa::RsaPrivateKey::from_pkcs1_pem(&pem).unwrap()
}

fn certificate() -> String {
    std::fs::read_to_string(crate::support::data_dir().join("signing/test-cert.b64")).unwrap().trim().to_owned()
}

/// A real RS256/384/512 JWS over `payload`, signed with `key`, with the test certificate in x5c.
fn signed_jws(algorithm: &str, payload: &str, key: &rsa::RsaPrivateKey) -> String {
    use rsa::pkcs1v15::SigningKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = json!({"alg": algorithm, "x5c": [certificate()]});
    let signing_input = format!("{}.{}", engine.encode(header.to_string()), engine.encode(payload));
    let signature = match algorithm {
        "RS256" => SigningKey::<sha2::Sha256>::new(key.clone()).sign(signing_input.as_bytes()).to_vec(),
        "RS384" => SigningKey::<sha2::Sha384>::new(key.clone()).sign(signing_input.as_bytes()).to_vec(),
        _ => SigningKey::<sha2::Sha512>::new(key.clone()).sign(signing_input.as_bytes()).to_vec(),
    };
    format!("{signing_input}.{}", engine.encode(signature))
}

#[test]
fn signatures_with_an_x5c_certificate_are_verified() {
    let statement = base_statement();
    let key = signing_key("test-key.pem");
    for algorithm in ["RS256", "RS384", "RS512"] {
        let token = signed_jws(algorithm, &statement.to_string(), &key);
        let found = signature_check(&statement, &token, "application/octet-stream").unwrap().unwrap();
        assert_eq!((found.algorithm.as_str(), found.has_certificate_chain), (algorithm, true));
    }
    let expect = |token: &str, fragment: &str| match signature_check(&statement, token, "application/octet-stream") {
        Err(XapiError::Signature { reason }) => assert!(reason.contains(fragment), "{reason:?} lacks {fragment:?}"),
        other => panic!("expected a signature error with {fragment:?}, got {other:?}"),
    };
    // signed by a key that is not the certificate's
    expect(&signed_jws("RS256", &statement.to_string(), &signing_key("other-key.pem")), "does not verify");
    // a valid token whose algorithm header was changed after signing
    let token = signed_jws("RS256", &statement.to_string(), &key);
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut segments: Vec<String> = token.split('.').map(str::to_owned).collect();
    segments[0] = engine.encode(json!({"alg": "RS512", "x5c": [certificate()]}).to_string());
    expect(&segments.join("."), "does not verify");
    // a flipped signature byte
    let mut signature = engine.decode(&segments[2]).unwrap();
    signature[10] ^= 1;
    let tampered = format!("{}.{}", token.rsplit_once('.').unwrap().0, engine.encode(signature));
    expect(&tampered, "does not verify");
    // broken certificates
    let with_chain = |chain: Value| {
        format!("{}.{}.{}", engine.encode(json!({"alg": "RS256", "x5c": chain}).to_string()), engine.encode(statement.to_string()), engine.encode(b"sig"))
    };
    expect(&with_chain(json!(["MIIB"])), "not a DER X.509 certificate");
    expect(&with_chain(json!(["not base64!"])), "not base64");
    expect(&with_chain(json!([])), "x5c must be an array");
    expect(&with_chain(json!("MIIB")), "x5c must be an array");
    let cert = engine.decode(certificate().replace('+', "-").replace('/', "_").trim_end_matches('=')).unwrap();
    for cut in [1, 10, cert.len() / 2, cert.len() - 1] {
        let truncated = base64::engine::general_purpose::STANDARD.encode(&cert[..cut]);
        expect(&with_chain(json!([truncated])), "not a DER X.509 certificate");
    }
}

#[test]
fn the_payload_may_differ_only_as_equivalence_allows() {
    let statement = base_statement();
    // finer duration and another timestamp notation in the payload: still the same statement
    let mut payload = statement.clone();
    payload["result"]["duration"] = json!("P1DT12H36M0.1237S");
    payload["timestamp"] = json!("2023-05-04T17:00:00.000Z");
    let token = jws(&json!({"alg": "RS256"}), &payload.to_string());
    assert!(signature_check(&statement, &token, "application/octet-stream").is_ok());
    // other attachments stay in the payload; only the signature one is left out
    let with_other = statement_with(vec![attachment("other", true)]);
    let token = jws(&json!({"alg": "RS512"}), &with_other.to_string());
    assert!(signature_check(&with_other, &token, "application/octet-stream").is_ok());
}

#[test]
fn bad_signatures_are_rejected() {
    let statement = base_statement();
    let good = jws(&json!({"alg": "RS256"}), &statement.to_string());
    let expect = |result: Result<Option<lms_xapi::SignatureCheck>, XapiError>, fragment: &str| match result {
        Err(XapiError::Signature { reason }) => assert!(reason.contains(fragment), "{reason:?} lacks {fragment:?}"),
        other => panic!("expected a signature error with {fragment:?}, got {other:?}"),
    };
    expect(signature_check(&statement, &good, "text/plain"), "must be application/octet-stream");
    expect(signature_check(&statement, &jws(&json!({"alg": "HS256"}), &statement.to_string()), "not RS256"), "not RS256");
    expect(signature_check(&statement, &jws(&json!({"alg": "none"}), &statement.to_string()), "application/octet-stream"), "not RS256");
    expect(signature_check(&statement, "not a jws", "application/octet-stream"), "compact serialization");
    expect(signature_check(&statement, "a.b.c.d", "application/octet-stream"), "compact serialization");
    expect(signature_check(&statement, "!!.e30.c2ln", "application/octet-stream"), "header is not base64url");
    let broken_json = jws(&json!({"alg": "RS256"}), &statement.to_string().replacen('"', "'", 1));
    expect(signature_check(&statement, &broken_json, "application/octet-stream"), "payload is not JSON");
    let mut other = statement.clone();
    other["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/passed");
    let mismatched = jws(&json!({"alg": "RS256"}), &other.to_string());
    expect(signature_check(&statement, &mismatched, "application/octet-stream"), "does not match");
    let mut longer_duration = statement.clone();
    longer_duration["result"]["duration"] = json!("P1DT12H36M0.13S");
    let differs_in_hundredths = jws(&json!({"alg": "RS256"}), &longer_duration.to_string());
    expect(signature_check(&statement, &differs_in_hundredths, "application/octet-stream"), "does not match");
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let empty_signature = format!("{}.{}.", engine.encode(r#"{"alg":"RS256"}"#), engine.encode(statement.to_string()));
    expect(signature_check(&statement, &empty_signature, "application/octet-stream"), "signature is empty");
    // signature attachment without its part
    let (signed_statement, _) = signed(&statement, &good, "application/octet-stream");
    expect(check_signature(&signed_statement, &[]), "no multipart part");
}
