//! The LRS over HTTP (oneshot, SQLite): each case is a request in and the expected status
//! (and body facts) out, run in order against one store.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use serde_json::{Value, json};

use crate::support::*;

const KEY: &str = "lrs-test-key";
const SECRET: &str = "lrs-test-secret";

fn basic(key: &str, secret: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}")))
}

/// One exchange: method, URI, extra headers, body; expected status and, optionally, a check
/// of the reply.
struct Case {
    name: &'static str,
    method: &'static str,
    uri: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
}

fn case(name: &'static str, method: &'static str, uri: impl Into<String>, status: u16) -> Case {
    Case { name, method, uri: uri.into(), headers: vec![], body: vec![], status }
}

impl Case {
    fn json(mut self, value: Value) -> Self {
        self.headers.push(("content-type", "application/json".into()));
        self.body = value.to_string().into_bytes();
        self
    }
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn body(mut self, content_type: &str, bytes: &[u8]) -> Self {
        self.headers.push(("content-type", content_type.to_string()));
        self.body = bytes.to_vec();
        self
    }
}

async fn lrs() -> Env {
    let env = env().await;
    env.state.store.create_xapi_client(KEY, SECRET, &["all"]).await.unwrap();
    env.state.store.create_xapi_client("reader", "reader-secret", &["statements/read/mine"]).await.unwrap();
    env
}

/// Sends a case with the version header and credentials unless the case sets its own.
async fn check(env: &Env, case: Case) -> Reply {
    let mut builder = Request::builder().method(case.method).uri(&case.uri);
    let has = |n: &str| case.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has("x-experience-api-version") {
        builder = builder.header("x-experience-api-version", "2.0.0");
    }
    if !has("authorization") {
        builder = builder.header("authorization", basic(KEY, SECRET));
    }
    for (k, v) in &case.headers {
        if !v.is_empty() {
            builder = builder.header(*k, v);
        }
    }
    let reply = send(env, builder.body(Body::from(case.body)).unwrap()).await;
    assert_eq!(
        reply.status.as_u16(),
        case.status,
        "{}: {} {} answered {}",
        case.name,
        case.method,
        case.uri,
        String::from_utf8_lossy(&reply.bytes)
    );
    assert!(reply.headers.contains_key("x-experience-api-version"), "{}: no version header", case.name);
    reply
}

fn statement(id: &str, verb: &str) -> Value {
    json!({
        "id": id,
        "actor": {"mbox": "mailto:ann@example.com", "name": "Ann"},
        "verb": {"id": format!("http://example.com/verbs/{verb}"), "display": {"en-US": verb, "de": "Verb"}},
        "object": {"id": "http://example.com/course/1", "definition": {"name": {"en-US": "Course", "de": "Kurs"}}},
    })
}

const S1: &str = "11111111-1111-4111-8111-111111111111";
const S2: &str = "22222222-2222-4222-8222-222222222222";

