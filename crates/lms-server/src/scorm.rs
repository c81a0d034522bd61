//! SCORM registrations, attempts and commits (issue 3): HTTP routes.

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
}
