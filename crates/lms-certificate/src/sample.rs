//! Sample data for `lms certificates sample` and for tests: fixed values, no database.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::code::verification_code;
use crate::model::{Certificate, HistoryEntry, Language, Person};
use crate::template::{ImagePlacement, Orientation, PngImage, Template};

/// An invented signature (a scribble) for the sample template.
pub const SAMPLE_SIGNATURE_PNG: &[u8] = include_bytes!("../assets/sample-signature.png");

/// Default holder name of the sample: umlauts, ß and a hyphen.
pub const SAMPLE_NAME: &str = "Jürgen Groß-Weiß";

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn sample_code(seed: &str) -> String {
    // The seed is a constant longer than the minimum, so this cannot fail.
    verification_code(seed.as_bytes()).unwrap_or_default()
}

/// The fixed issue time of the sample (22 November 2026, 10:00 UTC).
pub fn sample_issued_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A sample certificate; `name` replaces the holder's name (default "Jürgen Groß-Weiß").
pub fn sample_certificate(name: Option<&str>) -> Certificate {
    let code = sample_code("lms sample certificate");
    Certificate {
        holder_name: name.unwrap_or(SAMPLE_NAME).to_string(),
        personnel_number: Some("P-004711".to_string()),
        course_title: "Datenschutz und Informationssicherheit im Verwaltungsalltag".to_string(),
        dates: vec![date(2026, 11, 19), date(2026, 11, 20)],
        duration_minutes: 900,
        trainer: Some("Dr. Änne Müller-Lüdenscheidt".to_string()),
        department: "Amt für Personalentwicklung und Fortbildung".to_string(),
        verification_url: format!("https://lms.example.org/verify/{code}"),
        verification_code: code,
    }
}

/// The built-in template with the sample signature added above the signature line.
pub fn sample_template(language: Language, orientation: Orientation) -> Template {
    let mut template = Template::builtin(language, orientation);
    if let Some(signature) = &mut template.signature {
        let width_mm = 52.0;
        signature.image = Some(ImagePlacement {
            png: PngImage::new(SAMPLE_SIGNATURE_PNG.to_vec()),
            x_mm: signature.x_mm + (signature.width_mm - width_mm) / 2.0,
            y_mm: signature.y_mm - 16.0,
            width_mm,
        });
    }
    template
}

/// The sample person of [`sample_history`].
pub fn sample_person(name: Option<&str>) -> Person {
    Person {
        name: name.unwrap_or(SAMPLE_NAME).to_string(),
        personnel_number: Some("P-004711".to_string()),
    }
}

/// `count` invented completed trainings (for paginated history samples and tests).
pub fn sample_history(count: usize) -> Vec<HistoryEntry> {
    const COURSES: [&str; 8] = [
        "Datenschutz und Informationssicherheit im Verwaltungsalltag",
        "Erste Hilfe – Auffrischung",
        "Brandschutzhelfer/in nach ASR A2.2",
        "Führen in Teilzeit: Grundlagen für Führungskräfte der mittleren Ebene",
        "Barrierefreie Dokumente erstellen",
        "Konfliktgespräche souverän führen",
        "E-Akte: Arbeiten mit der elektronischen Personalakte",
        "Gleichstellung und Antidiskriminierung (AGG) – Pflichtschulung",
    ];
    const UNITS: [&str; 3] = [
        "Amt für Personalentwicklung und Fortbildung",
        "Stabsstelle Arbeitssicherheit",
        "Hauptamt",
    ];
    (0..count)
        .map(|i| {
            let start = date(2020, 1, 13) + chrono::Days::new((i as u64) * 23);
            let days = 1 + (i % 3) as u64;
            HistoryEntry {
                course_title: COURSES[i % COURSES.len()].to_string(),
                dates: (0..days).map(|d| start + chrono::Days::new(d)).collect(),
                duration_minutes: 240 + (i as u32 % 4) * 150,
                department: UNITS[i % UNITS.len()].to_string(),
                verification_code: if i % 5 == 4 {
                    None
                } else {
                    Some(sample_code(&format!("lms sample history {i}")))
                },
            }
        })
        .collect()
}
