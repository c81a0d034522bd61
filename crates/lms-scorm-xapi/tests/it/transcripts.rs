//! Scripted run-time transcripts (the calls a Storyline, Captivate or hand-written SCO makes)
//! drive a real `lms_rte::Attempt`; the events of each commit become statements, which must
//! match the gold file and validate under xAPI 1.0.3 and 2.0.0.
//!
//! A script file holds `version` (`scorm_12` / `scorm_2004`), optional `config` (mastery
//! score, scaled passing score, completion threshold), `context` (package id, item id,
//! titles, interaction verb) and `script`: steps `[seconds, method, args…]` where method is
//! an API method (`Initialize`, `LMSSetValue`, …) or `@next_session` / `@new_attempt`;
//! a trailing number is the error code the call must leave (0 when absent).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lms_rte::{Attempt, AttemptConfig, Call, UnixMillis};
use lms_scorm_xapi::{InteractionVerb, ScormVersion, to_statements};
use serde_json::Value;

use crate::support::{assert_valid, check_gold, context, counter_ids, data_dir, read_json};

/// 2026-11-23T08:00:00Z: second 0 of every script.
const START_MILLIS: i64 = 1_795_420_800_000;

fn scripts() -> Vec<PathBuf> {
    let dir = data_dir().join("transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".script.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "expected the transcript scripts in {}", dir.display());
    files
}

fn version_of(case: &Value) -> ScormVersion {
    match case["version"].as_str() {
        Some("scorm_12") => ScormVersion::Scorm12,
        Some("scorm_2004") => ScormVersion::Scorm2004,
        other => panic!("unknown version {other:?}"),
    }
}

/// Plays the script and returns the statements of every commit, in order.
fn run(path: &Path, case: &Value) -> Vec<Value> {
    let version = version_of(case);
    let mut config = AttemptConfig::new(version, crate::support::PERSONNEL_NUMBER, "Ada Lovelace");
    let settings = &case["config"];
    config.mastery_score = settings["mastery_score"].as_f64();
    config.scaled_passing_score = settings["scaled_passing_score"].as_f64();
    config.completion_threshold = settings["completion_threshold"].as_f64();
    let mut attempt = Attempt::try_new(config).unwrap();

    let about = &case["context"];
    let text = |key: &str| about[key].as_str().unwrap_or_else(|| panic!("{}: context.{key} missing", path.display()));
    let mut context = context(version, text("package_id"), text("item_identifier"));
    context.course_title = about["course_title"].as_str().map(str::to_owned);
    context.sco_title = text("sco_title").to_owned();
    context.interaction_verb = match about["interaction_verb"].as_str() {
        Some("answered") => InteractionVerb::Answered,
        Some("responded") | None => InteractionVerb::Responded,
        Some(other) => panic!("unknown interaction verb {other}"),
    };

    let mut ids = counter_ids();
    let mut statements = Vec::new();
    for (n, step) in case["script"].as_array().expect("script array").iter().enumerate() {
        let step = step.as_array().unwrap_or_else(|| panic!("step {n} is not an array"));
        let seconds = step[0].as_i64().unwrap_or_else(|| panic!("step {n}: seconds"));
        let now = UnixMillis(START_MILLIS + seconds * 1000);
        let method = step[1].as_str().unwrap_or_else(|| panic!("step {n}: method"));
        // a trailing number is the error code the call is expected to leave (e.g. 403 for
        // reading a value that was never set, as SCORM Driver does on a first launch)
        let (args, expected_error) = match step.last().and_then(Value::as_u64) {
            Some(code) => (&step[2..step.len() - 1], code),
            None => (&step[2..], 0),
        };
        let args: Vec<&str> = args.iter().map(|a| a.as_str().expect("string argument")).collect();
        match method {
            "@next_session" => attempt.begin_next_session(),
            "@new_attempt" => attempt.begin_new_attempt(),
            _ => {
                let call = Call::from_method(method, &args).unwrap_or_else(|| panic!("step {n}: unknown method {method}"));
                let reply = attempt.handle(call, now);
                // a transcript is what real content does successfully: a typo must not pass silently
                assert!(
                    u64::from(reply.error) == expected_error,
                    "{} step {n} {method}{args:?}: error {} ({}), expected {expected_error}",
                    path.display(),
                    reply.error,
                    reply.value
                );
            }
        }
        for batch in attempt.take_batches() {
            // as the player does on each acknowledged commit
            context.attempt = attempt.attempt_number();
            let produced = to_statements(&context, &batch.events, &mut ids)
                .unwrap_or_else(|e| panic!("{} step {n}: {e}", path.display()));
            statements.extend(produced);
        }
    }
    statements
}

fn gold_path(script: &Path) -> PathBuf {
    let name = script.file_name().unwrap().to_string_lossy().replace(".script.json", ".statements.json");
    script.with_file_name(name)
}

#[test]
fn transcripts_match_gold_and_validate() {
    for path in scripts() {
        let case = read_json(&path);
        let statements = run(&path, &case);
        assert!(!statements.is_empty(), "{}: no statements", path.display());
        for (i, statement) in statements.iter().enumerate() {
            assert_valid(statement, &format!("{} statement {i}", path.display()));
        }
        let rendered = serde_json::to_string_pretty(&Value::Array(statements)).unwrap() + "\n";
        check_gold(&gold_path(&path), &rendered);
    }
}

/// Every verb of the issue and the profile, and every interaction type, appears for both
/// SCORM versions, so the gold files cover the whole mapping.
#[test]
fn transcripts_cover_every_verb_and_interaction_type() {
    let mut verbs: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut kinds: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for path in scripts() {
        let case = read_json(&path);
        let version = case["version"].as_str().unwrap().to_owned();
        let version: &str = if version == "scorm_12" { "scorm_12" } else { "scorm_2004" };
        for statement in run(&path, &case) {
            let verb = statement["verb"]["id"].as_str().unwrap();
            verbs.entry(version).or_default().insert(verb.trim_start_matches("http://adlnet.gov/expapi/verbs/").to_owned());
            if let Some(kind) = statement["object"]["definition"]["interactionType"].as_str() {
                kinds.entry(version).or_default().insert(kind.to_owned());
            }
        }
    }
    let every_verb = [
        "initialized", "resumed", "suspended", "terminated", "completed", "passed", "failed", "scored", "answered",
        "responded",
    ];
    let types_12 = ["true-false", "choice", "fill-in", "likert", "matching", "performance", "sequencing", "numeric"];
    let types_2004: Vec<&str> = types_12.iter().copied().chain(["long-fill-in", "other"]).collect();
    for (version, kinds_expected) in [("scorm_12", types_12.to_vec()), ("scorm_2004", types_2004)] {
        let seen = verbs.get(version).cloned().unwrap_or_default();
        let missing: Vec<&str> = every_verb.iter().copied().filter(|v| !seen.contains(*v)).collect();
        assert!(missing.is_empty(), "{version}: no transcript produces the verbs {missing:?}");
        let seen = kinds.get(version).cloned().unwrap_or_default();
        let missing: Vec<&str> = kinds_expected.iter().copied().filter(|k| !seen.contains(*k)).collect();
        assert!(missing.is_empty(), "{version}: no transcript answers the interaction types {missing:?}");
    }
}
