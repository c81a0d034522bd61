//! The SCORM 1.2 data model: `cmi.core.*`, `suspend_data`, `launch_data`, `comments`,
//! `comments_from_lms`, `objectives`, `student_data`, `student_preference`, `interactions`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::config::AttemptConfig;
use crate::error::scorm12 as code;
use crate::interaction::{InteractionType, is_valid_12};
use crate::types::{format_timespan_12, is_time_12, parse_real, parse_timespan_12};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Score12 {
    pub raw: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Objective12 {
    pub id: Option<String>,
    pub score: Score12,
    pub status: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Interaction12 {
    pub id: Option<String>,
    pub objectives: Vec<String>,
    pub time: Option<String>,
    pub kind: Option<InteractionType>,
    pub correct_responses: Vec<String>,
    pub weighting: Option<String>,
    pub student_response: Option<String>,
    pub result: Option<String>,
    pub latency: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StudentPreference {
    pub audio: Option<String>,
    pub language: Option<String>,
    pub speed: Option<String>,
    pub text: Option<String>,
}

/// The learner-side state of a SCORM 1.2 attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cmi12 {
    pub lesson_location: Option<String>,
    pub lesson_status: String,
    pub entry: String,
    pub score: Score12,
    pub total_time_cs: u64,
    pub exit: Option<String>,
    pub session_time: Option<String>,
    pub suspend_data: Option<String>,
    pub comments: Option<String>,
    pub objectives: Vec<Objective12>,
    pub student_preference: StudentPreference,
    pub interactions: Vec<Interaction12>,
}

impl Cmi12 {
    pub fn new(config: &AttemptConfig) -> Self {
        Self {
            lesson_location: None,
            lesson_status: "not attempted".to_owned(),
            entry: "ab-initio".to_owned(),
            score: Score12::default(),
            total_time_cs: 0,
            exit: None,
            session_time: None,
            suspend_data: None,
            comments: None,
            objectives: config
                .objective_ids
                .iter()
                .map(|id| Objective12 {
                    id: Some(id.clone()),
                    ..Objective12::default()
                })
                .collect(),
            student_preference: StudentPreference::default(),
            interactions: Vec::new(),
        }
    }

    /// Applies the LMS's end-of-session rules (RTE 3.4.4): mastery score decides
    /// passed/failed for credit attempts with a raw score; an untouched status becomes
    /// `completed` (or `browsed` in browse mode).
    pub(crate) fn finish(&mut self, config: &AttemptConfig) {
        if let Some(session) = self.session_time.as_deref().and_then(parse_timespan_12) {
            self.total_time_cs += session;
        }
        let raw = self.score.raw.as_deref().and_then(parse_real);
        if let (Some(mastery), Some(raw), crate::config::Credit::Credit) =
            (config.mastery_score, raw, config.credit)
        {
            self.lesson_status = if raw >= mastery { "passed" } else { "failed" }.to_owned();
        } else if self.lesson_status == "not attempted" {
            self.lesson_status = match config.mode {
                crate::config::Mode::Browse => "browsed",
                _ => "completed",
            }
            .to_owned();
        }
    }
}

type Got<'s> = Result<Cow<'s, str>, u16>;

fn stored(value: &Option<String>) -> Got<'_> {
    Ok(Cow::Borrowed(value.as_deref().unwrap_or("")))
}

fn keyword_error(keyword: &str) -> u16 {
    match keyword {
        "_children" => code::ELEMENT_CANNOT_HAVE_CHILDREN,
        "_count" => code::ELEMENT_NOT_AN_ARRAY,
        _ => code::NOT_IMPLEMENTED,
    }
}

fn parse_index(text: &str) -> Option<usize> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

const CORE_CHILDREN: &str = "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time";
const INTERACTION_CHILDREN: &str =
    "id,objectives,time,type,correct_responses,weighting,student_response,result,latency";

fn score_get<'s>(score: &'s Score12, rest: &[&str]) -> Got<'s> {
    match rest {
        ["_children"] => Ok(Cow::Borrowed("raw,min,max")),
        ["raw"] => stored(&score.raw),
        ["min"] => stored(&score.min),
        ["max"] => stored(&score.max),
        [field, keyword] if matches!(*field, "raw" | "min" | "max") => Err(keyword_error(keyword)),
        ["_count"] => Err(code::ELEMENT_NOT_AN_ARRAY),
        _ => Err(code::NOT_IMPLEMENTED),
    }
}

