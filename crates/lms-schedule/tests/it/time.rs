//! Berlin wall-clock conversion and DST.

use chrono::{Duration, Timelike, Weekday, Datelike};
use lms_schedule::time::{berlin_to_utc, parse_rfc3339, utc_to_berlin, weekly_series};

use crate::{at, local};

/// `expected` is the UTC instant, or the error text.
fn check(local_time: &str, expected: &str) {
    let got = match berlin_to_utc(local(local_time)) {
        Ok(t) => t.to_rfc3339(),
        Err(e) => e.to_string(),
    };
    assert_eq!(got, expected, "local {local_time}");
}

#[test]
fn local_times_convert_or_are_refused() {
    check("2026-01-15 09:00", "2026-01-15T08:00:00+00:00");
    check("2026-07-15 09:00", "2026-07-15T07:00:00+00:00");
    // Last Sunday of March 2026 is the 29th: 02:00–02:59 do not exist.
    check("2026-03-29 01:59", "2026-03-29T00:59:00+00:00");
    check("2026-03-29 02:30", "local time 2026-03-29 02:30:00 does not exist in Europe/Berlin (skipped by the DST change)");
    check("2026-03-29 03:00", "2026-03-29T01:00:00+00:00");
    // Last Sunday of October 2026 is the 25th: 02:00–02:59 happen twice.
    check(
        "2026-10-25 02:30",
        "local time 2026-10-25 02:30:00 is ambiguous in Europe/Berlin: it is 2026-10-25 00:30:00 UTC or 2026-10-25 01:30:00 UTC (UTC); give an offset",
    );
    check("2026-10-25 03:00", "2026-10-25T02:00:00+00:00");
}

#[test]
fn rfc3339_input_needs_an_offset() {
    let cases = [
        ("2026-03-30T09:00:00+02:00", "2026-03-30T07:00:00+00:00"),
        ("2026-03-30T07:00:00Z", "2026-03-30T07:00:00+00:00"),
        ("2026-03-30T09:00:00", "invalid timestamp \"2026-03-30T09:00:00\": expected RFC 3339 with an offset, e.g. 2026-03-30T09:00:00+02:00"),
        ("next tuesday", "invalid timestamp \"next tuesday\": expected RFC 3339 with an offset, e.g. 2026-03-30T09:00:00+02:00"),
    ];
    for (input, expected) in cases {
        let got = parse_rfc3339(input).map(|t| t.to_rfc3339()).unwrap_or_else(|e| e.to_string());
        assert_eq!(got, expected, "{input}");
    }
    // Oversized hostile input: the error quotes only a bounded prefix.
    let long = "x".repeat(100_000);
    let message = parse_rfc3339(&long).unwrap_err().to_string();
    assert!(message.len() < 200, "{}", message.len());
}

/// A weekly Monday 09:00–12:00 series from early March to mid-November crosses both
/// changes; every session keeps 09:00–12:00 local while the UTC hour moves.
#[test]
fn weekly_series_keeps_local_time_across_both_dst_changes() {
    let series = weekly_series(local("2026-03-02 09:00"), Duration::hours(3), 38).unwrap();
    assert_eq!(series.len(), 38);
    let mut utc_hours = std::collections::BTreeSet::new();
    for (start, end) in &series {
        let (ls, le) = (utc_to_berlin(*start), utc_to_berlin(*end));
        assert_eq!((ls.hour(), ls.minute(), le.hour()), (9, 0, 12), "{start}");
        assert_eq!(ls.weekday(), Weekday::Mon);
        assert_eq!(*end - *start, Duration::hours(3));
        utc_hours.insert(start.hour());
    }
    assert_eq!(utc_hours.into_iter().collect::<Vec<_>>(), vec![7, 8]);
    // The sessions right around the changes.
    let starts: Vec<String> = series.iter().map(|(s, _)| s.to_rfc3339()).collect();
    assert!(starts.contains(&"2026-03-23T08:00:00+00:00".to_owned()));
    assert!(starts.contains(&"2026-03-30T07:00:00+00:00".to_owned()));
    assert!(starts.contains(&"2026-10-19T07:00:00+00:00".to_owned()));
    assert!(starts.contains(&"2026-10-26T08:00:00+00:00".to_owned()));
    assert_eq!(at("2026-03-30T07:00:00Z"), series[4].0);
}

#[test]
fn weekly_series_refuses_a_session_in_the_gap() {
    // Sundays at 02:30: the one on 2026-03-29 does not exist.
    let err = weekly_series(local("2026-03-15 02:30"), Duration::minutes(30), 4).unwrap_err();
    assert_eq!(err.to_string(), "local time 2026-03-29 02:30:00 does not exist in Europe/Berlin (skipped by the DST change)");
    let err = weekly_series(local("2026-10-11 02:15"), Duration::minutes(30), 3).unwrap_err();
    assert!(err.to_string().starts_with("local time 2026-10-25 02:15:00 is ambiguous"), "{err}");
    assert!(weekly_series(local("2026-03-15 10:00"), Duration::zero(), 4).is_err());
    assert!(weekly_series(local("2026-03-15 10:00"), Duration::hours(1), 100_000).is_err());
}
