//! The SCORM 2004 4th edition data model: `cmi.*`, `adl.nav.*`, `adl.data.*`.
//!
//! Element names are parsed into [`Path`] (no allocation); values are kept as the strings the
//! SCO set, validated on the way in.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::config::{AttemptConfig, NavigationValidity};
use crate::error::scorm2004 as code;
use crate::interaction::{InteractionType, is_valid_pattern, is_valid_response};
use crate::types::{
    format_duration, is_identifier, is_language, is_localized_string, is_time, parse_duration,
    parse_real,
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub comment: Option<String>,
    pub location: Option<String>,
    pub timestamp: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub scaled: Option<String>,
    pub raw: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
}

impl Score {
    pub fn is_empty(&self) -> bool {
        self.scaled.is_none() && self.raw.is_none() && self.min.is_none() && self.max.is_none()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub id: Option<String>,
    pub score: Score,
    pub success_status: Option<String>,
    pub completion_status: Option<String>,
    pub progress_measure: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: Option<String>,
    pub kind: Option<InteractionType>,
    pub objectives: Vec<String>,
    pub timestamp: Option<String>,
    pub correct_responses: Vec<String>,
    pub weighting: Option<String>,
    pub learner_response: Option<String>,
    pub result: Option<String>,
    pub latency: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LearnerPreference {
    pub audio_level: Option<String>,
    pub language: Option<String>,
    pub delivery_speed: Option<String>,
    pub audio_captioning: Option<String>,
}

/// One `adl.data.n` bucket as seen by this SCO.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDataBucket {
    pub id: String,
    pub store: Option<String>,
    pub readable: bool,
    pub writable: bool,
}

/// The learner-side state of a SCORM 2004 attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cmi2004 {
    pub comments_from_learner: Vec<Comment>,
    pub completion_status: Option<String>,
    pub entry: String,
    pub exit: Option<String>,
    pub interactions: Vec<Interaction>,
    pub learner_preference: LearnerPreference,
    pub location: Option<String>,
    pub objectives: Vec<Objective>,
    pub progress_measure: Option<String>,
    pub score: Score,
    pub session_time: Option<String>,
    pub success_status: Option<String>,
    pub suspend_data: Option<String>,
    /// Accumulated `cmi.total_time` in hundredths of a second (sessions before this one).
    pub total_time_cs: u64,
    pub nav_request: String,
    pub shared_data: Vec<SharedDataBucket>,
}

impl Cmi2004 {
    pub fn new(config: &AttemptConfig) -> Self {
        Self {
            comments_from_learner: Vec::new(),
            completion_status: None,
            entry: "ab-initio".to_owned(),
            exit: None,
            interactions: Vec::new(),
            learner_preference: LearnerPreference::default(),
            location: None,
            objectives: config
                .objective_ids
                .iter()
                .map(|id| Objective {
                    id: Some(id.clone()),
                    ..Objective::default()
                })
                .collect(),
            progress_measure: None,
            score: Score::default(),
            session_time: None,
            success_status: None,
            suspend_data: None,
            total_time_cs: 0,
            nav_request: "_none_".to_owned(),
            shared_data: config
                .shared_data
                .iter()
                .map(|m| SharedDataBucket {
                    id: m.target_id.clone(),
                    store: None,
                    readable: m.readable,
                    writable: m.writable,
                })
                .collect(),
        }
    }

    /// `cmi.completion_status` as the LMS reports it: with a completion threshold it follows
    /// `progress_measure` (unknown without one), otherwise what the SCO set (default unknown).
    pub fn evaluated_completion(&self, config: &AttemptConfig) -> &str {
        if let Some(threshold) = config.completion_threshold {
            return match self.progress_measure.as_deref().and_then(parse_real) {
                Some(measure) if measure >= threshold => "completed",
                Some(_) => "incomplete",
                None => "unknown",
            };
        }
        self.completion_status.as_deref().unwrap_or("unknown")
    }

    /// `cmi.success_status` as the LMS reports it: with a scaled passing score it follows
    /// `score.scaled` (unknown without one), otherwise what the SCO set (default unknown).
    pub fn evaluated_success(&self, config: &AttemptConfig) -> &str {
        if let Some(passing) = config.scaled_passing_score {
            return match self.score.scaled.as_deref().and_then(parse_real) {
                Some(scaled) if scaled >= passing => "passed",
                Some(_) => "failed",
                None => "unknown",
            };
        }
        self.success_status.as_deref().unwrap_or("unknown")
    }

