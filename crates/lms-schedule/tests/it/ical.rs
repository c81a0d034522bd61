//! iCalendar output, checked with the independent `ical` parser: structure, VTIMEZONE
//! rules, local times that keep their wall-clock value across DST, SEQUENCE, UID, escaping.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc, Weekday};
use expect_test::expect_file;
use ical::parser::ical::component::{IcalCalendar, IcalEvent, IcalTimeZoneTransitionType};
use ical::property::Property;
use lms_schedule::ical::{
    berlin_vtimezone, invitation, next_revision, personal_feed, session_uid, IcsContext, Method, Recipient, SessionEvent,
    BERLIN_VTIMEZONE_RULES,
};
use lms_schedule::ids::{OfferingId, SessionId};
use lms_schedule::time::weekly_series;

use crate::{at, local};

fn context() -> IcsContext {
    IcsContext {
        prodid: "-//City of Example//LMS//EN".into(),
        uid_domain: "lms.example.org".into(),
        organizer_email: "training@example.org".into(),
        organizer_name: "Training office".into(),
    }
}

fn learner() -> Recipient {
    Recipient { email: "l1@example.org".into(), name: "Lea Eins".into() }
}

fn dtstamp() -> DateTime<Utc> {
    at("2026-03-01T12:00:00Z")
}

/// Weekly Monday 09:00–12:00 sessions from 16 March to 2 November 2026 (crosses both changes).
fn series_events() -> Vec<SessionEvent> {
    weekly_series(local("2026-03-16 09:00"), Duration::hours(3), 34)
        .unwrap()
        .into_iter()
        .zip(100u64..)
        .map(|((starts_at, ends_at), id)| SessionEvent {
            session: SessionId(id),
            offering: OfferingId(7),
            summary: "First aid, part".into(),
            description: Some("Bring: ID card; comfortable clothes\nRoom opens 08:45".into()),
            location: Some("Rathaus, Room 1".into()),
            url: None,
            starts_at,
            ends_at,
            cancelled: false,
            sequence: 0,
        })
        .collect()
}

fn parse(text: &str) -> IcalCalendar {
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = parser.next().expect("one calendar").unwrap_or_else(|e| panic!("ical parser refused the output: {e}\n{text}"));
    assert!(parser.next().is_none(), "exactly one VCALENDAR");
    calendar
}

fn prop<'a>(props: &'a [Property], name: &str) -> Option<&'a Property> {
    props.iter().find(|p| p.name == name)
}

fn value<'a>(props: &'a [Property], name: &str) -> &'a str {
    prop(props, name).and_then(|p| p.value.as_deref()).unwrap_or_else(|| panic!("missing {name}"))
}

fn param<'a>(p: &'a Property, key: &str) -> Option<&'a str> {
    p.params.as_ref()?.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.first()).map(String::as_str)
}

/// An offset like `+0200` in seconds.
fn offset_seconds(text: &str) -> i32 {
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let hours: i32 = text[1..3].parse().unwrap();
    let minutes: i32 = text[3..5].parse().unwrap();
    sign * (hours * 3600 + minutes * 60)
}

