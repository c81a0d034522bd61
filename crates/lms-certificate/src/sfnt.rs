//! The font program that is embedded: the TrueType font without hinting and glyph names.
//!
//! Every certificate embeds a subset of each face it uses, deflated, and that compression was
//! the largest cost of a render. In DejaVu more than half of a subset's outline bytes are
//! TrueType hinting (bytecode in every glyph, plus the `fpgm`, `prep` and `cvt ` tables), and
//! subsetting the `post` table means reading all ~6,000 glyph names every time. Neither is
//! needed in a PDF: hinting only grid-fits outlines for low-resolution screens (printing and
//! zoomed viewing do not use it; many viewers ignore it), and text extraction uses the
//! ToUnicode map, not glyph names. So the faces are embedded as:
//!
//! - glyphs with their outlines unchanged and their instructions removed (simple glyphs:
//!   instruction length 0; composite glyphs: the "we have instructions" flag cleared);
//! - `fpgm`, `prep`, `cvt `, `hdmx`, `LTSH` and `VDMX` (hinting programs and the device
//!   metrics derived from them) left out; `maxp`'s hinting limits set to none;
//! - `post` as version 3 (the same metrics, no glyph names);
//! - every other table (names with the copyright and licence, metrics, cmap, …) as it was.
//!
//! Layout (advances, cmap) is read from the font as given, which this does not change.

/// Table tags.
const GLYF: [u8; 4] = *b"glyf";
const LOCA: [u8; 4] = *b"loca";
const HEAD: [u8; 4] = *b"head";
const MAXP: [u8; 4] = *b"maxp";
const POST: [u8; 4] = *b"post";
/// Tables that only serve hinting.
const HINTING_TABLES: [[u8; 4]; 6] = [*b"fpgm", *b"prep", *b"cvt ", *b"hdmx", *b"LTSH", *b"VDMX"];

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// The sum of the big-endian 32-bit words of `data` (zero-padded), as sfnt checksums are.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// `font` (a TrueType font, not a collection) without hinting and glyph names, as described
/// in the module documentation. `None` when it is not a plain TrueType font with `glyf`
/// outlines or cannot be read as one: then it is embedded as given.
pub(crate) fn without_hinting(font: &[u8]) -> Option<Vec<u8>> {
    let version = u32_at(font, 0)?;
    if version != 0x0001_0000 && version != u32::from_be_bytes(*b"true") {
        return None;
    }
    let count = usize::from(u16_at(font, 4)?);
    let mut tables: Vec<([u8; 4], &[u8])> = Vec::with_capacity(count);
    for i in 0..count {
        let record = 12 + 16 * i;
        let tag: [u8; 4] = font.get(record..record + 4)?.try_into().ok()?;
        let offset = usize::try_from(u32_at(font, record + 8)?).ok()?;
        let length = usize::try_from(u32_at(font, record + 12)?).ok()?;
        tables.push((tag, font.get(offset..offset.checked_add(length)?)?));
    }
    let table = |tag: [u8; 4]| {
        tables
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, data)| *data)
    };
    let (glyf, loca, head, maxp) = (table(GLYF)?, table(LOCA)?, table(HEAD)?, table(MAXP)?);
    if head.len() < 54 || maxp.len() < 32 || u32_at(maxp, 0)? != 0x0001_0000 {
        return None;
    }
    let glyphs = usize::from(u16_at(maxp, 4)?);
    let long_offsets = u16_at(head, 50)? == 1;
    let offset = |i: usize| -> Option<usize> {
        if long_offsets {
            usize::try_from(u32_at(loca, 4 * i)?).ok()
        } else {
            Some(2 * usize::from(u16_at(loca, 2 * i)?))
        }
    };

    let mut new_glyf = Vec::with_capacity(glyf.len());
    let mut new_loca = Vec::with_capacity(4 * (glyphs + 1));
    for i in 0..glyphs {
        new_loca.extend_from_slice(&u32::try_from(new_glyf.len()).ok()?.to_be_bytes());
        let (start, end) = (offset(i)?, offset(i + 1)?);
        if end <= start {
            continue; // no outline
        }
        strip_glyph(glyf.get(start..end)?, &mut new_glyf)?;
        new_glyf.resize(new_glyf.len().next_multiple_of(4), 0);
    }
    new_loca.extend_from_slice(&u32::try_from(new_glyf.len()).ok()?.to_be_bytes());

    let mut new_head = head.to_vec();
    new_head[8..12].fill(0); // checkSumAdjustment, set below
    new_head[50..52].copy_from_slice(&1u16.to_be_bytes()); // long loca offsets
    let mut new_maxp = maxp.to_vec();
    // maxZones 1 (no twilight zone); maxTwilightPoints, maxStorage, maxFunctionDefs,
    // maxInstructionDefs, maxStackElements and maxSizeOfInstructions 0.
    new_maxp[14..16].copy_from_slice(&1u16.to_be_bytes());
    new_maxp[16..28].fill(0);

    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = Vec::with_capacity(tables.len());
    for (tag, data) in &tables {
        if HINTING_TABLES.contains(tag) {
            continue;
        }
        let data = match *tag {
            GLYF => std::mem::take(&mut new_glyf),
            LOCA => std::mem::take(&mut new_loca),
            HEAD => std::mem::take(&mut new_head),
            MAXP => std::mem::take(&mut new_maxp),
            POST if data.len() >= 32 => {
                let mut post = data[..32].to_vec();
                post[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
                post
            }
            _ => data.to_vec(),
        };
        out_tables.push((*tag, data));
    }
    Some(assemble(version, out_tables))
}

