//! The booking state machine of one offering.
//!
//! The store loads an [`OfferingState`] (the offering with its sessions and all its
//! bookings) inside a transaction, calls one transition with `now`, and writes back the
//! returned [`Transition::state`] (only the bookings listed in [`Transition::changed`]
//! differ) together with [`Transition::outbox`] in the same transaction. Serialising the
//! transitions of one offering (row lock / `BEGIN IMMEDIATE`) is the store's job; given
//! that, the rules here guarantee the invariants:
//!
//! * never more `booked` than `max_participants`;
//! * the waitlist is served in arrival order ([`Booking::waitlist_seq`]); a waitlisted
//!   person whose other bookings clash with this offering is skipped, keeps their place,
//!   and the reason is recorded in [`Booking::promotion_skips`];
//! * nobody is promoted, self-booked or approved once the first session has started.
//!
//! Statuses: `pending_approval` (holds no seat) → `booked` | `waitlisted` | `rejected`;
//! `waitlisted` → `booked` (promotion); any active status → `cancelled`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::catalogue::Course;
use crate::ids::{BookingId, PersonId, SessionId};
use crate::offering::{learner_clash, Clash, Commitment, Offering};
use crate::org::{resolve_approver, Absences, ApprovalPolicy, Approver, ApproverRole, OrgTree};
use crate::outbox::{CancelReason, Notification, OutboxEntry};
use crate::ScheduleError;

/// Who performs a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "person", rename_all = "snake_case")]
pub enum Actor {
    /// A member of staff acting for themself (or as approver).
    Person(PersonId),
    /// A training administrator: may book for others, outside the booking window, without
    /// approval, and cancel at any time.
    Admin(PersonId),
}

impl Actor {
    fn person(&self) -> &PersonId {
        match self {
            Self::Person(p) | Self::Admin(p) => p,
        }
    }
}

/// Booking status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    PendingApproval,
    Booked,
    Waitlisted,
    Cancelled,
    Rejected,
}

impl BookingStatus {
    /// The wire name, e.g. `pending_approval`.
    pub fn name(self) -> &'static str {
        match self {
            Self::PendingApproval => "pending_approval",
            Self::Booked => "booked",
            Self::Waitlisted => "waitlisted",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
        }
    }

    /// Whether the booking still counts (blocks a second booking of the same person).
    pub fn is_active(self) -> bool {
        matches!(self, Self::PendingApproval | Self::Booked | Self::Waitlisted)
    }
}

/// The state of an approval request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub requested_at: DateTime<Utc>,
    /// Who was last asked (and notified).
    pub asked: PersonId,
    pub escalation_level: u32,
    pub decided_by: Option<PersonId>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A recorded reason why a waitlisted booking was passed over in a promotion round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionSkip {
    pub at: DateTime<Utc>,
    pub clash: Clash,
}

/// One booking of one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub person: PersonId,
    pub status: BookingStatus,
    /// Who created the booking.
    pub created_by: Actor,
    pub requested_at: DateTime<Utc>,
    /// When the booking joined the waitlist.
    pub waitlisted_at: Option<DateTime<Utc>>,
    /// The waitlist order key: one more than the highest key ever given in this offering
    /// (so two requests in the same instant still keep their arrival order).
    pub waitlist_seq: Option<u64>,
    pub booked_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<Actor>,
    pub approval: Option<ApprovalRecord>,
    pub promotion_skips: Vec<PromotionSkip>,
    /// Sessions for which a reminder was already queued.
    pub reminded_sessions: BTreeSet<SessionId>,
}

/// What the rules need besides the offering state; the store fills it from its tables.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub course: &'a Course,
    pub org: &'a OrgTree,
    pub absences: &'a Absences,
    pub approval: ApprovalPolicy,
    /// Booked sessions in *other* offerings of the people concerned: the person booking and
    /// everyone on this offering's waitlist. People missing from the map have none.
    pub commitments: &'a BTreeMap<PersonId, Vec<Commitment>>,
    /// How long before a session the reminder is queued (by [`OfferingState::advance_time`]).
    pub reminder_lead: Duration,
}

impl Rules<'_> {
    fn clash_for(&self, person: &PersonId, offering: &Offering) -> Option<Clash> {
        self.commitments.get(person).and_then(|c| learner_clash(person, offering, c))
    }
}

