use std::path::PathBuf;

/// Everything the store can fail with. The server maps these to status codes; database
/// internals (`Database`) are logged, never shown to clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot connect to the database at {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("unsupported database URL {url:?}: use sqlite://FILE or postgres://…")]
    UnsupportedUrl { url: String },
    #[error("migration {name} was changed after it was applied (checksum differs); migrations are never edited once applied")]
    MigrationChanged { name: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The archive was refused before anything was written.
    #[error("{0}")]
    Archive(lms_package::Error),
    /// The package parsed, but has errors that make it unplayable.
    #[error("the package is not importable: {}", first_error(diagnostics))]
    NotImportable { title: Option<String>, diagnostics: Vec<lms_package::Diagnostic> },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{what} already exists")]
    Conflict { what: String },
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("background task failed: {0}")]
    Task(String),
    /// A conditional write (`If-Match` / `If-None-Match`) found a different current state.
    #[error("precondition failed: {message}")]
    PreconditionFailed { message: String },
    /// A scheduling rule refused the change (blended learning, issue 6).
    #[error("{0}")]
    Schedule(lms_schedule::ScheduleError),
}

fn first_error(diagnostics: &[lms_package::Diagnostic]) -> String {
    diagnostics
        .iter()
        .find(|d| d.severity == lms_package::Severity::Error)
        .map(|d| d.to_string())
        .unwrap_or_else(|| "no package found".to_string())
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid { field, message: message.into() }
    }

    /// `true` for a unique-constraint violation reported by either backend.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}
