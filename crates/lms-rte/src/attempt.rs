//! One learner's attempt on one SCO: the API state machine, the data model, and what the
//! LMS must persist and report after each `Commit`/`Terminate`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{AttemptConfig, NavigationValidity, ScormVersion};
use crate::error::{Error, scorm12 as code12, scorm2004 as code04};
use crate::scorm12::{self, Cmi12};
use crate::scorm2004::{self, Cmi2004};
use crate::types::{format_duration, parse_duration, parse_real, parse_timespan_12};

/// Milliseconds since the Unix epoch, supplied by the caller (the crate has no clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct UnixMillis(pub i64);

/// One call of the run-time API. SCORM 1.2 names map onto the same calls
/// (see [`Call::from_method`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call<'a> {
    Initialize(&'a str),
    Terminate(&'a str),
    GetValue(&'a str),
    SetValue(&'a str, &'a str),
    Commit(&'a str),
    GetLastError,
    GetErrorString(&'a str),
    GetDiagnostic(&'a str),
}

impl<'a> Call<'a> {
    /// Maps an API method name of either version (`Initialize`/`LMSInitialize`, `Terminate`/
    /// `LMSFinish`, …) and its arguments to a call; `None` for unknown names.
    pub fn from_method(method: &str, args: &[&'a str]) -> Option<Self> {
        let arg = |i: usize| args.get(i).copied().unwrap_or("");
        Some(match method {
            "Initialize" | "LMSInitialize" => Self::Initialize(arg(0)),
            "Terminate" | "LMSFinish" => Self::Terminate(arg(0)),
            "GetValue" | "LMSGetValue" => Self::GetValue(arg(0)),
            "SetValue" | "LMSSetValue" => Self::SetValue(arg(0), arg(1)),
            "Commit" | "LMSCommit" => Self::Commit(arg(0)),
            "GetLastError" | "LMSGetLastError" => Self::GetLastError,
            "GetErrorString" | "LMSGetErrorString" => Self::GetErrorString(arg(0)),
            "GetDiagnostic" | "LMSGetDiagnostic" => Self::GetDiagnostic(arg(0)),
            _ => return None,
        })
    }
}

/// What the API function returns to the content, and the error code it leaves behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The string the JavaScript function returns (`"true"`, `"false"`, a value, a code).
    pub value: Cow<'static, str>,
    /// The error code `GetLastError` reports after this call.
    pub error: u16,
}

impl Reply {
    fn ok_bool(ok: bool, error: u16) -> Self {
        Self {
            value: Cow::Borrowed(if ok { "true" } else { "false" }),
            error,
        }
    }
}

/// Where the API state machine stands (RTE 3.1.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    NotInitialized,
    Running,
    Terminated,
}

/// The data model of either version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "version", rename_all = "snake_case")]
pub enum DataModel {
    Scorm12(Cmi12),
    Scorm2004(Cmi2004),
}

/// A score as reported in events and summaries.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreSnapshot {
    pub scaled: Option<f64>,
    pub raw: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// Completion as the LMS reports it (1.2 `passed` counts as completed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    Completed,
    Incomplete,
    NotAttempted,
    Unknown,
}

/// Success as the LMS reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Success {
    Passed,
    Failed,
    Unknown,
}

/// Learner-visible results of the attempt so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub completion: Completion,
    pub success: Success,
    pub score: Option<ScoreSnapshot>,
    pub progress_measure: Option<f64>,
    /// `total_time` including the current session's reported `session_time`, ISO 8601.
    pub total_time: String,
    pub total_time_centiseconds: u64,
    pub location: Option<String>,
    pub attempt_number: u32,
    pub suspended: bool,
}

/// An interaction as reported when the learner answers it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnsweredInteraction {
    pub index: usize,
    pub id: String,
    pub interaction_type: Option<String>,
    pub learner_response: Option<String>,
    pub result: Option<String>,
    pub correct_responses: Vec<String>,
    /// ISO 8601 duration (1.2 latencies are converted).
    pub latency: Option<String>,
    pub description: Option<String>,
    pub timestamp: Option<String>,
    pub weighting: Option<f64>,
    pub objective_ids: Vec<String>,
}

