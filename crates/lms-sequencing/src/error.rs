//! The crate's one error type.

/// Why a tree could not be built or a request was refused. Refusals carry the SCORM
/// pseudo-code exception code (`NB.2.1-2`, `SB.2.9-3`, …) as data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SequencingError {
    #[error("activity {activity}: sequencing IDRef {reference:?} names no sequencingCollection entry")]
    UnknownSequencingReference { activity: String, reference: String },
    #[error("activity identifier {activity:?} is used twice")]
    DuplicateActivity { activity: String },
    #[error("activity {activity}: tree is deeper than 64 levels")]
    TreeTooDeep { activity: String },
    #[error("activity {activity}: {value:?} is not an ISO 8601 duration")]
    BadDuration { activity: String, value: String },
    /// The request was not valid; `code` is the SCORM SN exception code.
    #[error("sequencing exception {code}: {message}")]
    Refused { code: &'static str, message: &'static str },
    #[error("{0:?} is not a navigation request")]
    BadNavigationRequest(String),
    #[error("saved sequencing state does not match this activity tree: {0}")]
    StateMismatch(String),
}

impl SequencingError {
    pub(crate) fn refused(code: &'static str) -> Self {
        SequencingError::Refused { code, message: describe(code) }
    }

    /// The SCORM exception code of a refused request.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            SequencingError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

fn describe(code: &str) -> &'static str {
    match code {
        "NB.2.1-1" => "the sequencing session has already begun",
        "NB.2.1-2" => "the sequencing session has not begun",
        "NB.2.1-3" => "no suspended activity to resume",
        "NB.2.1-4" | "SB.2.7-2" | "SB.2.8-2" | "SB.2.2-1" => "flow navigation is not allowed here",
        "NB.2.1-5" | "SB.2.4-2" => "backward navigation is not allowed (forward only)",
        "NB.2.1-6" | "SB.2.1-3" => "already at the beginning",
        "NB.2.1-7" => "navigation request not supported",
        "NB.2.1-8" | "SB.2.9-7" => "an active activity does not allow leaving it by choice",
        "NB.2.1-10" | "SB.2.9-4" => "choice is not allowed here",
        "NB.2.1-11" | "SB.2.9-1" | "SB.2.9-2" => "the target activity does not exist or is not available",
        "NB.2.1-12" => "the current activity has already been terminated",
        "NB.2.1-13" => "undefined navigation request",
        "SB.2.9-3" => "the target activity is hidden from choice",
        "SB.2.9-5" => "nothing to traverse to the target",
        "SB.2.9-6" => "prevent activation keeps the target from being activated",
        "SB.2.9-8" => "constrained choice keeps the target out of reach",
        "SB.2.9-9" => "the chosen cluster has nothing to deliver",
        "SB.2.4-1" => "a stop-forward-traversal rule blocks the way",
        "SB.2.2-2" | "DB.1.1-3" => "the activity is disabled or its limits are exceeded",
        "SB.2.1-2" | "SB.2.5-2" => "a cluster has no available children",
        "SB.2.10-3" => "retry found nothing to deliver",
        "DB.1.1-1" => "only leaf activities can be delivered",
        "DB.2-1" => "the current activity is still active",
        _ => "the request is not allowed in the current state",
    }
}
