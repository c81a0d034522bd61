//! cmi5 (issue 8): registrations, launch, the one-time fetch URL, waive/abandon, and the
//! cmi5 session rules the LRS applies to requests made with a session's auth token.
//!
//! Decisions are made by `lms-cmi5` (pure) on the registration's stored state; the store
//! keeps the new state and the statements in one step ([`lms_store::Store::change_cmi5_registration`]).
//!
//! - Main origin: `POST /api/registrations` and `GET /api/registrations/{id}` (shared with
//!   SCORM, which hands cmi5 packages over here), `POST /api/registrations/{id}/launch`,
//!   `POST /api/registrations/{id}/waive`, `POST /api/cmi5/sessions/{id}/abandon`, the
//!   player page, and the fetch URL `POST /cmi5/fetch/{secret}` (no sign-in: the secret is
//!   the credential; CORS-enabled because the AU calls it from the content origin).
//! - The LRS (`/xapi/…`) asks [`lrs_session`] whether an `Authorization` header is a cmi5
//!   auth token; such requests go through [`store_statements`] and [`check_document`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use chrono::Utc;
use lms_cmi5::{Course, LaunchMode, LaunchRequest, Registration, Rejection, WaiveReason};
use lms_store::{
    Cmi5Change, Cmi5RegistrationRecord, DocumentKey, DocumentKind, DocumentWrite, NewAttachment,
    NewCmi5Registration, NewCmi5Session, Role, XapiClient,
};
use lms_xapi::{DocumentMethod, DocumentQuery, DocumentResource, PreparedStatement, XapiVersion};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

const PLAYER_HTML: &str = include_str!("../assets/cmi5/player.html");

/// The `languagePreference` of the `cmi5LearnerPreferences` document the LMS writes for a
/// learner who has none yet.
pub const DEFAULT_LANGUAGE_PREFERENCE: &str = "de-DE,en-US";

/// How many parsed courses are kept in memory.
const COURSE_CACHE: usize = 64;

/// The cmi5 share of the server state: parsed courses by package id.
#[derive(Clone, Debug, Default)]
pub struct Cmi5State {
    courses: Arc<Mutex<HashMap<String, Arc<Course>>>>,
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/registrations/{id}/launch", post(launch))
        .route("/api/registrations/{id}/waive", post(waive))
        .route("/api/cmi5/sessions/{id}/abandon", post(abandon))
        .route("/cmi5/fetch/{secret}", post(fetch).options(fetch_preflight))
}

// ---- helpers -------------------------------------------------------------------------------------

fn now() -> chrono::DateTime<Utc> {
    Utc::now()
}

fn cmi5_error(error: lms_cmi5::Cmi5Error) -> ApiError {
    use lms_cmi5::Cmi5Error as E;
    match error {
        E::UnknownAu { .. } | E::UnknownSession { .. } => ApiError::new(StatusCode::NOT_FOUND, error.to_string()),
        E::SessionClosed { .. } | E::CannotWaive { .. } => ApiError::new(StatusCode::CONFLICT, error.to_string()),
        E::InvalidActor { .. } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("actor: {error}")),
        other => {
            tracing::error!(error = %other, "cmi5 course cannot be used");
            ApiError::internal()
        }
    }
}

fn state_error(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "stored cmi5 registration state cannot be read");
    ApiError::internal()
}

fn registration_state(record: &Cmi5RegistrationRecord) -> Result<Registration, ApiError> {
    serde_json::from_str(&record.state_json).map_err(state_error)
}

fn state_change(registration: &Registration) -> Result<Cmi5Change, ApiError> {
    Ok(Cmi5Change {
        state_json: Some(serde_json::to_string(registration).map_err(state_error)?),
        course_satisfied: registration.course_satisfied,
        ..Cmi5Change::default()
    })
}

/// The authority of every statement in a cmi5 registration: the LMS (as in the statements
/// it writes for SCORM).
fn lms_authority(state: &AppState) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": public_origin(state), "name": "lms"}})
}

/// The LRS client key statements of a registration are stored under (so an AU with
/// `statements/read/mine` reads its registration's statements and no others).
fn registration_client_key(registration_id: &str) -> String {
    format!("cmi5:{registration_id}")
}

