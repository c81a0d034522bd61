//! Extractors: JSON bodies whose rejections use the API's error format, and the caller
//! (from a bearer token or a session cookie).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use lms_store::{Person, Role};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// `Json<T>` with errors that say what is wrong: unknown fields, wrong types, bad syntax.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                use axum::extract::rejection::JsonRejection as R;
                let (status, message) = match &rejection {
                    R::JsonDataError(e) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, data_error_text(e)),
                    R::JsonSyntaxError(_) => (axum::http::StatusCode::BAD_REQUEST, format!("the body is not valid JSON: {}", rejection.body_text())),
                    R::MissingJsonContentType(_) => {
                        (axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the body as Content-Type: application/json".into())
                    }
                    _ => (rejection.status(), rejection.body_text()),
                };
                Err(ApiError::new(status, message))
            }
        }
    }
}

fn data_error_text(e: &axum::extract::rejection::JsonDataError) -> String {
    use std::error::Error;
    let mut text = e.body_text();
    if let Some(source) = e.source().and_then(|s| s.source()) {
        text = source.to_string();
    }
    format!("the JSON body does not fit: {text}")
}

/// Who is calling. Resolved from `Authorization: Bearer …` or the `lms_session` cookie.
#[derive(Clone, Debug)]
pub struct Caller(pub Person);

impl Caller {
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.0.has_role(*r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!("this needs one of the roles: {}", names.join(", "))))
        }
    }
}

pub const SESSION_COOKIE: &str = "lms_session";

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let value = value.to_str().map_err(|_| ApiError::unauthorized())?;
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .ok_or_else(ApiError::unauthorized)?
                .trim();
            return match state.store.person_for_token(token).await? {
                Some(person) => Ok(Caller(person)),
                None => Err(ApiError::new(axum::http::StatusCode::UNAUTHORIZED, "the bearer token is not valid")),
            };
        }
        if let Some(secret) = session_cookie(&parts.headers) {
            if let Some(person) = state.store.person_for_session(&secret).await? {
                return Ok(Caller(person));
            }
        }
        Err(ApiError::unauthorized())
    }
}

pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == SESSION_COOKIE).then(|| value.to_string())
    })
}
