//! Launch (section 8): the launch URL, the one-time fetch URL, the `LMS.LaunchData` State
//! document (section 10) and the `cmi5LearnerPreferences` Agent Profile document (section 11).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::course::Au;
use crate::vocab::*;
use crate::Rejection;

/// `launchMode` (10.2.2): Normal records satisfaction; Browse and Review must not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LaunchMode {
    Normal,
    Browse,
    Review,
}

impl LaunchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LaunchMode::Normal => "Normal",
            LaunchMode::Browse => "Browse",
            LaunchMode::Review => "Review",
        }
    }
    pub fn parse(text: &str) -> Option<LaunchMode> {
        match text {
            "Normal" => Some(LaunchMode::Normal),
            "Browse" => Some(LaunchMode::Browse),
            "Review" => Some(LaunchMode::Review),
            _ => None,
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (8.1.0.0-8).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The launch URL (8.1): `content_url` (which may carry the AU's own query, kept first,
/// 13.1.4.0-3) followed by `endpoint`, `fetch`, `actor` (JSON), `registration` and
/// `activityId`, each URL-encoded. A `#fragment` of `content_url` stays at the end.
pub fn launch_url(
    content_url: &str,
    endpoint: &str,
    fetch_url: &str,
    actor: &Value,
    registration: uuid::Uuid,
    activity_id: &str,
) -> String {
    let (without_fragment, fragment) = match content_url.find('#') {
        Some(i) => (&content_url[..i], &content_url[i..]),
        None => (content_url, ""),
    };
    let separator = if !without_fragment.contains('?') {
        "?"
    } else if without_fragment.ends_with('?') || without_fragment.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!(
        "{without_fragment}{separator}endpoint={}&fetch={}&actor={}&registration={}&activityId={}{fragment}",
        encode_component(endpoint),
        encode_component(fetch_url),
        encode_component(&actor.to_string()),
        encode_component(&registration.hyphenated().to_string()),
        encode_component(activity_id),
    )
}

/// The `LMS.LaunchData` document (10.2) for one launch of `au`.
pub fn launch_data(au: &Au, session_id: uuid::Uuid, launch_mode: LaunchMode, return_url: Option<&str>) -> Value {
    let mut data = Map::new();
    data.insert(
        "contextTemplate".into(),
        json!({
            "contextActivities": {"grouping": [{"id": au.publisher_id, "objectType": "Activity"}]},
            "extensions": {EXT_SESSION_ID: session_id.hyphenated().to_string()}
        }),
    );
    data.insert("launchMode".into(), json!(launch_mode.as_str()));
    if let Some(parameters) = &au.launch_parameters {
        data.insert("launchParameters".into(), json!(parameters));
    }
    if let Some(score) = au.mastery_score {
        data.insert("masteryScore".into(), json!(score));
    }
    data.insert("moveOn".into(), json!(move_on_str(au.move_on)));
    if let Some(url) = return_url {
        data.insert("returnURL".into(), json!(url));
    }
    if let Some(key) = &au.entitlement_key {
        data.insert("entitlementKey".into(), json!({"courseStructure": key}));
    }
    Value::Object(data)
}

pub(crate) fn move_on_str(move_on: lms_package::Cmi5MoveOn) -> &'static str {
    use lms_package::Cmi5MoveOn::*;
    match move_on {
        Passed => "Passed",
        Completed => "Completed",
        CompletedAndPassed => "CompletedAndPassed",
        CompletedOrPassed => "CompletedOrPassed",
        NotApplicable => "NotApplicable",
    }
}

/// The one-time fetch URL (8.2): the first POST returns the token, later ones error code 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchToken {
    token: String,
    fetched: bool,
}

impl FetchToken {
    /// A fetch URL that will hand out `token` (already in the form the AU puts after `Basic `).
    pub fn new(token: impl Into<String>) -> Self {
        FetchToken { token: token.into(), fetched: false }
    }

    /// Answers one POST to the fetch URL. Always HTTP 200 with `application/json`
    /// (8.2.2.0-2, 8.2.2.0-3): `{"auth-token": …}` the first time, then
    /// `{"error-code": "1", …}` (8.2.3.0-1). `session_open` is false once the session is
    /// terminated or abandoned (then the answer is error code 1 as well: expired).
    pub fn fetch(&mut self, session_open: bool) -> Value {
        if !session_open {
            return json!({"error-code": "1", "error-text": "The AU session has ended."});
        }
        if self.fetched {
            return json!({"error-code": "1", "error-text": "The authorization token has already been returned."});
        }
        self.fetched = true;
        json!({"auth-token": self.token})
    }

    /// `true` once the token was handed out: requests bearing it are only accepted after
    /// that (8.1.2.0-2).
    pub fn is_fetched(&self) -> bool {
        self.fetched
    }

    pub fn token(&self) -> &str {
        &self.token
    }
}

/// The answer to a POST with an unknown or malformed fetch token (error code 2).
pub fn fetch_error_unknown_token() -> Value {
    json!({"error-code": "2", "error-text": "The fetch URL is not valid."})
}

/// The default `cmi5LearnerPreferences` document (11): `languagePreference` a
/// comma-separated list of language tags, `audioPreference` `on` or `off`.
pub fn learner_preferences(language_preference: &str, audio_on: bool) -> Value {
    json!({"languagePreference": language_preference, "audioPreference": if audio_on { "on" } else { "off" }})
}

/// Checks a document an AU writes to `cmi5LearnerPreferences` (11.0.0.0-5, 11.1.0.0-1);
/// a refusal is a 403.
pub fn check_learner_preferences(content_type: Option<&str>, body: &[u8]) -> Result<(), Rejection> {
    let is_json = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false);
    if !is_json {
        return Err(Rejection::forbidden("11.0.0.0-5 (d)", "the learner preferences must be sent as application/json"));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| Rejection::forbidden("11.0.0.0-5 (d)", "the learner preferences are not valid JSON"))?;
    let Some(object) = value.as_object() else {
        return Err(Rejection::forbidden("11.0.0.0-5 (d)", "the learner preferences must be a JSON object"));
    };
    let Some(languages) = object.get("languagePreference") else {
        return Err(Rejection::forbidden("11.0.0.0-5 (d)", "the learner preferences have no languagePreference"));
    };
    let Some(audio) = object.get("audioPreference") else {
        return Err(Rejection::forbidden("11.0.0.0-5 (d)", "the learner preferences have no audioPreference"));
    };
    let languages_ok = languages
        .as_str()
        .is_some_and(|l| !l.is_empty() && l.split(',').all(|tag| lms_xapi::syntax::is_language_tag(tag.trim()) && !tag.trim().is_empty()));
    if !languages_ok {
        return Err(Rejection::forbidden(
            "11.1.0.0-1 (d)",
            "languagePreference must be a comma-separated list of RFC 5646 language tags",
        ));
    }
    if !matches!(audio.as_str(), Some("on" | "off")) {
        return Err(Rejection::forbidden("11.0.0.0-5 (d)", "audioPreference must be \"on\" or \"off\""));
    }
    Ok(())
}

/// `true` when two agents are the same learner: both identified by the same `account`
/// (homePage and name), neither a Group (8.1.3.0-3, 11.0.0.0-1).
pub fn same_agent(a: &Value, b: &Value) -> bool {
    let account = |v: &Value| -> Option<(String, String)> {
        if v.get("objectType").and_then(Value::as_str).is_some_and(|t| t != "Agent") {
            return None;
        }
        let account = v.get("account")?;
        Some((account.get("homePage")?.as_str()?.to_string(), account.get("name")?.as_str()?.to_string()))
    };
    matches!((account(a), account(b)), (Some(x), Some(y)) if x == y)
}