/// Statements the LMS writes, prepared for storage.
fn prepare_lms(state: &AppState, statements: Vec<Value>) -> Result<Vec<PreparedStatement>, ApiError> {
    lms_xapi::prepare_statements(statements, XapiVersion::V1_0_3, &lms_authority(state), now(), Uuid::now_v7).map_err(|e| {
        tracing::error!(error = %e, "a statement written by the LMS is not valid xAPI");
        ApiError::internal()
    })
}

fn random_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// The main origin as the browser reaches it (`ServerConfig::public_url`).
fn public_origin(state: &AppState) -> String {
    state.config.public_url.trim_end_matches('/').to_string()
}

/// The agent key (`lms_xapi::Ifi::key`) of an actor.
fn agent_key(actor: &Value) -> Option<String> {
    lms_xapi::parse_agent_param(&actor.to_string(), XapiVersion::V1_0_3).ok().map(|a| a.ifi.key())
}

/// The course of a cmi5 package (parsed from its stored structure file, then cached).
pub(crate) async fn course_for(state: &AppState, package_id: &str) -> Result<Arc<Course>, ApiError> {
    if let Some(course) = state.cmi5.courses.lock().ok().and_then(|c| c.get(package_id).cloned()) {
        return Ok(course);
    }
    let package = state.store.package(package_id).await?.ok_or_else(|| ApiError::not_found(format!("package {package_id:?}")))?;
    if package.standard != "cmi5" {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("package_id: package {package_id:?} is {}, not cmi5", package.standard),
        ));
    }
    let files = state.store.package_files(package_id).await?;
    let structure = files
        .iter()
        .filter(|f| f.path.rsplit('/').next().is_some_and(|n| n.eq_ignore_ascii_case("cmi5.xml")))
        .min_by_key(|f| (f.path.matches('/').count(), f.path.clone()))
        .ok_or_else(|| {
            tracing::error!(package = package_id, "cmi5 package without cmi5.xml");
            ApiError::internal()
        })?;
    let (_, disk) = state.store.package_file(package_id, &structure.path).await?.ok_or_else(ApiError::internal)?;
    let bytes = tokio::fs::read(&disk).await.map_err(|e| {
        tracing::error!(error = %e, path = %disk.display(), "reading cmi5.xml");
        ApiError::internal()
    })?;
    let structure_path = structure.path.clone();
    // the LMS-generated ids (course, `…/au/<n>`, `…/block/<n>`) of this package version
    let base = format!("{}/cmi5/{package_id}", public_origin(state));
    let course = tokio::task::spawn_blocking(move || {
        let source = lms_package::MemorySource::new([(structure_path, bytes)]);
        let parsed = lms_package::parse(&source, &lms_package::ParseOptions { manifest_only: true });
        let package = parsed.package.ok_or_else(|| "the stored cmi5.xml does not parse".to_string())?;
        Course::from_package(&package, &base).map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|e| {
        tracing::error!(package = package_id, error = %e, "stored cmi5 course cannot be used");
        ApiError::internal()
    })?;
    let course = Arc::new(course);
    if let Ok(mut cache) = state.cmi5.courses.lock() {
        if cache.len() >= COURSE_CACHE {
            cache.clear();
        }
        cache.insert(package_id.to_string(), course.clone());
    }
    Ok(course)
}

/// The learner themself or an admin.
fn may_use(caller: &Caller, personnel_number: &str) -> Result<(), ApiError> {
    if caller.0.personnel_number == personnel_number { Ok(()) } else { caller.require(&[Role::Admin]) }
}

async fn registration_for(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Cmi5RegistrationRecord> {
    let record =
        state.store.cmi5_registration(id).await?.ok_or_else(|| ApiError::not_found(format!("registration {id:?}")))?;
    may_use(caller, &record.personnel_number)?;
    Ok(record)
}

/// An AU named by its number (0-based, document order) or its publisher id.
fn au_index(course: &Course, au: &Value) -> Result<usize, ApiError> {
    let index = match au {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(id) => course.aus.iter().position(|a| &a.publisher_id == id || &a.activity_id == id),
        _ => None,
    };
    index.filter(|&i| i < course.aus.len()).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("au: {au} is neither an AU number below {} nor an AU id of the course", course.aus.len()),
        )
    })
}

// ---- registrations -------------------------------------------------------------------------------

