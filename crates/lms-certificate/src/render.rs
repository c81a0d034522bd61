//! Drawing certificates and training histories with krilla, validated as PDF/A-2u on write.

use chrono::{DateTime, Datelike, Timelike, Utc};
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::error::KrillaError;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::{Document, SerializeSettings};

use crate::Error;
use crate::fonts::{FontStyle, Fonts};
use crate::layout::{fit, wrap};
use crate::model::{Certificate, Language};
use crate::placeholder::{Values, fill};
use crate::template::{Align, Color, ImagePlacement, Template};

pub(crate) const PT_PER_MM: f32 = 72.0 / 25.4;

pub(crate) fn mm(value: f32) -> f32 {
    value * PT_PER_MM
}

pub(crate) fn paint(color: Color) -> krilla::paint::Paint {
    rgb::Color::new(color.0, color.1, color.2).into()
}

/// Metadata for the XMP packet and document info; everything comes from the inputs.
pub(crate) struct DocumentInfo {
    pub(crate) title: String,
    pub(crate) language: Language,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) document_id: String,
    pub(crate) author: String,
    pub(crate) description: String,
    pub(crate) keywords: Vec<String>,
}

/// The first stream whose layout a PDF/A validator would not read back exactly, described
/// in a sentence; `None` when every stream is sound.
///
/// ISO 19005-2 6.1.7.1: a stream's /Length is the number of bytes between the end-of-line
/// marker after `stream` and the one before `endstream`. pdf-writer writes
/// `/Length n … stream\n<n bytes>\nendstream` and always gets that right, but when the data
/// itself ends with a carriage return the file reads `\r\nendstream`, and validators (veraPDF,
/// page_validation) take `\r\n` as the end-of-line marker and count one byte less. A Flate
/// stream ends in its Adler-32 checksum, so about 1 in 256 streams does. This walk checks
/// every stream, not just that pattern: it reads each declared /Length, skips exactly that
/// many bytes (so binary data is never mistaken for syntax) and requires `\nendstream` there,
/// with no carriage return as the last data byte.
pub(crate) fn stream_layout_problem(pdf: &[u8]) -> Option<String> {
    const OPEN: &[u8] = b"\nstream\n";
    const CLOSE: &[u8] = b"\nendstream";
    let find = |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let rfind = |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).rposition(|w| w == needle);
    let mut cursor = 0;
    while let Some(found) = find(&pdf[cursor..], OPEN) {
        let keyword = cursor + found;
        let data_start = keyword + OPEN.len();
        // The stream's dictionary lies between its object header and the keyword.
        let header = rfind(&pdf[cursor..keyword], b" obj\n").map_or(cursor, |h| cursor + h);
        let dictionary = &pdf[header..keyword];
        let Some(at) = rfind(dictionary, b"/Length ") else {
            return Some(format!("the stream at byte {data_start} has no direct /Length"));
        };
        let digits: Vec<u8> = dictionary[at + 8..].iter().copied().take_while(u8::is_ascii_digit).collect();
        let Some(length) = std::str::from_utf8(&digits).ok().and_then(|d| d.parse::<usize>().ok()) else {
            return Some(format!("the stream at byte {data_start} has an unreadable /Length"));
        };
        let data_end = data_start + length;
        if pdf.get(data_end..data_end + CLOSE.len()) != Some(CLOSE) {
            return Some(format!("the stream at byte {data_start} does not end after its /Length {length}"));
        }
        if length > 0 && pdf[data_end - 1] == b'\r' {
            return Some(format!(
                "the stream at byte {data_start} ends with a carriage return (read as part of the end-of-line marker)"
            ));
        }
        cursor = data_end + CLOSE.len();
    }
    None
}

/// Runs `attempt(false)` (compact binary streams) and, only if a stream's layout is
/// ambiguous (see [`stream_layout_problem`]), `attempt(true)` (binary streams additionally
/// ASCII-hex encoded, which never end in `\r`). A file that still has a problem is an
/// error, never output. Deterministic: the same inputs take the same path.
pub(crate) fn unambiguous(
    attempt: impl Fn(bool) -> Result<Vec<u8>, Error>,
) -> Result<Vec<u8>, Error> {
    let pdf = attempt(false)?;
    if stream_layout_problem(&pdf).is_none() {
        return Ok(pdf);
    }
    let pdf = attempt(true)?;
    if let Some(problem) = stream_layout_problem(&pdf) {
        return Err(Error::Pdf(format!(
            "{problem}, even with ASCII-hex encoding"
        )));
    }
    Ok(pdf)
}