    /// `cmi.total_time` including this session's reported `session_time`.
    pub fn total_time_with_session(&self) -> u64 {
        self.total_time_cs
            + self
                .session_time
                .as_deref()
                .and_then(parse_duration)
                .unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// element names

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List<F> {
    Children,
    Count,
    Item(usize, F),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CommentField {
    Comment,
    Location,
    Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScoreField {
    Children,
    Scaled,
    Raw,
    Min,
    Max,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ObjectiveField {
    Id,
    Score(ScoreField),
    SuccessStatus,
    CompletionStatus,
    ProgressMeasure,
    Description,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InteractionField {
    Id,
    Type,
    ObjectivesCount,
    ObjectiveId(usize),
    Timestamp,
    CorrectResponsesCount,
    Pattern(usize),
    Weighting,
    LearnerResponse,
    Result,
    Latency,
    Description,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PreferenceField {
    Children,
    AudioLevel,
    Language,
    DeliverySpeed,
    AudioCaptioning,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataField {
    Id,
    Store,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path<'a> {
    Version,
    CommentsFromLearner(List<CommentField>),
    CommentsFromLms(List<CommentField>),
    CompletionStatus,
    CompletionThreshold,
    Credit,
    Entry,
    Exit,
    Interactions(List<InteractionField>),
    LaunchData,
    LearnerId,
    LearnerName,
    LearnerPreference(PreferenceField),
    Location,
    MaxTimeAllowed,
    Mode,
    Objectives(List<ObjectiveField>),
    ProgressMeasure,
    ScaledPassingScore,
    Score(ScoreField),
    SessionTime,
    SuccessStatus,
    SuspendData,
    TimeLimitAction,
    TotalTime,
    NavRequest,
    NavValidContinue,
    NavValidPrevious,
    NavValidChoice(&'a str),
    NavValidJump(&'a str),
    Data(List<DataField>),
}

/// Why an element name did not resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    /// Not an element of the data model (401).
    Undefined,
    /// `_children` asked of an element that has none (301 on get).
    NoChildren,
    /// `_count` asked of an element that is not a collection (301 on get).
    NoCount,
}

fn leaf<'a>(path: Path<'a>, rest: Option<&str>) -> Result<Path<'a>, PathError> {
    match rest {
        None => Ok(path),
        Some("_children") => Err(PathError::NoChildren),
        Some("_count") => Err(PathError::NoCount),
        Some(_) => Err(PathError::Undefined),
    }
}

fn split(text: &str) -> (&str, Option<&str>) {
    match text.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (text, None),
    }
}

fn parse_index(text: &str) -> Result<usize, PathError> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err(PathError::Undefined);
    }
    text.parse().map_err(|_| PathError::Undefined)
}

fn parse_list<F>(
    rest: Option<&str>,
    field: impl FnOnce(&str, Option<&str>) -> Result<F, PathError>,
) -> Result<List<F>, PathError> {
    let Some(rest) = rest else {
        return Err(PathError::Undefined);
    };
    let (head, tail) = split(rest);
    match head {
        "_children" if tail.is_none() => Ok(List::Children),
        "_count" if tail.is_none() => Ok(List::Count),
        _ => {
            let index = parse_index(head)?;
            let Some(tail) = tail else {
                return Err(PathError::Undefined);
            };
            let (name, more) = split(tail);
            Ok(List::Item(index, field(name, more)?))
        }
    }
}

fn leaf_field<F>(value: F, rest: Option<&str>) -> Result<F, PathError> {
    match rest {
        None => Ok(value),
        Some("_children") => Err(PathError::NoChildren),
        Some("_count") => Err(PathError::NoCount),
        Some(_) => Err(PathError::Undefined),
    }
}

fn parse_score(rest: Option<&str>) -> Result<ScoreField, PathError> {
    let Some(rest) = rest else {
        return Err(PathError::Undefined);
    };
    let (head, tail) = split(rest);
    let field = match head {
        "_children" => ScoreField::Children,
        "scaled" => ScoreField::Scaled,
        "raw" => ScoreField::Raw,
        "min" => ScoreField::Min,
        "max" => ScoreField::Max,
        "_count" if tail.is_none() => return Err(PathError::NoCount),
        _ => return Err(PathError::Undefined),
    };
    leaf_field(field, tail)
}

fn parse_comment_field(name: &str, rest: Option<&str>) -> Result<CommentField, PathError> {
    let field = match name {
        "comment" => CommentField::Comment,
        "location" => CommentField::Location,
        "timestamp" => CommentField::Timestamp,
        _ => return Err(PathError::Undefined),
    };
    leaf_field(field, rest)
}

fn parse_objective_field(name: &str, rest: Option<&str>) -> Result<ObjectiveField, PathError> {
    let field = match name {
        "id" => ObjectiveField::Id,
        "score" => return Ok(ObjectiveField::Score(parse_score(rest)?)),
        "success_status" => ObjectiveField::SuccessStatus,
        "completion_status" => ObjectiveField::CompletionStatus,
        "progress_measure" => ObjectiveField::ProgressMeasure,
        "description" => ObjectiveField::Description,
        _ => return Err(PathError::Undefined),
    };
    leaf_field(field, rest)
}

fn parse_interaction_field(name: &str, rest: Option<&str>) -> Result<InteractionField, PathError> {
    let field = match name {
        "id" => InteractionField::Id,
        "type" => InteractionField::Type,
        "objectives" | "correct_responses" => {
            let is_objectives = name == "objectives";
            let Some(rest) = rest else {
                return Err(PathError::Undefined);
            };
            let (head, tail) = split(rest);
            if head == "_count" {
                return leaf_field(
                    if is_objectives {
                        InteractionField::ObjectivesCount
                    } else {
                        InteractionField::CorrectResponsesCount
                    },
                    tail,
                );
            }
            if head == "_children" {
                return Err(PathError::NoChildren);
            }
            let index = parse_index(head)?;
            let Some(tail) = tail else {
                return Err(PathError::Undefined);
            };
            let (leaf_name, more) = split(tail);
            return match (is_objectives, leaf_name) {
                (true, "id") => leaf_field(InteractionField::ObjectiveId(index), more),
                (false, "pattern") => leaf_field(InteractionField::Pattern(index), more),
                _ => Err(PathError::Undefined),
            };
        }
        "timestamp" => InteractionField::Timestamp,
        "weighting" => InteractionField::Weighting,
        "learner_response" => InteractionField::LearnerResponse,
        "result" => InteractionField::Result,
        "latency" => InteractionField::Latency,
        "description" => InteractionField::Description,
        _ => return Err(PathError::Undefined),
    };
    leaf_field(field, rest)
}

fn parse_target(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("{target=")?.strip_suffix('}')?;
    if inner.is_empty() { None } else { Some(inner) }
}

/// Resolves a SCORM 2004 element name.
pub(crate) fn parse_path(name: &str) -> Result<Path<'_>, PathError> {
    if let Some(rest) = name.strip_prefix("cmi.") {
        let (head, tail) = split(rest);
        return match head {
            "_version" => leaf(Path::Version, tail),
            "comments_from_learner" => Ok(Path::CommentsFromLearner(parse_list(
                tail,
                parse_comment_field,
            )?)),
            "comments_from_lms" => Ok(Path::CommentsFromLms(parse_list(
                tail,
                parse_comment_field,
            )?)),
            "completion_status" => leaf(Path::CompletionStatus, tail),
            "completion_threshold" => leaf(Path::CompletionThreshold, tail),
            "credit" => leaf(Path::Credit, tail),
            "entry" => leaf(Path::Entry, tail),
            "exit" => leaf(Path::Exit, tail),
            "interactions" => Ok(Path::Interactions(parse_list(
                tail,
                parse_interaction_field,
            )?)),
            "launch_data" => leaf(Path::LaunchData, tail),
            "learner_id" => leaf(Path::LearnerId, tail),
            "learner_name" => leaf(Path::LearnerName, tail),
            "learner_preference" => {
                let Some(tail) = tail else {
                    return Err(PathError::Undefined);
                };
                let (field, more) = split(tail);
                let field = match field {
                    "_children" => PreferenceField::Children,
                    "audio_level" => PreferenceField::AudioLevel,
                    "language" => PreferenceField::Language,
                    "delivery_speed" => PreferenceField::DeliverySpeed,
                    "audio_captioning" => PreferenceField::AudioCaptioning,
                    "_count" if more.is_none() => return Err(PathError::NoCount),
                    _ => return Err(PathError::Undefined),
                };
                Ok(Path::LearnerPreference(leaf_field(field, more)?))
            }
            "location" => leaf(Path::Location, tail),
            "max_time_allowed" => leaf(Path::MaxTimeAllowed, tail),
            "mode" => leaf(Path::Mode, tail),
            "objectives" => Ok(Path::Objectives(parse_list(tail, parse_objective_field)?)),
            "progress_measure" => leaf(Path::ProgressMeasure, tail),
            "scaled_passing_score" => leaf(Path::ScaledPassingScore, tail),
            "score" => Ok(Path::Score(parse_score(tail)?)),
            "session_time" => leaf(Path::SessionTime, tail),
            "success_status" => leaf(Path::SuccessStatus, tail),
            "suspend_data" => leaf(Path::SuspendData, tail),
            "time_limit_action" => leaf(Path::TimeLimitAction, tail),
            "total_time" => leaf(Path::TotalTime, tail),
            _ => Err(PathError::Undefined),
        };
    }
    if let Some(rest) = name.strip_prefix("adl.nav.") {
        if rest == "request" {
            return Ok(Path::NavRequest);
        }
        if let Some(query) = rest.strip_prefix("request_valid.") {
            return match query {
                "continue" => Ok(Path::NavValidContinue),
                "previous" => Ok(Path::NavValidPrevious),
                _ => {
                    if let Some(target) = query.strip_prefix("choice.") {
                        parse_target(target)
                            .map(Path::NavValidChoice)
                            .ok_or(PathError::Undefined)
                    } else if let Some(target) = query.strip_prefix("jump.") {
                        parse_target(target)
                            .map(Path::NavValidJump)
                            .ok_or(PathError::Undefined)
                    } else {
                        Err(PathError::Undefined)
                    }
                }
            };
        }
        return Err(PathError::Undefined);
    }
    if let Some(rest) = name.strip_prefix("adl.data") {
        let tail = match rest.strip_prefix('.') {
            Some(t) => Some(t),
            None if rest.is_empty() => None,
            None => return Err(PathError::Undefined),
        };
        return Ok(Path::Data(parse_list(tail, |field, more| {
            let field = match field {
                "id" => DataField::Id,
                "store" => DataField::Store,
                _ => return Err(PathError::Undefined),
            };
            leaf_field(field, more)
        })?));
    }
    Err(PathError::Undefined)
}

// ---------------------------------------------------------------------------------------------
// GetValue

/// A value or a SCORM 2004 error code.
pub(crate) type Got<'s> = Result<Cow<'s, str>, u16>;

fn stored(value: &Option<String>) -> Got<'_> {
    match value {
        Some(v) => Ok(Cow::Borrowed(v.as_str())),
        None => Err(code::VALUE_NOT_INITIALIZED),
    }
}

fn count(n: usize) -> Got<'static> {
    Ok(Cow::Owned(n.to_string()))
}

fn score_get(score: &Score, field: ScoreField) -> Got<'_> {
    match field {
        ScoreField::Children => Ok(Cow::Borrowed("scaled,raw,min,max")),
        ScoreField::Scaled => stored(&score.scaled),
        ScoreField::Raw => stored(&score.raw),
        ScoreField::Min => stored(&score.min),
        ScoreField::Max => stored(&score.max),
    }
}