/// `POST /api/registrations` for a cmi5 package (called by the SCORM handler).
pub(crate) async fn create_registration(
    state: &AppState,
    caller: &Caller,
    package_id: String,
    personnel_number: String,
    actor: Option<Value>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    may_use(caller, &personnel_number)?;
    if actor.is_some() {
        caller.require(&[Role::Admin]).map_err(|_| ApiError::forbidden("actor: only an admin may choose the xAPI actor"))?;
    }
    let course = course_for(state, &package_id).await?;
    let actor = actor.unwrap_or_else(|| {
        json!({"objectType": "Agent", "account": {"homePage": public_origin(state), "name": personnel_number}})
    });
    if agent_key(&actor).is_none() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "actor: not a valid xAPI Agent"));
    }
    let id = Uuid::new_v4();
    let (registration, statements) = Registration::create(&course, id, actor.clone(), now(), &mut Uuid::now_v7).map_err(cmi5_error)?;
    let record = state
        .store
        .create_cmi5_registration(NewCmi5Registration {
            id: id.hyphenated().to_string(),
            package_id,
            personnel_number,
            actor_json: actor.to_string(),
            state_json: serde_json::to_string(&registration).map_err(state_error)?,
            course_satisfied: registration.course_satisfied,
            statements: prepare_lms(state, statements)?,
        })
        .await?;
    if record.course_satisfied {
        record_completion(state, record.personnel_number.clone(), &record.package_id).await;
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": record.id,
            "standard": "cmi5",
            "launch_url": format!("/player/{}", record.id),
            "package_id": record.package_id,
            "personnel_number": record.personnel_number,
            "actor": actor,
        })),
    ))
}

/// The registration report: each AU's and block's state, the course's, and the sessions.
fn report(record: &Cmi5RegistrationRecord, course: &Course, registration: &Registration) -> Value {
    let status = registration.status(course);
    let aus: Vec<Value> = course
        .aus
        .iter()
        .zip(&status.aus)
        .enumerate()
        .map(|(index, (au, s))| {
            json!({
                "index": index,
                "publisher_id": au.publisher_id,
                "activity_id": au.activity_id,
                "title": au.title,
                "move_on": format!("{:?}", au.move_on),
                "launch_method": format!("{:?}", au.launch_method),
                "completed": s.completed,
                "passed": s.passed,
                "failed": s.failed,
                "waived": s.waived,
                "satisfied": s.satisfied,
            })
        })
        .collect();
    let blocks: Vec<Value> = course
        .blocks
        .iter()
        .zip(&status.blocks)
        .map(|(b, s)| json!({"publisher_id": b.publisher_id, "activity_id": b.activity_id, "title": b.title, "satisfied": s.satisfied}))
        .collect();
    let sessions: Vec<Value> = registration
        .sessions
        .iter()
        .map(|(id, s)| {
            json!({
                "id": id.hyphenated().to_string(),
                "au": s.au,
                "status": s.status.as_str(),
                "launch_mode": s.launch_mode.as_str(),
                "launched_at": lms_xapi::syntax::format_timestamp(s.launched_at),
            })
        })
        .collect();
    let actor: Value = serde_json::from_str(&record.actor_json).unwrap_or(Value::Null);
    json!({
        "id": record.id,
        "standard": "cmi5",
        "package_id": record.package_id,
        "personnel_number": record.personnel_number,
        "actor": actor,
        "course_id": course.activity_id,
        "course_publisher_id": course.publisher_id,
        "title": course.title,
        "satisfied": status.satisfied,
        "aus": aus,
        "blocks": blocks,
        "sessions": sessions,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    })
}

/// `GET /api/registrations/{id}` for a cmi5 registration (`None`: there is none).
pub(crate) async fn get_registration(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Option<Value>> {
    let Some(record) = state.store.cmi5_registration(id).await? else { return Ok(None) };
    may_use(caller, &record.personnel_number)?;
    let course = course_for(state, &record.package_id).await?;
    let registration = registration_state(&record)?;
    Ok(Some(report(&record, &course, &registration)))
}

// ---- launch --------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LaunchBody {
    /// The AU: its number (0-based) or its publisher id.
    au: Value,
    /// `Normal` (default), `Browse` or `Review`.
    #[serde(default)]
    launch_mode: Option<String>,
    /// Where the AU sends the learner when it exits (`returnURL` in `LMS.LaunchData`).
    #[serde(default)]
    return_url: Option<String>,
}