/// Interprets a TZID local time with the *parsed* VTIMEZONE (not with our code or chrono-tz):
/// each transition is `FREQ=YEARLY;BYMONTH=m;BYDAY=-1SU` at its DTSTART time of day.
fn resolve_with_parsed_vtimezone(calendar: &IcalCalendar, local_text: &str) -> DateTime<Utc> {
    let local = NaiveDateTime::parse_from_str(local_text, "%Y%m%dT%H%M%S").unwrap();
    let tz = &calendar.timezones[0];
    // (onset in local time of that year, offset after the onset)
    let mut onsets: Vec<(NaiveDateTime, i32)> = Vec::new();
    for t in &tz.transitions {
        let rrule = value(&t.properties, "RRULE");
        assert!(rrule.contains("FREQ=YEARLY") && rrule.contains("BYDAY=-1SU"), "{rrule}");
        let month: u32 = rrule.split(';').find_map(|part| part.strip_prefix("BYMONTH=")).unwrap().parse().unwrap();
        let start = NaiveDateTime::parse_from_str(value(&t.properties, "DTSTART"), "%Y%m%dT%H%M%S").unwrap();
        let mut day = NaiveDate::from_ymd_opt(local.year(), month + 1, 1).unwrap_or(NaiveDate::from_ymd_opt(local.year() + 1, 1, 1).unwrap()).pred_opt().unwrap();
        while day.weekday() != Weekday::Sun {
            day = day.pred_opt().unwrap();
        }
        onsets.push((day.and_time(start.time()), offset_seconds(value(&t.properties, "TZOFFSETTO"))));
    }
    onsets.sort();
    // The offset in force: the last onset not after the local time (else the year's last one from the previous year).
    let offset = onsets.iter().rev().find(|(onset, _)| *onset <= local).or(onsets.last()).map(|(_, o)| *o).unwrap();
    Utc.from_utc_datetime(&(local - Duration::seconds(i64::from(offset))))
}

fn event_start(event: &IcalEvent) -> (&str, &str) {
    let p = prop(&event.properties, "DTSTART").unwrap();
    (param(p, "TZID").unwrap_or(""), p.value.as_deref().unwrap_or(""))
}

#[test]
fn invitation_parses_and_keeps_local_times_across_dst() {
    let events = series_events();
    for source in &events {
        let text = invitation(&context(), Method::Request, &learner(), source, dtstamp()).unwrap();
        let calendar = parse(&text);
        assert_eq!(value(&calendar.properties, "METHOD"), "REQUEST");
        assert_eq!(value(&calendar.properties, "VERSION"), "2.0");
        assert_eq!(calendar.timezones.len(), 1);
        let tz = &calendar.timezones[0];
        assert_eq!(value(&tz.properties, "TZID"), "Europe/Berlin");
        let kinds: Vec<String> = tz.transitions.iter().map(|t| format!("{:?} {}", t.transition, value(&t.properties, "TZOFFSETTO"))).collect();
        assert_eq!(kinds, ["DAYLIGHT +0200", "STANDARD +0100"]);
        assert!(matches!(tz.transitions[0].transition, IcalTimeZoneTransitionType::DAYLIGHT));
        assert_eq!(calendar.events.len(), 1);
        let event = &calendar.events[0];
        let (tzid, start) = event_start(event);
        assert_eq!(tzid, "Europe/Berlin");
        assert!(start.ends_with("T090000"), "local start {start} must stay 09:00");
        let end = value(&event.properties, "DTEND");
        assert!(end.ends_with("T120000"), "local end {end} must stay 12:00");
        assert_eq!(resolve_with_parsed_vtimezone(&calendar, start), source.starts_at, "{start}");
        assert_eq!(value(&event.properties, "UID"), format!("session-{}@lms.example.org", source.session));
        assert_eq!(value(&event.properties, "DTSTAMP"), "20260301T120000Z");
        assert_eq!(value(&event.properties, "SEQUENCE"), "0");
        assert_eq!(value(&event.properties, "STATUS"), "CONFIRMED");
        let attendee = prop(&event.properties, "ATTENDEE").unwrap();
        assert_eq!(attendee.value.as_deref(), Some("mailto:l1@example.org"));
        assert_eq!(param(attendee, "PARTSTAT"), Some("ACCEPTED"));
        assert_eq!(value(&event.properties, "ORGANIZER"), "mailto:training@example.org");
    }
    // The UTC instant of 09:00 moves by an hour across both changes.
    let utc: Vec<String> = events.iter().map(|e| e.starts_at.format("%m-%d %H:%M").to_string()).collect();
    for (date, hour) in [("03-23", "08:00"), ("03-30", "07:00"), ("10-19", "07:00"), ("10-26", "08:00")] {
        assert!(utc.contains(&format!("{date} {hour}")), "{date} {hour} in {utc:?}");
    }
}

