//! The QR code of the verification URL, with a fast choice of mask.
//!
//! `qrcode` builds the symbol (segments, error correction, placement); choosing the mask is
//! done here. `qrcode`'s own `apply_best_mask` scores each of the eight masked candidates
//! module by module through boxed closures and was a fifth of the time of a whole
//! certificate. [`penalty`] computes the same score (the same four rules, with `qrcode`'s
//! exact arithmetic, including its quirks) on a flat array, and the first candidate with the
//! lowest score wins, as in `qrcode`. So the symbol, and with it the PDF's bytes, is the one
//! `qrcode::QrCode::with_error_correction_level` makes; a test holds the two equal.

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::types::{Color, EcLevel, QrError, Version};

use crate::Error;

/// The eight masks in the order `qrcode` tries them (ties go to the earlier one).
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The QR code (error correction level M) that certificates print for `url`: its width in
/// modules and the modules row by row, `true` for dark. The quiet zone is not included.
pub fn verification_qr(url: &str) -> Result<(usize, Vec<bool>), Error> {
    modules(url.as_bytes()).map_err(|e| Error::InvalidField {
        field: "verification_url",
        reason: format!("cannot be encoded as a QR code: {e}"),
    })
}

fn dark_modules(colors: Vec<Color>) -> Vec<bool> {
    colors.into_iter().map(|c| c == Color::Dark).collect()
}

fn modules(data: &[u8]) -> Result<(usize, Vec<bool>), QrError> {
    let ec_level = EcLevel::M;
    let bits = qrcode::bits::encode_auto(data, ec_level)?;
    let version = bits.version();
    if let Version::Micro(_) = version {
        // Not produced by `encode_auto`; if it ever is, `qrcode` chooses the mask itself.
        let code = qrcode::QrCode::with_bits(bits, ec_level)?;
        return Ok((code.width(), dark_modules(code.into_colors())));
    }
    let width = usize::try_from(version.width()).map_err(|_| QrError::InvalidVersion)?;
    let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, ec_level)?;
    let mut unmasked = Canvas::new(version, ec_level);
    unmasked.draw_all_functional_patterns();
    unmasked.draw_data(&data, &ec);
    let mut best: Option<(i64, Vec<bool>)> = None;
    for mask in MASKS {
        let mut canvas = unmasked.clone();
        canvas.apply_mask(mask);
        let dark = dark_modules(canvas.into_colors());
        let score = penalty(&dark, width);
        if best.as_ref().is_none_or(|(lowest, _)| score < *lowest) {
            best = Some((score, dark));
        }
    }
    let (_, dark) = best.ok_or(QrError::InvalidVersion)?;
    Ok((width, dark))
}

/// The mask penalty of a masked symbol (`dark` row by row, `width`×`width`), computed as
/// `qrcode` 0.14 computes it for normal (non-micro) symbols:
/// - runs of 5 + n modules of one colour in a row or column: 3 + n each;
/// - 2×2 blocks of one colour (overlapping ones counted): 3 each;
/// - `#.###.#` with four light modules (or the symbol's edge) before it or after it, in a
///   row or column: 40 each, less 360 per direction (the finder patterns themselves);
/// - balance: |dark × 200 / all − 100| (integer division).
///
/// The loops do not branch on single modules (they are close to random, so such branches are
/// mispredicted about half the time); only a finder-like pattern, which is rare, branches.
fn penalty(dark: &[bool], width: usize) -> i64 {
    let rows: Vec<u8> = dark.iter().map(|&d| u8::from(d)).collect();
    let mut columns = vec![0u8; rows.len()];
    for (y, row) in rows.chunks_exact(width).enumerate() {
        for (x, &module) in row.iter().enumerate() {
            columns[x * width + y] = module;
        }
    }
    let mut score: i64 = 0;
    // Rules 1 and 3 on every row, then on every column.
    for grid in [&rows, &columns] {
        let mut finder: i64 = 0;
        for line in grid.chunks_exact(width) {
            score += runs_penalty(line);
            finder += finder_penalty(line);
        }
        score += finder - 360;
    }
    // Rule 2.
    for (row, below) in rows
        .chunks_exact(width)
        .zip(rows.chunks_exact(width).skip(1))
    {
        for x in 0..width - 1 {
            let c = row[x];
            let same = (row[x + 1] == c) & (below[x] == c) & (below[x + 1] == c);
            score += 3 * i64::from(same);
        }
    }
    // Rule 4.
    let dark_count: usize = rows.iter().map(|&m| usize::from(m)).sum();
    let ratio = (dark_count * 200 / rows.len().max(1)) as i64;
    score + (ratio - 100).abs()
}

/// Rule 1 on one line: 3 + n for each run of 5 + n modules of one colour.
fn runs_penalty(line: &[u8]) -> i64 {
    let mut score = 0;
    let mut run = 1i64;
    for k in 1..line.len() {
        let same = i64::from(line[k] == line[k - 1]);
        // A run ends where the colour changes: it counts if it is 5 or longer.
        score += (1 - same) * i64::from(run >= 5) * (run - 2);
        run = same * run + 1;
    }
    score + i64::from(run >= 5) * (run - 2)
}

/// Rule 3 on one line: 40 for each `#.###.#` with four light modules (or the edge) before or
/// after it. The last seven modules are kept as the low bits of `window`.
fn finder_penalty(line: &[u8]) -> i64 {
    const PATTERN: u32 = 0b101_1101;
    let mut score = 0;
    let mut window = 0u32;
    for (k, &module) in line.iter().enumerate() {
        window = ((window << 1) | u32::from(module)) & 0x7f;
        if k < 6 || window != PATTERN {
            continue;
        }
        let j = k - 6;
        let light_before = !line[j.saturating_sub(4)..j].contains(&1);
        let light_after = !line[j + 7..(j + 11).min(line.len())].contains(&1);
        if light_before || light_after {
            score += 40;
        }
    }
    score
}
