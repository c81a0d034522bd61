//! HTTP tests: blended learning (issue 6).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use lms_server::{NotificationDelivery, run_outbox_round};
use lms_store::OutboxMessage;
use serde_json::{Value, json};

use crate::support::*;

fn with_body(method: &str, uri: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn delete(uri: &str, token: &str) -> Request<Body> {
    Request::delete(uri).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
}

fn time(days: i64) -> String {
    let t = Utc::now() + Duration::days(days);
    t.format("%Y-%m-%dT09:00:00+01:00").to_string()
}

async fn ok(env: &Env, request: Request<Body>, status: StatusCode) -> Value {
    let reply = send(env, request).await;
    assert_eq!(reply.status, status, "{}", String::from_utf8_lossy(&reply.bytes));
    reply.json()
}

/// Org units CITY > HR, manager M1 heading HR, learner L2 in HR; a classroom course with
/// one offering of `max` seats and one session in ten days. Returns (course, offering, session).
async fn setup(env: &Env, max: u32) -> (i64, i64, i64) {
    let admin = Some(env.admin.as_str());
    ok(env, post_json("/api/org-units", admin, r#"{"id":"CITY","name":"City"}"#), StatusCode::CREATED).await;
    ok(env, post_json("/api/org-units", admin, r#"{"id":"HR","name":"HR","parent_id":"CITY"}"#), StatusCode::CREATED).await;
    for (pn, roles) in [("M1", r#"["manager"]"#), ("L2", r#"["learner"]"#)] {
        let body = format!(r#"{{"personnel_number":"{pn}","name":"{pn}","org_unit":"HR","roles":{roles}}}"#);
        ok(env, post_json("/api/people", admin, &body), StatusCode::CREATED).await;
    }
    ok(env, with_body("PUT", "/api/org-units/HR/head", admin, r#"{"manager":"M1","deputies":[]}"#), StatusCode::OK).await;
    let course = ok(env, post_json("/api/courses", admin, r#"{"title":"Fire safety","kind":"classroom","org_unit":"CITY"}"#), StatusCode::CREATED).await;
    assert_eq!((course["title"].as_str(), course["kind"].as_str(), course["org_unit"].as_str()), (Some("Fire safety"), Some("classroom"), Some("CITY")));
    let course_id = course["id"].as_i64().unwrap();
    let offering = ok(
        env,
        post_json(
            "/api/offerings",
            admin,
            &json!({
                "course_id": course_id,
                "max_participants": max,
                "min_participants": 0,
                "booking_closes_at": time(9),
                "cancellation_deadline": time(8),
            })
            .to_string(),
        ),
        StatusCode::CREATED,
    )
    .await;
    let offering_id = offering["id"].as_i64().unwrap();
    let session = ok(
        env,
        post_json(
            &format!("/api/offerings/{offering_id}/sessions"),
            admin,
            &json!({ "starts_at": time(10), "ends_at": time(10).replace("T09:", "T12:"), "room_id": null, "trainer_ids": [] }).to_string(),
        ),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(session["starts_at"].as_str().map(|s| s.ends_with("08:00:00Z")), Some(true), "{session}");
    (course_id, offering_id, session["id"].as_i64().unwrap())
}

#[tokio::test]
async fn booking_waitlist_cancellation_over_http() {
    let env = env().await;
    let (_, offering, session) = setup(&env, 1).await;
    let bookings = format!("/api/offerings/{offering}/bookings");
    let first = ok(&env, post_json(&bookings, Some(&env.learner), r#"{"personnel_number":"L1"}"#), StatusCode::CREATED).await;
    assert_eq!((first["status"].as_str(), &first["waitlist_position"]), (Some("booked"), &Value::Null));
    let second = ok(&env, post_json(&bookings, Some(&env.admin), r#"{"personnel_number":"L2"}"#), StatusCode::CREATED).await;
    assert_eq!((second["status"].as_str(), second["waitlist_position"].as_u64()), (Some("waitlisted"), Some(1)));
    assert!(first["id"].as_i64().is_some());

    let listed = ok(&env, get(&bookings, Some(&env.admin)), StatusCode::OK).await;
    assert_eq!(listed["bookings"].as_array().map(Vec::len), Some(2));
    ok(&env, get(&bookings, Some(&env.learner)), StatusCode::FORBIDDEN).await;
    // Attendance before the session started is refused; learners may not record it.
    let marks = r#"{"marks":[{"personnel_number":"L1","status":"attended"}]}"#;
    ok(&env, with_body("PUT", &format!("/api/sessions/{session}/attendance"), Some(&env.learner), marks), StatusCode::FORBIDDEN).await;
    let early = ok(&env, with_body("PUT", &format!("/api/sessions/{session}/attendance"), Some(&env.admin), marks), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(early["code"], "invalid_field");

    let cancelled = ok(&env, delete(&format!("/api/bookings/{}", first["id"]), &env.learner), StatusCode::OK).await;
    assert_eq!(cancelled["status"], "cancelled");
    let promoted = ok(&env, get(&format!("/api/bookings/{}", second["id"]), Some(&env.admin)), StatusCode::OK).await;
    assert_eq!((promoted["status"].as_str(), &promoted["waitlist_position"]), (Some("booked"), &Value::Null));
    let again = ok(&env, delete(&format!("/api/bookings/{}", first["id"]), &env.learner), StatusCode::CONFLICT).await;
    assert_eq!(again["code"], "wrong_booking_status");
    let mine = ok(&env, get("/api/people/L1/bookings", Some(&env.learner)), StatusCode::OK).await;
    assert_eq!(mine["bookings"][0]["status"], "cancelled");
}

#[tokio::test]
async fn refusals_name_what_is_wrong() {
    let env = env().await;
    let (course, offering, _) = setup(&env, 5).await;
    let admin = Some(env.admin.as_str());
    let learner = Some(env.learner.as_str());
    let sessions = format!("/api/offerings/{offering}/sessions");
    let bookings = format!("/api/offerings/{offering}/bookings");
    // (request, status, a text the error must contain)
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (post_json(&sessions, admin, r#"{"starts_at":"2027-01-01T09:00:00","ends_at":"2027-01-01T10:00:00"}"#), StatusCode::UNPROCESSABLE_ENTITY, "starts_at"),
        (post_json(&sessions, admin, &json!({"starts_at": time(10), "ends_at": time(10)}).to_string()), StatusCode::UNPROCESSABLE_ENTITY, "ends"),
        (post_json(&sessions, admin, &json!({"starts_at": time(30), "ends_at": time(31), "room_id": 77}).to_string()), StatusCode::UNPROCESSABLE_ENTITY, "room"),
        (post_json(&sessions, learner, &json!({"starts_at": time(30), "ends_at": time(30)}).to_string()), StatusCode::FORBIDDEN, "admin"),
        (post_json("/api/courses", admin, r#"{"title":"X","kind":"webinar","org_unit":"CITY"}"#), StatusCode::UNPROCESSABLE_ENTITY, "kind"),
        (post_json("/api/courses", admin, r#"{"title":"X","kind":"classroom","org_unit":"CITY","colour":"red"}"#), StatusCode::UNPROCESSABLE_ENTITY, "colour"),
        (post_json("/api/courses", admin, r#"{"title":"X","kind":"live_online","org_unit":"CITY"}"#), StatusCode::UNPROCESSABLE_ENTITY, "meeting_url"),
        (post_json("/api/courses", admin, r#"{"title":"X","kind":"classroom","org_unit":"NOPE"}"#), StatusCode::UNPROCESSABLE_ENTITY, "NOPE"),
        (
            post_json("/api/offerings", admin, &json!({"course_id": 999, "max_participants": 5, "min_participants": 0, "booking_closes_at": time(1), "cancellation_deadline": time(1)}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "course_id",
        ),
        (
            post_json("/api/offerings", admin, &json!({"course_id": course, "max_participants": 2, "min_participants": 3, "booking_closes_at": time(1), "cancellation_deadline": time(1)}).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "min_participants",
        ),
        (post_json(&bookings, learner, r#"{"personnel_number":"L2"}"#), StatusCode::FORBIDDEN, "L2"),
        (post_json(&bookings, learner, r#"{"personnel_number":"L1","seat":3}"#), StatusCode::UNPROCESSABLE_ENTITY, "seat"),
        (post_json("/api/offerings/999/bookings", admin, r#"{"personnel_number":"L1"}"#), StatusCode::NOT_FOUND, "offering 999"),
        (with_body("PUT", "/api/org-units/HR/head", admin, r#"{"manager":"NOBODY"}"#), StatusCode::UNPROCESSABLE_ENTITY, "NOBODY"),
        (get("/api/people/M1/team", learner), StatusCode::FORBIDDEN, "person themself"),
        (get("/api/people/L2/history", learner), StatusCode::FORBIDDEN, "managers"),
        (get("/api/audit/views", learner), StatusCode::FORBIDDEN, "admin"),
    ];
    for (request, status, text) in cases {
        let uri = request.uri().to_string();
        let reply = send(&env, request).await;
        let body = String::from_utf8_lossy(&reply.bytes).to_string();
        assert_eq!(reply.status, status, "{uri}: {body}");
        assert!(body.contains(text), "{uri}: {body} should mention {text:?}");
        assert!(reply.json()["error"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn calendar_history_and_team_view() {
    let env = env().await;
    let (_, offering, _) = setup(&env, 5).await;
    ok(&env, post_json(&format!("/api/offerings/{offering}/bookings"), Some(&env.admin), r#"{"personnel_number":"L2"}"#), StatusCode::CREATED).await;
    let issued = ok(&env, post_json("/api/people/L2/calendar-token", Some(&env.admin), ""), StatusCode::CREATED).await;
    let token = issued["token"].as_str().unwrap().to_string();
    assert!(issued["url"].as_str().unwrap().ends_with(&format!("/api/people/L2/calendar.ics?token={token}")));
    let feed = send(&env, get(&format!("/api/people/L2/calendar.ics?token={token}"), None)).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.headers[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
    let text = String::from_utf8(feed.bytes).unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR") && text.contains("SUMMARY:Fire safety") && text.contains("TZID=Europe/Berlin"), "{text}");
    assert_eq!(send(&env, get("/api/people/L2/calendar.ics?token=nope", None)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&env, get("/api/people/L2/calendar.ics", None)).await.status, StatusCode::UNAUTHORIZED);
    ok(&env, post_json("/api/people/L2/calendar-token", Some(&env.learner), ""), StatusCode::FORBIDDEN).await;

    // The manager signs in with a token of their own.
    let manager = env.state.store.create_api_token("M1", "test").await.unwrap();
    let history = ok(&env, get("/api/people/L2/history", Some(&manager)), StatusCode::OK).await;
    assert_eq!(history["personnel_number"], "L2");
    for field in ["completed_offerings", "e_learning", "mandatory", "learning_paths"] {
        assert!(history[field].is_array(), "{field}: {history}");
    }
    let team = ok(&env, get("/api/people/M1/team", Some(&manager)), StatusCode::OK).await;
    assert_eq!(team["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(team["members"][0]["person"], "L2");
    assert_eq!(team["members"][0]["records"]["bookings"][0]["status"], "booked");
    let text = team.to_string();
    assert!(!text.contains("score") && !text.contains("time_spent"), "{text}");
    let audit = ok(&env, get("/api/audit/views", Some(&env.admin)), StatusCode::OK).await;
    let views: Vec<(&str, &str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["viewer"].as_str().unwrap(), e["view"].as_str().unwrap(), e["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(views, [("M1", "team", "M1"), ("M1", "history", "L2")]);
}

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<String>>);

impl NotificationDelivery for Recorder {
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            self.0.lock().unwrap().push(format!("{}:{}", message.recipient, message.kind));
            Ok(())
        })
    }
}

#[tokio::test]
async fn outbox_round_delivers_each_notification_once() {
    let env = env().await;
    let (_, offering, _) = setup(&env, 1).await;
    for pn in ["L1", "L2"] {
        ok(&env, post_json(&format!("/api/offerings/{offering}/bookings"), Some(&env.admin), &format!(r#"{{"personnel_number":"{pn}"}}"#)), StatusCode::CREATED).await;
    }
    let recorder = Arc::new(Recorder::default());
    let mut state = env.state.clone();
    state.notifier = recorder.clone();
    let round = run_outbox_round(&state, true).await.unwrap();
    assert_eq!((round.delivered, round.failed), (2, 0));
    assert_eq!(*recorder.0.lock().unwrap(), ["L1:booking_confirmed", "L2:waitlisted"]);
    assert_eq!(run_outbox_round(&state, false).await.unwrap().delivered, 0);
    let mine = ok(&env, get("/api/people/L2/notifications", Some(&env.admin)), StatusCode::OK).await;
    assert!(mine["notifications"][0]["delivered_at"].is_string(), "{mine}");
}
