//! SCORM learner responses and correct-response patterns in xAPI's interaction formats.
//!
//! xAPI took its formats from SCORM 2004 (items separated by `[,]`, pairs and steps by `[.]`,
//! numeric ranges by `[:]`, `{case_matters=…}`/`{order_matters=…}`/`{lang=…}` delimiters), so
//! SCORM 2004 values are already in xAPI form and pass through unchanged.
//!
//! SCORM 1.2 values use a looser syntax that is converted here:
//!
//! | type          | SCORM 1.2                     | xAPI                         |
//! |---------------|-------------------------------|------------------------------|
//! | `true-false`  | `t`, `f`, `1`, `0`            | `true`, `false`              |
//! | `choice`      | `a,c` or the set `{a,c}`      | `a[,]c`                      |
//! | `sequencing`  | `c,a,b`                       | `c[,]a[,]b`                  |
//! | `matching`    | `1.a,2.b` or `{1.a,2.b}`      | `1[.]a[,]2[.]b`              |
//! | `fill-in`, `likert`, `numeric`, `performance` | unchanged (one value; 1.2 gives performance no structure) | |
//!
//! A 1.2 value that already uses the xAPI delimiters (some authoring tools write them) is
//! left as it is. Anything the rules do not recognise passes through unchanged: the result is
//! always a string, which is all xAPI requires of a response.

use lms_rte::ScormVersion;
use lms_rte::interaction::InteractionType;

/// A `cmi.interactions.n.learner_response` (2004) or `student_response` (1.2) as
/// `result.response`. `kind` is `None` when the content never set the interaction's type.
pub fn xapi_response(version: ScormVersion, kind: Option<InteractionType>, text: &str) -> String {
    match (version, kind) {
        (ScormVersion::Scorm12, Some(kind)) => convert_12(kind, text),
        _ => text.to_owned(),
    }
}

/// A `correct_responses.n.pattern` as an entry of `correctResponsesPattern`.
pub fn xapi_pattern(version: ScormVersion, kind: InteractionType, text: &str) -> String {
    match version {
        ScormVersion::Scorm12 => convert_12(kind, text),
        ScormVersion::Scorm2004 => text.to_owned(),
    }
}

fn convert_12(kind: InteractionType, text: &str) -> String {
    match kind {
        InteractionType::TrueFalse => match text.trim() {
            "t" | "1" | "true" => "true".to_owned(),
            "f" | "0" | "false" => "false".to_owned(),
            _ => text.to_owned(),
        },
        InteractionType::Choice | InteractionType::Sequencing => {
            if text.contains("[,]") {
                return text.to_owned();
            }
            list_12(text).join("[,]")
        }
        InteractionType::Matching => {
            if text.contains("[.]") || text.contains("[,]") {
                return text.to_owned();
            }
            list_12(text)
                .into_iter()
                .map(|pair| match pair.split_once('.') {
                    Some((source, target)) => format!("{}[.]{}", source.trim(), target.trim()),
                    None => pair.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("[,]")
        }
        InteractionType::FillIn
        | InteractionType::LongFillIn
        | InteractionType::Likert
        | InteractionType::Numeric
        | InteractionType::Performance
        | InteractionType::Other => text.to_owned(),
    }
}

/// The items of a 1.2 comma list, without one pair of set braces around the whole list,
/// trimmed, empty items dropped.
fn list_12(text: &str) -> Vec<&str> {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or(trimmed);
    inner.split(',').map(str::trim).filter(|item| !item.is_empty()).collect()
}
