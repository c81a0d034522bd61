//! The one error type at the HTTP edge. Every failure becomes JSON `{ "error": "…", … }`
//! with the right status; internals (database messages, paths) are logged, not shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Extra fields merged into the JSON body (e.g. `diagnostics`).
    pub extra: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), extra: None }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "sign in first: send a bearer token or a session cookie")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{} not found", what.into()))
    }
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error; the server log has the details")
    }
    pub fn with(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let (Some(Value::Object(extra)), Value::Object(map)) = (self.extra, &mut body) {
            for (k, v) in extra {
                map.insert(k, v);
            }
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<lms_store::Error> for ApiError {
    fn from(error: lms_store::Error) -> Self {
        use lms_store::Error as E;
        match error {
            E::NotFound { what } => ApiError::not_found(what),
            E::Conflict { what } => ApiError::new(StatusCode::CONFLICT, format!("{what} already exists")),
            E::Invalid { field, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("{field}: {message}")).with(json!({ "field": field }))
            }
            E::Archive(archive) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the archive was refused: {archive}"))
                .with(json!({ "diagnostics": [] })),
            E::NotImportable { title, diagnostics } => {
                let first = diagnostics
                    .iter()
                    .find(|d| d.severity == lms_package::Severity::Error)
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "no package manifest found".into());
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the package is not importable: {first}"))
                    .with(json!({ "title": title, "diagnostics": diagnostics }))
            }
            other => {
                if other.is_unique_violation() {
                    return ApiError::new(StatusCode::CONFLICT, "that already exists");
                }
                tracing::error!(error = %other, "store error");
                ApiError::internal()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
