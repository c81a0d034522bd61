//! The scripted test cases of the ADL SCORM 2004 4th Edition LMS test suite
//! (`TestCases/<name>.properties`) as typed data.
//!
//! Each `Act<N>V<M>.commands.<K>=VERB->ARG->EXPECTED->ERROR` line is one API call the test SCO
//! makes on visit `M` of activity `N`; `Act<N>V<M>.CUI` names what the LMS must deliver next.
//! Element names and vocabulary values are abbreviated with `~` between segments (`c~SS` =
//! `cmi.success_status`, `X.s` = `suspend`); [`expand_segment`] and [`expand_value`] hold the
//! table. Segments written `&ID&` stand for "the index of the entry whose id is ID" (objectives
//! by objective id, `adl.data` by target id) and are kept as [`Segment::IndexOf`] for the
//! driver to resolve against the live data model; `tar~ID` is `{target=ID}`.

use std::collections::BTreeMap;

use crate::properties::{self, Entry};

/// One element name of a scripted call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A literal name segment (`cmi`, `objectives`, `success_status`, `0`, …).
    Name(String),
    /// `&ID&`: the index of the objective (or `adl.data` bucket) whose id is `ID`.
    IndexOf(String),
    /// `tar~ID`: `{target=ID}` (navigation requests).
    Target(String),
}

/// A data-model element as scripted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub segments: Vec<Segment>,
    /// The `!TY.x` suffix some `GET`s carry: the interaction type the expected value is
    /// written in (expanded, e.g. `numeric`).
    pub type_hint: Option<String>,
}

impl Element {
    /// The dotted element name, resolving `&ID&` segments with `index_of(prefix, id)` where
    /// `prefix` is the dotted name before the segment (e.g. `cmi.objectives`).
    pub fn resolve(&self, mut index_of: impl FnMut(&str, &str) -> usize) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            let piece = match segment {
                Segment::Name(name) => name.clone(),
                Segment::IndexOf(id) => index_of(&out, id).to_string(),
                Segment::Target(id) => format!("{{target={id}}}"),
            };
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&piece);
        }
        out
    }

    /// The dotted name when it has no `&ID&` segment.
    pub fn plain(&self) -> Option<String> {
        if self
            .segments
            .iter()
            .any(|s| matches!(s, Segment::IndexOf(_)))
        {
            return None;
        }
        Some(self.resolve(|_, _| 0))
    }
}

/// The API call of one scripted step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptCall {
    Initialize(String),
    Terminate(String),
    Commit(String),
    GetValue(Element),
    SetValue(Element, String),
    GetLastError,
    GetErrorString(String),
    GetDiagnostic(String),
    /// `COI->id,id,…`: the SCO compares the ids of `cmi.objectives` with this list (used by the
    /// sequencing cases).
    CompareObjectiveIds(Vec<String>),
}

/// What a step's return value must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this string (`t`/`f` are expanded to `true`/`false`).
    Value(String),
    /// `less255`: a non-empty string of at most 255 characters.
    NonEmptyUpTo255,
    /// The step's return value is not compared (`COI`).
    Unchecked,
    /// `Returned a valid value or error code`: any value, or any error, is acceptable (asked
    /// of `cmi.comments_from_lms.0.*`, which the LMS may leave empty).
    AnyValueOrError,
}

/// One scripted API call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub index: u32,
    /// The line as written in the file (after `.properties` unescaping).
    pub raw: String,
    pub call: ScriptCall,
    pub expected: Expected,
    /// The error code `GetLastError` must report after the call (`None` when not scripted).
    pub expected_error: Option<u16>,
    /// Set when the line had to be repaired to be read (documented per case).
    pub note: Option<String>,
}

/// One delivery of an activity: the calls its SCO makes, and what the LMS delivers next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    /// The activity as the file names it (`1`, `2a`, …; the manifest's `act=` parameter).
    pub activity: String,
    /// The visit number `M` of `Act<N>V<M>`.
    pub visit: u32,
    pub steps: Vec<Step>,
    /// `CUI`: what the LMS must deliver next (an activity title key, `Exit`, …).
    pub next: Option<String>,
    /// Other keys of this visit (`UIQ`, `UIA`, …) as written.
    pub other: BTreeMap<String, String>,
}

/// A parsed test case: header keys and the visits in file order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TestCase {
    pub name: String,
    pub header: BTreeMap<String, String>,
    pub visits: Vec<Visit>,
}

/// Problems reading a test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

