//! Value formats of the SCORM data models: reals, ISO 8601 times and durations, localized
//! strings, language tags, identifiers, and the SCORM 1.2 `CMITimespan`/`CMITime`/`CMIDecimal`.
//!
//! Every check is a hand-written scanner (no regex, no allocation) so `SetValue` stays cheap.

use crate::lang_codes::{THREE_LETTER, TWO_LETTER};

/// Parses a SCORM `real(10,7)` / `CMIDecimal`: optional `-`, digits, optional fraction.
/// Returns `None` for anything else (exponents, `+`, thousands separators, blanks).
pub fn parse_real(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'-') {
        i = 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if i != bytes.len() || int_digits + frac_digits == 0 {
        return None;
    }
    text.parse::<f64>().ok()
}

/// Parses a SCORM 2004 `timeinterval (second,10,2)`: an ISO 8601 duration
/// `P[nY][nM][nD][T[nH][nM][n[.n]S]]`, returned in hundredths of a second.
/// Years count 365 days and months 30 days (ISO 8601 leaves them nominal).
pub fn parse_duration(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'P') || bytes.len() < 2 {
        return None;
    }
    let mut i = 1;
    let mut in_time = false;
    let mut any = false;
    let mut time_component_seen = false;
    let mut total: u64 = 0;
    // order of designators: date Y M D, time H M S
    let mut last_rank = 0u8;
    while i < bytes.len() {
        if bytes[i] == b'T' {
            if in_time {
                return None;
            }
            in_time = true;
            i += 1;
            if i == bytes.len() {
                return None;
            }
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &text[start..i];
        if digits.is_empty() || digits.len() > 12 {
            return None;
        }
        let mut fraction_cs: u64 = 0;
        let mut has_fraction = false;
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            let fstart = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let frac = &text[fstart..i];
            if frac.is_empty() {
                return None;
            }
            has_fraction = true;
            let mut cs = 0u64;
            for (k, c) in frac.bytes().take(2).enumerate() {
                cs += u64::from(c - b'0') * if k == 0 { 10 } else { 1 };
            }
            fraction_cs = cs;
        }
        let designator = *bytes.get(i)?;
        i += 1;
        let value: u64 = digits.parse().ok()?;
        let (rank, cs_per_unit) = match (in_time, designator) {
            (false, b'Y') => (1, 365 * 86_400 * 100),
            (false, b'M') => (2, 30 * 86_400 * 100),
            (false, b'D') => (3, 86_400 * 100),
            (true, b'H') => (4, 3_600 * 100),
            (true, b'M') => (5, 60 * 100),
            (true, b'S') => (6, 100),
            _ => return None,
        };
        if rank <= last_rank || (has_fraction && rank != 6) {
            return None;
        }
        last_rank = rank;
        any = true;
        if in_time {
            time_component_seen = true;
        }
        total = total
            .checked_add(value.checked_mul(cs_per_unit)?)?
            .checked_add(fraction_cs)?;
    }
    if !any || (in_time && !time_component_seen) {
        return None;
    }
    Some(total)
}

/// Formats hundredths of a second as an ISO 8601 duration, largest unit days
/// (`PT0H0M0S` for zero, the SCORM default for `cmi.total_time`).
pub fn format_duration(centiseconds: u64) -> String {
    if centiseconds == 0 {
        return "PT0H0M0S".to_owned();
    }
    let days = centiseconds / 8_640_000;
    let hours = centiseconds / 360_000 % 24;
    let minutes = centiseconds / 6_000 % 60;
    let seconds = centiseconds / 100 % 60;
    let cs = centiseconds % 100;
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || seconds > 0 || cs > 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if seconds > 0 || cs > 0 {
            if cs == 0 {
                out.push_str(&format!("{seconds}S"));
            } else if cs.is_multiple_of(10) {
                out.push_str(&format!("{seconds}.{}S", cs / 10));
            } else {
                out.push_str(&format!("{seconds}.{cs:02}S"));
            }
        }
    }
    out
}

fn two_digits(bytes: &[u8], at: usize) -> Option<u32> {
    let a = *bytes.get(at)?;
    let b = *bytes.get(at + 1)?;
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
    } else {
        None
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        _ => 28,
    }
}

