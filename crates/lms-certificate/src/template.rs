//! Templates: the page layout of a certificate per org unit, loadable from JSON.
//!
//! Positions are in millimetres from the top-left corner of the page; font sizes in points.
//! Text may contain placeholders in braces (see [`PLACEHOLDERS`]); `{{` and `}}` are literal
//! braces. Images are PNG bytes, written in JSON as base64 strings.

use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;
use crate::fonts::FontStyle;
use crate::model::Language;
use crate::placeholder::Segments;

/// Largest accepted template JSON (images included), in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 8 * 1024 * 1024;
/// Largest accepted PNG image, in bytes.
pub const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;
/// Largest accepted PNG image, in pixels (width × height).
pub const MAX_IMAGE_PIXELS: u64 = 16_000_000;

/// Every placeholder a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "name",
    "course",
    "dates",
    "hours",
    "trainer",
    "department",
    "verification_code",
    "verification_url",
    "issued_on",
    "personnel_number",
];

/// Placeholders whose value may be absent (the block or row using them is then left out if
/// it is marked `optional`, otherwise rendering fails with [`Error::MissingValue`]).
pub const OPTIONAL_PLACEHOLDERS: &[&str] = &["trainer", "personnel_number"];

/// Page orientation; the page is always A4.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    #[default]
    Portrait,
    Landscape,
}

impl Orientation {
    /// Page size in millimetres (width, height).
    pub fn size_mm(self) -> (f32, f32) {
        match self {
            Orientation::Portrait => (210.0, 297.0),
            Orientation::Landscape => (297.0, 210.0),
        }
    }
}

/// Horizontal alignment of a text block within its width.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// An sRGB colour, written `"#rrggbb"` in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    pub const BLACK: Color = Color(0, 0, 0);
    /// Parses `#rrggbb`.
    pub fn parse(text: &str) -> Option<Color> {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.is_ascii() {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Color(byte(0)?, byte(2)?, byte(4)?))
    }
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2))
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Color::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("colour {text:?} is not #rrggbb")))
    }
}

/// A PNG image (base64 in JSON). Its decoded form is cached after the first render, so a
/// template reused for a batch decodes its logo and signature once.
#[derive(Clone)]
pub struct PngImage {
    bytes: Arc<[u8]>,
    decoded: Arc<OnceLock<Result<krilla::image::Image, String>>>,
}

impl PngImage {
    pub fn new(bytes: Vec<u8>) -> PngImage {
        PngImage {
            bytes: bytes.into(),
            decoded: Arc::default(),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Width and height in pixels, read from the PNG header.
    pub fn pixel_size(&self) -> Result<(u32, u32), String> {
        let b = &self.bytes;
        if b.len() < 24 || &b[..8] != b"\x89PNG\r\n\x1a\n" || &b[12..16] != b"IHDR" {
            return Err("not a PNG file".into());
        }
        let width = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
        let height = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
        if width == 0 || height == 0 {
            return Err("PNG has zero width or height".into());
        }
        if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
            return Err(format!(
                "PNG is {width}×{height} pixels, at most {MAX_IMAGE_PIXELS} pixels allowed"
            ));
        }
        Ok((width, height))
    }

    pub(crate) fn image(&self) -> Result<krilla::image::Image, String> {
        self.decoded
            .get_or_init(|| {
                if self.bytes.len() > MAX_IMAGE_BYTES {
                    return Err(format!(
                        "PNG has {} bytes, at most {MAX_IMAGE_BYTES} allowed",
                        self.bytes.len()
                    ));
                }
                self.pixel_size()?;
                krilla::image::Image::from_png(self.bytes.to_vec().into(), false)
            })
            .clone()
    }
}

impl std::fmt::Debug for PngImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PngImage({} bytes)", self.bytes.len())
    }
}

impl PartialEq for PngImage {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Serialize for PngImage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.bytes))
    }
}

impl<'de> Deserialize<'de> for PngImage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map(PngImage::new)
            .map_err(|e| serde::de::Error::custom(format!("image is not valid base64: {e}")))
    }
}

fn default_size() -> f32 {
    11.0
}
fn default_line_height() -> f32 {
    1.3
}
fn default_max_lines() -> u8 {
    1
}
fn default_color() -> Color {
    Color::BLACK
}

/// A paragraph of text with placeholders, wrapped at word boundaries within `width_mm`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBlock {
    pub text: String,
    /// Left edge of the block.
    pub x_mm: f32,
    /// Baseline of the first line.
    pub y_mm: f32,
    pub width_mm: f32,
    #[serde(default = "default_size")]
    pub size_pt: f32,
    /// If set, text too long for `max_lines` is set smaller, down to this size, before it
    /// counts as overflow.
    #[serde(default)]
    pub min_size_pt: Option<f32>,
    #[serde(default)]
    pub font: FontStyle,
    #[serde(default)]
    pub align: Align,
    #[serde(default = "default_max_lines")]
    pub max_lines: u8,
    /// Line distance as a multiple of the font size.
    #[serde(default = "default_line_height")]
    pub line_height: f32,
    #[serde(default = "default_color")]
    pub color: Color,
    /// Leave the block out when an optional placeholder in it has no value.
    #[serde(default)]
    pub optional: bool,
}

