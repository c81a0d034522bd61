//! HTTP tests: cmi5 (issue 8). Registration, launch URL, the one-time fetch URL,
//! `LMS.LaunchData`, learner preferences, the statement rules applied to requests with a
//! session's auth token (data-driven: statement in, status and requirement id out), the
//! statements the LMS writes itself (launched, abandoned, waived, satisfied in the spec's
//! order) and the registration status.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::foundation::zip_bytes;
use crate::support::*;

const CMI5_XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.com/cmi5/course"><title><langstring lang="en">HTTP course</langstring></title>
    <description><langstring lang="en">d</langstring></description></course>
  <block id="https://example.com/cmi5/block">
    <title><langstring lang="en">Block</langstring></title><description><langstring lang="en">d</langstring></description>
    <au id="https://example.com/cmi5/au/quiz" moveOn="Passed" masteryScore="0.8">
      <title><langstring lang="en">Quiz</langstring></title><description><langstring lang="en">d</langstring></description>
      <url>quiz/index.html?lang=de</url>
      <launchParameters>level=2</launchParameters>
    </au>
    <au id="https://example.com/cmi5/au/read" moveOn="Completed" launchMethod="OwnWindow">
      <title><langstring lang="en">Reading</langstring></title><description><langstring lang="en">d</langstring></description>
      <url>read.html</url>
    </au>
  </block>
  <au id="https://example.com/cmi5/au/extra" moveOn="NotApplicable">
    <title><langstring lang="en">Extra</langstring></title><description><langstring lang="en">d</langstring></description>
    <url>extra.html</url>
  </au>
</courseStructure>"#;

const QUIZ: &str = "https://example.com/cmi5/au/quiz";
const READ: &str = "https://example.com/cmi5/au/read";

struct Cmi5 {
    env: Env,
    package_id: String,
}