/// Formats a configured real the way manifests write them (`1.0`, `0.8`, `-0.5`).
fn real_text(value: f64) -> String {
    format!("{value:?}")
}

pub(crate) fn get<'s>(
    cmi: &'s Cmi2004,
    config: &'s AttemptConfig,
    nav: &'s NavigationValidity,
    name: &str,
) -> Got<'s> {
    if name.is_empty() {
        return Err(code::GENERAL_GET_FAILURE);
    }
    let path = match parse_path(name) {
        Ok(p) => p,
        Err(PathError::Undefined) => return Err(code::UNDEFINED_ELEMENT),
        Err(PathError::NoChildren | PathError::NoCount) => return Err(code::GENERAL_GET_FAILURE),
    };
    match path {
        Path::Version => Ok(Cow::Borrowed("1.0")),
        Path::CommentsFromLearner(list) => comments_get(&cmi.comments_from_learner, list),
        Path::CommentsFromLms(list) => match list {
            List::Children => Ok(Cow::Borrowed("comment,location,timestamp")),
            List::Count => count(config.comments_from_lms.len()),
            List::Item(n, field) => {
                let c = config
                    .comments_from_lms
                    .get(n)
                    .ok_or(code::GENERAL_GET_FAILURE)?;
                match field {
                    CommentField::Comment => Ok(Cow::Borrowed(c.comment.as_str())),
                    CommentField::Location => stored(&c.location),
                    CommentField::Timestamp => stored(&c.timestamp),
                }
            }
        },
        Path::CompletionStatus => Ok(Cow::Borrowed(cmi.evaluated_completion(config))),
        Path::CompletionThreshold => match config.completion_threshold {
            Some(t) => Ok(Cow::Owned(real_text(t))),
            None => Err(code::VALUE_NOT_INITIALIZED),
        },
        Path::Credit => Ok(Cow::Borrowed(config.credit.as_str())),
        Path::Entry => Ok(Cow::Borrowed(cmi.entry.as_str())),
        Path::Exit | Path::SessionTime => Err(code::WRITE_ONLY),
        Path::Interactions(list) => interactions_get(&cmi.interactions, list),
        Path::LaunchData => match &config.launch_data {
            Some(d) => Ok(Cow::Borrowed(d.as_str())),
            None => Err(code::VALUE_NOT_INITIALIZED),
        },
        Path::LearnerId => Ok(Cow::Borrowed(config.learner_id.as_str())),
        Path::LearnerName => Ok(Cow::Borrowed(config.learner_name.as_str())),
        Path::LearnerPreference(field) => {
            let p = &cmi.learner_preference;
            Ok(Cow::Borrowed(match field {
                PreferenceField::Children => "audio_level,language,delivery_speed,audio_captioning",
                PreferenceField::AudioLevel => p.audio_level.as_deref().unwrap_or("1"),
                PreferenceField::Language => p.language.as_deref().unwrap_or(""),
                PreferenceField::DeliverySpeed => p.delivery_speed.as_deref().unwrap_or("1"),
                PreferenceField::AudioCaptioning => p.audio_captioning.as_deref().unwrap_or("0"),
            }))
        }
        Path::Location => stored(&cmi.location),
        Path::MaxTimeAllowed => match &config.max_time_allowed {
            Some(t) => Ok(Cow::Borrowed(t.as_str())),
            None => Err(code::VALUE_NOT_INITIALIZED),
        },
        Path::Mode => Ok(Cow::Borrowed(config.mode.as_str())),
        Path::Objectives(list) => objectives_get(&cmi.objectives, list),
        Path::ProgressMeasure => stored(&cmi.progress_measure),
        Path::ScaledPassingScore => match config.scaled_passing_score {
            Some(s) => Ok(Cow::Owned(real_text(s))),
            None => Err(code::VALUE_NOT_INITIALIZED),
        },
        Path::Score(field) => score_get(&cmi.score, field),
        Path::SuccessStatus => Ok(Cow::Borrowed(cmi.evaluated_success(config))),
        Path::SuspendData => stored(&cmi.suspend_data),
        Path::TimeLimitAction => Ok(Cow::Borrowed(
            config.time_limit_action.unwrap_or_default().as_str(),
        )),
        Path::TotalTime => Ok(Cow::Owned(format_duration(cmi.total_time_cs))),
        Path::NavRequest => Ok(Cow::Borrowed(cmi.nav_request.as_str())),
        Path::NavValidContinue => Ok(Cow::Borrowed(nav.continue_.as_str())),
        Path::NavValidPrevious => Ok(Cow::Borrowed(nav.previous.as_str())),
        Path::NavValidChoice(target) => Ok(Cow::Borrowed(
            nav.choice.get(target).copied().unwrap_or_default().as_str(),
        )),
        Path::NavValidJump(target) => Ok(Cow::Borrowed(
            nav.jump.get(target).copied().unwrap_or_default().as_str(),
        )),
        Path::Data(list) => match list {
            List::Children => Ok(Cow::Borrowed("id,store")),
            List::Count => count(cmi.shared_data.len()),
            List::Item(n, field) => {
                let bucket = cmi.shared_data.get(n).ok_or(code::GENERAL_GET_FAILURE)?;
                match field {
                    DataField::Id => Ok(Cow::Borrowed(bucket.id.as_str())),
                    DataField::Store if !bucket.readable => Err(code::WRITE_ONLY),
                    DataField::Store => stored(&bucket.store),
                }
            }
        },
    }
}