/// Plain-data facts for the xAPI mapping (another crate turns them into statements).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RteEvent {
    Initialized {
        at: UnixMillis,
        attempt: u32,
        session: u32,
        entry: String,
    },
    Resumed {
        at: UnixMillis,
        attempt: u32,
        session: u32,
        location: Option<String>,
    },
    Completed {
        at: UnixMillis,
        progress_measure: Option<f64>,
    },
    Passed {
        at: UnixMillis,
        score: Option<ScoreSnapshot>,
    },
    Failed {
        at: UnixMillis,
        score: Option<ScoreSnapshot>,
    },
    Scored {
        at: UnixMillis,
        score: ScoreSnapshot,
    },
    Answered {
        at: UnixMillis,
        interaction: AnsweredInteraction,
    },
    Suspended {
        at: UnixMillis,
        session_time: Option<String>,
        total_time: String,
        location: Option<String>,
    },
    Terminated {
        at: UnixMillis,
        session_time: Option<String>,
        total_time: String,
        completion: Completion,
        success: Success,
        score: Option<ScoreSnapshot>,
    },
}

/// What the LMS (the sequencer's objective tracking data, global objectives included) knows
/// about an objective when a SCO is launched; shown in `cmi.objectives` (RTE 4.2.17).
/// `None` fields are left as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveInit {
    pub id: String,
    /// `passed` / `failed` / `unknown`.
    pub success_status: Option<String>,
    /// `completed` / `incomplete` / `not attempted` / `unknown`.
    pub completion_status: Option<String>,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    pub progress_measure: Option<f64>,
}

/// What a `Commit` or `Terminate` asks the store to persist atomically.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitBatch {
    /// Elements whose value changed since the previous batch; `None` for a value that is
    /// gone (e.g. `cmi.session_time` once added to `cmi.total_time`, a new attempt's reset).
    pub changes: Vec<(String, Option<String>)>,
    pub events: Vec<RteEvent>,
    /// True when the batch comes from `Terminate`.
    pub terminated: bool,
}

/// One learner's attempt on one SCO. Serializes whole (serde JSON) for the store.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attempt {
    config: AttemptConfig,
    data: DataModel,
    state: SessionState,
    last_error: u16,
    #[serde(default)]
    diagnostic: String,
    attempt_number: u32,
    session_number: u32,
    /// Set at `Terminate` when the learner left with `suspend` (or `suspendAll`).
    suspended: bool,
    session_started_at: Option<UnixMillis>,
    #[serde(default)]
    navigation: NavigationValidity,
    /// Values as of the last batch, to compute deltas. Not saved: a restored attempt is, by
    /// construction, what the store committed.
    #[serde(skip)]
    committed: BTreeMap<String, String>,
    #[serde(default)]
    pending_events: Vec<RteEvent>,
    #[serde(default)]
    outbox: Vec<CommitBatch>,
}

