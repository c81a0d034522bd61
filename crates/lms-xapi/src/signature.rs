//! Signed statements: a JWS (RFC 7515, compact serialization) carried as an attachment.

use base64::Engine;
use serde_json::Value;

use crate::validate::USAGE_TYPE_SIGNATURE;
use crate::{AttachmentPart, XapiError, statements_equivalent};

/// What [`check_signature`] found in a signed statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    /// `RS256`, `RS384` or `RS512`.
    pub algorithm: String,
    /// Whether the JWS header carried an `x5c` certificate chain; when it did, the RSA
    /// signature was verified against the first certificate's public key.
    pub has_certificate_chain: bool,
}

/// Check a statement's signature attachment, if it has one (`Ok(None)` otherwise).
///
/// The rules of xAPI 1.0.3 §2.6 / 2.0.0 §4.3: the signature attachment has usage type
/// [`USAGE_TYPE_SIGNATURE`] and content type `application/octet-stream`; its part holds a JWS in
/// compact serialization whose `alg` is `RS256`, `RS384` or `RS512`; the JWS payload is the
/// statement as it was before the signature attachment was added, compared with
/// [`statements_equivalent`] (so `id`, `authority`, `stored`, `version`, timestamp notation etc.
/// may differ as described there).
///
/// When the JWS header has an `x5c` certificate chain, the RSA signature must verify with the
/// public key of its first certificate (the chain itself is not checked against trust anchors:
/// the LRS has none). Without `x5c` there is no key to check the signature with, so only its
/// form is checked, as the spec allows.
pub fn check_signature(statement: &Value, parts: &[AttachmentPart<'_>]) -> Result<Option<SignatureCheck>, XapiError> {
    let Some(attachments) = statement.get("attachments").and_then(Value::as_array) else { return Ok(None) };
    let signatures: Vec<&Value> = attachments
        .iter()
        .filter(|a| a.get("usageType").and_then(Value::as_str) == Some(USAGE_TYPE_SIGNATURE))
        .collect();
    let signature = match signatures.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => return Err(XapiError::signature("a statement carries at most one signature attachment")),
    };
    let content_type = signature.get("contentType").and_then(Value::as_str).unwrap_or_default();
    if !content_type.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/octet-stream") {
        return Err(XapiError::signature(format!(
            "the signature attachment's contentType is {content_type:?}; it must be application/octet-stream"
        )));
    }
    let sha2 = signature.get("sha2").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
    let part = parts
        .iter()
        .find(|part| part.sha2 == sha2)
        .ok_or_else(|| XapiError::signature("no multipart part carries the signature (matching sha2)"))?;
    let jws = std::str::from_utf8(part.body)
        .map_err(|_| XapiError::signature("the signature part is not a JWS (not text)"))?
        .trim();
    let mut segments = jws.split('.');
    let (Some(header_text), Some(payload_text), Some(signature_text), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(XapiError::signature("the signature is not a JWS in compact serialization (header.payload.signature)"));
    };
    let header: Value = decode_json(header_text, "header")?;
    let algorithm = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    if !matches!(algorithm, "RS256" | "RS384" | "RS512") {
        return Err(XapiError::signature(format!("the JWS algorithm {algorithm:?} is not RS256, RS384 or RS512")));
    }
    let decoded_signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature_text)
        .map_err(|_| XapiError::signature("the JWS signature is not base64url"))?;
    if decoded_signature.is_empty() {
        return Err(XapiError::signature("the JWS signature is empty"));
    }
    let payload: Value = decode_json(payload_text, "payload")?;
    if !payload.is_object() {
        return Err(XapiError::signature("the JWS payload is not a statement (JSON object)"));
    }
    let mut unsigned = statement.clone();
    if let Some(map) = unsigned.as_object_mut() {
        let keep: Vec<Value> = attachments
            .iter()
            .filter(|a| a.get("usageType").and_then(Value::as_str) != Some(USAGE_TYPE_SIGNATURE))
            .cloned()
            .collect();
        if keep.is_empty() {
            map.remove("attachments");
        } else {
            map.insert("attachments".into(), Value::Array(keep));
        }
    }
    if !statements_equivalent(&unsigned, &payload) {
        return Err(XapiError::signature("the JWS payload does not match the statement it signs"));
    }
    let has_certificate_chain = match header.get("x5c") {
        None => false,
        Some(chain) => {
            let first = chain
                .as_array()
                .and_then(|certificates| certificates.first())
                .and_then(Value::as_str)
                .ok_or_else(|| XapiError::signature("x5c must be an array of base64 DER certificates"))?;
            let signing_input = &jws[..header_text.len() + 1 + payload_text.len()];
            verify_rsa(algorithm, signing_input.as_bytes(), &decoded_signature, first)?;
            true
        }
    };
    Ok(Some(SignatureCheck { algorithm: algorithm.to_owned(), has_certificate_chain }))
}

