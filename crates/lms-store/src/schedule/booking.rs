//! Bookings: every change runs the pure state machine of `lms_schedule::booking` on the
//! offering loaded under a lock, and writes the changed bookings and the outbox entries in
//! the same transaction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use lms_schedule::booking::{Actor, BookRequest, Booking, BookingStatus, OfferingState, PromotionSkip, Rules, Transition};
use lms_schedule::ids::{BookingId, OfferingId, PersonId, SessionId};
use lms_schedule::offering::Commitment;
use lms_schedule::time::berlin_date;

use super::catalogue::{COURSE_COLUMNS, course_from_row, load_offering};
use super::{SchedulePolicy, from_json, id_i64, id_u64, load_org_up, placeholders, to_json, ts_parse, ts_text};
use crate::db::{BeginWrite, Db, with_db};
use crate::{Error, Store};

/// A booking as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BookingRecord {
    pub id: i64,
    pub offering_id: i64,
    pub personnel_number: String,
    /// `pending_approval`, `booked`, `waitlisted`, `cancelled` or `rejected`.
    pub status: String,
    /// 1-based place on the waitlist (only while `waitlisted`).
    pub waitlist_position: Option<u32>,
    pub requested_at: DateTime<Utc>,
    pub booked_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Who was asked to approve (while `pending_approval`, and afterwards).
    pub approver: Option<String>,
    /// Promotion rounds that passed this booking over, and why (a clash).
    pub promotion_skips: Vec<PromotionSkip>,
}

fn record(state: &OfferingState, booking: &Booking) -> BookingRecord {
    BookingRecord {
        id: id_i64(booking.id.0),
        offering_id: id_i64(state.offering.id.0),
        personnel_number: booking.person.0.clone(),
        status: booking.status.name().to_string(),
        waitlist_position: if booking.status == BookingStatus::Waitlisted { state.waitlist_position(booking.id) } else { None },
        requested_at: booking.requested_at,
        booked_at: booking.booked_at,
        ended_at: booking.ended_at,
        approver: booking.approval.as_ref().map(|a| a.asked.0.clone()),
        promotion_skips: booking.promotion_skips.clone(),
    }
}

/// One change to an offering's bookings.
enum Change {
    Book { person: String, actor: Actor },
    Cancel { booking: i64, actor: Actor },
    Approve { booking: i64, actor: Actor },
    Reject { booking: i64, actor: Actor },
    ChangeMax(u32),
    Advance,
}

/// What a tick did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TickReport {
    pub offerings_checked: u64,
    pub bookings_changed: u64,
    pub notifications_queued: u64,
}

impl Store {
    /// Books `personnel_number` onto an offering: `booked`, `waitlisted` or
    /// `pending_approval`. `actor` is `Actor::Admin` for an admin booking for someone (no
    /// approval, outside the window), `Actor::Person` for a self-booking.
    pub async fn book(&self, offering_id: i64, personnel_number: &str, actor: Actor, policy: &SchedulePolicy) -> Result<BookingRecord, Error> {
        let (t, id) =
            self.run_change(offering_id, Change::Book { person: personnel_number.to_string(), actor }, policy, Utc::now()).await?;
        let id = id.ok_or_else(|| Error::Task("booking without id".into()))?;
        booking_in(&t, id)
    }

    /// Like [`Store::book`] but in a transaction of its own, bypassing the in-process
    /// combining of concurrent requests: what a second server sharing the database does.
    /// Tests use it to put the database lock itself under contention.
    pub async fn book_alone(&self, offering_id: i64, personnel_number: &str, actor: Actor, policy: &SchedulePolicy) -> Result<BookingRecord, Error> {
        let change = Change::Book { person: personnel_number.to_string(), actor };
        let mut results = self.write_batch(offering_id, vec![(change, *policy, Utc::now())]).await?;
        let (t, id) = results.pop().ok_or_else(|| Error::Task("empty batch".into()))??;
        booking_in(&t, id.ok_or_else(|| Error::Task("booking without id".into()))?)
    }

