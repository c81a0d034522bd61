//! xAPI Learning Record Store (issue 4): HTTP routes.

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
}
