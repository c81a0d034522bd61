//! The notification outbox: entries are written in the same transaction as the change
//! that caused them (unique `dedupe_key`: re-running a rule never notifies twice), and a
//! delivery worker claims due ones, sends them, and marks them delivered or failed.

use chrono::{DateTime, Utc};
use lms_schedule::outbox::Notification;

use super::{from_json, ts_parse, ts_text};
use crate::db::with_db;
use crate::{Error, Store};

/// One stored notification.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub recipient: String,
    /// e.g. `booking_confirmed`, `waitlisted`, `promoted`, `cancelled`, `approval_requested`,
    /// `session_reminder`, `recertification_due`.
    pub kind: String,
    pub notification: Notification,
    pub created_at: DateTime<Utc>,
    pub attempts: i64,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

type Row = (i64, String, String, String, String, i64, Option<String>, Option<String>);
const COLUMNS: &str = "id, recipient, kind, payload_json, created_at, attempts, delivered_at, last_error";

fn message(row: Row) -> Result<OutboxMessage, Error> {
    let (id, recipient, kind, payload, created_at, attempts, delivered_at, last_error) = row;
    Ok(OutboxMessage {
        id,
        recipient,
        kind,
        notification: from_json("notification", &payload)?,
        created_at: ts_parse(&created_at)?,
        attempts,
        delivered_at: delivered_at.as_deref().map(ts_parse).transpose()?,
        last_error,
    })
}

impl Store {
    /// Undelivered notifications whose next attempt is due at `now`, oldest first.
    pub async fn due_notifications(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<OutboxMessage>, Error> {
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM notification_outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2"
            )))
            .bind(ts_text(now))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(message).collect()
    }

    /// Notifications for one recipient (delivered or not), newest first.
    pub async fn notifications_for(&self, recipient: &str, limit: i64) -> Result<Vec<OutboxMessage>, Error> {
        let rows: Vec<Row> = with_db!(&self.db, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM notification_outbox WHERE recipient = $1 ORDER BY id DESC LIMIT $2"
            )))
            .bind(recipient)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(message).collect()
    }

    pub async fn mark_notification_delivered(&self, id: i64, at: DateTime<Utc>) -> Result<(), Error> {
        with_db!(&self.db, |pool| {
            sqlx::query("UPDATE notification_outbox SET delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
                .bind(ts_text(at))
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records a failed attempt; the entry is tried again from `retry_at`.
    pub async fn mark_notification_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> Result<(), Error> {
        let error: String = error.chars().take(1000).collect();
        with_db!(&self.db, |pool| {
            sqlx::query("UPDATE notification_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
                .bind(error)
                .bind(ts_text(retry_at))
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
