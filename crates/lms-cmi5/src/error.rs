//! The one error type of the crate.

/// What went wrong outside the statement rules (those give a [`crate::Rejection`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Cmi5Error {
    /// The package is not a cmi5 course (another standard, or no organization).
    #[error("the package is not a cmi5 course (it is {standard})")]
    NotACmi5Course { standard: String },
    /// The package was parsed with errors; import it only when it is importable.
    #[error("the cmi5 course structure has errors: {first}")]
    InvalidCourse { first: String },
    /// An LMS-generated id would equal a publisher id (8.1.5.0-3, 9.3.9.0-4, 9.3.9.0-8).
    #[error("the LMS id base `{base}` produces `{id}`, which is also a publisher id of the course")]
    GeneratedIdCollides { base: String, id: String },
    #[error("the course has no AU number {index} (it has {count})")]
    UnknownAu { index: usize, count: usize },
    #[error("the registration has no session {session}")]
    UnknownSession { session: String },
    /// The session is already terminated or abandoned.
    #[error("the session {session} is closed ({status})")]
    SessionClosed { session: String, status: &'static str },
    /// The AU was already waived or satisfied in this registration (9.3.7.0-4).
    #[error("the AU `{au}` cannot be waived: {reason}")]
    CannotWaive { au: String, reason: &'static str },
    /// The actor given for a registration is not an Agent with an `account` (9.2.0.0-3).
    #[error("the learner must be an xAPI Agent identified by an account: {reason}")]
    InvalidActor { reason: &'static str },
}
