//! Attendance per session, the completion rule of an offering, and no-show marks that can
//! be corrected and expire.
//!
//! Marks are an append-only log: a correction is a newer mark for the same session and
//! person; the latest mark (by `recorded_at`, then log order) counts, earlier ones stay
//! as history.
//!
//! **How the completion rule counts** (documented contract):
//! * `attended` counts as 1 session;
//! * `partly` counts as `partly_weight_percent`/100 of a session (default 50 %);
//! * `excused` sessions are taken out of the denominator (they neither help nor hurt),
//!   but an offering where every session is excused is *not* completed;
//! * `no_show` and unmarked sessions count 0.
//!
//! Completed when `counted / (sessions − excused) ≥ min_attended_percent / 100`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{PersonId, SessionId};
use crate::offering::Offering;
use crate::ScheduleError;

/// The attendance of one person at one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    Attended,
    Partly,
    Excused,
    NoShow,
}

impl AttendanceStatus {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Attended => "attended",
            Self::Partly => "partly",
            Self::Excused => "excused",
            Self::NoShow => "no_show",
        }
    }
}

/// One entry of the attendance log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceMark {
    pub session: SessionId,
    pub person: PersonId,
    pub status: AttendanceStatus,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: PersonId,
}

/// The latest mark per (session, person) of a log; later entries correct earlier ones.
pub fn effective_marks(log: &[AttendanceMark]) -> BTreeMap<(SessionId, PersonId), &AttendanceMark> {
    let mut latest: BTreeMap<(SessionId, PersonId), &AttendanceMark> = BTreeMap::new();
    for mark in log {
        let key = (mark.session, mark.person.clone());
        match latest.get(&key) {
            Some(previous) if previous.recorded_at > mark.recorded_at => {}
            _ => {
                latest.insert(key, mark);
            }
        }
    }
    latest
}

/// Checks a mark against the offering: the session belongs to it and has started.
pub fn validate_mark(offering: &Offering, mark: &AttendanceMark) -> Result<(), ScheduleError> {
    let session = offering.sessions.iter().find(|s| s.id == mark.session).ok_or_else(|| ScheduleError::InvalidField {
        field: "session",
        reason: format!("session {} is not part of offering {}", mark.session, offering.id),
    })?;
    if mark.recorded_at < session.starts_at {
        return Err(ScheduleError::InvalidField {
            field: "recorded_at",
            reason: format!("attendance for session {} recorded before it starts ({})", session.id, session.starts_at),
        });
    }
    Ok(())
}

/// The completion rule of an offering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionRule {
    /// e.g. 80 = at least 80 % of the (non-excused) sessions.
    pub min_attended_percent: u8,
    /// How much a `partly` counts, in percent of a session (default 50).
    pub partly_weight_percent: u8,
}

impl Default for CompletionRule {
    fn default() -> Self {
        Self { min_attended_percent: 80, partly_weight_percent: 50 }
    }
}

/// The outcome of the completion rule for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CompletionOutcome {
    Completed,
    /// Can no longer be reached even if every unmarked session were attended.
    NotCompleted,
    /// Depends on the listed sessions that have no mark yet.
    Pending { unmarked: Vec<SessionId> },
}

/// Applies the completion rule (see the module docs for how `partly`/`excused` count).
pub fn completion(rule: CompletionRule, offering: &Offering, person: &PersonId, log: &[AttendanceMark]) -> CompletionOutcome {
    let marks = effective_marks(log);
    let partly = u64::from(rule.partly_weight_percent.min(100));
    let (mut counted, mut denominator, mut attended_any) = (0u64, 0u64, false);
    let mut unmarked = Vec::new();
    for session in &offering.sessions {
        match marks.get(&(session.id, person.clone())).map(|m| m.status) {
            Some(AttendanceStatus::Attended) => {
                counted += 100;
                denominator += 1;
                attended_any = true;
            }
            Some(AttendanceStatus::Partly) => {
                counted += partly;
                denominator += 1;
                attended_any = true;
            }
            Some(AttendanceStatus::Excused) => {}
            Some(AttendanceStatus::NoShow) => denominator += 1,
            None => {
                unmarked.push(session.id);
                denominator += 1;
            }
        }
    }
    let needed = u64::from(rule.min_attended_percent.min(100));
    let reached = |counted: u64, any: bool| any && denominator > 0 && counted >= needed * denominator;
    if reached(counted, attended_any) {
        return CompletionOutcome::Completed;
    }
    let best_case = counted + 100 * unmarked.len() as u64;
    if unmarked.is_empty() || !reached(best_case, true) {
        CompletionOutcome::NotCompleted
    } else {
        CompletionOutcome::Pending { unmarked }
    }
}

/// How long a no-show mark counts against a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoShowPolicy {
    /// A no-show stops counting this long after the session ended.
    pub expires_after: Duration,
}

/// The no-shows of `person` that still count at `now`: effective (not corrected) `no_show`
/// marks whose session ended less than `expires_after` ago. `session_ends` maps the
/// sessions of the log to their end instant; marks for unknown sessions are ignored.
pub fn active_no_shows(
    policy: NoShowPolicy,
    person: &PersonId,
    log: &[AttendanceMark],
    session_ends: &BTreeMap<SessionId, DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<SessionId> {
    effective_marks(log)
        .into_iter()
        .filter(|((_, p), m)| p == person && m.status == AttendanceStatus::NoShow)
        .filter_map(|((session, _), _)| {
            let ended = session_ends.get(&session)?;
            // Saturating: an absurdly long expiry means "never expires", not a panic.
            let expires = ended.checked_add_signed(policy.expires_after).unwrap_or(DateTime::<Utc>::MAX_UTC);
            (now < expires).then_some(session)
        })
        .collect()
}
