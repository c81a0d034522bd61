//! SCORM registrations, the player and commits (issue 3): HTTP routes.
//!
//! Two origins (see ARCHITECTURE.md, "content never shares the player's origin"):
//! - the **main origin** ([`router`], merged into the API): `POST /api/registrations`,
//!   `GET /api/registrations/{id}`, `POST /api/registrations/{id}/sessions` (navigation), and
//!   the player page `GET /player/{id}`. Sign-in is the learner's session cookie or a bearer
//!   token (the learner themself or an admin).
//! - the **content origin** ([`content_app`], its own listener): package files under
//!   `/content/…`, the content frame `/scorm/frame/{session}` that carries the run-time shim
//!   (`window.API`, `window.API_1484_11`) and loads the SCO, and the commit endpoint
//!   `POST /scorm/commit/{session}`, authorized by the session's own token. Uploaded content
//!   runs there and can neither read the player's cookie nor call the API as the learner.

mod sequenced;
mod tree;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use lms_rte::{Attempt, UnixMillis};
use lms_store::{AfterCompletion, CommitBatchIn, LaunchKind, NewRegistration, Registration, Role, ScoXapiContext};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};
use tree::{Model, NavOutcome, NavRequest, ScoSummary};

const RTE_JS: &str = include_str!("../assets/scorm/rte.js");
const SHIM_JS: &str = include_str!("../assets/scorm/shim.js");
const FRAME_HTML: &str = include_str!("../assets/scorm/frame.html");
const PLAYER_HTML: &str = include_str!("../assets/scorm/player.html");
const PLAYER_JS: &str = include_str!("../assets/scorm/player.js");

/// Routes on the main origin.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/registrations", post(create_registration))
        .route("/api/registrations/{id}", get(get_registration))
        .route("/api/registrations/{id}/sessions", post(open_session))
        .route("/player/{id}", get(player_page))
}

/// The content origin: package files, the content frame with the run-time shim, commits.
/// Serve it on its own listener ([`serve_content`]); never merge it into the main router.
pub fn content_app(state: AppState) -> Router {
    Router::new()
        .route("/content/{package_id}/{*path}", get(content_file))
        .route("/scorm/frame/{session_id}", get(frame_page))
        .route("/scorm/commit/{session_id}", post(commit))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such content") })
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Binds `addr` and serves the content origin until Ctrl-C or SIGTERM.
pub async fn serve_content(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(address = %listener.local_addr()?, "content origin listening");
    axum::serve(listener, content_app(state)).with_graceful_shutdown(crate::shutdown_signal()).await
}

fn now() -> UnixMillis {
    UnixMillis(chrono::Utc::now().timestamp_millis())
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// JSON for a `<script type="application/json">` block: `<` escaped so no `</script>` ends it.
fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

// ---- registrations ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRegistration {
    package_id: String,
    personnel_number: String,
    #[serde(default)]
    after_completion: Option<String>,
    /// cmi5 only: the xAPI actor (admins only; default: an account named by the personnel number).
    #[serde(default)]
    actor: Option<Value>,
}

/// The learner themself or an admin.
fn may_use(caller: &Caller, personnel_number: &str) -> Result<(), ApiError> {
    if caller.0.personnel_number == personnel_number {
        Ok(())
    } else {
        caller.require(&[Role::Admin])
    }
}

async fn create_registration(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateRegistration>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    may_use(&caller, &body.personnel_number)?;
    if state.store.package(&body.package_id).await?.is_some_and(|p| p.standard == "cmi5") {
        return crate::cmi5::create_registration(&state, &caller, body.package_id, body.personnel_number, body.actor).await;
    }
    if body.actor.is_some() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "actor: only cmi5 registrations take an actor"));
    }
    let after_completion = match body.after_completion.as_deref() {
        None => AfterCompletion::Review,
        Some(text) => AfterCompletion::parse(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("after_completion: {text:?} is not one of \"new_attempt\", \"review\""),
            )
        })?,
    };
    let registration = state
        .store
        .create_scorm_registration(&NewRegistration {
            package_id: body.package_id,
            personnel_number: body.personnel_number,
            after_completion,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": registration.id,
            "launch_url": format!("/player/{}", registration.id),
            "package_id": registration.package_id,
            "personnel_number": registration.personnel_number,
            "after_completion": registration.after_completion,
        })),
    ))
}

