//! From a received statement to what the store keeps: the stored JSON and the index data.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::actor::{ifi_key, push_actor_keys};
use crate::path::JsonPath;
use crate::validate::{self, VERB_VOIDED};
use crate::{XapiError, XapiVersion, syntax};

/// A statement ready to be inserted: the JSON to store and the derived index data.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedStatement {
    /// The statement as stored (and returned by `format=exact`): `id`, `stored`, `authority`,
    /// `version` and `timestamp` filled in, `contextActivities` values normalized to arrays.
    pub json: Value,
    pub index: StatementIndex,
}

/// What the store indexes a statement by. Agent keys are [`Ifi::key`](crate::Ifi::key) strings; every list is
/// sorted and without duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementIndex {
    pub statement_id: Uuid,
    /// IFI key of the actor; `None` for an anonymous Group.
    pub actor_key: Option<String>,
    pub verb_id: String,
    pub object: StatementObject,
    pub registration: Option<Uuid>,
    /// The statement's `timestamp` as an instant (equal to `stored` when it had none).
    pub timestamp: DateTime<Utc>,
    /// `stored`, cut to milliseconds (the precision written into the JSON).
    pub stored: DateTime<Utc>,
    /// Agents matched by the `agent` filter: the actor and an Agent/Group object, with Group members.
    pub agent_keys: Vec<String>,
    /// Agents matched by `agent` with `related_agents=true`: also authority, instructor, team,
    /// 2.0 context agents and groups, and the same inside a SubStatement.
    pub related_agent_keys: Vec<String>,
    /// Activities matched by `activity` with `related_activities=true`: the object, all context
    /// activities, and the same inside a SubStatement. (Without it only [`StatementObject::Activity`] matches.)
    pub related_activity_ids: Vec<String>,
    /// The statement this one voids (verb `…/voided` with a StatementRef object).
    pub voided_statement_id: Option<Uuid>,
    /// `sha2` of each attachment without `fileUrl`: the parts a multipart request must carry.
    pub attachment_sha2s: Vec<String>,
}

/// The statement's object, as the store needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementObject {
    Activity { id: String },
    Agent { key: String },
    /// `key` is `None` for an anonymous Group.
    Group { key: Option<String> },
    StatementRef { id: Uuid },
    SubStatement,
}

/// The Activity definitions a statement carries, for the Activities resource: `(id, definition)`
/// for the object, the context activities, and the same inside a SubStatement, first definition
/// per id only. Borrows from the statement (no copies on the ingest path).
pub fn activity_definitions(statement: &Value) -> Vec<(&str, &Value)> {
    let mut found: Vec<(&str, &Value)> = Vec::new();
    collect_definitions(statement, &mut found);
    if let Some(object) = statement.get("object")
        && object.get("objectType").and_then(Value::as_str) == Some("SubStatement")
    {
        collect_definitions(object, &mut found);
    }
    found
}

fn collect_definitions<'v>(statement: &'v Value, found: &mut Vec<(&'v str, &'v Value)>) {
    let mut push = |activity: &'v Value| {
        if let (Some(id), Some(definition)) = (activity.get("id").and_then(Value::as_str), activity.get("definition"))
            && !found.iter().any(|(known, _)| *known == id)
        {
            found.push((id, definition));
        }
    };
    if let Some(object) = statement.get("object")
        && matches!(object.get("objectType").and_then(Value::as_str), None | Some("Activity"))
    {
        push(object);
    }
    if let Some(lists) = statement.get("context").and_then(|c| c.get("contextActivities")).and_then(Value::as_object) {
        for list in lists.values() {
            match list {
                Value::Array(items) => items.iter().for_each(&mut push),
                single => push(single),
            }
        }
    }
}

/// Validate one statement and prepare it for storage.
///
/// * `authority` is the Agent (or OAuth Group) of the credential; it replaces any authority the
///   statement carried.
/// * `stored` is the time of storage (cut to milliseconds); a statement without `timestamp`
///   gets the same value.
/// * `new_id` is called only when the statement has no `id`.
///
/// ```
/// use lms_xapi::{prepare_statement, XapiVersion};
/// let statement = serde_json::json!({
///     "actor": {"mbox": "mailto:ann@example.com"},
///     "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
///     "object": {"id": "http://example.com/course"}
/// });
/// let authority = serde_json::json!({"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": "client-1"}});
/// let stored = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z").unwrap().to_utc();
/// let prepared = prepare_statement(statement, XapiVersion::V2_0_0, &authority, stored, || uuid::Uuid::nil()).unwrap();
/// assert_eq!(prepared.json["stored"], "2026-01-02T03:04:05.678Z");
/// assert_eq!(prepared.index.verb_id, "http://adlnet.gov/expapi/verbs/completed");
/// ```
pub fn prepare_statement(
    statement: Value,
    version: XapiVersion,
    authority: &Value,
    stored: DateTime<Utc>,
    new_id: impl FnOnce() -> Uuid,
) -> Result<PreparedStatement, XapiError> {
    validate::validate_statement(&statement, version)?;
    let stored = Stored::new(stored);
    Ok(prepare_validated(statement, version, authority, &stored, new_id))
}

