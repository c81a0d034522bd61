//! SCORM 2004 navigation through the sequencer (`lms-sequencing`), issue 5.
//!
//! Every navigation of a SCORM 2004 registration runs here:
//! 1. the activity tree is built from the package's manifest and the registration's stored
//!    [`SequencingState`] is restored (a fresh one, seeded from the registration id, the first
//!    time); packages whose organization keeps objectives global to the system get the
//!    learner's shared global objectives;
//! 2. when the current activity is still active, its SCO's stored run-time data is reported
//!    to the sequencer ([`runtime::report_of`]; the SCO terminated, or left without doing so),
//!    except for `abandon`/`abandonAll`, whose data is discarded;
//! 3. the request is processed; a delivery opens a session whose attempt shows the sequencer's
//!    objectives and request validity ([`runtime::prepare_launch`]), and the new tree state is
//!    stored in the same transaction (with a version check, so two windows cannot overwrite
//!    each other's navigation).
//!
//! `resume` (what the player asks when it opens) relaunches the current activity when one is
//! still active (a reload), resumes a suspended course (`resumeAll`), and otherwise starts
//! it (`start`; when flow cannot start the course, the first activity choice may deliver).

use std::time::SystemTime;

use axum::http::StatusCode;
use lms_package::Organization;
use lms_package::sequencing::SequencingCollection;
use lms_rte::Attempt;
use lms_sequencing::{
    GlobalObjectives, NavigationOutcome, NavigationRequest, NavigationValidity, SequencingError, SequencingState, Sequencer,
    runtime,
};
use lms_store::{LaunchKind, Registration, SequencingSave};
use serde_json::{Value, json};

use super::tree::Model;
use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// The parts of a package the sequencer needs.
pub(crate) struct Course {
    pub organization: Organization,
    pub collection: SequencingCollection,
}

/// Reads the organization and sequencing collection from the package's stored manifest.
pub(crate) async fn course_of(state: &AppState, package_id: &str, model: &Model) -> ApiResult<Course> {
    let path = model.manifest_path.as_deref().unwrap_or("imsmanifest.xml");
    let (_, disk) = state.store.package_file(package_id, path).await?.ok_or_else(|| {
        tracing::error!(package = package_id, path, "the stored package has no manifest");
        ApiError::internal()
    })?;
    let bytes = tokio::fs::read(&disk).await.map_err(|e| {
        tracing::error!(package = package_id, error = %e, "the manifest blob cannot be read");
        ApiError::internal()
    })?;
    let source = lms_package::MemorySource::new([(path.to_string(), bytes)]);
    let parsed = lms_package::parse(&source, &lms_package::ParseOptions { manifest_only: true });
    let package = parsed.package.ok_or_else(|| ApiError::internal())?;
    let organization = package.default_org().cloned().ok_or_else(|| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("package {package_id:?} has no organization to sequence"))
    })?;
    Ok(Course { organization, collection: package.sequencing_collection })
}

/// A registration's sequencer as stored, with the version the next save must name.
pub(crate) struct Loaded {
    pub sequencer: Sequencer,
    pub version: Option<i64>,
    pub global_to_system: bool,
}