/// A request to book a seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookRequest {
    /// Chosen by the store (e.g. from a sequence) before calling.
    pub booking_id: BookingId,
    /// The learner.
    pub person: PersonId,
    pub actor: Actor,
}

/// The result of a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub state: OfferingState,
    /// Notifications to store in the same transaction.
    pub outbox: Vec<OutboxEntry>,
    /// Bookings created or modified, ascending.
    pub changed: Vec<BookingId>,
}

impl Transition {
    /// No booking changed and nothing to notify (e.g. a tick with nothing due), so no booking
    /// or outbox write is needed. (The offering row itself changes only in
    /// [`OfferingState::change_max_participants`], whose caller writes the new maximum.)
    pub fn is_noop(&self) -> bool {
        self.changed.is_empty() && self.outbox.is_empty()
    }
}

/// One offering with all its bookings, as the store loads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferingState {
    pub offering: Offering,
    pub bookings: Vec<Booking>,
}

struct Work {
    state: OfferingState,
    outbox: Vec<OutboxEntry>,
    changed: BTreeSet<BookingId>,
}

impl Work {
    fn finish(self) -> Transition {
        Transition { state: self.state, outbox: self.outbox, changed: self.changed.into_iter().collect() }
    }

    fn notify(&mut self, recipient: &PersonId, now: DateTime<Utc>, dedupe_key: String, notification: Notification) {
        self.outbox.push(OutboxEntry { recipient: recipient.clone(), created_at: now, dedupe_key, notification });
    }

    fn index(&self, id: BookingId) -> Result<usize, ScheduleError> {
        self.state.bookings.iter().position(|b| b.id == id).ok_or(ScheduleError::UnknownBooking { booking: id })
    }

    /// Seats the booking if one is free (after serving the waitlist first), else waitlists it.
    fn seat_or_waitlist(&mut self, rules: &Rules<'_>, index: usize, now: DateTime<Utc>) {
        self.promote(rules, now);
        let offering = self.state.offering.id;
        let free = self.state.free_seats();
        let next_seq = self.state.bookings.iter().filter_map(|b| b.waitlist_seq).max().map_or(1, |m| m.saturating_add(1));
        let booking = &mut self.state.bookings[index];
        let (id, person) = (booking.id, booking.person.clone());
        self.changed.insert(id);
        if free > 0 {
            booking.status = BookingStatus::Booked;
            booking.booked_at = Some(now);
            self.notify(&person, now, format!("booking-confirmed:{id}"), Notification::BookingConfirmed { offering, booking: id });
        } else {
            booking.status = BookingStatus::Waitlisted;
            booking.waitlisted_at = Some(now);
            booking.waitlist_seq = Some(next_seq);
            let position = self.state.waitlist_position(id).unwrap_or(0);
            self.notify(&person, now, format!("waitlisted:{id}"), Notification::Waitlisted { offering, booking: id, position });
        }
    }

    /// Serves the waitlist in order while seats are free; never once the offering started.
    fn promote(&mut self, rules: &Rules<'_>, now: DateTime<Utc>) {
        if self.state.offering.has_started(now) {
            return;
        }
        let mut free = self.state.free_seats();
        if free == 0 {
            return;
        }
        let offering_id = self.state.offering.id;
        for index in self.state.waitlist_indices() {
            if free == 0 {
                break;
            }
            let person = self.state.bookings[index].person.clone();
            let id = self.state.bookings[index].id;
            if let Some(clash) = rules.clash_for(&person, &self.state.offering) {
                let booking = &mut self.state.bookings[index];
                // Record the reason once per distinct clash, not on every round.
                if booking.promotion_skips.last().is_none_or(|s| s.clash != clash) {
                    booking.promotion_skips.push(PromotionSkip { at: now, clash });
                    self.changed.insert(id);
                }
                continue;
            }
            let booking = &mut self.state.bookings[index];
            booking.status = BookingStatus::Booked;
            booking.booked_at = Some(now);
            self.changed.insert(id);
            free -= 1;
            self.notify(&person, now, format!("promoted:{id}"), Notification::Promoted { offering: offering_id, booking: id });
        }
    }

