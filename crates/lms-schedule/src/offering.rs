//! Offerings (runs of a course) with sessions, rooms, trainers, and clash detection.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CourseId, OfferingId, PersonId, RoomId, SessionId};
use crate::ScheduleError;

/// A room with a capacity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub name: String,
    pub capacity: u32,
}

/// One meeting of an offering. Times are instants; build them from Berlin wall-clock
/// times with [`crate::time::berlin_to_utc`] or from RFC 3339 with [`crate::time::parse_rfc3339`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `None` for live-online sessions.
    pub room: Option<RoomId>,
    pub trainers: BTreeSet<PersonId>,
}

impl Session {
    /// Whether the two half-open intervals `[start, end)` overlap.
    pub fn overlaps(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> bool {
        self.starts_at < ends_at && starts_at < self.ends_at
    }
}

/// One run of a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offering {
    pub id: OfferingId,
    pub course_id: CourseId,
    pub min_participants: u32,
    pub max_participants: u32,
    /// `None`: open as soon as the offering is published.
    pub booking_opens_at: Option<DateTime<Utc>>,
    pub booking_closes_at: DateTime<Utc>,
    /// Until this instant (inclusive) a learner may cancel their own booking.
    pub cancellation_deadline: DateTime<Utc>,
    /// Whether self-bookings need the manager's approval.
    pub requires_approval: bool,
    pub sessions: Vec<Session>,
}

/// Upper bound on `max_participants` (a sanity limit against typos like 10000000).
pub const MAX_PARTICIPANTS_LIMIT: u32 = 10_000;
/// Most sessions one offering may have.
pub const MAX_SESSIONS_PER_OFFERING: usize = 500;
/// Longest accepted single session.
pub const MAX_SESSION_HOURS: i64 = 24;

impl Offering {
    /// Start of the first session: from then on nobody is promoted or self-booked.
    pub fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.sessions.iter().map(|s| s.starts_at).min()
    }

    /// End of the last session.
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.sessions.iter().map(|s| s.ends_at).max()
    }

    /// Whether the first session has started at `now`.
    pub fn has_started(&self, now: DateTime<Utc>) -> bool {
        self.starts_at().is_some_and(|start| now >= start)
    }

    /// Checks participant limits, windows, sessions and room capacities.
    pub fn validate(&self, rooms: &BTreeMap<RoomId, Room>) -> Result<(), ScheduleError> {
        if self.max_participants == 0 || self.max_participants > MAX_PARTICIPANTS_LIMIT {
            return Err(ScheduleError::InvalidField {
                field: "max_participants",
                reason: format!("{} is not in 1..={MAX_PARTICIPANTS_LIMIT}", self.max_participants),
            });
        }
        if self.min_participants > self.max_participants {
            return Err(ScheduleError::InvalidField {
                field: "min_participants",
                reason: format!("{} exceeds max_participants {}", self.min_participants, self.max_participants),
            });
        }
        if let Some(opens) = self.booking_opens_at
            && opens >= self.booking_closes_at
        {
            return Err(ScheduleError::InvalidField {
                field: "booking_opens_at",
                reason: format!("{opens} is not before booking_closes_at {}", self.booking_closes_at),
            });
        }
        if self.sessions.len() > MAX_SESSIONS_PER_OFFERING {
            return Err(ScheduleError::InvalidField {
                field: "sessions",
                reason: format!("{} sessions; at most {MAX_SESSIONS_PER_OFFERING} per offering", self.sessions.len()),
            });
        }
        let mut ids = BTreeSet::new();
        for session in &self.sessions {
            if !ids.insert(session.id) {
                return Err(ScheduleError::InvalidField { field: "sessions", reason: format!("duplicate session {}", session.id) });
            }
            validate_session(session, self.max_participants, rooms)?;
        }
        for (i, a) in self.sessions.iter().enumerate() {
            if let Some(b) = self.sessions[i + 1..].iter().find(|b| a.overlaps(b.starts_at, b.ends_at)) {
                return Err(ScheduleError::Clash {
                    session: b.id,
                    other_session: a.id,
                    resource: "two sessions of the same offering overlap".into(),
                });
            }
        }
        if let Some(start) = self.starts_at() {
            if self.booking_closes_at > start {
                return Err(ScheduleError::InvalidField {
                    field: "booking_closes_at",
                    reason: format!("{} is after the first session starts ({start})", self.booking_closes_at),
                });
            }
            if self.cancellation_deadline > start {
                return Err(ScheduleError::InvalidField {
                    field: "cancellation_deadline",
                    reason: format!("{} is after the first session starts ({start})", self.cancellation_deadline),
                });
            }
        }
        Ok(())
    }
}

