//! Training histories from many generated inputs, each through the PDF/A-2u validator.
//!
//! Regression for a store test run in which one training history failed ISO 19005-2 6.1.7.1
//! (stream /Length): a stream whose data ends with a carriage return reads as
//! `\r\nendstream`, and validators then count one byte less. Which streams end that way
//! depends on every byte of the input (names, titles, codes, dates, page count), so this
//! test renders a deterministic spread of inputs — umlauts and ß, long course lists with page
//! breaks, both languages and orientations, with and without personnel numbers and codes —
//! and requires 0 failed rules for each. The spread includes files that need the ASCII-hex
//! fallback (checked), so the fallback path is validated too.

use chrono::{Duration, NaiveDate};
use lms_certificate::*;
use page_validation::{ValidationOptions, ValidationProfile, validate_pdf_bytes};

/// A fixed linear congruential sequence: the same inputs on every run.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize % below
    }
}

const NAMES: [&str; 6] = [
    "Jürgen Groß-Weiß",
    "Zoë Ägidius-Öztürk",
    "Björn Müßig",
    "Ľudmila Šťastná",
    "Øystein Ærø",
    "Anna Schmidt",
];

const TITLES: [&str; 5] = [
    "Datenschutz im Verwaltungsalltag",
    "Erste Hilfe – Auffrischung für Beschäftigte im Außendienst",
    "Brandschutzhelfer/in nach ASR A2.2",
    "Gesprächsführung: schwierige Situationen am Bürgerschalter gelöst",
    "Informationssicherheit (E-Learning)",
];

fn history_input(index: usize, seq: &mut Sequence) -> (Person, Vec<HistoryEntry>, Template) {
    let language = if seq.next(3) == 0 { Language::English } else { Language::German };
    let orientation = if seq.next(2) == 0 { Orientation::Portrait } else { Orientation::Landscape };
    let person = Person {
        name: format!("{} {index}", NAMES[seq.next(NAMES.len())]),
        personnel_number: (seq.next(2) == 0).then(|| format!("P-{index:06}")),
    };
    // Mostly short histories (as in the store tests), every fifth a long one over pages.
    let count = if index.is_multiple_of(5) { 20 + seq.next(60) } else { seq.next(4) };
    let entries = (0..count)
        .map(|j| {
            let first = NaiveDate::from_ymd_opt(2019, 1, 1).expect("date")
                + Duration::days(seq.next(2_500) as i64);
            let days = 1 + seq.next(3);
            let seed = (index * 1_000 + j) as u128 * 0x9e37_79b9_7f4a_7c15;
            HistoryEntry {
                course_title: format!("{} {}", TITLES[seq.next(TITLES.len())], "äöüß".repeat(seq.next(6))),
                dates: (0..days).map(|k| first + Duration::days((k * (1 + seq.next(3))) as i64)).collect(),
                duration_minutes: 30 + seq.next(900) as u32,
                department: format!("Amt für Ökologie und Straßenbau {}", seq.next(40)),
                verification_code: (seq.next(5) != 0)
                    .then(|| verification_code(&seed.to_le_bytes()).expect("code")),
            }
        })
        .collect();
    (person, entries, Template::builtin(language, orientation))
}

#[test]
fn histories_from_generated_inputs_are_valid_pdfa() {
    let fonts = Fonts::builtin();
    let mut seq = Sequence(0x5eed_0002);
    let (mut fallbacks, mut most_pages) = (0, 0);
    for index in 0..150 {
        let (person, entries, template) = history_input(index, &mut seq);
        let issued_at = sample_issued_at() + Duration::seconds(seq.next(50_000_000) as i64);
        let pdf = render_history(&person, &entries, &template, &fonts, issued_at)
            .unwrap_or_else(|e| panic!("history {index}: {e}"));
        assert!(
            !pdf.windows(11).any(|w| w == b"\r\nendstream"),
            "history {index}: a stream ends with CR"
        );
        let report = validate_pdf_bytes(
            &pdf,
            &ValidationOptions::default().profile(ValidationProfile::PdfA2u),
        )
        .unwrap_or_else(|e| panic!("history {index}: validator could not read it: {e}"));
        if !(report.is_compliant && report.rules.failed == 0) {
            let keep = std::env::temp_dir().join(format!("lms-certificate-failed-history-{index}.pdf"));
            let _ = std::fs::write(&keep, &pdf);
            panic!("history {index} ({}) is not PDF/A-2u (kept at {}):\n{report}", person.name, keep.display());
        }
        most_pages = most_pages.max(report.document.page_count);
        if pdf.windows(15).any(|w| w == b"/ASCIIHexDecode") {
            fallbacks += 1;
        }
    }
    assert!(most_pages >= 3, "the inputs should include histories over several pages");
    assert!(fallbacks > 0, "the inputs should include at least one ASCII-hex fallback");
}