    fn ask_approver(&mut self, index: usize, approver: &Approver, now: DateTime<Utc>) {
        let offering = self.state.offering.id;
        let booking = &self.state.bookings[index];
        let (id, learner) = (booking.id, booking.person.clone());
        let deputy_for = match &approver.role {
            ApproverRole::Deputy { for_manager } => Some(for_manager.clone()),
            ApproverRole::Manager => None,
        };
        self.notify(
            &approver.person,
            now,
            format!("approval-requested:{id}:{}:{}", approver.person, approver.escalation_level),
            Notification::ApprovalRequested { offering, booking: id, learner, escalation_level: approver.escalation_level, deputy_for },
        );
        self.changed.insert(id);
    }
}

impl OfferingState {
    /// A state with no bookings.
    pub fn new(offering: Offering) -> Self {
        Self { offering, bookings: Vec::new() }
    }

    /// A booking by id.
    pub fn booking(&self, id: BookingId) -> Option<&Booking> {
        self.bookings.iter().find(|b| b.id == id)
    }

    /// Number of `booked` seats.
    pub fn booked_count(&self) -> u32 {
        u32::try_from(self.bookings.iter().filter(|b| b.status == BookingStatus::Booked).count()).unwrap_or(u32::MAX)
    }

    /// Free seats (never negative).
    pub fn free_seats(&self) -> u32 {
        self.offering.max_participants.saturating_sub(self.booked_count())
    }

    fn waitlist_indices(&self) -> Vec<usize> {
        let mut indices: Vec<usize> =
            (0..self.bookings.len()).filter(|&i| self.bookings[i].status == BookingStatus::Waitlisted).collect();
        indices.sort_by_key(|&i| (self.bookings[i].waitlist_seq, self.bookings[i].id));
        indices
    }

    /// The waitlist in promotion order.
    pub fn waitlist(&self) -> Vec<&Booking> {
        self.waitlist_indices().into_iter().map(|i| &self.bookings[i]).collect()
    }

    /// 1-based waitlist position of a waitlisted booking.
    pub fn waitlist_position(&self, id: BookingId) -> Option<u32> {
        self.waitlist_indices()
            .iter()
            .position(|&i| self.bookings[i].id == id)
            .and_then(|p| u32::try_from(p + 1).ok())
    }

    /// Whether the offering has reached its minimum number of participants.
    pub fn minimum_reached(&self) -> bool {
        self.booked_count() >= self.offering.min_participants
    }

    fn work(&self) -> Work {
        Work { state: self.clone(), outbox: Vec::new(), changed: BTreeSet::new() }
    }

    fn refuse_after_start(&self, now: DateTime<Utc>) -> Result<(), ScheduleError> {
        match self.offering.starts_at() {
            None => Err(ScheduleError::OfferingWithoutSessions),
            Some(start) if now >= start => Err(ScheduleError::OfferingStarted { started_at: start }),
            Some(_) => Ok(()),
        }
    }

    /// Books a seat: `booked`, `waitlisted` or (self-booking with approval) `pending_approval`.
    pub fn book(&self, rules: &Rules<'_>, request: BookRequest, now: DateTime<Utc>) -> Result<Transition, ScheduleError> {
        self.refuse_after_start(now)?;
        let is_admin = matches!(request.actor, Actor::Admin(_));
        if !is_admin && request.actor.person() != &request.person {
            return Err(ScheduleError::NotOwnBooking {
                booking: request.booking_id,
                actor: request.actor.person().clone(),
                owner: request.person,
            });
        }
        if rules.org.person(&request.person).is_none() {
            return Err(ScheduleError::UnknownPerson { person: request.person });
        }
        if !is_admin {
            let o = &self.offering;
            if now > o.booking_closes_at || o.booking_opens_at.is_some_and(|opens| now < opens) {
                return Err(ScheduleError::BookingWindowClosed { opens_at: o.booking_opens_at, closes_at: o.booking_closes_at, now });
            }
            if !rules.course.is_visible_to(rules.org, &request.person) {
                return Err(ScheduleError::NotVisible { person: request.person });
            }
        }
        if self.booking(request.booking_id).is_some() {
            return Err(ScheduleError::DuplicateBookingId { booking: request.booking_id });
        }
        if let Some(existing) = self.bookings.iter().find(|b| b.person == request.person && b.status.is_active()) {
            return Err(ScheduleError::AlreadyBooked { person: request.person, booking: existing.id });
        }
        if let Some(clash) = rules.clash_for(&request.person, &self.offering) {
            return Err(clash.into());
        }
        let mut work = self.work();
        work.state.bookings.push(Booking {
            id: request.booking_id,
            person: request.person.clone(),
            status: BookingStatus::PendingApproval,
            created_by: request.actor.clone(),
            requested_at: now,
            waitlisted_at: None,
            waitlist_seq: None,
            booked_at: None,
            ended_at: None,
            ended_by: None,
            approval: None,
            promotion_skips: Vec::new(),
            reminded_sessions: BTreeSet::new(),
        });
        let index = work.state.bookings.len() - 1;
        work.changed.insert(request.booking_id);
        if self.offering.requires_approval && !is_admin {
            let approver = resolve_approver(rules.org, rules.absences, &request.person, now, now, rules.approval)?;
            work.state.bookings[index].approval = Some(ApprovalRecord {
                requested_at: now,
                asked: approver.person.clone(),
                escalation_level: approver.escalation_level,
                decided_by: None,
                decided_at: None,
            });
            work.ask_approver(index, &approver, now);
            // a waiting learner whose clash has gone since the last change gets a free seat now
            work.promote(rules, now);
        } else {
            work.seat_or_waitlist(rules, index, now);
        }
        Ok(work.finish())
    }