/// Expands an element segment abbreviation (`SS` → `success_status`); unknown segments
/// (indices, ids) are returned unchanged.
pub fn expand_segment(segment: &str) -> &str {
    match segment {
        "c" => "cmi",
        "a" => "adl",
        "n" => "nav",
        "r" => "request",
        "rv" => "request_valid",
        "DA" => "data",
        "STR" => "store",
        "ID" | "id" => "id",
        "CNT" => "_count",
        "CHIL" => "_children",
        "V" => "_version",
        "CFLRNR" => "comments_from_learner",
        "CFLMS" => "comments_from_lms",
        "COM" => "comment",
        "LOC" => "location",
        "TS" => "timestamp",
        "CS" => "completion_status",
        "CT" => "completion_threshold",
        "CDT" => "credit",
        "E" => "entry",
        "X" => "exit",
        "INTR" => "interactions",
        "TY" => "type",
        "OB" => "objectives",
        "CR" => "correct_responses",
        "P" => "pattern",
        "W" => "weighting",
        "LR" => "learner_response",
        "R" => "result",
        "LAT" => "latency",
        "D" => "description",
        "LD" => "launch_data",
        "LI" => "learner_id",
        "LN" => "learner_name",
        "LP" => "learner_preference",
        "AL" => "audio_level",
        "LANG" => "language",
        "DS" => "delivery_speed",
        "AC" => "audio_captioning",
        "M" => "mode",
        "MAXTA" => "max_time_allowed",
        "PM" => "progress_measure",
        "SPS" => "scaled_passing_score",
        "S" => "score",
        "SCA" => "scaled",
        "RW" => "raw",
        "MN" => "min",
        "MX" => "max",
        "ST" => "session_time",
        "SS" => "success_status",
        "SD" => "suspend_data",
        "TLA" => "time_limit_action",
        "TT" => "total_time",
        other => expand_value(other),
    }
}

/// Expands a vocabulary abbreviation used as a value or expected value (`X.s` → `suspend`,
/// `unk` → `unknown`, `t` → `true`); anything else is returned unchanged.
pub fn expand_value(value: &str) -> &str {
    match value {
        "t" => "true",
        "f" => "false",
        "unk" => "unknown",
        "comp" => "completed",
        "incomp" => "incomplete",
        "notatt" => "not attempted",
        "pass" => "passed",
        "fail" => "failed",
        "E.a" => "ab-initio",
        "E.r" => "resume",
        "X.s" => "suspend",
        "X.t" => "time-out",
        "X.l" => "logout",
        "M.n" => "normal",
        "M.b" => "browse",
        "M.r" => "review",
        "CDT.c" => "credit",
        "CDT.n" => "no-credit",
        "TY.tf" => "true-false",
        "TY.c" => "choice",
        "TY.f" => "fill-in",
        "TY.lf" => "long-fill-in",
        "TY.l" => "likert",
        "TY.m" => "matching",
        "TY.p" => "performance",
        "TY.s" => "sequencing",
        "TY.n" => "numeric",
        "TY.o" => "other",
        "R.c" => "correct",
        "R.i" => "incorrect",
        "R.u" => "unanticipated",
        "R.n" => "neutral",
        "N.c" => "continue",
        "N.p" => "previous",
        "N.e" => "exit",
        "N.ea" => "exitAll",
        "N.a" => "abandon",
        "N.aa" => "abandonAll",
        "N.sa" => "suspendAll",
        "N.j" => "jump",
        "N.n" => "_none_",
        other => other,
    }
}

fn parse_segments(text: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut parts = text.split('~');
    while let Some(part) = parts.next() {
        if part == "tar" {
            let target = parts.next().unwrap_or("");
            segments.push(Segment::Target(target.to_owned()));
        } else if part.len() >= 2 && part.starts_with('&') && part.ends_with('&') {
            segments.push(Segment::IndexOf(part[1..part.len() - 1].to_owned()));
        } else {
            segments.push(Segment::Name(expand_segment(part).to_owned()));
        }
    }
    segments
}

/// Parses an element as written after `GET->` (`c~INTR~0~R!TY.n`).
pub fn parse_element(text: &str) -> Element {
    let (name, hint) = match text.split_once('!') {
        Some((name, hint)) => (name, Some(expand_value(hint).to_owned())),
        None => (text, None),
    };
    Element {
        segments: parse_segments(name),
        type_hint: hint,
    }
}

/// Expands a `SET` value: vocabulary abbreviations, and `tar~ID~TY.c` / `tar~ID~N.j` to
/// `{target=ID}choice` / `{target=ID}jump`.
pub fn parse_set_value(text: &str) -> String {
    if let Some(rest) = text.strip_prefix("tar~")
        && let Some((target, command)) = rest.rsplit_once('~')
    {
        return format!("{{target={target}}}{}", expand_value(command));
    }
    expand_value(text).to_owned()
}