/// Validates a SCORM 2004 `time (second,10,0)`:
/// `YYYY[-MM[-DD[Thh[:mm[:ss[.s[s]]]][TZD]]]]`, years 1970–2038, TZD `Z`, `±hh` or `±hh:mm`.
pub fn is_time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let year: u32 = match text[..4].parse() {
        Ok(y) => y,
        Err(_) => return false,
    };
    if !(1970..=2038).contains(&year) {
        return false;
    }
    let mut i = 4;
    if i == b.len() {
        return true;
    }
    // month
    if b[i] != b'-' {
        return false;
    }
    let Some(month) = two_digits(b, i + 1) else {
        return false;
    };
    if !(1..=12).contains(&month) {
        return false;
    }
    i += 3;
    if i == b.len() {
        return true;
    }
    if b[i] != b'-' {
        return false;
    }
    let Some(day) = two_digits(b, i + 1) else {
        return false;
    };
    if day < 1 || day > days_in_month(year, month) {
        return false;
    }
    i += 3;
    if i == b.len() {
        return true;
    }
    if b[i] != b'T' {
        return false;
    }
    let Some(hour) = two_digits(b, i + 1) else {
        return false;
    };
    if hour > 23 {
        return false;
    }
    i += 3;
    if i < b.len() && b[i] == b':' {
        let Some(minute) = two_digits(b, i + 1) else {
            return false;
        };
        if minute > 59 {
            return false;
        }
        i += 3;
        if i < b.len() && b[i] == b':' {
            let Some(second) = two_digits(b, i + 1) else {
                return false;
            };
            if second > 59 {
                return false;
            }
            i += 3;
            if i < b.len() && b[i] == b'.' {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let n = i - start;
                if n == 0 || n > 2 {
                    return false;
                }
                if i == b.len() {
                    return true;
                }
                return is_time_zone(&b[i..]);
            }
        }
    }
    // a time zone designator may only follow fractional seconds (RTE 4.1.1.6)
    i == b.len()
}

fn is_time_zone(b: &[u8]) -> bool {
    match b.first() {
        Some(b'Z') => b.len() == 1,
        Some(b'+' | b'-') => {
            let Some(tz_hour) = two_digits(b, 1) else {
                return false;
            };
            if tz_hour > 23 {
                return false;
            }
            if b.len() == 3 {
                return true;
            }
            if b[3] != b':' {
                return false;
            }
            let Some(tz_minute) = two_digits(b, 4) else {
                return false;
            };
            tz_minute <= 59 && b.len() == 6
        }
        _ => false,
    }
}
/// ISO 639 codes withdrawn after SCORM 2004 was written but still valid for it
/// (Moldavian, Serbian/Croatian, and the old Hebrew/Indonesian/Yiddish/Javanese codes).
const WITHDRAWN: &[&str] = &["mo", "mol", "scc", "scr", "sh", "iw", "in", "ji", "jw"];

/// Validates a language tag (`language_type`): an ISO 639-1/639-2 primary code (or `i`/`x`),
/// then subtags of 1–8 letters or digits. The empty string is valid (no preference).
pub fn is_language(text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let mut parts = text.split('-');
    let Some(primary) = parts.next() else {
        return false;
    };
    let mut lower = [0u8; 3];
    let ok_primary = match primary.len() {
        1 => matches!(primary, "i" | "x" | "I" | "X"),
        2 | 3 if primary.bytes().all(|c| c.is_ascii_alphabetic()) => {
            for (k, c) in primary.bytes().enumerate() {
                lower[k] = c.to_ascii_lowercase();
            }
            let code = std::str::from_utf8(&lower[..primary.len()]).unwrap_or("");
            let table = if primary.len() == 2 {
                TWO_LETTER
            } else {
                THREE_LETTER
            };
            table.binary_search(&code).is_ok() || WITHDRAWN.contains(&code)
        }
        _ => false,
    };
    if !ok_primary {
        return false;
    }
    parts.all(|sub| {
        !sub.is_empty() && sub.len() <= 8 && sub.bytes().all(|c| c.is_ascii_alphanumeric())
    })
}

/// Splits a leading `{lang=…}` delimiter off a localized string. Returns `None` when the
/// delimiter is present but its language is not a valid, non-empty language tag.
pub fn strip_lang(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_prefix("{lang=") {
        let end = rest.find('}')?;
        let lang = &rest[..end];
        if lang.is_empty() || !is_language(lang) {
            return None;
        }
        return Some(&rest[end + 1..]);
    }
    Some(text)
}

/// Validates a `localized_string_type` (an optional valid `{lang=…}` then any text).
pub fn is_localized_string(text: &str) -> bool {
    strip_lang(text).is_some()
}

/// Validates a `long_identifier_type`/`short_identifier_type`: non-empty, none of the pattern
/// delimiter characters `[]{}`, and when it starts with `urn:` a well-formed URN
/// (`urn:<NID>:<NSS>`, no whitespace). Other identifiers may contain spaces (authoring tools
/// send them).
pub fn is_identifier(text: &str) -> bool {
    if text.is_empty() || text.bytes().any(|c| matches!(c, b'[' | b']' | b'{' | b'}')) {
        return false;
    }
    if let Some(scheme) = text.get(..4)
        && scheme.eq_ignore_ascii_case("urn:")
    {
        let rest = &text[4..];
        let Some(colon) = rest.find(':') else {
            return false;
        };
        let nid = &rest[..colon];
        let nss = &rest[colon + 1..];
        return !text.chars().any(char::is_whitespace)
            && !nid.is_empty()
            && nid.len() <= 31
            && nid.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            && !nid.starts_with('-')
            && !nss.is_empty();
    }
    true
}