pub(crate) fn get<'s>(cmi: &'s Cmi12, config: &'s AttemptConfig, name: &str) -> Got<'s> {
    if name.is_empty() {
        return Err(code::INVALID_ARGUMENT);
    }
    let mut parts = [""; 6];
    let mut len = 0;
    for part in name.split('.') {
        if len == parts.len() {
            return Err(code::NOT_IMPLEMENTED);
        }
        parts[len] = part;
        len += 1;
    }
    let parts = &parts[..len];
    match parts {
        ["cmi", "_version"] => Ok(Cow::Borrowed("3.4")),
        ["cmi", "core", "_children"] => Ok(Cow::Borrowed(CORE_CHILDREN)),
        ["cmi", "core", "student_id"] => Ok(Cow::Borrowed(config.learner_id.as_str())),
        ["cmi", "core", "student_name"] => Ok(Cow::Borrowed(config.learner_name.as_str())),
        ["cmi", "core", "lesson_location"] => stored(&cmi.lesson_location),
        ["cmi", "core", "credit"] => Ok(Cow::Borrowed(config.credit.as_str())),
        ["cmi", "core", "lesson_status"] => Ok(Cow::Borrowed(cmi.lesson_status.as_str())),
        ["cmi", "core", "entry"] => Ok(Cow::Borrowed(cmi.entry.as_str())),
        ["cmi", "core", "score", rest @ ..] => score_get(&cmi.score, rest),
        ["cmi", "core", "total_time"] => Ok(Cow::Owned(format_timespan_12(cmi.total_time_cs))),
        ["cmi", "core", "lesson_mode"] => Ok(Cow::Borrowed(config.mode.as_str())),
        ["cmi", "core", "exit" | "session_time"] => Err(code::WRITE_ONLY),
        ["cmi", "suspend_data"] => stored(&cmi.suspend_data),
        ["cmi", "launch_data"] => Ok(Cow::Borrowed(config.launch_data.as_deref().unwrap_or(""))),
        ["cmi", "comments"] => stored(&cmi.comments),
        ["cmi", "comments_from_lms"] => Ok(Cow::Owned(
            config
                .comments_from_lms
                .iter()
                .map(|c| c.comment.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        )),
        ["cmi", "objectives", "_children"] => Ok(Cow::Borrowed("id,score,status")),
        ["cmi", "objectives", "_count"] => Ok(Cow::Owned(cmi.objectives.len().to_string())),
        ["cmi", "objectives", n, rest @ ..] => {
            let n = parse_index(n).ok_or(code::NOT_IMPLEMENTED)?;
            let o = cmi.objectives.get(n).ok_or(code::INVALID_ARGUMENT)?;
            match rest {
                ["id"] => stored(&o.id),
                ["score", score @ ..] => score_get(&o.score, score),
                ["status"] => Ok(Cow::Borrowed(
                    o.status.as_deref().unwrap_or("not attempted"),
                )),
                [_, keyword] => Err(keyword_error(keyword)),
                _ => Err(code::NOT_IMPLEMENTED),
            }
        }
        ["cmi", "student_data", "_children"] => Ok(Cow::Borrowed(
            "mastery_score,max_time_allowed,time_limit_action",
        )),
        ["cmi", "student_data", "mastery_score"] => Ok(Cow::Owned(
            config
                .mastery_score
                .map(|m| format!("{m}"))
                .unwrap_or_default(),
        )),
        ["cmi", "student_data", "max_time_allowed"] => Ok(Cow::Borrowed(
            config.max_time_allowed.as_deref().unwrap_or(""),
        )),
        ["cmi", "student_data", "time_limit_action"] => Ok(Cow::Borrowed(
            config.time_limit_action.map_or("", |a| a.as_str()),
        )),
        ["cmi", "student_preference", "_children"] => {
            Ok(Cow::Borrowed("audio,language,speed,text"))
        }
        ["cmi", "student_preference", field] => {
            let p = &cmi.student_preference;
            match *field {
                "audio" => Ok(Cow::Borrowed(p.audio.as_deref().unwrap_or("0"))),
                "language" => stored(&p.language),
                "speed" => Ok(Cow::Borrowed(p.speed.as_deref().unwrap_or("0"))),
                "text" => Ok(Cow::Borrowed(p.text.as_deref().unwrap_or("0"))),
                "_count" => Err(code::ELEMENT_NOT_AN_ARRAY),
                _ => Err(code::NOT_IMPLEMENTED),
            }
        }
        ["cmi", "interactions", "_children"] => Ok(Cow::Borrowed(INTERACTION_CHILDREN)),
        ["cmi", "interactions", "_count"] => Ok(Cow::Owned(cmi.interactions.len().to_string())),
        ["cmi", "interactions", n, rest @ ..] => {
            let n = parse_index(n).ok_or(code::NOT_IMPLEMENTED)?;
            let i = cmi.interactions.get(n).ok_or(code::INVALID_ARGUMENT)?;
            match rest {
                ["objectives", "_count"] => Ok(Cow::Owned(i.objectives.len().to_string())),
                ["correct_responses", "_count"] => {
                    Ok(Cow::Owned(i.correct_responses.len().to_string()))
                }
                [
                    "id" | "time" | "type" | "weighting" | "student_response" | "result"
                    | "latency",
                ] => Err(code::WRITE_ONLY),
                ["objectives" | "correct_responses", _, _] => Err(code::WRITE_ONLY),
                [_, "_children"] => Err(code::ELEMENT_CANNOT_HAVE_CHILDREN),
                _ => Err(code::NOT_IMPLEMENTED),
            }
        }
        [.., "_children"] if is_leaf_12(&parts[..parts.len() - 1]) => {
            Err(code::ELEMENT_CANNOT_HAVE_CHILDREN)
        }
        [.., "_count"] if is_leaf_12(&parts[..parts.len() - 1]) => Err(code::ELEMENT_NOT_AN_ARRAY),
        _ => Err(code::NOT_IMPLEMENTED),
    }
}

fn is_leaf_12(parts: &[&str]) -> bool {
    matches!(
        parts,
        ["cmi", "core", _]
            | [
                "cmi",
                "suspend_data" | "launch_data" | "comments" | "comments_from_lms"
            ]
            | ["cmi", "student_data", _]
    )
}

fn put(slot: &mut Option<String>, value: &str) {
    *slot = Some(value.to_owned());
}

fn decimal(value: &str, strict: bool, min: f64, max: f64) -> Result<(), u16> {
    if value.is_empty() {
        return Ok(());
    }
    let v = parse_real(value).ok_or(code::INCORRECT_DATA_TYPE)?;
    if strict && (v < min || v > max) {
        return Err(code::INCORRECT_DATA_TYPE);
    }
    Ok(())
}

fn integer_in(value: &str, min: i64, max: i64) -> Result<(), u16> {
    match value.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(()),
        _ => Err(code::INCORRECT_DATA_TYPE),
    }
}

