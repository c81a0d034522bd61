//! Run-time events → statements, following the xAPI SCORM Profile's temporal model and data
//! model mapping.

use chrono::{DateTime, SecondsFormat};
use lms_rte::interaction::InteractionType;
use lms_rte::types::parse_real;
use lms_rte::{AnsweredInteraction, CommitBatch, Completion, RteEvent, ScoreSnapshot, Success, UnixMillis};
use lms_xapi::syntax::{is_duration, is_language_tag};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::context::{attempt_iri, interaction_iri};
use crate::responses::{xapi_pattern, xapi_response};
use crate::{InteractionVerb, ScormContext, ScormXapiError};

/// The profile activity every statement carries in `context.contextActivities.category`.
pub const PROFILE_ACTIVITY_ID: &str = "https://w3id.org/xapi/scorm";

const VERB_PREFIX: &str = "http://adlnet.gov/expapi/verbs/";
const TYPE_PROFILE: &str = "http://adlnet.gov/expapi/activities/profile";
const TYPE_COURSE: &str = "http://adlnet.gov/expapi/activities/course";
const TYPE_SCO: &str = "http://adlnet.gov/expapi/activities/lesson";
const TYPE_ATTEMPT: &str = "http://adlnet.gov/expapi/activities/attempt";
const TYPE_INTERACTION: &str = "http://adlnet.gov/expapi/activities/cmi.interaction";

/// Latest time an xAPI timestamp can carry: 9999-12-31T23:59:59.999Z.
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// Turns the events of one or more commits of one SCO attempt into xAPI statements, in order,
/// one statement per event, except that a `Suspended` event directly followed by its
/// `Terminated` event becomes one `suspended` statement carrying the SCO's result (the profile
/// ends a suspended session with `suspended` instead of `terminated`, so the attempt stays
/// open). `next_id` supplies the statement ids, called once per statement in output order.
///
/// Every statement validates under xAPI 1.0.3 and 2.0.0 (no `version`, `stored` or
/// `authority`: the LRS adds those).
pub fn to_statements(
    context: &ScormContext,
    events: &[RteEvent],
    mut next_id: impl FnMut() -> Uuid,
) -> Result<Vec<Value>, ScormXapiError> {
    context.validate()?;
    let mut builder = Builder::new(context);
    let mut attempt = context.attempt;
    let mut statements = Vec::with_capacity(events.len());
    let mut index = 0;
    while let Some(event) = events.get(index) {
        let event_index = index;
        let stamp = |at: UnixMillis| timestamp(at, event_index);
        let statement = match event {
            RteEvent::Initialized { at, attempt: number, .. } | RteEvent::Resumed { at, attempt: number, .. } => {
                attempt = (*number).max(1);
                let verb = if matches!(event, RteEvent::Initialized { .. }) { "initialized" } else { "resumed" };
                builder.sco_statement(next_id(), verb, None, attempt, stamp(*at)?)
            }
            RteEvent::Completed { at, .. } => {
                let result = json!({"completion": true});
                builder.sco_statement(next_id(), "completed", Some(result), attempt, stamp(*at)?)
            }
            RteEvent::Passed { at, score } | RteEvent::Failed { at, score } => {
                let passed = matches!(event, RteEvent::Passed { .. });
                let mut result = Map::new();
                if let Some(score) = score.as_ref().and_then(score_json) {
                    result.insert("score".into(), score);
                }
                result.insert("success".into(), Value::Bool(passed));
                let verb = if passed { "passed" } else { "failed" };
                builder.sco_statement(next_id(), verb, Some(Value::Object(result)), attempt, stamp(*at)?)
            }
            RteEvent::Scored { at, score } => match score_json(score) {
                Some(score) => {
                    let result = json!({"score": score});
                    builder.sco_statement(next_id(), "scored", Some(result), attempt, stamp(*at)?)
                }
                // no scaled or raw score xAPI can carry (only bounds, or non-finite numbers)
                None => {
                    index += 1;
                    continue;
                }
            },
            RteEvent::Answered { at, interaction } => {
                builder.interaction_statement(next_id(), interaction, attempt, stamp(*at)?)
            }
            RteEvent::Suspended { at, session_time, .. } => {
                let mut result = Map::new();
                if let Some(RteEvent::Terminated { completion, success, score, .. }) = events.get(index + 1) {
                    sco_status(&mut result, *completion, *success, score.as_ref());
                    index += 1;
                }
                if let Some(duration) = session_time.as_deref().filter(|d| is_duration(d)) {
                    result.insert("duration".into(), Value::String(duration.to_owned()));
                }
                let result = (!result.is_empty()).then_some(Value::Object(result));
                builder.sco_statement(next_id(), "suspended", result, attempt, stamp(*at)?)
            }
            RteEvent::Terminated { at, session_time, completion, success, score, .. } => {
                let mut result = Map::new();
                sco_status(&mut result, *completion, *success, score.as_ref());
                if let Some(duration) = session_time.as_deref().filter(|d| is_duration(d)) {
                    result.insert("duration".into(), Value::String(duration.to_owned()));
                }
                let result = (!result.is_empty()).then_some(Value::Object(result));
                builder.sco_statement(next_id(), "terminated", result, attempt, stamp(*at)?)
            }
        };
        statements.push(statement);
        index += 1;
    }
    Ok(statements)
}

