//! The crate's one error type.

/// What `lms-scorm-xapi` rejects. Each variant carries what was wrong as data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScormXapiError {
    /// A field of the [`crate::ScormContext`] (or an argument of an IRI builder) cannot be
    /// used in a statement. `field` names it (`learner.home_page`, `course_iri`, …).
    #[error("{field}: {reason}")]
    Context { field: &'static str, reason: String },
    /// An event's time cannot be written as an xAPI timestamp (before 1970 or after 9999).
    /// `index` is the event's position in the slice passed in.
    #[error("event {index}: {millis} ms since 1970-01-01 is outside the years 1970 to 9999")]
    Timestamp { index: usize, millis: i64 },
}

impl ScormXapiError {
    pub(crate) fn context(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Context { field, reason: reason.into() }
    }
}