    /// Cancels a booking: the learner until the cancellation deadline, an admin at any
    /// time. A freed seat goes to the first waitlisted person without a clash at once.
    pub async fn cancel_booking(&self, booking_id: i64, actor: Actor, policy: &SchedulePolicy) -> Result<BookingRecord, Error> {
        let offering = self.offering_of_booking(booking_id).await?;
        let (t, _) = self.run_change(offering, Change::Cancel { booking: booking_id, actor }, policy, Utc::now()).await?;
        booking_in(&t, BookingId(id_u64(booking_id)))
    }

    /// The approver resolved today (manager, present deputy, or escalated head) or an admin
    /// approves a pending booking: it is seated or waitlisted.
    pub async fn approve_booking(&self, booking_id: i64, actor: Actor, policy: &SchedulePolicy) -> Result<BookingRecord, Error> {
        let offering = self.offering_of_booking(booking_id).await?;
        let (t, _) = self.run_change(offering, Change::Approve { booking: booking_id, actor }, policy, Utc::now()).await?;
        booking_in(&t, BookingId(id_u64(booking_id)))
    }

    pub async fn reject_booking(&self, booking_id: i64, actor: Actor, policy: &SchedulePolicy) -> Result<BookingRecord, Error> {
        let offering = self.offering_of_booking(booking_id).await?;
        let (t, _) = self.run_change(offering, Change::Reject { booking: booking_id, actor }, policy, Utc::now()).await?;
        booking_in(&t, BookingId(id_u64(booking_id)))
    }

    /// Changes the maximum number of participants; extra seats go to the waitlist at once.
    pub async fn change_max_participants(&self, offering_id: i64, max: u32, policy: &SchedulePolicy) -> Result<Vec<BookingRecord>, Error> {
        let (t, _) = self.run_change(offering_id, Change::ChangeMax(max), policy, Utc::now()).await?;
        Ok(t.changed.iter().filter_map(|id| t.state.booking(*id)).map(|b| record(&t.state, b)).collect())
    }