/// One row of the details table: a label and a value (both may hold placeholders).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailRow {
    pub label: String,
    pub value: String,
}

/// A two-column table (labels right-aligned, values left-aligned and wrapped). Rows whose
/// optional placeholders have no value are left out and the rows below move up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailsTable {
    pub x_mm: f32,
    /// Baseline of the first row.
    pub y_mm: f32,
    pub label_width_mm: f32,
    pub gap_mm: f32,
    pub value_width_mm: f32,
    #[serde(default = "default_size")]
    pub size_pt: f32,
    #[serde(default)]
    pub label_font: FontStyle,
    #[serde(default)]
    pub value_font: FontStyle,
    #[serde(default = "default_line_height")]
    pub line_height: f32,
    /// Extra space between rows.
    #[serde(default)]
    pub row_gap_mm: f32,
    #[serde(default = "default_max_lines")]
    pub max_lines_per_value: u8,
    #[serde(default = "default_color")]
    pub label_color: Color,
    #[serde(default = "default_color")]
    pub value_color: Color,
    pub rows: Vec<DetailRow>,
}

/// An image placed at `x_mm`/`y_mm` (top-left) with `width_mm`; the height follows from the
/// image's aspect ratio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePlacement {
    pub png: PngImage,
    pub x_mm: f32,
    pub y_mm: f32,
    pub width_mm: f32,
}

/// The signature area: an optional scanned signature above a line with a caption below.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureArea {
    #[serde(default)]
    pub image: Option<ImagePlacement>,
    /// Left end of the signature line and its vertical position.
    pub x_mm: f32,
    pub y_mm: f32,
    pub width_mm: f32,
    /// Lines under the signature line (e.g. the signatory's name and role), may hold placeholders.
    pub caption: Vec<String>,
    #[serde(default = "default_caption_size")]
    pub caption_size_pt: f32,
}

fn default_caption_size() -> f32 {
    9.0
}

/// Where the QR code with the verification URL goes (top-left corner and edge length,
/// quiet zone included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrPlacement {
    pub x_mm: f32,
    pub y_mm: f32,
    pub size_mm: f32,
    #[serde(default = "default_color")]
    pub color: Color,
}

/// A horizontal line (decoration, e.g. under the title).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleLine {
    pub x_mm: f32,
    pub y_mm: f32,
    pub width_mm: f32,
    #[serde(default = "default_thickness")]
    pub thickness_pt: f32,
    #[serde(default = "default_color")]
    pub color: Color,
}

fn default_thickness() -> f32 {
    1.0
}

/// A decorative frame around the page (two lines, the inner one thinner).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frame {
    pub inset_mm: f32,
    pub color: Color,
}

/// The layout of a certificate for one org unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// A name for humans and logs ("Amt 10 – Fortbildung, Hochformat").
    pub name: String,
    pub language: Language,
    #[serde(default)]
    pub orientation: Orientation,
    /// Document title in the PDF metadata (placeholders allowed, e.g. `Teilnahmebescheinigung: {course}`).
    pub title: String,
    /// Accent colour (frame, table header of the training history).
    #[serde(default = "default_color")]
    pub accent: Color,
    #[serde(default)]
    pub frame: Option<Frame>,
    #[serde(default)]
    pub logo: Option<ImagePlacement>,
    /// Decorative horizontal lines.
    #[serde(default)]
    pub rules: Vec<RuleLine>,
    #[serde(default)]
    pub blocks: Vec<TextBlock>,
    #[serde(default)]
    pub details: Option<DetailsTable>,
    #[serde(default)]
    pub signature: Option<SignatureArea>,
    #[serde(default)]
    pub qr: Option<QrPlacement>,
    /// Write the personnel number into the XMP metadata (keywords). Off by default: the
    /// metadata of a file in the personnel file should carry no personal data it does not need.
    #[serde(default)]
    pub metadata_includes_personnel_number: bool,
}

impl Template {
    /// Parses and checks a template from JSON. Oversized input, syntax errors, unknown fields,
    /// unknown placeholders and positions off the page are reported as errors.
    pub fn from_json(json: &str) -> Result<Template, Error> {
        if json.len() > MAX_TEMPLATE_BYTES {
            return Err(Error::TemplateJson(format!(
                "{} bytes, at most {MAX_TEMPLATE_BYTES} allowed",
                json.len()
            )));
        }
        let template: Template =
            serde_json::from_str(json).map_err(|e| Error::TemplateJson(e.to_string()))?;
        template.validate()?;
        Ok(template)
    }