pub(crate) fn new_document(info: DocumentInfo, ascii_hex: bool) -> Result<Document, Error> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_U)
        .finish()
        .map_err(|e| Error::Pdf(format!("PDF/A-2u configuration: {e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: false,
        ascii_compatible: ascii_hex,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let at = info.issued_at;
    let date =
        krilla::metadata::DateTime::new(u16::try_from(at.year().clamp(0, 9999)).unwrap_or(0))
            .month(at.month() as u8)
            .day(at.day() as u8)
            .hour(at.hour() as u8)
            .minute(at.minute() as u8)
            .second(at.second() as u8)
            .utc_offset_hour(0)
            .utc_offset_minute(0);
    document.set_metadata(
        Metadata::new()
            .title(info.title)
            .language(info.language.tag().to_string())
            .creation_date(date)
            .document_id(info.document_id)
            .authors(vec![info.author])
            .description(info.description)
            .keywords(info.keywords)
            .creator("lms-certificate".to_string())
            .producer("lms-certificate (krilla)".to_string()),
    );
    Ok(document)
}

pub(crate) fn finish(document: Document) -> Result<Vec<u8>, Error> {
    document.finish().map_err(|e| match e {
        KrillaError::Image(_, _, reason) => Error::InvalidImage {
            location: "image".into(),
            reason,
        },
        KrillaError::Validation(errors) => Error::Pdf(format!(
            "output would not be PDF/A-2u: {:?}",
            errors.iter().map(|(e, _)| e).collect::<Vec<_>>()
        )),
        other => Error::Pdf(other.to_string()),
    })
}

pub(crate) fn page_settings(width_mm: f32, height_mm: f32) -> Result<PageSettings, Error> {
    PageSettings::from_wh(mm(width_mm), mm(height_mm))
        .ok_or_else(|| Error::Pdf("invalid page size".into()))
}

/// Draws one line of text with its left end at `x` and baseline at `y` (points).
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_line(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    style: FontStyle,
    size: f32,
    color: Color,
    x: f32,
    y: f32,
    text: &str,
    location: &str,
) -> Result<(), Error> {
    if text.is_empty() {
        return Ok(());
    }
    let face = fonts.face(style);
    let glyphs = face.glyphs(text).map_err(|character| Error::MissingGlyph {
        location: location.to_string(),
        character,
    })?;
    surface.set_fill(Some(Fill {
        paint: paint(color),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }));
    surface.set_stroke(None);
    surface.draw_glyphs(
        Point::from_xy(x, y),
        &glyphs,
        face.font.clone(),
        text,
        size,
        false,
    );
    Ok(())
}

/// Draws lines aligned within [x, x + width] (points), first baseline at `y`.
/// Returns the baseline of the line after the last one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_lines(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    style: FontStyle,
    size: f32,
    line_height: f32,
    color: Color,
    align: Align,
    x: f32,
    y: f32,
    width: f32,
    lines: &[String],
    location: &str,
) -> Result<f32, Error> {
    let face = fonts.face(style);
    let mut baseline = y;
    for line in lines {
        let line_width = face
            .width(line, size)
            .map_err(|character| Error::MissingGlyph {
                location: location.to_string(),
                character,
            })?;
        let left = match align {
            Align::Left => x,
            Align::Center => x + (width - line_width) / 2.0,
            Align::Right => x + width - line_width,
        };
        draw_line(
            surface, fonts, style, size, color, left, baseline, line, location,
        )?;
        baseline += size * line_height;
    }
    Ok(baseline)
}

pub(crate) fn stroke_path(
    surface: &mut Surface<'_>,
    color: Color,
    width: f32,
    build: impl FnOnce(&mut PathBuilder),
) {
    let mut builder = PathBuilder::new();
    build(&mut builder);
    if let Some(path) = builder.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: paint(color),
            width,
            ..Stroke::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

pub(crate) fn fill_path(
    surface: &mut Surface<'_>,
    color: Color,
    build: impl FnOnce(&mut PathBuilder),
) {
    let mut builder = PathBuilder::new();
    build(&mut builder);
    if let Some(path) = builder.finish() {
        surface.set_stroke(None);
        surface.set_fill(Some(Fill {
            paint: paint(color),
            opacity: NormalizedF32::ONE,
            rule: Default::default(),
        }));
        surface.draw_path(&path);
    }
}

/// Draws an image at its placement; returns its height in millimetres.
pub(crate) fn draw_image(
    surface: &mut Surface<'_>,
    placement: &ImagePlacement,
    width_mm: f32,
    location: &str,
) -> Result<f32, Error> {
    let image = placement
        .png
        .image()
        .map_err(|reason| Error::InvalidImage {
            location: location.to_string(),
            reason,
        })?;
    let (pw, ph) = image.size();
    if pw == 0 || ph == 0 {
        return Err(Error::InvalidImage {
            location: location.to_string(),
            reason: "image has no pixels".into(),
        });
    }
    let height_mm = width_mm * ph as f32 / pw as f32;
    let size = Size::from_wh(mm(width_mm), mm(height_mm)).ok_or_else(|| Error::InvalidImage {
        location: location.to_string(),
        reason: "image size is degenerate".into(),
    })?;
    surface.push_transform(&Transform::from_translate(
        mm(placement.x_mm),
        mm(placement.y_mm),
    ));
    surface.draw_image(image, size);
    surface.pop();
    Ok(height_mm)
}

fn draw_qr(
    surface: &mut Surface<'_>,
    url: &str,
    x: f32,
    y: f32,
    size: f32,
    color: Color,
) -> Result<(), Error> {
    let (modules, dark) = crate::qr::verification_qr(url)?;
    // Four modules of quiet zone on every side, inside the placement square. The path is
    // written in module units (small integers) under a scaling transform: a third of the
    // content-stream bytes of absolute coordinates, so less to compress per certificate.
    let module = size / (modules + 8) as f32;
    let outlines = crate::qr::dark_outlines(&dark, modules);
    surface.push_transform(&Transform::from_row(
        module,
        0.0,
        0.0,
        module,
        x + 4.0 * module,
        y + 4.0 * module,
    ));
    fill_path(surface, color, |builder| {
        for outline in &outlines {
            let mut corners = outline.iter().map(|&(x, y)| (f32::from(x), f32::from(y)));
            if let Some((x, y)) = corners.next() {
                builder.move_to(x, y);
                for (x, y) in corners {
                    builder.line_to(x, y);
                }
                builder.close();
            }
        }
    });
    surface.pop();
    Ok(())
}

pub(crate) fn draw_frame(
    surface: &mut Surface<'_>,
    page_w: f32,
    page_h: f32,
    inset_mm: f32,
    color: Color,
) {
    let outer = mm(inset_mm);
    let inner = outer + 3.0;
    stroke_path(surface, color, 2.0, |b| {
        if let Some(r) = Rect::from_xywh(
            outer,
            outer,
            mm(page_w) - 2.0 * outer,
            mm(page_h) - 2.0 * outer,
        ) {
            b.push_rect(r);
        }
    });
    stroke_path(surface, color, 0.6, |b| {
        if let Some(r) = Rect::from_xywh(
            inner,
            inner,
            mm(page_w) - 2.0 * inner,
            mm(page_h) - 2.0 * inner,
        ) {
            b.push_rect(r);
        }
    });
}

pub(crate) fn certificate_values(
    certificate: &Certificate,
    language: Language,
    issued_at: DateTime<Utc>,
) -> Values {
    let mut values = Values::default();
    values.set("name", Some(certificate.holder_name.trim().to_string()));
    values.set("course", Some(certificate.course_title.trim().to_string()));
    values.set("dates", Some(language.dates(&certificate.dates)));
    values.set("hours", Some(language.hours(certificate.duration_minutes)));
    values.set(
        "trainer",
        certificate.trainer.as_ref().map(|t| t.trim().to_string()),
    );
    values.set(
        "department",
        Some(certificate.department.trim().to_string()),
    );
    values.set(
        "verification_code",
        Some(certificate.verification_code.trim().to_string()),
    );
    values.set(
        "verification_url",
        Some(certificate.verification_url.trim().to_string()),
    );
    values.set(
        "issued_on",
        Some(language.long_date(issued_at.date_naive())),
    );
    values.set(
        "personnel_number",
        certificate
            .personnel_number
            .as_ref()
            .map(|p| p.trim().to_string()),
    );
    values
}

/// The start of a long text, for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(MAX).collect();
        short.push('…');
        short
    }
}

