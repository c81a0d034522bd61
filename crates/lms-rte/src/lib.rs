//! The SCORM run-time: the API state machine and the SCORM 1.2 and SCORM 2004 4th edition
//! data models, pure and sans-IO.
//!
//! The LMS builds an [`Attempt`] from an [`AttemptConfig`] (learner, credit/mode, launch data,
//! mastery score, completion threshold, scaled passing score, objectives, `adl.data` maps),
//! then forwards every API call of the content with [`Attempt::handle`], passing the current
//! time (the crate has no clock, disk or network):
//!
//! ```
//! use lms_rte::{Attempt, AttemptConfig, Call, ScormVersion, UnixMillis};
//!
//! let mut attempt = Attempt::new(AttemptConfig::new(ScormVersion::Scorm2004, "u1", "Ada"));
//! let now = UnixMillis(0);
//! assert_eq!(attempt.handle(Call::Initialize(""), now).value, "true");
//! attempt.handle(Call::SetValue("cmi.completion_status", "completed"), now);
//! attempt.handle(Call::SetValue("cmi.exit", "suspend"), now);
//! attempt.handle(Call::Terminate(""), now);
//! let batches = attempt.take_batches(); // changes + xAPI-ready events to persist
//! assert!(batches.last().unwrap().terminated);
//! let saved = attempt.to_json(); // whole state for the store
//! let mut next = Attempt::from_json(&saved).unwrap();
//! next.begin_next_session(); // entry = resume after suspend
//! next.handle(Call::Initialize(""), now);
//! assert_eq!(next.handle(Call::GetValue("cmi.entry"), now).value, "resume");
//! ```
//!
//! Sizes in the standards are minimums: values longer than the smallest permitted maximum are
//! accepted (SCORM 1.2 `suspend_data` up to any length) unless [`AttemptConfig::strict`] is set.

mod attempt;
mod config;
pub mod error;
pub mod interaction;
mod lang_codes;
pub mod scorm12;
pub mod scorm2004;
pub mod types;

pub use attempt::{
    AnsweredInteraction, Attempt, Call, CommitBatch, Completion, DataModel, ObjectiveInit, Reply,
    RteEvent, ScoreSnapshot, SessionState, Success, Summary, UnixMillis,
};
pub use config::{
    AttemptConfig, Credit, LmsComment, Mode, NavigationValidity, ScormVersion, SharedDataMap,
    TimeLimitAction, Validity,
};
pub use error::Error;