/// Validate and prepare a batch. Besides each statement's own rules, two statements of one batch
/// must not share an id. Error paths start with the index (`[2].actor`).
pub fn prepare_statements(
    statements: Vec<Value>,
    version: XapiVersion,
    authority: &Value,
    stored: DateTime<Utc>,
    mut new_id: impl FnMut() -> Uuid,
) -> Result<Vec<PreparedStatement>, XapiError> {
    validate::validate_statements(&statements, version)?;
    let stored = Stored::new(stored);
    let mut prepared: Vec<PreparedStatement> = Vec::with_capacity(statements.len());
    for statement in statements {
        prepared.push(prepare_validated(statement, version, authority, &stored, &mut new_id));
    }
    let mut ids: Vec<(Uuid, usize)> = prepared.iter().enumerate().map(|(i, p)| (p.index.statement_id, i)).collect();
    ids.sort_unstable();
    for pair in ids.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(JsonPath::Root.index(pair[1].1).key("id").error(format!(
                "the id {} is used by statement {} of the same batch",
                pair[0].0, pair[0].1
            )));
        }
    }
    Ok(prepared)
}

/// The storage time, cut to milliseconds, and its text (formatted once per batch).
struct Stored {
    instant: DateTime<Utc>,
    text: String,
}

impl Stored {
    fn new(instant: DateTime<Utc>) -> Self {
        let instant = truncate_to_millis(instant);
        Stored { instant, text: syntax::format_timestamp(instant) }
    }
}

/// Prepare a statement that [`validate::validate_statement`] accepted.
fn prepare_validated(
    mut statement: Value,
    version: XapiVersion,
    authority: &Value,
    stored: &Stored,
    new_id: impl FnOnce() -> Uuid,
) -> PreparedStatement {
    let (stored_text, stored) = (&stored.text, stored.instant);
    let map = statement.as_object_mut().expect("validated statements are objects");

    let statement_id = match map.get("id").and_then(Value::as_str).and_then(syntax::parse_uuid) {
        Some(id) => id,
        None => {
            let id = new_id();
            map.insert("id".into(), Value::String(id.hyphenated().to_string()));
            id
        }
    };
    let timestamp = match map.get("timestamp").and_then(Value::as_str) {
        Some(text) => syntax::parse_timestamp(text, version).unwrap_or(stored),
        None => {
            map.insert("timestamp".into(), Value::String(stored_text.clone()));
            stored
        }
    };
    map.insert("stored".into(), Value::String(stored_text.clone()));
    map.insert("authority".into(), authority.clone());
    if !map.contains_key("version") {
        map.insert("version".into(), Value::from(version.default_statement_version()));
    }
    normalize_context_activities(map);
    if let Some(Value::Object(object)) = map.get_mut("object")
        && object.get("objectType").and_then(Value::as_str) == Some("SubStatement")
    {
        normalize_context_activities(object);
    }

    let index = build_index(map, statement_id, timestamp, stored);
    PreparedStatement { json: statement, index }
}

fn truncate_to_millis(instant: DateTime<Utc>) -> DateTime<Utc> {
    let millis = instant.timestamp_millis();
    DateTime::from_timestamp_millis(millis).unwrap_or(instant)
}

/// `contextActivities.parent: {…}` → `parent: [{…}]` (the LRS must return arrays).
fn normalize_context_activities(statement: &mut Map<String, Value>) {
    let Some(Value::Object(context)) = statement.get_mut("context") else { return };
    let Some(Value::Object(activities)) = context.get_mut("contextActivities") else { return };
    for (_, value) in activities.iter_mut() {
        if value.is_object() {
            let single = value.take();
            *value = Value::Array(vec![single]);
        }
    }
}

