//! Line breaking and fitting of text into boxes (no shaping: one glyph per character).

use crate::fonts::Face;

/// Breaks `text` into lines no wider than `width` points at `size`. Explicit `\n` breaks
/// a line; words longer than a line are broken after a hyphen if possible, else anywhere.
/// `Err(c)` names a character the font has no glyph for.
pub(crate) fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Result<Vec<String>, char> {
    let space = face.width(" ", size)?;
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0f32;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let word_width = face.width(word, size)?;
            let extra = if line.is_empty() {
                word_width
            } else {
                space + word_width
            };
            if line_width + extra <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_width += extra;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            if word_width <= width {
                line.push_str(word);
                line_width = word_width;
                continue;
            }
            // The word alone is too wide: split it.
            let mut rest = word;
            while !rest.is_empty() {
                let (piece, piece_width) = longest_prefix(face, rest, size, width)?;
                if piece.len() == rest.len() {
                    line.push_str(piece);
                    line_width = piece_width;
                    break;
                }
                lines.push(piece.to_string());
                rest = &rest[piece.len()..];
            }
        }
        lines.push(line);
    }
    Ok(lines)
}

/// The longest prefix of `word` that fits, preferring to end after a hyphen; at least one
/// character so that progress is always made.
fn longest_prefix<'w>(
    face: &Face,
    word: &'w str,
    size: f32,
    width: f32,
) -> Result<(&'w str, f32), char> {
    let mut used = 0.0;
    let mut end = 0;
    let mut after_hyphen: Option<(usize, f32)> = None;
    for (i, c) in word.char_indices() {
        let w = face.glyph(c).ok_or(c)?.1 * size;
        if used + w > width && end > 0 {
            break;
        }
        used += w;
        end = i + c.len_utf8();
        if c == '-' && end < word.len() {
            after_hyphen = Some((end, used));
        }
    }
    if end < word.len()
        && let Some((hyphen_end, hyphen_width)) = after_hyphen
    {
        return Ok((&word[..hyphen_end], hyphen_width));
    }
    Ok((&word[..end], used))
}

/// The outcome of fitting text into a box.
#[derive(Debug)]
pub(crate) struct Fitted {
    pub(crate) lines: Vec<String>,
    pub(crate) size: f32,
}

/// Fits `text` into at most `max_lines` lines of `width` points, shrinking from `size` in
/// half-point steps down to `min_size`. `Ok(Err(lines))` reports the line count needed at the
/// smallest size when it does not fit.
pub(crate) fn fit(
    face: &Face,
    text: &str,
    size: f32,
    min_size: f32,
    width: f32,
    max_lines: usize,
) -> Result<Result<Fitted, usize>, char> {
    let mut current = size;
    loop {
        let lines = wrap(face, text, current, width)?;
        if lines.len() <= max_lines {
            return Ok(Ok(Fitted {
                lines,
                size: current,
            }));
        }
        if current - 0.5 < min_size {
            return Ok(Err(lines.len()));
        }
        current -= 0.5;
    }
}