async fn launch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LaunchBody>,
) -> ApiResult<Response> {
    let record = registration_for(&state, &caller, &id).await?;
    let course = course_for(&state, &record.package_id).await?;
    let au = au_index(&course, &body.au)?;
    let launch_mode = match body.launch_mode.as_deref() {
        None => LaunchMode::Normal,
        Some(text) => LaunchMode::parse(text).ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("launch_mode: {text:?} is not Normal, Browse or Review"))
        })?,
    };
    let origin = public_origin(&state);
    let session_id = Uuid::new_v4();
    let fetch_secret = random_secret();
    let fetch_url = format!("{origin}/cmi5/fetch/{fetch_secret}");
    let endpoint = format!("{origin}/xapi");
    let content_base =
        format!("{}/content/{}/", state.config.content_origin.clone().unwrap_or_default(), record.package_id);
    let actor: Value = serde_json::from_str(&record.actor_json).map_err(state_error)?;
    let agent = agent_key(&actor).ok_or_else(|| state_error("the stored actor is not an Agent"))?;
    let au_activity_id = course.aus[au].activity_id.clone();
    let launch_method = format!("{:?}", course.aus[au].launch_method);
    let return_url = body.return_url.clone();
    let url = state
        .store
        .change_cmi5_registration(&id, |current| -> Result<(String, Cmi5Change), ApiError> {
            let mut registration = registration_state(current)?;
            let request = LaunchRequest {
                au,
                endpoint: &endpoint,
                fetch_url: &fetch_url,
                content_base: &content_base,
                launch_mode,
                return_url: return_url.as_deref(),
                session_id,
                require_learner_preferences: true,
            };
            let launched = registration.launch(&course, &request, now(), &mut Uuid::now_v7).map_err(cmi5_error)?;
            let mut change = state_change(&registration)?;
            change.new_session = Some(NewCmi5Session {
                id: session_id.hyphenated().to_string(),
                au_index: au as i64,
                fetch_secret: fetch_secret.clone(),
            });
            let content = launched.launch_data.to_string().into_bytes();
            let etag = document_etag(&content);
            change.documents.push((
                DocumentKey {
                    kind: DocumentKind::State,
                    activity_id: au_activity_id.clone(),
                    agent_key: agent.clone(),
                    registration: current.id.clone(),
                    document_id: lms_cmi5::vocab::LAUNCH_DATA_STATE_ID.to_string(),
                },
                DocumentWrite { content, content_type: "application/json".into(), etag },
            ));
            let preferences = lms_cmi5::learner_preferences(DEFAULT_LANGUAGE_PREFERENCE, true).to_string().into_bytes();
            let etag = document_etag(&preferences);
            change.documents_if_absent.push((
                DocumentKey {
                    kind: DocumentKind::AgentProfile,
                    activity_id: String::new(),
                    agent_key: agent.clone(),
                    registration: String::new(),
                    document_id: lms_cmi5::vocab::LEARNER_PREFERENCES_PROFILE_ID.to_string(),
                },
                DocumentWrite { content: preferences, content_type: "application/json".into(), etag },
            ));
            change.statements = prepare_lms(&state, launched.statements)?;
            change.client_key = Some(registration_client_key(&current.id));
            Ok((launched.url, change))
        })
        .await?;
    let body = json!({
        "session_id": session_id.hyphenated().to_string(),
        "registration": id,
        "au": au,
        "title": course.aus[au].title,
        "launch_method": launch_method,
        "launch_mode": launch_mode.as_str(),
        "url": url,
    });
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A document's quoted ETag, as the LRS computes it (first 160 bits of the SHA-256).
fn document_etag(content: &[u8]) -> String {
    let full = lms_xapi::etag(content);
    format!("\"{}\"", &full[1..41])
}

// ---- waive and abandon ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiveBody {
    au: Value,
    /// `Tested Out`, `Equivalent AU`, `Equivalent Outside Activity` or `Administrative`.
    reason: String,
}

async fn waive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WaiveBody>,
) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    let record = registration_for(&state, &caller, &id).await?;
    let course = course_for(&state, &record.package_id).await?;
    let au = au_index(&course, &body.au)?;
    let reason = WaiveReason::parse(&body.reason).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "reason: {:?} is not one of \"Tested Out\", \"Equivalent AU\", \"Equivalent Outside Activity\", \"Administrative\"",
                body.reason
            ),
        )
    })?;
    let report = state
        .store
        .change_cmi5_registration(&id, |current| -> Result<(Value, Cmi5Change), ApiError> {
            let mut registration = registration_state(current)?;
            let statements = registration.waive(&course, au, reason, now(), &mut Uuid::now_v7).map_err(cmi5_error)?;
            // (a waive can satisfy the course; recorded below)
            let mut change = state_change(&registration)?;
            change.statements = prepare_lms(&state, statements)?;
            change.client_key = Some(registration_client_key(&current.id));
            Ok((report(current, &course, &registration), change))
        })
        .await?;
    if report["satisfied"] == true {
        record_completion(&state, record.personnel_number.clone(), &record.package_id).await;
    }
    Ok(axum::Json(report))
}