/// Appends `glyph` (one entry of `glyf`, non-empty) without its instructions.
fn strip_glyph(glyph: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let contours = i16::from_be_bytes(glyph.get(0..2)?.try_into().ok()?);
    if let Ok(contours) = usize::try_from(contours) {
        // Simple glyph: header, end points, instruction length and instructions, then the
        // flags and coordinates.
        let length_at = 10 + 2 * contours;
        let instructions = usize::from(u16_at(glyph, length_at)?);
        let rest = glyph.get(length_at + 2 + instructions..)?;
        out.extend_from_slice(&glyph[..length_at]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(rest);
        return Some(());
    }
    // Composite glyph: the components, then (if the last one says so) instructions.
    const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
    const WE_HAVE_A_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
    const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;
    const WE_HAVE_INSTRUCTIONS: u16 = 0x0100;
    let start = out.len();
    let mut at = 10;
    let mut flag_positions = Vec::new();
    loop {
        let flags = u16_at(glyph, at)?;
        flag_positions.push(at);
        at += 4; // flags, glyph index
        at += if flags & ARG_1_AND_2_ARE_WORDS != 0 {
            4
        } else {
            2
        };
        if flags & WE_HAVE_A_SCALE != 0 {
            at += 2;
        } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
            at += 4;
        } else if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
            at += 8;
        }
        if flags & MORE_COMPONENTS == 0 {
            break;
        }
    }
    out.extend_from_slice(glyph.get(..at)?);
    for position in flag_positions {
        let flags = u16_at(glyph, position)? & !WE_HAVE_INSTRUCTIONS;
        out[start + position..start + position + 2].copy_from_slice(&flags.to_be_bytes());
    }
    Some(())
}

