//! E-learning package formats: detect and parse SCORM 1.2, SCORM 2004 (2nd–4th edition),
//! cmi5, xAPI (`tincan.xml`) and AICC into one typed [`Package`] model, and read zip
//! archives safely.
//!
//! Parsing is pure and never stops at the first problem: [`parse`] returns the model
//! together with [`Diagnostic`]s that name file, line and column, each with a stable `code`
//! and a sentence for the course author. A package is importable when there is a model and
//! no error-severity diagnostic ([`Parsed::is_importable`]).
//!
//! # Calling it
//!
//! ```no_run
//! use lms_package::{archive::{ArchiveLimits, SafeArchive}, parse, ParseOptions, ZipSource};
//! # fn main() -> Result<(), lms_package::Error> {
//! let file = std::fs::File::open("course.zip").map_err(|e| lms_package::Error::Io {
//!     context: "opening".into(), source: e })?;
//! // 1. Check the archive's metadata (refuses traversal, links, bombs, encryption…).
//! let archive = SafeArchive::open(file, &ArchiveLimits::default())?;
//! // 2. Parse: only the structure file (imsmanifest.xml, cmi5.xml…) is read.
//! let source = ZipSource::new(archive);
//! let parsed = parse(&source, &ParseOptions::default());
//! if parsed.is_importable() {
//!     // 3. Take the archive back and stream every entry, e.g. into a hashing writer.
//!     let mut archive = source.into_archive();
//!     for index in 0..archive.entries().len() {
//!         archive.read_entry(index, &mut std::io::sink())?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! [`ZipSource`] keeps the [`SafeArchive`](archive::SafeArchive) in a `RefCell` because
//! parsing takes the source by shared reference; [`ZipSource::into_archive`] hands it back,
//! so the file is opened once. [`DirSource`] reads an unpacked folder (or a single structure
//! file such as a bare `cmi5.xml`); [`MemorySource`] holds files in memory.
//!
//! # Detection
//!
//! At the package root, in this order: `cmi5.xml` (cmi5), `imsmanifest.xml` (SCORM; 1.2 or
//! 2004 and its edition from `<schemaversion>`, else from the namespaces), `tincan.xml`
//! (xAPI), `*.crs` (AICC). Names are matched case-insensitively. When the root has none but
//! a sub-folder has, that one is used and a `manifest-in-subfolder` warning says where; all
//! paths in the model then include the folder.
//!
//! # Memory
//!
//! Only the structure files are read into memory (at most 32 MiB each); content files are
//! only looked up in the file list.

pub mod archive;
mod aicc;
mod cmi5;
mod context;
pub mod diagnostic;
mod error;
pub mod model;
mod paths;
mod render;
mod scorm;
mod seqparse;
pub mod sequencing;
mod source;
mod values;
mod xapi;
mod xml;

use std::io::Cursor;

pub use archive::{ArchiveEntry, ArchiveLimits, SafeArchive};
pub use cmi5::cmi5_requirement;
pub use diagnostic::{Diagnostic, Severity};
pub use error::Error;
pub use model::*;
pub use render::render_tree;
pub use source::{DirSource, MemorySource, PackageSource, ZipSource};

use context::Ctx;

/// How to parse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Skip every check that listed or launched files exist (for manifests whose content
    /// lives elsewhere, such as conformance-suite manifests).
    pub manifest_only: bool,
}

/// The result of parsing: the model (when the structure file could be read) and every
/// problem found, ordered by file and position.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Parsed {
    pub package: Option<Package>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// `true` when there is a package and no error-severity diagnostic.
    pub fn is_importable(&self) -> bool {
        self.package.is_some() && diagnostic::is_importable(&self.diagnostics)
    }

    /// The tree dump followed by one line per diagnostic (`file:line:column: severity[code]: message`).
    pub fn render(&self) -> String {
        let mut out = match &self.package {
            Some(package) => render_tree(package),
            None => "(no package)\n".to_string(),
        };
        if self.diagnostics.is_empty() {
            out.push_str("no diagnostics\n");
        } else {
            out.push_str("diagnostics\n");
            for d in &self.diagnostics {
                out.push_str(&format!("  {d}\n"));
            }
        }
        out
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Cmi5,
    Scorm,
    Xapi,
    Aicc,
}

impl Kind {
    fn of(file_name: &str) -> Option<Kind> {
        let lower = file_name.to_ascii_lowercase();
        match lower.as_str() {
            "cmi5.xml" => Some(Kind::Cmi5),
            "imsmanifest.xml" => Some(Kind::Scorm),
            "tincan.xml" => Some(Kind::Xapi),
            _ if lower.ends_with(".crs") => Some(Kind::Aicc),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Cmi5 => "cmi5",
            Kind::Scorm => "SCORM",
            Kind::Xapi => "xAPI",
            Kind::Aicc => "AICC",
        }
    }
}

