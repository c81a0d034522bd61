//! The seam between the run-time (`lms-rte`) and the sequencer: what a SCO sees at launch
//! (`cmi.objectives` from the tracking model, `adl.nav.request_valid.*` from the request
//! validity) and what the sequencer learns when the SCO's session ends (its data model as a
//! [`RuntimeReport`]). The conformance driver (`lms-cts`) and the player (`lms-server`) both
//! go through these functions, so the suite checks the code the product runs.

use lms_rte::{Attempt, DataModel, ObjectiveInit, Validity};

use crate::{
    CompletionStatus, ExitMode, NavigationValidity, ObjectiveReport, ObjectiveSnapshot, RuntimeReport, Sequencer,
    SuccessStatus,
};

/// Prepares `attempt` for a launch of `activity`: the sequencer's objective data in
/// `cmi.objectives` (on a resumed attempt too: values read from global objectives may have
/// changed meanwhile) and its request validity in `adl.nav.request_valid.*`.
pub fn prepare_launch(sequencer: &Sequencer, activity: &str, attempt: &mut Attempt, validity: &NavigationValidity<'_>) {
    preload_objectives(attempt, &sequencer.objectives_for(activity));
    attempt.set_navigation_validity(rte_navigation(validity));
}

/// Shows the sequencer's objective data in `cmi.objectives` before the SCO initializes: each
/// objective (by id) gets the success status, completion status, progress measure and scores
/// the sequencer knows; what it does not know is left as the data model has it.
pub fn preload_objectives(attempt: &mut Attempt, snapshot: &[ObjectiveSnapshot]) {
    let objectives: Vec<ObjectiveInit> = snapshot
        .iter()
        .filter(|o| !o.id.is_empty())
        .map(|o| ObjectiveInit {
            id: o.id.clone(),
            success_status: o.success_status.map(|s| if s { "passed" } else { "failed" }.to_owned()),
            completion_status: o.completion_status.map(|c| if c { "completed" } else { "incomplete" }.to_owned()),
            score_scaled: o.score_scaled,
            score_raw: o.score_raw,
            score_min: o.score_min,
            score_max: o.score_max,
            progress_measure: o.progress_measure,
        })
        .collect();
    attempt.initialize_objectives(&objectives);
}

/// The request validity as the run-time shows it in `adl.nav.request_valid.*`.
pub fn rte_navigation(validity: &NavigationValidity<'_>) -> lms_rte::NavigationValidity {
    let mut nav = lms_rte::NavigationValidity {
        continue_: Validity::from_bool(validity.continue_),
        previous: Validity::from_bool(validity.previous),
        ..lms_rte::NavigationValidity::default()
    };
    for activity in &validity.activities {
        nav.choice.insert(activity.activity.to_string(), Validity::from_bool(activity.choice));
        nav.jump.insert(activity.activity.to_string(), Validity::from_bool(activity.jump));
    }
    nav
}

fn completion_of(text: Option<&str>) -> Option<CompletionStatus> {
    Some(match text? {
        "completed" => CompletionStatus::Completed,
        "incomplete" => CompletionStatus::Incomplete,
        "not attempted" => CompletionStatus::NotAttempted,
        _ => CompletionStatus::Unknown,
    })
}

fn success_of(text: Option<&str>) -> Option<SuccessStatus> {
    Some(match text? {
        "passed" => SuccessStatus::Passed,
        "failed" => SuccessStatus::Failed,
        _ => SuccessStatus::Unknown,
    })
}

fn real(text: Option<&String>) -> Option<f64> {
    text.and_then(|t| lms_rte::types::parse_real(t))
}

/// The SCO's data model as the sequencer's tracking input (empty for SCORM 1.2).
pub fn report_of(attempt: &Attempt) -> RuntimeReport {
    let DataModel::Scorm2004(cmi) = attempt.data() else { return RuntimeReport::default() };
    RuntimeReport {
        completion_status: completion_of(cmi.completion_status.as_deref()),
        success_status: success_of(cmi.success_status.as_deref()),
        score_scaled: real(cmi.score.scaled.as_ref()),
        score_raw: real(cmi.score.raw.as_ref()),
        score_min: real(cmi.score.min.as_ref()),
        score_max: real(cmi.score.max.as_ref()),
        progress_measure: real(cmi.progress_measure.as_ref()),
        objectives: cmi
            .objectives
            .iter()
            .enumerate()
            // The SCO addresses an id at its first entry; later duplicates are ignored.
            .filter(|(k, o)| cmi.objectives[..*k].iter().all(|earlier| earlier.id != o.id))
            .filter_map(|(_, o)| {
                Some(ObjectiveReport {
                    id: o.id.clone()?,
                    success_status: success_of(o.success_status.as_deref()),
                    completion_status: completion_of(o.completion_status.as_deref()),
                    score_scaled: real(o.score.scaled.as_ref()),
                    score_raw: real(o.score.raw.as_ref()),
                    score_min: real(o.score.min.as_ref()),
                    score_max: real(o.score.max.as_ref()),
                    progress_measure: real(o.progress_measure.as_ref()),
                })
            })
            .collect(),
        session_time_seconds: cmi.session_time.as_deref().and_then(crate::parse_iso_duration),
        exit: match cmi.exit.as_deref() {
            Some("suspend") => Some(ExitMode::Suspend),
            Some("logout") => Some(ExitMode::Logout),
            Some("time-out") => Some(ExitMode::TimeOut),
            Some(_) => Some(ExitMode::Normal),
            None => None,
        },
    }
}