fn comments_get(comments: &[Comment], list: List<CommentField>) -> Got<'_> {
    match list {
        List::Children => Ok(Cow::Borrowed("comment,location,timestamp")),
        List::Count => count(comments.len()),
        List::Item(n, field) => {
            let c = comments.get(n).ok_or(code::GENERAL_GET_FAILURE)?;
            match field {
                CommentField::Comment => stored(&c.comment),
                CommentField::Location => stored(&c.location),
                CommentField::Timestamp => stored(&c.timestamp),
            }
        }
    }
}

fn objectives_get(objectives: &[Objective], list: List<ObjectiveField>) -> Got<'_> {
    match list {
        List::Children => Ok(Cow::Borrowed(
            "id,score,success_status,completion_status,progress_measure,description",
        )),
        List::Count => count(objectives.len()),
        List::Item(n, field) => {
            let o = objectives.get(n).ok_or(code::GENERAL_GET_FAILURE)?;
            match field {
                ObjectiveField::Id => stored(&o.id),
                ObjectiveField::Score(f) => score_get(&o.score, f),
                ObjectiveField::SuccessStatus => Ok(Cow::Borrowed(
                    o.success_status.as_deref().unwrap_or("unknown"),
                )),
                ObjectiveField::CompletionStatus => Ok(Cow::Borrowed(
                    o.completion_status.as_deref().unwrap_or("unknown"),
                )),
                ObjectiveField::ProgressMeasure => stored(&o.progress_measure),
                ObjectiveField::Description => stored(&o.description),
            }
        }
    }
}