fn missing_glyph(location: &str) -> impl Fn(char) -> Error + '_ {
    move |character| Error::MissingGlyph {
        location: location.to_string(),
        character,
    }
}

/// Renders one certificate as PDF/A-2u. Pure: the same inputs give the same bytes.
pub fn render(
    certificate: &Certificate,
    template: &Template,
    fonts: &Fonts,
    issued_at: DateTime<Utc>,
) -> Result<Vec<u8>, Error> {
    unambiguous(|ascii_hex| render_attempt(certificate, template, fonts, issued_at, ascii_hex))
}

fn render_attempt(
    certificate: &Certificate,
    template: &Template,
    fonts: &Fonts,
    issued_at: DateTime<Utc>,
    ascii_hex: bool,
) -> Result<Vec<u8>, Error> {
    certificate.validate()?;
    template.validate()?;
    let language = template.language;
    let values = certificate_values(certificate, language, issued_at);
    let title = fill(&template.title, &values, "title", false)?.unwrap_or_default();
    let mut keywords = vec![certificate.verification_code.trim().to_string()];
    if template.metadata_includes_personnel_number
        && let Some(number) = values.get("personnel_number")
    {
        keywords.push(number.to_string());
    }
    let description = match language {
        Language::German => format!(
            "Teilnahmebescheinigung, ausgestellt von {}; Prüfcode {}",
            certificate.department.trim(),
            certificate.verification_code.trim()
        ),
        Language::English => format!(
            "Certificate of attendance issued by {}; verification code {}",
            certificate.department.trim(),
            certificate.verification_code.trim()
        ),
    };
    let mut document = new_document(
        DocumentInfo {
            title,
            language,
            issued_at,
            document_id: certificate.verification_code.trim().to_string(),
            author: certificate.department.trim().to_string(),
            description,
            keywords,
        },
        ascii_hex,
    )?;
    let (page_w, page_h) = template.orientation.size_mm();
    {
        let mut page = document.start_page_with(page_settings(page_w, page_h)?);
        let mut surface = page.surface();
        draw_certificate_page(&mut surface, certificate, template, fonts, &values)?;
        surface.finish();
        page.finish();
    }
    finish(document)
}