/// The course of a registration is satisfied: record the e-learning completion (learning
/// paths, certificates). Already durable as statements; a failure here is logged.
async fn record_completion(state: &AppState, personnel_number: String, package_id: &str) {
    if let Err(error) = state.store.record_elearning_completion(&personnel_number, package_id, Utc::now()).await {
        tracing::error!(package = package_id, error = %error, "recording the cmi5 e-learning completion failed");
    }
}

async fn abandon(State(state): State<AppState>, caller: Caller, Path(session): Path<String>) -> ApiResult<axum::Json<Value>> {
    let row = state.store.cmi5_session(&session).await?.ok_or_else(|| ApiError::not_found(format!("session {session:?}")))?;
    let record = registration_for(&state, &caller, &row.registration_id).await?;
    let course = course_for(&state, &record.package_id).await?;
    let session_id = Uuid::parse_str(&session).map_err(|_| ApiError::not_found(format!("session {session:?}")))?;
    let report = state
        .store
        .change_cmi5_registration(&record.id, |current| -> Result<(Value, Cmi5Change), ApiError> {
            let mut registration = registration_state(current)?;
            let statement = registration.abandon(&course, session_id, now(), &mut Uuid::now_v7).map_err(cmi5_error)?;
            let mut change = state_change(&registration)?;
            change.statements = prepare_lms(&state, vec![statement])?;
            change.client_key = Some(registration_client_key(&current.id));
            Ok((report(current, &course, &registration), change))
        })
        .await?;
    Ok(axum::Json(report))
}

// ---- the fetch URL -------------------------------------------------------------------------------

fn cors(mut response: Response, headers: &HeaderMap) -> Response {
    let h = response.headers_mut();
    match headers.get(header::ORIGIN) {
        Some(origin) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        None => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
    }
    response
}

async fn fetch_preflight(headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
    let requested = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.unwrap_or(HeaderValue::from_static("Content-Type")));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    cors(response, &headers)
}

/// `POST /cmi5/fetch/{secret}`: always 200 with JSON (8.2.2.0-2, 8.2.2.0-3): the auth token
/// the first time, `error-code` 1 afterwards or once the session ended, 2 for an unknown URL.
async fn fetch(State(state): State<AppState>, headers: HeaderMap, Path(secret): Path<String>) -> Response {
    let answer = match fetch_answer(&state, &secret).await {
        Ok(answer) => answer,
        Err(error) => return cors(error.into_response(), &headers),
    };
    let mut response = axum::Json(answer).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    cors(response, &headers)
}

async fn fetch_answer(state: &AppState, secret: &str) -> Result<Value, ApiError> {
    let Some(session) = state.store.cmi5_session_by_fetch_secret(secret).await? else {
        return Ok(lms_cmi5::fetch_error_unknown_token());
    };
    let record = state.store.cmi5_registration(&session.registration_id).await?.ok_or_else(ApiError::internal)?;
    let registration = registration_state(&record)?;
    let open = Uuid::parse_str(&session.id).is_ok_and(|id| registration.session_is_open(id));
    let token = base64::engine::general_purpose::STANDARD.encode(format!("cmi5:{}", random_secret()));
    let mut fetch_token = lms_cmi5::FetchToken::new(token.clone());
    if !open || session.fetched {
        if session.fetched {
            fetch_token.fetch(true);
        }
        return Ok(fetch_token.fetch(open));
    }
    if !state.store.issue_cmi5_token(&session.id, &token).await? {
        fetch_token.fetch(true);
    }
    Ok(fetch_token.fetch(true))
}

// ---- the LRS side ----------------------------------------------------------------------------------

/// A request to the LRS made with a cmi5 session's auth token.
#[derive(Clone, Debug)]
pub(crate) struct LrsSession {
    pub session_id: Uuid,
    pub registration_id: String,
    pub package_id: String,
    pub actor: Value,
    /// The client the request acts as: statements/write, statements/read/mine, state, profile.
    pub client: XapiClient,
}

