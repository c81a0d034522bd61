//! A learner's registration in a cmi5 course: its launch sessions, the statement rules
//! checked on everything an AU sends (section 9), the statements the LMS writes itself
//! (launched, abandoned, waived, satisfied) and the course status derived from them.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::course::Course;
use crate::launch::{launch_data, launch_url, move_on_str, same_agent, LaunchMode};
use crate::vocab::*;
use crate::Cmi5Error;
use lms_package::Cmi5MoveOn;

/// Why the LRS must refuse a statement (or request): the HTTP status and the cmi5
/// requirement id (CATAPULT numbering, e.g. `9.3.0.0-2 (d)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// 403 for every cmi5 rule (the spec's "reject"); the LRS answers 400 itself for
    /// statements that are not valid xAPI.
    pub status: u16,
    pub requirement: &'static str,
    pub message: String,
}

impl Rejection {
    pub fn forbidden(requirement: &'static str, message: impl Into<String>) -> Self {
        Rejection { status: 403, requirement, message: message.into() }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (cmi5 {})", self.message, self.requirement)
    }
}

/// Where a launch session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionStatus {
    /// Launched; the AU has not sent "initialized" yet.
    Launched,
    Initialized,
    Terminated,
    Abandoned,
    /// A session id the LMS made for a "waived" statement (9.3.7.0-3).
    Waived,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Launched => "launched",
            SessionStatus::Initialized => "initialized",
            SessionStatus::Terminated => "terminated",
            SessionStatus::Abandoned => "abandoned",
            SessionStatus::Waived => "waived",
        }
    }
}

/// One AU launch session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub au: usize,
    pub launch_mode: LaunchMode,
    /// The masteryScore given in the launch data (9.3.4.0-2 (d1)).
    pub mastery_score: Option<f64>,
    pub status: SessionStatus,
    /// Verbs of the cmi5 defined statements accepted in this session.
    pub verbs: BTreeSet<String>,
    pub learner_preferences_read: bool,
    /// Whether "initialized" must wait for the learner preferences to be read (11.0.0.0-3).
    pub require_learner_preferences: bool,
    pub launched_at: DateTime<Utc>,
    /// When the AU last sent an accepted statement (for the abandoned duration, 9.5.4.2-2).
    pub last_statement_at: Option<DateTime<Utc>>,
}

impl Session {
    /// `true` while the session's token may be used: launched or initialized.
    pub fn is_open(&self) -> bool {
        matches!(self.status, SessionStatus::Launched | SessionStatus::Initialized)
    }
}

/// What the registration knows of one AU.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuProgress {
    pub completed: bool,
    pub passed: bool,
    pub failed: bool,
    pub waived: bool,
    pub satisfied: bool,
}

/// How to launch one AU (the LMS's choices; ids and URLs come from the caller).
#[derive(Clone, Debug)]
pub struct LaunchRequest<'a> {
    /// The AU's number in [`Course::aus`].
    pub au: usize,
    /// The xAPI endpoint given to the AU, without a trailing slash.
    pub endpoint: &'a str,
    /// The one-time fetch URL of this session.
    pub fetch_url: &'a str,
    /// The URL the LMS serves the package's files under (see [`Course::content_url`]).
    pub content_base: &'a str,
    pub launch_mode: LaunchMode,
    pub return_url: Option<&'a str>,
    /// A new, unique session id (9.6.3.1-1).
    pub session_id: Uuid,
    /// Reject "initialized" until the AU read `cmi5LearnerPreferences` (11.0.0.0-3 (d2)).
    pub require_learner_preferences: bool,
}

/// Everything a launch produces.
#[derive(Clone, Debug, PartialEq)]
pub struct Launch {
    /// The URL to open (8.1).
    pub url: String,
    /// The `LMS.LaunchData` document to write to the State API before opening the URL
    /// (activityId = the AU's activity id, agent = the actor, registration).
    pub launch_data: Value,
    /// Statements to store, in order: "abandoned" for sessions of this AU left open, then
    /// "launched" (9.3.1.0-1).
    pub statements: Vec<Value>,
}

/// Why the LMS waives an AU (9.5.5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaiveReason {
    TestedOut,
    Equivalent,
    EquivalentOutside,
    Administrative,
}

impl WaiveReason {
    pub fn as_str(self) -> &'static str {
        match self {
            WaiveReason::TestedOut => "Tested Out",
            WaiveReason::Equivalent => "Equivalent AU",
            WaiveReason::EquivalentOutside => "Equivalent Outside Activity",
            WaiveReason::Administrative => "Administrative",
        }
    }
    pub fn parse(text: &str) -> Option<WaiveReason> {
        match text {
            "Tested Out" => Some(WaiveReason::TestedOut),
            "Equivalent AU" => Some(WaiveReason::Equivalent),
            "Equivalent Outside Activity" => Some(WaiveReason::EquivalentOutside),
            "Administrative" => Some(WaiveReason::Administrative),
            _ => None,
        }
    }
}

