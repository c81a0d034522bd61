//! Driver for the ADL SCORM 2004 4th Edition LMS conformance test suite (CTS).
//!
//! The suite (`LMSRTE/Courses/` in `../shared/corpus/adl-scorm2004-cts`) has 189 test packages
//! (`LMSTestPackage_<name>/imsmanifest.xml`) and 188 scripted test cases
//! (`TestCases/<name>.properties`; `DDMa` and `DDMb` share `DDM.properties`). The test SCOs
//! themselves are not included: the scripts are driven directly through the run-time
//! (`lms-rte`) and, for the sequencing areas, the sequencer.
//!
//! - [`script`] parses a test case into typed visits and steps (reused by the sequencing areas).
//! - [`runtime::run_case`] drives the run-time areas `API`, `DMB`, `DDM` and `DMI`.
//! - [`run_package`] runs one package and says passed, failed (with the failing steps) or
//!   skipped (with the reason); [`run_all`] runs every package found.
//!
//! ```no_run
//! let courses = lms_cts::default_courses_dir(std::path::Path::new("."));
//! for outcome in lms_cts::run_all(&courses).unwrap() {
//!     println!("{} {:?}", outcome.package, outcome.status);
//! }
//! ```

pub mod manifest;
pub mod properties;
pub mod runtime;
pub mod script;
pub mod sequencing_areas;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use runtime::{CaseRun, StepResult};

/// Failures reading the suite (not test failures: those are [`Status::Failed`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CtsError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Script {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
    #[error("test case {case}: no item of its packages has act={activity}")]
    MissingActivity { case: String, activity: String },
    #[error("test case {case}: {what}")]
    Unsupported { case: String, what: String },
}

/// The run-time areas this crate drives.
pub const RUNTIME_AREAS: &[&str] = &["API", "DMB", "DDM", "DMI"];
/// The sequencing areas (driven by [`run_sequencing_package`]).
pub const SEQUENCING_AREAS: &[&str] = &["CM", "CO", "CT", "MS", "OB", "RU", "SX", "T"];

/// A package's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    Skipped(String),
}

/// The result of one test package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageOutcome {
    pub package: String,
    pub area: String,
    pub status: Status,
    /// Scripted steps driven for this package.
    pub steps: usize,
    pub failures: Vec<StepResult>,
}

/// The suite's `Courses` folder relative to the project root.
pub fn default_courses_dir(project_root: &Path) -> PathBuf {
    project_root.join("../shared/corpus/adl-scorm2004-cts/LMSRTE/Courses")
}

/// The area of a package name (`CM-01` → `CM`, `DDMa` → `DDM`, `API` → `API`).
pub fn area_of(package: &str) -> String {
    if let Some((prefix, _)) = package.split_once('-') {
        return prefix.to_owned();
    }
    match package {
        "DDMa" | "DDMb" => "DDM".to_owned(),
        other => other.to_owned(),
    }
}

/// Every test package (`LMSTestPackage_<name>`) of the suite, sorted.
pub fn list_packages(courses: &Path) -> Result<Vec<String>, CtsError> {
    let entries = std::fs::read_dir(courses).map_err(|source| CtsError::Io {
        path: courses.to_owned(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("LMSTestPackage_"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Hook for the sequencing areas (`CM`, `CO`, `CT`, `MS`, `OB`, `RU`, `SX`, `T`): runs one
/// package through the sequencer and the run-time ([`sequencing_areas::run_package`]).
pub fn run_sequencing_package(courses: &Path, package: &str) -> PackageOutcome {
    sequencing_areas::run_package(courses, package)
}

fn outcome_from_run(package: &str, run: &CaseRun) -> PackageOutcome {
    let steps: Vec<&StepResult> = run.steps.iter().filter(|s| s.package == package).collect();
    let failures: Vec<StepResult> = steps
        .iter()
        .filter(|s| !s.passed)
        .map(|s| (*s).clone())
        .collect();
    let status = if steps.is_empty() {
        Status::Failed
    } else if failures.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    };
    PackageOutcome {
        package: package.to_owned(),
        area: area_of(package),
        status,
        steps: steps.len(),
        failures,
    }
}

/// Runs one package.
pub fn run_package(courses: &Path, package: &str) -> Result<PackageOutcome, CtsError> {
    let area = area_of(package);
    if !RUNTIME_AREAS.contains(&area.as_str()) {
        return Ok(run_sequencing_package(courses, package));
    }
    let run = runtime::run_case(courses, &runtime::case_of_package(package))?;
    Ok(outcome_from_run(package, &run))
}

/// Runs every package of the suite (a test case shared by two packages runs once).
pub fn run_all(courses: &Path) -> Result<Vec<PackageOutcome>, CtsError> {
    let mut runs: BTreeMap<String, CaseRun> = BTreeMap::new();
    let mut outcomes = Vec::new();
    for package in list_packages(courses)? {
        let area = area_of(&package);
        if !RUNTIME_AREAS.contains(&area.as_str()) {
            outcomes.push(run_sequencing_package(courses, &package));
            continue;
        }
        let case = runtime::case_of_package(&package);
        if !runs.contains_key(&case) {
            let run = runtime::run_case(courses, &case)?;
            runs.insert(case.clone(), run);
        }
        if let Some(run) = runs.get(&case) {
            outcomes.push(outcome_from_run(&package, run));
        }
    }
    Ok(outcomes)
}
