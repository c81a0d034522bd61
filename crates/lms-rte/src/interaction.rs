//! Interaction types and the formats of their correct-response patterns and learner responses
//! (SCORM 2004 4th edition RTE 4.2.9; SCORM 1.2 `cmi.interactions`).

use serde::{Deserialize, Serialize};

use crate::types::{is_identifier, parse_real, strip_lang};

/// The ten interaction types of `cmi.interactions.n.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InteractionType {
    TrueFalse,
    Choice,
    FillIn,
    LongFillIn,
    Likert,
    Matching,
    Performance,
    Sequencing,
    Numeric,
    Other,
}

impl InteractionType {
    /// Parses the SCORM 2004 vocabulary (`true-false`, `choice`, …).
    pub fn parse_2004(text: &str) -> Option<Self> {
        Some(match text {
            "true-false" => Self::TrueFalse,
            "choice" => Self::Choice,
            "fill-in" => Self::FillIn,
            "long-fill-in" => Self::LongFillIn,
            "likert" => Self::Likert,
            "matching" => Self::Matching,
            "performance" => Self::Performance,
            "sequencing" => Self::Sequencing,
            "numeric" => Self::Numeric,
            "other" => Self::Other,
            _ => return None,
        })
    }

    /// Parses the SCORM 1.2 vocabulary (no `long-fill-in`, `other`).
    pub fn parse_12(text: &str) -> Option<Self> {
        match Self::parse_2004(text)? {
            Self::LongFillIn | Self::Other => None,
            t => Some(t),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrueFalse => "true-false",
            Self::Choice => "choice",
            Self::FillIn => "fill-in",
            Self::LongFillIn => "long-fill-in",
            Self::Likert => "likert",
            Self::Matching => "matching",
            Self::Performance => "performance",
            Self::Sequencing => "sequencing",
            Self::Numeric => "numeric",
            Self::Other => "other",
        }
    }

    /// How many correct-response patterns the type allows (`None`: no fixed cap).
    pub fn max_patterns(self) -> Option<usize> {
        match self {
            Self::TrueFalse | Self::Likert | Self::Numeric | Self::Other => Some(1),
            _ => None,
        }
    }
}

fn items(text: &str) -> std::str::Split<'_, &'static str> {
    text.split("[,]")
}

fn is_bool_word(text: &str) -> bool {
    text == "true" || text == "false"
}

/// Strips the leading delimiters of a fill-in / long-fill-in / performance pattern:
/// `{case_matters=…}` and `{order_matters=…}` (where the type allows them, values `true`/`false`)
/// and the first string's `{lang=…}`, in any order. A malformed delimiter before `{lang=…}` makes
/// the pattern invalid (`None`); after a valid `{lang=…}` the text is the learner's own and is
/// left alone.
fn strip_pattern_delimiters(
    mut text: &str,
    allow_case: bool,
    allow_order: bool,
    allow_lang: bool,
) -> Option<&str> {
    let (mut seen_case, mut seen_order, mut seen_lang) = (false, false, false);
    loop {
        let flag = if allow_case && !seen_case && text.starts_with("{case_matters=") {
            Some(("{case_matters=", &mut seen_case))
        } else if allow_order && !seen_order && text.starts_with("{order_matters=") {
            Some(("{order_matters=", &mut seen_order))
        } else {
            None
        };
        if let Some((prefix, seen)) = flag {
            let rest = &text[prefix.len()..];
            match rest.find('}') {
                Some(end) if is_bool_word(&rest[..end]) => {
                    *seen = true;
                    text = &rest[end + 1..];
                    continue;
                }
                _ if seen_lang => return Some(text),
                _ => return None,
            }
        }
        if allow_lang && !seen_lang && text.starts_with("{lang=") {
            let rest = strip_lang(text)?;
            seen_lang = true;
            text = rest;
            continue;
        }
        return Some(text);
    }
}

fn is_localized_item(text: &str) -> bool {
    strip_lang(text).is_some()
}

fn is_numeric_range(text: &str) -> bool {
    match text.split_once("[:]") {
        Some((min, max)) => {
            let lo = if min.is_empty() {
                None
            } else {
                Some(parse_real(min))
            };
            let hi = if max.is_empty() {
                None
            } else {
                Some(parse_real(max))
            };
            match (lo, hi) {
                (Some(None), _) | (_, Some(None)) => false,
                (Some(Some(a)), Some(Some(b))) => a <= b,
                _ => true,
            }
        }
        None => parse_real(text).is_some(),
    }
}

fn unique_identifiers(text: &str) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    for item in items(text) {
        if !is_identifier(item) || seen.contains(&item) {
            return false;
        }
        seen.push(item);
    }
    true
}

fn is_pair(text: &str) -> bool {
    match text.split_once("[.]") {
        Some((a, b)) => !b.contains("[.]") && is_identifier(a) && is_identifier(b),
        None => false,
    }
}

fn is_performance_step(text: &str, allow_range: bool) -> bool {
    let Some((name, answer)) = text.split_once("[.]") else {
        return false;
    };
    if answer.contains("[.]") || (name.is_empty() && answer.is_empty()) {
        return false;
    }
    if !name.is_empty() && !is_identifier(name) {
        return false;
    }
    if answer.contains("[:]") {
        return allow_range && is_numeric_range(answer);
    }
    true
}

/// Validates `cmi.interactions.n.correct_responses.m.pattern` for the interaction type.
pub fn is_valid_pattern(kind: InteractionType, text: &str) -> bool {
    match kind {
        InteractionType::TrueFalse => is_bool_word(text),
        InteractionType::Choice => text.is_empty() || unique_identifiers(text),
        InteractionType::FillIn => match strip_pattern_delimiters(text, true, true, true) {
            Some(rest) => {
                let mut list = items(rest);
                list.next();
                list.all(is_localized_item)
            }
            None => false,
        },
        InteractionType::LongFillIn => strip_pattern_delimiters(text, true, false, true).is_some(),
        InteractionType::Likert => is_identifier(text),
        InteractionType::Matching => items(text).all(is_pair),
        InteractionType::Performance => match strip_pattern_delimiters(text, false, true, false) {
            Some(rest) => items(rest).all(|s| is_performance_step(s, true)),
            None => false,
        },
        InteractionType::Sequencing => items(text).all(is_identifier),
        InteractionType::Numeric => is_numeric_range(text),
        InteractionType::Other => true,
    }
}

/// Validates `cmi.interactions.n.learner_response` for the interaction type.
pub fn is_valid_response(kind: InteractionType, text: &str) -> bool {
    match kind {
        InteractionType::TrueFalse => is_bool_word(text),
        InteractionType::Choice => text.is_empty() || unique_identifiers(text),
        InteractionType::FillIn => items(text).all(is_localized_item),
        InteractionType::LongFillIn => is_localized_item(text),
        InteractionType::Likert => is_identifier(text),
        InteractionType::Matching => items(text).all(is_pair),
        InteractionType::Performance => items(text).all(|s| is_performance_step(s, false)),
        InteractionType::Sequencing => items(text).all(is_identifier),
        InteractionType::Numeric => parse_real(text).is_some(),
        InteractionType::Other => true,
    }
}

/// SCORM 1.2 `student_response`/`correct_responses.n.pattern`, which are looser: single
/// characters or comma lists for choice/sequencing, `{}` groups allowed.
pub fn is_valid_12(kind: InteractionType, text: &str) -> bool {
    match kind {
        InteractionType::TrueFalse => matches!(text, "0" | "1" | "t" | "f" | "true" | "false"),
        InteractionType::Numeric => text.is_empty() || parse_real(text).is_some(),
        _ => true,
    }
}
