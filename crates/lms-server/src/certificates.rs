//! Certificates: issuance, verification, export (issue 7): HTTP routes.

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
}