/// [`to_statements`] over the batches `Attempt::take_batches` returned, oldest first.
pub fn batches_to_statements(
    context: &ScormContext,
    batches: &[CommitBatch],
    next_id: impl FnMut() -> Uuid,
) -> Result<Vec<Value>, ScormXapiError> {
    let events: Vec<RteEvent> = batches.iter().flat_map(|batch| batch.events.iter().cloned()).collect();
    to_statements(context, &events, next_id)
}

/// What the LMS's rollup decided about the whole course (package) for a registration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CourseResult {
    /// `Some(true)` passed, `Some(false)` failed, `None` unknown.
    pub success: Option<bool>,
    pub score: Option<ScoreSnapshot>,
}

/// The optional course-status statement of the profile: the learner `completed` the course
/// activity, with success and score when known. Only `context.course_iri`, `course_title`,
/// `learner`, `registration` and `language` are used.
pub fn course_completed_statement(
    context: &ScormContext,
    course: &CourseResult,
    at: UnixMillis,
    id: Uuid,
) -> Result<Value, ScormXapiError> {
    context.validate()?;
    let builder = Builder::new(context);
    let mut result = Map::new();
    if let Some(score) = course.score.as_ref().and_then(score_json) {
        result.insert("score".into(), score);
    }
    if let Some(success) = course.success {
        result.insert("success".into(), Value::Bool(success));
    }
    result.insert("completion".into(), Value::Bool(true));
    let object = with_object_type(&builder.course);
    Ok(json!({
        "id": id.hyphenated().to_string(),
        "actor": builder.actor,
        "verb": verb("completed"),
        "object": object,
        "result": result,
        "context": {
            "registration": builder.registration,
            "contextActivities": {"category": [profile_activity()]},
        },
        "timestamp": timestamp(at, 0)?,
    }))
}

/// The parts every statement of one context shares, built once.
struct Builder<'a> {
    context: &'a ScormContext,
    actor: Value,
    registration: String,
    course: Value,
    sco: Value,
    /// The SCO as a statement's object (`objectType` first).
    sco_object: Value,
    /// The contexts of SCO and interaction statements for the attempt they were built for.
    contexts: Option<(u32, Value, Value)>,
}

impl<'a> Builder<'a> {
    fn new(context: &'a ScormContext) -> Self {
        let sco = json!({
            "id": context.sco_iri,
            "definition": {
                "name": { context.language.as_str(): context.sco_title },
                "type": TYPE_SCO,
            },
        });
        let mut course_definition = Map::new();
        if let Some(title) = &context.course_title {
            course_definition.insert("name".into(), json!({ context.language.as_str(): title }));
        }
        course_definition.insert("type".into(), json!(TYPE_COURSE));
        Self {
            context,
            actor: json!({
                "objectType": "Agent",
                "account": {"homePage": context.learner.home_page, "name": context.learner.name},
            }),
            registration: context.registration.hyphenated().to_string(),
            course: json!({"id": context.course_iri, "definition": course_definition}),
            sco_object: with_object_type(&sco),
            sco,
            contexts: None,
        }
    }

    fn attempt(&self, attempt: u32) -> Value {
        let name = format!("{} (attempt {attempt})", self.context.sco_title);
        json!({
            "id": attempt_iri(&self.context.sco_iri, self.context.registration, attempt),
            "definition": {"name": { self.context.language.as_str(): name }, "type": TYPE_ATTEMPT},
        })
    }

