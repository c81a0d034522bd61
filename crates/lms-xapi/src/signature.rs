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
    /// Whether the JWS header carries an `x5c` certificate chain.
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
/// Not done here: verifying the RSA signature against the `x5c` certificate. The spec makes that
/// optional ("the LRS MAY …"); [`SignatureCheck::has_certificate_chain`] says whether it could be.
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
    let (Some(header), Some(payload), Some(signature_bytes), None) =
        (segments.next(), segments.next(), segments.next(), segments.next())
    else {
        return Err(XapiError::signature("the signature is not a JWS in compact serialization (header.payload.signature)"));
    };
    let header: Value = decode_json(header, "header")?;
    let algorithm = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    if !matches!(algorithm, "RS256" | "RS384" | "RS512") {
        return Err(XapiError::signature(format!("the JWS algorithm {algorithm:?} is not RS256, RS384 or RS512")));
    }
    let decoded_signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature_bytes)
        .map_err(|_| XapiError::signature("the JWS signature is not base64url"))?;
    if decoded_signature.is_empty() {
        return Err(XapiError::signature("the JWS signature is empty"));
    }
    let payload: Value = decode_json(payload, "payload")?;
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
    Ok(Some(SignatureCheck {
        algorithm: algorithm.to_owned(),
        has_certificate_chain: header.get("x5c").is_some_and(Value::is_array),
    }))
}

fn decode_json(segment: &str, what: &str) -> Result<Value, XapiError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| XapiError::signature(format!("the JWS {what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|e| XapiError::signature(format!("the JWS {what} is not JSON: {e}")))
}