fn expected_of(token: &str) -> Expected {
    match token {
        "less255" => Expected::NonEmptyUpTo255,
        "emptyCS" => Expected::Value(String::new()),
        "Returned a valid value or error code" => Expected::AnyValueOrError,
        other => Expected::Value(expand_value(other).to_owned()),
    }
}

fn parse_error(token: &str) -> Option<u16> {
    token.trim().parse().ok()
}

/// Parses one `commands.K` value.
pub fn parse_step(index: u32, raw: &str) -> Result<Step, String> {
    let (verb, rest) = raw.split_once("->").unwrap_or((raw, ""));
    let step = |call, expected, expected_error, note| Step {
        index,
        raw: raw.to_owned(),
        call,
        expected,
        expected_error,
        note,
    };
    match verb {
        "I" | "T" | "C" | "GLE" | "GES" | "GeDi" => {
            // ARG->EXPECTED->ERROR with short arguments
            let mut fields = rest.splitn(3, "->");
            let arg = fields.next().unwrap_or("").to_owned();
            let expected = fields.next().unwrap_or("");
            let error = fields.next().unwrap_or("");
            let call = match verb {
                "I" => ScriptCall::Initialize(arg),
                "T" => ScriptCall::Terminate(arg),
                "C" => ScriptCall::Commit(arg),
                "GLE" => ScriptCall::GetLastError,
                "GES" => ScriptCall::GetErrorString(arg),
                _ => ScriptCall::GetDiagnostic(arg),
            };
            Ok(step(call, expected_of(expected), parse_error(error), None))
        }
        "GET" | "SET" => {
            // As the suite's own parser reads it: the argument is the first field, the expected
            // value and error code the last two (a stray `->` inside a value is cut off there).
            let fields: Vec<&str> = raw.split("->").collect();
            if fields.len() < 4 {
                return Err(format!(
                    "{verb} needs 4 fields (VERB->ARG->EXPECTED->ERROR)"
                ));
            }
            let arg = fields[1];
            let expected = fields[fields.len() - 2];
            let error = fields[fields.len() - 1];
            let note = (fields.len() > 4)
                .then(|| format!("{} extra `->` field(s) ignored", fields.len() - 4));
            let call = if verb == "GET" {
                ScriptCall::GetValue(parse_element(arg))
            } else {
                let (element, value) = arg.split_once('!').unwrap_or((arg, ""));
                let element = parse_element(element);
                // navigation requests reuse the element abbreviations (`X` = `exit`)
                let value = if element.plain().as_deref() == Some("adl.nav.request")
                    && !value.starts_with("tar~")
                {
                    expand_segment(value).to_owned()
                } else {
                    parse_set_value(value)
                };
                ScriptCall::SetValue(element, value)
            };
            Ok(step(call, expected_of(expected), parse_error(error), note))
        }
        "COI" => {
            let ids = rest
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            Ok(step(
                ScriptCall::CompareObjectiveIds(ids),
                Expected::Unchecked,
                None,
                None,
            ))
        }
        _ => {
            // DMI.properties Act3V2.commands.47 lost its `GET->`: `element->expected->error`.
            let fields: Vec<&str> = raw.split("->").collect();
            if fields.len() >= 3 && (raw.starts_with("c~") || raw.starts_with("a~")) {
                let note =
                    Some("line has no verb; read as GET (element->expected->error)".to_owned());
                let (element, expected, error) = (
                    fields[0],
                    fields[fields.len() - 2],
                    fields[fields.len() - 1],
                );
                return Ok(step(
                    ScriptCall::GetValue(parse_element(element)),
                    expected_of(expected),
                    parse_error(error),
                    note,
                ));
            }
            Err(format!("unknown verb {verb:?}"))
        }
    }
}

/// Splits `Act<N>V<M>.<rest>` into (`N`, `M`, `rest`).
fn split_visit_key(key: &str) -> Option<(&str, u32, &str)> {
    let rest = key.strip_prefix("Act")?;
    let (head, field) = rest.split_once('.')?;
    let v = head.rfind('V')?;
    let activity = &head[..v];
    let visit = head[v + 1..].parse().ok()?;
    if activity.is_empty() {
        return None;
    }
    Some((activity, visit, field))
}

