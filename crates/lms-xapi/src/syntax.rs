//! Lexical rules for the xAPI data types: IRIs, mailto IRIs, UUIDs, RFC 5646 language tags,
//! ISO 8601 durations and timestamps, hex digests and media types.
//!
//! All functions are total: they take any string and answer, never panic.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::XapiVersion;

/// An absolute IRI (RFC 3987): a scheme (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`), a
/// colon and a non-empty remainder without whitespace, controls or the characters
/// `<>"{}|\^` and backtick.
pub fn is_iri(value: &str) -> bool {
    let Some(colon) = value.find(':') else { return false };
    let (scheme, rest) = (&value[..colon], &value[colon + 1..]);
    let mut scheme_bytes = scheme.bytes();
    match scheme_bytes.next() {
        Some(first) if first.is_ascii_alphabetic() => {}
        _ => return false,
    }
    if !scheme_bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        return false;
    }
    !rest.is_empty()
        && rest.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
        })
}

/// A `mailto:` IRI naming one email address (`mailto:local@domain`).
pub fn is_mailto_iri(value: &str) -> bool {
    let Some(address) = value.strip_prefix("mailto:") else { return false };
    if !is_iri(value) || address.contains(['?', ',']) {
        return false;
    }
    match address.rsplit_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@'),
        None => false,
    }
}

/// A UUID in its standard string form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, any case).
pub fn parse_uuid(value: &str) -> Option<uuid::Uuid> {
    let bytes = value.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    for (i, b) in bytes.iter().enumerate() {
        let ok = if matches!(i, 8 | 13 | 18 | 23) { *b == b'-' } else { b.is_ascii_hexdigit() };
        if !ok {
            return None;
        }
    }
    uuid::Uuid::try_parse(value).ok()
}

/// A hex string of exactly `len` digits.
pub fn is_hex_of_len(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A SHA-2 digest in hex: 56 (SHA-224), 64 (SHA-256), 96 (SHA-384) or 128 (SHA-512) digits.
pub fn is_sha2_hex(value: &str) -> bool {
    matches!(value.len(), 56 | 64 | 96 | 128) && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An Internet media type (RFC 6838/2045): `type/subtype` followed by `; name=value` parameters.
pub fn is_media_type(value: &str) -> bool {
    let mut parts = value.split(';');
    let Some(essence) = parts.next() else { return false };
    let Some((kind, subtype)) = essence.trim().split_once('/') else { return false };
    if !is_token(kind) || !is_token(subtype) {
        return false;
    }
    parts.all(|parameter| match parameter.trim().split_once('=') {
        Some((name, value)) => {
            is_token(name.trim())
                && (is_token(value.trim())
                    || (value.len() >= 2 && value.starts_with('"') && value.ends_with('"')))
        }
        None => false,
    })
}

fn is_token(value: &str) -> bool {
    !value.is_empty()
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
        })
}