/// FNV-1a of the registration id: the seed of selection and randomization, so a re-run of
/// the same registration draws the same.
fn seed_of(registration_id: &str) -> u64 {
    registration_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn sequencing_error(e: SequencingError) -> ApiError {
    match e {
        SequencingError::Refused { .. } => ApiError::new(StatusCode::CONFLICT, e.to_string()),
        SequencingError::BadNavigationRequest(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        other => {
            tracing::error!(error = %other, "the package's sequencing cannot be used");
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the package's sequencing cannot be used: {other}"))
        }
    }
}

pub(crate) async fn load(state: &AppState, registration: &Registration, course: &Course) -> ApiResult<Loaded> {
    let record = state.store.scorm_sequencing_state(&registration.id).await?;
    let (mut sequencer, version) = match record {
        Some(record) => {
            let saved: SequencingState = serde_json::from_str(&record.state_json).map_err(|e| {
                tracing::error!(registration = registration.id, error = %e, "stored sequencing state cannot be read");
                ApiError::internal()
            })?;
            let sequencer =
                Sequencer::restore(&course.organization, &course.collection, saved).map_err(sequencing_error)?;
            (sequencer, Some(record.version))
        }
        None => (
            Sequencer::new(&course.organization, &course.collection, seed_of(&registration.id)).map_err(sequencing_error)?,
            None,
        ),
    };
    let global_to_system = course.organization.objectives_global_to_system;
    if global_to_system && let Some(json) = state.store.scorm_learner_objectives(&registration.personnel_number).await? {
        let shared: GlobalObjectives = serde_json::from_str(&json).map_err(|e| {
            tracing::error!(person = registration.personnel_number, error = %e, "stored global objectives cannot be read");
            ApiError::internal()
        })?;
        sequencer.set_global_objectives(shared);
    }
    Ok(Loaded { sequencer, version, global_to_system })
}

/// The current activity's stored run-time data, reported to the sequencer (step 2 above).
async fn report_current(state: &AppState, registration: &Registration, sequencer: &mut Sequencer) -> ApiResult<()> {
    let Some(current) = sequencer.current_activity().map(str::to_string) else { return Ok(()) };
    if !sequencer.current_is_active() {
        return Ok(());
    }
    let records = state.store.scorm_sco_states(&registration.id).await?;
    if let Some(record) = records.iter().find(|r| r.item_id == current) {
        let attempt = Attempt::from_json(&record.attempt_json).map_err(|e| {
            tracing::error!(registration = registration.id, error = %e, "stored SCO state cannot be read");
            ApiError::internal()
        })?;
        sequencer.report(&runtime::report_of(&attempt));
    }
    Ok(())
}

/// The sequencer's state after a live report of the current SCO's committed data: what the
/// player shows while the SCO runs (nothing is stored).
pub(crate) async fn live(state: &AppState, registration: &Registration, model: &Model) -> ApiResult<Value> {
    let course = course_of(state, &registration.package_id, model).await?;
    let mut loaded = load(state, registration, &course).await?;
    report_current(state, registration, &mut loaded.sequencer).await?;
    let seq = &loaded.sequencer;
    let root = seq.tree().def(seq.tree().root()).id.clone();
    Ok(json!({
        "current": seq.current_activity(),
        "active": seq.current_is_active(),
        "suspended": seq.suspended_activity(),
        "course": seq.activity_status(&root),
        "navigation": player_view(&seq.navigation_validity(SystemTime::now()), None),
    }))
}

/// The request validity as the player uses it: which buttons show and work, and each table
/// of contents entry. `hide` lists the `hideLMSUI` tokens of the delivered item.
pub(crate) fn player_view(validity: &NavigationValidity<'_>, hide: Option<&[String]>) -> Value {
    let activities: serde_json::Map<String, Value> = validity
        .activities
        .iter()
        .map(|a| (a.activity.to_string(), json!({ "choice": a.choice, "hidden": a.hidden, "disabled": a.disabled })))
        .collect();
    json!({
        "start": validity.start,
        "resume_all": validity.resume_all,
        "continue": validity.continue_,
        "previous": validity.previous,
        "exit": validity.exit,
        "exit_all": validity.exit_all,
        "suspend_all": validity.suspend_all,
        "abandon": validity.abandon,
        "abandon_all": validity.abandon_all,
        "hide": hide.unwrap_or(&[]),
        "activities": activities,
    })
}

/// What the player asked for.
pub(crate) enum Asked {
    /// Open the course: relaunch the active activity, resume a suspended course, or start.
    Resume,
    Request(NavigationRequest),
}

pub(crate) fn parse_request(request: &str, target: Option<&str>) -> Result<Asked, ApiError> {
    let needs_target = || {
        target.filter(|t| !t.is_empty()).map(str::to_string).ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("target: {request} needs a target item"))
        })
    };
    Ok(Asked::Request(match request {
        "resume" => return Ok(Asked::Resume),
        "choice" => NavigationRequest::Choice(needs_target()?),
        "jump" => NavigationRequest::Jump(needs_target()?),
        other => other.parse().map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "request: {other:?} is not one of resume, start, resumeAll, continue, previous, choice, jump, exit, exitAll, suspendAll, abandon, abandonAll (or {{target=ID}}choice / {{target=ID}}jump)"
                ),
            )
        })?,
    }))
}

/// A sentence for the learner about a refused request.
fn refusal_message(request: &NavigationRequest, error: &SequencingError) -> String {
    let what = match request {
        NavigationRequest::Start => "The course cannot start",
        NavigationRequest::ResumeAll => "The course cannot be resumed",
        NavigationRequest::Continue => "There is nothing to continue to",
        NavigationRequest::Previous => "There is nothing to go back to",
        NavigationRequest::Choice(_) | NavigationRequest::Jump(_) => "That activity cannot be opened now",
        _ => "That is not possible now",
    };
    match error {
        SequencingError::Refused { code, message } => format!("{what}: {message} ({code})."),
        other => format!("{what}: {other}."),
    }
}

