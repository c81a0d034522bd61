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

/// The outlines of the dark areas of a symbol (`dark` row by row, `width`×`width`): closed
/// polygons of module-grid corners `(x, y)`, only the corners listed. Every edge between a
/// dark module and a light one (or the symbol's edge) lies on exactly one polygon, directed
/// with the dark side on its right (y pointing down), so the winding number is 1 on dark
/// modules and 0 elsewhere: filled with either rule the polygons cover exactly the dark
/// modules. About 40 % fewer path points than one rectangle per run, so less content stream
/// to write and compress per certificate, and no seams between neighbouring rectangles.
pub(crate) fn dark_outlines(dark: &[bool], width: usize) -> Vec<Vec<(u16, u16)>> {
    const NONE: u32 = u32::MAX;
    let is_dark = |x: usize, y: usize| x < width && y < width && dark[y * width + x];
    let side = width + 1;
    // Outgoing edges per grid point: at most two (where two dark modules touch diagonally).
    let mut out = vec![[NONE; 2]; side * side];
    let mut add = |from: (usize, usize), to: (usize, usize)| {
        let slots = &mut out[from.1 * side + from.0];
        let target = (to.1 * side + to.0) as u32;
        if slots[0] == NONE {
            slots[0] = target;
        } else {
            slots[1] = target;
        }
    };
    for y in 0..width {
        for x in 0..width {
            if !dark[y * width + x] {
                continue;
            }
            // `wrapping_sub` makes the neighbour outside the symbol (light) at x or y = 0.
            if !is_dark(x, y.wrapping_sub(1)) {
                add((x, y), (x + 1, y));
            }
            if !is_dark(x + 1, y) {
                add((x + 1, y), (x + 1, y + 1));
            }
            if !is_dark(x, y + 1) {
                add((x + 1, y + 1), (x, y + 1));
            }
            if !is_dark(x.wrapping_sub(1), y) {
                add((x, y + 1), (x, y));
            }
        }
    }
    // Every grid point has as many edges in as out, so a walk along unused edges can only
    // end where it started.
    let mut outlines = Vec::new();
    let mut points: Vec<(i32, i32)> = Vec::new();
    for start in 0..out.len() {
        while out[start][0] != NONE {
            points.clear();
            let mut at = start;
            loop {
                let slots = &mut out[at];
                let slot = if slots[1] != NONE { 1 } else { 0 };
                let next = std::mem::replace(&mut slots[slot], NONE);
                points.push(((at % side) as i32, (at / side) as i32));
                at = next as usize;
                if at == start {
                    break;
                }
            }
            // Keep the corners: points where the direction changes.
            let n = points.len();
            let mut corners = Vec::with_capacity(n / 2);
            for i in 0..n {
                let (before, here, after) = (
                    points[if i == 0 { n - 1 } else { i - 1 }],
                    points[i],
                    points[if i + 1 == n { 0 } else { i + 1 }],
                );
                let turn =
                    (here.0 - before.0, here.1 - before.1) != (after.0 - here.0, after.1 - here.1);
                if turn {
                    corners.push((here.0 as u16, here.1 as u16));
                }
            }
            outlines.push(corners);
        }
    }
    outlines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The winding number of the polygons around the point (x, y) (y pointing down).
    fn winding(outlines: &[Vec<(u16, u16)>], x: f64, y: f64) -> i32 {
        let mut winding = 0;
        for outline in outlines {
            for (i, &(ax, ay)) in outline.iter().enumerate() {
                let (bx, by) = outline[(i + 1) % outline.len()];
                let (ax, ay, bx, by) = (f64::from(ax), f64::from(ay), f64::from(bx), f64::from(by));
                // Vertical edges crossing the horizontal ray to the right of the point.
                if ax == bx && ax > x && (ay.min(by)..ay.max(by)).contains(&y) {
                    winding += if by > ay { 1 } else { -1 };
                }
            }
        }
        winding
    }

    #[test]
    fn outlines_cover_exactly_the_dark_modules() {
        let mut checked = 0;
        for (i, url) in [
            "https://lms.example.org/verify/ABCD-EFGH-JKMN-PQRS",
            "A",
            "x".repeat(250).as_str(),
        ]
        .iter()
        .enumerate()
        {
            let (width, dark) = verification_qr(url).expect("encodable");
            let outlines = dark_outlines(&dark, width);
            for outline in &outlines {
                assert!(
                    outline.len() >= 4 && outline.len() % 2 == 0,
                    "{i}: {outline:?}"
                );
                for (j, &(ax, ay)) in outline.iter().enumerate() {
                    let (bx, by) = outline[(j + 1) % outline.len()];
                    assert!(
                        (ax == bx) != (ay == by),
                        "{i}: edges are horizontal or vertical"
                    );
                }
            }
            for y in 0..width {
                for x in 0..width {
                    let expected = i32::from(dark[y * width + x]);
                    let found = winding(&outlines, x as f64 + 0.5, y as f64 + 0.5);
                    assert_eq!(found, expected, "{i}: module ({x}, {y})");
                    checked += 1;
                }
            }
            let points: usize = outlines.iter().map(Vec::len).sum();
            let modules = dark.iter().filter(|d| **d).count();
            assert!(
                points < 2 * modules,
                "{i}: {points} points for {modules} dark modules"
            );
        }
        assert!(checked > 3000);
    }
}