/// A well-formed RFC 5646 language tag (`en`, `en-US`, `zh-Hant-TW`, `sl-rozaj-biske`,
/// `x-private`, grandfathered tags). Case-insensitive.
pub fn is_language_tag(tag: &str) -> bool {
    if tag.is_empty() || !tag.is_ascii() {
        return false;
    }
    if GRANDFATHERED.iter().any(|g| g.eq_ignore_ascii_case(tag)) {
        return true;
    }
    let subtags: Vec<&str> = tag.split('-').collect();
    if subtags.iter().any(|s| s.is_empty() || s.len() > 8 || !s.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return false;
    }
    let mut i = 0;
    if subtags[0].eq_ignore_ascii_case("x") {
        return subtags.len() > 1;
    }
    // language
    let language = subtags[0];
    if !(2..=8).contains(&language.len()) || !is_alpha(language) {
        return false;
    }
    i += 1;
    if language.len() <= 3 {
        // up to three extlang subtags
        let mut extlangs = 0;
        while i < subtags.len() && extlangs < 3 && subtags[i].len() == 3 && is_alpha(subtags[i]) {
            i += 1;
            extlangs += 1;
        }
    }
    // script
    if i < subtags.len() && subtags[i].len() == 4 && is_alpha(subtags[i]) {
        i += 1;
    }
    // region
    if i < subtags.len()
        && ((subtags[i].len() == 2 && is_alpha(subtags[i])) || (subtags[i].len() == 3 && is_digit(subtags[i])))
    {
        i += 1;
    }
    // variants
    while i < subtags.len() {
        let s = subtags[i];
        let is_variant = (5..=8).contains(&s.len()) || (s.len() == 4 && s.as_bytes()[0].is_ascii_digit());
        if !is_variant {
            break;
        }
        i += 1;
    }
    // extensions
    let mut singletons_seen: Vec<u8> = Vec::new();
    while i < subtags.len() && subtags[i].len() == 1 && !subtags[i].eq_ignore_ascii_case("x") {
        let singleton = subtags[i].as_bytes()[0].to_ascii_lowercase();
        if singletons_seen.contains(&singleton) {
            return false;
        }
        singletons_seen.push(singleton);
        i += 1;
        let start = i;
        while i < subtags.len() && (2..=8).contains(&subtags[i].len()) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    // private use
    if i < subtags.len() && subtags[i].eq_ignore_ascii_case("x") {
        i += 1;
        if i == subtags.len() {
            return false;
        }
        i = subtags.len();
    }
    i == subtags.len()
}

fn is_alpha(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_digit(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

const GRANDFATHERED: &[&str] = &[
    "en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux",
    "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL",
    "sgn-CH-DE", "art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka",
    "zh-min", "zh-min-nan", "zh-xiang",
];

/// An ISO 8601 duration (`P3Y1M29DT4H35M59.14S`, `PT16559.14S`, `P4W`): at least one
/// component, components in order, a fraction only on the last one, `W` only alone.
pub fn is_duration(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('P') else { return false };
    if rest.is_empty() {
        return false;
    }
    if let Some(weeks) = rest.strip_suffix('W') {
        return is_decimal(weeks);
    }
    let (date_part, time_part) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return false;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    let mut fraction_seen = false;
    let mut any = false;
    for (part, designators) in [(date_part, &b"YMD"[..]), (time_part.unwrap_or(""), &b"HMS"[..])] {
        let mut order = 0;
        let mut number_start = 0;
        for (i, b) in part.bytes().enumerate() {
            if b.is_ascii_digit() || b == b'.' || b == b',' {
                continue;
            }
            let Some(position) = designators.iter().position(|d| *d == b) else { return false };
            if position < order {
                return false;
            }
            order = position + 1;
            let number = &part[number_start..i];
            if !is_decimal(number) || fraction_seen {
                return false;
            }
            if number.contains(['.', ',']) {
                fraction_seen = true;
            }
            number_start = i + 1;
            any = true;
        }
        if number_start != part.len() {
            return false;
        }
    }
    any
}

fn is_decimal(number: &str) -> bool {
    let (whole, fraction) = match number.split_once(['.', ',']) {
        Some((w, f)) => (w, Some(f)),
        None => (number, None),
    };
    !whole.is_empty()
        && is_digit(whole)
        && fraction.is_none_or(|f| !f.is_empty() && is_digit(f))
}

/// A duration with the seconds' fraction cut to hundredths (`PT1.2345S` → `PT1.23S`): xAPI 2.0
/// compares durations at 0.01 s precision.
pub fn truncate_duration(value: &str) -> std::borrow::Cow<'_, str> {
    if let Some(seconds_end) = value.strip_suffix('S').map(|s| s.len()) {
        let head = &value[..seconds_end];
        if let Some(dot) = head.rfind(['.', ',']) {
            let fraction = &head[dot + 1..];
            if fraction.len() > 2 && is_digit(fraction) {
                return format!("{}S", &head[..dot + 3]).into();
            }
        }
    }
    value.into()
}

/// Parse an xAPI timestamp.
///
/// * 2.0.0: RFC 3339 (`2008-09-15T15:53:00.601Z`, `…+02:00`); a time-zone offset is required.
/// * 1.0.3: ISO 8601 extended or basic date-time (`2008-09-15T15:53:00.601+0200`,
///   `20080915T155300Z`, minutes precision allowed); a missing offset means UTC.
///
/// In both versions the "unknown local offset" forms `-00`, `-0000` and `-00:00` are rejected,
/// and any number of fraction digits is kept (nanosecond precision).
pub fn parse_timestamp(value: &str, version: XapiVersion) -> Option<DateTime<Utc>> {
    let strict = version == XapiVersion::V2_0_0;
    let b = value.as_bytes();
    let t = b.iter().position(|c| *c == b'T' || (strict && *c == b't'))?;
    let (date, rest) = (&value[..t], &value[t + 1..]);
    let date = parse_date(date, strict)?;
    // split time and zone
    let zone_start = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(zone_start);
    let time = parse_time(time, strict)?;
    let offset_seconds: i32 = match zone {
        "" if !strict => 0,
        "Z" => 0,
        "z" if strict => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits = &zone[1..];
            let (hours, minutes) = match digits.len() {
                5 if digits.as_bytes()[2] == b':' => (&digits[..2], &digits[3..]),
                4 if !strict => (&digits[..2], &digits[2..]),
                2 if !strict => (digits, "00"),
                _ => return None,
            };
            if !is_digit(hours) || !is_digit(minutes) {
                return None;
            }
            let (h, m): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
            if h > 23 || m > 59 || (sign < 0 && h == 0 && m == 0) {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let local = date.and_time(time);
    Some(DateTime::from_naive_utc_and_offset(
        local - chrono::TimeDelta::seconds(i64::from(offset_seconds)),
        Utc,
    ))
}

fn parse_date(date: &str, strict: bool) -> Option<NaiveDate> {
    let (y, m, d) = if date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-' {
        (&date[..4], &date[5..7], &date[8..])
    } else if !strict && date.len() == 8 {
        (&date[..4], &date[4..6], &date[6..])
    } else {
        return None;
    };
    if !is_digit(y) || !is_digit(m) || !is_digit(d) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn parse_time(time: &str, strict: bool) -> Option<NaiveTime> {
    // RFC 3339 has only "." before the fraction; ISO 8601 also allows ","
    let separators: &[char] = if strict { &['.'] } else { &['.', ','] };
    let (clock, fraction) = match time.split_once(separators) {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (time, None),
    };
    let bytes = clock.as_bytes();
    let (h, m, s) = match clock.len() {
        8 if bytes[2] == b':' && bytes[5] == b':' => (&clock[..2], &clock[3..5], &clock[6..]),
        5 if !strict && bytes[2] == b':' && fraction.is_none() => (&clock[..2], &clock[3..], "00"),
        6 if !strict => (&clock[..2], &clock[2..4], &clock[4..]),
        _ => return None,
    };
    if !is_digit(h) || !is_digit(m) || !is_digit(s) {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && is_digit(f) => {
            // digits beyond nanoseconds are dropped
            let kept = &f[..f.len().min(9)];
            let value: u32 = kept.parse().ok()?;
            value * 10u32.pow(9 - kept.len() as u32)
        }
        Some(_) => return None,
    };
    NaiveTime::from_hms_nano_opt(h.parse().ok()?, m.parse().ok()?, s.parse().ok()?, nanos)
}

/// Format an instant the way this LRS writes `stored` and its own timestamps:
/// RFC 3339 in UTC with milliseconds (`2026-01-02T03:04:05.678Z`).
pub fn format_timestamp(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
