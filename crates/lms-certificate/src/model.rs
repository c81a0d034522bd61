//! The data a certificate or training history is rendered from, and its language-dependent
//! formatting (dates, hours).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Longest accepted free-text field (in characters); longer input is rejected as data.
pub const MAX_FIELD_CHARS: usize = 500;
/// Longest accepted verification URL in bytes (a longer URL makes a QR code too dense to scan).
pub const MAX_URL_BYTES: usize = 256;
/// Most session dates one certificate may list.
pub const MAX_DATES: usize = 400;

/// One certificate of attendance: who attended what, when, for how long, issued by whom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// The holder's full name as printed ("Jürgen Groß-Weiß").
    pub holder_name: String,
    /// Personnel number; printed only where a template uses `{personnel_number}` and written to
    /// the XMP metadata only if `Template::metadata_includes_personnel_number` is set.
    #[serde(default)]
    pub personnel_number: Option<String>,
    /// Course or offering title.
    pub course_title: String,
    /// The days attended (any order, duplicates ignored); at least one.
    pub dates: Vec<NaiveDate>,
    /// Duration in minutes (printed as hours: 450 → "7,5" in German, "7.5" in English).
    pub duration_minutes: u32,
    /// Trainer(s), if any; rows/blocks that need it are left out when absent.
    #[serde(default)]
    pub trainer: Option<String>,
    /// The issuing org unit ("Amt für Personalentwicklung").
    pub department: String,
    /// Human-readable verification code (see [`crate::verification_code`]).
    pub verification_code: String,
    /// Public URL that verifies this certificate; encoded in the QR code.
    pub verification_url: String,
}

/// The person a training history is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    #[serde(default)]
    pub personnel_number: Option<String>,
}

/// One completed training in a person's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub course_title: String,
    pub dates: Vec<NaiveDate>,
    pub duration_minutes: u32,
    pub department: String,
    #[serde(default)]
    pub verification_code: Option<String>,
}

/// Language of a template: labels, month names, number format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "de")]
    German,
    #[serde(rename = "en")]
    English,
}

impl Language {
    /// BCP 47 tag written to the PDF catalog and XMP (`de-DE`, `en-GB`).
    pub fn tag(self) -> &'static str {
        match self {
            Language::German => "de-DE",
            Language::English => "en-GB",
        }
    }

    fn month_name(self, month: u32) -> &'static str {
        const DE: [&str; 12] = [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ];
        const EN: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let index = (month.clamp(1, 12) - 1) as usize;
        match self {
            Language::German => DE[index],
            Language::English => EN[index],
        }
    }

    /// A long date: `22. November 2026` (de) or `22 November 2026` (en).
    pub fn long_date(self, date: NaiveDate) -> String {
        match self {
            Language::German => {
                format!(
                    "{}. {} {}",
                    date.day(),
                    self.month_name(date.month()),
                    date.year()
                )
            }
            Language::English => {
                format!(
                    "{} {} {}",
                    date.day(),
                    self.month_name(date.month()),
                    date.year()
                )
            }
        }
    }

    /// A short date for tables: `22.11.2026` (de) or `22/11/2026` (en).
    pub fn short_date(self, date: NaiveDate) -> String {
        match self {
            Language::German => format!("{:02}.{:02}.{}", date.day(), date.month(), date.year()),
            Language::English => format!("{:02}/{:02}/{}", date.day(), date.month(), date.year()),
        }
    }

    fn day_in_month(self, date: NaiveDate) -> String {
        match self {
            Language::German => format!("{}.", date.day()),
            Language::English => format!("{}", date.day()),
        }
    }

    fn day_and_month(self, date: NaiveDate) -> String {
        match self {
            Language::German => format!("{}. {}", date.day(), self.month_name(date.month())),
            Language::English => format!("{} {}", date.day(), self.month_name(date.month())),
        }
    }

    fn and(self) -> &'static str {
        match self {
            Language::German => "und",
            Language::English => "and",
        }
    }

    /// The attended days as one phrase: a single day, a range of consecutive days
    /// (`20.–22. November 2026`), or a list (`3., 10. und 17. November 2026`).
    pub fn dates(self, dates: &[NaiveDate]) -> String {
        let mut sorted: Vec<NaiveDate> = dates.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let (Some(&first), Some(&last)) = (sorted.first(), sorted.last()) else {
            return String::new();
        };
        if first == last {
            return self.long_date(first);
        }
        let consecutive = sorted.windows(2).all(|w| w[0].succ_opt() == Some(w[1]));
        if consecutive {
            let start = if first.year() != last.year() {
                self.long_date(first)
            } else if first.month() != last.month() {
                self.day_and_month(first)
            } else {
                self.day_in_month(first)
            };
            let separator = if first.month() == last.month() && first.year() == last.year() {
                "–"
            } else {
                " – "
            };
            return format!("{start}{separator}{}", self.long_date(last));
        }
        let same_month = first.year() == last.year() && first.month() == last.month();
        let same_year = first.year() == last.year();
        let mut parts: Vec<String> = Vec::with_capacity(sorted.len());
        for (i, &date) in sorted.iter().enumerate() {
            let is_last = i + 1 == sorted.len();
            parts.push(if is_last {
                self.long_date(date)
            } else if same_month {
                self.day_in_month(date)
            } else if same_year {
                self.day_and_month(date)
            } else {
                self.long_date(date)
            });
        }
        let tail = parts.pop().unwrap_or_default();
        format!("{} {} {tail}", parts.join(", "), self.and())
    }

    /// Hours from minutes with the language's decimal separator, at most two decimals,
    /// trailing zeros dropped: 480 → `8`, 450 → `7,5` / `7.5`, 50 → `0,83`.
    pub fn hours(self, minutes: u32) -> String {
        let hundredths = (u64::from(minutes) * 100 + 30) / 60;
        let whole = hundredths / 100;
        let fraction = hundredths % 100;
        let separator = match self {
            Language::German => ',',
            Language::English => '.',
        };
        if fraction == 0 {
            whole.to_string()
        } else if fraction % 10 == 0 {
            format!("{whole}{separator}{}", fraction / 10)
        } else {
            format!("{whole}{separator}{fraction:02}")
        }
    }
}

