//! The built-in templates (German/English × portrait/landscape).

use crate::fonts::FontStyle;
use crate::model::Language;
use crate::template::{
    Align, Color, DetailRow, DetailsTable, Frame, ImagePlacement, Orientation, PngImage,
    QrPlacement, RuleLine, SignatureArea, Template, TextBlock,
};

/// A neutral emblem (open book) used as the logo of the built-in templates; replace it with
/// the department's logo in a unit's own template.
pub const GENERIC_LOGO_PNG: &[u8] = include_bytes!("../assets/sample-logo.png");

const NAVY: Color = Color(31, 58, 95);
const GOLD: Color = Color(196, 154, 60);
const GREY: Color = Color(70, 70, 70);

struct Labels {
    title: &'static str,
    metadata_title: &'static str,
    certify: &'static str,
    attended: &'static str,
    dates: &'static str,
    duration: &'static str,
    trainer: &'static str,
    issuer: &'static str,
    issued_on: &'static str,
    code: &'static str,
    check_at: &'static str,
}

fn labels(language: Language) -> Labels {
    match language {
        Language::German => Labels {
            title: "Teilnahmebescheinigung",
            metadata_title: "Teilnahmebescheinigung: {course}",
            certify: "Hiermit wird bescheinigt, dass",
            attended: "an der folgenden Fortbildung teilgenommen hat:",
            dates: "Datum:",
            duration: "Umfang:",
            trainer: "Leitung:",
            issuer: "Veranstalter:",
            issued_on: "Ausgestellt am:",
            code: "Prüfcode: {verification_code}",
            check_at: "Echtheit prüfen: {verification_url}",
        },
        Language::English => Labels {
            title: "Certificate of Attendance",
            metadata_title: "Certificate of attendance: {course}",
            certify: "This is to certify that",
            attended: "has attended the following training:",
            dates: "Date:",
            duration: "Duration:",
            trainer: "Trainer:",
            issuer: "Issued by:",
            issued_on: "Issued on:",
            code: "Verification code: {verification_code}",
            check_at: "Verify at: {verification_url}",
        },
    }
}

fn block(
    text: &str,
    x_mm: f32,
    y_mm: f32,
    width_mm: f32,
    size_pt: f32,
    font: FontStyle,
) -> TextBlock {
    TextBlock {
        text: text.to_string(),
        x_mm,
        y_mm,
        width_mm,
        size_pt,
        min_size_pt: None,
        font,
        align: Align::Center,
        max_lines: 1,
        line_height: 1.3,
        color: Color::BLACK,
        optional: false,
    }
}

/// Vertical positions (mm) that differ between portrait and landscape.
struct Grid {
    margin: f32,
    logo_y: f32,
    logo_w: f32,
    title_y: f32,
    certify_y: f32,
    name_y: f32,
    attended_y: f32,
    course_y: f32,
    course_lines: u8,
    details_x: f32,
    details_y: f32,
    value_w: f32,
    signature_y: f32,
    qr_x: f32,
    qr_y: f32,
    qr_size: f32,
}

