//! iCalendar (RFC 5545) output: invitations (`METHOD:REQUEST` / `CANCEL`, iTIP RFC 5546)
//! and a learner's personal feed, with a `VTIMEZONE` for Europe/Berlin and local times
//! carrying `TZID=Europe/Berlin`.
//!
//! Events are built with the `icalendar` crate. Its component model (0.17, no parser)
//! cannot build a `VTIMEZONE` without adding `UID`/`DTSTAMP` to it, so the `VTIMEZONE`
//! block is written here from [`BERLIN_VTIMEZONE_RULES`] and inserted before the first event.
//! Output is deterministic: `DTSTAMP` comes from an argument and every event has its UID.
//!
//! `SEQUENCE`: the caller stores an [`IcsRevision`] per (session, attendee) and calls
//! [`next_revision`] whenever it renders; the sequence goes up by one exactly when a
//! calendar-visible field changed (time, place, title, description, URL, cancellation).

use chrono::{DateTime, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, EventLike, EventStatus, Property};
use serde::{Deserialize, Serialize};

use crate::ids::{OfferingId, SessionId};
use crate::time::{utc_to_berlin, TZID};
use crate::ScheduleError;

/// Who sends invitations and how UIDs are qualified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcsContext {
    /// e.g. `-//City of Example//LMS//EN`
    pub prodid: String,
    /// Domain part of UIDs, e.g. `lms.example.org`.
    pub uid_domain: String,
    pub organizer_email: String,
    pub organizer_name: String,
}

/// An invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub email: String,
    pub name: String,
}

/// One session as a calendar event, as one attendee sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEvent {
    pub session: SessionId,
    pub offering: OfferingId,
    pub summary: String,
    pub description: Option<String>,
    /// Room name and address, or "Online".
    pub location: Option<String>,
    /// Meeting URL for live-online sessions.
    pub url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The session was cancelled, or this attendee's booking was.
    pub cancelled: bool,
    /// From [`next_revision`].
    pub sequence: u32,
}

impl SessionEvent {
    /// The calendar-visible content, without the sequence.
    fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{:?}|{:?}|{:?}|{:?}|{}|{}",
            self.starts_at.to_rfc3339(),
            self.ends_at.to_rfc3339(),
            self.summary,
            self.description,
            self.location,
            self.url,
            self.cancelled,
            self.offering
        )
    }
}

/// What the caller stores per (session, attendee) between renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcsRevision {
    pub sequence: u32,
    pub fingerprint: String,
}

/// The revision for rendering `event` now: sequence 0 the first time, the same sequence if
/// nothing calendar-visible changed since `previous`, else `previous.sequence + 1`.
pub fn next_revision(previous: Option<&IcsRevision>, event: &SessionEvent) -> IcsRevision {
    let fingerprint = event.fingerprint();
    let sequence = match previous {
        None => 0,
        Some(p) if p.fingerprint == fingerprint => p.sequence,
        Some(p) => p.sequence.saturating_add(1),
    };
    IcsRevision { sequence, fingerprint }
}

/// The stable UID of a session: `session-<id>@<domain>`.
pub fn session_uid(context: &IcsContext, session: SessionId) -> String {
    format!("session-{session}@{}", clean(&context.uid_domain, true))
}

/// The iTIP method of an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// Invite or update.
    Request,
    /// Withdraw (session cancelled or booking cancelled).
    Cancel,
}

/// One transition of the Europe/Berlin `VTIMEZONE` (EU rules in force since 1996).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimezoneRule {
    /// `DAYLIGHT` or `STANDARD`.
    pub component: &'static str,
    pub offset_from: &'static str,
    pub offset_to: &'static str,
    pub name: &'static str,
    /// Local time of the first onset (RFC 5545 `DTSTART`, local time before the change).
    pub dtstart: &'static str,
    pub rrule: &'static str,
}

