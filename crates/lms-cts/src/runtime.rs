//! Drives the run-time areas (`API`, `DMB`, `DDM` for `DDMa`/`DDMb`, `DMI`) through `lms-rte`.
//!
//! The LMS side is modelled simply, without the sequencer: visits run in file order; each
//! activity keeps its [`Attempt`] between visits (a suspended one resumes, otherwise a new
//! attempt starts); `exitAll`/`abandonAll` end the course attempt; `adl.data` buckets live in
//! a learner-global store, or per course attempt when the organization says
//! `sharedDataGlobalToSystem="false"`. After its scripted calls each test SCO calls
//! `Terminate("")` itself if it has not terminated, as the suite's pages do.

use std::collections::BTreeMap;
use std::path::Path;

use lms_rte::{Attempt, Call, DataModel, NavigationValidity, Reply, UnixMillis, Validity};

use crate::CtsError;
use crate::manifest::{self, ManifestLaunch};
use crate::script::{self, Expected, ScriptCall, Step};

/// The learner the driver registers; `GET cmi.learner_id`/`learner_name` are compared with it
/// (the suite's files hold stand-ins for the identity the tester typed in).
pub const LEARNER_ID: &str = "cts-learner";
pub const LEARNER_NAME: &str = "CTS Learner";

/// The outcome of one scripted call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepResult {
    pub package: String,
    pub activity: String,
    pub visit: u32,
    pub index: u32,
    /// The call as made (`SetValue("cmi.exit", "suspend")`), values shortened for display.
    pub call: String,
    pub expected: String,
    pub expected_error: Option<u16>,
    pub got: String,
    pub got_error: u16,
    pub passed: bool,
    pub note: Option<String>,
}

/// Every step of one test case, attributed to the package that delivered it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseRun {
    pub case: String,
    pub packages: Vec<String>,
    pub steps: Vec<StepResult>,
}

/// The packages a run-time test case drives.
pub fn packages_of_case(case: &str) -> Vec<String> {
    match case {
        "DDM" => vec!["DDMa".to_owned(), "DDMb".to_owned()],
        other => vec![other.to_owned()],
    }
}

/// The test-case file a package is driven by.
pub fn case_of_package(package: &str) -> String {
    match package {
        "DDMa" | "DDMb" => "DDM".to_owned(),
        other => other.to_owned(),
    }
}

#[derive(Default)]
struct Course {
    activities: BTreeMap<String, Attempt>,
    scoped_data: BTreeMap<String, String>,
}

fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let head: String = text.chars().take(MAX).collect();
    format!("{head}…({} chars)", text.chars().count())
}

fn navigation_for(manifest: &ManifestLaunch, act: &str) -> NavigationValidity {
    let position = manifest
        .items
        .iter()
        .position(|i| i.act.as_deref() == Some(act));
    let mut nav = NavigationValidity::default();
    if let Some(p) = position {
        nav.continue_ = Validity::from_bool(manifest.flow && p + 1 < manifest.items.len());
        nav.previous = Validity::from_bool(manifest.flow && p > 0);
    }
    for item in &manifest.items {
        nav.choice.insert(
            item.identifier.clone(),
            Validity::from_bool(manifest.choice),
        );
        nav.jump.insert(item.identifier.clone(), Validity::True);
    }
    nav
}

fn index_of(attempt: &Attempt, prefix: &str, id: &str) -> usize {
    let DataModel::Scorm2004(cmi) = attempt.data() else {
        return 0;
    };
    match prefix {
        "adl.data" => cmi
            .shared_data
            .iter()
            .position(|b| b.id == id)
            .unwrap_or(cmi.shared_data.len()),
        _ => cmi
            .objectives
            .iter()
            .position(|o| o.id.as_deref() == Some(id))
            .unwrap_or(cmi.objectives.len()),
    }
}

/// A fill-in, long-fill-in or performance value with its delimiters made explicit, so two
/// spellings of the same pattern compare equal (`{order_matters=true}z` ≡ `z`,
/// `{lang=en}` ≡ no language, delimiters in any order).
#[derive(Debug, PartialEq, Eq)]
struct Delimited<'a> {
    case_matters: &'a str,
    order_matters: &'a str,
    items: Vec<(&'a str, &'a str)>,
}