fn draw_certificate_page(
    surface: &mut Surface<'_>,
    certificate: &Certificate,
    template: &Template,
    fonts: &Fonts,
    values: &Values,
) -> Result<(), Error> {
    let (page_w, page_h) = template.orientation.size_mm();
    if let Some(frame) = &template.frame {
        draw_frame(surface, page_w, page_h, frame.inset_mm, frame.color);
    }
    if let Some(logo) = &template.logo {
        draw_image(surface, logo, logo.width_mm, "logo")?;
    }
    for rule in &template.rules {
        let (x, y, w) = (mm(rule.x_mm), mm(rule.y_mm), mm(rule.width_mm));
        stroke_path(surface, rule.color, rule.thickness_pt, |b| {
            b.move_to(x, y);
            b.line_to(x + w, y);
        });
    }
    for (i, block) in template.blocks.iter().enumerate() {
        let location = format!("blocks[{i}]");
        let Some(text) = fill(&block.text, values, &location, block.optional)? else {
            continue;
        };
        let face = fonts.face(block.font);
        let width = mm(block.width_mm);
        let min_size = block
            .min_size_pt
            .unwrap_or(block.size_pt)
            .min(block.size_pt);
        let fitted = fit(
            face,
            &text,
            block.size_pt,
            min_size,
            width,
            usize::from(block.max_lines),
        )
        .map_err(missing_glyph(&location))?
        .map_err(|lines_needed| Error::TextOverflow {
            location: location.clone(),
            text: excerpt(&text),
            lines_needed,
            max_lines: usize::from(block.max_lines),
        })?;
        draw_lines(
            surface,
            fonts,
            block.font,
            fitted.size,
            block.line_height,
            block.color,
            block.align,
            mm(block.x_mm),
            mm(block.y_mm),
            width,
            &fitted.lines,
            &location,
        )?;
    }
    if let Some(details) = &template.details {
        let mut baseline = mm(details.y_mm);
        let label_x = mm(details.x_mm);
        let label_w = mm(details.label_width_mm);
        let value_x = label_x + label_w + mm(details.gap_mm);
        let value_w = mm(details.value_width_mm);
        for (i, row) in details.rows.iter().enumerate() {
            let location = format!("details.rows[{i}]");
            let (Some(label), Some(value)) = (
                fill(&row.label, values, &location, true)?,
                fill(&row.value, values, &location, true)?,
            ) else {
                continue;
            };
            let label_lines = wrap(
                fonts.face(details.label_font),
                &label,
                details.size_pt,
                label_w,
            )
            .map_err(missing_glyph(&location))?;
            let value_lines = wrap(
                fonts.face(details.value_font),
                &value,
                details.size_pt,
                value_w,
            )
            .map_err(missing_glyph(&location))?;
            let max_lines = usize::from(details.max_lines_per_value);
            if value_lines.len() > max_lines || label_lines.len() > max_lines {
                return Err(Error::TextOverflow {
                    location,
                    text: excerpt(&value),
                    lines_needed: value_lines.len().max(label_lines.len()),
                    max_lines,
                });
            }
            let after_label = draw_lines(
                surface,
                fonts,
                details.label_font,
                details.size_pt,
                details.line_height,
                details.label_color,
                Align::Right,
                label_x,
                baseline,
                label_w,
                &label_lines,
                &location,
            )?;
            let after_value = draw_lines(
                surface,
                fonts,
                details.value_font,
                details.size_pt,
                details.line_height,
                details.value_color,
                Align::Left,
                value_x,
                baseline,
                value_w,
                &value_lines,
                &location,
            )?;
            baseline = after_label.max(after_value) + mm(details.row_gap_mm);
        }
    }
    if let Some(signature) = &template.signature {
        if let Some(image) = &signature.image {
            draw_image(surface, image, image.width_mm, "signature.image")?;
        }
        let x = mm(signature.x_mm);
        let y = mm(signature.y_mm);
        let w = mm(signature.width_mm);
        stroke_path(surface, Color(60, 60, 60), 0.6, |b| {
            b.move_to(x, y);
            b.line_to(x + w, y);
        });
        let mut baseline = y + signature.caption_size_pt * 1.4;
        for (i, line) in signature.caption.iter().enumerate() {
            let location = format!("signature.caption[{i}]");
            let Some(text) = fill(line, values, &location, true)? else {
                continue;
            };
            let fitted = fit(
                fonts.face(FontStyle::Sans),
                &text,
                signature.caption_size_pt,
                signature.caption_size_pt,
                w,
                2,
            )
            .map_err(missing_glyph(&location))?
            .map_err(|lines_needed| Error::TextOverflow {
                location: location.clone(),
                text: excerpt(&text),
                lines_needed,
                max_lines: 2,
            })?;
            baseline = draw_lines(
                surface,
                fonts,
                FontStyle::Sans,
                fitted.size,
                1.25,
                Color(60, 60, 60),
                Align::Center,
                x,
                baseline,
                w,
                &fitted.lines,
                &location,
            )?;
        }
    }
    if let Some(qr) = &template.qr {
        draw_qr(
            surface,
            certificate.verification_url.trim(),
            mm(qr.x_mm),
            mm(qr.y_mm),
            mm(qr.size_mm),
            qr.color,
        )?;
    }
    Ok(())
}
