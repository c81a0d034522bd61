//! ISO 8601 durations (`PnYnMnDTnHnMnS`) as seconds, the form SCORM uses for time limits.

/// Parses an ISO 8601 duration into seconds. A year counts 365 days and a month 30 days
/// (SCORM gives no calendar to resolve them). `None` when the text is not a duration.
pub fn parse_iso_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let rest = text.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let mut seconds = 0.0;
    let mut in_time = false;
    let mut number = String::new();
    let mut saw_component = false;
    for ch in rest.chars() {
        match ch {
            'T' if !in_time && number.is_empty() => in_time = true,
            '0'..='9' | '.' => number.push(ch),
            unit => {
                let value: f64 = number.parse().ok()?;
                number.clear();
                let factor = match (in_time, unit) {
                    (false, 'Y') => 365.0 * 86_400.0,
                    (false, 'M') => 30.0 * 86_400.0,
                    (false, 'W') => 7.0 * 86_400.0,
                    (false, 'D') => 86_400.0,
                    (true, 'H') => 3_600.0,
                    (true, 'M') => 60.0,
                    (true, 'S') => 1.0,
                    _ => return None,
                };
                seconds += value * factor;
                saw_component = true;
            }
        }
    }
    if !number.is_empty() || !saw_component {
        return None;
    }
    Some(seconds)
}

#[cfg(test)]
mod tests {
    use super::parse_iso_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_iso_duration("PT1H30M"), Some(5400.0));
        assert_eq!(parse_iso_duration("P1DT0.5S"), Some(86_400.5));
        assert_eq!(parse_iso_duration("PT"), None);
        assert_eq!(parse_iso_duration("P"), None);
        assert_eq!(parse_iso_duration("1H"), None);
        assert_eq!(parse_iso_duration("PT5"), None);
    }
}
