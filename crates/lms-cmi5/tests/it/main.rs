//! Integration tests for `lms-cmi5`: statements in, verdict and requirement id out; launch
//! documents; the statements the LMS writes; course status.

mod flow;
mod launch;
mod rules;

use chrono::{DateTime, TimeZone, Utc};
use lms_cmi5::{Course, LaunchMode, LaunchRequest, Registration};
use lms_package::{parse, MemorySource, ParseOptions};
use serde_json::{json, Value};
use uuid::Uuid;

pub const LMS_BASE: &str = "https://lms.example/cmi5/course-1";

/// A course structure with the given AUs (`(publisher id suffix, attributes, extra children)`)
/// inside one block, or at the root when `block` is false. URLs are absolute so the bare
/// file imports.
pub fn course_xml(block: bool, aus: &[(&str, &str, &str)]) -> String {
    let texts = |w: &str| format!("<title><langstring lang=\"en\">{w}</langstring></title><description><langstring lang=\"en\">{w}</langstring></description>");
    let aus: String = aus
        .iter()
        .map(|(id, attributes, extra)| {
            format!(
                "<au id=\"https://example.org/au/{id}\" {attributes}>{}<url>https://content.example.org/{id}/index.html?paramA=1&amp;paramB=2</url>{extra}</au>",
                texts("AU")
            )
        })
        .collect();
    let body = if block { format!("<block id=\"https://example.org/block\">{}{aus}</block>", texts("Block")) } else { aus };
    format!(
        "<courseStructure xmlns=\"https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd\"><course id=\"https://example.org/course\">{}</course>{body}</courseStructure>",
        texts("Course")
    )
}

pub fn course(xml: &str) -> Course {
    let parsed = parse(&MemorySource::new([("cmi5.xml", xml.as_bytes().to_vec())]), &ParseOptions::default());
    assert!(parsed.is_importable(), "{}", parsed.render());
    Course::from_package(parsed.package.as_ref().unwrap(), LMS_BASE).unwrap()
}

pub fn actor() -> Value {
    json!({"objectType": "Agent", "name": "Ann", "account": {"homePage": "https://lms.example", "name": "ann"}})
}

pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + seconds, 0).unwrap()
}

/// Deterministic ids: 00000000-0000-0000-0000-00000000000n.
#[derive(Default)]
pub struct Ids(u128);
impl Ids {
    pub fn next_id(&mut self) -> Uuid {
        self.0 += 1;
        Uuid::from_u128(1000 + self.0)
    }
}

pub const REGISTRATION: Uuid = Uuid::from_u128(7);
pub const SESSION: Uuid = Uuid::from_u128(42);

/// A registration with AU 0 launched (session [`SESSION`]) and the statements written so far.
pub struct Fixture {
    pub course: Course,
    pub registration: Registration,
    pub ids: Ids,
    pub written: Vec<Value>,
    pub launch_data: Value,
}

impl Fixture {
    pub fn launched(xml: &str, mode: LaunchMode) -> Fixture {
        let course = course(xml);
        let mut ids = Ids::default();
        let (mut registration, mut written) =
            Registration::create(&course, REGISTRATION, actor(), at(0), &mut || ids.next_id()).unwrap();
        let launch = registration
            .launch(&course, &request(0, SESSION, mode), at(1), &mut || ids.next_id())
            .unwrap();
        written.extend(launch.statements);
        registration.learner_preferences_read(SESSION);
        Fixture { course, registration, ids, written, launch_data: launch.launch_data }
    }

    /// A statement as an AU following the cmi5 rules would send it in this session.
    pub fn statement(&self, verb: &str) -> Value {
        let mut context = self.launch_data["contextTemplate"].clone();
        context["registration"] = json!(REGISTRATION.to_string());
        let mut category = vec![json!({"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"})];
        let mut result = json!({});
        let verb_id = match verb {
            "experienced" => "http://adlnet.gov/expapi/verbs/experienced".to_string(),
            v => format!("http://adlnet.gov/expapi/verbs/{v}"),
        };
        match verb {
            "experienced" => category.clear(),
            "completed" => result = json!({"completion": true, "duration": "PT1S"}),
            "passed" => result = json!({"success": true, "duration": "PT1S"}),
            "failed" => result = json!({"success": false, "duration": "PT1S"}),
            "terminated" => result = json!({"duration": "PT2S"}),
            _ => {}
        }
        if matches!(verb, "completed" | "passed" | "failed") {
            category.push(json!({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}));
        }
        context["contextActivities"]["category"] = json!(category);
        let mut statement = json!({
            "id": Uuid::from_u128(0xABC).to_string(),
            "timestamp": "2026-11-22T20:00:00.000Z",
            "actor": actor(),
            "verb": {"id": verb_id, "display": {"en-US": verb}},
            "object": {"id": self.course.aus[0].activity_id, "objectType": "Activity"},
            "context": context
        });
        if result.as_object().is_some_and(|r| !r.is_empty()) {
            statement["result"] = result;
        }
        statement
    }

    /// Sends a statement; `Ok` = the statements the LMS adds, `Err` = the requirement id.
    pub fn send(&mut self, statement: &Value) -> Result<Vec<Value>, &'static str> {
        let ids = &mut self.ids;
        let out = self
            .registration
            .check_statement(&self.course, SESSION, statement, at(5), &mut || ids.next_id())
            .map_err(|r| {
                assert_eq!(r.status, 403, "{r}");
                r.requirement
            })?;
        self.written.push(statement.clone());
        self.written.extend(out.clone());
        Ok(out)
    }
}

pub fn request(au: usize, session: Uuid, mode: LaunchMode) -> LaunchRequest<'static> {
    LaunchRequest {
        au,
        endpoint: "http://127.0.0.1:8080/xapi",
        fetch_url: "http://127.0.0.1:8080/cmi5/fetch/tok123",
        content_base: "http://127.0.0.1:8080/content/1/",
        launch_mode: mode,
        return_url: Some("http://127.0.0.1:8080/done"),
        session_id: session,
        require_learner_preferences: true,
    }
}

/// The verbs (last path segment) of statements, for order checks.
pub fn verbs(statements: &[Value]) -> Vec<String> {
    statements
        .iter()
        .map(|s| {
            let verb = s["verb"]["id"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("").to_string();
            match s["object"]["definition"]["type"].as_str() {
                Some(t) => format!("{verb}:{}", t.rsplit('/').next().unwrap_or("")),
                None => verb,
            }
        })
        .collect()
}

/// Every statement the LMS writes is valid xAPI 1.0.3 and 2.0.0.
pub fn assert_valid_xapi(statements: &[Value]) {
    for statement in statements {
        for version in [lms_xapi::XapiVersion::V1_0_3, lms_xapi::XapiVersion::V2_0_0] {
            if let Err(e) = lms_xapi::validate_statement(statement, version) {
                panic!("not valid xAPI ({version:?}): {e}\n{statement:#}");
            }
        }
    }
}
