//! What the LMS knows before a session starts: the learner, the launch parameters from the
//! manifest, and what the sequencer says about navigation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which run-time API and data model the content uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScormVersion {
    /// SCORM 1.2: `window.API`, `LMSInitialize` …, `cmi.core.*`.
    Scorm12,
    /// SCORM 2004 4th edition: `window.API_1484_11`, `Initialize` …, `cmi.*` and `adl.*`.
    Scorm2004,
}

/// `cmi.credit` / `cmi.core.credit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Credit {
    #[default]
    Credit,
    NoCredit,
}

impl Credit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Credit => "credit",
            Self::NoCredit => "no-credit",
        }
    }
}

/// `cmi.mode` / `cmi.core.lesson_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Normal,
    Browse,
    Review,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Browse => "browse",
            Self::Review => "review",
        }
    }
}

/// `cmi.time_limit_action` (`adlcp:timeLimitAction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeLimitAction {
    ExitMessage,
    ExitNoMessage,
    ContinueMessage,
    #[default]
    ContinueNoMessage,
}

impl TimeLimitAction {
    /// Parses the SCORM vocabulary (`exit,message`, …).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "exit,message" => Self::ExitMessage,
            "exit,no message" => Self::ExitNoMessage,
            "continue,message" => Self::ContinueMessage,
            "continue,no message" => Self::ContinueNoMessage,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExitMessage => "exit,message",
            Self::ExitNoMessage => "exit,no message",
            Self::ContinueMessage => "continue,message",
            Self::ContinueNoMessage => "continue,no message",
        }
    }
}

/// One `adlcp:map` of the SCO's item: a shared data bucket (`adl.data.n`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDataMap {
    pub target_id: String,
    /// `readSharedData` (default true): false makes `adl.data.n.store` write-only.
    pub readable: bool,
    /// `writeSharedData` (default true): false makes `adl.data.n.store` read-only.
    pub writable: bool,
}

impl SharedDataMap {
    pub fn new(target_id: impl Into<String>) -> Self {
        Self {
            target_id: target_id.into(),
            readable: true,
            writable: true,
        }
    }
}

/// A comment the LMS shows the learner (`cmi.comments_from_lms`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LmsComment {
    pub comment: String,
    pub location: Option<String>,
    pub timestamp: Option<String>,
}

/// Everything the LMS fixes for an attempt before the content starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptConfig {
    pub version: ScormVersion,
    pub learner_id: String,
    pub learner_name: String,
    pub credit: Credit,
    pub mode: Mode,
    /// `adlcp:dataFromLMS` → `cmi.launch_data`.
    pub launch_data: Option<String>,
    /// SCORM 1.2 `adlcp:masteryscore` (0–100) → `cmi.student_data.mastery_score`.
    pub mastery_score: Option<f64>,
    /// `adlcp:maxtimeallowed` (1.2 `CMITimespan`) or `imsss:attemptAbsoluteDurationLimit` (2004 ISO 8601).
    pub max_time_allowed: Option<String>,
    pub time_limit_action: Option<TimeLimitAction>,
    /// `adlcp:completionThreshold` `minProgressMeasure` (2004).
    pub completion_threshold: Option<f64>,
    /// `imsss:minNormalizedMeasure` with `satisfiedByMeasure` (2004).
    pub scaled_passing_score: Option<f64>,
    /// Objective ids from the manifest, pre-filled in `cmi.objectives`.
    pub objective_ids: Vec<String>,
    /// `adlcp:data` maps → `adl.data`.
    pub shared_data: Vec<SharedDataMap>,
    pub comments_from_lms: Vec<LmsComment>,
    /// Enforce SCORM 1.2's size limits (4,096-character `suspend_data`, 255-character
    /// `lesson_location`, scores 0–100). Off by default: real content sends more.
    pub strict: bool,
}

impl AttemptConfig {
    /// Checks the values that come from a manifest: completion threshold 0–1, scaled passing
    /// score −1–1, mastery score 0–100, a `max_time_allowed` in the version's format, non-empty
    /// objective and shared-data ids.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let bad =
            |field: &'static str, value: String| Err(crate::Error::BadConfig { field, value });
        if let Some(t) = self.completion_threshold
            && !(0.0..=1.0).contains(&t)
        {
            return bad("completion_threshold", t.to_string());
        }
        if let Some(s) = self.scaled_passing_score
            && !(-1.0..=1.0).contains(&s)
        {
            return bad("scaled_passing_score", s.to_string());
        }
        if let Some(m) = self.mastery_score
            && !(0.0..=100.0).contains(&m)
        {
            return bad("mastery_score", m.to_string());
        }
        if let Some(limit) = &self.max_time_allowed {
            let ok = match self.version {
                ScormVersion::Scorm2004 => crate::types::parse_duration(limit).is_some(),
                ScormVersion::Scorm12 => crate::types::parse_timespan_12(limit).is_some(),
            };
            if !ok {
                return bad("max_time_allowed", limit.clone());
            }
        }
        if let Some(id) = self.objective_ids.iter().find(|id| id.is_empty()) {
            return bad("objective_ids", id.clone());
        }
        if let Some(map) = self.shared_data.iter().find(|m| m.target_id.is_empty()) {
            return bad("shared_data", map.target_id.clone());
        }
        Ok(())
    }

    /// A configuration with defaults: credit, normal mode, nothing from the manifest.
    pub fn new(
        version: ScormVersion,
        learner_id: impl Into<String>,
        learner_name: impl Into<String>,
    ) -> Self {
        Self {
            version,
            learner_id: learner_id.into(),
            learner_name: learner_name.into(),
            credit: Credit::Credit,
            mode: Mode::Normal,
            launch_data: None,
            mastery_score: None,
            max_time_allowed: None,
            time_limit_action: None,
            completion_threshold: None,
            scaled_passing_score: None,
            objective_ids: Vec::new(),
            shared_data: Vec::new(),
            comments_from_lms: Vec::new(),
            strict: false,
        }
    }
}

/// Whether a navigation request would succeed, as the sequencer computed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    True,
    False,
    #[default]
    Unknown,
}

impl Validity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::True => "true",
            Self::False => "false",
            Self::Unknown => "unknown",
        }
    }

    pub fn from_bool(value: bool) -> Self {
        if value { Self::True } else { Self::False }
    }
}

/// Answers for `adl.nav.request_valid.*`, supplied by the caller (the sequencer computes
/// them). Targets not listed answer `unknown`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NavigationValidity {
    pub continue_: Validity,
    pub previous: Validity,
    pub choice: BTreeMap<String, Validity>,
    pub jump: BTreeMap<String, Validity>,
}