/// An LRS error: status and message.
#[derive(Debug)]
pub(crate) struct LrsError {
    pub status: StatusCode,
    pub message: String,
}

impl From<lms_store::Error> for LrsError {
    fn from(e: lms_store::Error) -> Self {
        use lms_store::Error as E;
        match e {
            E::Conflict { what } => LrsError { status: StatusCode::CONFLICT, message: format!("{what} is already stored") },
            E::Invalid { field, message } => LrsError { status: StatusCode::BAD_REQUEST, message: format!("{field}: {message}") },
            other => internal(other),
        }
    }
}

fn forbidden(rejection: Rejection) -> LrsError {
    LrsError { status: StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::FORBIDDEN), message: rejection.to_string() }
}

fn internal(e: impl std::fmt::Display) -> LrsError {
    tracing::error!(error = %e, "cmi5 LRS request failed");
    LrsError { status: StatusCode::INTERNAL_SERVER_ERROR, message: "internal error; the server log has the details".into() }
}

fn api_to_lrs(e: ApiError) -> LrsError {
    let response = e.into_response();
    LrsError { status: response.status(), message: "the cmi5 registration cannot be used".into() }
}

/// `Some` when `Authorization` carries a cmi5 auth token (`Basic` of `cmi5:<secret>`); a
/// token of no session, or of a session that is no longer open, is refused (401).
pub(crate) async fn lrs_session(state: &AppState, headers: &HeaderMap) -> Result<Option<LrsSession>, LrsError> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some(token) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")).map(str::trim) else {
        return Ok(None);
    };
    let is_cmi5 = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .is_some_and(|decoded| decoded.starts_with(b"cmi5:"));
    if !is_cmi5 {
        return Ok(None);
    }
    let unauthorized = |m: &str| LrsError { status: StatusCode::UNAUTHORIZED, message: m.to_string() };
    let session = state
        .store
        .cmi5_session_by_token(token)
        .await
        .map_err(internal)?
        .ok_or_else(|| unauthorized("unknown cmi5 auth token"))?;
    let record = state.store.cmi5_registration(&session.registration_id).await.map_err(internal)?.ok_or_else(|| internal("session without registration"))?;
    let registration: Registration = serde_json::from_str(&record.state_json).map_err(internal)?;
    let session_id = Uuid::parse_str(&session.id).map_err(internal)?;
    if !registration.session_is_open(session_id) {
        return Err(unauthorized("the cmi5 session of this auth token has ended (8.1.2.0-2)"));
    }
    let key = registration_client_key(&record.id);
    let client = XapiClient {
        key,
        scopes: ["statements/write", "statements/read/mine", "state", "profile"].iter().map(|s| s.to_string()).collect(),
        authority: lms_authority(state),
    };
    let actor = serde_json::from_str(&record.actor_json).map_err(internal)?;
    Ok(Some(LrsSession { session_id, registration_id: record.id, package_id: record.package_id, actor, client }))
}

/// Stores the statements of a PUT/POST made with a session token: xAPI validation (400)
/// first, then the cmi5 rules on each statement as sent (403, nothing stored), then the
/// statements, each followed by the "satisfied" statements it triggered. Returns the ids.
pub(crate) async fn store_statements(
    state: &AppState,
    session: &LrsSession,
    version: XapiVersion,
    statements: Vec<Value>,
    attachments: Vec<NewAttachment>,
) -> Result<Vec<String>, LrsError> {
    let stored = now();
    let prepared = lms_xapi::prepare_statements(statements.clone(), version, &session.client.authority, stored, Uuid::now_v7)
        .map_err(|e| LrsError { status: StatusCode::BAD_REQUEST, message: e.to_string() })?;
    let ids: Vec<String> = prepared.iter().map(|p| p.index.statement_id.hyphenated().to_string()).collect();
    let course = course_for(state, &session.package_id).await.map_err(api_to_lrs)?;
    let session_id = session.session_id;
    let completion = state
        .store
        .change_cmi5_registration(&session.registration_id, |current| -> Result<(Option<String>, Cmi5Change), LrsError> {
            let mut registration: Registration = serde_json::from_str(&current.state_json).map_err(internal)?;
            let was_satisfied = registration.course_satisfied;
            let mut ordered = Vec::new();
            for (raw, prepared) in statements.iter().zip(prepared) {
                let following = registration
                    .check_statement(&course, session_id, raw, stored, &mut Uuid::now_v7)
                    .map_err(forbidden)?;
                ordered.push(prepared);
                if !following.is_empty() {
                    ordered.extend(prepare_lms(state, following).map_err(api_to_lrs)?);
                }
            }
            let mut change = Cmi5Change {
                state_json: Some(serde_json::to_string(&registration).map_err(internal)?),
                course_satisfied: registration.course_satisfied,
                ..Cmi5Change::default()
            };
            change.statements = ordered;
            change.attachments = attachments;
            change.client_key = Some(current_key(current));
            let completed = (!was_satisfied && registration.course_satisfied).then(|| current.personnel_number.clone());
            Ok((completed, change))
        })
        .await?
        .map(|personnel_number| record_completion(state, personnel_number, &session.package_id));
    if let Some(recording) = completion {
        recording.await;
    }
    Ok(ids)
}

