//! A person's training history as a paginated PDF/A-2u table.

use chrono::{DateTime, NaiveDate, Utc};
use krilla::geom::Rect;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::fonts::{FontStyle, Fonts};
use crate::layout::wrap;
use crate::model::{HistoryEntry, Language, Person, check_dates, check_text};
use crate::render::{
    DocumentInfo, draw_image, draw_line, draw_lines, fill_path, finish, mm, new_document,
    page_settings, stroke_path, unambiguous,
};
use crate::template::{Align, Color, Template};

/// Most entries one history may hold.
pub const MAX_HISTORY_ENTRIES: usize = 5_000;

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 20.0;
const TABLE_BOTTOM: f32 = 272.0;
const FOOTER_Y: f32 = 284.0;
const CELL_PAD: f32 = 1.6;
const TEXT_SIZE: f32 = 8.0;
const CODE_SIZE: f32 = 7.0;
const LINE: f32 = 1.25;
const SHADE: Color = Color(240, 243, 247);
const WHITE: Color = Color(255, 255, 255);

struct Column {
    width_mm: f32,
    align: Align,
    font: FontStyle,
    size: f32,
}

const COLUMNS: [Column; 5] = [
    Column {
        width_mm: 26.0,
        align: Align::Left,
        font: FontStyle::Sans,
        size: TEXT_SIZE,
    },
    Column {
        width_mm: 55.0,
        align: Align::Left,
        font: FontStyle::Sans,
        size: TEXT_SIZE,
    },
    Column {
        width_mm: 14.0,
        align: Align::Right,
        font: FontStyle::Sans,
        size: TEXT_SIZE,
    },
    Column {
        width_mm: 40.0,
        align: Align::Left,
        font: FontStyle::Sans,
        size: TEXT_SIZE,
    },
    Column {
        width_mm: 35.0,
        align: Align::Left,
        font: FontStyle::Sans,
        size: CODE_SIZE,
    },
];

