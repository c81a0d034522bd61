//! Delivery of the notification outbox: a trait for the channel (e-mail or other), a
//! log-only default, and the background task that also runs the time-driven booking duties
//! (approval escalation, session reminders, waitlist promotion, recertification notices).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::Utc;
use lms_store::OutboxMessage;

use crate::AppState;

/// A delivery channel for notifications. Return `Err(reason)` to have the message retried
/// later (with growing back-off).
pub trait NotificationDelivery: Send + Sync + std::fmt::Debug {
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// The default channel: writes each notification to the log (target `lms::notifications`).
#[derive(Debug, Default)]
pub struct LogDelivery;

impl NotificationDelivery for LogDelivery {
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let payload = serde_json::to_string(&message.notification).unwrap_or_default();
            tracing::info!(target: "lms::notifications", id = message.id, recipient = %message.recipient, kind = %message.kind, %payload, "notification");
            Ok(())
        })
    }
}

/// What one round of the background task did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxRound {
    pub offerings_checked: u64,
    pub delivered: u64,
    pub failed: u64,
}

/// One round: time-driven duties at `now`, then delivery of every due notification (up to
/// 500) through `state.notifier`.
pub async fn run_outbox_round(state: &AppState, with_recertification: bool) -> Result<OutboxRound, lms_store::Error> {
    let now = Utc::now();
    let tick = state.store.schedule_tick(&state.config.schedule.policy, now).await?;
    if with_recertification {
        state.store.queue_recertification_notices(now).await?;
    }
    let mut round = OutboxRound { offerings_checked: tick.offerings_checked, ..OutboxRound::default() };
    for message in state.store.due_notifications(now, 500).await? {
        match state.notifier.deliver(&message).await {
            Ok(()) => {
                state.store.mark_notification_delivered(message.id, Utc::now()).await?;
                round.delivered += 1;
            }
            Err(reason) => {
                let backoff = chrono::Duration::minutes(1 << message.attempts.clamp(0, 10));
                state.store.mark_notification_failed(message.id, &reason, Utc::now() + backoff).await?;
                round.failed += 1;
            }
        }
    }
    Ok(round)
}

/// Runs rounds every `state.config.schedule.outbox_interval` until the task is aborted.
/// Recertification notices are queued once an hour.
pub async fn outbox_task(state: AppState) {
    let interval = state.config.schedule.outbox_interval.max(Duration::from_millis(100));
    let per_hour = (3600 / interval.as_secs().max(1)).max(1);
    let mut n: u64 = 0;
    loop {
        match run_outbox_round(&state, n % per_hour == 0).await {
            Ok(round) if round.delivered + round.failed > 0 => {
                tracing::debug!(delivered = round.delivered, failed = round.failed, "outbox round")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox round failed"),
        }
        n = n.wrapping_add(1);
        tokio::time::sleep(interval).await;
    }
}