#[test]
fn output_is_deterministic_and_matches_the_gold_file() {
    // The session after the fall-back (26 October) in an invitation; the feed holds it and
    // one in CET before the spring change (23 March).
    let all = series_events();
    let a = invitation(&context(), Method::Request, &learner(), &all[32], dtstamp()).unwrap();
    let b = invitation(&context(), Method::Request, &learner(), &all[32], dtstamp()).unwrap();
    assert_eq!(a, b);
    let feed = personal_feed(&context(), "Training L1", &[all[32].clone(), all[1].clone()], dtstamp()).unwrap();
    assert_eq!(feed, personal_feed(&context(), "Training L1", &[all[1].clone(), all[32].clone()], dtstamp()).unwrap());
    expect_file!["gold/feed.ics"].assert_eq(&feed.replace("\r\n", "\n"));
    assert!(a.lines().all(|l| l.len() <= 75), "folded lines");
    assert!(a.split("\r\n").count() > 10 && !a.replace("\r\n", "").contains('\n'), "CRLF line ends only");
    // The gold file is stored with LF line ends (CRLF checked above).
    expect_file!["gold/invitation.ics"].assert_eq(&a.replace("\r\n", "\n"));
}

#[test]
fn cancel_and_sequence() {
    let mut event = series_events().remove(0);
    let first = next_revision(None, &event);
    assert_eq!(first.sequence, 0);
    assert_eq!(next_revision(Some(&first), &event), first, "no change, same sequence");
    event.starts_at += Duration::minutes(30);
    event.ends_at += Duration::minutes(30);
    let moved = next_revision(Some(&first), &event);
    assert_eq!(moved.sequence, 1);
    event.location = Some("Room 2".into());
    let relocated = next_revision(Some(&moved), &event);
    assert_eq!(relocated.sequence, 2);
    event.sequence = relocated.sequence;
    assert_eq!(next_revision(Some(&relocated), &event).sequence, 2, "the sequence field itself is not content");
    event.cancelled = true;
    let cancelled = next_revision(Some(&relocated), &event);
    assert_eq!(cancelled.sequence, 3);
    event.sequence = cancelled.sequence;
    let text = invitation(&context(), Method::Cancel, &learner(), &event, dtstamp()).unwrap();
    let calendar = parse(&text);
    assert_eq!(value(&calendar.properties, "METHOD"), "CANCEL");
    let e = &calendar.events[0];
    assert_eq!(value(&e.properties, "STATUS"), "CANCELLED");
    assert_eq!(value(&e.properties, "SEQUENCE"), "3");
    assert_eq!(value(&e.properties, "UID"), session_uid(&context(), event.session));
    assert_eq!(param(prop(&e.properties, "ATTENDEE").unwrap(), "PARTSTAT"), Some("DECLINED"));
    assert_eq!(event_start(e), ("Europe/Berlin", "20260316T093000"));
    let mut broken = event.clone();
    broken.ends_at = broken.starts_at;
    assert_eq!(
        invitation(&context(), Method::Request, &learner(), &broken, dtstamp()).unwrap_err().to_string(),
        "session 100 ends (2026-03-16 08:30:00 UTC) before or when it starts (2026-03-16 08:30:00 UTC)"
    );
}

#[test]
fn personal_feed_lists_sessions_in_order() {
    let mut events = series_events();
    events.reverse();
    events[0].cancelled = true;
    events[0].url = Some("https://meet.example.org/a b".into());
    let text = personal_feed(&context(), "Training — L1", &events, dtstamp()).unwrap();
    let calendar = parse(&text);
    assert_eq!(value(&calendar.properties, "METHOD"), "PUBLISH");
    assert_eq!(value(&calendar.properties, "X-WR-CALNAME"), "Training — L1");
    let starts: Vec<&str> = calendar.events.iter().map(|e| event_start(e).1).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);
    assert_eq!(starts.len(), 34);
    // Every local time in the feed resolves (with the feed's own VTIMEZONE) to the session's instant.
    for (event, source) in calendar.events.iter().zip(series_events()) {
        assert_eq!(resolve_with_parsed_vtimezone(&calendar, event_start(event).1), source.starts_at);
        assert_eq!(value(&event.properties, "UID"), session_uid(&context(), source.session));
    }
    let last = calendar.events.last().unwrap();
    assert_eq!(value(&last.properties, "STATUS"), "CANCELLED");
    assert_eq!(value(&last.properties, "URL"), "https://meet.example.org/a%20b");
    assert!(prop(&last.properties, "ATTENDEE").is_none());
    let empty = parse(&personal_feed(&context(), "nothing", &[], dtstamp()).unwrap());
    assert!(empty.events.is_empty());
    assert_eq!(empty.timezones.len(), 1);
}