#[tokio::test]
async fn statements_resource() {
    let env = lrs().await;
    let statements = "/xapi/statements";
    let cases = vec![
        case("no credentials", "GET", statements, 401).header("authorization", ""),
        case("wrong secret", "GET", statements, 401).header("authorization", basic(KEY, "nope")),
        case("no version header", "GET", statements, 400).header("x-experience-api-version", ""),
        case("unknown version", "GET", statements, 400).header("x-experience-api-version", "3.0.0"),
        case("about needs nothing", "GET", "/xapi/about", 200).header("authorization", "").header("x-experience-api-version", ""),
        case("put", "PUT", format!("{statements}?statementId={S1}"), 204).json(statement(S1, "completed")),
        case("put identical", "PUT", format!("{statements}?statementId={S1}"), 204).json(statement(S1, "completed")),
        case("put conflicting", "PUT", format!("{statements}?statementId={S1}"), 409).json(statement(S1, "failed")),
        case("put id mismatch", "PUT", format!("{statements}?statementId={S2}"), 400).json(statement(S1, "completed")),
        case("put without id", "PUT", statements, 400).json(statement(S1, "completed")),
        case("invalid statement", "POST", statements, 400).json(json!({"actor": {"mbox": "ann@example.com"}})),
        case("post batch", "POST", statements, 200).json(json!([statement(S2, "attempted"), statement("33333333-3333-4333-8333-333333333333", "passed")])),
        case("post with duplicate ids", "POST", statements, 400).json(json!([statement(S2, "x"), statement(S2, "y")])),
        case("get one", "GET", format!("{statements}?statementId={S1}"), 200),
        case("get unknown", "GET", format!("{statements}?statementId=44444444-4444-4444-8444-444444444444"), 404),
        case("bad parameter", "GET", format!("{statements}?color=red"), 400),
        case("statementId with verb", "GET", format!("{statements}?statementId={S1}&verb=http%3A%2F%2Fexample.com%2Fv"), 400),
        case("alternate syntax under 2.0", "POST", format!("{statements}?method=GET"), 400)
            .body("application/x-www-form-urlencoded", b""),
        case("read/mine client sees nothing else", "GET", format!("{statements}?statementId={S1}"), 404)
            .header("authorization", basic("reader", "reader-secret")),
        case("read/mine client cannot write", "POST", statements, 403)
            .header("authorization", basic("reader", "reader-secret"))
            .json(statement("55555555-5555-4555-8555-555555555555", "x")),
    ];
    for c in cases {
        check(&env, c).await;
    }

    // reading back: exact, ids, canonical, paging
    let one = check(&env, case("exact", "GET", format!("{statements}?statementId={S1}"), 200)).await;
    let body = one.json();
    assert_eq!(body["authority"]["account"]["name"], KEY);
    assert!(one.headers.contains_key("last-modified") && one.headers.contains_key("x-experience-api-consistent-through"));
    let ids = check(&env, case("ids", "GET", format!("{statements}?statementId={S1}&format=ids"), 200)).await.json();
    assert_eq!(ids["actor"], json!({"mbox": "mailto:ann@example.com"}));
    assert_eq!(ids["verb"], json!({"id": "http://example.com/verbs/completed"}));
    let canonical = check(
        &env,
        case("canonical", "GET", format!("{statements}?statementId={S1}&format=canonical"), 200).header("accept-language", "de"),
    )
    .await
    .json();
    assert_eq!(canonical["verb"]["display"], json!({"de": "Verb"}));
    assert_eq!(canonical["object"]["definition"]["name"], json!({"de": "Kurs"}));

    let page = check(&env, case("page 1", "GET", format!("{statements}?limit=2"), 200)).await.json();
    assert_eq!(page["statements"].as_array().unwrap().len(), 2);
    let more = page["more"].as_str().unwrap().to_string();
    assert!(more.starts_with("/xapi/statements?limit=2&from="), "{more}");
    let page2 = check(&env, case("page 2", "GET", more, 200)).await.json();
    assert_eq!(page2["statements"].as_array().unwrap().len(), 1);
    assert_eq!(page2["more"], "");
    assert_eq!(page2["statements"][0]["id"], S1, "newest first: S1 was stored first");

    // voiding
    let voiding = json!({"actor": {"mbox": "mailto:admin@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": S1}});
    check(&env, case("void", "POST", statements, 200).json(voiding)).await;
    check(&env, case("voided is gone", "GET", format!("{statements}?statementId={S1}"), 404)).await;
    check(&env, case("but has a voidedStatementId", "GET", format!("{statements}?voidedStatementId={S1}"), 200)).await;
    check(&env, case("a live one is no voided one", "GET", format!("{statements}?voidedStatementId={S2}"), 404)).await;
}

#[tokio::test]
async fn attachments_multipart() {
    let env = lrs().await;
    let content = b"here is a simple attachment";
    let sha2 = lms_xapi::etag(content).trim_matches('"').to_string(); // the SHA-256 in hex
    let mut with_attachment = statement(S1, "shared");
    with_attachment["attachments"] = json!([{"usageType": "http://example.com/usage", "display": {"en": "a"},
        "contentType": "text/plain", "length": content.len(), "sha2": sha2}]);
    let body = |hash: &str| {
        let mut b = Vec::new();
        b.extend_from_slice(b"--xx\r\nContent-Type: application/json\r\n\r\n");
        b.extend_from_slice(with_attachment.to_string().as_bytes());
        b.extend_from_slice(
            format!("\r\n--xx\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {hash}\r\n\r\n")
                .as_bytes(),
        );
        b.extend_from_slice(content);
        b.extend_from_slice(b"\r\n--xx--\r\n");
        b
    };
    let cases = vec![
        case("json without the part", "POST", "/xapi/statements", 400).json(with_attachment.clone()),
        case("wrong hash", "POST", "/xapi/statements", 400).body("multipart/mixed; boundary=xx", &body(&"0".repeat(64))),
        case("multipart", "POST", "/xapi/statements", 200).body("multipart/mixed; boundary=xx", &body(&sha2)),
    ];
    for c in cases {
        check(&env, c).await;
    }
    let reply = check(&env, case("with attachments", "GET", format!("/xapi/statements?statementId={S1}&attachments=true"), 200)).await;
    let content_type = reply.headers["content-type"].to_str().unwrap().to_string();
    let parsed = lms_xapi::parse_multipart(&content_type, &reply.bytes).unwrap();
    assert_eq!(parsed.attachments.len(), 1);
    assert_eq!(parsed.attachments[0].body, content);
}

