//! The crate's one error type.
//!
//! Problems *inside* a package (bad XML, missing files…) are not errors but
//! [`Diagnostic`](crate::Diagnostic)s; an [`Error`] means the input could not be read at all
//! or was refused as hostile.

/// Why an archive or a file could not be read, or why an archive was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("I/O error while {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("not a readable zip archive: {reason}")]
    NotAZip { reason: String },
    #[error("the archive entry `{entry}` {reason}; refusing the archive")]
    UnsafePath { entry: String, reason: &'static str },
    #[error("the archive entry `{entry}` is a symbolic link; links are not allowed in packages")]
    Symlink { entry: String },
    #[error("the archive entry `{entry}` is encrypted; upload packages without a password")]
    Encrypted { entry: String },
    #[error("the archive entry `{entry}` uses the {method} compression method, which is not supported; re-create the zip with Deflate")]
    UnsupportedCompression { entry: String, method: String },
    #[error("the archive holds {count} entries, more than the limit of {limit}")]
    TooManyEntries { count: usize, limit: usize },
    #[error("the archive would unpack to {total} bytes, more than the limit of {limit} bytes")]
    TooLarge { total: u64, limit: u64 },
    #[error(
        "the archive entry `{entry}` would unpack {compressed} bytes into {uncompressed} bytes, a ratio above the limit of {limit}:1 (a zip bomb?)"
    )]
    CompressionRatio { entry: String, compressed: u64, uncompressed: u64, limit: u64 },
    #[error("the archive holds the path `{entry}` more than once")]
    DuplicateEntry { entry: String },
    #[error("the archive entry `{entry}` unpacks to more than the {declared} bytes it declares; refusing it")]
    EntryLargerThanDeclared { entry: String, declared: u64 },
    #[error("the archive entry `{entry}` is damaged: {reason}")]
    CorruptEntry { entry: String, reason: String },
    #[error("there is no archive entry number {index}")]
    NoSuchEntry { index: usize },
    #[error("the package has no file `{path}`")]
    FileNotFound { path: String },
    #[error("the file `{path}` is larger than {limit} bytes")]
    FileTooLarge { path: String, limit: u64 },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}