fn delimited<'a>(mut text: &'a str, hint: &str) -> Delimited<'a> {
    let (mut case_matters, mut order_matters, mut first_lang) = ("false", "true", None);
    loop {
        let (prefix, slot) = if text.starts_with("{case_matters=") && hint != "performance" {
            ("{case_matters=", &mut case_matters)
        } else if text.starts_with("{order_matters=") && hint != "long-fill-in" {
            ("{order_matters=", &mut order_matters)
        } else if first_lang.is_none() && hint != "performance" && text.starts_with("{lang=") {
            match text[6..].find('}') {
                Some(end) => {
                    first_lang = Some(&text[6..6 + end]);
                    text = &text[7 + end..];
                    continue;
                }
                None => break,
            }
        } else {
            break;
        };
        let rest = &text[prefix.len()..];
        match rest.find('}') {
            Some(end) if matches!(&rest[..end], "true" | "false") => {
                *slot = &rest[..end];
                text = &rest[end + 1..];
            }
            _ => break,
        }
    }
    let mut items = Vec::new();
    let list: Vec<&str> = if hint == "long-fill-in" {
        vec![text]
    } else {
        text.split("[,]").collect()
    };
    for (k, item) in list.into_iter().enumerate() {
        let (lang, body) = if k == 0 && first_lang.is_some() {
            (first_lang.unwrap_or("en"), item)
        } else if let Some(rest) = item.strip_prefix("{lang=")
            && let Some(end) = rest.find('}')
        {
            (&rest[..end], &rest[end + 1..])
        } else {
            ("en", item)
        };
        items.push((lang, body));
    }
    Delimited {
        case_matters,
        order_matters,
        items,
    }
}

fn as_number(text: &str) -> Option<f64> {
    lms_rte::types::parse_real(text)
}

/// Compares a returned value with the scripted one the way the suite's driver does: `_children`
/// lists as sets, numbers by value, and values of a `!TY.x`-hinted `GET` by the meaning of that
/// interaction type's delimiters.
fn same_value(expected: &str, got: &str, element: Option<&str>, hint: Option<&str>) -> bool {
    if expected == got {
        return true;
    }
    if let Some(name) = element
        && name.ends_with("._children")
    {
        let mut a: Vec<&str> = expected.split(',').collect();
        let mut b: Vec<&str> = got.split(',').collect();
        a.sort_unstable();
        b.sort_unstable();
        return a == b;
    }
    if let (Some(a), Some(b)) = (as_number(expected), as_number(got)) {
        return a == b;
    }
    match hint {
        Some(h @ ("fill-in" | "long-fill-in" | "performance")) => {
            delimited(expected, h) == delimited(got, h)
        }
        _ => false,
    }
}

fn matches(step: &Step, element: Option<&str>, hint: Option<&str>, reply: &Reply) -> bool {
    if step.expected != Expected::AnyValueOrError
        && step.expected_error.is_some_and(|e| e != reply.error)
    {
        return false;
    }
    match &step.expected {
        Expected::Unchecked => true,
        Expected::NonEmptyUpTo255 => !reply.value.is_empty() && reply.value.chars().count() <= 255,
        Expected::AnyValueOrError => true,
        Expected::Value(expected) => {
            let got = reply.value.as_ref();
            match element {
                Some("cmi.learner_id") if reply.error == 0 => got == LEARNER_ID,
                Some("cmi.learner_name") if reply.error == 0 => got == LEARNER_NAME,
                _ => same_value(expected, got, element, hint),
            }
        }
    }
}

fn expected_text(step: &Step) -> String {
    match &step.expected {
        Expected::Value(v) => shorten(v),
        Expected::NonEmptyUpTo255 => "<non-empty, at most 255 characters>".to_owned(),
        Expected::Unchecked => "<not compared>".to_owned(),
        Expected::AnyValueOrError => "<any value or error code>".to_owned(),
    }
}