/// Satisfaction of a registration (item 4 of the issue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CourseStatus {
    pub satisfied: bool,
    pub aus: Vec<AuStatus>,
    pub blocks: Vec<BlockStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuStatus {
    pub publisher_id: String,
    pub completed: bool,
    pub passed: bool,
    pub failed: bool,
    pub waived: bool,
    pub satisfied: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BlockStatus {
    pub publisher_id: String,
    pub satisfied: bool,
}

/// A registration: one learner in one course. Serializable, so the store may keep it as
/// JSON; [`Registration::replay`] rebuilds it from the registration's statements instead.
///
/// For a batch of statements, check each on a clone and keep the clone only when all are
/// accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    pub registration: Uuid,
    /// The learner: an Agent identified by an `account` (9.2.0.0-3).
    pub actor: Value,
    pub aus: Vec<AuProgress>,
    pub satisfied_blocks: BTreeSet<usize>,
    pub course_satisfied: bool,
    pub sessions: BTreeMap<Uuid, Session>,
}

fn is_account_agent(actor: &Value) -> Result<(), Cmi5Error> {
    if actor.get("objectType").and_then(Value::as_str).is_some_and(|t| t != "Agent") {
        return Err(Cmi5Error::InvalidActor { reason: "objectType must be Agent" });
    }
    let account = actor.get("account").ok_or(Cmi5Error::InvalidActor { reason: "no account" })?;
    if account.get("homePage").and_then(Value::as_str).is_none() || account.get("name").and_then(Value::as_str).is_none() {
        return Err(Cmi5Error::InvalidActor { reason: "the account needs homePage and name" });
    }
    Ok(())
}

/// Ids and time for the statements the LMS writes.
struct Writer<'a> {
    now: DateTime<Utc>,
    new_id: &'a mut dyn FnMut() -> Uuid,
}

impl Registration {
    /// Creates the registration. The returned statements are the "satisfied" statements for
    /// blocks and the course already satisfied because their AUs are all `NotApplicable`
    /// (9.6.1.1-3); they carry a new session id from `new_id` (9.3.9: outside a launch).
    pub fn create(
        course: &Course,
        registration: Uuid,
        actor: Value,
        now: DateTime<Utc>,
        new_id: &mut dyn FnMut() -> Uuid,
    ) -> Result<(Registration, Vec<Value>), Cmi5Error> {
        is_account_agent(&actor)?;
        let mut reg = Registration {
            registration,
            actor,
            aus: vec![AuProgress::default(); course.aus.len()],
            satisfied_blocks: BTreeSet::new(),
            course_satisfied: false,
            sessions: BTreeMap::new(),
        };
        for (index, au) in course.aus.iter().enumerate() {
            if au.move_on == Cmi5MoveOn::NotApplicable {
                reg.aus[index].satisfied = true;
            }
        }
        let mut w = Writer { now, new_id };
        let session = (w.new_id)();
        let statements = reg.satisfy_all(course, session, &mut w);
        Ok((reg, statements))
    }

    /// Launches AU `request.au`: records the session and returns the launch URL, the
    /// `LMS.LaunchData` document and the statements to store ("abandoned" for this AU's
    /// sessions still open, then "launched").
    pub fn launch(
        &mut self,
        course: &Course,
        request: &LaunchRequest<'_>,
        now: DateTime<Utc>,
        new_id: &mut dyn FnMut() -> Uuid,
    ) -> Result<Launch, Cmi5Error> {
        let au = course.au(request.au)?;
        let mut w = Writer { now, new_id };
        let mut statements = Vec::new();
        let open: Vec<Uuid> =
            self.sessions.iter().filter(|(_, s)| s.au == request.au && s.is_open()).map(|(id, _)| *id).collect();
        for session in open {
            statements.push(self.abandon_with(course, session, &mut w)?);
        }
        let content_url = course.content_url(request.au, request.content_base)?;
        let url = launch_url(&content_url, request.endpoint, request.fetch_url, &self.actor, self.registration, &au.activity_id);
        let data = launch_data(au, request.session_id, request.launch_mode, request.return_url);
        self.sessions.insert(
            request.session_id,
            Session {
                au: request.au,
                launch_mode: request.launch_mode,
                mastery_score: au.mastery_score,
                status: SessionStatus::Launched,
                verbs: BTreeSet::new(),
                learner_preferences_read: false,
                require_learner_preferences: request.require_learner_preferences,
                launched_at: now,
                last_statement_at: None,
            },
        );
        let mut extensions = Map::new();
        extensions.insert(EXT_SESSION_ID.into(), json!(request.session_id.hyphenated().to_string()));
        extensions.insert(EXT_LAUNCH_MODE.into(), json!(request.launch_mode.as_str()));
        extensions.insert(EXT_LAUNCH_URL.into(), json!(content_url));
        extensions.insert(EXT_MOVE_ON.into(), json!(move_on_str(au.move_on)));
        if let Some(score) = au.mastery_score {
            extensions.insert(EXT_MASTERY_SCORE.into(), json!(score));
        }
        if let Some(parameters) = &au.launch_parameters {
            extensions.insert(EXT_LAUNCH_PARAMETERS.into(), json!(parameters));
        }
        let launched = self.statement(
            &mut w,
            VERB_LAUNCHED,
            json!({"id": au.activity_id, "objectType": "Activity"}),
            None,
            &au.publisher_id,
            false,
            extensions,
        );
        statements.push(launched);
        Ok(Launch { url, launch_data: data, statements })
    }