fn current_key(current: &Cmi5RegistrationRecord) -> String {
    registration_client_key(&current.id)
}

/// The cmi5 rules for State and Agent Profile requests made with a session token
/// (403 when refused): `LMS.LaunchData` is read-only (10.2.1.0-5); documents of another
/// agent are out of reach (11.0.0.0-1); `cmi5LearnerPreferences` writes must be valid
/// (11.0.0.0-5, 11.1.0.0-1). Activity Profile requests are not restricted.
pub(crate) async fn check_document(
    state: &AppState,
    session: &LrsSession,
    resource: DocumentResource,
    method: DocumentMethod,
    query: &DocumentQuery,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), LrsError> {
    let writes = matches!(method, DocumentMethod::Put | DocumentMethod::Post | DocumentMethod::Delete);
    if matches!(resource, DocumentResource::State | DocumentResource::AgentProfile)
        && let Some(agent) = &query.agent
        && !lms_cmi5::same_agent(&agent.json, &session.actor)
    {
        return Err(forbidden(Rejection::forbidden("11.0.0.0-1", "a cmi5 session may only use its own learner's documents")));
    }
    if resource == DocumentResource::State
        && writes
        && query.document_id.as_deref().is_none_or(|id| id == lms_cmi5::vocab::LAUNCH_DATA_STATE_ID)
    {
        return Err(forbidden(Rejection::forbidden("10.2.1.0-5", "an AU may not change or delete the LMS.LaunchData document")));
    }
    if resource == DocumentResource::AgentProfile
        && matches!(method, DocumentMethod::Put | DocumentMethod::Post)
        && query.document_id.as_deref() == Some(lms_cmi5::vocab::LEARNER_PREFERENCES_PROFILE_ID)
    {
        lms_cmi5::check_learner_preferences(content_type, body).map_err(forbidden)?;
    }
    let reads_preferences = resource == DocumentResource::AgentProfile
        && matches!(method, DocumentMethod::Get | DocumentMethod::Head)
        && query.document_id.as_deref() == Some(lms_cmi5::vocab::LEARNER_PREFERENCES_PROFILE_ID);
    if reads_preferences {
        // "initialized" is accepted only after this (11.0.0.0-3)
        let session_id = session.session_id;
        state
            .store
            .change_cmi5_registration(&session.registration_id, |current| -> Result<((), Cmi5Change), LrsError> {
                let mut registration: Registration = serde_json::from_str(&current.state_json).map_err(internal)?;
                if registration.session(session_id).is_some_and(|s| s.learner_preferences_read) {
                    return Ok(((), Cmi5Change::default()));
                }
                registration.learner_preferences_read(session_id);
                let change = Cmi5Change {
                    state_json: Some(serde_json::to_string(&registration).map_err(internal)?),
                    course_satisfied: registration.course_satisfied,
                    ..Cmi5Change::default()
                };
                Ok(((), change))
            })
            .await?;
    }
    Ok(())
}

// ---- the player --------------------------------------------------------------------------------------

/// `GET /player/{id}` for a cmi5 registration (`None`: there is none).
pub(crate) async fn player_page(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Option<Response>> {
    let Some(report) = get_registration(state, caller, id).await? else { return Ok(None) };
    let config = json!({ "registration_id": id, "registration": report });
    let page = PLAYER_HTML.replace("{{CONFIG}}", &config.to_string().replace('<', "\\u003c"));
    let mut response = Html(page).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(Some(response))
}
