//! Blended learning (issue 6): catalogue, offerings, sessions, bookings with waitlist and
//! approval, attendance, training history, calendar feed, team view, learning paths and
//! mandatory training over HTTP. The README section "Blended learning" lists every route
//! and field. Instants in and out are RFC 3339 with an offset.

mod delivery;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use lms_schedule::ScheduleError;
use lms_schedule::attendance::CompletionRule;
use lms_schedule::booking::Actor;
use lms_schedule::catalogue::{CourseKind, Visibility};
use lms_schedule::ical::IcsContext;
use lms_schedule::ids::{CourseId, LearningPathId, OrgUnitId, PackageId, PersonId, RoleId, StepId};
use lms_schedule::mandatory::AssignmentScope;
use lms_schedule::path::{LearningPath, PathOrder, PathStep, StepTarget};
use lms_store::{AttendanceInput, NewCourse, NewOffering, NewRequirement, NewRoom, NewSession, Role, SchedulePolicy};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

pub use delivery::{LogDelivery, NotificationDelivery, OutboxRound, outbox_task, run_outbox_round};

/// Settings of blended learning.
#[derive(Clone, Debug)]
pub struct ScheduleSettings {
    pub policy: SchedulePolicy,
    /// Who sends invitations and how event UIDs are qualified.
    pub ics: IcsContext,
    /// Public base URL used in the calendar-feed link, e.g. `https://lms.example.org`.
    pub public_base_url: String,
    /// How often the background task runs (duties and outbox delivery).
    pub outbox_interval: Duration,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        ScheduleSettings {
            policy: SchedulePolicy::default(),
            ics: IcsContext {
                prodid: "-//LMS//Blended learning//EN".into(),
                uid_domain: "lms.invalid".into(),
                organizer_email: "training@lms.invalid".into(),
                organizer_name: "Training".into(),
            },
            public_base_url: String::new(),
            outbox_interval: Duration::from_secs(30),
        }
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/courses", post(create_course).get(list_courses))
        .route("/api/courses/{id}", get(get_course))
        .route("/api/rooms", post(create_room).get(list_rooms))
        .route("/api/offerings", post(create_offering).get(list_offerings))
        .route("/api/offerings/{id}", get(get_offering))
        .route("/api/offerings/{id}/capacity", put(change_capacity))
        .route("/api/offerings/{id}/sessions", post(add_session))
        .route("/api/offerings/{id}/bookings", post(book).get(list_bookings))
        .route("/api/bookings/{id}", get(get_booking).delete(cancel_booking))
        .route("/api/bookings/{id}/approve", post(approve_booking))
        .route("/api/bookings/{id}/reject", post(reject_booking))
        .route("/api/sessions/{id}/attendance", put(record_attendance))
        .route("/api/org-units/{id}/head", put(set_unit_head))
        .route("/api/people/{personnel_number}/absences", post(add_absence))
        .route("/api/people/{personnel_number}/bookings", get(person_bookings))
        .route("/api/people/{personnel_number}/history", get(history))
        .route("/api/people/{personnel_number}/team", get(team))
        .route("/api/people/{personnel_number}/notifications", get(notifications))
        .route("/api/people/{personnel_number}/calendar-token", post(calendar_token))
        .route("/api/people/{personnel_number}/calendar.ics", get(calendar_feed))
        .route("/api/learning-paths", post(create_path))
        .route("/api/learning-paths/{id}/enrollments", post(enroll))
        .route("/api/mandatory-requirements", post(create_requirement))
        .route("/api/audit/views", get(audit_log))
}