async fn registration_for(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Registration> {
    let registration =
        state.store.scorm_registration(id).await?.ok_or_else(|| ApiError::not_found(format!("registration {id:?}")))?;
    may_use(caller, &registration.personnel_number)?;
    Ok(registration)
}

async fn model_of(state: &AppState, package_id: &str) -> ApiResult<Model> {
    let json = state
        .store
        .package_model_json(package_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("package {package_id:?}")))?;
    Model::parse(&json).map_err(|e| {
        tracing::error!(package = package_id, error = %e, "stored package model cannot be read");
        ApiError::internal()
    })
}

async fn sco_summaries(state: &AppState, registration_id: &str) -> ApiResult<Vec<ScoSummary>> {
    let mut out = Vec::new();
    for record in state.store.scorm_sco_states(registration_id).await? {
        let attempt = Attempt::from_json(&record.attempt_json).map_err(|e| {
            tracing::error!(registration = registration_id, error = %e, "stored SCO state cannot be read");
            ApiError::internal()
        })?;
        out.push(ScoSummary {
            item_id: record.item_id,
            summary: attempt.summary(),
            values: attempt.values().into_iter().collect::<BTreeMap<_, _>>(),
        });
    }
    Ok(out)
}

async fn registration_report(state: &AppState, registration: &Registration, model: &Model) -> ApiResult<Value> {
    let scos = sco_summaries(state, &registration.id).await?;
    let mut report = tree::report(&model.leaves(), &scos, registration.attempt);
    if let Value::Object(map) = &mut report {
        map.insert("id".into(), json!(registration.id));
        map.insert("package_id".into(), json!(registration.package_id));
        map.insert("personnel_number".into(), json!(registration.personnel_number));
        map.insert("after_completion".into(), json!(registration.after_completion));
        map.insert("last_item_id".into(), json!(registration.last_item_id));
    }
    Ok(report)
}

async fn get_registration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if let Some(report) = crate::cmi5::get_registration(&state, &caller, &id).await? {
        return Ok(no_store(axum::Json(report).into_response()));
    }
    let registration = registration_for(&state, &caller, &id).await?;
    let model = model_of(&state, &registration.package_id).await?;
    let mut report = registration_report(&state, &registration, &model).await?;
    if model.version() == lms_rte::ScormVersion::Scorm2004 {
        report["sequencing"] = sequenced::live(&state, &registration, &model).await?;
    }
    Ok(no_store(axum::Json(report).into_response()))
}

// ---- sessions: navigation ----------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenSession {
    /// `resume` (default), `continue`, `previous` or `choice`; for SCORM 2004 also `start`,
    /// `resumeAll`, `jump`, `exit`, `exitAll`, `suspendAll`, `abandon`, `abandonAll` and the
    /// `adl.nav.request` forms `{target=ID}choice` / `{target=ID}jump`.
    #[serde(default)]
    request: Option<String>,
    /// The item for `choice` and `jump`.
    #[serde(default)]
    target: Option<String>,
    /// The item the player shows now.
    #[serde(default)]
    current: Option<String>,
}