struct Words {
    title: &'static str,
    name: &'static str,
    personnel_number: &'static str,
    as_of: &'static str,
    headers: [&'static str; 5],
    total: &'static str,
    none: &'static str,
    page: &'static str,
    of: &'static str,
    trainings: &'static str,
    hours: &'static str,
    description: &'static str,
}

fn words(language: Language) -> Words {
    match language {
        Language::German => Words {
            title: "Fortbildungsnachweis",
            name: "Name:",
            personnel_number: "Personalnummer:",
            as_of: "Stand:",
            headers: [
                "Datum",
                "Fortbildung",
                "Stunden",
                "Veranstalter",
                "Prüfcode",
            ],
            total: "Summe:",
            none: "Keine abgeschlossenen Fortbildungen.",
            page: "Seite",
            of: "von",
            trainings: "Fortbildungen",
            hours: "Stunden",
            description: "Nachweis aller abgeschlossenen Fortbildungen",
        },
        Language::English => Words {
            title: "Training Record",
            name: "Name:",
            personnel_number: "Personnel number:",
            as_of: "As of:",
            headers: [
                "Date",
                "Training",
                "Hours",
                "Issued by",
                "Verification code",
            ],
            total: "Total:",
            none: "No completed trainings.",
            page: "Page",
            of: "of",
            trainings: "trainings",
            hours: "hours",
            description: "Record of all completed trainings",
        },
    }
}

/// Dates for a table cell: one day, a `from – to` range of consecutive days, or a list.
fn table_dates(language: Language, dates: &[NaiveDate]) -> String {
    let mut sorted = dates.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    match sorted.as_slice() {
        [] => String::new(),
        [one] => language.short_date(*one),
        [first, .., last] if sorted.windows(2).all(|w| w[0].succ_opt() == Some(w[1])) => {
            format!(
                "{} – {}",
                language.short_date(*first),
                language.short_date(*last)
            )
        }
        many => many
            .iter()
            .map(|d| language.short_date(*d))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

struct Row {
    cells: [Vec<String>; 5],
    height_mm: f32,
}

fn cell_lines(
    language: Language,
    fonts: &Fonts,
    entry: &HistoryEntry,
    index: usize,
) -> Result<Row, Error> {
    let texts = [
        table_dates(language, &entry.dates),
        entry.course_title.trim().to_string(),
        language.hours(entry.duration_minutes),
        entry.department.trim().to_string(),
        entry
            .verification_code
            .as_deref()
            .map(str::trim)
            .unwrap_or("–")
            .to_string(),
    ];
    let mut cells: [Vec<String>; 5] = Default::default();
    let mut max_lines = 1;
    for (i, (text, column)) in texts.iter().zip(COLUMNS.iter()).enumerate() {
        let lines = wrap(
            fonts.face(column.font),
            text,
            column.size,
            mm(column.width_mm - 2.0 * CELL_PAD),
        )
        .map_err(|character| Error::MissingGlyph {
            location: format!("history entry {index}"),
            character,
        })?;
        max_lines = max_lines.max(lines.len());
        cells[i] = lines;
    }
    let height_mm = max_lines as f32 * TEXT_SIZE * LINE / crate::render::PT_PER_MM + 2.0 * CELL_PAD;
    Ok(Row { cells, height_mm })
}

/// Renders the training history of `person`: every entry (sorted by first date, then title)
/// in a table with dates, title, hours, issuer and verification code, a total, and page
/// numbers; long histories continue on further pages with the table header repeated.
/// Language, accent colour and logo come from `template`. Pure: same inputs, same bytes.
pub fn render_history(
    person: &Person,
    entries: &[HistoryEntry],
    template: &Template,
    fonts: &Fonts,
    issued_at: DateTime<Utc>,
) -> Result<Vec<u8>, Error> {
    unambiguous(|ascii_hex| {
        render_history_attempt(person, entries, template, fonts, issued_at, ascii_hex)
    })
}

fn render_history_attempt(
    person: &Person,
    entries: &[HistoryEntry],
    template: &Template,
    fonts: &Fonts,
    issued_at: DateTime<Utc>,
    ascii_hex: bool,
) -> Result<Vec<u8>, Error> {
    check_text("person.name", &person.name, true)?;
    if let Some(number) = &person.personnel_number {
        check_text("person.personnel_number", number, false)?;
    }
    if entries.len() > MAX_HISTORY_ENTRIES {
        return Err(Error::InvalidField {
            field: "entries",
            reason: format!(
                "{} entries, at most {MAX_HISTORY_ENTRIES} allowed",
                entries.len()
            ),
        });
    }
    for entry in entries {
        check_text("entry.course_title", &entry.course_title, true)?;
        check_text("entry.department", &entry.department, true)?;
        check_dates("entry.dates", &entry.dates)?;
        if let Some(code) = &entry.verification_code {
            check_text("entry.verification_code", code, false)?;
        }
    }
    let language = template.language;
    let w = words(language);
    let mut sorted: Vec<&HistoryEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        let first = |e: &HistoryEntry| e.dates.iter().min().copied();
        first(a)
            .cmp(&first(b))
            .then_with(|| a.course_title.cmp(&b.course_title))
            .then_with(|| a.verification_code.cmp(&b.verification_code))
    });
    let rows = sorted
        .iter()
        .enumerate()
        .map(|(i, entry)| cell_lines(language, fonts, entry, i))
        .collect::<Result<Vec<_>, _>>()?;

    // Pagination: the first page has the full heading, later pages a one-line heading.
    let header_h = TEXT_SIZE * LINE / crate::render::PT_PER_MM + 2.0 * CELL_PAD;
    let first_top = if person.personnel_number.is_some() {
        62.0
    } else {
        57.0
    };
    let later_top = 30.0;
    let summary_h = 10.0;
    let mut pages: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    let mut y = first_top + header_h;
    for (i, row) in rows.iter().enumerate() {
        if y + row.height_mm > TABLE_BOTTOM && i > start {
            pages.push(start..i);
            start = i;
            y = later_top + header_h;
        }
        y += row.height_mm;
    }
    let last_needs_own_page = y + summary_h > TABLE_BOTTOM && !rows.is_empty();
    pages.push(start..rows.len());
    if last_needs_own_page {
        pages.push(rows.len()..rows.len());
    }
    let page_count = pages.len();

    let issued_on = language.long_date(issued_at.date_naive());
    let mut id_hash = Sha256::new();
    id_hash.update(b"history\0");
    id_hash.update(person.name.as_bytes());
    id_hash.update([0]);
    for entry in &sorted {
        id_hash.update(entry.course_title.as_bytes());
        id_hash.update([0]);
        id_hash.update(entry.verification_code.as_deref().unwrap_or("").as_bytes());
        id_hash.update([0]);
    }
    id_hash.update(issued_at.to_rfc3339().as_bytes());
    let document_id: String = id_hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut keywords = vec![w.title.to_string()];
    if template.metadata_includes_personnel_number
        && let Some(number) = &person.personnel_number
    {
        keywords.push(number.trim().to_string());
    }
    let mut document = new_document(
        DocumentInfo {
            title: format!("{} ({} {issued_on})", w.title, w.as_of),
            language,
            issued_at,
            document_id,
            author: "lms".to_string(),
            description: w.description.to_string(),
            keywords,
        },
        ascii_hex,
    )?;

    let total_minutes: u64 = sorted.iter().map(|e| u64::from(e.duration_minutes)).sum();
    let table_x = MARGIN;
    let table_w: f32 = COLUMNS.iter().map(|c| c.width_mm).sum();
    for (page_index, range) in pages.iter().enumerate() {
        let mut page = document.start_page_with(page_settings(PAGE_W, PAGE_H)?);
        let mut surface = page.surface();
        let s = &mut surface;
        let mut top = later_top;
        if page_index == 0 {
            if let Some(logo) = &template.logo {
                let mut placement = logo.clone();
                placement.width_mm = 18.0;
                placement.x_mm = PAGE_W - MARGIN - 18.0;
                placement.y_mm = 14.0;
                draw_image(s, &placement, 18.0, "logo")?;
            }
            draw_line(
                s,
                fonts,
                FontStyle::SerifBold,
                20.0,
                template.accent,
                mm(MARGIN),
                mm(28.0),
                w.title,
                "history title",
            )?;
            let mut y = 40.0;
            let mut info = vec![(w.name, person.name.trim().to_string())];
            if let Some(number) = &person.personnel_number {
                info.push((w.personnel_number, number.trim().to_string()));
            }
            info.push((w.as_of, issued_on.clone()));
            for (label, value) in info {
                draw_line(
                    s,
                    fonts,
                    FontStyle::Sans,
                    10.0,
                    Color(70, 70, 70),
                    mm(MARGIN),
                    mm(y),
                    label,
                    "history heading",
                )?;
                let lines = wrap(
                    fonts.face(FontStyle::SansBold),
                    &value,
                    10.0,
                    mm(table_w - 35.0),
                )
                .map_err(|character| Error::MissingGlyph {
                    location: "history heading".into(),
                    character,
                })?;
                draw_lines(
                    s,
                    fonts,
                    FontStyle::SansBold,
                    10.0,
                    LINE,
                    Color::BLACK,
                    Align::Left,
                    mm(MARGIN + 35.0),
                    mm(y),
                    mm(table_w - 35.0),
                    &lines[..1],
                    "history heading",
                )?;
                y += 5.5;
            }
            top = first_top;
        } else {
            let heading = format!("{} – {}", w.title, person.name.trim());
            let lines = wrap(fonts.face(FontStyle::Sans), &heading, 9.0, mm(table_w)).map_err(
                |character| Error::MissingGlyph {
                    location: "history heading".into(),
                    character,
                },
            )?;
            draw_lines(
                s,
                fonts,
                FontStyle::Sans,
                9.0,
                LINE,
                Color(70, 70, 70),
                Align::Left,
                mm(MARGIN),
                mm(20.0),
                mm(table_w),
                &lines[..1],
                "history heading",
            )?;
        }
        // Table header.
        fill_path(s, template.accent, |b| {
            if let Some(r) = Rect::from_xywh(mm(table_x), mm(top), mm(table_w), mm(header_h)) {
                b.push_rect(r);
            }
        });
        let mut x = table_x;
        for (header, column) in w.headers.iter().zip(COLUMNS.iter()) {
            draw_lines(
                s,
                fonts,
                FontStyle::SansBold,
                TEXT_SIZE,
                LINE,
                WHITE,
                column.align,
                mm(x + CELL_PAD),
                mm(top + CELL_PAD) + TEXT_SIZE * 0.8,
                mm(column.width_mm - 2.0 * CELL_PAD),
                std::slice::from_ref(&header.to_string()),
                "history header",
            )?;
            x += column.width_mm;
        }
        let mut y = top + header_h;
        if rows.is_empty() && page_index == 0 {
            draw_line(
                s,
                fonts,
                FontStyle::Sans,
                TEXT_SIZE,
                Color::BLACK,
                mm(table_x + CELL_PAD),
                mm(y + CELL_PAD) + TEXT_SIZE * 0.8,
                w.none,
                "history",
            )?;
            y += header_h;
        }
        for (row_index, row) in rows[range.clone()].iter().enumerate() {
            if (range.start + row_index) % 2 == 1 {
                fill_path(s, SHADE, |b| {
                    if let Some(r) =
                        Rect::from_xywh(mm(table_x), mm(y), mm(table_w), mm(row.height_mm))
                    {
                        b.push_rect(r);
                    }
                });
            }
            let mut x = table_x;
            for (lines, column) in row.cells.iter().zip(COLUMNS.iter()) {
                draw_lines(
                    s,
                    fonts,
                    column.font,
                    column.size,
                    TEXT_SIZE * LINE / column.size,
                    Color::BLACK,
                    column.align,
                    mm(x + CELL_PAD),
                    mm(y + CELL_PAD) + TEXT_SIZE * 0.8,
                    mm(column.width_mm - 2.0 * CELL_PAD),
                    lines,
                    "history row",
                )?;
                x += column.width_mm;
            }
            y += row.height_mm;
        }
        let bottom = y;
        stroke_path(s, template.accent, 0.8, |b| {
            b.move_to(mm(table_x), mm(bottom));
            b.line_to(mm(table_x + table_w), mm(bottom));
        });
        if page_index + 1 == page_count {
            let total = format!(
                "{} {} {}, {} {}",
                w.total,
                rows.len(),
                w.trainings,
                language.hours(u32::try_from(total_minutes).unwrap_or(u32::MAX)),
                w.hours
            );
            draw_line(
                s,
                fonts,
                FontStyle::SansBold,
                9.5,
                Color::BLACK,
                mm(table_x),
                mm(bottom + 7.0),
                &total,
                "history total",
            )?;
        }
        // Footer.
        stroke_path(s, Color(160, 160, 160), 0.4, |b| {
            b.move_to(mm(MARGIN), mm(FOOTER_Y - 4.5));
            b.line_to(mm(PAGE_W - MARGIN), mm(FOOTER_Y - 4.5));
        });
        let footer_left = format!("{} – {} {issued_on}", w.title, w.as_of);
        draw_line(
            s,
            fonts,
            FontStyle::Sans,
            8.0,
            Color(90, 90, 90),
            mm(MARGIN),
            mm(FOOTER_Y),
            &footer_left,
            "history footer",
        )?;
        let page_label = format!("{} {} {} {}", w.page, page_index + 1, w.of, page_count);
        draw_lines(
            s,
            fonts,
            FontStyle::Sans,
            8.0,
            LINE,
            Color(90, 90, 90),
            Align::Right,
            mm(MARGIN),
            mm(FOOTER_Y),
            mm(PAGE_W - 2.0 * MARGIN),
            std::slice::from_ref(&page_label),
            "history footer",
        )?;
        surface.finish();
        page.finish();
    }
    finish(document)
}
