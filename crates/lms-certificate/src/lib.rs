//! Certificates of attendance and training histories as archival PDF/A-2u files.
//!
//! Pure: values in, bytes out. No clock, no randomness, no disk: the issue time and the seed of
//! a verification code are arguments, fonts and images are bytes, and the same inputs always
//! give the same bytes. Every file is written with krilla's PDF/A-2u validator switched on, so
//! output that would not conform is refused (as [`Error::Pdf`]) instead of written.
//!
//! ```no_run
//! use lms_certificate::{render, sample_certificate, sample_issued_at, Fonts, Language, Orientation, Template};
//!
//! let fonts = Fonts::builtin(); // parse once, clone cheaply, share across threads
//! let template = Template::builtin(Language::German, Orientation::Portrait);
//! let pdf: Vec<u8> = render(&sample_certificate(None), &template, &fonts, sample_issued_at())?;
//! # Ok::<(), lms_certificate::Error>(())
//! ```
//!
//! - [`render`]: one certificate; [`render_batch`]: many, on worker threads, in input order.
//! - [`render_history`]: a person's training history (all completed trainings, paginated).
//! - [`Template`]: layout per org unit (JSON via [`Template::from_json`]), [`Template::builtin`].
//! - [`verification_code`] / [`parse_verification_code`]: `XXXX-XXXX-XXXX-XXXX` with check character.
//! - [`sample_certificate`], [`sample_history`]: sample data for `lms certificates sample`.
//!
//! Fonts: DejaVu Sans/Serif (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`), embedded as
//! subsets, without TrueType hinting and glyph names (the name table, with the copyright and
//! licence, is kept). The XMP metadata holds title, language, dates, issuer and the
//! verification code; the personnel number only if
//! [`Template::metadata_includes_personnel_number`] is set.

mod batch;
mod builtin;
mod code;
mod fonts;
mod history;
mod layout;
mod model;
mod placeholder;
mod qr;
mod render;
mod sample;
mod sfnt;
mod template;

/// The `chrono` version used in this API (`DateTime<Utc>`, `NaiveDate`).
pub use chrono;

pub use batch::render_batch;
pub use builtin::GENERIC_LOGO_PNG;
pub use code::{
    CODE_ALPHABET, CODE_DATA_CHARS, MIN_SEED_BYTES, parse_verification_code, verification_code,
};
pub use fonts::{FontStyle, Fonts};
pub use history::{MAX_HISTORY_ENTRIES, render_history};
pub use model::{
    Certificate, HistoryEntry, Language, MAX_DATES, MAX_FIELD_CHARS, MAX_URL_BYTES, Person,
};
pub use qr::verification_qr;
pub use render::render;
pub use sample::{
    SAMPLE_NAME, SAMPLE_SIGNATURE_PNG, sample_certificate, sample_history, sample_issued_at,
    sample_person, sample_template,
};
pub use template::{
    Align, Color, DetailRow, DetailsTable, Frame, ImagePlacement, MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS, MAX_TEMPLATE_BYTES, OPTIONAL_PLACEHOLDERS, Orientation, PLACEHOLDERS,
    PngImage, QrPlacement, RuleLine, SignatureArea, Template, TextBlock,
};

/// Everything that can go wrong; each variant says where (template location or field) and what.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A certificate/person/history field is empty, too long or contains control characters.
    #[error("field {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    /// The template JSON could not be read.
    #[error("template JSON: {0}")]
    TemplateJson(String),
    /// A template value is out of range (position off the page, zero size, …).
    #[error("template {location}: {reason}")]
    InvalidTemplate { location: String, reason: String },
    /// A placeholder name the renderer does not know (see [`PLACEHOLDERS`]).
    #[error("template {location}: unknown placeholder {{{placeholder}}}")]
    UnknownPlaceholder {
        location: String,
        placeholder: String,
    },
    /// Unbalanced braces in template text.
    #[error("template {location}: {reason}")]
    PlaceholderSyntax { location: String, reason: String },
    /// A non-optional block or title uses a placeholder that has no value (e.g. `{trainer}`).
    #[error("template {location}: {{{placeholder}}} has no value and the block is not optional")]
    MissingValue {
        location: String,
        placeholder: String,
    },
    /// The text does not fit into the block even at its smallest allowed size.
    #[error(
        "template {location}: text needs {lines_needed} lines, at most {max_lines} fit: {text:?}"
    )]
    TextOverflow {
        location: String,
        text: String,
        lines_needed: usize,
        max_lines: usize,
    },
    /// The font has no glyph for a character of the text.
    #[error("{location}: the font has no glyph for {character:?} (U+{:04X})", *character as u32)]
    MissingGlyph { location: String, character: char },
    /// A font file could not be read.
    #[error("font {face}: {reason}")]
    InvalidFont { face: &'static str, reason: String },
    /// A logo or signature image could not be read.
    #[error("image {location}: {reason}")]
    InvalidImage { location: String, reason: String },
    /// A verification code (or its seed) is malformed.
    #[error("verification code {input:?}: {reason}")]
    InvalidVerificationCode { input: String, reason: String },
    /// The PDF writer refused the document (e.g. it would not conform to PDF/A-2u).
    #[error("PDF: {0}")]
    Pdf(String),
}
