//! Documents of the State, Activity Profile and Agent Profile resources: ETags and JSON merge.

use serde_json::Value;
use sha2::Digest;

use crate::XapiError;

/// The quoted ETag of a document's bytes: `"<SHA-256 in hex>"` (xAPI leaves the hash to the LRS).
pub fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(sha2::Sha256::digest(bytes)))
}

/// Whether an `If-Match` / `If-None-Match` header value matches `current` (a quoted ETag as from
/// [`etag`]): `*` matches any document, otherwise any listed tag, weak (`W/`) or not.
pub fn etag_matches(header: &str, current: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == current || {
            // tolerate unquoted tags sent by some clients
            let bare = current.trim_matches('"');
            tag.trim_matches('"') == bare && !bare.is_empty()
        }
    })
}

/// `POST` to a document resource: when both the stored and the posted document are JSON
/// objects, the result is the stored object with the posted top-level properties replacing or
/// adding to it. Anything else (either side not a JSON object) is an error (the server answers
/// 400).
pub fn merge_documents(stored: &[u8], posted: &[u8]) -> Result<Vec<u8>, XapiError> {
    let mut stored_value: Value = serde_json::from_slice(stored)
        .map_err(|_| XapiError::Document { reason: "the stored document is not JSON, so it cannot be merged".into() })?;
    let posted_value: Value = serde_json::from_slice(posted)
        .map_err(|_| XapiError::Document { reason: "the posted document is not JSON, so it cannot be merged".into() })?;
    let (Some(target), Value::Object(source)) = (stored_value.as_object_mut(), posted_value) else {
        return Err(XapiError::Document { reason: "both documents must be JSON objects to be merged".into() });
    };
    for (key, value) in source {
        target.insert(key, value);
    }
    serde_json::to_vec(&stored_value).map_err(|e| XapiError::Document { reason: e.to_string() })
}
