//! The one error type of the crate.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::ids::{BookingId, OrgUnitId, PersonId, RoomId, SessionId, StepId};

/// Everything that can go wrong in the scheduling rules. Every variant carries the
/// values that explain it, so a caller can render a precise message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// A local wall-clock time that does not exist in Europe/Berlin (skipped by the
    /// spring-forward DST change, e.g. 02:30 on the last Sunday of March).
    #[error("local time {local} does not exist in Europe/Berlin (skipped by the DST change)")]
    NonexistentLocalTime { local: NaiveDateTime },
    /// A local wall-clock time that happens twice in Europe/Berlin (fall-back DST change).
    #[error("local time {local} is ambiguous in Europe/Berlin: it is {earlier} or {later} (UTC); give an offset")]
    AmbiguousLocalTime { local: NaiveDateTime, earlier: DateTime<Utc>, later: DateTime<Utc> },
    /// A timestamp string could not be parsed.
    #[error("invalid timestamp {input:?}: expected RFC 3339 with an offset, e.g. 2026-03-30T09:00:00+02:00")]
    InvalidTimestamp { input: String },
    /// A field of an input value is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    /// A session whose end is not after its start.
    #[error("session {session} ends ({ends_at}) before or when it starts ({starts_at})")]
    SessionEndsBeforeStart { session: SessionId, starts_at: DateTime<Utc>, ends_at: DateTime<Utc> },
    /// A room is smaller than the offering's maximum number of participants.
    #[error("room {room} holds {capacity} people but the offering allows {max_participants}")]
    RoomTooSmall { room: RoomId, capacity: u32, max_participants: u32 },
    /// The room a session refers to is not known.
    #[error("unknown room {room}")]
    UnknownRoom { room: RoomId },
    /// A session clashes with another one (room, trainer or learner).
    #[error("session {session} clashes with session {other_session}: {resource}")]
    Clash { session: SessionId, other_session: SessionId, resource: String },
    /// An org unit id that is not in the org tree.
    #[error("unknown org unit {unit}")]
    UnknownOrgUnit { unit: OrgUnitId },
    /// A person who is not in the org tree.
    #[error("unknown person {person}")]
    UnknownPerson { person: PersonId },
    /// The org tree's parent links form a cycle.
    #[error("org tree has a cycle through unit {unit}")]
    OrgTreeCycle { unit: OrgUnitId },
    /// Nobody can approve: no manager (or present deputy) up to the root.
    #[error("no approver found for {person} (no present manager or deputy up to the root)")]
    NoApprover { person: PersonId },
    /// Booking outside the booking window.
    #[error("booking window is closed (it runs {} until {closes_at}; now is {now})", opens_text(.opens_at))]
    BookingWindowClosed { opens_at: Option<DateTime<Utc>>, closes_at: DateTime<Utc>, now: DateTime<Utc> },
    /// The offering's first session has started; nobody can book any more.
    #[error("the offering started at {started_at}; no booking changes except by an admin cancellation")]
    OfferingStarted { started_at: DateTime<Utc> },
    /// The offering has no sessions yet, so it cannot be booked.
    #[error("the offering has no sessions yet")]
    OfferingWithoutSessions,
    /// The person already holds an active booking for the offering.
    #[error("{person} already holds booking {booking} for this offering")]
    AlreadyBooked { person: PersonId, booking: BookingId },
    /// A booking id supplied by the caller is already used.
    #[error("booking id {booking} is already used")]
    DuplicateBookingId { booking: BookingId },
    /// The booking is not in this offering.
    #[error("unknown booking {booking}")]
    UnknownBooking { booking: BookingId },
    /// The transition does not apply to a booking in this status.
    #[error("booking {booking} is {status}; cannot {action}")]
    WrongBookingStatus { booking: BookingId, status: &'static str, action: &'static str },
    /// Someone other than the resolved approver tried to decide an approval.
    #[error("{actor} may not decide booking {booking}; the approver today is {approver}")]
    NotTheApprover { booking: BookingId, actor: PersonId, approver: PersonId },
    /// A learner tried to act on someone else's booking.
    #[error("{actor} may not act on booking {booking} of {owner}")]
    NotOwnBooking { booking: BookingId, actor: PersonId, owner: PersonId },
    /// A learner tried to cancel after the cancellation deadline.
    #[error("the cancellation deadline {deadline} has passed (now {now}); ask an admin")]
    CancellationDeadlinePassed { deadline: DateTime<Utc>, now: DateTime<Utc> },
    /// The course is not visible to the person.
    #[error("course is not visible to {person}")]
    NotVisible { person: PersonId },
    /// A learning path is malformed.
    #[error("learning path step {step}: {reason}")]
    InvalidPath { step: StepId, reason: String },
    /// The iCalendar writer failed.
    #[error("could not write iCalendar: {reason}")]
    Ical { reason: String },
}

fn opens_text(opens_at: &Option<DateTime<Utc>>) -> String {
    opens_at.map_or_else(|| "from publication".to_owned(), |t| format!("from {t}"))
}