async fn setup() -> Cmi5 {
    let env = env().await;
    env.state.store.create_xapi_client("reader", "reader-secret", &["all"]).await.unwrap();
    let zip = zip_bytes(&[
        ("cmi5.xml", CMI5_XML.as_bytes()),
        ("quiz/index.html", b"<p>quiz</p>"),
        ("read.html", b"<p>read</p>"),
        ("extra.html", b"<p>extra</p>"),
    ]);
    let r = send(&env, post_zip(&env.author, zip)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(r.json()["standard"], "cmi5");
    let package_id = r.json()["id"].as_str().unwrap().to_string();
    Cmi5 { env, package_id }
}

impl Cmi5 {
    async fn register(&self) -> String {
        let body = json!({"package_id": self.package_id, "personnel_number": "L1"}).to_string();
        let r = send(&self.env, post_json("/api/registrations", Some(&self.env.learner), &body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
        assert_eq!(r.json()["standard"], "cmi5");
        r.json()["id"].as_str().unwrap().to_string()
    }

    async fn status(&self, registration: &str) -> Value {
        let r = send(&self.env, get(&format!("/api/registrations/{registration}"), Some(&self.env.learner))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
        r.json()
    }

    /// Launches AU `au` and returns the launch answer and the parsed launch URL parameters.
    async fn launch(&self, registration: &str, au: Value, mode: Option<&str>) -> (Value, Vec<(String, String)>) {
        let mut body = json!({"au": au});
        if let Some(mode) = mode {
            body["launch_mode"] = json!(mode);
        }
        let r = send(
            &self.env,
            post_json(&format!("/api/registrations/{registration}/launch"), Some(&self.env.learner), &body.to_string()),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
        let answer = r.json();
        let url = answer["url"].as_str().unwrap().to_string();
        let query = url.split_once('?').unwrap().1;
        let params = lms_xapi::parse_form_urlencoded(query.as_bytes()).unwrap();
        (answer, params)
    }

    /// Posts to the fetch URL of a launch (always 200 with JSON).
    async fn fetch(&self, params: &[(String, String)]) -> Value {
        let fetch = param(params, "fetch");
        let path = fetch.strip_prefix("http://127.0.0.1:8080").unwrap();
        let r = send(&self.env, Request::post(path).body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
        r.json()
    }

    /// An LRS request with the session's auth token (or another Authorization).
    async fn lrs(&self, method: &str, uri: &str, auth: &str, body: Option<Value>) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-experience-api-version", "1.0.3")
            .header(header::AUTHORIZATION, auth);
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        send(&self.env, b.body(body.map(|v| Body::from(v.to_string())).unwrap_or_default()).unwrap()).await
    }

    async fn verbs(&self, registration: &str) -> Vec<String> {
        let auth = format!("Basic {}", base64_encode("reader:reader-secret"));
        let r = self.lrs("GET", &format!("/xapi/statements?registration={registration}&ascending=true"), &auth, None).await;
        assert_eq!(r.status, StatusCode::OK);
        r.json()["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let verb = s["verb"]["id"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
                match s["object"]["definition"]["type"].as_str() {
                    Some(t) => format!("{verb} {}", t.rsplit('/').next().unwrap()),
                    None => verb,
                }
            })
            .collect()
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn param(params: &[(String, String)], name: &str) -> String {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no {name} in the launch URL"))
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// A launched, fetched session: what a statement needs.
struct Session {
    auth: String,
    actor: Value,
    registration: String,
    activity_id: String,
    session_id: String,
}

impl Session {
    fn statement(&self, verb: &str, publisher_id: &str) -> Value {
        json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "timestamp": "2026-05-01T10:00:00.000Z",
            "actor": self.actor,
            "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}"), "display": {"en-US": verb}},
            "object": {"id": self.activity_id, "objectType": "Activity"},
            "context": {
                "registration": self.registration,
                "contextActivities": {
                    "grouping": [{"id": publisher_id}],
                    "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]
                },
                "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": self.session_id}
            }
        })
    }
}

async fn start(t: &Cmi5, registration: &str, au: usize, mode: Option<&str>) -> Session {
    let (answer, params) = t.launch(registration, json!(au), mode).await;
    let token = t.fetch(&params).await["auth-token"].as_str().expect("auth-token").to_string();
    Session {
        auth: format!("Basic {token}"),
        actor: serde_json::from_str(&param(&params, "actor")).unwrap(),
        registration: param(&params, "registration"),
        activity_id: param(&params, "activityId"),
        session_id: answer["session_id"].as_str().unwrap().to_string(),
    }
}

/// Reads the learner preferences (required before "initialized") and sends "initialized".
async fn initialize(t: &Cmi5, s: &Session, publisher_id: &str) {
    let agent = encode(&s.actor.to_string());
    let r = t.lrs("GET", &format!("/xapi/agents/profile?agent={agent}&profileId=cmi5LearnerPreferences"), &s.auth, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
    let r = t.lrs("POST", "/xapi/statements", &s.auth, Some(s.statement("initialized", publisher_id))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
}

#[tokio::test]
async fn launch_url_fetch_and_launch_data() {
    let t = setup().await;
    let registration = t.register().await;
    let (answer, params) = t.launch(&registration, json!(QUIZ), None).await;
    assert_eq!((answer["au"].as_u64(), answer["launch_method"].as_str()), (Some(0), Some("AnyWindow")));
    let url = answer["url"].as_str().unwrap();
    // the AU's own file and query first (13.1.4.0-3), then the five launch parameters
    let (path, _) = url.split_once('?').unwrap();
    assert!(path.ends_with(&format!("/content/{}/quiz/index.html", t.package_id)), "{url}");
    assert_eq!(params[0], ("lang".into(), "de".into()));
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["lang", "endpoint", "fetch", "actor", "registration", "activityId"]);
    assert_eq!(param(&params, "endpoint"), "http://127.0.0.1:8080/xapi");
    assert_eq!(param(&params, "registration"), registration);
    let activity_id = param(&params, "activityId");
    assert_ne!(activity_id, QUIZ, "the activity id is the LMS's own (8.1.5.0-3)");
    let actor: Value = serde_json::from_str(&param(&params, "actor")).unwrap();
    assert_eq!(actor["account"], json!({"homePage": "http://127.0.0.1:8080", "name": "L1"}));

    // the fetch URL answers once with a token, then error 1; an unknown one error 2 (8.2)
    let first = t.fetch(&params).await;
    let token = first["auth-token"].as_str().expect("auth-token").to_string();
    assert_eq!(t.fetch(&params).await["error-code"], "1");
    let r = send(&t.env, Request::post("/cmi5/fetch/not-a-secret").body(Body::empty()).unwrap()).await;
    assert_eq!((r.status, r.json()["error-code"].as_str()), (StatusCode::OK, Some("2")));
    // CORS: the AU runs on the content origin
    let r = send(
        &t.env,
        Request::options("/xapi/statements")
            .header(header::ORIGIN, "http://127.0.0.1:8081")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,x-experience-api-version,content-type")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(r.headers[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap().contains("x-experience-api-version"));

    // LMS.LaunchData (10.2) is readable with the token and read-only (10.2.1.0-5)
    let auth = format!("Basic {token}");
    let agent = encode(&actor.to_string());
    let state_uri = format!(
        "/xapi/activities/state?activityId={}&agent={agent}&registration={registration}&stateId=LMS.LaunchData",
        encode(&activity_id)
    );
    let r = t.lrs("GET", &state_uri, &auth, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
    let data = r.json();
    assert_eq!(data["launchMode"], "Normal");
    assert_eq!(data["moveOn"], "Passed");
    assert_eq!(data["masteryScore"], 0.8);
    assert_eq!(data["launchParameters"], "level=2");
    assert_eq!(data["contextTemplate"]["contextActivities"]["grouping"][0]["id"], QUIZ);
    assert_eq!(data["contextTemplate"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"], answer["session_id"]);
    let r = t.lrs("PUT", &state_uri, &auth, Some(json!({"launchMode": "Review"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&r.bytes).contains("10.2.1.0-5"));
    let r = t.lrs("DELETE", &state_uri, &auth, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // learner preferences: the LMS's default, another agent's are out of reach (11.0.0.0-1),
    // writes are checked (11.1.0.0-1)
    let prefs_uri = format!("/xapi/agents/profile?agent={agent}&profileId=cmi5LearnerPreferences");
    let r = t.lrs("GET", &prefs_uri, &auth, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["audioPreference"], "on");
    let other = encode(&json!({"account": {"homePage": "http://127.0.0.1:8080", "name": "A1"}}).to_string());
    let r = t.lrs("GET", &format!("/xapi/agents/profile?agent={other}&profileId=cmi5LearnerPreferences"), &auth, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.lrs("POST", &prefs_uri, &auth, Some(json!({"languagePreference": "not comma separated", "audioPreference": "on"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&r.bytes).contains("11.1.0.0-1"));
    let r = t.lrs("POST", &prefs_uri, &auth, Some(json!({"languagePreference": "fr-FR", "audioPreference": "off"}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", String::from_utf8_lossy(&r.bytes));

    // a token that is no cmi5 token and no client is refused
    let r = t.lrs("GET", &state_uri, &format!("Basic {}", base64_encode("cmi5:forged")), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// One statement case: how to change a valid statement, and the expected answer.
struct Case {
    name: &'static str,
    verb: &'static str,
    change: fn(&mut Value),
    status: StatusCode,
    requirement: Option<&'static str>,
}

/// A passed statement's result, moveOn category and masteryScore.
fn passed_result(v: &mut Value) {
    v["result"] = json!({"success": true, "duration": "PT5S", "score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100}});
    v["context"]["contextActivities"]["category"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}));
    v["context"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/masteryscore"] = json!(0.8);
}

fn remove(pointer: &'static str) -> impl Fn(&mut Value) {
    move |v: &mut Value| {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let key = key.replace("~1", "/").replace("~0", "~");
        assert!(v.pointer_mut(parent).unwrap().as_object_mut().unwrap().remove(&key).is_some(), "{pointer}");
    }
}

#[tokio::test]
async fn statement_rules_cite_the_requirement() {
    let t = setup().await;
    let registration = t.register().await;
    let s = start(&t, &registration, 0, None).await;
    assert!(t.env.state.store.person_history("L1", chrono::Utc::now()).await.unwrap().e_learning.is_empty());

    // before the learner preferences were read, "initialized" is refused (11.0.0.0-3)
    let r = t.lrs("POST", "/xapi/statements", &s.auth, Some(s.statement("initialized", QUIZ))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&r.bytes).contains("11.0.0.0-3"), "{}", String::from_utf8_lossy(&r.bytes));
    initialize(&t, &s, QUIZ).await;

    let cases: Vec<Case> = vec![
        Case { name: "not xAPI: no verb", verb: "experienced", change: |v| { v.as_object_mut().unwrap().remove("verb"); }, status: StatusCode::BAD_REQUEST, requirement: None },
        Case { name: "no id", verb: "experienced", change: |v| { v.as_object_mut().unwrap().remove("id"); }, status: StatusCode::FORBIDDEN, requirement: Some("9.1.0.0-1") },
        Case { name: "no timestamp", verb: "experienced", change: |v| { v.as_object_mut().unwrap().remove("timestamp"); }, status: StatusCode::FORBIDDEN, requirement: Some("9.7.0.0-1") },
        Case { name: "timestamp not UTC", verb: "experienced", change: |v| v["timestamp"] = json!("2026-05-01T12:00:00+02:00"), status: StatusCode::FORBIDDEN, requirement: Some("9.7.0.0-2") },
        Case { name: "LMS verb launched", verb: "launched", change: |_| {}, status: StatusCode::FORBIDDEN, requirement: Some("9.3.1.0-1") },
        Case { name: "another learner", verb: "experienced", change: |v| v["actor"]["account"]["name"] = json!("A1"), status: StatusCode::FORBIDDEN, requirement: Some("8.1.3.0-3") },
        Case { name: "another session id", verb: "experienced", change: |v| v["context"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"] = json!(uuid::Uuid::new_v4().to_string()), status: StatusCode::FORBIDDEN, requirement: Some("9.6.3.1-4") },
        Case { name: "object is the publisher id", verb: "completed", change: |v| v["object"]["id"] = json!(QUIZ), status: StatusCode::FORBIDDEN, requirement: Some("8.1.5.0-6") },
        Case { name: "passed without success", verb: "passed", change: |v| { passed_result(v); remove("/result/success")(v); }, status: StatusCode::FORBIDDEN, requirement: Some("9.5.2.0-1") },
        Case { name: "passed without duration", verb: "passed", change: |v| { passed_result(v); remove("/result/duration")(v); }, status: StatusCode::FORBIDDEN, requirement: Some("9.5.4.1-3") },
        Case { name: "passed without moveOn category", verb: "passed", change: |v| { passed_result(v); v["context"]["contextActivities"]["category"].as_array_mut().unwrap().pop(); }, status: StatusCode::FORBIDDEN, requirement: Some("9.6.2.2-1") },
        Case { name: "passed below the masteryScore", verb: "passed", change: |v| { passed_result(v); v["result"]["score"]["scaled"] = json!(0.5); }, status: StatusCode::FORBIDDEN, requirement: Some("9.3.4.0-2") },
        Case { name: "scored passed without masteryScore in context", verb: "passed", change: |v| { passed_result(v); remove("/context/extensions/https:~1~1w3id.org~1xapi~1cmi5~1context~1extensions~1masteryscore")(v); }, status: StatusCode::FORBIDDEN, requirement: Some("9.6.3.2-2") },
        Case { name: "score.raw without min", verb: "passed", change: |v| { passed_result(v); remove("/result/score/min")(v); }, status: StatusCode::FORBIDDEN, requirement: Some("9.5.1.0-3") },
        Case { name: "completed carrying success", verb: "completed", change: |v| v["result"] = json!({"completion": true, "success": true, "duration": "PT1S"}), status: StatusCode::FORBIDDEN, requirement: Some("9.5.2.0-3") },
        Case { name: "allowed statement", verb: "experienced", change: |v| v["context"]["contextActivities"]["category"] = json!([]), status: StatusCode::OK, requirement: None },
        Case { name: "allowed statement without the grouping", verb: "experienced", change: |v| { v["context"]["contextActivities"]["category"] = json!([]); v["context"]["contextActivities"]["grouping"] = json!([]); }, status: StatusCode::FORBIDDEN, requirement: Some("10.2.1.0-6") },
        Case { name: "passed", verb: "passed", change: passed_result, status: StatusCode::OK, requirement: None },
        Case { name: "passed twice", verb: "passed", change: passed_result, status: StatusCode::FORBIDDEN, requirement: Some("9.3.0.0-2") },
        Case { name: "initialized twice", verb: "initialized", change: |_| {}, status: StatusCode::FORBIDDEN, requirement: Some("9.3.2.0-3") },
        Case { name: "terminated without duration", verb: "terminated", change: |_| {}, status: StatusCode::FORBIDDEN, requirement: Some("9.5.4.1-1") },
        Case { name: "terminated", verb: "terminated", change: |v| v["result"] = json!({"duration": "PT9S"}), status: StatusCode::OK, requirement: None },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let mut statement = s.statement(case.verb, QUIZ);
        (case.change)(&mut statement);
        let r = t.lrs("POST", "/xapi/statements", &s.auth, Some(statement)).await;
        let text = String::from_utf8_lossy(&r.bytes).to_string();
        let requirement_ok = case.requirement.is_none_or(|id| text.contains(&format!("cmi5 {id}")));
        if r.status != case.status || !requirement_ok {
            failures.push(format!("{}: expected {} {:?}, got {} {text}", case.name, case.status, case.requirement, r.status));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // once terminated, the token is refused; the passed quiz satisfied only itself (the
    // block also needs the reading AU)
    let r = t.lrs("POST", "/xapi/statements", &s.auth, Some(s.statement("experienced", QUIZ))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let status = t.status(&registration).await;
    assert_eq!(status["aus"][0]["satisfied"], true);
    assert_eq!(status["aus"][1]["satisfied"], false);
    assert_eq!(status["aus"][2]["satisfied"], true, "NotApplicable is satisfied at registration");
    assert_eq!((status["blocks"][0]["satisfied"].as_bool(), status["satisfied"].as_bool()), (Some(false), Some(false)));
    assert_eq!(
        t.verbs(&registration).await,
        ["launched", "initialized", "experienced", "passed", "terminated"],
    );
}

#[tokio::test]
async fn lms_statements_come_in_the_specs_order() {
    let t = setup().await;
    let registration = t.register().await;
    // a Browse session records no completion (10.2.2.0-2) and is abandoned by the next launch
    let browse = start(&t, &registration, 1, Some("Browse")).await;
    initialize(&t, &browse, READ).await;
    let mut completed = browse.statement("completed", READ);
    completed["result"] = json!({"completion": true, "duration": "PT3S"});
    completed["context"]["contextActivities"]["category"].as_array_mut().unwrap().push(json!({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}));
    let r = t.lrs("POST", "/xapi/statements", &browse.auth, Some(completed)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&r.bytes).contains("10.2.2.0-2"));

    let (answer, _) = t.launch(&registration, json!(1), None).await;
    assert_eq!(answer["launch_method"], "OwnWindow");
    let r = t.lrs("POST", "/xapi/statements", &browse.auth, Some(browse.statement("experienced", READ))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the abandoned session's token is dead");

    // a waived quiz, then the reading AU completed: satisfied block then course right after
    let r = send(
        &t.env,
        post_json(&format!("/api/registrations/{registration}/waive"), Some(&t.env.admin), &json!({"au": 0, "reason": "Tested Out"}).to_string()),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
    let again = send(
        &t.env,
        post_json(&format!("/api/registrations/{registration}/waive"), Some(&t.env.admin), &json!({"au": 0, "reason": "Tested Out"}).to_string()),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let learner_waive = send(
        &t.env,
        post_json(&format!("/api/registrations/{registration}/waive"), Some(&t.env.learner), &json!({"au": 1, "reason": "Administrative"}).to_string()),
    )
    .await;
    assert_eq!(learner_waive.status, StatusCode::FORBIDDEN, "only an admin waives");

    let s = start(&t, &registration, 1, None).await;
    initialize(&t, &s, READ).await;
    let mut completed = s.statement("completed", READ);
    completed["result"] = json!({"completion": true, "duration": "PT3S"});
    completed["context"]["contextActivities"]["category"].as_array_mut().unwrap().push(json!({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}));
    let r = t.lrs("PUT", &format!("/xapi/statements?statementId={}", completed["id"].as_str().unwrap()), &s.auth, Some(completed)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", String::from_utf8_lossy(&r.bytes));
    let mut terminated = s.statement("terminated", READ);
    terminated["result"] = json!({"duration": "PT4S"});
    assert_eq!(t.lrs("POST", "/xapi/statements", &s.auth, Some(terminated)).await.status, StatusCode::OK);

    assert_eq!(
        t.verbs(&registration).await,
        [
            "launched",
            "initialized",
            "abandoned",
            "launched",
            "waived",
            "abandoned",
            "launched",
            "initialized",
            "completed",
            "satisfied block",
            "satisfied course",
            "terminated",
        ],
    );
    let status = t.status(&registration).await;
    assert_eq!(status["satisfied"], true);
    assert_eq!(status["blocks"][0]["satisfied"], true);
    // a satisfied course is an e-learning completion (learning paths, certificates)
    let history = t.env.state.store.person_history("L1", chrono::Utc::now()).await.unwrap();
    assert!(history.e_learning.iter().any(|e| e.package_id == t.package_id), "{:?}", history.e_learning);
    assert_eq!(status["aus"][0]["waived"], true);
    assert_eq!(status["sessions"].as_array().unwrap().len(), 4);

    // the player page of a cmi5 registration lists its AUs
    let r = send(&t.env, get(&format!("/player/{registration}"), Some(&t.env.learner))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&r.bytes).contains("Reading"));
}

#[tokio::test]
async fn abandon_and_errors() {
    let t = setup().await;
    let registration = t.register().await;
    let s = start(&t, &registration, 0, None).await;
    let abandon = format!("/api/cmi5/sessions/{}/abandon", s.session_id);
    let r = send(&t.env, post_json(&abandon, Some(&t.env.learner), "{}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(send(&t.env, post_json(&abandon, Some(&t.env.learner), "{}")).await.status, StatusCode::CONFLICT);
    let r = t.lrs("POST", "/xapi/statements", &s.auth, Some(s.statement("initialized", QUIZ))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.verbs(&registration).await, ["launched", "abandoned"]);

    // someone else's registration, an unknown AU, a bad launch mode, an actor from a learner
    let r = send(&t.env, get(&format!("/api/registrations/{registration}"), Some(&t.env.author))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&t.env, post_json(&format!("/api/registrations/{registration}/launch"), Some(&t.env.learner), r#"{"au": 7}"#)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = send(
        &t.env,
        post_json(&format!("/api/registrations/{registration}/launch"), Some(&t.env.learner), r#"{"au": 0, "launch_mode": "Fast"}"#),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = json!({"package_id": t.package_id, "personnel_number": "L1", "actor": {"account": {"homePage": "https://x.example", "name": "x"}}});
    let r = send(&t.env, post_json("/api/registrations", Some(&t.env.learner), &body.to_string())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(&t.env, post_json("/api/registrations", Some(&t.env.admin), &body.to_string())).await;
    assert_eq!(r.status, StatusCode::CREATED, "an admin may choose the actor");
    assert_eq!(r.json()["actor"]["account"]["name"], "x");

    // a bare cmi5.xml upload: refused with relative URLs, accepted with absolute ones
    let bare = |xml: String| {
        Request::post("/api/packages")
            .header(header::CONTENT_TYPE, "text/xml")
            .header(header::AUTHORIZATION, format!("Bearer {}", t.env.author))
            .body(Body::from(xml))
            .unwrap()
    };
    let r = send(&t.env, bare(CMI5_XML.to_string())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&r.bytes).contains("14.2.0.0-1"), "{}", String::from_utf8_lossy(&r.bytes));
    let absolute = CMI5_XML.replace("<url>", "<url>https://content.example/").replace("course\"", "course2\"");
    let r = send(&t.env, bare(absolute)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
}

/// The team's cmi5 samples (`content-samples/`): uploaded (a zip, or the bare file as
/// text/xml), registered, every AU launched; the status lists every AU and block.
#[tokio::test]
async fn content_samples_import_register_and_launch() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../content-samples");
    let env = env().await;
    for (sample, n_aus, n_blocks) in [("cmi5-basic", 2, 1), ("cmi5-nested-blocks", 3, 2), ("cmi5-bare-file", 1, 0)] {
        let dir = samples.join(sample);
        let request = if sample == "cmi5-bare-file" {
            Request::post("/api/packages")
                .header(header::CONTENT_TYPE, "application/xml")
                .header(header::AUTHORIZATION, format!("Bearer {}", env.author))
                .body(Body::from(std::fs::read(dir.join("package.xml")).unwrap()))
                .unwrap()
        } else {
            let mut files = Vec::new();
            for entry in walk(&dir.join("package")) {
                let name = entry.strip_prefix(dir.join("package")).unwrap().to_string_lossy().replace('\\', "/");
                files.push((name, std::fs::read(&entry).unwrap()));
            }
            let entries: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
            post_zip(&env.author, zip_bytes(&entries))
        };
        let r = send(&env, request).await;
        assert!(r.status == StatusCode::CREATED || r.status == StatusCode::OK, "{sample}: {}", String::from_utf8_lossy(&r.bytes));
        let package_id = r.json()["id"].as_str().unwrap().to_string();
        let body = json!({"package_id": package_id, "personnel_number": "L1"}).to_string();
        let r = send(&env, post_json("/api/registrations", Some(&env.learner), &body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{sample}: {}", String::from_utf8_lossy(&r.bytes));
        let registration = r.json()["id"].as_str().unwrap().to_string();
        let status = send(&env, get(&format!("/api/registrations/{registration}"), Some(&env.learner))).await.json();
        assert_eq!(status["aus"].as_array().unwrap().len(), n_aus, "{sample}: {status}");
        assert_eq!(status["blocks"].as_array().unwrap().len(), n_blocks, "{sample}: {status}");
        for au in 0..n_aus {
            let uri = format!("/api/registrations/{registration}/launch");
            let r = send(&env, post_json(&uri, Some(&env.learner), &json!({"au": au}).to_string())).await;
            assert_eq!(r.status, StatusCode::CREATED, "{sample} AU {au}: {}", String::from_utf8_lossy(&r.bytes));
            let url = r.json()["url"].as_str().unwrap().to_string();
            assert!(url.contains("endpoint=http%3A%2F%2F127.0.0.1%3A8080%2Fxapi&fetch="), "{sample} AU {au}: {url}");
            assert!(url.contains(&format!("&registration={registration}&activityId=")), "{sample} AU {au}: {url}");
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