/// Store errors, with the scheduling rules' refusals mapped to precise statuses and a
/// machine-readable `code`.
fn api(error: lms_store::Error) -> ApiError {
    match error {
        lms_store::Error::Schedule(e) => {
            use ScheduleError as S;
            let (status, code) = match &e {
                S::NonexistentLocalTime { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "nonexistent_local_time"),
                S::AmbiguousLocalTime { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "ambiguous_local_time"),
                S::InvalidTimestamp { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_timestamp"),
                S::InvalidField { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
                S::SessionEndsBeforeStart { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "session_ends_before_start"),
                S::RoomTooSmall { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "room_too_small"),
                S::UnknownRoom { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_room"),
                S::UnknownOrgUnit { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_org_unit"),
                S::InvalidPath { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_path"),
                S::OrgTreeCycle { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "org_tree_cycle"),
                S::Clash { .. } => (StatusCode::CONFLICT, "clash"),
                S::AlreadyBooked { .. } => (StatusCode::CONFLICT, "already_booked"),
                S::DuplicateBookingId { .. } => (StatusCode::CONFLICT, "duplicate_booking_id"),
                S::WrongBookingStatus { .. } => (StatusCode::CONFLICT, "wrong_booking_status"),
                S::BookingWindowClosed { .. } => (StatusCode::CONFLICT, "booking_window_closed"),
                S::OfferingStarted { .. } => (StatusCode::CONFLICT, "offering_started"),
                S::OfferingWithoutSessions => (StatusCode::CONFLICT, "offering_without_sessions"),
                S::CancellationDeadlinePassed { .. } => (StatusCode::CONFLICT, "cancellation_deadline_passed"),
                S::NoApprover { .. } => (StatusCode::CONFLICT, "no_approver"),
                S::UnknownPerson { .. } => (StatusCode::NOT_FOUND, "unknown_person"),
                S::UnknownBooking { .. } => (StatusCode::NOT_FOUND, "unknown_booking"),
                S::NotTheApprover { .. } => (StatusCode::FORBIDDEN, "not_the_approver"),
                S::NotOwnBooking { .. } => (StatusCode::FORBIDDEN, "not_own_booking"),
                S::NotVisible { .. } => (StatusCode::FORBIDDEN, "not_visible"),
                S::Ical { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "ical"),
                _ => (StatusCode::UNPROCESSABLE_ENTITY, "refused"),
            };
            ApiError::new(status, e.to_string()).with(json!({ "code": code }))
        }
        other => ApiError::from(other),
    }
}

fn unprocessable(field: &str, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("{field}: {message}")).with(json!({ "field": field }))
}

fn instant(field: &str, text: &str) -> ApiResult<DateTime<Utc>> {
    lms_schedule::time::parse_rfc3339(text).map_err(|e| unprocessable(field, e))
}

fn to_value<T: serde::Serialize>(value: &T) -> ApiResult<axum::Json<Value>> {
    serde_json::to_value(value).map(axum::Json).map_err(|_| ApiError::internal())
}

fn created<T: serde::Serialize>(value: &T) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    Ok((StatusCode::CREATED, to_value(value)?))
}

fn actor(caller: &Caller) -> Actor {
    let me = PersonId(caller.0.personnel_number.clone());
    if caller.0.has_role(Role::Admin) { Actor::Admin(me) } else { Actor::Person(me) }
}

fn is_admin(caller: &Caller) -> bool {
    caller.0.has_role(Role::Admin)
}

fn self_or_admin(caller: &Caller, personnel_number: &str) -> ApiResult<()> {
    if caller.0.personnel_number == personnel_number || is_admin(caller) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only the person themself or an admin may do this"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Paging {
    limit: Option<i64>,
    offset: Option<i64>,
    course_id: Option<i64>,
}

fn paging(query: Result<Query<Paging>, axum::extract::rejection::QueryRejection>) -> ApiResult<(i64, i64, Option<i64>)> {
    let Query(p) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok((p.limit.unwrap_or(100).clamp(1, 1000), p.offset.unwrap_or(0).max(0), p.course_id))
}

// ---- catalogue ------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCourse {
    title: String,
    /// `e_learning`, `classroom`, `live_online` or `blended`.
    kind: String,
    org_unit: String,
    package_id: Option<String>,
    meeting_url: Option<String>,
    learning_path_id: Option<i64>,
    /// Absent or null: city-wide.
    visible_to: Option<Vec<String>>,
    description: Option<String>,
}

async fn create_course(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateCourse>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.require(&[Role::Admin])?;
    let missing = |field: &str| unprocessable(field, format!("is required for kind {:?}", body.kind));
    let kind = match body.kind.as_str() {
        "e_learning" => CourseKind::ELearning { package_id: PackageId(body.package_id.clone().ok_or_else(|| missing("package_id"))?) },
        "classroom" => CourseKind::Classroom,
        "live_online" => CourseKind::LiveOnline { meeting_url: body.meeting_url.clone().ok_or_else(|| missing("meeting_url"))? },
        "blended" => CourseKind::Blended {
            learning_path_id: LearningPathId(
                body.learning_path_id.and_then(|i| u64::try_from(i).ok()).ok_or_else(|| missing("learning_path_id"))?,
            ),
        },
        other => return Err(unprocessable("kind", format!("{other:?} is not one of e_learning, classroom, live_online, blended"))),
    };
    let visibility = match body.visible_to {
        None => Visibility::CityWide,
        Some(units) => Visibility::OrgUnits(units.into_iter().map(OrgUnitId).collect()),
    };
    let course = state
        .store
        .create_course(&NewCourse { title: body.title, kind, org_unit: body.org_unit, visibility, description: body.description })
        .await
        .map_err(api)?;
    created(&course)
}

async fn list_courses(
    State(state): State<AppState>,
    _caller: Caller,
    query: Result<Query<Paging>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<Value>> {
    let (limit, offset, _) = paging(query)?;
    Ok(axum::Json(json!({ "courses": state.store.list_courses(limit, offset).await.map_err(api)? })))
}

async fn get_course(State(state): State<AppState>, _caller: Caller, Path(id): Path<i64>) -> ApiResult<axum::Json<Value>> {
    let course = state.store.course(id).await.map_err(api)?.ok_or_else(|| ApiError::not_found(format!("course {id}")))?;
    to_value(&course)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRoom {
    name: String,
    capacity: u32,
    location: Option<String>,
}

async fn create_room(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateRoom>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.require(&[Role::Admin])?;
    let room = state.store.create_room(&NewRoom { name: body.name, capacity: body.capacity, location: body.location }).await.map_err(api)?;
    created(&room)
}

async fn list_rooms(State(state): State<AppState>, _caller: Caller) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(json!({ "rooms": state.store.list_rooms().await.map_err(api)? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOffering {
    course_id: i64,
    max_participants: u32,
    #[serde(default)]
    min_participants: u32,
    booking_opens_at: Option<String>,
    booking_closes_at: String,
    cancellation_deadline: String,
    #[serde(default)]
    requires_approval: bool,
    min_attended_percent: Option<u8>,
    partly_weight_percent: Option<u8>,
}

async fn create_offering(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<CreateOffering>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.require(&[Role::Admin])?;
    let default = CompletionRule::default();
    let new = NewOffering {
        course_id: body.course_id,
        min_participants: body.min_participants,
        max_participants: body.max_participants,
        booking_opens_at: body.booking_opens_at.as_deref().map(|t| instant("booking_opens_at", t)).transpose()?,
        booking_closes_at: instant("booking_closes_at", &body.booking_closes_at)?,
        cancellation_deadline: instant("cancellation_deadline", &body.cancellation_deadline)?,
        requires_approval: body.requires_approval,
        completion: CompletionRule {
            min_attended_percent: body.min_attended_percent.unwrap_or(default.min_attended_percent),
            partly_weight_percent: body.partly_weight_percent.unwrap_or(default.partly_weight_percent),
        },
    };
    created(&state.store.create_offering(&new).await.map_err(api)?)
}

async fn list_offerings(
    State(state): State<AppState>,
    _caller: Caller,
    query: Result<Query<Paging>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<Value>> {
    let (limit, offset, course) = paging(query)?;
    Ok(axum::Json(json!({ "offerings": state.store.list_offerings(course, limit, offset).await.map_err(api)? })))
}

async fn get_offering(State(state): State<AppState>, _caller: Caller, Path(id): Path<i64>) -> ApiResult<axum::Json<Value>> {
    to_value(&state.store.offering(id).await.map_err(api)?.ok_or_else(|| ApiError::not_found(format!("offering {id}")))?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Capacity {
    max_participants: u32,
}

async fn change_capacity(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>, ApiJson(body): ApiJson<Capacity>) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    let changed = state.store.change_max_participants(id, body.max_participants, &state.config.schedule.policy).await.map_err(api)?;
    Ok(axum::Json(json!({ "offering": state.store.offering(id).await.map_err(api)?, "changed_bookings": changed })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSession {
    starts_at: String,
    ends_at: String,
    room_id: Option<i64>,
    #[serde(default)]
    trainer_ids: Vec<String>,
}

async fn add_session(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>, ApiJson(body): ApiJson<CreateSession>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.require(&[Role::Admin])?;
    let new = NewSession {
        starts_at: instant("starts_at", &body.starts_at)?,
        ends_at: instant("ends_at", &body.ends_at)?,
        room_id: body.room_id,
        trainer_ids: body.trainer_ids,
    };
    created(&state.store.add_session(id, &new).await.map_err(api)?)
}

// ---- bookings ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BookBody {
    personnel_number: String,
}

async fn book(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>, ApiJson(body): ApiJson<BookBody>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let booking = state.store.book(id, body.personnel_number.trim(), actor(&caller), &state.config.schedule.policy).await.map_err(api)?;
    created(&booking)
}

/// Admins, and trainers of one of the offering's sessions.
async fn may_manage_offering(state: &AppState, caller: &Caller, offering: i64) -> ApiResult<()> {
    if is_admin(caller) {
        return Ok(());
    }
    let record = state.store.offering(offering).await.map_err(api)?.ok_or_else(|| ApiError::not_found(format!("offering {offering}")))?;
    if record.sessions.iter().any(|s| s.trainer_ids.contains(&caller.0.personnel_number)) {
        Ok(())
    } else {
        Err(ApiError::forbidden("only admins and the offering's trainers may do this"))
    }
}

async fn list_bookings(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<axum::Json<Value>> {
    may_manage_offering(&state, &caller, id).await?;
    Ok(axum::Json(json!({ "bookings": state.store.list_bookings(id).await.map_err(api)? })))
}

async fn get_booking(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<axum::Json<Value>> {
    let booking = state.store.booking(id).await.map_err(api)?.ok_or_else(|| ApiError::not_found(format!("booking {id}")))?;
    if booking.personnel_number != caller.0.personnel_number && booking.approver.as_deref() != Some(caller.0.personnel_number.as_str()) {
        may_manage_offering(&state, &caller, booking.offering_id).await?;
    }
    to_value(&booking)
}

async fn cancel_booking(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<axum::Json<Value>> {
    to_value(&state.store.cancel_booking(id, actor(&caller), &state.config.schedule.policy).await.map_err(api)?)
}

async fn approve_booking(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<axum::Json<Value>> {
    to_value(&state.store.approve_booking(id, actor(&caller), &state.config.schedule.policy).await.map_err(api)?)
}

async fn reject_booking(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> ApiResult<axum::Json<Value>> {
    to_value(&state.store.reject_booking(id, actor(&caller), &state.config.schedule.policy).await.map_err(api)?)
}

async fn person_bookings(State(state): State<AppState>, caller: Caller, Path(pn): Path<String>) -> ApiResult<axum::Json<Value>> {
    self_or_admin(&caller, &pn)?;
    Ok(axum::Json(json!({ "bookings": state.store.bookings_of(&pn).await.map_err(api)? })))
}

// ---- attendance ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttendanceBody {
    marks: Vec<AttendanceInput>,
}

async fn record_attendance(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>, ApiJson(body): ApiJson<AttendanceBody>) -> ApiResult<axum::Json<Value>> {
    let offering = state.store.session_offering(id).await.map_err(api)?.ok_or_else(|| ApiError::not_found(format!("session {id}")))?;
    may_manage_offering(&state, &caller, offering).await?;
    if body.marks.len() > 10_000 {
        return Err(unprocessable("marks", "at most 10000 marks per request"));
    }
    to_value(&state.store.record_attendance(id, &body.marks, &caller.0.personnel_number).await.map_err(api)?)
}

// ---- org: heads, deputies, absences --------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadBody {
    manager: String,
    #[serde(default)]
    deputies: Vec<String>,
}

async fn set_unit_head(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, ApiJson(body): ApiJson<HeadBody>) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    state.store.set_unit_head(&id, &body.manager, &body.deputies).await.map_err(api)?;
    Ok(axum::Json(json!({ "org_unit": id, "manager": body.manager, "deputies": body.deputies })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AbsenceBody {
    first_day: NaiveDate,
    last_day: NaiveDate,
}

async fn add_absence(State(state): State<AppState>, caller: Caller, Path(pn): Path<String>, ApiJson(body): ApiJson<AbsenceBody>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    self_or_admin(&caller, &pn)?;
    let id = state.store.add_absence(&pn, body.first_day, body.last_day).await.map_err(api)?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": id, "personnel_number": pn, "first_day": body.first_day, "last_day": body.last_day }))))
}

// ---- history, team view, notifications, audit ---------------------------------------------

/// The person themself and admins; a manager for a direct or indirect report (audited).
async fn history(State(state): State<AppState>, caller: Caller, Path(pn): Path<String>) -> ApiResult<axum::Json<Value>> {
    let now = Utc::now();
    let me = caller.0.personnel_number.clone();
    if me != pn && !is_admin(&caller) {
        if !state.store.is_report_of(&me, &pn, now).await.map_err(api)? {
            return Err(ApiError::forbidden("only the person, an admin, or one of their managers may see this history"));
        }
    }
    let history = state.store.person_history(&pn, now).await.map_err(api)?;
    if me != pn {
        state.store.audit_view(&me, "history", &pn, 1, now).await.map_err(api)?;
    }
    to_value(&history)
}

/// A manager's own team, or any manager's for an admin; every view is audited.
async fn team(State(state): State<AppState>, caller: Caller, Path(pn): Path<String>) -> ApiResult<axum::Json<Value>> {
    self_or_admin(&caller, &pn)?;
    to_value(&state.store.team_view(&pn, &caller.0.personnel_number, Utc::now()).await.map_err(api)?)
}

async fn notifications(State(state): State<AppState>, caller: Caller, Path(pn): Path<String>) -> ApiResult<axum::Json<Value>> {
    self_or_admin(&caller, &pn)?;
    Ok(axum::Json(json!({ "notifications": state.store.notifications_for(&pn, 200).await.map_err(api)? })))
}

async fn audit_log(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(json!({ "entries": state.store.view_audit_log(1000).await.map_err(api)? })))
}

// ---- calendar ------------------------------------------------------------------------------

async fn calendar_token(State(state): State<AppState>, caller: Caller, Path(pn): Path<String>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    self_or_admin(&caller, &pn)?;
    let token = state.store.rotate_calendar_token(&pn).await.map_err(api)?;
    let url = format!("{}/api/people/{pn}/calendar.ics?token={token}", state.config.schedule.public_base_url.trim_end_matches('/'));
    Ok((StatusCode::CREATED, axum::Json(json!({ "token": token, "url": url }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenQuery {
    token: String,
}

/// No sign-in: calendar programs fetch it with the secret token from the URL.
async fn calendar_feed(
    State(state): State<AppState>,
    Path(pn): Path<String>,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|_| ApiError::new(StatusCode::UNAUTHORIZED, "the feed URL needs its ?token=…"))?;
    let feed = state
        .store
        .calendar_feed(&pn, &q.token, &state.config.schedule.ics, Utc::now())
        .await
        .map_err(api)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no calendar feed for this token"))?;
    let mut response = feed.into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(response)
}

// ---- learning paths and mandatory training ---------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    id: String,
    /// `e_learning` (with `package_id`) or `offering` (with `course_id`).
    kind: String,
    package_id: Option<String>,
    course_id: Option<i64>,
    #[serde(default)]
    prerequisites: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathBody {
    title: String,
    /// `ordered` or `unordered`.
    order: String,
    steps: Vec<StepBody>,
}

async fn create_path(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<PathBody>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.require(&[Role::Admin])?;
    let order = match body.order.as_str() {
        "ordered" => PathOrder::Ordered,
        "unordered" => PathOrder::Unordered,
        other => return Err(unprocessable("order", format!("{other:?} is not ordered or unordered"))),
    };
    let mut steps = Vec::with_capacity(body.steps.len());
    for step in body.steps {
        let target = match (step.kind.as_str(), step.package_id, step.course_id) {
            ("e_learning", Some(p), None) => StepTarget::ELearning { package_id: PackageId(p) },
            ("offering", None, Some(c)) if c > 0 => StepTarget::Offering { course_id: CourseId(c as u64) },
            _ => {
                return Err(unprocessable(
                    "steps",
                    format!("step {:?}: kind e_learning needs package_id, kind offering needs course_id", step.id),
                ));
            }
        };
        steps.push(PathStep {
            id: StepId(step.id),
            target,
            prerequisites: step.prerequisites.into_iter().map(StepId).collect::<BTreeSet<_>>(),
        });
    }
    let path = LearningPath { id: LearningPathId(0), order, steps };
    let id = state.store.create_learning_path(&body.title, &path).await.map_err(api)?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": id, "title": body.title.trim() }))))
}

async fn enroll(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>, ApiJson(body): ApiJson<BookBody>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    self_or_admin(&caller, &body.personnel_number)?;
    created(&state.store.enroll_in_path(id, &body.personnel_number).await.map_err(api)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeBody {
    /// `org_unit` or `role`.
    kind: String,
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementBody {
    title: String,
    satisfied_by: Vec<i64>,
    assigned_to: Vec<ScopeBody>,
    validity_months: Option<u32>,
    #[serde(default)]
    recertification_window_days: u32,
    #[serde(default)]
    initial_deadline_days: u32,
}

async fn create_requirement(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<RequirementBody>) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.require(&[Role::Admin])?;
    let mut scopes = Vec::new();
    for scope in body.assigned_to {
        scopes.push(match scope.kind.as_str() {
            "org_unit" => AssignmentScope::OrgUnit(OrgUnitId(scope.id)),
            "role" => AssignmentScope::Role(RoleId(scope.id)),
            other => return Err(unprocessable("assigned_to", format!("kind {other:?} is not org_unit or role"))),
        });
    }
    let id = state
        .store
        .create_requirement(&NewRequirement {
            title: body.title,
            satisfied_by: body.satisfied_by,
            assigned_to: scopes,
            validity_months: body.validity_months,
            recertification_window_days: body.recertification_window_days,
            initial_deadline_days: body.initial_deadline_days,
        })
        .await
        .map_err(api)?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": id }))))
}
