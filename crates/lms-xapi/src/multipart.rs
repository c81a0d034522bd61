//! `multipart/mixed` request bodies: statements with their attachments' raw data.

use serde_json::Value;
use sha2::Digest;

use crate::XapiError;

/// A parsed `multipart/mixed` statement request. Borrows from the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartBody<'a> {
    /// The first part: the statement or the array of statements (`application/json`).
    pub statement_json: &'a [u8],
    pub attachments: Vec<AttachmentPart<'a>>,
}

/// One attachment part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentPart<'a> {
    /// The `X-Experience-API-Hash` header, lower-case; checked against the part's bytes.
    pub sha2: String,
    /// The part's `Content-Type`, if it had one.
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// Split a `multipart/mixed` body. `content_type` is the request's `Content-Type` header.
///
/// Checks: the media type is `multipart/mixed` with a `boundary`; the body has delimiters and a
/// closing delimiter; the first part is `application/json`; every other part has an
/// `X-Experience-API-Hash` header (a SHA-2 hex digest that matches the part's bytes) and
/// `Content-Transfer-Encoding: binary`.
pub fn parse_multipart<'a>(content_type: &str, body: &'a [u8]) -> Result<MultipartBody<'a>, XapiError> {
    let boundary = boundary_of(content_type)?;
    let parts = split_parts(body, boundary.as_bytes())?;
    let mut parts = parts.into_iter();
    let first = parts.next().ok_or_else(|| XapiError::multipart("no parts"))?;
    let (first_headers, statement_json) = split_headers(first)?;
    match header(&first_headers, "content-type") {
        Some(value) if media_type_is(value, "application/json") => {}
        Some(value) => {
            return Err(XapiError::multipart(format!(
                "the first part must be the statements as application/json, found Content-Type {value:?}"
            )));
        }
        None => return Err(XapiError::multipart("the first part has no Content-Type (must be application/json)")),
    }
    let mut attachments = Vec::new();
    for (i, part) in parts.enumerate() {
        let number = i + 2;
        let (headers, part_body) = split_headers(part)?;
        let Some(hash) = header(&headers, "x-experience-api-hash") else {
            return Err(XapiError::multipart(format!("part {number} has no X-Experience-API-Hash header")));
        };
        match header(&headers, "content-transfer-encoding") {
            Some(encoding) if encoding.eq_ignore_ascii_case("binary") => {}
            Some(encoding) => {
                return Err(XapiError::multipart(format!(
                    "part {number} has Content-Transfer-Encoding {encoding:?}; it must be binary"
                )));
            }
            None => {
                return Err(XapiError::multipart(format!(
                    "part {number} has no Content-Transfer-Encoding header; it must be binary"
                )));
            }
        }
        let sha2 = hash.to_ascii_lowercase();
        let actual = match sha2.len() {
            56 => hex::encode(sha2::Sha224::digest(part_body)),
            64 => hex::encode(sha2::Sha256::digest(part_body)),
            96 => hex::encode(sha2::Sha384::digest(part_body)),
            128 => hex::encode(sha2::Sha512::digest(part_body)),
            _ => return Err(XapiError::multipart(format!("part {number}: X-Experience-API-Hash {hash:?} is not a SHA-2 hex digest"))),
        };
        if actual != sha2 {
            return Err(XapiError::multipart(format!(
                "part {number}: X-Experience-API-Hash {hash} does not match the part's bytes (SHA-2 is {actual})"
            )));
        }
        attachments.push(AttachmentPart { sha2, content_type: header(&headers, "content-type"), body: part_body });
    }
    Ok(MultipartBody { statement_json, attachments })
}