/// Runs one navigation of a SCORM 2004 registration and answers the player.
pub(crate) async fn navigate(
    state: &AppState,
    registration: &Registration,
    model: &Model,
    asked: Asked,
) -> ApiResult<(StatusCode, Value)> {
    let course = course_of(state, &registration.package_id, model).await?;
    let Loaded { mut sequencer, version, global_to_system } = load(state, registration, &course).await?;
    let now = SystemTime::now();
    let request = match asked {
        Asked::Resume if sequencer.current_is_active() => {
            // A reload: the active activity launches again (its SCO resumes), no navigation.
            let current = sequencer.current_activity().unwrap_or_default().to_string();
            return deliver(state, registration, model, &sequencer, &current, true, None).await;
        }
        Asked::Resume if sequencer.suspended_activity().is_some() => NavigationRequest::ResumeAll,
        Asked::Resume => NavigationRequest::Start,
        Asked::Request(request) => request,
    };
    if !matches!(request, NavigationRequest::Abandon | NavigationRequest::AbandonAll) {
        report_current(state, registration, &mut sequencer).await?;
    }
    let mut outcome = sequencer.navigate(&request, now);
    if request == NavigationRequest::Start
        && outcome.is_err()
        && let Some(first) = sequencer
            .navigation_validity(now)
            .activities
            .iter()
            .find(|a| a.choice && !a.hidden && sequencer.tree().index_of(&a.activity).is_some_and(|i| sequencer.tree().def(i).is_leaf()))
            .map(|a| a.activity.to_string())
    {
        // Flow cannot start this course (no flow at the root, the default): the first
        // activity the learner could choose is opened for them.
        outcome = sequencer.navigate(&NavigationRequest::Choice(first), now);
    }
    let save = |sequencer: &Sequencer| -> ApiResult<SequencingSave> {
        let state_json = serde_json::to_string(sequencer.state()).map_err(|_| ApiError::internal())?;
        let learner_objectives = if global_to_system {
            let json = serde_json::to_string(sequencer.global_objectives()).map_err(|_| ApiError::internal())?;
            Some((registration.personnel_number.clone(), json))
        } else {
            None
        };
        Ok(SequencingSave { registration_id: registration.id.clone(), state_json, expected_version: version, learner_objectives })
    };
    let ended = |sequencer: &Sequencer, message: &str, refused: bool| {
        json!({
            "end": true,
            "refused": refused,
            "message": message,
            "navigation": player_view(&sequencer.navigation_validity(now), None),
        })
    };
    match outcome {
        Ok(NavigationOutcome::Delivered(delivery)) => {
            let save = save(&sequencer)?;
            deliver(state, registration, model, &sequencer, &delivery.activity, delivery.resumed, Some(&save)).await
        }
        Ok(NavigationOutcome::SequencingEnded) => {
            state.store.save_scorm_sequencing(&save(&sequencer)?).await?;
            let message = if sequencer.suspended_activity().is_some() {
                "You have left the course. Your progress is saved; open it again to resume."
            } else {
                "The course has ended."
            };
            Ok((StatusCode::OK, ended(&sequencer, message, false)))
        }
        Ok(NavigationOutcome::NothingDelivered) => {
            state.store.save_scorm_sequencing(&save(&sequencer)?).await?;
            Ok((StatusCode::OK, ended(&sequencer, "Choose an activity from the table of contents.", false)))
        }
        Err(error) => {
            // A refusal by navigation request processing changes nothing (the report above is
            // dropped with it); a later refusal keeps what termination did.
            let message = refusal_message(&request, &error);
            if !matches!(error, SequencingError::Refused { code, .. } if code.starts_with("NB.")) {
                if let SequencingError::Refused { .. } = error {
                    state.store.save_scorm_sequencing(&save(&sequencer)?).await?;
                } else {
                    return Err(sequencing_error(error));
                }
            }
            let mut body = ended(&sequencer, &message, true);
            body["code"] = json!(error.code());
            body["active"] = json!(sequencer.current_is_active());
            Ok((StatusCode::OK, body))
        }
    }
}

/// Opens a session on a delivered activity.
async fn deliver(
    state: &AppState,
    registration: &Registration,
    model: &Model,
    sequencer: &Sequencer,
    item_id: &str,
    resumed: bool,
    save: Option<&SequencingSave>,
) -> ApiResult<(StatusCode, Value)> {
    let item = model.item(item_id).ok_or_else(|| ApiError::not_found(format!("item {item_id:?}")))?;
    let leaf = model.leaves().into_iter().find(|l| l.item_id == item_id);
    let person = state
        .store
        .person(&registration.personnel_number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("person {:?}", registration.personnel_number)))?;
    let config = model.attempt_config(item, &person.personnel_number, &person.name);
    let validity = sequencer.navigation_validity(SystemTime::now());
    let prepare = |attempt: &mut Attempt| runtime::prepare_launch(sequencer, item_id, attempt, &validity);
    let kind = if resumed { LaunchKind::Normal } else { LaunchKind::NewScoAttempt };
    let title = leaf.as_ref().map(|l| l.title.clone()).unwrap_or_else(|| item.title.clone());
    let xapi = super::sco_xapi_context(state, registration, &person.personnel_number, item_id, &title).await?;
    let opened = state
        .store
        .open_scorm_session_prepared(&registration.id, item_id, kind, config, xapi.as_ref(), &prepare, save)
        .await?;
    let origin = state.config.content_origin.clone().unwrap_or_default();
    let frame_url = format!("{origin}/scorm/frame/{}?token={}", opened.session_id, opened.token);
    Ok((
        StatusCode::CREATED,
        json!({
            "session_id": opened.session_id,
            "item_id": opened.item_id,
            "title": title,
            "attempt": opened.attempt,
            "review": opened.review,
            "frame_url": frame_url,
            "navigation": player_view(&validity, Some(&item.hide_lms_ui)),
        }),
    ))
}