/// Checks a free-text field: not blank (if required), not too long, no control characters.
pub(crate) fn check_text(field: &'static str, value: &str, required: bool) -> Result<(), Error> {
    if required && value.trim().is_empty() {
        return Err(Error::InvalidField {
            field,
            reason: "must not be empty".into(),
        });
    }
    let chars = value.chars().count();
    if chars > MAX_FIELD_CHARS {
        return Err(Error::InvalidField {
            field,
            reason: format!("{chars} characters, at most {MAX_FIELD_CHARS} allowed"),
        });
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(Error::InvalidField {
            field,
            reason: format!("contains control character U+{:04X}", c as u32),
        });
    }
    Ok(())
}

pub(crate) fn check_dates(field: &'static str, dates: &[NaiveDate]) -> Result<(), Error> {
    if dates.is_empty() {
        return Err(Error::InvalidField {
            field,
            reason: "at least one date is required".into(),
        });
    }
    if dates.len() > MAX_DATES {
        return Err(Error::InvalidField {
            field,
            reason: format!("{} dates, at most {MAX_DATES} allowed", dates.len()),
        });
    }
    Ok(())
}

impl Certificate {
    /// Checks every field; the first problem is returned as [`Error::InvalidField`].
    pub fn validate(&self) -> Result<(), Error> {
        check_text("holder_name", &self.holder_name, true)?;
        if let Some(number) = &self.personnel_number {
            check_text("personnel_number", number, false)?;
        }
        check_text("course_title", &self.course_title, true)?;
        check_dates("dates", &self.dates)?;
        if let Some(trainer) = &self.trainer {
            check_text("trainer", trainer, false)?;
        }
        check_text("department", &self.department, true)?;
        check_text("verification_code", &self.verification_code, true)?;
        check_text("verification_url", &self.verification_url, true)?;
        if self.verification_url.trim().len() > MAX_URL_BYTES {
            return Err(Error::InvalidField {
                field: "verification_url",
                reason: format!(
                    "{} bytes, at most {MAX_URL_BYTES} allowed (QR code must stay scannable)",
                    self.verification_url.trim().len()
                ),
            });
        }
        Ok(())
    }
}