/// Every attachment without `fileUrl` (in the statements and their SubStatements) must have a
/// part with its `sha2`, and every part must belong to some attachment.
pub fn check_attachment_parts(statements: &[Value], parts: &[AttachmentPart<'_>]) -> Result<(), XapiError> {
    let mut declared: Vec<(String, bool)> = Vec::new();
    for statement in statements {
        collect(statement, &mut declared);
        if let Some(object) = statement.get("object")
            && object.get("objectType").and_then(Value::as_str) == Some("SubStatement")
        {
            collect(object, &mut declared);
        }
    }
    for (sha2, has_file_url) in &declared {
        if !has_file_url && !parts.iter().any(|part| &part.sha2 == sha2) {
            return Err(XapiError::multipart(format!(
                "the attachment with sha2 {sha2} has no fileUrl and no part carries its data"
            )));
        }
    }
    for part in parts {
        if !declared.iter().any(|(sha2, _)| *sha2 == part.sha2) {
            return Err(XapiError::multipart(format!(
                "the part with X-Experience-API-Hash {} matches no attachment of the statements",
                part.sha2
            )));
        }
    }
    Ok(())
}

fn collect(statement: &Value, declared: &mut Vec<(String, bool)>) {
    let Some(list) = statement.get("attachments").and_then(Value::as_array) else { return };
    for attachment in list {
        if let Some(sha2) = attachment.get("sha2").and_then(Value::as_str) {
            declared.push((sha2.to_ascii_lowercase(), attachment.get("fileUrl").is_some()));
        }
    }
}

fn boundary_of(content_type: &str) -> Result<String, XapiError> {
    let mut parameters = content_type.split(';');
    let essence = parameters.next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("multipart/mixed") {
        return Err(XapiError::multipart(format!("Content-Type {essence:?} is not multipart/mixed")));
    }
    for parameter in parameters {
        if let Some((name, value)) = parameter.split_once('=')
            && name.trim().eq_ignore_ascii_case("boundary")
        {
            let value = value.trim();
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
            if value.is_empty() || value.len() > 200 {
                return Err(XapiError::multipart("the boundary parameter is empty or longer than 200 characters"));
            }
            return Ok(value.to_owned());
        }
    }
    Err(XapiError::multipart("the Content-Type header has no boundary parameter"))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// The parts between `--boundary` delimiter lines, without the CRLF before each delimiter.
fn split_parts<'a>(body: &'a [u8], boundary: &[u8]) -> Result<Vec<&'a [u8]>, XapiError> {
    let mut delimiter = Vec::with_capacity(boundary.len() + 4);
    delimiter.extend_from_slice(b"\r\n--");
    delimiter.extend_from_slice(boundary);
    // the first delimiter may start the body (no preamble) or follow a preamble line
    let mut position = if body.starts_with(&delimiter[2..]) {
        delimiter.len() - 2
    } else {
        find(body, &delimiter, 0).ok_or_else(|| XapiError::multipart("the body has no boundary delimiter"))? + delimiter.len()
    };
    let mut parts = Vec::new();
    loop {
        if body[position..].starts_with(b"--") {
            break;
        }
        // rest of the delimiter line: optional whitespace, then CRLF
        while position < body.len() && matches!(body[position], b' ' | b'\t') {
            position += 1;
        }
        if body[position..].starts_with(b"\r\n") {
            position += 2;
        } else {
            return Err(XapiError::multipart("a boundary delimiter is not followed by a line break"));
        }
        let end = find(body, &delimiter, position)
            .ok_or_else(|| XapiError::multipart("the body ends without a closing boundary delimiter"))?;
        parts.push(&body[position..end]);
        position = end + delimiter.len();
    }
    if parts.is_empty() {
        return Err(XapiError::multipart("no parts"));
    }
    Ok(parts)
}

type Headers<'a> = Vec<(&'a str, &'a str)>;

fn split_headers(part: &[u8]) -> Result<(Headers<'_>, &[u8]), XapiError> {
    let (head, body) = if part.starts_with(b"\r\n") {
        (&part[..0], &part[2..])
    } else {
        let end = find(part, b"\r\n\r\n", 0)
            .ok_or_else(|| XapiError::multipart("a part has no blank line between its headers and its body"))?;
        (&part[..end], &part[end + 4..])
    };
    let head = std::str::from_utf8(head).map_err(|_| XapiError::multipart("part headers are not UTF-8"))?;
    let mut headers = Vec::new();
    for line in head.split("\r\n").filter(|line| !line.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| XapiError::multipart(format!("malformed part header line {line:?}")))?;
        headers.push((name.trim(), value.trim()));
    }
    Ok((headers, body))
}

fn header<'a>(headers: &Headers<'a>, name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}

fn media_type_is(value: &str, expected: &str) -> bool {
    value.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(expected)
}

/// Build a `multipart/mixed` response for `GET /statements?attachments=true`: the statement
/// result JSON first, then one part per attachment (each sha2 once). Returns the
/// `Content-Type` header value and the body. `boundary` must not occur in any part (a random
/// or hash-derived string from the caller).
pub fn render_multipart(boundary: &str, statement_json: &[u8], attachments: &[AttachmentPart<'_>]) -> (String, Vec<u8>) {
    let size = statement_json.len() + attachments.iter().map(|a| a.body.len() + 200).sum::<usize>() + 200;
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n").as_bytes());
    body.extend_from_slice(statement_json);
    let mut written: Vec<&str> = Vec::new();
    for attachment in attachments {
        if written.contains(&attachment.sha2.as_str()) {
            continue;
        }
        written.push(&attachment.sha2);
        body.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
        if let Some(content_type) = attachment.content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(
            format!("Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {}\r\n\r\n", attachment.sha2).as_bytes(),
        );
        body.extend_from_slice(attachment.body);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/mixed; boundary={boundary}"), body)
}
