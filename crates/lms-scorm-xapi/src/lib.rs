//! lms-scorm-xapi: SCORM run-time events as xAPI statements, following ADL's xAPI SCORM
//! Profile (<https://w3id.org/xapi/scorm>), so one LRS query shows a learner's SCORM and
//! xAPI learning together.
//!
//! Pure: no clock, no randomness, no IO. Timestamps come from the events (the `now` the player
//! passed to `Attempt::handle`), statement ids from the caller's generator.
//!
//! On every acknowledged `Commit`/`Terminate` the player takes the run-time's batches, stores
//! them, and converts their events:
//!
//! ```
//! use lms_rte::{Attempt, AttemptConfig, Call, ScormVersion, UnixMillis};
//! use lms_scorm_xapi::{InteractionVerb, LearnerAccount, ScormContext, batches_to_statements, course_iri, sco_iri};
//!
//! let mut attempt = Attempt::new(AttemptConfig::new(ScormVersion::Scorm2004, "P-4711", "Ada"));
//! attempt.handle(Call::Initialize(""), UnixMillis(1_700_000_000_000));
//! attempt.handle(Call::SetValue("cmi.completion_status", "completed"), UnixMillis(1_700_000_060_000));
//! attempt.handle(Call::Terminate(""), UnixMillis(1_700_000_060_000));
//! let batches = attempt.take_batches();
//!
//! let course = course_iri("https://lms.example.com", "golf-2004").unwrap();
//! let context = ScormContext {
//!     learner: LearnerAccount { home_page: "https://lms.example.com".into(), name: "P-4711".into() },
//!     registration: uuid::Uuid::from_u128(7),
//!     sco_iri: sco_iri(&course, "item_1"),
//!     course_iri: course,
//!     course_title: Some("Golf Explained".into()),
//!     sco_title: "Playing the game".into(),
//!     attempt: attempt.attempt_number(),
//!     version: ScormVersion::Scorm2004,
//!     language: "en-US".into(),
//!     interaction_verb: InteractionVerb::Responded,
//! };
//! let mut n = 0u128;
//! let statements = batches_to_statements(&context, &batches, || { n += 1; uuid::Uuid::from_u128(n) }).unwrap();
//! let verbs: Vec<&str> = statements.iter().map(|s| s["verb"]["display"]["en-US"].as_str().unwrap()).collect();
//! assert_eq!(verbs, ["initialized", "completed", "terminated"]);
//! for statement in &statements {
//!     lms_xapi::validate_statement(statement, lms_xapi::XapiVersion::V2_0_0).unwrap();
//! }
//! ```
//!
//! What the statements look like (profile sections 3.2, 5 and 6):
//! * actor: the personnel number as an account `{homePage, name}`, never an e-mail;
//! * verbs `initialized`, `resumed`, `suspended`, `terminated` (SCO), `completed`, `passed`,
//!   `failed`, `scored` (SCO), `responded` or `answered` ([`InteractionVerb`]) for interactions;
//! * objects: the SCO (type `lesson`) or the interaction (type `cmi.interaction`, with
//!   `interactionType` and `correctResponsesPattern` converted by [`responses`]);
//! * context: `registration`; `contextActivities.parent` = the SCO (interactions only),
//!   `grouping` = the course (type `course`) and the attempt (type `attempt`,
//!   [`attempt_iri`]), `category` = the profile activity;
//! * result: score (scaled/raw/min/max as xAPI allows them), success, completion, duration
//!   (session time or latency, ISO 8601), response;
//! * timestamp: the event's time, UTC, milliseconds.
//!
//! [`course_completed_statement`] writes the profile's optional course-status statement.

mod context;
mod error;
pub mod responses;
mod statements;

pub use context::{InteractionVerb, LearnerAccount, ScormContext, attempt_iri, course_iri, interaction_iri, sco_iri};
pub use error::ScormXapiError;
pub use lms_rte::{CommitBatch, RteEvent, ScormVersion, UnixMillis};
pub use statements::{
    CourseResult, PROFILE_ACTIVITY_ID, batches_to_statements, course_completed_statement, to_statements,
};