/// SCORM 1.2 `CMITimespan`: `HHHH:MM:SS[.S[S]]` (hours 2–4 digits). Returns hundredths of a second.
pub fn parse_timespan_12(text: &str) -> Option<u64> {
    let mut parts = text.split(':');
    let hours = parts.next()?;
    let minutes = parts.next()?;
    let seconds = parts.next()?;
    if parts.next().is_some()
        || !(2..=4).contains(&hours.len())
        || !hours.bytes().all(|c| c.is_ascii_digit())
        || minutes.len() != 2
        || !minutes.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let (whole, frac) = match seconds.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (seconds, None),
    };
    if whole.len() != 2 || !whole.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut cs = 0u64;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 2 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        cs = f.parse::<u64>().ok()? * if f.len() == 1 { 10 } else { 1 };
    }
    let h: u64 = hours.parse().ok()?;
    let m: u64 = minutes.parse().ok()?;
    let s: u64 = whole.parse().ok()?;
    if m > 59 || s > 59 {
        return None;
    }
    Some(((h * 60 + m) * 60 + s) * 100 + cs)
}

/// Formats hundredths of a second as a SCORM 1.2 `CMITimespan` (`HHHH:MM:SS.SS`).
pub fn format_timespan_12(centiseconds: u64) -> String {
    let hours = centiseconds / 360_000;
    let minutes = centiseconds / 6_000 % 60;
    let seconds = centiseconds / 100 % 60;
    let cs = centiseconds % 100;
    if cs == 0 {
        format!("{hours:04}:{minutes:02}:{seconds:02}")
    } else {
        format!("{hours:04}:{minutes:02}:{seconds:02}.{cs:02}")
    }
}

/// SCORM 1.2 `CMITime`: `HH:MM:SS[.S[S]]` with a valid time of day.
pub fn is_time_12(text: &str) -> bool {
    match parse_timespan_12(text) {
        Some(cs) => {
            let hours = text.split(':').next().map_or(0, str::len);
            hours == 2 && cs < 24 * 360_000
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("PT1M"), Some(6_000));
        assert_eq!(
            parse_duration("PT01H059M020S"),
            Some(360_000 + 59 * 6_000 + 2_000)
        );
        assert_eq!(parse_duration("P0Y029DT0H"), Some(29 * 8_640_000));
        assert_eq!(parse_duration("PT6.34S"), Some(634));
        for bad in [
            "P",
            "PT",
            "P1Y6M14D4H15M6.34S",
            "1Y",
            "P1.5Y",
            "PT1S2M",
            "P1DT",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(0), "PT0H0M0S");
        assert_eq!(format_duration(2 * 360_000 + 2_000), "PT2H20S");
        assert_eq!(format_duration(29 * 8_640_000), "P29D");
        assert_eq!(format_duration(634), "PT6.34S");
    }

    #[test]
    fn times() {
        for good in [
            "2004",
            "2004-04-01T15:21:45",
            "2004-06-30T14:00:00.10-05:59",
            "2004-04-01T09:45:58.5Z",
            "2038",
            "1970-01-01",
        ] {
            assert!(is_time(good), "{good}");
        }
        for bad in [
            "1969",
            "2039",
            "2004-13",
            "2004-02-30",
            "2004-04-01T",
            "2004-04-01T24",
            "2004-04-01T09:45:58.025",
            "2004-4",
            "2004-04-01T09Z",
            "2004-04-01T09:45:58+02",
        ] {
            assert!(!is_time(bad), "{bad}");
        }
    }

    #[test]
    fn languages_and_identifiers() {
        assert!(
            is_language("en-US")
                && is_language("zh-min-nan")
                && is_language("i-klingon")
                && is_language("ELx")
                && is_language("mo")
        );
        assert!(
            !is_language("sp")
                && !is_language("frl")
                && !is_language("en-")
                && !is_language("toolongsubtag-x")
        );
        assert_eq!(strip_lang("{lang=en}hi"), Some("hi"));
        assert_eq!(strip_lang("{lang=}hi"), None);
        assert!(
            is_identifier("urn:adl:lmsTest/OBJ01")
                && !is_identifier("urn:")
                && !is_identifier("urn:a:b c")
        );
        assert!(is_identifier("Scene 1 Slide 2") && !is_identifier("a[.]b") && !is_identifier(""));
        assert_eq!(parse_real("-3.5"), Some(-3.5));
        assert_eq!(parse_real("100,000.00"), None);
        assert_eq!(parse_timespan_12("0000:01:30.5"), Some(9_050));
        assert!(is_time_12("23:59:59") && !is_time_12("24:00:00"));
    }
}