    /// The statement context for the attempt: the SCO's, or an interaction's (parent = SCO).
    fn context_for(&mut self, attempt: u32, interaction: bool) -> Value {
        if self.contexts.as_ref().is_none_or(|(cached, _, _)| *cached != attempt) {
            let sco_context = self.context(attempt, None);
            let interaction_context = self.context(attempt, Some(&self.sco));
            self.contexts = Some((attempt, sco_context, interaction_context));
        }
        match &self.contexts {
            Some((_, _, context)) if interaction => context.clone(),
            Some((_, context, _)) => context.clone(),
            None => self.context(attempt, interaction.then_some(&self.sco)),
        }
    }

    fn context(&self, attempt: u32, parent: Option<&Value>) -> Value {
        let mut activities = Map::new();
        if let Some(parent) = parent {
            activities.insert("parent".into(), json!([parent]));
        }
        activities.insert("grouping".into(), json!([self.course, self.attempt(attempt)]));
        activities.insert("category".into(), json!([profile_activity()]));
        json!({"registration": self.registration, "contextActivities": activities})
    }

    fn statement(
        &self,
        id: Uuid,
        verb_name: &str,
        object: Value,
        result: Option<Value>,
        context: Value,
        timestamp: String,
    ) -> Value {
        let mut statement = Map::new();
        statement.insert("id".into(), json!(id.hyphenated().to_string()));
        statement.insert("actor".into(), self.actor.clone());
        statement.insert("verb".into(), verb(verb_name));
        statement.insert("object".into(), object);
        if let Some(result) = result {
            statement.insert("result".into(), result);
        }
        statement.insert("context".into(), context);
        statement.insert("timestamp".into(), Value::String(timestamp));
        Value::Object(statement)
    }

    /// A statement whose object is the SCO: grouping = course and attempt.
    fn sco_statement(&mut self, id: Uuid, verb_name: &str, result: Option<Value>, attempt: u32, timestamp: String) -> Value {
        let context = self.context_for(attempt, false);
        self.statement(id, verb_name, self.sco_object.clone(), result, context, timestamp)
    }

    /// A statement about an interaction: parent = SCO, grouping = course and attempt.
    fn interaction_statement(&mut self, id: Uuid, interaction: &AnsweredInteraction, attempt: u32, timestamp: String) -> Value {
        let version = self.context.version;
        let kind = interaction.interaction_type.as_deref().and_then(InteractionType::parse_2004);
        let language = self.context.language.as_str();

        let mut definition = Map::new();
        // name: the SCORM id (what reports list); description: the question text, if any
        let name = if interaction.id.is_empty() {
            format!("interaction {}", interaction.index)
        } else {
            interaction.id.clone()
        };
        definition.insert("name".into(), json!({ language: name }));
        if let Some((lang, text)) = interaction.description.as_deref().map(|text| localized(text, language)) {
            definition.insert("description".into(), json!({ lang: text }));
        }
        definition.insert("type".into(), json!(TYPE_INTERACTION));
        if let Some(kind) = kind {
            definition.insert("interactionType".into(), json!(kind.as_str()));
            if !interaction.correct_responses.is_empty() {
                let patterns: Vec<String> =
                    interaction.correct_responses.iter().map(|p| xapi_pattern(version, kind, p)).collect();
                definition.insert("correctResponsesPattern".into(), json!(patterns));
            }
        }
        let object = json!({
            "objectType": "Activity",
            "id": interaction_iri(&self.context.sco_iri, &interaction.id, interaction.index),
            "definition": definition,
        });

        let mut result = Map::new();
        if let Some(raw) = interaction.result.as_deref().and_then(parse_real).and_then(finite) {
            result.insert("score".into(), json!({"raw": raw}));
        }
        match interaction.result.as_deref() {
            Some("correct") => {
                result.insert("success".into(), Value::Bool(true));
            }
            Some("incorrect" | "wrong") => {
                result.insert("success".into(), Value::Bool(false));
            }
            _ => {}
        }
        if let Some(response) = &interaction.learner_response {
            result.insert("response".into(), json!(xapi_response(version, kind, response)));
        }
        if let Some(latency) = interaction.latency.as_deref().filter(|d| is_duration(d)) {
            result.insert("duration".into(), json!(latency));
        }
        let result = (!result.is_empty()).then_some(Value::Object(result));

        let verb_name = match self.context.interaction_verb {
            InteractionVerb::Responded => "responded",
            InteractionVerb::Answered => "answered",
        };
        let context = self.context_for(attempt, true);
        self.statement(id, verb_name, object, result, context, timestamp)
    }
}