impl Attempt {
    /// A fresh first attempt after checking the configuration (see [`AttemptConfig::validate`]).
    pub fn try_new(config: AttemptConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self::new(config))
    }

    /// A fresh first attempt (`entry` = `ab-initio`). The configuration is trusted; use
    /// [`Attempt::try_new`] for values from an uploaded manifest.
    pub fn new(config: AttemptConfig) -> Self {
        let data = fresh_data(&config);
        let mut attempt = Self {
            config,
            data,
            state: SessionState::NotInitialized,
            last_error: 0,
            diagnostic: String::new(),
            attempt_number: 1,
            session_number: 0,
            suspended: false,
            session_started_at: None,
            navigation: NavigationValidity::default(),
            committed: BTreeMap::new(),
            pending_events: Vec::new(),
            outbox: Vec::new(),
        };
        attempt.committed = attempt.values().into_iter().collect();
        attempt
    }

    /// Restores an attempt saved with [`Attempt::to_json`]; deltas continue from the restored
    /// state.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let mut attempt: Self = serde_json::from_str(json)?;
        attempt.config.validate()?;
        attempt.committed = attempt.values().into_iter().collect();
        Ok(attempt)
    }

    /// The whole state as JSON, for the store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn config(&self) -> &AttemptConfig {
        &self.config
    }

    pub fn data(&self) -> &DataModel {
        &self.data
    }

    pub fn state(&self) -> SessionState {
        self.state
    }

    pub fn attempt_number(&self) -> u32 {
        self.attempt_number
    }

    pub fn session_number(&self) -> u32 {
        self.session_number
    }

    /// Whether the last session ended suspended (the next one resumes).
    pub fn is_suspended(&self) -> bool {
        self.suspended
    }

    /// Shows the sequencer's objective data in `cmi.objectives` before the SCO initializes:
    /// an objective with the same id is updated, others are appended. SCORM 2004 only (1.2
    /// objectives are the SCO's own).
    pub fn initialize_objectives(&mut self, objectives: &[ObjectiveInit]) {
        let DataModel::Scorm2004(cmi) = &mut self.data else {
            return;
        };
        let number = |v: Option<f64>| v.map(|v| format!("{v}"));
        for init in objectives.iter().filter(|o| !o.id.is_empty()) {
            let index = match cmi
                .objectives
                .iter()
                .position(|o| o.id.as_deref() == Some(init.id.as_str()))
            {
                Some(i) => i,
                None => {
                    cmi.objectives.push(crate::scorm2004::Objective {
                        id: Some(init.id.clone()),
                        ..Default::default()
                    });
                    cmi.objectives.len() - 1
                }
            };
            let o = &mut cmi.objectives[index];
            let apply = |slot: &mut Option<String>, value: Option<String>| {
                if value.is_some() {
                    *slot = value;
                }
            };
            apply(&mut o.success_status, init.success_status.clone());
            apply(&mut o.completion_status, init.completion_status.clone());
            apply(&mut o.score.scaled, number(init.score_scaled));
            apply(&mut o.score.raw, number(init.score_raw));
            apply(&mut o.score.min, number(init.score_min));
            apply(&mut o.score.max, number(init.score_max));
            apply(&mut o.progress_measure, number(init.progress_measure));
        }
    }

    /// Supplies the sequencer's answers for `adl.nav.request_valid.*`.
    pub fn set_navigation_validity(&mut self, navigation: NavigationValidity) {
        self.navigation = navigation;
    }

    /// The navigation request the SCO left in `adl.nav.request` (`None` for `_none_` and 1.2).
    pub fn nav_request(&self) -> Option<&str> {
        match &self.data {
            DataModel::Scorm2004(cmi) if cmi.nav_request != "_none_" => {
                Some(cmi.nav_request.as_str())
            }
            _ => None,
        }
    }

    /// The `adl.data` buckets as this SCO left them: `(target id, value)`. The caller writes
    /// writable ones back to its shared-data store after a commit.
    pub fn shared_data(&self) -> Vec<(String, Option<String>, bool)> {
        match &self.data {
            DataModel::Scorm2004(cmi) => cmi
                .shared_data
                .iter()
                .map(|b| (b.id.clone(), b.store.clone(), b.writable))
                .collect(),
            DataModel::Scorm12(_) => Vec::new(),
        }
    }

    /// Loads the current shared-data values (by target id) before a session starts.
    pub fn load_shared_data(&mut self, values: &BTreeMap<String, String>) {
        if let DataModel::Scorm2004(cmi) = &mut self.data {
            for bucket in &mut cmi.shared_data {
                bucket.store = values.get(&bucket.id).filter(|v| !v.is_empty()).cloned();
            }
        }
    }

    /// Prepares the next launch of this SCO after `Terminate` (or after a session that never
    /// terminated, which is treated as suspended so no data is lost). A suspended attempt
    /// resumes (`entry` = `resume`); otherwise SCORM 2004 starts a new attempt with fresh data
    /// (`ab-initio`) and SCORM 1.2 keeps the data with `entry` = `""`.
    pub fn begin_next_session(&mut self) {
        let resume = self.suspended || self.state == SessionState::Running;
        match &mut self.data {
            DataModel::Scorm2004(cmi) => {
                if resume {
                    cmi.entry = "resume".to_owned();
                    cmi.exit = None;
                    cmi.session_time = None;
                    cmi.nav_request = "_none_".to_owned();
                } else {
                    let shared: BTreeMap<String, String> = cmi
                        .shared_data
                        .iter()
                        .filter_map(|b| b.store.clone().map(|s| (b.id.clone(), s)))
                        .collect();
                    self.data = fresh_data(&self.config);
                    self.attempt_number += 1;
                    self.load_shared_data(&shared);
                }
            }
            DataModel::Scorm12(cmi) => {
                cmi.entry = if resume { "resume" } else { "" }.to_owned();
                cmi.exit = None;
                cmi.session_time = None;
            }
        }
        self.suspended = false;
        self.state = SessionState::NotInitialized;
        self.last_error = 0;
        self.session_started_at = None;
    }

    /// Starts a new attempt regardless of suspension (e.g. "new attempt after completion").
    pub fn begin_new_attempt(&mut self) {
        self.suspended = false;
        self.state = SessionState::Terminated;
        if let DataModel::Scorm12(_) = self.data {
            self.data = fresh_data(&self.config);
            self.attempt_number += 1;
            self.state = SessionState::NotInitialized;
            self.last_error = 0;
            return;
        }
        self.begin_next_session();
    }

    /// Handles one API call at time `now`.
    pub fn handle(&mut self, call: Call<'_>, now: UnixMillis) -> Reply {
        match self.config.version {
            ScormVersion::Scorm2004 => self.handle_2004(call, now),
            ScormVersion::Scorm12 => self.handle_12(call, now),
        }
    }

    fn fail(&mut self, error: u16, diagnostic: impl FnOnce() -> String) -> u16 {
        self.last_error = error;
        self.diagnostic = diagnostic();
        error
    }

    fn handle_2004(&mut self, call: Call<'_>, now: UnixMillis) -> Reply {
        match call {
            Call::GetLastError => Reply {
                value: Cow::Owned(self.last_error.to_string()),
                error: self.last_error,
            },
            Call::GetErrorString(c) => Reply {
                value: Cow::Borrowed(
                    c.parse::<u16>()
                        .ok()
                        .and_then(code04::message)
                        .filter(|_| !c.starts_with('0') || c == "0")
                        .unwrap_or(""),
                ),
                error: self.last_error,
            },
            Call::GetDiagnostic(c) => Reply {
                value: Cow::Owned(self.diagnostic_for(c, code04::message)),
                error: self.last_error,
            },
            Call::Initialize(arg) => {
                let error = if !arg.is_empty() {
                    self.fail(code04::GENERAL_ARGUMENT_ERROR, || {
                        "Initialize takes an empty string".into()
                    })
                } else {
                    match self.state {
                        SessionState::Running => {
                            self.fail(code04::ALREADY_INITIALIZED, || "already initialized".into())
                        }
                        SessionState::Terminated => self
                            .fail(code04::CONTENT_INSTANCE_TERMINATED, || {
                                "session already terminated".into()
                            }),
                        SessionState::NotInitialized => {
                            self.start_session(now);
                            0
                        }
                    }
                };
                self.finish(error)
            }
            Call::Terminate(arg) => {
                let error = match self.state {
                    SessionState::NotInitialized => self
                        .fail(code04::TERMINATION_BEFORE_INITIALIZATION, || {
                            "not initialized".into()
                        }),
                    SessionState::Terminated => self
                        .fail(code04::TERMINATION_AFTER_TERMINATION, || {
                            "already terminated".into()
                        }),
                    SessionState::Running if !arg.is_empty() => self
                        .fail(code04::GENERAL_ARGUMENT_ERROR, || {
                            "Terminate takes an empty string".into()
                        }),
                    SessionState::Running => {
                        self.terminate(now);
                        0
                    }
                };
                self.finish(error)
            }
            Call::Commit(arg) => {
                let error = match self.state {
                    SessionState::NotInitialized => self
                        .fail(code04::COMMIT_BEFORE_INITIALIZATION, || {
                            "not initialized".into()
                        }),
                    SessionState::Terminated => self.fail(code04::COMMIT_AFTER_TERMINATION, || {
                        "already terminated".into()
                    }),
                    SessionState::Running if !arg.is_empty() => self
                        .fail(code04::GENERAL_ARGUMENT_ERROR, || {
                            "Commit takes an empty string".into()
                        }),
                    SessionState::Running => {
                        self.commit(now, false);
                        0
                    }
                };
                self.finish(error)
            }
            Call::GetValue(name) => {
                let error: Result<(), u16> = match self.state {
                    SessionState::NotInitialized => {
                        Err(code04::RETRIEVE_DATA_BEFORE_INITIALIZATION)
                    }
                    SessionState::Terminated => Err(code04::RETRIEVE_DATA_AFTER_TERMINATION),
                    SessionState::Running => match &self.data {
                        DataModel::Scorm2004(cmi) => {
                            match scorm2004::get(cmi, &self.config, &self.navigation, name) {
                                Ok(value) => {
                                    let value = Cow::Owned(value.into_owned());
                                    self.last_error = 0;
                                    return Reply { value, error: 0 };
                                }
                                Err(e) => Err(e),
                            }
                        }
                        DataModel::Scorm12(_) => Err(code04::GENERAL_EXCEPTION),
                    },
                };
                let error = error.err().unwrap_or(0);
                let error = self.fail(error, || format!("GetValue({name}) failed"));
                Reply {
                    value: Cow::Borrowed(""),
                    error,
                }
            }
            Call::SetValue(name, value) => {
                let result = match self.state {
                    SessionState::NotInitialized => Err(code04::STORE_DATA_BEFORE_INITIALIZATION),
                    SessionState::Terminated => Err(code04::STORE_DATA_AFTER_TERMINATION),
                    SessionState::Running => match &mut self.data {
                        DataModel::Scorm2004(cmi) => scorm2004::set(cmi, name, value),
                        DataModel::Scorm12(_) => Err(code04::GENERAL_EXCEPTION),
                    },
                };
                match result {
                    Ok(()) => {
                        self.last_error = 0;
                        Reply::ok_bool(true, 0)
                    }
                    Err(e) => {
                        let e = self.fail(e, || format!("SetValue({name}) failed"));
                        Reply::ok_bool(false, e)
                    }
                }
            }
        }
    }

    fn handle_12(&mut self, call: Call<'_>, now: UnixMillis) -> Reply {
        match call {
            Call::GetLastError => Reply {
                value: Cow::Owned(self.last_error.to_string()),
                error: self.last_error,
            },
            Call::GetErrorString(c) => Reply {
                value: Cow::Borrowed(
                    c.parse::<u16>()
                        .ok()
                        .and_then(code12::message)
                        .unwrap_or(""),
                ),
                error: self.last_error,
            },
            Call::GetDiagnostic(c) => Reply {
                value: Cow::Owned(self.diagnostic_for(c, code12::message)),
                error: self.last_error,
            },
            Call::Initialize(arg) => {
                let error = if !arg.is_empty() {
                    self.fail(code12::INVALID_ARGUMENT, || {
                        "LMSInitialize takes an empty string".into()
                    })
                } else if self.state != SessionState::NotInitialized {
                    self.fail(code12::GENERAL_EXCEPTION, || "already initialized".into())
                } else {
                    self.start_session(now);
                    0
                };
                self.finish(error)
            }
            Call::Terminate(arg) | Call::Commit(arg) => {
                let is_finish = matches!(call, Call::Terminate(_));
                let error = if !arg.is_empty() {
                    self.fail(code12::INVALID_ARGUMENT, || {
                        "argument must be an empty string".into()
                    })
                } else if self.state != SessionState::Running {
                    self.fail(code12::NOT_INITIALIZED, || "not initialized".into())
                } else {
                    if is_finish {
                        self.terminate(now);
                    } else {
                        self.commit(now, false);
                    }
                    0
                };
                self.finish(error)
            }
            Call::GetValue(name) => {
                let result = if self.state != SessionState::Running {
                    Err(code12::NOT_INITIALIZED)
                } else {
                    match &self.data {
                        DataModel::Scorm12(cmi) => {
                            scorm12::get(cmi, &self.config, name).map(|v| v.into_owned())
                        }
                        DataModel::Scorm2004(_) => Err(code12::GENERAL_EXCEPTION),
                    }
                };
                match result {
                    Ok(value) => {
                        self.last_error = 0;
                        Reply {
                            value: Cow::Owned(value),
                            error: 0,
                        }
                    }
                    Err(e) => {
                        let e = self.fail(e, || format!("LMSGetValue({name}) failed"));
                        Reply {
                            value: Cow::Borrowed(""),
                            error: e,
                        }
                    }
                }
            }
            Call::SetValue(name, value) => {
                let result = if self.state != SessionState::Running {
                    Err(code12::NOT_INITIALIZED)
                } else {
                    match &mut self.data {
                        DataModel::Scorm12(cmi) => scorm12::set(cmi, &self.config, name, value),
                        DataModel::Scorm2004(_) => Err(code12::GENERAL_EXCEPTION),
                    }
                };
                match result {
                    Ok(()) => {
                        self.last_error = 0;
                        Reply::ok_bool(true, 0)
                    }
                    Err(e) => {
                        let e = self.fail(e, || format!("LMSSetValue({name}) failed"));
                        Reply::ok_bool(false, e)
                    }
                }
            }
        }
    }

    fn finish(&mut self, error: u16) -> Reply {
        if error == 0 {
            self.last_error = 0;
        }
        Reply::ok_bool(error == 0, error)
    }

    fn diagnostic_for(&self, requested: &str, message: fn(u16) -> Option<&'static str>) -> String {
        let code = if requested.is_empty() {
            Some(self.last_error)
        } else {
            requested.parse::<u16>().ok()
        };
        if !requested.is_empty() && requested.starts_with('0') && requested != "0" {
            return String::new();
        }
        match code.and_then(|c| message(c).map(|m| (c, m))) {
            Some((c, m))
                if requested.is_empty() && c == self.last_error && !self.diagnostic.is_empty() =>
            {
                let mut text = format!("{m}: {}", self.diagnostic);
                text.truncate(255);
                text
            }
            Some((_, m)) => m.to_owned(),
            None => String::new(),
        }
    }

    fn start_session(&mut self, now: UnixMillis) {
        self.state = SessionState::Running;
        self.session_number += 1;
        self.session_started_at = Some(now);
        let (entry, location) = match &self.data {
            DataModel::Scorm2004(cmi) => (cmi.entry.clone(), cmi.location.clone()),
            DataModel::Scorm12(cmi) => (cmi.entry.clone(), cmi.lesson_location.clone()),
        };
        let event = if entry == "resume" {
            RteEvent::Resumed {
                at: now,
                attempt: self.attempt_number,
                session: self.session_number,
                location,
            }
        } else {
            RteEvent::Initialized {
                at: now,
                attempt: self.attempt_number,
                session: self.session_number,
                entry,
            }
        };
        self.pending_events.push(event);
    }

    fn terminate(&mut self, now: UnixMillis) {
        let (session_time, suspended) = match &mut self.data {
            DataModel::Scorm2004(cmi) => {
                let session = cmi.session_time.clone();
                cmi.total_time_cs = cmi.total_time_with_session();
                // the session time is now part of total_time; keep it readable in the delta
                let suspended =
                    cmi.exit.as_deref() == Some("suspend") || cmi.nav_request == "suspendAll";
                (session, suspended)
            }
            DataModel::Scorm12(cmi) => {
                let session = cmi.session_time.clone();
                cmi.finish(&self.config);
                (session, cmi.exit.as_deref() == Some("suspend"))
            }
        };
        self.suspended = suspended;
        self.state = SessionState::Terminated;
        // the accumulated total no longer includes a pending session time
        match &mut self.data {
            DataModel::Scorm2004(cmi) => cmi.session_time = None,
            DataModel::Scorm12(cmi) => cmi.session_time = None,
        }
        let summary = self.summary();
        let session_iso = session_time.map(|s| match self.config.version {
            ScormVersion::Scorm12 => format_duration(parse_timespan_12(&s).unwrap_or(0)),
            ScormVersion::Scorm2004 => s,
        });
        self.commit(now, true);
        let batch_events = &mut self.outbox.last_mut().map(|b| &mut b.events);
        if let Some(events) = batch_events {
            if suspended {
                events.push(RteEvent::Suspended {
                    at: now,
                    session_time: session_iso.clone(),
                    total_time: summary.total_time.clone(),
                    location: summary.location.clone(),
                });
            }
            events.push(RteEvent::Terminated {
                at: now,
                session_time: session_iso,
                total_time: summary.total_time,
                completion: summary.completion,
                success: summary.success,
                score: summary.score,
            });
        }
    }

    /// Computes the delta and events since the last batch and queues them in the outbox.
    fn commit(&mut self, now: UnixMillis, terminated: bool) {
        let current: BTreeMap<String, String> = self.values().into_iter().collect();
        let changes = diff(&self.committed, &current);
        let mut events = std::mem::take(&mut self.pending_events);
        self.derive_events(&current, now, &mut events);
        self.committed = current;
        self.outbox.push(CommitBatch {
            changes,
            events,
            terminated,
        });
    }

    fn derive_events(
        &self,
        current: &BTreeMap<String, String>,
        now: UnixMillis,
        events: &mut Vec<RteEvent>,
    ) {
        let before = |name: &str| self.committed.get(name).map(String::as_str);
        let after = |name: &str| current.get(name).map(String::as_str);
        let summary = self.summary();
        let (completion_key, success_key) = match self.config.version {
            ScormVersion::Scorm2004 => ("cmi.completion_status", "cmi.success_status"),
            ScormVersion::Scorm12 => ("cmi.core.lesson_status", "cmi.core.lesson_status"),
        };
        let score_keys: &[&str] = match self.config.version {
            ScormVersion::Scorm2004 => &[
                "cmi.score.scaled",
                "cmi.score.raw",
                "cmi.score.min",
                "cmi.score.max",
            ],
            ScormVersion::Scorm12 => &[
                "cmi.core.score.raw",
                "cmi.core.score.min",
                "cmi.core.score.max",
            ],
        };
        if score_keys.iter().any(|k| before(k) != after(k))
            && let Some(score) = summary.score.clone()
        {
            events.push(RteEvent::Scored { at: now, score });
        }
        if before(completion_key) != after(completion_key)
            && summary.completion == Completion::Completed
        {
            let was_completed = matches!(
                (self.config.version, before(completion_key)),
                (ScormVersion::Scorm12, Some("passed" | "completed"))
                    | (ScormVersion::Scorm2004, Some("completed"))
            );
            if !was_completed {
                events.push(RteEvent::Completed {
                    at: now,
                    progress_measure: summary.progress_measure,
                });
            }
        }
        if before(success_key) != after(success_key) {
            match summary.success {
                Success::Passed => events.push(RteEvent::Passed {
                    at: now,
                    score: summary.score.clone(),
                }),
                Success::Failed => events.push(RteEvent::Failed {
                    at: now,
                    score: summary.score.clone(),
                }),
                Success::Unknown => {}
            }
        }
        for interaction in self.answered_interactions() {
            let prefix = format!("cmi.interactions.{}.", interaction.index);
            let changed = current
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .any(|(k, v)| self.committed.get(k) != Some(v));
            if changed {
                events.push(RteEvent::Answered {
                    at: now,
                    interaction,
                });
            }
        }
    }

    fn answered_interactions(&self) -> Vec<AnsweredInteraction> {
        match &self.data {
            DataModel::Scorm2004(cmi) => cmi
                .interactions
                .iter()
                .enumerate()
                .filter(|(_, i)| i.learner_response.is_some() || i.result.is_some())
                .map(|(index, i)| AnsweredInteraction {
                    index,
                    id: i.id.clone().unwrap_or_default(),
                    interaction_type: i.kind.map(|k| k.as_str().to_owned()),
                    learner_response: i.learner_response.clone(),
                    result: i.result.clone(),
                    correct_responses: i.correct_responses.clone(),
                    latency: i.latency.clone(),
                    description: i.description.clone(),
                    timestamp: i.timestamp.clone(),
                    weighting: i.weighting.as_deref().and_then(parse_real),
                    objective_ids: i.objectives.clone(),
                })
                .collect(),
            DataModel::Scorm12(cmi) => cmi
                .interactions
                .iter()
                .enumerate()
                .filter(|(_, i)| i.student_response.is_some() || i.result.is_some())
                .map(|(index, i)| AnsweredInteraction {
                    index,
                    id: i.id.clone().unwrap_or_default(),
                    interaction_type: i.kind.map(|k| k.as_str().to_owned()),
                    learner_response: i.student_response.clone(),
                    result: i.result.clone(),
                    correct_responses: i.correct_responses.clone(),
                    latency: i
                        .latency
                        .as_deref()
                        .and_then(parse_timespan_12)
                        .map(format_duration),
                    description: None,
                    timestamp: i.time.clone(),
                    weighting: i.weighting.as_deref().and_then(parse_real),
                    objective_ids: i.objectives.clone(),
                })
                .collect(),
        }
    }

    /// Takes the batches queued by `Commit`/`Terminate` since the last call, oldest first. The
    /// store persists each in one transaction before acknowledging the commit.
    pub fn take_batches(&mut self) -> Vec<CommitBatch> {
        std::mem::take(&mut self.outbox)
    }

    /// Values changed since the last `Commit`/`Terminate` (not yet in a batch).
    pub fn uncommitted_changes(&self) -> Vec<(String, Option<String>)> {
        diff(&self.committed, &self.values().into_iter().collect())
    }

    /// Every learner-set or LMS-evaluated value, `(element, value)` in a fixed order (for
    /// reports such as `GET /api/registrations/{id}`).
    pub fn values(&self) -> Vec<(String, String)> {
        match &self.data {
            DataModel::Scorm2004(cmi) => scorm2004::values(cmi, &self.config),
            DataModel::Scorm12(cmi) => scorm12::values(cmi),
        }
    }

    /// Completion, success, score and time as the LMS reports them.
    pub fn summary(&self) -> Summary {
        match &self.data {
            DataModel::Scorm2004(cmi) => {
                let completion = match cmi.evaluated_completion(&self.config) {
                    "completed" => Completion::Completed,
                    "incomplete" => Completion::Incomplete,
                    "not attempted" => Completion::NotAttempted,
                    _ => Completion::Unknown,
                };
                let success = match cmi.evaluated_success(&self.config) {
                    "passed" => Success::Passed,
                    "failed" => Success::Failed,
                    _ => Success::Unknown,
                };
                let s = &cmi.score;
                let score = (!s.is_empty()).then(|| ScoreSnapshot {
                    scaled: s.scaled.as_deref().and_then(parse_real),
                    raw: s.raw.as_deref().and_then(parse_real),
                    min: s.min.as_deref().and_then(parse_real),
                    max: s.max.as_deref().and_then(parse_real),
                });
                let total = cmi.total_time_with_session();
                Summary {
                    completion,
                    success,
                    score,
                    progress_measure: cmi.progress_measure.as_deref().and_then(parse_real),
                    total_time: format_duration(total),
                    total_time_centiseconds: total,
                    location: cmi.location.clone(),
                    attempt_number: self.attempt_number,
                    suspended: self.suspended,
                }
            }
            DataModel::Scorm12(cmi) => {
                let completion = match cmi.lesson_status.as_str() {
                    "completed" | "passed" => Completion::Completed,
                    "incomplete" | "failed" | "browsed" => Completion::Incomplete,
                    _ => Completion::NotAttempted,
                };
                let success = match cmi.lesson_status.as_str() {
                    "passed" => Success::Passed,
                    "failed" => Success::Failed,
                    _ => Success::Unknown,
                };
                let raw = cmi.score.raw.as_deref().and_then(parse_real);
                let min = cmi.score.min.as_deref().and_then(parse_real);
                let max = cmi.score.max.as_deref().and_then(parse_real);
                let score = raw.map(|raw| ScoreSnapshot {
                    scaled: scaled_from_raw(raw, min, max),
                    raw: Some(raw),
                    min,
                    max,
                });
                let session = cmi
                    .session_time
                    .as_deref()
                    .and_then(parse_timespan_12)
                    .unwrap_or(0);
                let total = cmi.total_time_cs + session;
                Summary {
                    completion,
                    success,
                    score,
                    progress_measure: None,
                    total_time: format_duration(total),
                    total_time_centiseconds: total,
                    location: cmi.lesson_location.clone(),
                    attempt_number: self.attempt_number,
                    suspended: self.suspended,
                }
            }
        }
    }

    /// Whether the learner has used up `max_time_allowed` (accumulated time plus the time
    /// since this session started); the player then applies `time_limit_action`.
    pub fn time_limit_exceeded(&self, now: UnixMillis) -> bool {
        let Some(limit) = self.config.max_time_allowed.as_deref() else {
            return false;
        };
        let limit = match self.config.version {
            ScormVersion::Scorm2004 => parse_duration(limit),
            ScormVersion::Scorm12 => parse_timespan_12(limit),
        };
        let Some(limit) = limit else { return false };
        let elapsed_session = match (self.state, self.session_started_at) {
            (SessionState::Running, Some(start)) => {
                u64::try_from((now.0 - start.0).max(0) / 10).unwrap_or(0)
            }
            _ => 0,
        };
        let accumulated = match &self.data {
            DataModel::Scorm2004(cmi) => cmi.total_time_cs,
            DataModel::Scorm12(cmi) => cmi.total_time_cs,
        };
        accumulated + elapsed_session >= limit
    }
}

fn diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<(String, Option<String>)> {
    let mut changes: Vec<(String, Option<String>)> = after
        .iter()
        .filter(|(name, value)| before.get(*name) != Some(*value))
        .map(|(name, value)| (name.clone(), Some(value.clone())))
        .collect();
    changes.extend(
        before
            .keys()
            .filter(|name| !after.contains_key(*name))
            .map(|name| (name.clone(), None)),
    );
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    changes
}

fn scaled_from_raw(raw: f64, min: Option<f64>, max: Option<f64>) -> Option<f64> {
    let min = min.unwrap_or(0.0);
    let max = max.unwrap_or(100.0);
    (max > min).then(|| ((raw - min) / (max - min)).clamp(-1.0, 1.0))
}

fn fresh_data(config: &AttemptConfig) -> DataModel {
    match config.version {
        ScormVersion::Scorm12 => DataModel::Scorm12(Cmi12::new(config)),
        ScormVersion::Scorm2004 => DataModel::Scorm2004(Cmi2004::new(config)),
    }
}
