//! Blended learning: catalogue, offerings, bookings, attendance (issue 6): HTTP routes.

use axum::Router;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
}