fn build_index(
    map: &Map<String, Value>,
    statement_id: Uuid,
    timestamp: DateTime<Utc>,
    stored: DateTime<Utc>,
) -> StatementIndex {
    let actor = map.get("actor").unwrap_or(&Value::Null);
    let actor_key = actor.as_object().and_then(ifi_key);
    let verb_id = map
        .get("verb")
        .and_then(|verb| verb.get("id"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let object_value = map.get("object").unwrap_or(&Value::Null);
    let object = describe_object(object_value);

    let mut agent_keys = Vec::new();
    push_actor_keys(actor, &mut agent_keys);
    if matches!(object, StatementObject::Agent { .. } | StatementObject::Group { .. }) {
        push_actor_keys(object_value, &mut agent_keys);
    }
    let mut related_agent_keys = agent_keys.clone();
    if let Some(authority) = map.get("authority") {
        push_actor_keys(authority, &mut related_agent_keys);
    }

    let mut related_activity_ids = Vec::new();
    let mut registration = None;
    collect_parts(map, false, &mut related_agent_keys, &mut related_activity_ids, &mut registration);
    if matches!(object, StatementObject::SubStatement)
        && let Some(substatement) = object_value.as_object()
    {
        if let Some(sub_actor) = substatement.get("actor") {
            push_actor_keys(sub_actor, &mut related_agent_keys);
        }
        let mut sub_registration = None;
        collect_parts(substatement, true, &mut related_agent_keys, &mut related_activity_ids, &mut sub_registration);
    }
    let mut attachment_sha2s = Vec::new();
    collect_attachment_sha2s(map, &mut attachment_sha2s);
    if let Some(substatement) = object_value.as_object().filter(|_| matches!(object, StatementObject::SubStatement)) {
        collect_attachment_sha2s(substatement, &mut attachment_sha2s);
    }

    let voided_statement_id = match (&object, verb_id.as_str()) {
        (StatementObject::StatementRef { id }, VERB_VOIDED) => Some(*id),
        _ => None,
    };
    for list in [&mut agent_keys, &mut related_agent_keys, &mut related_activity_ids, &mut attachment_sha2s] {
        list.sort_unstable();
        list.dedup();
    }
    StatementIndex {
        statement_id,
        actor_key,
        verb_id,
        object,
        registration,
        timestamp,
        stored,
        agent_keys,
        related_agent_keys,
        related_activity_ids,
        voided_statement_id,
        attachment_sha2s,
    }
}

fn describe_object(object: &Value) -> StatementObject {
    let Some(map) = object.as_object() else { return StatementObject::SubStatement };
    match map.get("objectType").and_then(Value::as_str) {
        Some("Agent") => StatementObject::Agent { key: ifi_key(map).unwrap_or_default() },
        Some("Group") => StatementObject::Group { key: ifi_key(map) },
        Some("StatementRef") => StatementObject::StatementRef {
            id: map.get("id").and_then(Value::as_str).and_then(syntax::parse_uuid).unwrap_or_default(),
        },
        Some("SubStatement") => StatementObject::SubStatement,
        _ => StatementObject::Activity {
            id: map.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
        },
    }
}

/// Object activity (and agents of an Agent/Group object inside a SubStatement), context agents
/// and activities of one statement level.
fn collect_parts(
    map: &Map<String, Value>,
    is_substatement: bool,
    related_agent_keys: &mut Vec<String>,
    related_activity_ids: &mut Vec<String>,
    registration: &mut Option<Uuid>,
) {
    if let Some(object) = map.get("object") {
        match object.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => {
                if let Some(id) = object.get("id").and_then(Value::as_str) {
                    related_activity_ids.push(id.to_owned());
                }
            }
            Some("Agent" | "Group") if is_substatement => push_actor_keys(object, related_agent_keys),
            _ => {}
        }
    }
    let Some(context) = map.get("context").and_then(Value::as_object) else { return };
    *registration = context.get("registration").and_then(Value::as_str).and_then(syntax::parse_uuid);
    for key in ["instructor", "team"] {
        if let Some(actor) = context.get(key) {
            push_actor_keys(actor, related_agent_keys);
        }
    }
    for (list_key, member_key) in [("contextAgents", "agent"), ("contextGroups", "group")] {
        if let Some(list) = context.get(list_key).and_then(Value::as_array) {
            for entry in list {
                if let Some(actor) = entry.get(member_key) {
                    push_actor_keys(actor, related_agent_keys);
                }
            }
        }
    }
    if let Some(context_activities) = context.get("contextActivities").and_then(Value::as_object) {
        for value in context_activities.values() {
            let list = match value {
                Value::Array(list) => list.as_slice(),
                single => std::slice::from_ref(single),
            };
            for activity in list {
                if let Some(id) = activity.get("id").and_then(Value::as_str) {
                    related_activity_ids.push(id.to_owned());
                }
            }
        }
    }
}

fn collect_attachment_sha2s(map: &Map<String, Value>, sha2s: &mut Vec<String>) {
    let Some(list) = map.get("attachments").and_then(Value::as_array) else { return };
    for attachment in list {
        if attachment.get("fileUrl").is_none()
            && let Some(sha2) = attachment.get("sha2").and_then(Value::as_str)
        {
            sha2s.push(sha2.to_ascii_lowercase());
        }
    }
}
