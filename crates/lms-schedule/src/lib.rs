//! `lms-schedule` — the pure scheduling rules of blended learning: catalogue, offerings
//! and sessions (Europe/Berlin, DST-correct), clash detection, the booking state machine
//! with approval, waitlist and notification outbox, attendance and completion, learning
//! paths, mandatory training and recertification, iCalendar output, and the manager's
//! team view.
//!
//! Nothing here reads a clock, a disk or a network: every function takes values and
//! `now` and returns values. The intended call pattern for the store is:
//!
//! ```text
//! BEGIN;                                   -- lock the offering row
//! let state = load OfferingState (offering + sessions + bookings);
//! let t = state.book(&rules, BookRequest { booking_id, person, actor }, now)?;
//! write t.state.bookings whose id is in t.changed; insert t.outbox (dedupe_key unique);
//! COMMIT;
//! ```
//!
//! Modules: [`time`] (Berlin ⇄ UTC), [`org`] (org tree, absences, approver, reports),
//! [`catalogue`], [`offering`] (+ clashes), [`booking`], [`outbox`], [`attendance`],
//! [`path`], [`mandatory`], [`ical`], [`team`].

pub mod attendance;
pub mod booking;
pub mod catalogue;
mod error;
pub mod ical;
pub mod ids;
pub mod mandatory;
pub mod offering;
pub mod org;
pub mod outbox;
pub mod path;
pub mod team;
pub mod time;

pub use error::ScheduleError;

/// The `chrono` the public API uses (instants are `chrono::DateTime<Utc>`), re-exported so
/// callers name the same version.
pub use chrono;