/// The Europe/Berlin rules: summer time from the last Sunday of March 02:00 CET to the
/// last Sunday of October 03:00 CEST (EU directive 2000/84/EC; same dates since 1996).
pub const BERLIN_VTIMEZONE_RULES: [TimezoneRule; 2] = [
    TimezoneRule {
        component: "DAYLIGHT",
        offset_from: "+0100",
        offset_to: "+0200",
        name: "CEST",
        dtstart: "19810329T020000",
        rrule: "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    },
    TimezoneRule {
        component: "STANDARD",
        offset_from: "+0200",
        offset_to: "+0100",
        name: "CET",
        dtstart: "19961027T030000",
        rrule: "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    },
];

/// The `VTIMEZONE` block for Europe/Berlin, CRLF line ends.
pub fn berlin_vtimezone() -> String {
    let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{TZID}\r\n");
    for rule in BERLIN_VTIMEZONE_RULES {
        out.push_str(&format!(
            "BEGIN:{c}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\nTZNAME:{}\r\nDTSTART:{}\r\nRRULE:{}\r\nEND:{c}\r\n",
            rule.offset_from,
            rule.offset_to,
            rule.name,
            rule.dtstart,
            rule.rrule,
            c = rule.component
        ));
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

/// Removes control characters (keeps newlines in free text unless `single_line`), and
/// double quotes, which cannot appear in parameter values.
fn clean(text: &str, single_line: bool) -> String {
    text.chars()
        .filter(|c| *c != '"')
        .map(|c| if c == '\n' && !single_line { c } else if c.is_control() { ' ' } else { c })
        .collect()
}

fn local(instant: DateTime<Utc>) -> CalendarDateTime {
    CalendarDateTime::WithTimezone { date_time: utc_to_berlin(instant), tzid: TZID.to_owned() }
}

fn build_event(context: &IcsContext, event: &SessionEvent, attendee: Option<&Recipient>, dtstamp: DateTime<Utc>) -> Result<icalendar::Event, ScheduleError> {
    if event.ends_at <= event.starts_at {
        return Err(ScheduleError::SessionEndsBeforeStart { session: event.session, starts_at: event.starts_at, ends_at: event.ends_at });
    }
    let mut e = icalendar::Event::with_uid(&session_uid(context, event.session));
    e.timestamp(dtstamp)
        .starts(local(event.starts_at))
        .ends(local(event.ends_at))
        .summary(&clean(&event.summary, true))
        .sequence(event.sequence)
        .status(if event.cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed });
    if let Some(description) = &event.description {
        e.description(&clean(description, false));
    }
    if let Some(location) = &event.location {
        e.location(&clean(location, true));
    }
    if let Some(url) = &event.url {
        e.url(&clean(url, true).replace(' ', "%20"));
    }
    e.append_property(
        Property::new("ORGANIZER", format!("mailto:{}", clean(&context.organizer_email, true)))
            .add_parameter("CN", &clean(&context.organizer_name, true))
            .done(),
    );
    if let Some(person) = attendee {
        let partstat = if event.cancelled { "DECLINED" } else { "ACCEPTED" };
        e.append_multi_property(
            Property::new("ATTENDEE", format!("mailto:{}", clean(&person.email, true)))
                .add_parameter("CN", &clean(&person.name, true))
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("PARTSTAT", partstat)
                .done(),
        );
    }
    Ok(e.done())
}

fn render(context: &IcsContext, method: Option<&str>, name: Option<&str>, events: Vec<icalendar::Event>) -> String {
    let mut calendar = Calendar::empty();
    calendar.append_property(Property::new("PRODID", clean(&context.prodid, true)));
    calendar.append_property(Property::new("VERSION", "2.0"));
    calendar.append_property(Property::new("CALSCALE", "GREGORIAN"));
    if let Some(method) = method {
        calendar.append_property(Property::new("METHOD", method));
    }
    if let Some(name) = name {
        calendar.append_property(Property::new("X-WR-CALNAME", clean(name, true)));
        calendar.append_property(Property::new("X-WR-TIMEZONE", TZID));
    }
    for event in events {
        calendar.push(event);
    }
    let text = calendar.to_string();
    // Insert the VTIMEZONE before the first component (or before END:VCALENDAR).
    let at = text.find("BEGIN:VEVENT\r\n").or_else(|| text.find("END:VCALENDAR\r\n")).unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + 512);
    out.push_str(&text[..at]);
    out.push_str(&berlin_vtimezone());
    out.push_str(&text[at..]);
    out
}

/// An invitation (`METHOD:REQUEST`) or withdrawal (`METHOD:CANCEL`) of one session for one
/// attendee. One session per message because an iTIP message carries a single UID (send one
/// message per session of an offering). For `Cancel` the event is rendered as
/// `STATUS:CANCELLED` whatever its `cancelled` flag says (give it the bumped sequence).
pub fn invitation(
    context: &IcsContext,
    method: Method,
    attendee: &Recipient,
    event: &SessionEvent,
    dtstamp: DateTime<Utc>,
) -> Result<String, ScheduleError> {
    let mut event = event.clone();
    if method == Method::Cancel {
        event.cancelled = true;
    }
    let built = build_event(context, &event, Some(attendee), dtstamp)?;
    let method = match method {
        Method::Request => "REQUEST",
        Method::Cancel => "CANCEL",
    };
    Ok(render(context, Some(method), None, vec![built]))
}

/// A learner's personal feed: a `VCALENDAR` (`METHOD:PUBLISH`) with all their sessions,
/// ordered by start then session id; cancelled ones appear with `STATUS:CANCELLED`.
pub fn personal_feed(context: &IcsContext, feed_name: &str, events: &[SessionEvent], dtstamp: DateTime<Utc>) -> Result<String, ScheduleError> {
    let mut sorted: Vec<&SessionEvent> = events.iter().collect();
    sorted.sort_by_key(|e| (e.starts_at, e.session));
    let built = sorted.into_iter().map(|e| build_event(context, e, None, dtstamp)).collect::<Result<Vec<_>, _>>()?;
    Ok(render(context, Some("PUBLISH"), Some(feed_name), built))
}