fn verb(name: &str) -> Value {
    json!({"id": format!("{VERB_PREFIX}{name}"), "display": {"en-US": name}})
}

/// An activity as a statement's object: `objectType` first, then its properties.
fn with_object_type(activity: &Value) -> Value {
    let mut map = Map::new();
    map.insert("objectType".into(), json!("Activity"));
    if let Value::Object(properties) = activity {
        map.extend(properties.clone());
    }
    Value::Object(map)
}

fn profile_activity() -> Value {
    json!({"id": PROFILE_ACTIVITY_ID, "definition": {"type": TYPE_PROFILE}})
}

/// The SCO's overall result as the profile puts it on `terminated` (and `suspended`).
fn sco_status(result: &mut Map<String, Value>, completion: Completion, success: Success, score: Option<&ScoreSnapshot>) {
    if let Some(score) = score.and_then(score_json) {
        result.insert("score".into(), score);
    }
    match success {
        Success::Passed => {
            result.insert("success".into(), Value::Bool(true));
        }
        Success::Failed => {
            result.insert("success".into(), Value::Bool(false));
        }
        Success::Unknown => {}
    }
    match completion {
        Completion::Completed => {
            result.insert("completion".into(), Value::Bool(true));
        }
        Completion::Incomplete => {
            result.insert("completion".into(), Value::Bool(false));
        }
        Completion::NotAttempted | Completion::Unknown => {}
    }
}

/// `result.score` from a SCORM score, keeping only what xAPI allows: `scaled` within -1..1,
/// `min` < `max`, `raw` within them (a bound the raw score breaks is dropped, the learner's
/// raw score is kept), finite numbers. `None` without a scaled or raw score (bounds alone,
/// as content sets them before the learner has a score, are no score).
fn score_json(score: &ScoreSnapshot) -> Option<Value> {
    let scaled = score.scaled.and_then(finite).filter(|s| (-1.0..=1.0).contains(s));
    let raw = score.raw.and_then(finite);
    if scaled.is_none() && raw.is_none() {
        return None;
    }
    let (mut min, mut max) = (score.min.and_then(finite), score.max.and_then(finite));
    if let (Some(lo), Some(hi)) = (min, max)
        && lo >= hi
    {
        (min, max) = (None, None);
    }
    if let Some(raw) = raw {
        min = min.filter(|lo| *lo <= raw);
        max = max.filter(|hi| *hi >= raw);
    }
    let mut map = Map::new();
    for (key, value) in [("scaled", scaled), ("raw", raw), ("min", min), ("max", max)] {
        if let Some(number) = value.and_then(serde_json::Number::from_f64) {
            map.insert(key.into(), Value::Number(number));
        }
    }
    (!map.is_empty()).then_some(Value::Object(map))
}

fn finite(number: f64) -> Option<f64> {
    number.is_finite().then_some(number)
}

/// A SCORM 2004 localized string (`{lang=de}Text`) as a language-map entry; without a valid
/// `{lang=…}` the whole text is in the context's language.
fn localized<'t>(text: &'t str, default_language: &'t str) -> (&'t str, &'t str) {
    if let Some(rest) = text.strip_prefix("{lang=")
        && let Some(end) = rest.find('}')
        && is_language_tag(&rest[..end])
    {
        return (&rest[..end], &rest[end + 1..]);
    }
    (default_language, text)
}

/// RFC 3339 in UTC with milliseconds (`2026-11-22T20:18:06.123Z`).
fn timestamp(at: UnixMillis, index: usize) -> Result<String, ScormXapiError> {
    let error = ScormXapiError::Timestamp { index, millis: at.0 };
    if !(0..=MAX_MILLIS).contains(&at.0) {
        return Err(error);
    }
    let time = DateTime::from_timestamp_millis(at.0).ok_or(error)?;
    Ok(time.to_rfc3339_opts(SecondsFormat::Millis, true))
}