#[test]
fn hostile_text_cannot_inject_properties_or_components() {
    let mut event = series_events().remove(0);
    event.summary = "Evil\r\nBEGIN:VEVENT\r\nUID:x;y,z".into();
    event.description = Some("line1\nEND:VCALENDAR".into());
    event.location = Some("\"quoted\"".into());
    let mut person = learner();
    person.name = "Mallory\"; ROLE=CHAIR:".into();
    let text = invitation(&context(), Method::Request, &person, &event, dtstamp()).unwrap();
    let calendar = parse(&text);
    assert_eq!(calendar.events.len(), 1);
    let e = &calendar.events[0];
    assert_eq!(value(&e.properties, "SUMMARY"), r"Evil  BEGIN:VEVENT  UID:x\;y\,z");
    assert_eq!(value(&e.properties, "DESCRIPTION"), r"line1\nEND:VCALENDAR");
    let attendee = prop(&e.properties, "ATTENDEE").unwrap();
    assert_eq!(param(attendee, "ROLE"), Some("REQ-PARTICIPANT"));
    assert_eq!(text.split("\r\n").filter(|line| *line == "BEGIN:VEVENT").count(), 1);
}

/// The parsed onsets of one year: (local onset, offset before, offset after) per transition.
fn parsed_onsets(calendar: &IcalCalendar, year: i32) -> Vec<(NaiveDateTime, i32, i32)> {
    calendar.timezones[0]
        .transitions
        .iter()
        .map(|t| {
            let rrule = value(&t.properties, "RRULE");
            let month: u32 = rrule.split(';').find_map(|part| part.strip_prefix("BYMONTH=")).unwrap().parse().unwrap();
            let start = NaiveDateTime::parse_from_str(value(&t.properties, "DTSTART"), "%Y%m%dT%H%M%S").unwrap();
            let mut day = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap().pred_opt().unwrap();
            while day.weekday() != Weekday::Sun {
                day = day.pred_opt().unwrap();
            }
            (
                day.and_time(start.time()),
                offset_seconds(value(&t.properties, "TZOFFSETFROM")),
                offset_seconds(value(&t.properties, "TZOFFSETTO")),
            )
        })
        .collect()
}

/// The fixed VTIMEZONE rules agree with the tz database for every year 1997–2037: the
/// onset computed from the *parsed* rule (local time read in the old offset) is exactly the
/// instant where chrono-tz changes the offset, with the same offsets on both sides.
#[test]
fn vtimezone_rules_match_the_tz_database() {
    let berlin = chrono_tz::Europe::Berlin;
    let calendar = parse(&format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{}END:VCALENDAR\r\n", berlin_vtimezone()));
    let offset_at = |t: DateTime<Utc>| berlin.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
    let mut checked = 0;
    for year in 1997..=2037 {
        for (onset_local, from, to) in parsed_onsets(&calendar, year) {
            let onset = Utc.from_utc_datetime(&(onset_local - Duration::seconds(i64::from(from))));
            assert_eq!(offset_at(onset - Duration::seconds(1)), from, "{year}: just before {onset}");
            assert_eq!(offset_at(onset), to, "{year}: at {onset}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * 41);
    assert_eq!(BERLIN_VTIMEZONE_RULES.map(|r| r.component), ["DAYLIGHT", "STANDARD"]);
}
