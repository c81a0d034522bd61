//! `cargo xtask conformance scorm-cts [--verbose] [--corpus DIR]`: runs every package of the
//! ADL SCORM 2004 4th Edition LMS test suite, prints one line per area and a final
//! `scorm-cts: N passed, M failed, K skipped` (counting test packages). `--verbose` prints
//! each failing step (expected vs got). Exits non-zero if a package failed or the corpus is
//! missing.
//!
//! `--known-failures FILE` turns the run into a regression gate (what `cargo xtask test` and
//! CI use): FILE lists packages that are known to fail, one per line with the reason
//! (`CM-07b  reason…`, `#` comments). The counts printed stay the real ones; the exit code is
//! success when exactly the listed packages fail — a new failure is a regression, and a
//! listed package that now passes must be taken off the list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lms_cts::{PackageOutcome, RUNTIME_AREAS, SEQUENCING_AREAS, Status};

#[derive(Default)]
struct AreaTally {
    passed: usize,
    failed: usize,
    skipped: usize,
    steps: usize,
    failed_steps: usize,
    skip_reasons: BTreeMap<String, usize>,
}

fn project_root() -> PathBuf {
    // crates/xtask → project root
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn run(args: &[&str]) -> anyhow::Result<ExitCode> {
    let mut verbose = false;
    let mut corpus: Option<PathBuf> = None;
    let mut known_failures: Option<PathBuf> = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match *arg {
            "--verbose" | "-v" => verbose = true,
            "--corpus" => {
                let dir = iter
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--corpus needs a directory"))?;
                corpus = Some(PathBuf::from(dir));
            }
            "--known-failures" => {
                let file = iter
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--known-failures needs a file"))?;
                known_failures = Some(PathBuf::from(file));
            }
            other => anyhow::bail!(
                "unknown argument {other:?} (use --verbose, --corpus DIR, --known-failures FILE)"
            ),
        }
    }
    let courses = corpus.unwrap_or_else(|| lms_cts::default_courses_dir(&project_root()));
    if !courses.join("TestCases").is_dir() {
        eprintln!("scorm-cts: the suite is missing at {}", courses.display());
        println!("scorm-cts: 0 passed, 0 failed, 0 skipped");
        return Ok(ExitCode::FAILURE);
    }
    let outcomes = lms_cts::run_all(&courses)?;

    let mut areas: BTreeMap<String, AreaTally> = BTreeMap::new();
    for outcome in &outcomes {
        let tally = areas.entry(outcome.area.clone()).or_default();
        tally.steps += outcome.steps;
        tally.failed_steps += outcome.failures.len();
        match &outcome.status {
            Status::Passed => tally.passed += 1,
            Status::Failed => tally.failed += 1,
            Status::Skipped(reason) => {
                tally.skipped += 1;
                *tally.skip_reasons.entry(reason.clone()).or_default() += 1;
            }
        }
    }
    let order = RUNTIME_AREAS
        .iter()
        .chain(SEQUENCING_AREAS.iter())
        .map(|a| (*a).to_owned());
    let mut listed: Vec<String> = order.collect();
    for area in areas.keys() {
        if !listed.contains(area) {
            listed.push(area.clone());
        }
    }
    for area in &listed {
        let Some(t) = areas.get(area) else { continue };
        let mut line = format!(
            "{area:<4} {:>3} packages: {} passed, {} failed, {} skipped",
            t.passed + t.failed + t.skipped,
            t.passed,
            t.failed,
            t.skipped
        );
        if t.steps > 0 {
            line.push_str(&format!(
                " ({} of {} scripted steps match)",
                t.steps - t.failed_steps,
                t.steps
            ));
        }
        for (reason, n) in &t.skip_reasons {
            line.push_str(&format!(" [skipped {n}: {reason}]"));
        }
        println!("{line}");
    }
    if verbose {
        print_failures(&outcomes);
    }
    let passed: usize = areas.values().map(|t| t.passed).sum();
    let failed: usize = areas.values().map(|t| t.failed).sum();
    let skipped: usize = areas.values().map(|t| t.skipped).sum();
    println!("scorm-cts: {passed} passed, {failed} failed, {skipped} skipped");
    if let Some(file) = known_failures {
        return gate(&outcomes, &file);
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Compares the failing packages with the listed known failures.
fn gate(outcomes: &[PackageOutcome], file: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?;
    let mut known: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (package, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if reason.trim().is_empty() {
            anyhow::bail!("{}: {package} has no reason; every known failure needs one", file.display());
        }
        known.insert(package.to_owned(), reason.trim().to_owned());
    }
    let short = |name: &str| name.trim_start_matches("LMSTestPackage_").to_owned();
    let failing: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
        .map(|o| short(&o.package))
        .collect();
    let regressions: Vec<&String> = failing.iter().filter(|p| !known.contains_key(*p)).collect();
    let fixed: Vec<&String> = known.keys().filter(|p| !failing.contains(p)).collect();
    for package in &regressions {
        println!("scorm-cts gate: REGRESSION: {package} fails and is not a known failure");
    }
    for package in &fixed {
        println!("scorm-cts gate: {package} passes now: take it off {}", file.display());
    }
    println!(
        "scorm-cts gate: {} known failure(s) listed with reasons in {}, {} regression(s), {} to take off the list",
        known.len(),
        file.display(),
        regressions.len(),
        fixed.len()
    );
    Ok(if regressions.is_empty() && fixed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_failures(outcomes: &[PackageOutcome]) {
    for outcome in outcomes {
        if outcome.status == Status::Failed && outcome.failures.is_empty() {
            println!("  {}: failed with no scripted step driven", outcome.package);
        }
        for s in &outcome.failures {
            println!(
                "  {} Act{}V{} #{} {}: expected {:?} (error {}), got {:?} (error {}){}",
                s.package,
                s.activity,
                s.visit,
                s.index,
                s.call,
                s.expected,
                s.expected_error
                    .map_or_else(|| "-".to_owned(), |e| e.to_string()),
                s.got,
                s.got_error,
                s.note
                    .as_deref()
                    .map(|n| format!(" [{n}]"))
                    .unwrap_or_default()
            );
        }
    }
}