async fn open_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OpenSession>,
) -> ApiResult<Response> {
    let registration = registration_for(&state, &caller, &id).await?;
    let model = model_of(&state, &registration.package_id).await?;
    if model.version() == lms_rte::ScormVersion::Scorm2004 {
        let asked = sequenced::parse_request(body.request.as_deref().unwrap_or("resume"), body.target.as_deref())?;
        let (status, body) = sequenced::navigate(&state, &registration, &model, asked).await?;
        return Ok(no_store((status, axum::Json(body)).into_response()));
    }
    let request = match body.request.as_deref().unwrap_or("resume") {
        "resume" | "start" => NavRequest::Resume,
        "continue" => NavRequest::Continue,
        "previous" => NavRequest::Previous,
        "choice" => NavRequest::Choice(
            body.target.clone().ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "target: choice needs a target item"))?,
        ),
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("request: {other:?} is not one of resume, continue, previous, choice"),
            ));
        }
    };
    let leaves = model.leaves();
    let item_id = match tree::navigate(&leaves, body.current.as_deref(), registration.last_item_id.as_deref(), &request) {
        NavOutcome::Launch(item_id) => item_id,
        NavOutcome::End(reason) => return Ok(axum::Json(json!({ "end": true, "message": reason })).into_response()),
    };
    let (Some(item), Some(leaf)) = (model.item(&item_id), leaves.iter().find(|l| l.item_id == item_id)) else {
        return Err(ApiError::internal());
    };
    let scos = sco_summaries(&state, &registration.id).await?;
    let completed = tree::report(&leaves, &scos, registration.attempt)["completion"] == "completed";
    let kind = match (completed, registration.after_completion, &request) {
        (true, AfterCompletion::Review, _) => LaunchKind::Review,
        (true, AfterCompletion::NewAttempt, NavRequest::Resume) => LaunchKind::NewAttempt,
        _ => LaunchKind::Normal,
    };
    let person = state
        .store
        .person(&registration.personnel_number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("person {:?}", registration.personnel_number)))?;
    let config = model.attempt_config(item, &person.personnel_number, &person.name);
    let xapi = sco_xapi_context(&state, &registration, &person.personnel_number, &item_id, &leaf.title).await?;
    let opened = state.store.open_scorm_session(&registration.id, &item_id, kind, config, xapi.as_ref()).await?;
    let origin = state.config.content_origin.clone().unwrap_or_default();
    let frame_url = format!("{origin}/scorm/frame/{}?token={}", opened.session_id, opened.token);
    let body = json!({
        "session_id": opened.session_id,
        "item_id": opened.item_id,
        "title": leaf.title,
        "attempt": opened.attempt,
        "review": opened.review,
        "frame_url": frame_url,
    });
    Ok(no_store((StatusCode::CREATED, axum::Json(body)).into_response()))
}

/// The xAPI context a session's run-time events become statements in (`None`, logged, when
/// `LMS_PUBLIC_URL` does not make valid IRIs).
pub(crate) async fn sco_xapi_context(
    state: &AppState,
    registration: &Registration,
    personnel_number: &str,
    item_id: &str,
    title: &str,
) -> ApiResult<Option<ScoXapiContext>> {
    let package = state
        .store
        .package(&registration.package_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("package {:?}", registration.package_id)))?;
    Ok(match ScoXapiContext::new(&state.config.public_url, personnel_number, &package.course_key, &package.title, item_id, title) {
        Ok(context) => Some(context),
        Err(error) => {
            tracing::error!(%error, "this session's events cannot become xAPI statements (check LMS_PUBLIC_URL)");
            None
        }
    })
}

// ---- the player page ---------------------------------------------------------------------------

async fn player_page(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    if let Some(page) = crate::cmi5::player_page(&state, &caller, &id).await? {
        return Ok(page);
    }
    let registration = registration_for(&state, &caller, &id).await?;
    let model = model_of(&state, &registration.package_id).await?;
    let config = json!({
        "registration_id": registration.id,
        "content_origin": state.config.content_origin,
        "toc": model.toc(),
        "version": model.standard,
    });
    let page = PLAYER_HTML.replace("{{CONFIG}}", &script_json(&config)).replace("{{PLAYER_JS}}", PLAYER_JS);
    Ok(no_store(Html(page).into_response()))
}

// ---- the content origin ----------------------------------------------------------------------------

#[derive(Deserialize)]
struct TokenQuery {
    token: String,
}

