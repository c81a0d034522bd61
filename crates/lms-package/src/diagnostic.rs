//! Problems found in a package, as data.
//!
//! Codes are stable; each diagnostic carries its own severity (a few codes, such as
//! `missing-attribute` on a `<file>`, are warnings in one place and errors in another).
//! Errors (the package is not importable): `malformed-xml`, `no-manifest`,
//! `not-a-manifest`, `not-a-course-structure`, `not-a-tincan-file`, `unreadable-file`,
//! `missing-structure-file` (AICC), `missing-element`, `missing-attribute`,
//! `missing-identifier`, `duplicate-identifier`, `missing-resource`, `missing-launch-url`,
//! `missing-launch-file` (skipped with `manifest_only`), `no-launchable-item`,
//! `unknown-default-organization`, `unknown-sequencing-reference`, `path-outside-package`,
//! `cyclic-structure` (AICC), and `invalid-value` / `value-out-of-range` where a wrong value
//! would change behaviour (sequencing, completion threshold, cmi5 `moveOn`/`masteryScore`);
//! for cmi5 also `not-an-iri`, `invalid-url`, `launch-parameter-conflict`,
//! `relative-url-without-package`, `structure-file-not-at-root`, `misplaced-element`,
//! `unexpected-attribute`, `unknown-element` and `unknown-objective`, each message ending
//! with the requirement it breaks (`[cmi5 13.1.4.0-1]`, read by [`crate::cmi5_requirement`]).
//! Warnings: `manifest-in-subfolder`, `several-structure-files`, `missing-file` (skipped with
//! `manifest_only`), `missing-dependency`, `missing-title`, `missing-scorm-type`,
//! `missing-schema-version`, `unknown-schema-version`, `unknown-element`,
//! `unsupported-element`, `unknown-objective`, `sub-manifest-ignored`, `empty-item`,
//! `au-not-in-structure`, `invalid-encoding`, and `invalid-value` / `value-out-of-range`
//! where the value is ignored and a default applies (booleans such as `isvisible`, mastery
//! scores, time-limit actions, `hideLMSUI` tokens).

use serde::Serialize;

use crate::model::Location;

/// How bad a problem is. An `Error` makes the package not importable; a `Warning` is
/// worth telling the author but the package still plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem, with where it is and a sentence a course author understands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable, machine-readable code such as `malformed-xml` or `missing-resource`
    /// (for cmi5, the message names the section of the cmi5 specification).
    pub code: &'static str,
    pub location: Location,
    pub message: String,
}

impl Diagnostic {
    pub fn error(code: &'static str, location: Location, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, code, location, message: message.into() }
    }
    pub fn warning(code: &'static str, location: Location, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, code, location, message: message.into() }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}: {severity}[{}]: {}", self.location, self.code, self.message)
    }
}

/// `true` when none of the diagnostics is an error.
pub fn is_importable(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().all(|d| d.severity != Severity::Error)
}
