//! Europe/Berlin wall-clock times and their conversion to instants.
//!
//! All instants are stored as UTC. Input given as a local Berlin time is converted here and
//! *never guessed*: a time skipped by spring-forward is [`ScheduleError::NonexistentLocalTime`],
//! a time that happens twice at fall-back is [`ScheduleError::AmbiguousLocalTime`].

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;

use crate::ScheduleError;

/// The time zone every session is planned in.
pub const TIME_ZONE: chrono_tz::Tz = Berlin;
/// Its IANA name, used as `TZID` in iCalendar output.
pub const TZID: &str = "Europe/Berlin";

/// Converts a Berlin wall-clock time into an instant, refusing nonexistent and ambiguous times.
pub fn berlin_to_utc(local: NaiveDateTime) -> Result<DateTime<Utc>, ScheduleError> {
    match Berlin.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(ScheduleError::NonexistentLocalTime { local }),
        LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            Err(ScheduleError::AmbiguousLocalTime { local, earlier: a.min(b), later: a.max(b) })
        }
    }
}

/// The Berlin wall-clock time of an instant.
pub fn utc_to_berlin(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&Berlin).naive_local()
}

/// The Berlin calendar date of an instant (absences and "days" are counted in Berlin dates).
pub fn berlin_date(instant: DateTime<Utc>) -> NaiveDate {
    utc_to_berlin(instant).date()
}

/// Parses an RFC 3339 timestamp *with* an offset (as the HTTP API takes them) into UTC.
pub fn parse_rfc3339(input: &str) -> Result<DateTime<Utc>, ScheduleError> {
    DateTime::parse_from_rfc3339(input.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ScheduleError::InvalidTimestamp { input: input.chars().take(64).collect() })
}

/// A half-open interval `[start, end)` of instants.
pub type Interval = (DateTime<Utc>, DateTime<Utc>);

/// A weekly series: `count` sessions starting at the Berlin wall-clock time `first_start`
/// and lasting `duration` each, one week apart *in local time* (so 09:00 stays 09:00 across
/// the DST changes). Fails if any occurrence falls on a nonexistent or ambiguous local time.
pub fn weekly_series(
    first_start: NaiveDateTime,
    duration: Duration,
    count: u32,
) -> Result<Vec<Interval>, ScheduleError> {
    if duration <= Duration::zero() {
        return Err(ScheduleError::InvalidField {
            field: "duration",
            reason: "must be positive".into(),
        });
    }
    if count > 520 {
        return Err(ScheduleError::InvalidField {
            field: "count",
            reason: format!("{count} occurrences; at most 520 (ten years) per series"),
        });
    }
    (0..count)
        .map(|week| {
            let out_of_range = || ScheduleError::InvalidField { field: "first_start", reason: "series runs past the representable dates".into() };
            let local_start = first_start.checked_add_signed(Duration::weeks(i64::from(week))).ok_or_else(out_of_range)?;
            let start = berlin_to_utc(local_start)?;
            // The end is also a wall-clock time (09:00–12:00 stays 09:00–12:00).
            let end = berlin_to_utc(local_start.checked_add_signed(duration).ok_or_else(out_of_range)?)?;
            Ok((start, end))
        })
        .collect()
}
