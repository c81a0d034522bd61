//! Java `.properties` files: ISO-8859-1 text, `#`/`!` comments, a trailing backslash continues
//! the logical line (leading blanks of the next line dropped), `key=value` / `key:value` /
//! `key value`, and the escapes `\t \n \r \f \uXXXX` (any other `\c` stands for `c`).
//! A `\u` not followed by four hex digits is read as a literal `u` (the CTS files contain
//! Windows paths such as `\util`).

/// Decodes the bytes of a `.properties` file (ISO-8859-1) into text.
pub fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// One `key = value` entry, in file order, with the 1-based line where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

fn ends_with_odd_backslashes(line: &str) -> bool {
    line.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// Parses `.properties` text into its entries, in file order (later duplicates are kept).
pub fn parse(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut lines = text.split('\n').enumerate().peekable();
    while let Some((index, raw)) = lines.next() {
        let first = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = first.trim_start_matches([' ', '\t', '\x0c']);
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        let mut logical = String::from(trimmed);
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => {
                    let next = next.strip_suffix('\r').unwrap_or(next);
                    logical.push_str(next.trim_start_matches([' ', '\t', '\x0c']));
                }
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        entries.push(Entry {
            key: unescape(key),
            value: unescape(value),
            line: index + 1,
        });
    }
    entries
}

fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' => {
                let value = line[i + 1..].trim_start_matches([' ', '\t', '\x0c']);
                return (&line[..i], value);
            }
            b' ' | b'\t' | b'\x0c' => {
                let rest = line[i..].trim_start_matches([' ', '\t', '\x0c']);
                let rest = rest
                    .strip_prefix(['=', ':'])
                    .map_or(rest, |r| r.trim_start_matches([' ', '\t', '\x0c']));
                return (&line[..i], rest);
            }
            _ => i += 1,
        }
    }
    (line, "")
}

/// Applies the `.properties` escapes.
pub fn unescape(text: &str) -> String {
    if !text.contains('\\') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                match (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .and_then(char::from_u32)
                {
                    Some(decoded) => {
                        out.push(decoded);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    None => out.push('u'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_escapes_and_separators() {
        let text = "# comment\nkey=a\\\n   b\\u0041\\q\nother : x=y\nlast value\nwin=\\util\\n\n";
        let entries = parse(text);
        let pairs: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("key", "abAq"),
                ("other", "x=y"),
                ("last", "value"),
                ("win", "util\n")
            ]
        );
        assert_eq!(entries[1].line, 4);
    }

    #[test]
    fn even_backslashes_do_not_continue() {
        let entries = parse("a=x\\\\\nb=y\n");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].value, "x\\");
    }
}
