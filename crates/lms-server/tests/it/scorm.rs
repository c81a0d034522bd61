//! HTTP tests: SCORM player and commits (issue 3), and the parity of the browser run-time
//! (`assets/scorm/rte.js`, run with Node) with the Rust run-time on the ADL conformance-suite
//! calls and on a generated SCORM 1.2 matrix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use lms_rte::{Attempt, AttemptConfig, Call, DataModel, ScormVersion, UnixMillis};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::foundation::zip_bytes;
use crate::support::*;

const MANIFEST_2004: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.player" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Player test</title>
    <item identifier="one" identifierref="r1"><title>One</title></item>
    <item identifier="two" identifierref="r2"><title>Two</title></item>
    <imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>
  </organization></organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="one.html"><file href="one.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormType="sco" href="two.html?x=1"><file href="two.html"/></resource>
  </resources>
</manifest>"#;

async fn upload(env: &Env) -> String {
    let zip = zip_bytes(&[
        ("imsmanifest.xml", MANIFEST_2004.as_bytes()),
        ("one.html", b"<p>one</p>"),
        ("two.html", b"<p>two</p>"),
    ]);
    let r = send(env, post_zip(&env.author, zip)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
    r.json()["id"].as_str().unwrap().to_string()
}

const MANIFEST_12: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.player12" version="1"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/imscp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Player test 1.2</title>
    <item identifier="one" identifierref="r1"><title>One</title></item>
    <item identifier="two" identifierref="r2"><title>Two</title></item>
  </organization></organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="one.html"><file href="one.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" href="two.html"><file href="two.html"/></resource>
  </resources>
</manifest>"#;

async fn upload_12(env: &Env) -> String {
    let zip = zip_bytes(&[
        ("imsmanifest.xml", MANIFEST_12.as_bytes()),
        ("one.html", b"<p>one</p>"),
        ("two.html", b"<p>two</p>"),
    ]);
    let r = send(env, post_zip(&env.author, zip)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
    r.json()["id"].as_str().unwrap().to_string()
}

async fn send_content(env: &Env, request: Request<Body>) -> Reply {
    let response = lms_server::content_app(env.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, bytes }
}

fn commit_request(frame_url: &str, batches: Value) -> Request<Body> {
    let (path, token) = frame_url.split_once("?token=").unwrap();
    let session = path.rsplit('/').next().unwrap();
    Request::post(format!("/scorm/commit/{session}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(json!({ "token": token, "batches": batches }).to_string()))
        .unwrap()
}

/// The JSON the content frame starts the browser run-time from.
fn frame_config(r: &Reply) -> Value {
    let html = String::from_utf8_lossy(&r.bytes);
    let start = html.find("id=\"lms-frame-config\">").unwrap() + "id=\"lms-frame-config\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[tokio::test]
async fn registration_rules() {
    let env = env().await;
    let package_id = upload(&env).await;
    let body = json!({ "package_id": package_id, "personnel_number": "L1" }).to_string();
    // the learner themself
    let r = send(&env, post_json("/api/registrations", Some(&env.learner), &body)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["launch_url"], format!("/player/{id}"));
    // someone else may not register the learner; an admin may
    let r = send(&env, post_json("/api/registrations", Some(&env.author), &body)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&env, post_json("/api/registrations", Some(&env.admin), &body)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // bad input
    let r = send(&env, post_json("/api/registrations", Some(&env.admin), r#"{"package_id":"x","personnel_number":"L1"}"#)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let bad = json!({ "package_id": package_id, "personnel_number": "L1", "after_completion": "again" }).to_string();
    let r = send(&env, post_json("/api/registrations", Some(&env.learner), &bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(&env, post_json("/api/registrations", Some(&env.learner), r#"{"package_id":"x","personnel_number":"L1","extra":1}"#)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // the report and the player page: the learner and admins, nobody else
    let r = send(&env, get(&format!("/api/registrations/{id}"), Some(&env.author))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&env, get(&format!("/api/registrations/{id}"), Some(&env.learner))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["completion"], "not_attempted");
    assert_eq!(r.json()["scos"], json!([]));
    let r = send(&env, get(&format!("/player/{id}"), None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = send(&env, get(&format!("/player/{id}"), Some(&env.learner))).await;
    assert_eq!(r.status, StatusCode::OK);
    let page = String::from_utf8_lossy(&r.bytes);
    assert!(page.contains("\"item_id\":\"two\"") && page.contains("function navigate("), "{page}");
    // the main origin does not serve the content frame or commits
    let r = send(&env, get("/scorm/frame/x?token=y", None)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn play_commit_resume_and_navigate() {
    let env = env().await;
    let package_id = upload(&env).await;
    let body = json!({ "package_id": package_id, "personnel_number": "L1" }).to_string();
    let id = send(&env, post_json("/api/registrations", Some(&env.learner), &body)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sessions = format!("/api/registrations/{id}/sessions");
    let r = send(&env, post_json(&sessions, Some(&env.learner), "{}")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(r.json()["item_id"], "one");
    let frame_url = r.json()["frame_url"].as_str().unwrap().to_string();
    // the content frame carries the start state and the SCO's URL
    let frame = send_content(&env, get(&frame_url, None)).await;
    assert_eq!(frame.status, StatusCode::OK);
    let config = frame_config(&frame);
    assert_eq!(config["sco_url"], format!("/content/{package_id}/one.html"));
    assert_eq!(config["attempt"]["data"]["entry"], "ab-initio");
    let html = String::from_utf8_lossy(&frame.bytes);
    assert!(html.contains("API_1484_11") && html.contains("keepalive"));
    let r = send_content(&env, get(&format!("/content/{package_id}/one.html"), None)).await;
    assert_eq!((r.status, r.bytes.as_slice()), (StatusCode::OK, b"<p>one</p>".as_slice()));
    let r = send_content(&env, get("/scorm/frame/nope?token=x", None)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let batches = json!([
        { "seq": 1, "calls": [["Initialize", ""], ["SetValue", "cmi.location", "p4"], ["SetValue", "cmi.suspend_data", "sd"],
                              ["SetValue", "cmi.score.scaled", "0.5"], ["Commit", ""]] },
        { "seq": 2, "calls": [["SetValue", "cmi.exit", "suspend"], ["SetValue", "cmi.session_time", "PT2M"], ["Terminate", ""]] }
    ]);
    let r = send_content(&env, commit_request(&frame_url, batches.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!((r.json()["acked_seq"].as_i64(), r.json()["terminated"].as_bool()), (Some(2), Some(true)));
    // a retry is acknowledged, not applied again
    let r = send_content(&env, commit_request(&frame_url, batches)).await;
    assert_eq!((r.json()["acked_seq"].as_i64(), r.json()["applied"].clone()), (Some(2), json!([])));
    // a reloaded frame of a finished session does not start over
    let r = send_content(&env, get(&frame_url, None)).await;
    assert_eq!(r.status, StatusCode::GONE);

    let report = send(&env, get(&format!("/api/registrations/{id}"), Some(&env.learner))).await.json();
    assert_eq!(report["completion"], "incomplete", "{report}");
    assert_eq!(report["score"]["scaled"], 0.5);
    assert_eq!(report["total_time"], "PT2M");
    assert_eq!(report["attempts"], 1);
    assert_eq!(report["scos"][0]["item_id"], "one");
    assert_eq!(report["scos"][0]["cmi"]["cmi.location"], "p4");
    assert_eq!(report["scos"][0]["cmi"]["cmi.suspend_data"], "sd");

    // resume: back to the last item, entry = resume
    let r = send(&env, post_json(&sessions, Some(&env.learner), r#"{"request":"resume"}"#)).await;
    assert_eq!(r.json()["item_id"], "one");
    let frame_url = r.json()["frame_url"].as_str().unwrap().to_string();
    let config = frame_config(&send_content(&env, get(&frame_url, None)).await);
    assert_eq!(config["attempt"]["data"]["entry"], "resume");
    assert_eq!(config["attempt"]["data"]["location"], "p4");
    // navigation through the sequencer (flow is on at the root)
    let r = send(&env, post_json(&sessions, Some(&env.learner), r#"{"request":"continue","current":"one"}"#)).await;
    assert_eq!(r.json()["item_id"], "two");
    let frame_url_two = r.json()["frame_url"].as_str().unwrap().to_string();
    let config = frame_config(&send_content(&env, get(&frame_url_two, None)).await);
    assert_eq!(config["sco_url"], format!("/content/{package_id}/two.html?x=1"));
    let r = send(&env, post_json(&sessions, Some(&env.learner), r#"{"request":"continue","current":"two"}"#)).await;
    assert_eq!(r.json()["end"], true);
    let r = send(&env, post_json(&sessions, Some(&env.learner), r#"{"request":"choice","target":"one"}"#)).await;
    assert_eq!(r.json()["item_id"], "one");
    let r = send(&env, post_json(&sessions, Some(&env.learner), r#"{"request":"jump"}"#)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // the superseded session of item one may not commit any more
    let late = json!([{ "seq": 1, "calls": [["Initialize", ""], ["Commit", ""]] }]);
    let r = send_content(&env, commit_request(&frame_url, late)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // wrong tokens and broken bodies
    let r = send_content(&env, commit_request(&frame_url.replace("token=", "token=x"), json!([]))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send_content(
        &env,
        Request::post("/scorm/commit/x").header(header::CONTENT_TYPE, "text/plain").body(Body::from("{")).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn after_completion_new_attempt_or_review() {
    // SCORM 1.2 (SCORM 2004 courses follow their sequencing instead)
    for (policy, review, attempts) in [("new_attempt", false, 2), ("review", true, 1)] {
        let env = env().await;
        let package_id = upload_12(&env).await;
        let body = json!({ "package_id": package_id, "personnel_number": "L1", "after_completion": policy }).to_string();
        let id = send(&env, post_json("/api/registrations", Some(&env.admin), &body)).await.json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let sessions = format!("/api/registrations/{id}/sessions");
        for item in ["one", "two"] {
            let r = send(&env, post_json(&sessions, Some(&env.learner), &json!({"request":"choice","target":item}).to_string())).await;
            let url = r.json()["frame_url"].as_str().unwrap().to_string();
            let done = json!([{ "seq": 1, "calls": [["LMSInitialize", ""], ["LMSSetValue", "cmi.core.lesson_status", "passed"],
                                                   ["LMSFinish", ""]] }]);
            assert_eq!(send_content(&env, commit_request(&url, done)).await.status, StatusCode::OK);
        }
        let report = send(&env, get(&format!("/api/registrations/{id}"), Some(&env.learner))).await.json();
        assert_eq!((report["completion"].as_str(), report["success"].as_str()), (Some("completed"), Some("passed")));
        let r = send(&env, post_json(&sessions, Some(&env.learner), "{}")).await;
        assert_eq!(r.json()["review"], review, "{policy}");
        assert_eq!(r.json()["attempt"], attempts, "{policy}");
        let report = send(&env, get(&format!("/api/registrations/{id}"), Some(&env.learner))).await.json();
        assert_eq!(report["attempts"], attempts);
    }
}

// ---- parity of the browser run-time with the Rust run-time -----------------------------------------

fn corpus() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if path.is_dir() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("the shared corpus is missing at {}", path.display());
    }
    eprintln!("!!! SKIPPING the CTS parity check: {} is missing", path.display());
    None
}

fn node() -> Option<&'static str> {
    if std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return Some("node");
    }
    if std::env::var_os("CI").is_some() {
        panic!("node is needed to check the browser run-time against the Rust one");
    }
    eprintln!("!!! SKIPPING the browser run-time parity check: node is not installed");
    None
}

/// One visit: the state the browser starts from and every call with Rust's reply.
#[derive(serde::Serialize)]
struct Visit {
    name: String,
    start: Value,
    calls: Vec<(String, Vec<String>, String, u16)>,
}

fn record(attempt: &mut Attempt, visit: &mut Visit, method: &str, args: Vec<String>, clock: &mut i64) {
    *clock += 1_000;
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let call = Call::from_method(method, &refs).expect("a known API method");
    let reply = attempt.handle(call, UnixMillis(*clock));
    visit.calls.push((method.to_string(), args, reply.value.into_owned(), reply.error));
}

fn index_of(attempt: &Attempt, prefix: &str, id: &str) -> usize {
    let DataModel::Scorm2004(cmi) = attempt.data() else { return 0 };
    if prefix == "adl.data" {
        cmi.shared_data.iter().position(|b| b.id == id).unwrap_or(cmi.shared_data.len())
    } else {
        cmi.objectives.iter().position(|o| o.id.as_deref() == Some(id)).unwrap_or(cmi.objectives.len())
    }
}

/// Drives a CTS run-time case through the Rust run-time (as `lms-cts` does, without the
/// sequencer) and records every call.
fn cts_transcript(courses: &Path, case_name: &str) -> Vec<Visit> {
    use lms_cts::script::ScriptCall;
    let bytes = std::fs::read(courses.join("TestCases").join(format!("{case_name}.properties"))).unwrap();
    let case = lms_cts::script::parse_test_case(case_name, &bytes).unwrap();
    let mut manifests = Vec::new();
    for package in lms_cts::runtime::packages_of_case(case_name) {
        let xml = std::fs::read_to_string(courses.join(format!("LMSTestPackage_{package}")).join("imsmanifest.xml")).unwrap();
        manifests.push(lms_cts::manifest::read(&xml).unwrap());
    }
    let mut attempts: BTreeMap<String, Attempt> = BTreeMap::new();
    let mut shared: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    let mut clock = 1_000_000;
    for v in &case.visits {
        if v.steps.is_empty() {
            continue;
        }
        let Some(item) = manifests.iter().find_map(|m| m.item_for_act(&v.activity)) else { continue };
        let returning = attempts.contains_key(&v.activity);
        let attempt =
            attempts.entry(v.activity.clone()).or_insert_with(|| Attempt::new(item.attempt_config("cts", "CTS Learner")));
        if returning {
            attempt.begin_next_session();
        }
        attempt.load_shared_data(&shared);
        let mut visit = Visit {
            name: format!("{case_name} act {} visit {}", v.activity, v.visit),
            start: serde_json::from_str(&attempt.to_json()).unwrap(),
            calls: Vec::new(),
        };
        for step in &v.steps {
            let (method, args): (&str, Vec<String>) = match &step.call {
                ScriptCall::Initialize(a) => ("Initialize", vec![a.clone()]),
                ScriptCall::Terminate(a) => ("Terminate", vec![a.clone()]),
                ScriptCall::Commit(a) => ("Commit", vec![a.clone()]),
                ScriptCall::GetLastError => ("GetLastError", vec![]),
                ScriptCall::GetErrorString(c) => ("GetErrorString", vec![c.clone()]),
                ScriptCall::GetDiagnostic(c) => ("GetDiagnostic", vec![c.clone()]),
                ScriptCall::GetValue(e) => ("GetValue", vec![e.resolve(|p, id| index_of(attempt, p, id))]),
                ScriptCall::SetValue(e, value) => {
                    ("SetValue", vec![e.resolve(|p, id| index_of(attempt, p, id)), value.clone()])
                }
                ScriptCall::CompareObjectiveIds(_) => continue,
            };
            record(attempt, &mut visit, method, args, &mut clock);
        }
        if attempt.state() == lms_rte::SessionState::Running {
            record(attempt, &mut visit, "Terminate", vec![String::new()], &mut clock);
        }
        attempt.take_batches();
        for (id, value, writable) in attempt.shared_data() {
            if writable {
                match value {
                    Some(v) => shared.insert(id, v),
                    None => shared.remove(&id),
                };
            }
        }
        out.push(visit);
    }
    out
}

/// SCORM 1.2 is not in the ADL suite: every element (and some that do not exist) with values
/// of every kind, set and read, in lenient and strict mode.
fn scorm12_transcript() -> Vec<Visit> {
    let elements = [
        "cmi._version", "cmi.core._children", "cmi.core.student_id", "cmi.core.student_name", "cmi.core.lesson_location",
        "cmi.core.credit", "cmi.core.lesson_status", "cmi.core.entry", "cmi.core.score._children", "cmi.core.score.raw",
        "cmi.core.score.min", "cmi.core.score.max", "cmi.core.score", "cmi.core.total_time", "cmi.core.lesson_mode",
        "cmi.core.exit", "cmi.core.session_time", "cmi.suspend_data", "cmi.launch_data", "cmi.comments",
        "cmi.comments_from_lms", "cmi.objectives._children", "cmi.objectives._count", "cmi.objectives.0.id",
        "cmi.objectives.0.score.raw", "cmi.objectives.0.status", "cmi.objectives.1.id", "cmi.objectives.5.id",
        "cmi.objectives.0.score._children", "cmi.objectives.0.id._count", "cmi.student_data._children",
        "cmi.student_data.mastery_score", "cmi.student_data.max_time_allowed", "cmi.student_data.time_limit_action",
        "cmi.student_preference._children", "cmi.student_preference.audio", "cmi.student_preference.language",
        "cmi.student_preference.speed", "cmi.student_preference.text", "cmi.student_preference._count",
        "cmi.interactions._children", "cmi.interactions._count", "cmi.interactions.0.id", "cmi.interactions.0.type",
        "cmi.interactions.0.objectives.0.id", "cmi.interactions.0.objectives._count", "cmi.interactions.0.time",
        "cmi.interactions.0.correct_responses.0.pattern", "cmi.interactions.0.correct_responses._count",
        "cmi.interactions.0.weighting", "cmi.interactions.0.student_response", "cmi.interactions.0.result",
        "cmi.interactions.0.latency", "cmi.interactions.2.id", "cmi.interactions.0.id._children",
        "cmi.core.lesson_status._children", "cmi.core.student_id._count", "cmi.suspend_data._children",
        "cmi.core.nothing", "cmi.nothing", "adl.nav.request", "", "cmi", "cmi.a.b.c.d.e.f.g", "cmi.objectives.x.id",
        "cmi.interactions.01.id",
    ];
    let values = [
        "", "0", "1", "-1", "50", "100", "101", "-5.5", "12.", ".5", "1e3", "abc", "a b", "passed", "completed", "failed",
        "incomplete", "browsed", "not attempted", "suspend", "time-out", "logout", "normal", "00:10:00", "0000:01:30.5",
        "25:00:00", "12:30:45.12", "true-false", "choice", "numeric", "long-fill-in", "t", "true", "correct", "wrong",
        "unanticipated", "neutral", "x".repeat(300).leak(), "y".repeat(5000).leak(),
    ];
    let mut out = Vec::new();
    for strict in [false, true] {
        let mut config = AttemptConfig::new(ScormVersion::Scorm12, "s1", "Sam");
        config.strict = strict;
        config.mastery_score = Some(80.0);
        config.launch_data = Some("launch".into());
        config.max_time_allowed = Some("00:30:00".into());
        config.objective_ids = vec!["obj-a".into()];
        let mut attempt = Attempt::new(config);
        let mut visit = Visit {
            name: format!("scorm12 matrix strict={strict}"),
            start: serde_json::from_str(&attempt.to_json()).unwrap(),
            calls: Vec::new(),
        };
        let mut clock = 0;
        record(&mut attempt, &mut visit, "LMSGetValue", vec!["cmi.core.student_id".into()], &mut clock);
        record(&mut attempt, &mut visit, "LMSInitialize", vec!["x".into()], &mut clock);
        record(&mut attempt, &mut visit, "LMSInitialize", vec![String::new()], &mut clock);
        for element in elements {
            for value in values {
                record(&mut attempt, &mut visit, "LMSSetValue", vec![element.into(), value.to_string()], &mut clock);
                record(&mut attempt, &mut visit, "LMSGetLastError", vec![], &mut clock);
                record(&mut attempt, &mut visit, "LMSGetValue", vec![element.into()], &mut clock);
            }
            record(&mut attempt, &mut visit, "LMSGetDiagnostic", vec![String::new()], &mut clock);
        }
        for code in ["0", "101", "201", "202", "203", "301", "401", "402", "403", "404", "405", "999", "", "abc", "0101", "+101"] {
            record(&mut attempt, &mut visit, "LMSGetErrorString", vec![code.into()], &mut clock);
            record(&mut attempt, &mut visit, "LMSGetDiagnostic", vec![code.into()], &mut clock);
        }
        record(&mut attempt, &mut visit, "LMSCommit", vec!["x".into()], &mut clock);
        record(&mut attempt, &mut visit, "LMSCommit", vec![String::new()], &mut clock);
        record(&mut attempt, &mut visit, "LMSFinish", vec![String::new()], &mut clock);
        record(&mut attempt, &mut visit, "LMSGetValue", vec!["cmi.core.lesson_status".into()], &mut clock);
        record(&mut attempt, &mut visit, "LMSSetValue", vec!["cmi.core.lesson_status".into(), "passed".into()], &mut clock);
        out.push(visit);
    }
    out
}

const PARITY_JS: &str = r#"
const fs = require("fs");
const rte = require(process.argv[2]);
const visits = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
let calls = 0, mismatches = [];
for (const visit of visits) {
  const attempt = new rte.Attempt(visit.start);
  let clock = 0;
  for (const [method, args, value, error] of visit.calls) {
    calls++;
    clock += 1000;
    const got = attempt.handle(method, args, clock);
    if (got.value !== value || got.error !== error) {
      mismatches.push({visit: visit.name, call: method + "(" + args.map(a => JSON.stringify(a.length > 60 ? a.slice(0, 60) + "…" : a)).join(", ") + ")",
        rust: [value.slice(0, 80), error], js: [String(got.value).slice(0, 80), got.error]});
    }
  }
}
console.log(JSON.stringify({calls, mismatches: mismatches.length, first: mismatches.slice(0, 25)}));
"#;

fn check_parity(visits: &[Visit], label: &str, min_calls: u64) {
    let Some(node) = node() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("visits.json");
    std::fs::write(&data, serde_json::to_vec(visits).unwrap()).unwrap();
    let script = dir.path().join("parity.js");
    std::fs::write(&script, PARITY_JS).unwrap();
    let rte = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scorm/rte.js");
    let output = std::process::Command::new(node).arg(&script).arg(&rte).arg(&data).output().unwrap();
    assert!(output.status.success(), "node failed: {}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    let calls = result["calls"].as_u64().unwrap();
    eprintln!("{label}: {calls} calls compared, {} mismatches", result["mismatches"]);
    assert!(calls >= min_calls, "{label}: only {calls} calls");
    assert_eq!(result["mismatches"], 0, "{label}: the browser run-time differs from Rust: {:#}", result["first"]);
}

#[test]
fn browser_runtime_matches_rust_on_the_cts_runtime_cases() {
    let Some(corpus) = corpus() else { return };
    let courses = corpus.join("adl-scorm2004-cts/LMSRTE/Courses");
    let mut visits = Vec::new();
    for case in ["API", "DMB", "DDM", "DMI"] {
        visits.extend(cts_transcript(&courses, case));
    }
    check_parity(&visits, "CTS API+DMB+DDM+DMI", 8_000);
}

#[test]
fn browser_runtime_matches_rust_on_scorm12() {
    check_parity(&scorm12_transcript(), "SCORM 1.2 matrix", 5_000);
}

// A completed SCORM registration is an e-learning completion in the person's training history
// (which feeds learning paths and certificates) — once per attempt, however often SCOs report
// completion again; the next attempt (after_completion = new_attempt) is a new completion.
#[tokio::test]
async fn completion_is_recorded_once_per_attempt() {
    let env = env().await;
    let package_id = upload_12(&env).await;
    let body = json!({ "package_id": package_id, "personnel_number": "L1", "after_completion": "new_attempt" }).to_string();
    let id = send(&env, post_json("/api/registrations", Some(&env.admin), &body)).await.json()["id"].as_str().unwrap().to_string();
    let sessions = format!("/api/registrations/{id}/sessions");
    let completions = |env: &Env| {
        let state = env.state.clone();
        let package_id = package_id.clone();
        async move {
            let history = state.store.person_history("L1", chrono::Utc::now()).await.unwrap();
            history.e_learning.iter().filter(|c| c.package_id == package_id).count()
        }
    };
    let env_ref = &env;
    let play = |item: &'static str, status: &'static str| {
        let sessions = sessions.clone();
        async move {
            let r = send(env_ref, post_json(&sessions, Some(&env_ref.learner), &json!({"request":"choice","target":item}).to_string())).await;
            let url = r.json()["frame_url"].as_str().unwrap().to_string();
            let calls = json!([{ "seq": 1, "calls": [["LMSInitialize", ""], ["LMSSetValue", "cmi.core.lesson_status", status], ["LMSFinish", ""]] }]);
            assert_eq!(send_content(env_ref, commit_request(&url, calls)).await.status, StatusCode::OK);
        }
    };
    play("one", "passed").await;
    assert_eq!(completions(&env).await, 0, "one of two SCOs is not a completed course");
    play("two", "completed").await;
    assert_eq!(completions(&env).await, 1);
    // the same SCO reports completion again in the same attempt: nothing new
    play("two", "passed").await;
    assert_eq!(completions(&env).await, 1);
    // a new attempt, completed again, is a second completion
    let r = send(&env, post_json(&sessions, Some(&env.learner), "{}")).await;
    assert_eq!(r.json()["attempt"], 2);
    play("one", "passed").await;
    play("two", "passed").await;
    assert_eq!(completions(&env).await, 2);
}
