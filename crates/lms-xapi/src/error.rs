//! The crate's one error type.

/// Everything this crate can reject. Each variant carries what was wrong as data, so the
/// server can answer `400 Bad Request` with a message that names the culprit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XapiError {
    /// A statement (or an agent, activity, document…) broke a rule of the xAPI data model.
    /// `path` is a JSON path such as `context.instructor.mbox` (`""` for the whole value).
    #[error("{}: {reason}", display_path(path))]
    Invalid { path: String, reason: String },
    /// The body or a parameter is not JSON at all.
    #[error("{what} is not valid JSON: {reason}")]
    Json { what: String, reason: String },
    /// A query parameter of a GET request is unknown, repeated, malformed, or not allowed
    /// together with another one.
    #[error("query parameter {parameter:?}: {reason}")]
    Query { parameter: String, reason: String },
    /// The `X-Experience-API-Version` header names a version this LRS does not speak.
    #[error("X-Experience-API-Version {value:?}: {reason}")]
    VersionHeader { value: String, reason: String },
    /// A `multipart/mixed` body is malformed, or its parts do not match the attachments.
    #[error("multipart body: {reason}")]
    Multipart { reason: String },
    /// A signed statement's JWS is malformed or does not match the statement.
    #[error("signed statement: {reason}")]
    Signature { reason: String },
    /// A document (State, Activity Profile, Agent Profile) cannot be merged.
    #[error("document: {reason}")]
    Document { reason: String },
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "statement" } else { path }
}

impl XapiError {
    /// Shorthand for [`XapiError::Invalid`].
    pub fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        XapiError::Invalid { path: path.into(), reason: reason.into() }
    }

    pub(crate) fn query(parameter: &str, reason: impl Into<String>) -> Self {
        XapiError::Query { parameter: parameter.to_owned(), reason: reason.into() }
    }

    pub(crate) fn multipart(reason: impl Into<String>) -> Self {
        XapiError::Multipart { reason: reason.into() }
    }

    pub(crate) fn signature(reason: impl Into<String>) -> Self {
        XapiError::Signature { reason: reason.into() }
    }

    /// The JSON path of an [`XapiError::Invalid`], if this is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            XapiError::Invalid { path, .. } => Some(path),
            _ => None,
        }
    }
}