    fn pending_index(&self, work: &Work, booking: BookingId, action: &'static str) -> Result<usize, ScheduleError> {
        let index = work.index(booking)?;
        let status = self.bookings[index].status;
        if status != BookingStatus::PendingApproval {
            return Err(ScheduleError::WrongBookingStatus { booking, status: status.name(), action });
        }
        Ok(index)
    }

    fn check_approver(&self, rules: &Rules<'_>, index: usize, actor: &Actor, now: DateTime<Utc>) -> Result<(), ScheduleError> {
        let Actor::Person(person) = actor else { return Ok(()) };
        let booking = &self.bookings[index];
        let requested_at = booking.approval.as_ref().map_or(booking.requested_at, |a| a.requested_at);
        let approver = resolve_approver(rules.org, rules.absences, &booking.person, requested_at, now, rules.approval)?;
        if &approver.person != person {
            return Err(ScheduleError::NotTheApprover { booking: booking.id, actor: person.clone(), approver: approver.person });
        }
        Ok(())
    }

    /// The approver (resolved at `now`) or an admin approves: the booking is seated or waitlisted.
    pub fn approve(&self, rules: &Rules<'_>, booking: BookingId, actor: Actor, now: DateTime<Utc>) -> Result<Transition, ScheduleError> {
        self.refuse_after_start(now)?;
        let mut work = self.work();
        let index = self.pending_index(&work, booking, "approve")?;
        self.check_approver(rules, index, &actor, now)?;
        let person = self.bookings[index].person.clone();
        if let Some(clash) = rules.clash_for(&person, &self.offering) {
            return Err(clash.into());
        }
        if let Some(approval) = work.state.bookings[index].approval.as_mut() {
            approval.decided_by = Some(actor.person().clone());
            approval.decided_at = Some(now);
        }
        work.seat_or_waitlist(rules, index, now);
        Ok(work.finish())
    }

    /// The approver (resolved at `now`) or an admin rejects the request.
    pub fn reject(&self, rules: &Rules<'_>, booking: BookingId, actor: Actor, now: DateTime<Utc>) -> Result<Transition, ScheduleError> {
        let mut work = self.work();
        let index = self.pending_index(&work, booking, "reject")?;
        self.check_approver(rules, index, &actor, now)?;
        let offering = self.offering.id;
        let b = &mut work.state.bookings[index];
        b.status = BookingStatus::Rejected;
        b.ended_at = Some(now);
        b.ended_by = Some(actor.clone());
        if let Some(approval) = b.approval.as_mut() {
            approval.decided_by = Some(actor.person().clone());
            approval.decided_at = Some(now);
        }
        let person = b.person.clone();
        work.changed.insert(booking);
        work.notify(&person, now, format!("cancelled:{booking}"), Notification::Cancelled {
            offering,
            booking,
            reason: CancelReason::ApprovalRejected,
        });
        work.promote(rules, now);
        Ok(work.finish())
    }