/// Runs one run-time test case (`API`, `DMB`, `DDM`, `DMI`) from the suite's `Courses` folder.
pub fn run_case(courses: &Path, case_name: &str) -> Result<CaseRun, CtsError> {
    let case_path = courses
        .join("TestCases")
        .join(format!("{case_name}.properties"));
    let bytes = std::fs::read(&case_path).map_err(|source| CtsError::Io {
        path: case_path.clone(),
        source,
    })?;
    let case = script::parse_test_case(case_name, &bytes).map_err(|e| CtsError::Script {
        path: case_path.clone(),
        line: e.line,
        message: e.message,
    })?;
    let packages = packages_of_case(case_name);
    let mut manifests: Vec<(String, ManifestLaunch)> = Vec::new();
    for package in &packages {
        let path = courses
            .join(format!("LMSTestPackage_{package}"))
            .join("imsmanifest.xml");
        let xml = std::fs::read_to_string(&path).map_err(|source| CtsError::Io {
            path: path.clone(),
            source,
        })?;
        let launch = manifest::read(&xml).map_err(|message| CtsError::Manifest {
            path: path.clone(),
            message,
        })?;
        manifests.push((package.clone(), launch));
    }

    let mut run = CaseRun {
        case: case_name.to_owned(),
        packages: packages.clone(),
        steps: Vec::new(),
    };
    let mut global_data: BTreeMap<String, String> = BTreeMap::new();
    let mut courses_state: BTreeMap<String, Course> = BTreeMap::new();
    let mut clock: i64 = 1_000_000;

    for visit in &case.visits {
        if visit.steps.is_empty() {
            continue; // an asset launch: no run-time calls
        }
        let Some((package, launch, item)) = manifests
            .iter()
            .find_map(|(p, m)| m.item_for_act(&visit.activity).map(|i| (p.clone(), m, i)))
        else {
            return Err(CtsError::MissingActivity {
                case: case_name.to_owned(),
                activity: visit.activity.clone(),
            });
        };
        let course = courses_state.entry(package.clone()).or_default();
        let returning = course.activities.contains_key(&visit.activity);
        let attempt = course
            .activities
            .entry(visit.activity.clone())
            .or_insert_with(|| Attempt::new(item.attempt_config(LEARNER_ID, LEARNER_NAME)));
        if returning {
            attempt.begin_next_session();
        }
        let store = if launch.shared_data_global {
            &mut global_data
        } else {
            &mut course.scoped_data
        };
        attempt.load_shared_data(store);
        attempt.set_navigation_validity(navigation_for(launch, &visit.activity));

        for step in &visit.steps {
            clock += 1_000;
            let now = UnixMillis(clock);
            let mut element_name = None;
            let mut hint = None;
            let (call_text, reply) = match &step.call {
                ScriptCall::Initialize(a) => (
                    format!("Initialize({a:?})"),
                    attempt.handle(Call::Initialize(a), now),
                ),
                ScriptCall::Terminate(a) => (
                    format!("Terminate({a:?})"),
                    attempt.handle(Call::Terminate(a), now),
                ),
                ScriptCall::Commit(a) => (
                    format!("Commit({a:?})"),
                    attempt.handle(Call::Commit(a), now),
                ),
                ScriptCall::GetLastError => (
                    "GetLastError()".to_owned(),
                    attempt.handle(Call::GetLastError, now),
                ),
                ScriptCall::GetErrorString(c) => (
                    format!("GetErrorString({c:?})"),
                    attempt.handle(Call::GetErrorString(c), now),
                ),
                ScriptCall::GetDiagnostic(c) => (
                    format!("GetDiagnostic({c:?})"),
                    attempt.handle(Call::GetDiagnostic(c), now),
                ),
                ScriptCall::GetValue(element) => {
                    let name = element.resolve(|prefix, id| index_of(attempt, prefix, id));
                    let reply = attempt.handle(Call::GetValue(&name), now);
                    element_name = Some(name.clone());
                    hint = element.type_hint.clone();
                    (format!("GetValue({name:?})"), reply)
                }
                ScriptCall::SetValue(element, value) => {
                    let name = element.resolve(|prefix, id| index_of(attempt, prefix, id));
                    let reply = attempt.handle(Call::SetValue(&name, value), now);
                    (format!("SetValue({name:?}, {:?})", shorten(value)), reply)
                }
                ScriptCall::CompareObjectiveIds(ids) => {
                    return Err(CtsError::Unsupported {
                        case: case_name.to_owned(),
                        what: format!("COI->{} is a sequencing-area step", ids.join(",")),
                    });
                }
            };
            let passed = matches(step, element_name.as_deref(), hint.as_deref(), &reply);
            run.steps.push(StepResult {
                package: package.clone(),
                activity: visit.activity.clone(),
                visit: visit.visit,
                index: step.index,
                call: call_text,
                expected: expected_text(step),
                expected_error: step.expected_error,
                got: shorten(&reply.value),
                got_error: reply.error,
                passed,
                note: step.note.clone(),
            });
        }
        clock += 1_000;
        if attempt.state() == lms_rte::SessionState::Running {
            attempt.handle(Call::Terminate(""), UnixMillis(clock));
        }
        attempt.take_batches();
        for (id, value, writable) in attempt.shared_data() {
            if !writable {
                continue;
            }
            match value {
                Some(v) => store.insert(id, v),
                None => store.remove(&id),
            };
        }
        if matches!(attempt.nav_request(), Some("exitAll" | "abandonAll")) {
            courses_state.remove(&package);
        }
    }
    Ok(run)
}