#[tokio::test]
async fn documents_and_other_resources() {
    let env = lrs().await;
    let agent = "%7B%22mbox%22%3A%22mailto%3Aann%40example.com%22%7D";
    let state = format!("/xapi/activities/state?activityId=http%3A%2F%2Fexample.com%2Fa&agent={agent}&stateId=s1");
    let etag_a = format!("\"{}\"", &lms_xapi::etag(br#"{"a":1}"#)[1..41]);
    let cases = vec![
        case("missing", "GET", state.clone(), 404),
        case("create", "PUT", state.clone(), 204).json(json!({"a": 1})),
        case("overwrite without precondition", "PUT", state.clone(), 409).json(json!({"a": 2})),
        case("wrong If-Match", "PUT", state.clone(), 412).header("if-match", "\"nope\"").json(json!({"a": 2})),
        case("If-None-Match * on existing", "PUT", state.clone(), 412).header("if-none-match", "*").json(json!({"a": 2})),
        case("merge", "POST", state.clone(), 204).json(json!({"b": 2})),
        case("merge non-JSON", "POST", state.clone(), 400).body("text/plain", b"hello"),
        case("missing agent", "GET", "/xapi/activities/state?activityId=http%3A%2F%2Fexample.com%2Fa&stateId=s1", 400),
        case("profile create", "PUT", format!("/xapi/agents/profile?agent={agent}&profileId=p1"), 204).body("text/plain", b"hi"),
        case("profile list", "GET", format!("/xapi/agents/profile?agent={agent}"), 200),
        case("activity", "GET", "/xapi/activities?activityId=http%3A%2F%2Fexample.com%2Fa", 200),
        case("agents", "GET", format!("/xapi/agents?agent={agent}"), 200),
        case("activity profile bad delete", "DELETE", "/xapi/activities/profile?activityId=http%3A%2F%2Fexample.com%2Fa", 400),
    ];
    for c in cases {
        check(&env, c).await;
    }
    let doc = check(&env, case("read merged", "GET", state.clone(), 200)).await;
    assert_eq!(serde_json::from_slice::<Value>(&doc.bytes).unwrap(), json!({"a": 1, "b": 2}));
    let etag = doc.headers["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 42 && etag != etag_a);
    assert!(doc.headers.contains_key("last-modified"));
    check(&env, case("right If-Match", "PUT", state.clone(), 204).header("if-match", etag).json(json!({"c": 3}))).await;
    let person = check(&env, case("person", "GET", format!("/xapi/agents?agent={agent}"), 200)).await.json();
    assert_eq!(person, json!({"objectType": "Person", "mbox": ["mailto:ann@example.com"]}));
    check(&env, case("delete all states", "DELETE", "/xapi/activities/state?activityId=http%3A%2F%2Fexample.com%2Fa&agent=".to_string() + agent, 204))
        .await;
    check(&env, case("gone", "GET", state, 404)).await;
}

#[tokio::test]
async fn cors_preflight_and_alternate_syntax_under_1_0_3() {
    let env = env_with(|c| c.xapi_version = lms_server::XapiVersion::V1_0_3).await;
    env.state.store.create_xapi_client(KEY, SECRET, &["all"]).await.unwrap();
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/xapi/statements")
        .header("origin", "https://content.example")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization, x-experience-api-version, content-type")
        .body(Body::empty())
        .unwrap();
    let reply = send(&env, preflight).await;
    assert!(reply.status.is_success());
    assert_eq!(reply.headers["access-control-allow-origin"], "https://content.example");
    assert_eq!(reply.headers["access-control-allow-credentials"], "true");
    assert!(reply.headers["access-control-allow-headers"].to_str().unwrap().contains("x-experience-api-version"));

    // no version header: 400 announcing the configured default
    let reply = send(&env, Request::get("/xapi/statements").header("authorization", basic(KEY, SECRET)).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.headers["x-experience-api-version"], "1.0.3");

    // 1.0.3 alternate syntax: a PUT carried in a POST form
    let content = statement(S1, "completed").to_string();
    let form = format!(
        "statementId={S1}&Authorization={}&X-Experience-API-Version=1.0.3&Content-Type=application%2Fjson&content={}",
        encode(&basic(KEY, SECRET)),
        encode(&content)
    );
    let request = Request::post("/xapi/statements?method=PUT")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let reply = send(&env, request).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", String::from_utf8_lossy(&reply.bytes));
    let request = Request::get(format!("/xapi/statements?statementId={S1}"))
        .header("authorization", basic(KEY, SECRET))
        .header("x-experience-api-version", "1.0.3")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&env, request).await.status, StatusCode::OK);
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