fn string_max(value: &str, strict: bool, max: usize) -> Result<(), u16> {
    if strict && value.chars().count() > max {
        Err(code::INCORRECT_DATA_TYPE)
    } else {
        Ok(())
    }
}

fn identifier(value: &str, strict: bool) -> Result<(), u16> {
    if value.is_empty() || value.chars().any(char::is_whitespace) {
        return Err(code::INCORRECT_DATA_TYPE);
    }
    string_max(value, strict, 255)
}

const STATUS: &[&str] = &["passed", "completed", "failed", "incomplete", "browsed"];

fn score_set(score: &mut Score12, rest: &[&str], value: &str, strict: bool) -> Result<(), u16> {
    let slot = match rest {
        ["raw"] => &mut score.raw,
        ["min"] => &mut score.min,
        ["max"] => &mut score.max,
        ["_children"] => return Err(code::INVALID_SET_VALUE),
        _ => return Err(code::NOT_IMPLEMENTED),
    };
    decimal(value, strict, 0.0, 100.0)?;
    put(slot, value);
    Ok(())
}

pub(crate) fn set(
    cmi: &mut Cmi12,
    config: &AttemptConfig,
    name: &str,
    value: &str,
) -> Result<(), u16> {
    let strict = config.strict;
    if name.is_empty() {
        return Err(code::INVALID_ARGUMENT);
    }
    let mut parts = [""; 6];
    let mut len = 0;
    for part in name.split('.') {
        if len == parts.len() {
            return Err(code::NOT_IMPLEMENTED);
        }
        parts[len] = part;
        len += 1;
    }
    match &parts[..len] {
        [.., "_children" | "_count" | "_version"] => Err(code::INVALID_SET_VALUE),
        [
            "cmi",
            "core",
            "student_id" | "student_name" | "credit" | "entry" | "total_time" | "lesson_mode",
        ]
        | ["cmi", "launch_data" | "comments_from_lms"]
        | ["cmi", "student_data", _] => Err(code::READ_ONLY),
        ["cmi", "core", "lesson_location"] => {
            string_max(value, strict, 255)?;
            put(&mut cmi.lesson_location, value);
            Ok(())
        }
        ["cmi", "core", "lesson_status"] => {
            if !STATUS.contains(&value) {
                return Err(code::INCORRECT_DATA_TYPE);
            }
            cmi.lesson_status = value.to_owned();
            Ok(())
        }
        ["cmi", "core", "score", rest @ ..] => score_set(&mut cmi.score, rest, value, strict),
        ["cmi", "core", "exit"] => {
            if !matches!(value, "time-out" | "suspend" | "logout" | "") {
                return Err(code::INCORRECT_DATA_TYPE);
            }
            put(&mut cmi.exit, value);
            Ok(())
        }
        ["cmi", "core", "session_time"] => {
            parse_timespan_12(value).ok_or(code::INCORRECT_DATA_TYPE)?;
            put(&mut cmi.session_time, value);
            Ok(())
        }
        ["cmi", "suspend_data"] => {
            string_max(value, strict, 4096)?;
            put(&mut cmi.suspend_data, value);
            Ok(())
        }
        ["cmi", "comments"] => {
            string_max(value, strict, 4096)?;
            match &mut cmi.comments {
                Some(existing) => existing.push_str(value),
                None => put(&mut cmi.comments, value),
            }
            Ok(())
        }
        ["cmi", "objectives", n, rest @ ..] => {
            let n = parse_index(n).ok_or(code::NOT_IMPLEMENTED)?;
            if n > cmi.objectives.len() {
                return Err(code::INVALID_ARGUMENT);
            }
            // validate before creating the record
            match rest {
                ["id"] => identifier(value, strict)?,
                ["score", "raw" | "min" | "max"] => decimal(value, strict, 0.0, 100.0)?,
                ["status"] => {
                    if !STATUS.contains(&value) && value != "not attempted" {
                        return Err(code::INCORRECT_DATA_TYPE);
                    }
                }
                _ => return Err(code::NOT_IMPLEMENTED),
            }
            if n == cmi.objectives.len() {
                cmi.objectives.push(Objective12::default());
            }
            let o = &mut cmi.objectives[n];
            match rest {
                ["id"] => put(&mut o.id, value),
                ["score", score @ ..] => return score_set(&mut o.score, score, value, strict),
                _ => put(&mut o.status, value),
            }
            Ok(())
        }
        ["cmi", "student_preference", field] => {
            let p = &mut cmi.student_preference;
            match *field {
                "audio" => {
                    integer_in(value, -1, 100)?;
                    put(&mut p.audio, value);
                }
                "language" => {
                    string_max(value, strict, 255)?;
                    put(&mut p.language, value);
                }
                "speed" => {
                    integer_in(value, -100, 100)?;
                    put(&mut p.speed, value);
                }
                "text" => {
                    integer_in(value, -1, 1)?;
                    put(&mut p.text, value);
                }
                _ => return Err(code::NOT_IMPLEMENTED),
            }
            Ok(())
        }
        ["cmi", "interactions", n, rest @ ..] => {
            let n = parse_index(n).ok_or(code::NOT_IMPLEMENTED)?;
            if n > cmi.interactions.len() {
                return Err(code::INVALID_ARGUMENT);
            }
            let kind = cmi.interactions.get(n).and_then(|i| i.kind);
            match rest {
                ["id"] => identifier(value, strict)?,
                ["objectives", m, "id"] => {
                    let m = parse_index(m).ok_or(code::NOT_IMPLEMENTED)?;
                    let existing = cmi.interactions.get(n).map_or(0, |i| i.objectives.len());
                    if m > existing {
                        return Err(code::INVALID_ARGUMENT);
                    }
                    identifier(value, strict)?;
                }
                ["time"] => {
                    if !is_time_12(value) {
                        return Err(code::INCORRECT_DATA_TYPE);
                    }
                }
                ["type"] => {
                    InteractionType::parse_12(value).ok_or(code::INCORRECT_DATA_TYPE)?;
                }
                ["correct_responses", m, "pattern"] => {
                    let m = parse_index(m).ok_or(code::NOT_IMPLEMENTED)?;
                    let existing = cmi
                        .interactions
                        .get(n)
                        .map_or(0, |i| i.correct_responses.len());
                    if m > existing {
                        return Err(code::INVALID_ARGUMENT);
                    }
                    if let Some(kind) = kind
                        && !is_valid_12(kind, value)
                    {
                        return Err(code::INCORRECT_DATA_TYPE);
                    }
                }
                ["weighting"] => decimal(value, false, 0.0, 0.0)?,
                ["student_response"] => {
                    if let Some(kind) = kind
                        && !is_valid_12(kind, value)
                    {
                        return Err(code::INCORRECT_DATA_TYPE);
                    }
                    string_max(value, strict, 255)?;
                }
                ["result"] => {
                    if !matches!(value, "correct" | "wrong" | "unanticipated" | "neutral")
                        && parse_real(value).is_none()
                    {
                        return Err(code::INCORRECT_DATA_TYPE);
                    }
                }
                ["latency"] => {
                    parse_timespan_12(value).ok_or(code::INCORRECT_DATA_TYPE)?;
                }
                _ => return Err(code::NOT_IMPLEMENTED),
            }
            if n == cmi.interactions.len() {
                cmi.interactions.push(Interaction12::default());
            }
            let i = &mut cmi.interactions[n];
            match rest {
                ["id"] => put(&mut i.id, value),
                ["objectives", m, _] => {
                    let m = parse_index(m).unwrap_or(usize::MAX);
                    if m == i.objectives.len() {
                        i.objectives.push(value.to_owned());
                    } else if let Some(slot) = i.objectives.get_mut(m) {
                        *slot = value.to_owned();
                    }
                }
                ["time"] => put(&mut i.time, value),
                ["type"] => i.kind = InteractionType::parse_12(value),
                ["correct_responses", m, _] => {
                    let m = parse_index(m).unwrap_or(usize::MAX);
                    if m == i.correct_responses.len() {
                        i.correct_responses.push(value.to_owned());
                    } else if let Some(slot) = i.correct_responses.get_mut(m) {
                        *slot = value.to_owned();
                    }
                }
                ["weighting"] => put(&mut i.weighting, value),
                ["student_response"] => put(&mut i.student_response, value),
                ["result"] => put(&mut i.result, value),
                _ => put(&mut i.latency, value),
            }
            Ok(())
        }
        ["cmi", ..] if get(cmi, config, name).is_ok() => Err(code::READ_ONLY),
        _ => Err(code::NOT_IMPLEMENTED),
    }
}

