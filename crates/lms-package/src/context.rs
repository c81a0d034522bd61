//! State shared by the format parsers while one package is parsed.

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Location;
use crate::paths::{FileIndex, Lookup};
use crate::source::PackageSource;
use crate::xml::{self, Document};
use crate::ParseOptions;

/// Structure files larger than this are refused (they are read into memory).
pub(crate) const MAX_STRUCTURE_FILE_BYTES: u64 = 32 * 1024 * 1024;

pub(crate) struct Ctx<'a> {
    pub source: &'a dyn PackageSource,
    pub files: FileIndex,
    pub options: &'a ParseOptions,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    pub fn new(source: &'a dyn PackageSource, options: &'a ParseOptions) -> Self {
        Ctx { source, files: FileIndex::new(source.files()), options, diagnostics: Vec::new() }
    }

    pub fn package_location() -> Location {
        Location::default()
    }

    pub fn file_location(file: &str) -> Location {
        Location { file: file.to_string(), line: 1, column: 1 }
    }

    /// Reads a structure file's bytes, reporting `unreadable-file` when that fails.
    pub fn read(&mut self, path: &str) -> Option<Vec<u8>> {
        match self.source.read(path, MAX_STRUCTURE_FILE_BYTES) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                self.diagnostics.push(Diagnostic::error(
                    "unreadable-file",
                    Self::file_location(path),
                    format!("`{path}` could not be read: {error}."),
                ));
                None
            }
        }
    }

    pub fn read_xml(&mut self, path: &str) -> Option<Document> {
        let bytes = self.read(path)?;
        Some(xml::parse_document(path, &bytes, &mut self.diagnostics))
    }

    /// Checks that a joined reference names a file of the package. Launch files missing are
    /// errors (`missing-launch-file`), other listed files warnings (`missing-file`). Skipped
    /// with [`ParseOptions::manifest_only`].
    pub fn check_file(&mut self, href: &str, location: &Location, launch: bool, whose: &str) {
        if self.options.manifest_only {
            return;
        }
        let hint = match self.files.lookup(href) {
            Lookup::Found | Lookup::External => return,
            Lookup::CaseMismatch(actual) => {
                format!(" A file `{actual}` exists: names are case-sensitive, so fix the capitalisation.")
            }
            Lookup::Missing => String::new(),
        };
        let (severity, code, message) = if launch {
            (Severity::Error, "missing-launch-file", format!("The launch file `{href}` of {whose} is not in the package.{hint}"))
        } else {
            (Severity::Warning, "missing-file", format!("The file `{href}` listed by {whose} is not in the package.{hint}"))
        };
        self.diagnostics.push(Diagnostic { severity, code, location: location.clone(), message });
    }
}
