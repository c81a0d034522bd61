//! Notification outbox entries: what the store writes durably in the same transaction as
//! the new state, and a delivery worker sends later (e-mail, log, …).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{BookingId, OfferingId, PersonId, RequirementId, SessionId};

/// One notification to deliver. `dedupe_key` is unique per logical event: the store should
/// insert with "on conflict do nothing" on it, so re-running a rule never notifies twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub recipient: PersonId,
    pub created_at: DateTime<Utc>,
    pub dedupe_key: String,
    pub notification: Notification,
}

/// Why a booking ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The learner cancelled (before the deadline).
    ByLearner,
    /// An admin cancelled.
    ByAdmin,
    /// The approver rejected the request.
    ApprovalRejected,
}

/// The notification kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    BookingConfirmed { offering: OfferingId, booking: BookingId },
    Waitlisted { offering: OfferingId, booking: BookingId, position: u32 },
    Promoted { offering: OfferingId, booking: BookingId },
    Cancelled { offering: OfferingId, booking: BookingId, reason: CancelReason },
    /// Sent to the approver; `deputy_for` names the absent manager when a deputy is asked.
    ApprovalRequested {
        offering: OfferingId,
        booking: BookingId,
        learner: PersonId,
        escalation_level: u32,
        deputy_for: Option<PersonId>,
    },
    SessionReminder { offering: OfferingId, booking: BookingId, session: SessionId, starts_at: DateTime<Utc> },
    RecertificationDue { requirement: RequirementId, cycle: u32, valid_until: DateTime<Utc> },
}

impl Notification {
    /// The wire name of the kind, e.g. `booking_confirmed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BookingConfirmed { .. } => "booking_confirmed",
            Self::Waitlisted { .. } => "waitlisted",
            Self::Promoted { .. } => "promoted",
            Self::Cancelled { .. } => "cancelled",
            Self::ApprovalRequested { .. } => "approval_requested",
            Self::SessionReminder { .. } => "session_reminder",
            Self::RecertificationDue { .. } => "recertification_due",
        }
    }
}
