//! The personal calendar feed: a secret token per learner (stored only as its SHA-256),
//! and the feed itself with a `SEQUENCE` per (session, learner) that goes up whenever
//! something calendar-visible changed since the last render.

use chrono::{DateTime, Utc};
use lms_schedule::ical::{IcsContext, IcsRevision, SessionEvent, next_revision, personal_feed};
use lms_schedule::ids::{OfferingId, SessionId};

use super::{id_u64, ts_parse, u32_of};
use crate::db::{BeginWrite, with_db};
use crate::people::{random_secret, sha256_hex};
use crate::{Error, Store, now_text};

impl Store {
    /// Creates (or replaces) a person's calendar feed token; returns the secret (shown once).
    pub async fn rotate_calendar_token(&self, personnel_number: &str) -> Result<String, Error> {
        if self.person(personnel_number).await?.is_none() {
            return Err(Error::NotFound { what: format!("person {personnel_number:?}") });
        }
        let secret = random_secret();
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO calendar_tokens (personnel_number, token_sha256, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (personnel_number) DO UPDATE SET token_sha256 = excluded.token_sha256, created_at = excluded.created_at",
            )
            .bind(personnel_number)
            .bind(sha256_hex(&secret))
            .bind(now_text())
            .execute(pool)
            .await?;
        });
        Ok(secret)
    }

    /// Whether `token` is the person's current calendar token.
    pub async fn check_calendar_token(&self, personnel_number: &str, token: &str) -> Result<bool, Error> {
        let row: Option<(String,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT personnel_number FROM calendar_tokens WHERE personnel_number = $1 AND token_sha256 = $2")
                .bind(personnel_number)
                .bind(sha256_hex(token))
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }

    /// The person's feed (`METHOD:PUBLISH`): every session of their booked offerings, and
    /// sessions of cancelled bookings that have not ended yet as `STATUS:CANCELLED` (so
    /// subscribed calendars drop them). `None` when the token is wrong.
    pub async fn calendar_feed(&self, personnel_number: &str, token: &str, context: &IcsContext, now: DateTime<Utc>) -> Result<Option<String>, Error> {
        if !self.check_calendar_token(personnel_number, token).await? {
            return Ok(None);
        }
        let name = self.person(personnel_number).await?.map(|p| p.name).unwrap_or_default();
        type Row = (i64, i64, String, String, String, Option<String>, Option<String>, Option<String>, String, String);
        let now_s = super::ts_text(now);
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT s.id, s.offering_id, s.starts_at, s.ends_at, c.title, c.description, r.name, r.location, c.kind_json, b.status \
                 FROM bookings b JOIN offering_sessions s ON s.offering_id = b.offering_id \
                 JOIN offerings o ON o.id = b.offering_id JOIN courses c ON c.id = o.course_id \
                 LEFT JOIN rooms r ON r.id = s.room_id \
                 WHERE b.personnel_number = $1 AND (b.status = 'booked' OR (b.status = 'cancelled' AND s.ends_at > $2)) \
                 ORDER BY s.starts_at, s.id",
            )
            .bind(personnel_number)
            .bind(&now_s)
            .fetch_all(pool)
            .await?
        });
        let mut events = Vec::with_capacity(rows.len());
        for (sid, oid, starts, ends, title, description, room, location, kind_json, status) in rows {
            let kind: lms_schedule::catalogue::CourseKind = super::from_json("course kind", &kind_json)?;
            let url = match kind {
                lms_schedule::catalogue::CourseKind::LiveOnline { meeting_url } => Some(meeting_url),
                _ => None,
            };
            let place = match (room, location) {
                (Some(r), Some(l)) => Some(format!("{r}, {l}")),
                (Some(r), None) => Some(r),
                (None, _) if url.is_some() => Some("Online".to_string()),
                _ => None,
            };
            events.push(SessionEvent {
                session: SessionId(id_u64(sid)),
                offering: OfferingId(id_u64(oid)),
                summary: title,
                description,
                location: place,
                url,
                starts_at: ts_parse(&starts)?,
                ends_at: ts_parse(&ends)?,
                cancelled: status == "cancelled",
                sequence: 0,
            });
        }
        // A person may hold a cancelled and a later booked booking for one offering: keep the booked one.
        events.sort_by_key(|e| (e.session, e.cancelled));
        events.dedup_by_key(|e| e.session);
        // SEQUENCE: compare with the stored revision, bump and store when it changed.
        with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                for event in &mut events {
                    let previous: Option<(i64, String)> =
                        sqlx::query_as("SELECT sequence, fingerprint FROM ics_revisions WHERE session_id = $1 AND personnel_number = $2")
                            .bind(super::id_i64(event.session.0))
                            .bind(personnel_number)
                            .fetch_optional(&mut *tx)
                            .await?;
                    let previous = previous.map(|(sequence, fingerprint)| IcsRevision { sequence: u32_of(sequence), fingerprint });
                    let revision = next_revision(previous.as_ref(), event);
                    if previous.as_ref() != Some(&revision) {
                        sqlx::query(
                            "INSERT INTO ics_revisions (session_id, personnel_number, sequence, fingerprint) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (session_id, personnel_number) DO UPDATE SET sequence = excluded.sequence, fingerprint = excluded.fingerprint",
                        )
                        .bind(super::id_i64(event.session.0))
                        .bind(personnel_number)
                        .bind(i64::from(revision.sequence))
                        .bind(&revision.fingerprint)
                        .execute(&mut *tx)
                        .await?;
                    }
                    event.sequence = revision.sequence;
                }
                tx.commit().await?;
                Ok::<(), Error>(())
            }
            .await
        })?;
        let feed = personal_feed(context, &format!("Training – {name}"), &events, now)?;
        Ok(Some(feed))
    }
}