/// Writes an sfnt file: directory (tables sorted by tag), 4-byte aligned tables, table
/// checksums and `head.checkSumAdjustment`.
fn assemble(version: u32, mut tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    tables.sort_by_key(|a| a.0);
    let count = tables.len();
    let power = if count == 0 { 0 } else { count.ilog2() };
    let search_range = (1usize << power) * 16;
    let header_len = 12 + 16 * count;
    let mut out = Vec::with_capacity(
        header_len
            + tables
                .iter()
                .map(|(_, d)| d.len().next_multiple_of(4))
                .sum::<usize>(),
    );
    out.extend_from_slice(&version.to_be_bytes());
    // The counts are bounded by the input's u16 table count.
    for value in [
        count,
        search_range,
        power as usize,
        count * 16 - search_range,
    ] {
        out.extend_from_slice(&(value as u16).to_be_bytes());
    }
    let mut offset = header_len;
    for (tag, data) in &tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        offset += data.len().next_multiple_of(4);
    }
    let mut head_at = None;
    for (tag, data) in &tables {
        if *tag == HEAD {
            head_at = Some(out.len());
        }
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use skrifa::MetadataProvider;
    use skrifa::instance::{LocationRef, Size};
    use skrifa::outline::{DrawSettings, OutlinePen};
    use skrifa::raw::TableProvider;

    #[derive(Default, PartialEq, Debug)]
    struct Recorder(Vec<(char, [f32; 6])>);

    impl OutlinePen for Recorder {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.push(('M', [x, y, 0.0, 0.0, 0.0, 0.0]));
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.push(('L', [x, y, 0.0, 0.0, 0.0, 0.0]));
        }
        fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
            self.0.push(('Q', [cx0, cy0, x, y, 0.0, 0.0]));
        }
        fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
            self.0.push(('C', [cx0, cy0, cx1, cy1, x, y]));
        }
        fn close(&mut self) {
            self.0.push(('Z', [0.0; 6]));
        }
    }

    fn outline(font: &skrifa::FontRef, glyph: u32) -> Recorder {
        let mut pen = Recorder::default();
        if let Some(outline) = font.outline_glyphs().get(skrifa::GlyphId::new(glyph)) {
            outline
                .draw(
                    DrawSettings::unhinted(Size::unscaled(), LocationRef::default()),
                    &mut pen,
                )
                .expect("draws");
        }
        pen
    }

    const FONTS: [&[u8]; 4] = [
        include_bytes!("../fonts/DejaVuSans.ttf"),
        include_bytes!("../fonts/DejaVuSans-Bold.ttf"),
        include_bytes!("../fonts/DejaVuSerif.ttf"),
        include_bytes!("../fonts/DejaVuSerif-Bold.ttf"),
    ];

    #[test]
    fn outlines_metrics_and_names_stay_hinting_goes() {
        for original in FONTS {
            let stripped = without_hinting(original).expect("a TrueType font");
            assert!(stripped.len() < original.len() * 95 / 100);
            let (a, b) = (
                skrifa::FontRef::new(original).expect("original"),
                skrifa::FontRef::new(&stripped).expect("stripped"),
            );
            for tag in HINTING_TABLES.iter().take(3) {
                let tag = skrifa::Tag::new(tag);
                assert!(a.table_data(tag).is_some(), "{tag}");
                assert!(b.table_data(tag).is_none(), "{tag}");
            }
            assert_eq!(b.maxp().expect("maxp").max_size_of_instructions(), Some(0));
            assert_eq!(
                b.post().expect("post").version(),
                skrifa::raw::types::Version16Dot16::new(3, 0)
            );
            assert_eq!(
                a.name().expect("name").offset_data().as_bytes(),
                b.name().expect("name").offset_data().as_bytes()
            );
            let glyphs = u32::from(a.maxp().expect("maxp").num_glyphs());
            assert_eq!(glyphs, u32::from(b.maxp().expect("maxp").num_glyphs()));
            let mut instructed = 0;
            for glyph in 0..glyphs {
                let id = skrifa::GlyphId::new(glyph);
                assert_eq!(outline(&a, glyph), outline(&b, glyph), "glyph {glyph}");
                let (ga, gb) = (
                    a.loca(None)
                        .expect("loca")
                        .get_glyf(id, &a.glyf().expect("glyf"))
                        .expect("glyph"),
                    b.loca(None)
                        .expect("loca")
                        .get_glyf(id, &b.glyf().expect("glyf"))
                        .expect("glyph"),
                );
                if let Some(skrifa::raw::tables::glyf::Glyph::Simple(simple)) = &ga {
                    instructed += usize::from(!simple.instructions().is_empty());
                }
                if let Some(skrifa::raw::tables::glyf::Glyph::Simple(simple)) = &gb {
                    assert!(simple.instructions().is_empty(), "glyph {glyph}");
                }
                if let Some(skrifa::raw::tables::glyf::Glyph::Composite(composite)) = &gb {
                    assert!(
                        composite.instructions().is_none_or(|i| i.is_empty()),
                        "glyph {glyph}"
                    );
                }
            }
            assert!(
                instructed > 100,
                "the original fonts are hinted: {instructed} of {glyphs}"
            );
            let metrics = |f: &skrifa::FontRef| {
                let m = f.glyph_metrics(Size::unscaled(), LocationRef::default());
                (0..glyphs)
                    .map(|g| m.advance_width(skrifa::GlyphId::new(g)))
                    .collect::<Vec<_>>()
            };
            assert_eq!(metrics(&a), metrics(&b));
            let cmap = |f: &skrifa::FontRef| f.charmap().mappings().collect::<Vec<_>>();
            assert_eq!(cmap(&a), cmap(&b));
            // Whole-file checksum as the sfnt format defines it.
            assert_eq!(checksum(&stripped), 0xB1B0_AFBA);
        }
    }

    #[test]
    fn other_data_is_left_as_it_is() {
        assert_eq!(without_hinting(b""), None);
        assert_eq!(without_hinting(b"OTTO\0\0\0\0\0\0\0\0"), None);
        assert_eq!(without_hinting(&FONTS[0][..4000]), None);
    }
}