fn interactions_get(interactions: &[Interaction], list: List<InteractionField>) -> Got<'_> {
    match list {
        List::Children => Ok(Cow::Borrowed(
            "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description",
        )),
        List::Count => count(interactions.len()),
        List::Item(n, field) => {
            let i = interactions.get(n).ok_or(code::GENERAL_GET_FAILURE)?;
            match field {
                InteractionField::Id => stored(&i.id),
                InteractionField::Type => match i.kind {
                    Some(k) => Ok(Cow::Borrowed(k.as_str())),
                    None => Err(code::VALUE_NOT_INITIALIZED),
                },
                InteractionField::ObjectivesCount => count(i.objectives.len()),
                InteractionField::ObjectiveId(m) => i
                    .objectives
                    .get(m)
                    .map(|s| Cow::Borrowed(s.as_str()))
                    .ok_or(code::GENERAL_GET_FAILURE),
                InteractionField::Timestamp => stored(&i.timestamp),
                InteractionField::CorrectResponsesCount => count(i.correct_responses.len()),
                InteractionField::Pattern(m) => i
                    .correct_responses
                    .get(m)
                    .map(|s| Cow::Borrowed(s.as_str()))
                    .ok_or(code::GENERAL_GET_FAILURE),
                InteractionField::Weighting => stored(&i.weighting),
                InteractionField::LearnerResponse => stored(&i.learner_response),
                InteractionField::Result => stored(&i.result),
                InteractionField::Latency => stored(&i.latency),
                InteractionField::Description => stored(&i.description),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SetValue

fn check_real(value: &str, min: Option<f64>, max: Option<f64>) -> Result<(), u16> {
    let v = parse_real(value).ok_or(code::TYPE_MISMATCH)?;
    if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
        return Err(code::OUT_OF_RANGE);
    }
    Ok(())
}

fn check_vocab(value: &str, words: &[&str]) -> Result<(), u16> {
    if words.contains(&value) {
        Ok(())
    } else {
        Err(code::TYPE_MISMATCH)
    }
}

fn check(ok: bool) -> Result<(), u16> {
    if ok { Ok(()) } else { Err(code::TYPE_MISMATCH) }
}

const COMPLETION: &[&str] = &["completed", "incomplete", "not attempted", "unknown"];
const SUCCESS: &[&str] = &["passed", "failed", "unknown"];

fn put(slot: &mut Option<String>, value: &str) {
    match slot {
        Some(existing) => {
            existing.clear();
            existing.push_str(value);
        }
        None => *slot = Some(value.to_owned()),
    }
}

fn score_set(score: &mut Score, field: ScoreField, value: &str) -> Result<(), u16> {
    match field {
        ScoreField::Children => Err(code::READ_ONLY),
        ScoreField::Scaled => {
            check_real(value, Some(-1.0), Some(1.0))?;
            put(&mut score.scaled, value);
            Ok(())
        }
        ScoreField::Raw => {
            check_real(value, None, None)?;
            put(&mut score.raw, value);
            Ok(())
        }
        ScoreField::Min => {
            check_real(value, None, None)?;
            put(&mut score.min, value);
            Ok(())
        }
        ScoreField::Max => {
            check_real(value, None, None)?;
            put(&mut score.max, value);
            Ok(())
        }
    }
}

fn is_nav_request(value: &str) -> bool {
    match value {
        "continue" | "previous" | "exit" | "exitAll" | "abandon" | "abandonAll" | "suspendAll"
        | "_none_" => true,
        _ => {
            let Some(rest) = value.strip_prefix("{target=") else {
                return false;
            };
            let Some((target, command)) = rest.split_once('}') else {
                return false;
            };
            !target.is_empty() && matches!(command, "choice" | "jump")
        }
    }
}

pub(crate) fn set(cmi: &mut Cmi2004, name: &str, value: &str) -> Result<(), u16> {
    if name.is_empty() {
        return Err(code::GENERAL_SET_FAILURE);
    }
    let path = match parse_path(name) {
        Ok(p) => p,
        Err(PathError::Undefined) => return Err(code::UNDEFINED_ELEMENT),
        Err(PathError::NoChildren | PathError::NoCount) => return Err(code::READ_ONLY),
    };
    match path {
        Path::Version
        | Path::CommentsFromLms(_)
        | Path::CompletionThreshold
        | Path::Credit
        | Path::Entry
        | Path::LaunchData
        | Path::LearnerId
        | Path::LearnerName
        | Path::MaxTimeAllowed
        | Path::Mode
        | Path::ScaledPassingScore
        | Path::TimeLimitAction
        | Path::TotalTime
        | Path::NavValidContinue
        | Path::NavValidPrevious
        | Path::NavValidChoice(_)
        | Path::NavValidJump(_)
        | Path::LearnerPreference(PreferenceField::Children)
        | Path::Score(ScoreField::Children) => Err(code::READ_ONLY),
        Path::CommentsFromLearner(list) => comment_set(&mut cmi.comments_from_learner, list, value),
        Path::CompletionStatus => {
            check_vocab(value, COMPLETION)?;
            put(&mut cmi.completion_status, value);
            Ok(())
        }
        Path::Exit => {
            check_vocab(value, &["time-out", "suspend", "logout", "normal", ""])?;
            put(&mut cmi.exit, value);
            Ok(())
        }
        Path::Interactions(list) => interaction_set(&mut cmi.interactions, list, value),
        Path::LearnerPreference(field) => {
            let p = &mut cmi.learner_preference;
            match field {
                PreferenceField::AudioLevel => {
                    check_real(value, Some(0.0), None)?;
                    put(&mut p.audio_level, value);
                }
                PreferenceField::Language => {
                    check(is_language(value))?;
                    put(&mut p.language, value);
                }
                PreferenceField::DeliverySpeed => {
                    check_real(value, Some(0.0), None)?;
                    put(&mut p.delivery_speed, value);
                }
                PreferenceField::AudioCaptioning => {
                    check_vocab(value, &["-1", "0", "1"])?;
                    put(&mut p.audio_captioning, value);
                }
                PreferenceField::Children => return Err(code::READ_ONLY),
            }
            Ok(())
        }
        Path::Location => {
            put(&mut cmi.location, value);
            Ok(())
        }
        Path::Objectives(list) => objective_set(&mut cmi.objectives, list, value),
        Path::ProgressMeasure => {
            check_real(value, Some(0.0), Some(1.0))?;
            put(&mut cmi.progress_measure, value);
            Ok(())
        }
        Path::Score(field) => score_set(&mut cmi.score, field, value),
        Path::SessionTime => {
            check(parse_duration(value).is_some())?;
            put(&mut cmi.session_time, value);
            Ok(())
        }
        Path::SuccessStatus => {
            check_vocab(value, SUCCESS)?;
            put(&mut cmi.success_status, value);
            Ok(())
        }
        Path::SuspendData => {
            put(&mut cmi.suspend_data, value);
            Ok(())
        }
        Path::NavRequest => {
            check(is_nav_request(value))?;
            cmi.nav_request.clear();
            cmi.nav_request.push_str(value);
            Ok(())
        }
        Path::Data(list) => match list {
            List::Children | List::Count => Err(code::READ_ONLY),
            List::Item(n, field) => {
                let bucket = cmi
                    .shared_data
                    .get_mut(n)
                    .ok_or(code::GENERAL_SET_FAILURE)?;
                match field {
                    DataField::Id => Err(code::READ_ONLY),
                    DataField::Store if !bucket.writable => Err(code::READ_ONLY),
                    DataField::Store => {
                        if value.is_empty() {
                            bucket.store = None;
                        } else {
                            put(&mut bucket.store, value);
                        }
                        Ok(())
                    }
                }
            }
        },
    }
}

fn comment_set(
    comments: &mut Vec<Comment>,
    list: List<CommentField>,
    value: &str,
) -> Result<(), u16> {
    let List::Item(n, field) = list else {
        return Err(code::READ_ONLY);
    };
    if n > comments.len() {
        return Err(code::GENERAL_SET_FAILURE);
    }
    match field {
        CommentField::Comment => check(is_localized_string(value))?,
        CommentField::Location => {}
        CommentField::Timestamp => check(is_time(value))?,
    }
    if n == comments.len() {
        comments.push(Comment::default());
    }
    let c = &mut comments[n];
    let slot = match field {
        CommentField::Comment => &mut c.comment,
        CommentField::Location => &mut c.location,
        CommentField::Timestamp => &mut c.timestamp,
    };
    put(slot, value);
    Ok(())
}

fn objective_set(
    objectives: &mut Vec<Objective>,
    list: List<ObjectiveField>,
    value: &str,
) -> Result<(), u16> {
    let List::Item(n, field) = list else {
        return Err(code::READ_ONLY);
    };
    if n > objectives.len() {
        return Err(code::GENERAL_SET_FAILURE);
    }
    if let ObjectiveField::Id = field {
        check(is_identifier(value))?;
        if let Some(existing) = objectives.get(n).and_then(|o| o.id.as_deref()) {
            return if existing == value {
                Ok(())
            } else {
                Err(code::GENERAL_SET_FAILURE)
            };
        }
        if objectives
            .iter()
            .enumerate()
            .any(|(k, o)| k != n && o.id.as_deref() == Some(value))
        {
            return Err(code::GENERAL_SET_FAILURE);
        }
        if n == objectives.len() {
            objectives.push(Objective::default());
        }
        objectives[n].id = Some(value.to_owned());
        return Ok(());
    }
    if matches!(field, ObjectiveField::Score(ScoreField::Children)) {
        return Err(code::READ_ONLY);
    }
    let Some(o) = objectives.get_mut(n) else {
        return Err(code::DEPENDENCY_NOT_ESTABLISHED);
    };
    if o.id.is_none() {
        return Err(code::DEPENDENCY_NOT_ESTABLISHED);
    }
    match field {
        ObjectiveField::Id => unreachable_id(),
        ObjectiveField::Score(f) => score_set(&mut o.score, f, value),
        ObjectiveField::SuccessStatus => {
            check_vocab(value, SUCCESS)?;
            put(&mut o.success_status, value);
            Ok(())
        }
        ObjectiveField::CompletionStatus => {
            check_vocab(value, COMPLETION)?;
            put(&mut o.completion_status, value);
            Ok(())
        }
        ObjectiveField::ProgressMeasure => {
            check_real(value, Some(0.0), Some(1.0))?;
            put(&mut o.progress_measure, value);
            Ok(())
        }
        ObjectiveField::Description => {
            check(is_localized_string(value))?;
            put(&mut o.description, value);
            Ok(())
        }
    }
}

/// The id case returns earlier; kept as a function so the match stays exhaustive without a panic.
fn unreachable_id() -> Result<(), u16> {
    Err(code::GENERAL_SET_FAILURE)
}

fn interaction_set(
    interactions: &mut Vec<Interaction>,
    list: List<InteractionField>,
    value: &str,
) -> Result<(), u16> {
    let List::Item(n, field) = list else {
        return Err(code::READ_ONLY);
    };
    if n > interactions.len() {
        return Err(code::GENERAL_SET_FAILURE);
    }
    if matches!(
        field,
        InteractionField::ObjectivesCount | InteractionField::CorrectResponsesCount
    ) {
        return Err(code::READ_ONLY);
    }
    if let InteractionField::Id = field {
        check(is_identifier(value))?;
        if n == interactions.len() {
            interactions.push(Interaction::default());
        }
        put(&mut interactions[n].id, value);
        return Ok(());
    }
    let Some(i) = interactions.get_mut(n) else {
        return Err(code::DEPENDENCY_NOT_ESTABLISHED);
    };
    if i.id.is_none() {
        return Err(code::DEPENDENCY_NOT_ESTABLISHED);
    }
    match field {
        InteractionField::Id
        | InteractionField::ObjectivesCount
        | InteractionField::CorrectResponsesCount => Err(code::READ_ONLY),
        InteractionField::Type => {
            let kind = InteractionType::parse_2004(value).ok_or(code::TYPE_MISMATCH)?;
            i.kind = Some(kind);
            Ok(())
        }
        InteractionField::ObjectiveId(m) => {
            if m > i.objectives.len() {
                return Err(code::GENERAL_SET_FAILURE);
            }
            check(is_identifier(value))?;
            if i.objectives
                .iter()
                .enumerate()
                .any(|(k, id)| k != m && id == value)
            {
                return Err(code::GENERAL_SET_FAILURE);
            }
            if m == i.objectives.len() {
                i.objectives.push(value.to_owned());
            } else {
                i.objectives[m] = value.to_owned();
            }
            Ok(())
        }
        InteractionField::Timestamp => {
            check(is_time(value))?;
            put(&mut i.timestamp, value);
            Ok(())
        }
        InteractionField::Pattern(m) => {
            let Some(kind) = i.kind else {
                return Err(code::DEPENDENCY_NOT_ESTABLISHED);
            };
            if m > i.correct_responses.len() || kind.max_patterns().is_some_and(|max| m >= max) {
                return Err(code::GENERAL_SET_FAILURE);
            }
            check(is_valid_pattern(kind, value))?;
            if kind == InteractionType::Choice
                && i.correct_responses
                    .iter()
                    .enumerate()
                    .any(|(k, p)| k != m && p == value)
            {
                return Err(code::GENERAL_SET_FAILURE);
            }
            if m == i.correct_responses.len() {
                i.correct_responses.push(value.to_owned());
            } else {
                i.correct_responses[m] = value.to_owned();
            }
            Ok(())
        }
        InteractionField::Weighting => {
            check_real(value, None, None)?;
            put(&mut i.weighting, value);
            Ok(())
        }
        InteractionField::LearnerResponse => {
            let Some(kind) = i.kind else {
                return Err(code::DEPENDENCY_NOT_ESTABLISHED);
            };
            check(is_valid_response(kind, value))?;
            put(&mut i.learner_response, value);
            Ok(())
        }
        InteractionField::Result => {
            let ok = matches!(value, "correct" | "incorrect" | "unanticipated" | "neutral")
                || parse_real(value).is_some();
            check(ok)?;
            put(&mut i.result, value);
            Ok(())
        }
        InteractionField::Latency => {
            check(parse_duration(value).is_some())?;
            put(&mut i.latency, value);
            Ok(())
        }
        InteractionField::Description => {
            check(is_localized_string(value))?;
            put(&mut i.description, value);
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// flattening for storage and deltas

fn push(out: &mut Vec<(String, String)>, name: String, value: &Option<String>) {
    if let Some(v) = value {
        out.push((name, v.clone()));
    }
}

fn push_score(out: &mut Vec<(String, String)>, prefix: &str, score: &Score) {
    push(out, format!("{prefix}.scaled"), &score.scaled);
    push(out, format!("{prefix}.raw"), &score.raw);
    push(out, format!("{prefix}.min"), &score.min);
    push(out, format!("{prefix}.max"), &score.max);
}

/// Every learner-set or LMS-evaluated value as `(element, value)`, in a fixed order.
pub(crate) fn values(cmi: &Cmi2004, config: &AttemptConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (n, c) in cmi.comments_from_learner.iter().enumerate() {
        push(
            &mut out,
            format!("cmi.comments_from_learner.{n}.comment"),
            &c.comment,
        );
        push(
            &mut out,
            format!("cmi.comments_from_learner.{n}.location"),
            &c.location,
        );
        push(
            &mut out,
            format!("cmi.comments_from_learner.{n}.timestamp"),
            &c.timestamp,
        );
    }
    out.push((
        "cmi.completion_status".into(),
        cmi.evaluated_completion(config).to_owned(),
    ));
    out.push(("cmi.entry".into(), cmi.entry.clone()));
    push(&mut out, "cmi.exit".into(), &cmi.exit);
    for (n, i) in cmi.interactions.iter().enumerate() {
        let p = format!("cmi.interactions.{n}");
        push(&mut out, format!("{p}.id"), &i.id);
        if let Some(k) = i.kind {
            out.push((format!("{p}.type"), k.as_str().to_owned()));
        }
        for (m, id) in i.objectives.iter().enumerate() {
            out.push((format!("{p}.objectives.{m}.id"), id.clone()));
        }
        push(&mut out, format!("{p}.timestamp"), &i.timestamp);
        for (m, pattern) in i.correct_responses.iter().enumerate() {
            out.push((
                format!("{p}.correct_responses.{m}.pattern"),
                pattern.clone(),
            ));
        }
        push(&mut out, format!("{p}.weighting"), &i.weighting);
        push(
            &mut out,
            format!("{p}.learner_response"),
            &i.learner_response,
        );
        push(&mut out, format!("{p}.result"), &i.result);
        push(&mut out, format!("{p}.latency"), &i.latency);
        push(&mut out, format!("{p}.description"), &i.description);
    }
    let lp = &cmi.learner_preference;
    push(
        &mut out,
        "cmi.learner_preference.audio_level".into(),
        &lp.audio_level,
    );
    push(
        &mut out,
        "cmi.learner_preference.language".into(),
        &lp.language,
    );
    push(
        &mut out,
        "cmi.learner_preference.delivery_speed".into(),
        &lp.delivery_speed,
    );
    push(
        &mut out,
        "cmi.learner_preference.audio_captioning".into(),
        &lp.audio_captioning,
    );
    push(&mut out, "cmi.location".into(), &cmi.location);
    for (n, o) in cmi.objectives.iter().enumerate() {
        let p = format!("cmi.objectives.{n}");
        push(&mut out, format!("{p}.id"), &o.id);
        push_score(&mut out, &format!("{p}.score"), &o.score);
        push(&mut out, format!("{p}.success_status"), &o.success_status);
        push(
            &mut out,
            format!("{p}.completion_status"),
            &o.completion_status,
        );
        push(
            &mut out,
            format!("{p}.progress_measure"),
            &o.progress_measure,
        );
        push(&mut out, format!("{p}.description"), &o.description);
    }
    push(
        &mut out,
        "cmi.progress_measure".into(),
        &cmi.progress_measure,
    );
    push_score(&mut out, "cmi.score", &cmi.score);
    push(&mut out, "cmi.session_time".into(), &cmi.session_time);
    out.push((
        "cmi.success_status".into(),
        cmi.evaluated_success(config).to_owned(),
    ));
    push(&mut out, "cmi.suspend_data".into(), &cmi.suspend_data);
    out.push((
        "cmi.total_time".into(),
        format_duration(cmi.total_time_with_session()),
    ));
    out.push(("adl.nav.request".into(), cmi.nav_request.clone()));
    for (n, b) in cmi.shared_data.iter().enumerate() {
        out.push((format!("adl.data.{n}.id"), b.id.clone()));
        push(&mut out, format!("adl.data.{n}.store"), &b.store);
    }
    out
}
