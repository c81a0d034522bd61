//! The IRIs cmi5 defines (verbs, categories, extensions, activity types).

pub const VERB_LAUNCHED: &str = "http://adlnet.gov/expapi/verbs/launched";
pub const VERB_INITIALIZED: &str = "http://adlnet.gov/expapi/verbs/initialized";
pub const VERB_COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
pub const VERB_PASSED: &str = "http://adlnet.gov/expapi/verbs/passed";
pub const VERB_FAILED: &str = "http://adlnet.gov/expapi/verbs/failed";
pub const VERB_TERMINATED: &str = "http://adlnet.gov/expapi/verbs/terminated";
pub const VERB_ABANDONED: &str = "https://w3id.org/xapi/adl/verbs/abandoned";
pub const VERB_WAIVED: &str = "https://w3id.org/xapi/adl/verbs/waived";
pub const VERB_SATISFIED: &str = "https://w3id.org/xapi/adl/verbs/satisfied";
pub const VERB_VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

pub const CATEGORY_CMI5: &str = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
pub const CATEGORY_MOVEON: &str = "https://w3id.org/xapi/cmi5/context/categories/moveon";

pub const EXT_SESSION_ID: &str = "https://w3id.org/xapi/cmi5/context/extensions/sessionid";
pub const EXT_MASTERY_SCORE: &str = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore";
pub const EXT_LAUNCH_MODE: &str = "https://w3id.org/xapi/cmi5/context/extensions/launchmode";
pub const EXT_LAUNCH_URL: &str = "https://w3id.org/xapi/cmi5/context/extensions/launchurl";
pub const EXT_LAUNCH_PARAMETERS: &str = "https://w3id.org/xapi/cmi5/context/extensions/launchparameters";
pub const EXT_MOVE_ON: &str = "https://w3id.org/xapi/cmi5/context/extensions/moveon";
pub const EXT_REASON: &str = "https://w3id.org/xapi/cmi5/result/extensions/reason";

pub const ACTIVITY_TYPE_BLOCK: &str = "https://w3id.org/xapi/cmi5/activitytype/block";
pub const ACTIVITY_TYPE_COURSE: &str = "https://w3id.org/xapi/cmi5/activitytype/course";

/// The State API document the LMS writes before each launch (section 10).
pub const LAUNCH_DATA_STATE_ID: &str = "LMS.LaunchData";
/// The Agent Profile document with the learner's preferences (section 11).
pub const LEARNER_PREFERENCES_PROFILE_ID: &str = "cmi5LearnerPreferences";

/// The verbs an AU may use in cmi5 defined statements.
pub const AU_VERBS: [&str; 5] = [VERB_INITIALIZED, VERB_COMPLETED, VERB_PASSED, VERB_FAILED, VERB_TERMINATED];
/// The verbs only the LMS uses, with the requirement that gives them to the LMS.
pub const LMS_VERBS: [(&str, &str); 4] =
    [(VERB_LAUNCHED, "9.3.1.0-1"), (VERB_ABANDONED, "9.3.6.0-1"), (VERB_WAIVED, "9.3.7.0-1"), (VERB_SATISFIED, "9.3.9.0-1")];

/// A verb IRI's English display word.
pub fn verb_display(verb: &str) -> &'static str {
    match verb {
        VERB_LAUNCHED => "launched",
        VERB_INITIALIZED => "initialized",
        VERB_COMPLETED => "completed",
        VERB_PASSED => "passed",
        VERB_FAILED => "failed",
        VERB_TERMINATED => "terminated",
        VERB_ABANDONED => "abandoned",
        VERB_WAIVED => "waived",
        VERB_SATISFIED => "satisfied",
        _ => "unknown",
    }
}