    /// Cancels a booking: the learner up to the cancellation deadline (inclusive), an admin
    /// at any time. A freed seat goes to the waitlist at once (unless the offering started).
    pub fn cancel(&self, rules: &Rules<'_>, booking: BookingId, actor: Actor, now: DateTime<Utc>) -> Result<Transition, ScheduleError> {
        let mut work = self.work();
        let index = work.index(booking)?;
        let current = &self.bookings[index];
        if !current.status.is_active() {
            return Err(ScheduleError::WrongBookingStatus { booking, status: current.status.name(), action: "cancel" });
        }
        let reason = match &actor {
            Actor::Admin(_) => CancelReason::ByAdmin,
            Actor::Person(p) => {
                if p != &current.person {
                    return Err(ScheduleError::NotOwnBooking { booking, actor: p.clone(), owner: current.person.clone() });
                }
                if now > self.offering.cancellation_deadline {
                    return Err(ScheduleError::CancellationDeadlinePassed { deadline: self.offering.cancellation_deadline, now });
                }
                CancelReason::ByLearner
            }
        };
        let offering = self.offering.id;
        let b = &mut work.state.bookings[index];
        b.status = BookingStatus::Cancelled;
        b.ended_at = Some(now);
        b.ended_by = Some(actor);
        let person = b.person.clone();
        work.changed.insert(booking);
        work.notify(&person, now, format!("cancelled:{booking}"), Notification::Cancelled { offering, booking, reason });
        work.promote(rules, now);
        Ok(work.finish())
    }

    /// Changes the maximum number of participants (e.g. a bigger room); not below the
    /// number already booked. Extra seats go to the waitlist at once.
    pub fn change_max_participants(&self, rules: &Rules<'_>, max_participants: u32, now: DateTime<Utc>) -> Result<Transition, ScheduleError> {
        if max_participants < self.booked_count().max(1) || max_participants < self.offering.min_participants {
            return Err(ScheduleError::InvalidField {
                field: "max_participants",
                reason: format!(
                    "{max_participants} is below the {} already booked or the minimum {}",
                    self.booked_count(),
                    self.offering.min_participants
                ),
            });
        }
        let mut work = self.work();
        work.state.offering.max_participants = max_participants;
        work.promote(rules, now);
        Ok(work.finish())
    }

    /// Time-driven duties, idempotent (call it from a periodic tick or on every load):
    /// escalates approval requests whose approver changed (escalation or absence),
    /// queues reminders for booked learners `reminder_lead` before each session, and serves
    /// the waitlist (commitments may have changed). Returns an empty transition if nothing is due.
    pub fn advance_time(&self, rules: &Rules<'_>, now: DateTime<Utc>) -> Result<Transition, ScheduleError> {
        let mut work = self.work();
        let started = self.offering.has_started(now);
        for index in 0..self.bookings.len() {
            let booking = &self.bookings[index];
            match booking.status {
                BookingStatus::PendingApproval if !started => {
                    let requested_at = booking.approval.as_ref().map_or(booking.requested_at, |a| a.requested_at);
                    // Nobody to ask right now (everyone up the chain absent): keep the last
                    // request standing rather than failing the whole tick.
                    let Ok(approver) = resolve_approver(rules.org, rules.absences, &booking.person, requested_at, now, rules.approval) else {
                        continue;
                    };
                    let already = booking.approval.as_ref().is_some_and(|a| a.asked == approver.person);
                    if !already {
                        let record = work.state.bookings[index].approval.get_or_insert(ApprovalRecord {
                            requested_at,
                            asked: approver.person.clone(),
                            escalation_level: 0,
                            decided_by: None,
                            decided_at: None,
                        });
                        record.asked = approver.person.clone();
                        record.escalation_level = approver.escalation_level;
                        work.ask_approver(index, &approver, now);
                    }
                }
                BookingStatus::Booked => {
                    for session in &self.offering.sessions {
                        let from = session.starts_at.checked_sub_signed(rules.reminder_lead).unwrap_or(DateTime::<Utc>::MIN_UTC);
                        let due = from <= now && now < session.starts_at;
                        if due && !booking.reminded_sessions.contains(&session.id) {
                            let (id, person) = (booking.id, booking.person.clone());
                            work.state.bookings[index].reminded_sessions.insert(session.id);
                            work.changed.insert(id);
                            work.notify(
                                &person,
                                now,
                                format!("reminder:{id}:{}", session.id),
                                Notification::SessionReminder {
                                    offering: self.offering.id,
                                    booking: id,
                                    session: session.id,
                                    starts_at: session.starts_at,
                                },
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        work.promote(rules, now);
        Ok(work.finish())
    }
}