async fn frame_page(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(query) = query.map_err(|_| ApiError::bad_request("the content frame needs ?token=…"))?;
    let start = state
        .store
        .scorm_session_start(&session_id, &query.token)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("session {session_id:?}")))?;
    if !start.fresh {
        let page = "<!doctype html><meta charset=utf-8><title>Launch ended</title>\
            <p>This launch has ended. Open the course again from the player.</p>";
        return Ok(no_store((StatusCode::GONE, Html(page)).into_response()));
    }
    let model = model_of(&state, &start.package_id).await?;
    let leaf = model
        .leaves()
        .into_iter()
        .find(|l| l.item_id == start.item_id)
        .ok_or_else(|| ApiError::not_found(format!("item {:?}", start.item_id)))?;
    let attempt: Value = serde_json::from_str(&start.start_json).map_err(|_| ApiError::internal())?;
    let config = json!({
        "session_id": session_id,
        "token": query.token,
        "commit_url": format!("/scorm/commit/{session_id}"),
        "sco_url": format!("/content/{}/{}", start.package_id, leaf.href),
        "item_id": start.item_id,
        "review": start.review,
        "attempt": attempt,
    });
    let page = FRAME_HTML
        .replace("{{CONFIG}}", &script_json(&config))
        .replace("{{RTE_JS}}", RTE_JS)
        .replace("{{SHIM_JS}}", SHIM_JS);
    Ok(no_store(Html(page).into_response()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitBody {
    token: String,
    batches: Vec<CommitBatchIn>,
}

/// `POST /scorm/commit/{session}`: any content type (a `sendBeacon` sends `text/plain`).
async fn commit(State(state): State<AppState>, Path(session_id): Path<String>, body: Bytes) -> ApiResult<Response> {
    let body: CommitBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the commit body does not fit: {e}")))?;
    if body.batches.len() > 10_000 {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "at most 10,000 batches per request"));
    }
    let writer = state.scorm_writer.get_or_init(|| lms_store::ScormCommitWriter::spawn(state.store.clone()));
    let ack = writer
        .apply(lms_store::ScormCommitRequest { session_id, token: body.token, batches: body.batches, now: now() })
        .await?;
    if let Some(registration_id) = &ack.completion_reported {
        record_completion(&state, registration_id).await;
    }
    Ok(no_store(axum::Json(ack).into_response()))
}

/// After a commit that reported completion: when the whole registration (every SCO, as
/// `GET /api/registrations/{id}` computes it) is now completed, record the e-learning
/// completion, which advances learning paths and issues certificates. The commit itself is
/// already durable; a failure here is logged and retried by the next such commit.
async fn record_completion(state: &AppState, registration_id: &str) {
    let outcome: ApiResult<()> = async {
        let Some(registration) = state.store.scorm_registration(registration_id).await? else { return Ok(()) };
        let model = model_of(state, &registration.package_id).await?;
        let scos = sco_summaries(state, &registration.id).await?;
        let report = tree::report(&model.leaves(), &scos, registration.attempt);
        if report["completion"] != "completed" {
            return Ok(());
        }
        // Each attempt of a registration completes once: later commits that report completion
        // again (a SCO relaunched in the same attempt) record nothing new, so no second
        // certificate is issued for the same attempt.
        let since = chrono::DateTime::parse_from_rfc3339(&registration.created_at).map(|t| t.to_utc()).ok();
        let history = state.store.person_history(&registration.personnel_number, chrono::Utc::now()).await?;
        let recorded = history
            .e_learning
            .iter()
            .filter(|c| c.package_id == registration.package_id && since.is_none_or(|since| c.completed_at >= since))
            .count() as i64;
        if recorded < registration.attempt {
            state
                .store
                .record_elearning_completion(&registration.personnel_number, &registration.package_id, chrono::Utc::now())
                .await?;
        }
        Ok(())
    }
    .await;
    if let Err(error) = outcome {
        tracing::error!(registration = registration_id, error = ?error, "recording the e-learning completion failed");
    }
}

/// Package files with the MIME type of their name, Range and conditional requests.
async fn content_file(
    State(state): State<AppState>,
    Path((package_id, path)): Path<(String, String)>,
    request: Request,
) -> ApiResult<Response> {
    if path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(ApiError::bad_request("the path must not contain '.' or '..' segments"));
    }
    let (file, disk) = state
        .store
        .package_file(&package_id, &path)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("file {path:?} in package {package_id:?}")))?;
    let mime = mime_guess::from_path(&file.path).first_or_octet_stream();
    let response = tower_http::services::ServeFile::new_with_mime(disk, &mime)
        .oneshot(request)
        .await
        .map_err(|_| ApiError::internal())?;
    let mut response = response.map(Body::new);
    response.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if response.headers().get(CONTENT_TYPE).is_none() {
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    }
    Ok(response)
}