fn push(out: &mut Vec<(String, String)>, name: String, value: &Option<String>) {
    if let Some(v) = value {
        out.push((name, v.clone()));
    }
}

/// Every learner-set or LMS-evaluated value as `(element, value)`, in a fixed order.
pub(crate) fn values(cmi: &Cmi12) -> Vec<(String, String)> {
    let mut out = Vec::new();
    push(
        &mut out,
        "cmi.core.lesson_location".into(),
        &cmi.lesson_location,
    );
    out.push(("cmi.core.lesson_status".into(), cmi.lesson_status.clone()));
    out.push(("cmi.core.entry".into(), cmi.entry.clone()));
    push(&mut out, "cmi.core.score.raw".into(), &cmi.score.raw);
    push(&mut out, "cmi.core.score.min".into(), &cmi.score.min);
    push(&mut out, "cmi.core.score.max".into(), &cmi.score.max);
    let session = cmi
        .session_time
        .as_deref()
        .and_then(parse_timespan_12)
        .unwrap_or(0);
    out.push((
        "cmi.core.total_time".into(),
        format_timespan_12(cmi.total_time_cs + session),
    ));
    push(&mut out, "cmi.core.exit".into(), &cmi.exit);
    push(&mut out, "cmi.core.session_time".into(), &cmi.session_time);
    push(&mut out, "cmi.suspend_data".into(), &cmi.suspend_data);
    push(&mut out, "cmi.comments".into(), &cmi.comments);
    for (n, o) in cmi.objectives.iter().enumerate() {
        push(&mut out, format!("cmi.objectives.{n}.id"), &o.id);
        push(
            &mut out,
            format!("cmi.objectives.{n}.score.raw"),
            &o.score.raw,
        );
        push(
            &mut out,
            format!("cmi.objectives.{n}.score.min"),
            &o.score.min,
        );
        push(
            &mut out,
            format!("cmi.objectives.{n}.score.max"),
            &o.score.max,
        );
        push(&mut out, format!("cmi.objectives.{n}.status"), &o.status);
    }
    let p = &cmi.student_preference;
    push(&mut out, "cmi.student_preference.audio".into(), &p.audio);
    push(
        &mut out,
        "cmi.student_preference.language".into(),
        &p.language,
    );
    push(&mut out, "cmi.student_preference.speed".into(), &p.speed);
    push(&mut out, "cmi.student_preference.text".into(), &p.text);
    for (n, i) in cmi.interactions.iter().enumerate() {
        let pre = format!("cmi.interactions.{n}");
        push(&mut out, format!("{pre}.id"), &i.id);
        for (m, id) in i.objectives.iter().enumerate() {
            out.push((format!("{pre}.objectives.{m}.id"), id.clone()));
        }
        push(&mut out, format!("{pre}.time"), &i.time);
        if let Some(k) = i.kind {
            out.push((format!("{pre}.type"), k.as_str().to_owned()));
        }
        for (m, pattern) in i.correct_responses.iter().enumerate() {
            out.push((
                format!("{pre}.correct_responses.{m}.pattern"),
                pattern.clone(),
            ));
        }
        push(&mut out, format!("{pre}.weighting"), &i.weighting);
        push(
            &mut out,
            format!("{pre}.student_response"),
            &i.student_response,
        );
        push(&mut out, format!("{pre}.result"), &i.result);
        push(&mut out, format!("{pre}.latency"), &i.latency);
    }
    out
}