impl Template {
    /// The built-in template for a language and orientation: frame, generic emblem, title,
    /// name, course, a details table (dates, duration, trainer, issuer, issue date), a signature
    /// line captioned with the issuing department, and the QR code with the verification code.
    pub fn builtin(language: Language, orientation: Orientation) -> Template {
        let l = labels(language);
        let (page_w, _) = orientation.size_mm();
        let g = match orientation {
            Orientation::Portrait => Grid {
                margin: 20.0,
                logo_y: 20.0,
                logo_w: 22.0,
                title_y: 80.0,
                certify_y: 101.0,
                name_y: 119.0,
                attended_y: 137.0,
                course_y: 152.0,
                course_lines: 3,
                details_x: 20.0,
                details_y: 186.0,
                value_w: 105.0,
                signature_y: 256.0,
                qr_x: 158.0,
                qr_y: 222.0,
                qr_size: 34.0,
            },
            Orientation::Landscape => Grid {
                margin: 20.0,
                logo_y: 18.0,
                logo_w: 20.0,
                title_y: 58.0,
                certify_y: 75.0,
                name_y: 91.0,
                attended_y: 104.0,
                course_y: 117.0,
                course_lines: 2,
                details_x: 45.0,
                details_y: 134.0,
                value_w: 125.0,
                signature_y: 186.0,
                qr_x: 243.0,
                qr_y: 146.0,
                qr_size: 34.0,
            },
        };
        let content_w = page_w - 2.0 * g.margin;
        let mut department = block(
            "{department}",
            g.margin + g.logo_w + 4.0,
            g.logo_y + g.logo_w * 0.6,
            content_w - g.logo_w - 4.0,
            12.0,
            FontStyle::SansBold,
        );
        department.align = Align::Left;
        department.color = NAVY;
        department.max_lines = 2;
        department.min_size_pt = Some(9.0);
        let mut title = block(
            l.title,
            g.margin,
            g.title_y,
            content_w,
            30.0,
            FontStyle::SerifBold,
        );
        title.color = NAVY;
        title.min_size_pt = Some(20.0);
        let certify = block(
            l.certify,
            g.margin,
            g.certify_y,
            content_w,
            12.0,
            FontStyle::Sans,
        );
        let mut name = block(
            "{name}",
            g.margin,
            g.name_y,
            content_w,
            26.0,
            FontStyle::SerifBold,
        );
        name.min_size_pt = Some(14.0);
        name.max_lines = 2;
        name.line_height = 1.15;
        let attended = block(
            l.attended,
            g.margin,
            g.attended_y,
            content_w,
            12.0,
            FontStyle::Sans,
        );
        let mut course = block(
            "{course}",
            g.margin + 5.0,
            g.course_y,
            content_w - 10.0,
            17.0,
            FontStyle::SansBold,
        );
        course.color = NAVY;
        course.max_lines = g.course_lines;
        course.min_size_pt = Some(11.0);
        course.line_height = 1.25;
        let mut code = block(
            l.code,
            g.qr_x - 60.0,
            g.qr_y + g.qr_size + 5.0,
            g.qr_size + 60.0,
            9.5,
            FontStyle::SansBold,
        );
        code.align = Align::Right;
        code.color = NAVY;
        let mut check_at = block(
            l.check_at,
            g.qr_x - 70.0,
            g.qr_y + g.qr_size + 10.0,
            g.qr_size + 70.0,
            7.5,
            FontStyle::Sans,
        );
        check_at.align = Align::Right;
        check_at.color = GREY;
        check_at.max_lines = 2;
        check_at.min_size_pt = Some(6.0);
        check_at.line_height = 1.2;
        let row = |label: &str, value: &str| DetailRow {
            label: label.to_string(),
            value: value.to_string(),
        };
        let hours = match language {
            Language::German => "{hours} Stunden",
            Language::English => "{hours} hours",
        };
        Template {
            name: format!(
                "built-in ({}, {})",
                language.tag(),
                match orientation {
                    Orientation::Portrait => "portrait",
                    Orientation::Landscape => "landscape",
                }
            ),
            language,
            orientation,
            title: l.metadata_title.to_string(),
            accent: NAVY,
            frame: Some(Frame {
                inset_mm: 10.0,
                color: NAVY,
            }),
            logo: Some(ImagePlacement {
                png: PngImage::new(GENERIC_LOGO_PNG.to_vec()),
                x_mm: g.margin,
                y_mm: g.logo_y,
                width_mm: g.logo_w,
            }),
            rules: vec![RuleLine {
                x_mm: page_w / 2.0 - 30.0,
                y_mm: g.title_y + 7.0,
                width_mm: 60.0,
                thickness_pt: 1.5,
                color: GOLD,
            }],
            blocks: vec![
                department, title, certify, name, attended, course, code, check_at,
            ],
            details: Some(DetailsTable {
                x_mm: g.details_x,
                y_mm: g.details_y,
                label_width_mm: 45.0,
                gap_mm: 4.0,
                value_width_mm: g.value_w,
                size_pt: 11.0,
                label_font: FontStyle::Sans,
                value_font: FontStyle::Sans,
                line_height: 1.3,
                row_gap_mm: 1.2,
                max_lines_per_value: 2,
                label_color: GREY,
                value_color: Color::BLACK,
                rows: vec![
                    row(l.dates, "{dates}"),
                    row(l.duration, hours),
                    row(l.trainer, "{trainer}"),
                    row(l.issuer, "{department}"),
                    row(l.issued_on, "{issued_on}"),
                ],
            }),
            signature: Some(SignatureArea {
                image: None,
                x_mm: g.margin,
                y_mm: g.signature_y,
                width_mm: 75.0,
                caption: vec!["{department}".to_string()],
                caption_size_pt: 9.0,
            }),
            qr: Some(QrPlacement {
                x_mm: g.qr_x,
                y_mm: g.qr_y,
                size_mm: g.qr_size,
                color: Color::BLACK,
            }),
            metadata_includes_personnel_number: false,
        }
    }
}
