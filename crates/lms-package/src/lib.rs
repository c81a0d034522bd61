//! E-learning package formats: detect and parse SCORM 1.2, SCORM 2004 (2nd–4th edition),
//! cmi5, xAPI (`tincan.xml`) and AICC into one typed [`Package`] model, and read zip
//! archives safely.
//!
//! Pure: no clock, no network. Parsing never stops at the first problem; it returns the
//! model together with [`Diagnostic`]s that name file, line and column.

pub mod diagnostic;
pub mod model;
pub mod sequencing;

pub use diagnostic::{Diagnostic, Severity};
pub use model::*;
