//! lms-cmi5: the pure cmi5 run-time (cmi5 specification, "quartz"): launch, the session
//! rules the LRS applies to statements an AU sends, the statements the LMS writes itself,
//! and course status. No IO, no clock, no randomness: ids, `now` and tokens are arguments.
//!
//! # Calling it
//!
//! * **Import**: parse the package with `lms_package` (its cmi5 diagnostics cite the
//!   requirement, see `lms_package::cmi5_requirement`), then
//!   [`Course::from_package`]`(&package, lms_base)` gives AUs and blocks with LMS-generated
//!   activity ids.
//! * **Registration**: [`Registration::create`] → the registration and the "satisfied"
//!   statements already due (all-`NotApplicable` blocks/course, 9.6.1.1-3). Store them.
//! * **Launch**: [`Registration::launch`] → the launch URL, the `LMS.LaunchData` document
//!   (write it to the State API with activityId = the AU's activity id, the actor and the
//!   registration, before opening the URL) and the statements to store ("abandoned" for
//!   sessions of that AU left open, then "launched"). Keep a [`FetchToken`] per session.
//! * **Fetch URL**: [`FetchToken::fetch`] answers each POST (always 200, JSON).
//! * **Every request with a session token**: refuse it (401) unless the token was fetched
//!   and [`Registration::session_is_open`]. Refuse non-GET on the `LMS.LaunchData` state
//!   (403, 10.2.1.0-5) and Agent Profile/State requests for another agent ([`same_agent`],
//!   403, 11.0.0.0-1); check `cmi5LearnerPreferences` writes with
//!   [`check_learner_preferences`]; after a GET of it call
//!   [`Registration::learner_preferences_read`].
//! * **Every statement POST/PUT with a session token**: after xAPI validation (400),
//!   [`Registration::check_statement`] on each statement as the AU sent it (a PUT's
//!   `statementId` copied into `id`, but before the LRS assigns ids to a POST: a statement
//!   without an id is refused, 9.1.0.0-1), in order, on a clone of the registration; any `Err(`[`Rejection`]`)` → answer its status (403) and store nothing;
//!   otherwise store each statement followed by the statements `Ok` returned (block then
//!   course "satisfied"), and keep the clone.
//! * **Abandon / waive** (admin actions or a session left open): [`Registration::abandon`],
//!   [`Registration::waive`] return the statements to store.
//! * **Status**: [`Registration::status`]; [`Registration::replay`] rebuilds a registration
//!   from its stored statements when the store keeps no state of its own.

mod course;
mod error;
mod launch;
mod registration;
pub mod vocab;

pub use course::{Au, Block, Course};
pub use error::Cmi5Error;
pub use launch::{
    FetchToken, LaunchMode, check_learner_preferences, encode_component, fetch_error_unknown_token, launch_data,
    launch_url, learner_preferences, same_agent,
};
pub use registration::{
    AuProgress, AuStatus, BlockStatus, CourseStatus, Launch, LaunchRequest, Registration, Rejection, Session,
    SessionStatus, WaiveReason, format_duration,
};
