//! Placeholder text: `Teilnahme am {dates}`, with `{{`/`}}` for literal braces.

use crate::Error;
use crate::template::PLACEHOLDERS;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment<'a> {
    Literal(std::borrow::Cow<'a, str>),
    Placeholder(&'static str),
}

/// A parse problem before its location in the template is known.
#[derive(Debug)]
pub(crate) enum ParseError {
    Unknown(String),
    Syntax(String),
}

impl ParseError {
    pub(crate) fn at(self, location: &str) -> Error {
        match self {
            ParseError::Unknown(placeholder) => Error::UnknownPlaceholder {
                location: location.to_string(),
                placeholder,
            },
            ParseError::Syntax(reason) => Error::PlaceholderSyntax {
                location: location.to_string(),
                reason,
            },
        }
    }
}

#[derive(Debug)]
pub(crate) struct Segments<'a>(pub(crate) Vec<Segment<'a>>);

impl<'a> Segments<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<Segments<'a>, ParseError> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            let brace = rest.as_bytes()[i];
            let after = &rest[i + 1..];
            if brace == b'}' {
                if let Some(tail) = after.strip_prefix('}') {
                    literal.push('}');
                    rest = tail;
                    continue;
                }
                return Err(ParseError::Syntax(format!(
                    "unmatched '}}' at byte {} (write '}}}}' for a literal brace)",
                    text.len() - rest.len() + i
                )));
            }
            if let Some(tail) = after.strip_prefix('{') {
                literal.push('{');
                rest = tail;
                continue;
            }
            let Some(end) = after.find('}') else {
                return Err(ParseError::Syntax(format!(
                    "'{{' at byte {} is never closed (write '{{{{' for a literal brace)",
                    text.len() - rest.len() + i
                )));
            };
            let name = after[..end].trim();
            let Some(known) = PLACEHOLDERS.iter().find(|p| **p == name) else {
                return Err(ParseError::Unknown(name.to_string()));
            };
            if !literal.is_empty() {
                segments.push(Segment::Literal(std::mem::take(&mut literal).into()));
            }
            segments.push(Segment::Placeholder(known));
            rest = &after[end + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal.into()));
        }
        Ok(Segments(segments))
    }

    /// Fills in values; `Err(name)` is the first placeholder without a value.
    pub(crate) fn fill(&self, values: &Values) -> Result<String, &'static str> {
        let mut out = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Placeholder(name) => match values.get(name) {
                    Some(value) => out.push_str(value),
                    None => return Err(name),
                },
            }
        }
        Ok(out)
    }
}

/// Placeholder values in the order of [`PLACEHOLDERS`]; `None` = no value.
#[derive(Debug, Default)]
pub(crate) struct Values(pub(crate) [Option<String>; PLACEHOLDERS.len()]);

impl Values {
    pub(crate) fn set(&mut self, name: &str, value: Option<String>) {
        if let Some(i) = PLACEHOLDERS.iter().position(|p| *p == name) {
            self.0[i] = value.filter(|v| !v.trim().is_empty());
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let i = PLACEHOLDERS.iter().position(|p| *p == name)?;
        self.0[i].as_deref()
    }
}

/// Fills `text` (already validated) for the template location `location`.
/// `Ok(None)` means an optional placeholder had no value and `optional` allows leaving it out.
pub(crate) fn fill(
    text: &str,
    values: &Values,
    location: &str,
    optional: bool,
) -> Result<Option<String>, Error> {
    let segments = Segments::parse(text).map_err(|e| e.at(location))?;
    match segments.fill(values) {
        Ok(filled) => Ok(Some(filled)),
        Err(_) if optional => Ok(None),
        Err(placeholder) => Err(Error::MissingValue {
            location: location.to_string(),
            placeholder: placeholder.to_string(),
        }),
    }
}