    /// The session behind a token, if known.
    pub fn session(&self, session: Uuid) -> Option<&Session> {
        self.sessions.get(&session)
    }

    /// `true` while requests with the session's token may be served (8.1.2.0-2 (d)).
    pub fn session_is_open(&self, session: Uuid) -> bool {
        self.sessions.get(&session).is_some_and(Session::is_open)
    }

    /// Records that the AU of `session` read `cmi5LearnerPreferences` (11.0.0.0-3 (d1)).
    pub fn learner_preferences_read(&mut self, session: Uuid) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.learner_preferences_read = true;
        }
    }

    /// Checks one statement an AU sent with `session`'s token against the cmi5 rules and,
    /// when accepted, updates the registration. `Ok` holds the statements the LMS must store
    /// right after it ("satisfied" for blocks and course whose moveOn is now met, 9.3.9);
    /// `Err` the rejection (403) with the requirement id. The statement should already be
    /// valid xAPI (the LRS answers 400 first).
    pub fn check_statement(
        &mut self,
        course: &Course,
        session_id: Uuid,
        statement: &Value,
        now: DateTime<Utc>,
        new_id: &mut dyn FnMut() -> Uuid,
    ) -> Result<Vec<Value>, Rejection> {
        let session = self
            .sessions
            .get(&session_id)
            .ok_or_else(|| Rejection::forbidden("8.1.2.0-2 (d)", "the token belongs to no session of this registration"))?
            .clone();
        let au = course
            .aus
            .get(session.au)
            .ok_or_else(|| Rejection::forbidden("8.1.2.0-2 (d)", "the session's AU is not in the course"))?;
        match session.status {
            SessionStatus::Terminated => {
                return Err(Rejection::forbidden("9.3.0.0-5 (d2)", "the session is terminated: no more statements"));
            }
            SessionStatus::Abandoned => {
                return Err(Rejection::forbidden("9.3.6.0-2 (d2)", "the session was abandoned: no more statements"));
            }
            SessionStatus::Waived => {
                return Err(Rejection::forbidden("9.3.7.0-3", "the session id of a waived statement takes no statements"));
            }
            SessionStatus::Launched | SessionStatus::Initialized => {}
        }
        let verb = statement.pointer("/verb/id").and_then(Value::as_str).unwrap_or("");
        let context = statement.get("context");
        let categories = activity_ids(context, "category");
        let defined = categories.contains(CATEGORY_CMI5);
        let result = statement.get("result");

        // Rules for every statement of the session.
        if statement.get("id").is_none() {
            return Err(Rejection::forbidden("9.1.0.0-1 (d)", "the statement has no id"));
        }
        match statement.get("timestamp").and_then(Value::as_str) {
            None => return Err(Rejection::forbidden("9.7.0.0-1 (d)", "the statement has no timestamp")),
            Some(t) if !is_utc(t) => {
                return Err(Rejection::forbidden("9.7.0.0-2 (d)", format!("the timestamp {t} is not in UTC")));
            }
            Some(_) => {}
        }
        if verb == VERB_VOIDED {
            return Err(Rejection::forbidden("6.3.0.0-1", "an AU may not void statements"));
        }
        if defined && let Some((_, requirement)) = LMS_VERBS.iter().find(|(v, _)| *v == verb) {
            return Err(Rejection::forbidden(requirement, format!("only the LMS writes \"{}\" statements", verb_display(verb))));
        }
        if context.is_none() && AU_VERBS.contains(&verb) {
            return Err(Rejection::forbidden("9.6.0.0-1 (d)", "a cmi5 statement needs a context"));
        }
        let actor = statement.get("actor").unwrap_or(&Value::Null);
        if defined {
            if actor.get("objectType").and_then(Value::as_str).is_some_and(|t| t != "Agent") {
                return Err(Rejection::forbidden("9.2.0.0-2", "the actor of a cmi5 defined statement must be an Agent"));
            }
            if actor.get("account").is_none() {
                return Err(Rejection::forbidden("9.2.0.0-3", "the actor of a cmi5 defined statement must have an account"));
            }
        }
        if !same_agent(actor, &self.actor) {
            return Err(Rejection::forbidden("8.1.3.0-3 (d)", "the actor is not the learner the AU was launched for"));
        }
        let is_initialized = defined && verb == VERB_INITIALIZED;
        if session.status == SessionStatus::Launched && !is_initialized {
            return Err(Rejection::forbidden("9.3.0.0-4 (d2)", "the first statement of a session must be \"initialized\""));
        }
        if is_initialized && session.require_learner_preferences && !session.learner_preferences_read {
            return Err(Rejection::forbidden(
                "11.0.0.0-3 (d2)",
                "\"initialized\" before the AU read the cmi5LearnerPreferences document",
            ));
        }
        let session_in_statement = context.and_then(|c| c.pointer("/extensions")).and_then(|e| e.get(EXT_SESSION_ID));
        if session_in_statement.and_then(Value::as_str) != Some(session_id.hyphenated().to_string().as_str()) {
            return Err(Rejection::forbidden("9.6.3.1-4 (d)", "the context does not carry this session's id"));
        }
        let registration_in_statement = context.and_then(|c| c.get("registration")).and_then(Value::as_str);
        let registration_matches = registration_in_statement
            .and_then(|r| Uuid::parse_str(r).ok())
            .is_some_and(|r| r == self.registration);
        let grouping = activity_ids(context, "grouping");
        let has_moveon = categories.contains(CATEGORY_MOVEON);
        let success = result.and_then(|r| r.get("success"));
        let completion = result.and_then(|r| r.get("completion"));
        let score = result.and_then(|r| r.get("score"));
        if let Some(score) = score
            && score.get("raw").is_some()
        {
            if score.get("min").is_none() {
                return Err(Rejection::forbidden("9.5.1.0-3 (d1)", "score.raw needs score.min"));
            }
            if score.get("max").is_none() {
                return Err(Rejection::forbidden("9.5.1.0-3 (d2)", "score.raw needs score.max"));
            }
        }
        if !defined {
            if registration_in_statement.is_some() && !registration_matches {
                return Err(Rejection::forbidden("8.1.4.0-3 (d)", "the registration is not the one given at launch"));
            }
            if has_moveon {
                return Err(Rejection::forbidden(
                    "9.6.2.2-2 (d)",
                    "only cmi5 defined statements with result.completion or result.success carry the moveOn category",
                ));
            }
            if !grouping.contains(au.publisher_id.as_str()) {
                return Err(Rejection::forbidden(
                    "10.2.1.0-6 (d)",
                    "the context lacks the AU's publisher id in contextActivities.grouping from the context template",
                ));
            }
            self.touch(session_id, now);
            return Ok(Vec::new());
        }

        // cmi5 defined statements.
        if !AU_VERBS.contains(&verb) {
            return Err(Rejection::forbidden("9.3.0.0-1", format!("`{verb}` is not a cmi5 verb but the cmi5 category is used")));
        }
        if context.is_none() {
            return Err(Rejection::forbidden("9.6.0.0-1 (d)", "a cmi5 defined statement needs a context"));
        }
        if !registration_matches {
            return Err(Rejection::forbidden("9.6.1.0-1 (d)", "context.registration is missing or not the launch's registration"));
        }
        if !grouping.contains(au.publisher_id.as_str()) {
            return Err(Rejection::forbidden(
                "9.6.2.0-1 (d)",
                "contextActivities.grouping lacks the AU's publisher id from the context template",
            ));
        }
        if statement.pointer("/object/id").and_then(Value::as_str) != Some(au.activity_id.as_str()) {
            return Err(Rejection::forbidden("8.1.5.0-6 (d)", "the object id is not the activityId given at launch"));
        }
        let satisfaction_verb = matches!(verb, VERB_COMPLETED | VERB_PASSED | VERB_FAILED);
        if satisfaction_verb {
            match session.launch_mode {
                LaunchMode::Browse => {
                    return Err(Rejection::forbidden("10.2.2.0-2 (d)", "a Browse session records no completion or success"));
                }
                LaunchMode::Review => {
                    return Err(Rejection::forbidden("10.2.2.0-3 (d)", "a Review session records no completion or success"));
                }
                LaunchMode::Normal => {}
            }
        }
        // Result rules (9.5).
        if score.is_some() && !matches!(verb, VERB_PASSED | VERB_FAILED) {
            return Err(Rejection::forbidden("9.5.1.0-2 (d)", "only passed and failed statements may carry a score"));
        }
        if success.is_some() && !matches!(verb, VERB_PASSED | VERB_FAILED) {
            return Err(Rejection::forbidden("9.5.2.0-3 (d)", "only passed and failed statements may carry result.success"));
        }
        if completion.is_some() && verb != VERB_COMPLETED {
            return Err(Rejection::forbidden("9.5.3.0-2 (d)", "only completed statements may carry result.completion"));
        }
        match verb {
            VERB_PASSED if success != Some(&Value::Bool(true)) => {
                return Err(Rejection::forbidden("9.5.2.0-1 (d1)", "a passed statement needs result.success true"));
            }
            VERB_FAILED if success != Some(&Value::Bool(false)) => {
                return Err(Rejection::forbidden("9.5.2.0-2 (d)", "a failed statement needs result.success false"));
            }
            VERB_COMPLETED if completion != Some(&Value::Bool(true)) => {
                return Err(Rejection::forbidden("9.5.3.0-1 (d1)", "a completed statement needs result.completion true"));
            }
            _ => {}
        }
        let duration_requirement = match verb {
            VERB_TERMINATED => Some("9.5.4.1-1 (d)"),
            VERB_COMPLETED => Some("9.5.4.1-2 (d)"),
            VERB_PASSED => Some("9.5.4.1-3 (d)"),
            VERB_FAILED => Some("9.5.4.1-4 (d)"),
            _ => None,
        };
        if let Some(requirement) = duration_requirement
            && result.and_then(|r| r.get("duration")).is_none()
        {
            return Err(Rejection::forbidden(requirement, format!("a {} statement needs result.duration", verb_display(verb))));
        }
        // Categories (9.6.2.2).
        if success.is_some() || completion.is_some() {
            if !has_moveon {
                let requirement = match verb {
                    VERB_COMPLETED => "9.6.2.2-1 (d1)",
                    VERB_PASSED => "9.6.2.2-1 (d2)",
                    _ => "9.6.2.2-1 (d3)",
                };
                return Err(Rejection::forbidden(requirement, "result.success/completion need the moveOn category"));
            }
        } else if has_moveon {
            return Err(Rejection::forbidden(
                "9.6.2.2-2 (d)",
                "the moveOn category belongs only to statements with result.completion or result.success",
            ));
        }
        // Mastery score (9.3.4, 9.3.5, 9.6.3.2).
        let scaled = score.and_then(|s| s.get("scaled")).and_then(Value::as_f64);
        if let (Some(mastery), Some(_)) = (session.mastery_score, score)
            && matches!(verb, VERB_PASSED | VERB_FAILED)
        {
            if let Some(scaled) = scaled {
                if verb == VERB_PASSED && scaled < mastery {
                    return Err(Rejection::forbidden(
                        "9.3.4.0-2 (d2)",
                        format!("passed with a scaled score {scaled} below the masteryScore {mastery}"),
                    ));
                }
                if verb == VERB_FAILED && scaled >= mastery {
                    return Err(Rejection::forbidden(
                        "9.3.5.0-2 (d)",
                        format!("failed with a scaled score {scaled} at or above the masteryScore {mastery}"),
                    ));
                }
            }
            let in_context = context.and_then(|c| c.pointer("/extensions")).and_then(|e| e.get(EXT_MASTERY_SCORE));
            if in_context.and_then(Value::as_f64) != Some(mastery) {
                return Err(Rejection::forbidden(
                    "9.6.3.2-2 (d)",
                    "a scored passed/failed statement must carry the session's masteryScore in context.extensions",
                ));
            }
        }
        // Ordering and uniqueness (9.3).
        if session.verbs.contains(verb) {
            let requirement = if verb == VERB_INITIALIZED { "9.3.2.0-3 (d)" } else { "9.3.0.0-2 (d)" };
            return Err(Rejection::forbidden(requirement, format!("\"{}\" was already sent in this session", verb_display(verb))));
        }
        let progress = self.aus.get(session.au).cloned().unwrap_or_default();
        if verb == VERB_FAILED && progress.passed {
            return Err(Rejection::forbidden("9.3.0.0-8 (d)", "failed after passed in this registration"));
        }
        if matches!(verb, VERB_PASSED | VERB_FAILED)
            && (session.verbs.contains(VERB_PASSED) || session.verbs.contains(VERB_FAILED))
        {
            return Err(Rejection::forbidden("9.3.0.0-3 (d)", "only one of passed and failed per session"));
        }
        if verb == VERB_COMPLETED && progress.completed {
            return Err(Rejection::forbidden("9.3.0.0-6 (d2)", "completed was already recorded in this registration"));
        }
        if verb == VERB_PASSED && progress.passed {
            return Err(Rejection::forbidden("9.3.0.0-7 (d2)", "passed was already recorded in this registration"));
        }

        // Accepted: apply.
        let mut w = Writer { now, new_id };
        self.touch(session_id, now);
        Ok(self.apply_au_statement(course, session_id, verb, &mut w))
    }

    fn touch(&mut self, session: Uuid, now: DateTime<Utc>) {
        if let Some(s) = self.sessions.get_mut(&session) {
            s.last_statement_at = Some(now);
        }
    }

    /// Records an accepted cmi5 defined statement of the AU and returns the satisfied
    /// statements it triggers.
    fn apply_au_statement(&mut self, course: &Course, session_id: Uuid, verb: &str, w: &mut Writer<'_>) -> Vec<Value> {
        let Some(session) = self.sessions.get_mut(&session_id) else { return Vec::new() };
        session.verbs.insert(verb.to_string());
        let au = session.au;
        match verb {
            VERB_INITIALIZED => session.status = SessionStatus::Initialized,
            VERB_TERMINATED => session.status = SessionStatus::Terminated,
            _ => {}
        }
        let Some(progress) = self.aus.get_mut(au) else { return Vec::new() };
        match verb {
            VERB_COMPLETED => progress.completed = true,
            VERB_PASSED => progress.passed = true,
            VERB_FAILED => progress.failed = true,
            _ => return Vec::new(),
        }
        self.evaluate_au(course, au, session_id, w)
    }

    /// Marks AU `au` satisfied when its moveOn is met and returns the block and course
    /// "satisfied" statements that follow (innermost block first, then the course).
    fn evaluate_au(&mut self, course: &Course, au: usize, session: Uuid, w: &mut Writer<'_>) -> Vec<Value> {
        let Some(spec) = course.aus.get(au) else { return Vec::new() };
        let Some(progress) = self.aus.get_mut(au) else { return Vec::new() };
        let met = progress.waived
            || match spec.move_on {
                Cmi5MoveOn::Passed => progress.passed,
                Cmi5MoveOn::Completed => progress.completed,
                Cmi5MoveOn::CompletedAndPassed => progress.completed && progress.passed,
                Cmi5MoveOn::CompletedOrPassed => progress.completed || progress.passed,
                Cmi5MoveOn::NotApplicable => true,
            };
        if !met || progress.satisfied {
            return Vec::new();
        }
        progress.satisfied = true;
        self.satisfy_all(course, session, w)
    }

    /// Satisfied statements for every block (children before parents) and the course whose
    /// AUs are now all satisfied and that were not satisfied before.
    fn satisfy_all(&mut self, course: &Course, session: Uuid, w: &mut Writer<'_>) -> Vec<Value> {
        let mut out = Vec::new();
        // Blocks in post-order: a nested block comes after its parent in `course.blocks`,
        // so walking backwards visits children first.
        for index in (0..course.blocks.len()).rev() {
            let block = &course.blocks[index];
            if self.satisfied_blocks.contains(&index) {
                continue;
            }
            if block.aus.iter().all(|&a| self.aus.get(a).is_some_and(|p| p.satisfied)) {
                self.satisfied_blocks.insert(index);
                out.push(self.satisfied_statement(w, &block.activity_id, ACTIVITY_TYPE_BLOCK, &block.publisher_id, session));
            }
        }
        if !self.course_satisfied && self.aus.iter().all(|p| p.satisfied) {
            self.course_satisfied = true;
            out.push(self.satisfied_statement(w, &course.activity_id, ACTIVITY_TYPE_COURSE, &course.publisher_id, session));
        }
        out
    }

    fn satisfied_statement(&self, w: &mut Writer<'_>, id: &str, kind: &str, publisher_id: &str, session: Uuid) -> Value {
        let mut extensions = Map::new();
        extensions.insert(EXT_SESSION_ID.into(), json!(session.hyphenated().to_string()));
        self.statement(
            w,
            VERB_SATISFIED,
            json!({"id": id, "objectType": "Activity", "definition": {"type": kind}}),
            None,
            publisher_id,
            false,
            extensions,
        )
    }

    /// Abandons an open session (the learner left without "terminated"): returns the
    /// "abandoned" statement (9.3.6), whose duration runs from launch to the AU's last
    /// statement (9.5.4.2-2). Requests with the session's token are refused afterwards.
    pub fn abandon(
        &mut self,
        course: &Course,
        session: Uuid,
        now: DateTime<Utc>,
        new_id: &mut dyn FnMut() -> Uuid,
    ) -> Result<Value, Cmi5Error> {
        let mut w = Writer { now, new_id };
        self.abandon_with(course, session, &mut w)
    }

    fn abandon_with(&mut self, course: &Course, session_id: Uuid, w: &mut Writer<'_>) -> Result<Value, Cmi5Error> {
        let session = self
            .sessions
            .get_mut(&session_id)
            .ok_or_else(|| Cmi5Error::UnknownSession { session: session_id.to_string() })?;
        if !session.is_open() {
            return Err(Cmi5Error::SessionClosed { session: session_id.to_string(), status: session.status.as_str() });
        }
        session.status = SessionStatus::Abandoned;
        let end = session.last_statement_at.unwrap_or(session.launched_at);
        let duration = format_duration(end - session.launched_at);
        let au = course.au(session.au)?;
        let mut extensions = Map::new();
        extensions.insert(EXT_SESSION_ID.into(), json!(session_id.hyphenated().to_string()));
        Ok(self.statement(
            w,
            VERB_ABANDONED,
            json!({"id": au.activity_id, "objectType": "Activity"}),
            Some(json!({"duration": duration})),
            &au.publisher_id,
            false,
            extensions,
        ))
    }

    /// Waives AU `au` (9.3.7): returns the "waived" statement (with a new session id, result
    /// success and completion true and the reason) followed by the block and course
    /// "satisfied" statements it triggers, under the same session id.
    pub fn waive(
        &mut self,
        course: &Course,
        au: usize,
        reason: WaiveReason,
        now: DateTime<Utc>,
        new_id: &mut dyn FnMut() -> Uuid,
    ) -> Result<Vec<Value>, Cmi5Error> {
        let spec = course.au(au)?;
        let progress = self.aus.get(au).cloned().unwrap_or_default();
        if progress.waived {
            return Err(Cmi5Error::CannotWaive { au: spec.publisher_id.clone(), reason: "it is already waived" });
        }
        if progress.satisfied {
            return Err(Cmi5Error::CannotWaive { au: spec.publisher_id.clone(), reason: "it is already satisfied" });
        }
        let mut w = Writer { now, new_id };
        let session = (w.new_id)();
        self.sessions.insert(
            session,
            Session {
                au,
                launch_mode: LaunchMode::Normal,
                mastery_score: spec.mastery_score,
                status: SessionStatus::Waived,
                verbs: BTreeSet::from([VERB_WAIVED.to_string()]),
                learner_preferences_read: false,
                require_learner_preferences: false,
                launched_at: now,
                last_statement_at: None,
            },
        );
        if let Some(p) = self.aus.get_mut(au) {
            p.waived = true;
        }
        let mut extensions = Map::new();
        extensions.insert(EXT_SESSION_ID.into(), json!(session.hyphenated().to_string()));
        let waived = self.statement(
            &mut w,
            VERB_WAIVED,
            json!({"id": spec.activity_id, "objectType": "Activity"}),
            Some(json!({"success": true, "completion": true, "extensions": {EXT_REASON: reason.as_str()}})),
            &spec.publisher_id,
            true,
            extensions,
        );
        let mut out = vec![waived];
        out.extend(self.evaluate_au(course, au, session, &mut w));
        Ok(out)
    }

    /// A statement written by the LMS for this registration.
    #[allow(clippy::too_many_arguments)]
    fn statement(
        &self,
        w: &mut Writer<'_>,
        verb: &str,
        object: Value,
        result: Option<Value>,
        publisher_id: &str,
        moveon: bool,
        extensions: Map<String, Value>,
    ) -> Value {
        let mut category = vec![json!({"id": CATEGORY_CMI5, "objectType": "Activity"})];
        if moveon {
            category.push(json!({"id": CATEGORY_MOVEON, "objectType": "Activity"}));
        }
        let mut statement = json!({
            "id": (w.new_id)().hyphenated().to_string(),
            "timestamp": lms_xapi::syntax::format_timestamp(w.now),
            "actor": self.actor,
            "verb": {"id": verb, "display": {"en-US": verb_display(verb)}},
            "object": object,
            "context": {
                "registration": self.registration.hyphenated().to_string(),
                "contextActivities": {
                    "category": category,
                    "grouping": [{"id": publisher_id, "objectType": "Activity"}]
                },
                "extensions": extensions
            }
        });
        if let (Some(result), Some(map)) = (result, statement.as_object_mut()) {
            map.insert("result".into(), result);
        }
        statement
    }

    /// Each AU's and block's satisfaction and the course's.
    pub fn status(&self, course: &Course) -> CourseStatus {
        CourseStatus {
            satisfied: self.course_satisfied,
            aus: course
                .aus
                .iter()
                .enumerate()
                .map(|(i, au)| {
                    let p = self.aus.get(i).cloned().unwrap_or_default();
                    AuStatus {
                        publisher_id: au.publisher_id.clone(),
                        completed: p.completed,
                        passed: p.passed,
                        failed: p.failed,
                        waived: p.waived,
                        satisfied: p.satisfied,
                    }
                })
                .collect(),
            blocks: course
                .blocks
                .iter()
                .enumerate()
                .map(|(i, b)| BlockStatus { publisher_id: b.publisher_id.clone(), satisfied: self.satisfied_blocks.contains(&i) })
                .collect(),
        }
    }

    /// Rebuilds a registration from its stored statements (oldest first): launched opens a
    /// session (launch mode and masteryScore from its extensions), the AU's cmi5 defined
    /// statements advance it, abandoned/waived/satisfied are taken as written. Statements
    /// of other registrations or activities are skipped. No rule is checked: the statements
    /// were accepted when they came in.
    pub fn replay(course: &Course, registration: Uuid, actor: Value, statements: &[Value]) -> Result<Registration, Cmi5Error> {
        is_account_agent(&actor)?;
        let mut reg = Registration {
            registration,
            actor,
            aus: vec![AuProgress::default(); course.aus.len()],
            satisfied_blocks: BTreeSet::new(),
            course_satisfied: false,
            sessions: BTreeMap::new(),
        };
        for (index, au) in course.aus.iter().enumerate() {
            if au.move_on == Cmi5MoveOn::NotApplicable {
                reg.aus[index].satisfied = true;
            }
        }
        let mut ids = std::iter::repeat_with(Uuid::nil);
        let mut new_id = || ids.next().unwrap_or_default();
        for statement in statements {
            let context = statement.get("context");
            let in_registration = context
                .and_then(|c| c.get("registration"))
                .and_then(Value::as_str)
                .and_then(|r| Uuid::parse_str(r).ok())
                == Some(registration);
            if !in_registration || !activity_ids(context, "category").contains(CATEGORY_CMI5) {
                continue;
            }
            let verb = statement.pointer("/verb/id").and_then(Value::as_str).unwrap_or("");
            let object = statement.pointer("/object/id").and_then(Value::as_str).unwrap_or("");
            let session = context
                .and_then(|c| c.pointer("/extensions"))
                .and_then(|e| e.get(EXT_SESSION_ID))
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok());
            let at = statement
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(|t| lms_xapi::syntax::parse_timestamp(t, lms_xapi::XapiVersion::V1_0_3))
                .unwrap_or_default();
            if verb == VERB_SATISFIED {
                if object == course.activity_id {
                    reg.course_satisfied = true;
                } else if let Some(b) = course.blocks.iter().position(|b| b.activity_id == object) {
                    reg.satisfied_blocks.insert(b);
                }
                continue;
            }
            let Some(au) = course.au_by_activity_id(object) else { continue };
            let Some(session) = session else { continue };
            let extensions = context.and_then(|c| c.pointer("/extensions"));
            match verb {
                VERB_LAUNCHED => {
                    let mode = extensions
                        .and_then(|e| e.get(EXT_LAUNCH_MODE))
                        .and_then(Value::as_str)
                        .and_then(LaunchMode::parse)
                        .unwrap_or(LaunchMode::Normal);
                    let mastery = extensions.and_then(|e| e.get(EXT_MASTERY_SCORE)).and_then(Value::as_f64);
                    reg.sessions.insert(
                        session,
                        Session {
                            au,
                            launch_mode: mode,
                            mastery_score: mastery,
                            status: SessionStatus::Launched,
                            verbs: BTreeSet::new(),
                            learner_preferences_read: true,
                            require_learner_preferences: false,
                            launched_at: at,
                            last_statement_at: None,
                        },
                    );
                }
                VERB_ABANDONED => {
                    if let Some(s) = reg.sessions.get_mut(&session) {
                        s.status = SessionStatus::Abandoned;
                    }
                }
                VERB_WAIVED => {
                    if let Some(p) = reg.aus.get_mut(au) {
                        p.waived = true;
                        p.satisfied = true;
                    }
                }
                _ if AU_VERBS.contains(&verb) && reg.sessions.contains_key(&session) => {
                    let mut w = Writer { now: at, new_id: &mut new_id };
                    if let Some(s) = reg.sessions.get_mut(&session) {
                        s.last_statement_at = Some(at);
                    }
                    reg.apply_au_statement(course, session, verb, &mut w);
                }
                _ => {}
            }
        }
        // Satisfied flags follow the stored satisfied statements; AUs are re-evaluated from
        // their progress (their satisfaction has no statement of its own).
        for (index, au) in course.aus.iter().enumerate() {
            if let Some(p) = reg.aus.get_mut(index) {
                p.satisfied = p.waived
                    || match au.move_on {
                        Cmi5MoveOn::Passed => p.passed,
                        Cmi5MoveOn::Completed => p.completed,
                        Cmi5MoveOn::CompletedAndPassed => p.completed && p.passed,
                        Cmi5MoveOn::CompletedOrPassed => p.completed || p.passed,
                        Cmi5MoveOn::NotApplicable => true,
                    };
            }
        }
        Ok(reg)
    }
}