/// Parses a test case from the bytes of its `.properties` file.
pub fn parse_test_case(name: &str, bytes: &[u8]) -> Result<TestCase, ScriptError> {
    let text = properties::decode_latin1(bytes);
    let entries = properties::parse(&text);
    let mut case = TestCase {
        name: name.to_owned(),
        ..TestCase::default()
    };
    let mut order: Vec<(String, u32)> = Vec::new();
    let mut visits: BTreeMap<(String, u32), Visit> = BTreeMap::new();
    let mut commands: BTreeMap<(String, u32), Vec<(u32, Entry)>> = BTreeMap::new();
    for entry in entries {
        let Some((activity, visit, field)) = split_visit_key(&entry.key) else {
            case.header.insert(entry.key.clone(), entry.value.clone());
            continue;
        };
        let key = (activity.to_owned(), visit);
        if !visits.contains_key(&key) {
            order.push(key.clone());
            visits.insert(
                key.clone(),
                Visit {
                    activity: activity.to_owned(),
                    visit,
                    steps: Vec::new(),
                    next: None,
                    other: BTreeMap::new(),
                },
            );
        }
        if let Some(k) = field.strip_prefix("commands.") {
            let k: u32 = k.parse().map_err(|_| ScriptError {
                line: entry.line,
                message: format!("bad command index in {}", entry.key),
            })?;
            commands.entry(key).or_default().push((k, entry));
        } else if let Some(visit) = visits.get_mut(&key) {
            if field == "CUI" {
                visit.next = Some(entry.value.clone());
            } else {
                visit.other.insert(field.to_owned(), entry.value.clone());
            }
        }
    }
    for key in order {
        let Some(mut visit) = visits.remove(&key) else {
            continue;
        };
        let mut list = commands.remove(&key).unwrap_or_default();
        list.sort_by_key(|(k, _)| *k);
        for (k, entry) in list {
            let step = parse_step(k, &entry.value).map_err(|message| ScriptError {
                line: entry.line,
                message: format!("{}: {message}", entry.key),
            })?;
            visit.steps.push(step);
        }
        case.visits.push(visit);
    }
    Ok(case)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, call: ScriptCall, expected: Expected, error: Option<u16>) {
        let step = parse_step(0, raw).unwrap();
        assert_eq!(
            (step.call, step.expected, step.expected_error),
            (call, expected, error),
            "{raw}"
        );
    }

    fn el(name: &str) -> Element {
        parse_element(name)
    }

    #[test]
    fn steps() {
        check(
            "I->->t->0",
            ScriptCall::Initialize(String::new()),
            Expected::Value("true".into()),
            Some(0),
        );
        check(
            "SET->c~X!X.s->t->0",
            ScriptCall::SetValue(el("c~X"), "suspend".into()),
            Expected::Value("true".into()),
            Some(0),
        );
        check(
            "SET->a~n~r!tar~activity_1~TY.c->t->0",
            ScriptCall::SetValue(el("a~n~r"), "{target=activity_1}choice".into()),
            Expected::Value("true".into()),
            Some(0),
        );
        check(
            "GES->0->less255->0",
            ScriptCall::GetErrorString("0".into()),
            Expected::NonEmptyUpTo255,
            Some(0),
        );
        check(
            "GET->c~SD->->403",
            ScriptCall::GetValue(el("c~SD")),
            Expected::Value(String::new()),
            Some(403),
        );
        assert_eq!(
            el("c~OB~0~S~SCA").plain().unwrap(),
            "cmi.objectives.0.score.scaled"
        );
        assert_eq!(
            el("a~n~rv~TY.c~tar~activity_2").plain().unwrap(),
            "adl.nav.request_valid.choice.{target=activity_2}"
        );
        let by_id = el("a~DA~&tarID_1&~STR");
        assert_eq!(
            by_id.resolve(|prefix, id| if prefix == "adl.data" && id == "tarID_1" {
                3
            } else {
                99
            }),
            "adl.data.3.store"
        );
        let hinted = el("c~INTR~0~R!TY.n");
        assert_eq!(hinted.type_hint.as_deref(), Some("numeric"));
        let repaired = parse_step(47, "c~INTR~6~CR~0~P!TY.m->a[.]b->0").unwrap();
        assert!(repaired.note.is_some() && matches!(repaired.call, ScriptCall::GetValue(_)));
        assert!(parse_step(0, "XYZ->1").is_err());
    }

    #[test]
    fn visits_in_file_order() {
        let text = b"title=T\nAct2V1.commands.1=GLE->->0->0\nAct2V1.commands.0=I->->t->0\nAct2V1.CUI=Next\nAct1aV3.commands.0=I->->t->0\n";
        let case = parse_test_case("T", text).unwrap();
        assert_eq!(case.header.get("title").map(String::as_str), Some("T"));
        assert_eq!(case.visits.len(), 2);
        assert_eq!(
            case.visits[0]
                .steps
                .iter()
                .map(|s| s.index)
                .collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(case.visits[0].next.as_deref(), Some("Next"));
        assert_eq!(
            (case.visits[1].activity.as_str(), case.visits[1].visit),
            ("1a", 3)
        );
    }
}
