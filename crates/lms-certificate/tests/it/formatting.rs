//! Language-dependent formatting of dates and hours.

use chrono::NaiveDate;
use lms_certificate::Language;

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
}

fn check(language: Language, dates: &[&str], expected: &str) {
    let dates: Vec<NaiveDate> = dates.iter().map(|t| d(t)).collect();
    assert_eq!(language.dates(&dates), expected, "{language:?} {dates:?}");
}

#[test]
fn date_phrases() {
    use Language::{English as En, German as De};
    check(De, &["2026-11-22"], "22. November 2026");
    check(En, &["2026-11-22"], "22 November 2026");
    check(De, &["2026-03-05"], "5. März 2026");
    check(
        De,
        &["2026-11-20", "2026-11-22", "2026-11-21"],
        "20.–22. November 2026",
    );
    check(
        En,
        &["2026-11-20", "2026-11-21", "2026-11-22"],
        "20–22 November 2026",
    );
    check(
        De,
        &["2026-11-30", "2026-12-01"],
        "30. November – 1. Dezember 2026",
    );
    check(
        En,
        &["2026-11-30", "2026-12-01"],
        "30 November – 1 December 2026",
    );
    check(
        De,
        &["2026-12-31", "2027-01-01"],
        "31. Dezember 2026 – 1. Januar 2027",
    );
    check(
        De,
        &["2026-11-03", "2026-11-10", "2026-11-17"],
        "3., 10. und 17. November 2026",
    );
    check(
        En,
        &["2026-11-03", "2026-11-10", "2026-11-17"],
        "3, 10 and 17 November 2026",
    );
    check(
        De,
        &["2026-10-27", "2026-11-10"],
        "27. Oktober und 10. November 2026",
    );
    check(
        En,
        &["2025-12-01", "2026-01-15"],
        "1 December 2025 and 15 January 2026",
    );
    check(De, &["2026-11-22", "2026-11-22"], "22. November 2026");
    check(De, &[], "");
}

#[test]
fn hours_and_short_dates() {
    for (minutes, de, en) in [
        (0, "0", "0"),
        (60, "1", "1"),
        (90, "1,5", "1.5"),
        (450, "7,5", "7.5"),
        (480, "8", "8"),
        (50, "0,83", "0.83"),
        (45, "0,75", "0.75"),
        (u32::MAX, "71582788,25", "71582788.25"),
    ] {
        assert_eq!(Language::German.hours(minutes), de, "{minutes}");
        assert_eq!(Language::English.hours(minutes), en, "{minutes}");
    }
    assert_eq!(Language::German.short_date(d("2026-03-05")), "05.03.2026");
    assert_eq!(Language::English.short_date(d("2026-03-05")), "05/03/2026");
    assert_eq!(Language::German.tag(), "de-DE");
    assert_eq!(Language::English.tag(), "en-GB");
}
