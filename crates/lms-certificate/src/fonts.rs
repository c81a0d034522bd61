//! Fonts: parsed once, reused by every render.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use krilla::text::{Font, GlyphId, KrillaGlyph};
use serde::{Deserialize, Serialize};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};
use skrifa::raw::TableProvider;

use crate::Error;

const DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");
const DEJAVU_SERIF: &[u8] = include_bytes!("../fonts/DejaVuSerif.ttf");
const DEJAVU_SERIF_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSerif-Bold.ttf");

/// Which of the four faces a text uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FontStyle {
    #[default]
    Sans,
    SansBold,
    Serif,
    SerifBold,
}

/// Characters below this are looked up in a flat table (Latin, Latin-1, Latin Extended-A/B).
const FAST_RANGE: usize = 0x250;

/// One parsed face: the krilla font (for embedding) and its cmap/advances (for layout).
#[derive(Clone)]
pub(crate) struct Face {
    pub(crate) font: Font,
    fast: Arc<[Option<(u16, f32)>]>,
    rest: Arc<HashMap<char, (u16, f32)>>,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face")
            .field("mapped_chars", &(self.rest.len()))
            .finish()
    }
}

impl Face {
    fn parse(name: &'static str, data: Arc<Vec<u8>>) -> Result<Face, Error> {
        let bad = |reason: String| Error::InvalidFont { face: name, reason };
        let font_ref = skrifa::FontRef::new(&data).map_err(|e| bad(e.to_string()))?;
        let units_per_em = f32::from(
            font_ref
                .head()
                .map_err(|e| bad(e.to_string()))?
                .units_per_em(),
        );
        if units_per_em <= 0.0 {
            return Err(bad("units per em is zero".into()));
        }
        let metrics = font_ref.glyph_metrics(Size::unscaled(), LocationRef::default());
        let mut fast = vec![None; FAST_RANGE];
        let mut rest = HashMap::new();
        for (codepoint, glyph) in font_ref.charmap().mappings() {
            let Some(c) = char::from_u32(codepoint) else {
                continue;
            };
            let Ok(id) = u16::try_from(glyph.to_u32()) else {
                continue;
            };
            if id == 0 {
                continue;
            }
            let advance = metrics.advance_width(glyph).unwrap_or(0.0) / units_per_em;
            if (codepoint as usize) < FAST_RANGE {
                fast[codepoint as usize] = Some((id, advance));
            } else {
                rest.insert(c, (id, advance));
            }
        }
        if fast[usize::from(b'A')].is_none() {
            return Err(bad("font has no glyph for 'A' (not a text font?)".into()));
        }
        // Embedded without hinting and glyph names (see `sfnt`); layout used the font as given.
        let embedded = crate::sfnt::without_hinting(&data).map_or(data, Arc::new);
        let font =
            Font::new(embedded.into(), 0).ok_or_else(|| bad("krilla cannot read it".into()))?;
        Ok(Face {
            font,
            fast: fast.into(),
            rest: Arc::new(rest),
        })
    }

    /// Glyph id and advance (in em) for a character, if the font has it.
    pub(crate) fn glyph(&self, c: char) -> Option<(u16, f32)> {
        let index = c as usize;
        if index < FAST_RANGE {
            self.fast[index]
        } else {
            self.rest.get(&c).copied()
        }
    }

    /// Width of `text` at `size` points; `Err(c)` names the first character the font lacks.
    pub(crate) fn width(&self, text: &str, size: f32) -> Result<f32, char> {
        let mut em = 0.0;
        for c in text.chars() {
            em += self.glyph(c).ok_or(c)?.1;
        }
        Ok(em * size)
    }

    /// One glyph per character (no shaping: ligatures never hide letters from text extraction).
    pub(crate) fn glyphs(&self, text: &str) -> Result<Vec<KrillaGlyph>, char> {
        let mut glyphs = Vec::with_capacity(text.len());
        for (start, c) in text.char_indices() {
            let (id, advance) = self.glyph(c).ok_or(c)?;
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(u32::from(id)),
                advance,
                0.0,
                0.0,
                0.0,
                start..start + c.len_utf8(),
                None,
            ));
        }
        Ok(glyphs)
    }
}

/// The four faces certificates are set in. Parsing is done once here; clones are cheap
/// (reference-counted) and may be shared across threads.
#[derive(Clone, Debug)]
pub struct Fonts {
    sans: Face,
    sans_bold: Face,
    serif: Face,
    serif_bold: Face,
}

static BUILTIN: LazyLock<Result<Fonts, Error>> = LazyLock::new(|| {
    Fonts::from_ttf(
        DEJAVU_SANS.to_vec(),
        DEJAVU_SANS_BOLD.to_vec(),
        DEJAVU_SERIF.to_vec(),
        DEJAVU_SERIF_BOLD.to_vec(),
    )
});

impl Fonts {
    /// DejaVu Sans/Serif (regular and bold) shipped in `fonts/` (Bitstream Vera licence, see
    /// `fonts/LICENSE-DejaVu.txt`). Parsed on first use, then shared.
    pub fn builtin() -> Fonts {
        match &*BUILTIN {
            Ok(fonts) => fonts.clone(),
            // The shipped files are checked by tests; this arm is unreachable in a correct build.
            Err(e) => panic!("built-in fonts are broken: {e}"),
        }
    }

    /// Fonts from TrueType/OpenType bytes. The fonts must allow embedding (PDF/A) and should
    /// cover the characters used (missing ones are reported by `render` as
    /// [`Error::MissingGlyph`]). TrueType fonts are embedded without their hinting
    /// instructions and glyph names (outlines, metrics and names are kept): smaller files,
    /// faster to write.
    pub fn from_ttf(
        sans: Vec<u8>,
        sans_bold: Vec<u8>,
        serif: Vec<u8>,
        serif_bold: Vec<u8>,
    ) -> Result<Fonts, Error> {
        Ok(Fonts {
            sans: Face::parse("sans", Arc::new(sans))?,
            sans_bold: Face::parse("sans-bold", Arc::new(sans_bold))?,
            serif: Face::parse("serif", Arc::new(serif))?,
            serif_bold: Face::parse("serif-bold", Arc::new(serif_bold))?,
        })
    }

    pub(crate) fn face(&self, style: FontStyle) -> &Face {
        match style {
            FontStyle::Sans => &self.sans,
            FontStyle::SansBold => &self.sans_bold,
            FontStyle::Serif => &self.serif,
            FontStyle::SerifBold => &self.serif_bold,
        }
    }
}