/// Checks one session on its own: end after start, bounded length, room known and large enough.
pub fn validate_session(session: &Session, max_participants: u32, rooms: &BTreeMap<RoomId, Room>) -> Result<(), ScheduleError> {
    if session.ends_at <= session.starts_at {
        return Err(ScheduleError::SessionEndsBeforeStart {
            session: session.id,
            starts_at: session.starts_at,
            ends_at: session.ends_at,
        });
    }
    if session.ends_at - session.starts_at > Duration::hours(MAX_SESSION_HOURS) {
        return Err(ScheduleError::InvalidField {
            field: "ends_at",
            reason: format!("session {} is longer than {MAX_SESSION_HOURS} hours", session.id),
        });
    }
    if let Some(room_id) = session.room {
        let room = rooms.get(&room_id).ok_or(ScheduleError::UnknownRoom { room: room_id })?;
        if room.capacity < max_participants {
            return Err(ScheduleError::RoomTooSmall { room: room_id, capacity: room.capacity, max_participants });
        }
    }
    Ok(())
}

/// What two overlapping sessions compete for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ClashResource {
    Room(RoomId),
    Trainer(PersonId),
    Learner(PersonId),
}

impl fmt::Display for ClashResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Room(r) => write!(f, "room {r} is double-booked"),
            Self::Trainer(p) => write!(f, "trainer {p} is double-booked"),
            Self::Learner(p) => write!(f, "learner {p} is booked elsewhere at that time"),
        }
    }
}

/// A detected clash.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Clash {
    pub session: SessionId,
    pub other_session: SessionId,
    pub resource: ClashResource,
}

impl From<Clash> for ScheduleError {
    fn from(c: Clash) -> Self {
        ScheduleError::Clash { session: c.session, other_session: c.other_session, resource: c.resource.to_string() }
    }
}

/// All room and trainer clashes between `candidate` and `existing` sessions (of any
/// offering; a session with the candidate's own id is ignored, so updates can be checked).
/// Sessions are half-open: one ending at 12:00 does not clash with one starting at 12:00.
pub fn find_clashes(candidate: &Session, existing: &[Session]) -> Vec<Clash> {
    let mut clashes = Vec::new();
    for other in existing {
        if other.id == candidate.id || !other.overlaps(candidate.starts_at, candidate.ends_at) {
            continue;
        }
        if let (Some(a), Some(b)) = (candidate.room, other.room)
            && a == b
        {
            clashes.push(Clash { session: candidate.id, other_session: other.id, resource: ClashResource::Room(a) });
        }
        for trainer in candidate.trainers.intersection(&other.trainers) {
            clashes.push(Clash {
                session: candidate.id,
                other_session: other.id,
                resource: ClashResource::Trainer(trainer.clone()),
            });
        }
    }
    clashes.sort();
    clashes
}

/// Like [`find_clashes`] but an error for the first clash.
pub fn check_no_clash(candidate: &Session, existing: &[Session]) -> Result<(), ScheduleError> {
    match find_clashes(candidate, existing).into_iter().next() {
        Some(clash) => Err(clash.into()),
        None => Ok(()),
    }
}

/// A session a learner is already committed to (a booked session of another offering).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub offering: OfferingId,
    pub session: SessionId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The first clash between the sessions of an offering and a learner's commitments
/// elsewhere (commitments of the same offering are ignored).
pub fn learner_clash(learner: &PersonId, offering: &Offering, commitments: &[Commitment]) -> Option<Clash> {
    let mut best: Option<Clash> = None;
    for session in &offering.sessions {
        for c in commitments {
            if c.offering != offering.id && session.overlaps(c.starts_at, c.ends_at) {
                let clash = Clash { session: session.id, other_session: c.session, resource: ClashResource::Learner(learner.clone()) };
                if best.as_ref().is_none_or(|b| clash < *b) {
                    best = Some(clash);
                }
            }
        }
    }
    best
}

/// The commitments an offering's sessions create for one booked learner.
pub fn commitments_of(offering: &Offering) -> Vec<Commitment> {
    offering
        .sessions
        .iter()
        .map(|s| Commitment { offering: offering.id, session: s.id, starts_at: s.starts_at, ends_at: s.ends_at })
        .collect()
}