/// The ids in `context.contextActivities.<list>` (an object or an array of objects).
fn activity_ids<'v>(context: Option<&'v Value>, list: &str) -> BTreeSet<&'v str> {
    let Some(value) = context.and_then(|c| c.get("contextActivities")).and_then(|a| a.get(list)) else {
        return BTreeSet::new();
    };
    match value {
        Value::Array(items) => items.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).collect(),
        Value::Object(_) => value.get("id").and_then(Value::as_str).into_iter().collect(),
        _ => BTreeSet::new(),
    }
}

/// A timestamp written in UTC: ending in `Z` or a zero offset (9.7.0.0-2).
fn is_utc(timestamp: &str) -> bool {
    let t = timestamp.trim();
    if t.ends_with('Z') || t.ends_with('z') {
        return true;
    }
    ["+00:00", "+0000", "+00", "-00:00"].iter().any(|zero| t.ends_with(zero) && t.len() > 10 && t[..t.len() - zero.len()].contains('T'))
}

/// An ISO 8601 duration (`PT1H2M3.45S`) with centisecond precision.
pub fn format_duration(duration: chrono::TimeDelta) -> String {
    let centis = (duration.num_milliseconds().max(0) + 5) / 10;
    let hours = centis / 360_000;
    let minutes = centis / 6_000 % 60;
    let seconds = centis / 100 % 60;
    let fraction = centis % 100;
    let mut out = String::from("PT");
    if hours > 0 {
        out.push_str(&format!("{hours}H"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}M"));
    }
    if fraction > 0 {
        out.push_str(&format!("{seconds}.{fraction:02}S"));
    } else {
        out.push_str(&format!("{seconds}S"));
    }
    out
}