/// Parses the package in `source`. See the [crate docs](crate).
pub fn parse(source: &dyn PackageSource, options: &ParseOptions) -> Parsed {
    let mut ctx = Ctx::new(source, options);
    let package = detect_and_parse(&mut ctx);
    let mut diagnostics = ctx.diagnostics;
    diagnostics.sort_by(|a, b| a.location.cmp(&b.location));
    Parsed { package, diagnostics }
}

fn detect_and_parse(ctx: &mut Ctx<'_>) -> Option<Package> {
    let files: Vec<String> = ctx.source.files().to_vec();
    let mut candidates: Vec<(usize, Kind, &String)> = files
        .iter()
        .filter(|f| !f.starts_with("__MACOSX/"))
        .filter_map(|f| {
            let name = f.rsplit('/').next().unwrap_or(f);
            Kind::of(name).map(|k| (f.matches('/').count(), k, f))
        })
        .collect();
    candidates.sort();
    let chosen = candidates.first().copied().or_else(|| sniff_single_file(ctx, &files));
    let Some((depth, kind, path)) = chosen else {
        ctx.diagnostics.push(Diagnostic::error(
            "no-manifest",
            Ctx::package_location(),
            "The package holds no imsmanifest.xml (SCORM), cmi5.xml (cmi5), tincan.xml (xAPI) or .crs file (AICC), so its format is unknown.",
        ));
        return None;
    };
    let path = path.clone();
    for (_, other_kind, other) in candidates.iter().filter(|(d, k, p)| *d == depth && *k != kind && **p != path) {
        if other.rsplit_once('/').map(|(dir, _)| dir) == path.rsplit_once('/').map(|(dir, _)| dir) {
            ctx.diagnostics.push(Diagnostic::warning(
                "several-structure-files",
                Ctx::file_location(other),
                format!(
                    "The package also holds `{other}` ({}), which is ignored: it is read as {} from `{path}`.",
                    other_kind.name(),
                    kind.name()
                ),
            ));
        }
    }
    let base_dir = match path.rfind('/') {
        Some(i) => {
            let folder = &path[..i];
            ctx.diagnostics.push(Diagnostic::warning(
                "manifest-in-subfolder",
                Ctx::file_location(&path),
                format!(
                    "The package's structure file is not at its root but at `{path}`; it is read from the folder `{folder}`. Zip the contents of `{folder}`, not the folder itself."
                ),
            ));
            path[..=i].to_string()
        }
        None => String::new(),
    };
    match kind {
        Kind::Scorm => scorm::parse_scorm(ctx, &path, &base_dir),
        Kind::Cmi5 => cmi5::parse_cmi5(ctx, &path, &base_dir),
        Kind::Xapi => xapi::parse_xapi(ctx, &path, &base_dir),
        Kind::Aicc => aicc::parse_aicc(ctx, &path, &base_dir),
    }
}

/// A source of exactly one `.xml` file with another name: recognized by its root element.
fn sniff_single_file<'f>(ctx: &mut Ctx<'_>, files: &'f [String]) -> Option<(usize, Kind, &'f String)> {
    let [only] = files else { return None };
    if !only.to_ascii_lowercase().ends_with(".xml") {
        return None;
    }
    let bytes = ctx.source.read(only, context::MAX_STRUCTURE_FILE_BYTES).ok()?;
    let mut scratch = Vec::new();
    let doc = xml::parse_document(only, &bytes, &mut scratch);
    let kind = match doc.root.as_ref()?.name.as_str() {
        "courseStructure" => Kind::Cmi5,
        "manifest" => Kind::Scorm,
        "tincan" => Kind::Xapi,
        _ => return None,
    };
    Some((0, kind, only))
}

/// Parses an unpacked folder, or a single structure file (a bare `cmi5.xml`).
pub fn parse_dir(path: impl AsRef<std::path::Path>, options: &ParseOptions) -> Result<Parsed, Error> {
    let source = DirSource::new(path)?;
    Ok(parse(&source, options))
}

/// Checks and parses a zip held in memory. A hostile archive is refused with an [`Error`].
pub fn parse_zip_bytes(bytes: &[u8], limits: &ArchiveLimits, options: &ParseOptions) -> Result<Parsed, Error> {
    let archive = SafeArchive::open(Cursor::new(bytes), limits)?;
    let source = ZipSource::new(archive);
    Ok(parse(&source, options))
}