/// RSASSA-PKCS1-v1_5 verification (RFC 7518 §3.3) with the key of a base64 DER certificate.
fn verify_rsa(algorithm: &str, signing_input: &[u8], signature: &[u8], certificate_base64: &str) -> Result<(), XapiError> {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    let certificate = base64::engine::general_purpose::STANDARD
        .decode(certificate_base64)
        .map_err(|_| XapiError::signature("the x5c certificate is not base64"))?;
    let spki = subject_public_key_info(&certificate)
        .ok_or_else(|| XapiError::signature("the x5c certificate is not a DER X.509 certificate"))?;
    let key = rsa::RsaPublicKey::from_public_key_der(spki)
        .map_err(|_| XapiError::signature("the x5c certificate does not hold an RSA public key"))?;
    let signature = Signature::try_from(signature).map_err(|_| XapiError::signature("malformed RSA signature"))?;
    let verified = match algorithm {
        "RS256" => VerifyingKey::<sha2::Sha256>::new(key).verify(signing_input, &signature),
        "RS384" => VerifyingKey::<sha2::Sha384>::new(key).verify(signing_input, &signature),
        _ => VerifyingKey::<sha2::Sha512>::new(key).verify(signing_input, &signature),
    };
    verified.map_err(|_| XapiError::signature("the RSA signature does not verify with the x5c certificate's key"))
}

/// The DER bytes of `subjectPublicKeyInfo` in an X.509 certificate (RFC 5280 §4.1):
/// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
/// signature, issuer, validity, subject, subjectPublicKeyInfo, … }, … }.
fn subject_public_key_info(certificate: &[u8]) -> Option<&[u8]> {
    let (tag, certificate_body, _) = der_element(certificate)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, tbs, _) = der_element(certificate_body)?;
    if tag != 0x30 {
        return None;
    }
    let mut rest = tbs;
    let (tag, _, after) = der_element(rest)?;
    if tag == 0xA0 {
        rest = after; // explicit version
    }
    for _ in 0..5 {
        // serialNumber, signature, issuer, validity, subject
        let (_, _, after) = der_element(rest)?;
        rest = after;
    }
    let (tag, _, after) = der_element(rest)?;
    if tag != 0x30 {
        return None;
    }
    Some(&rest[..rest.len() - after.len()])
}

/// One DER element: (tag, contents, the bytes after it). Definite lengths only.
fn der_element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *bytes.first()?;
    let first_length = *bytes.get(1)?;
    let (length, header) = if first_length < 0x80 {
        (usize::from(first_length), 2)
    } else {
        let n = usize::from(first_length & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut length = 0usize;
        for byte in bytes.get(2..2 + n)? {
            length = (length << 8) | usize::from(*byte);
        }
        (length, 2 + n)
    };
    let end = header.checked_add(length)?;
    let contents = bytes.get(header..end)?;
    Some((tag, contents, &bytes[end..]))
}

fn decode_json(segment: &str, what: &str) -> Result<Value, XapiError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| XapiError::signature(format!("the JWS {what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|e| XapiError::signature(format!("the JWS {what} is not JSON: {e}")))
}