    /// The template as pretty JSON (images as base64).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks placeholders, numbers and positions; `render` calls this too.
    pub fn validate(&self) -> Result<(), Error> {
        let (page_w, page_h) = self.orientation.size_mm();
        let bad =
            |location: String, reason: String| Err(Error::InvalidTemplate { location, reason });
        let check_point = |location: String, x: f32, y: f32| -> Result<(), Error> {
            if !x.is_finite() || !y.is_finite() || x < 0.0 || y < 0.0 || x > page_w || y > page_h {
                return bad(location, format!("position ({x}, {y}) mm is off the page"));
            }
            Ok(())
        };
        let check_len = |location: String, value: f32, max: f32| -> Result<(), Error> {
            if !value.is_finite() || value <= 0.0 || value > max {
                return bad(location, format!("{value} must be > 0 and ≤ {max}"));
            }
            Ok(())
        };
        let check_font = |location: String, size: f32| check_len(location, size, 200.0);
        let title = Segments::parse(&self.title).map_err(|e| e.at("title"))?;
        if !self.metadata_includes_personnel_number
            && title.0.contains(&crate::placeholder::Segment::Placeholder(
                "personnel_number",
            ))
        {
            return bad(
                "title".into(),
                "uses {personnel_number}, but metadata_includes_personnel_number is false".into(),
            );
        }
        for (i, block) in self.blocks.iter().enumerate() {
            let at = format!("blocks[{i}]");
            Segments::parse(&block.text).map_err(|e| e.at(&format!("{at}.text")))?;
            check_point(at.clone(), block.x_mm, block.y_mm)?;
            check_len(format!("{at}.width_mm"), block.width_mm, page_w)?;
            if block.x_mm + block.width_mm > page_w + 0.01 {
                return bad(at, "block extends past the right edge of the page".into());
            }
            check_font(format!("{at}.size_pt"), block.size_pt)?;
            if let Some(min) = block.min_size_pt {
                check_font(format!("{at}.min_size_pt"), min)?;
            }
            check_len(format!("{at}.line_height"), block.line_height, 5.0)?;
            if block.max_lines == 0 {
                return bad(format!("{at}.max_lines"), "must be at least 1".into());
            }
        }
        if let Some(details) = &self.details {
            check_point("details".into(), details.x_mm, details.y_mm)?;
            check_len(
                "details.label_width_mm".into(),
                details.label_width_mm,
                page_w,
            )?;
            check_len(
                "details.value_width_mm".into(),
                details.value_width_mm,
                page_w,
            )?;
            if !details.gap_mm.is_finite() || details.gap_mm < 0.0 {
                return bad("details.gap_mm".into(), "must be ≥ 0".into());
            }
            if !details.row_gap_mm.is_finite() || details.row_gap_mm < 0.0 {
                return bad("details.row_gap_mm".into(), "must be ≥ 0".into());
            }
            if details.x_mm + details.label_width_mm + details.gap_mm + details.value_width_mm
                > page_w + 0.01
            {
                return bad(
                    "details".into(),
                    "table extends past the right edge of the page".into(),
                );
            }
            check_font("details.size_pt".into(), details.size_pt)?;
            check_len("details.line_height".into(), details.line_height, 5.0)?;
            if details.max_lines_per_value == 0 {
                return bad(
                    "details.max_lines_per_value".into(),
                    "must be at least 1".into(),
                );
            }
            for (i, row) in details.rows.iter().enumerate() {
                Segments::parse(&row.label)
                    .map_err(|e| e.at(&format!("details.rows[{i}].label")))?;
                Segments::parse(&row.value)
                    .map_err(|e| e.at(&format!("details.rows[{i}].value")))?;
            }
        }
        let check_image = |at: &str, image: &ImagePlacement| -> Result<(), Error> {
            check_point(at.into(), image.x_mm, image.y_mm)?;
            check_len(format!("{at}.width_mm"), image.width_mm, page_w)?;
            image
                .png
                .pixel_size()
                .map_err(|reason| Error::InvalidImage {
                    location: at.into(),
                    reason,
                })?;
            Ok(())
        };
        if let Some(logo) = &self.logo {
            check_image("logo", logo)?;
        }
        if let Some(signature) = &self.signature {
            if let Some(image) = &signature.image {
                check_image("signature.image", image)?;
            }
            check_point("signature".into(), signature.x_mm, signature.y_mm)?;
            check_len("signature.width_mm".into(), signature.width_mm, page_w)?;
            check_font(
                "signature.caption_size_pt".into(),
                signature.caption_size_pt,
            )?;
            for (i, line) in signature.caption.iter().enumerate() {
                Segments::parse(line).map_err(|e| e.at(&format!("signature.caption[{i}]")))?;
            }
        }
        if let Some(qr) = &self.qr {
            check_point("qr".into(), qr.x_mm, qr.y_mm)?;
            check_len("qr.size_mm".into(), qr.size_mm, page_w.min(page_h))?;
            if qr.x_mm + qr.size_mm > page_w + 0.01 || qr.y_mm + qr.size_mm > page_h + 0.01 {
                return bad("qr".into(), "QR code extends past the page".into());
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            check_point(format!("rules[{i}]"), rule.x_mm, rule.y_mm)?;
            check_len(format!("rules[{i}].width_mm"), rule.width_mm, page_w)?;
            check_len(format!("rules[{i}].thickness_pt"), rule.thickness_pt, 20.0)?;
        }
        if let Some(frame) = &self.frame {
            check_len(
                "frame.inset_mm".into(),
                frame.inset_mm,
                page_w.min(page_h) / 3.0,
            )?;
        }
        Ok(())
    }
}