    /// Time-driven duties at `now` (run by the server's background task): escalation of
    /// unanswered approval requests, reminders before sessions, promotion from waitlists.
    /// Idempotent: running it twice in a row changes nothing the second time.
    pub async fn schedule_tick(&self, policy: &SchedulePolicy, now: DateTime<Utc>) -> Result<TickReport, Error> {
        let horizon = ts_text(now + policy.reminder_lead);
        let now_s = ts_text(now);
        let ids: Vec<(i64,)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT offering_id FROM offering_sessions WHERE starts_at > $1 AND starts_at <= $2 \
                 UNION SELECT b.offering_id FROM bookings b JOIN offerings o ON o.id = b.offering_id \
                 WHERE b.status IN ('pending_approval', 'waitlisted') AND o.starts_at > $1 ORDER BY 1",
            )
            .bind(&now_s)
            .bind(&horizon)
            .fetch_all(pool)
            .await?
        });
        let mut report = TickReport::default();
        for (id,) in ids {
            let (t, _) = self.run_change(id, Change::Advance, policy, now).await?;
            report.offerings_checked += 1;
            report.bookings_changed += t.changed.len() as u64;
            report.notifications_queued += t.outbox.len() as u64;
        }
        Ok(report)
    }

    pub async fn booking(&self, booking_id: i64) -> Result<Option<BookingRecord>, Error> {
        let row: Option<(i64,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT offering_id FROM bookings WHERE id = $1").bind(booking_id).fetch_optional(pool).await?
        });
        let Some((offering,)) = row else { return Ok(None) };
        let state = self.offering_state(offering).await?;
        Ok(state.booking(BookingId(id_u64(booking_id))).map(|b| record(&state, b)))
    }

    /// Every booking of an offering (including cancelled and rejected), in request order.
    pub async fn list_bookings(&self, offering_id: i64) -> Result<Vec<BookingRecord>, Error> {
        let state = self.offering_state(offering_id).await?;
        let mut out: Vec<BookingRecord> = state.bookings.iter().map(|b| record(&state, b)).collect();
        out.sort_by_key(|b| b.id);
        Ok(out)
    }

    /// Bookings of one person (any status), newest first.
    pub async fn bookings_of(&self, personnel_number: &str) -> Result<Vec<BookingRecord>, Error> {
        let rows: Vec<(i64,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT id FROM bookings WHERE personnel_number = $1 ORDER BY id DESC")
                .bind(personnel_number)
                .fetch_all(pool)
                .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for (id,) in rows {
            if let Some(b) = self.booking(id).await? {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// The offering with all its bookings, as the rules see it (no lock: for reading).
    pub(crate) async fn offering_state(&self, offering_id: i64) -> Result<OfferingState, Error> {
        let (offering, _) =
            self.pure_offering(offering_id).await?.ok_or_else(|| Error::NotFound { what: format!("offering {offering_id}") })?;
        let rows: Vec<(String,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT data_json FROM bookings WHERE offering_id = $1").bind(offering_id).fetch_all(pool).await?
        });
        let bookings = rows.iter().map(|(j,)| from_json::<Booking>("booking", j)).collect::<Result<Vec<_>, _>>()?;
        Ok(OfferingState { offering, bookings })
    }

    async fn offering_of_booking(&self, booking_id: i64) -> Result<i64, Error> {
        let row: Option<(i64,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT offering_id FROM bookings WHERE id = $1").bind(booking_id).fetch_optional(pool).await?
        });
        row.map(|r| r.0).ok_or_else(|| Error::NotFound { what: format!("booking {booking_id}") })
    }

    /// Applies one change to an offering's bookings. Changes to the same offering that
    /// arrive while another is being written are combined: one worker per offering takes
    /// everything queued, applies it in arrival order in *one* transaction under the
    /// offering lock, commits, and only then answers each caller (group commit). Every
    /// answer still means "durably written"; a change the rules refuse gets its own error
    /// and does not affect the others in its batch.
    async fn run_change(
        &self,
        offering_id: i64,
        change: Change,
        policy: &SchedulePolicy,
        now: DateTime<Utc>,
    ) -> Result<(Transition, Option<BookingId>), Error> {
        let key = (self.data_dir.display().to_string(), offering_id);
        let (reply, answer) = tokio::sync::oneshot::channel();
        let pending = Pending { change, policy: *policy, now, reply };
        let leader = {
            let mut queues = QUEUES.lock().unwrap_or_else(|e| e.into_inner());
            match queues.get_mut(&key) {
                Some(queue) => {
                    queue.push(pending);
                    false
                }
                None => {
                    queues.insert(key.clone(), vec![pending]);
                    true
                }
            }
        };
        if leader {
            let store = self.clone();
            tokio::spawn(async move { store.drain(key).await });
        }
        answer.await.map_err(|_| Error::Task("the booking worker stopped before answering".into()))?
    }

    /// The worker of one offering: runs batches until its queue is empty.
    async fn drain(&self, key: (String, i64)) {
        let mut guard = QueueGuard { key: Some(key.clone()) };
        loop {
            let batch = {
                let mut queues = QUEUES.lock().unwrap_or_else(|e| e.into_inner());
                match queues.get_mut(&key) {
                    Some(queue) if !queue.is_empty() => std::mem::take(queue),
                    _ => {
                        queues.remove(&key);
                        guard.key = None;
                        return;
                    }
                }
            };
            self.run_batch(key.1, batch).await;
        }
    }

    /// Loads the offering under a lock, applies the batch's changes in order with the pure
    /// rules, writes the changed bookings and the outbox, commits, answers.
    async fn run_batch(&self, offering_id: i64, batch: Vec<Pending>) {
        let (changes, replies): (Vec<(Change, SchedulePolicy, DateTime<Utc>)>, Vec<Reply>) =
            batch.into_iter().map(|p| ((p.change, p.policy, p.now), p.reply)).unzip();
        match self.write_batch(offering_id, changes).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                let text = e.to_string();
                let mut first = Some(e);
                for reply in replies {
                    let error = match first.take() {
                        Some(Error::NotFound { what }) => Error::NotFound { what },
                        _ if text.ends_with(" not found") => Error::NotFound { what: text.trim_end_matches(" not found").to_string() },
                        _ => Error::Task(text.clone()),
                    };
                    let _ = reply.send(Err(error));
                }
            }
        }
    }

    async fn write_batch(
        &self,
        offering_id: i64,
        changes: Vec<(Change, SchedulePolicy, DateTime<Utc>)>,
    ) -> Result<Vec<Result<(Transition, Option<BookingId>), Error>>, Error> {
        let postgres = matches!(self.db, Db::Postgres(_));
        let now = changes.iter().map(|c| c.2).max().unwrap_or_else(Utc::now);
        let now_s = ts_text(now);
        with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                let lock_sql = if postgres {
                    "SELECT course_id FROM offerings WHERE id = $1 FOR UPDATE"
                } else {
                    "SELECT course_id FROM offerings WHERE id = $1"
                };
                let course_id: Option<(i64,)> = sqlx::query_as(lock_sql).bind(offering_id).fetch_optional(&mut *tx).await?;
                let Some((course_id,)) = course_id else {
                    return Err(Error::NotFound { what: format!("offering {offering_id}") });
                };
                if postgres {
                    // Serializes a person's bookings across offerings (learner clashes), in a fixed order.
                    let persons: BTreeSet<&str> = changes
                        .iter()
                        .filter_map(|(c, _, _)| match c {
                            Change::Book { person, .. } => Some(person.as_str()),
                            _ => None,
                        })
                        .collect();
                    for person in persons {
                        sqlx::query("SELECT personnel_number FROM people WHERE personnel_number = $1 FOR NO KEY UPDATE")
                            .bind(person)
                            .fetch_optional(&mut *tx)
                            .await?;
                    }
                }
                let (offering, _) = load_offering!(&mut *tx, offering_id)
                    .await?
                    .ok_or_else(|| Error::NotFound { what: format!("offering {offering_id}") })?;
                let course_row = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COURSE_COLUMNS} FROM courses WHERE id = $1")))
                    .bind(course_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let course = course_from_row(course_row)?.to_course()?;
                let rows: Vec<(String,)> = sqlx::query_as("SELECT data_json FROM bookings WHERE offering_id = $1")
                    .bind(offering_id)
                    .fetch_all(&mut *tx)
                    .await?;
                let bookings = rows.iter().map(|(j,)| from_json::<Booking>("booking", j)).collect::<Result<Vec<_>, _>>()?;
                let state = OfferingState { offering, bookings };

                let mut concerned: BTreeSet<String> = state
                    .bookings
                    .iter()
                    .filter(|b| matches!(b.status, BookingStatus::Waitlisted | BookingStatus::PendingApproval))
                    .map(|b| b.person.0.clone())
                    .collect();
                for (change, _, _) in &changes {
                    if let Change::Book { person, .. } = change {
                        concerned.insert(person.clone());
                    }
                }
                let concerned: Vec<String> = concerned.into_iter().collect();
                let (tree, absences) = load_org_up!(&mut *tx, &concerned, berlin_date(now)).await?;

                let mut commitments: BTreeMap<PersonId, Vec<Commitment>> = BTreeMap::new();
                if let (Some(start), Some(end), false) = (state.offering.starts_at(), state.offering.ends_at(), concerned.is_empty()) {
                    let sql = format!(
                        "SELECT b.personnel_number, s.offering_id, s.id, s.starts_at, s.ends_at FROM bookings b \
                         JOIN offering_sessions s ON s.offering_id = b.offering_id \
                         WHERE b.status = 'booked' AND b.offering_id <> $1 AND s.starts_at < $2 AND s.ends_at > $3 \
                         AND b.personnel_number IN ({})",
                        placeholders(4, concerned.len())
                    );
                    let mut q = sqlx::query_as::<_, (String, i64, i64, String, String)>(sqlx::AssertSqlSafe(sql))
                        .bind(offering_id)
                        .bind(ts_text(end))
                        .bind(ts_text(start));
                    for p in &concerned {
                        q = q.bind(p.as_str());
                    }
                    for (person, other, session, s, e) in q.fetch_all(&mut *tx).await? {
                        commitments.entry(PersonId(person)).or_default().push(Commitment {
                            offering: OfferingId(id_u64(other)),
                            session: SessionId(id_u64(session)),
                            starts_at: ts_parse(&s)?,
                            ends_at: ts_parse(&e)?,
                        });
                    }
                }
                let mut state = state;
                let mut results = Vec::with_capacity(changes.len());
                let mut changed: BTreeSet<BookingId> = BTreeSet::new();
                let mut outbox = Vec::new();
                let mut next_sqlite_id: Option<i64> = None;
                for (change, policy, at) in changes {
                    let rules = Rules {
                        course: &course,
                        org: &tree,
                        absences: &absences,
                        approval: policy.approval,
                        commitments: &commitments,
                        reminder_lead: policy.reminder_lead,
                    };
                    let mut new_id = None;
                    let outcome = match change {
                        Change::Book { person, actor } => {
                            let id = if postgres {
                                let (id,): (i64,) = sqlx::query_as("SELECT nextval(pg_get_serial_sequence('bookings', 'id'))")
                                    .fetch_one(&mut *tx)
                                    .await?;
                                id
                            } else {
                                let id = match next_sqlite_id {
                                    Some(id) => id,
                                    None => sqlx::query_as::<_, (i64,)>("SELECT COALESCE(MAX(id), 0) + 1 FROM bookings").fetch_one(&mut *tx).await?.0,
                                };
                                next_sqlite_id = Some(id + 1);
                                id
                            };
                            let booking_id = BookingId(id_u64(id));
                            new_id = Some(booking_id);
                            state.book(&rules, BookRequest { booking_id, person: PersonId(person), actor }, at)
                        }
                        Change::Cancel { booking, actor } => state.cancel(&rules, BookingId(id_u64(booking)), actor, at),
                        Change::Approve { booking, actor } => state.approve(&rules, BookingId(id_u64(booking)), actor, at),
                        Change::Reject { booking, actor } => state.reject(&rules, BookingId(id_u64(booking)), actor, at),
                        Change::ChangeMax(max) => {
                            let t = state.change_max_participants(&rules, max, at);
                            if t.is_ok() {
                                sqlx::query("UPDATE offerings SET max_participants = $1, updated_at = $2 WHERE id = $3")
                                    .bind(i64::from(max))
                                    .bind(&now_s)
                                    .bind(offering_id)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            t
                        }
                        Change::Advance => state.advance_time(&rules, at),
                    };
                    match outcome {
                        Ok(t) => {
                            changed.extend(t.changed.iter().copied());
                            outbox.extend(t.outbox.iter().cloned());
                            state = t.state.clone();
                            results.push(Ok((t, new_id)));
                        }
                        Err(e) => results.push(Err(Error::Schedule(e))),
                    }
                }
                for id in &changed {
                    let Some(b) = state.booking(*id) else { continue };
                    sqlx::query(
                        "INSERT INTO bookings (id, offering_id, personnel_number, status, waitlist_seq, data_json, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
                         waitlist_seq = excluded.waitlist_seq, data_json = excluded.data_json, updated_at = excluded.updated_at",
                    )
                    .bind(id_i64(id.0))
                    .bind(offering_id)
                    .bind(b.person.0.as_str())
                    .bind(b.status.name())
                    .bind(b.waitlist_seq.map(id_i64))
                    .bind(to_json(b))
                    .bind(&now_s)
                    .execute(&mut *tx)
                    .await?;
                }
                for entry in &outbox {
                    sqlx::query(
                        "INSERT INTO notification_outbox (dedupe_key, recipient, kind, payload_json, created_at, next_attempt_at) \
                         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedupe_key) DO NOTHING",
                    )
                    .bind(&entry.dedupe_key)
                    .bind(entry.recipient.0.as_str())
                    .bind(entry.notification.kind())
                    .bind(to_json(&entry.notification))
                    .bind(ts_text(entry.created_at))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(results)
            }
            .await
        })
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<(Transition, Option<BookingId>), Error>>;

/// A change waiting for its offering's worker.
struct Pending {
    change: Change,
    policy: SchedulePolicy,
    now: DateTime<Utc>,
    reply: Reply,
}

/// Changes waiting per (data folder, offering); an entry exists while a worker runs.
static QUEUES: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<(String, i64), Vec<Pending>>>> =
    std::sync::LazyLock::new(Default::default);

/// Removes a worker's queue if the worker ends abnormally (its waiting callers then get an error).
struct QueueGuard {
    key: Option<(String, i64)>,
}

impl Drop for QueueGuard {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            QUEUES.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        }
    }
}

fn booking_in(t: &Transition, id: BookingId) -> Result<BookingRecord, Error> {
    t.state.booking(id).map(|b| record(&t.state, b)).ok_or_else(|| Error::NotFound { what: format!("booking {id}") })
}
