//! Statement validation against the xAPI 1.0.3 and 2.0.0 data model.
//!
//! One pass over the JSON value with a single `match` per object: every property is checked
//! where it is met, unknown properties (including wrong case: `Actor`) and `null` outside
//! extensions are rejected. The first violation is returned with its JSON path.

use serde_json::{Map, Value};

use crate::path::JsonPath;
use crate::syntax;
use crate::{XapiError, XapiVersion};

type Result<T = ()> = std::result::Result<T, XapiError>;

/// The verb that voids the statement its StatementRef object points at.
pub const VERB_VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";
/// The attachment usage type of a JWS signature.
pub const USAGE_TYPE_SIGNATURE: &str = "http://adlnet.gov/expapi/attachments/signature";

/// Validate one statement as received by `PUT`/`POST /statements`.
///
/// ```
/// use lms_xapi::{validate_statement, XapiVersion};
/// let statement = serde_json::json!({
///     "actor": {"mbox": "mailto:ann@example.com"},
///     "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
///     "object": {"id": "http://example.com/course"},
///     "context": {"instructor": {"mbox": "bob@example.com"}}
/// });
/// let error = validate_statement(&statement, XapiVersion::V2_0_0).unwrap_err();
/// assert_eq!(error.path(), Some("context.instructor.mbox"));
/// ```
pub fn validate_statement(value: &Value, version: XapiVersion) -> Result {
    Validator { version }.statement(value, &JsonPath::Root, false)
}

/// Validate a batch (`POST` with a JSON array); error paths start with the index: `[3].verb.id`.
pub fn validate_statements(values: &[Value], version: XapiVersion) -> Result {
    let validator = Validator { version };
    for (i, value) in values.iter().enumerate() {
        validator.statement(value, &JsonPath::Root.index(i), false)?;
    }
    Ok(())
}

/// Validate an Agent or Group value on its own (an `agent` query parameter, the Agents resource).
pub fn validate_actor(value: &Value, version: XapiVersion) -> Result {
    Validator { version }.actor(value, &JsonPath::Root, Role::Actor).map(|_| ())
}

/// Validate an Activity object on its own (`objectType` optional).
pub fn validate_activity(value: &Value, version: XapiVersion) -> Result {
    let path = JsonPath::Root;
    let map = as_object(value, &path)?;
    Validator { version }.activity(map, &path)
}

/// What kind of object a statement has; decides whether `context.revision`/`platform` apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectKind {
    Activity,
    Agent,
    Group,
    StatementRef,
    SubStatement,
}

/// Where an Agent or Group appears; decides which `objectType` values are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Actor,
    Member,
    Team,
    Authority,
    ContextAgent,
    ContextGroup,
}

struct ActorShape {
    is_group: bool,
    n_ifis: usize,
    n_members: usize,
}

struct Validator {
    version: XapiVersion,
}

impl Validator {
    fn statement(&self, value: &Value, path: &JsonPath<'_>, is_substatement: bool) -> Result {
        let map = as_object(value, path)?;
        let (mut actor, mut verb, mut object, mut context) = (None, None, None, None);
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "actor" => actor = Some(child),
                "verb" => verb = Some(child),
                "object" => object = Some(child),
                "context" => context = Some(child),
                "result" => self.result(child, &child_path)?,
                "timestamp" => self.timestamp(child, &child_path)?,
                "attachments" => self.attachments(child, &child_path)?,
                "id" | "stored" | "authority" | "version" if is_substatement => {
                    return Err(child_path.error(format!("a SubStatement must not have the {key:?} property")));
                }
                "id" => self.uuid(child, &child_path)?,
                "stored" => self.timestamp(child, &child_path)?,
                "authority" => self.authority(child, &child_path)?,
                "version" => self.statement_version(child, &child_path)?,
                "objectType" if is_substatement => {
                    // checked by the caller: it chose this branch because it is "SubStatement"
                    as_str(child, &child_path)?;
                }
                _ => return Err(unknown_property(&child_path)),
            }
        }
        let Some(actor) = actor else { return Err(path.key("actor").error("is required")) };
        let Some(verb) = verb else { return Err(path.key("verb").error("is required")) };
        let Some(object) = object else { return Err(path.key("object").error("is required")) };
        self.actor(actor, &path.key("actor"), Role::Actor)?;
        let verb_id = self.verb(verb, &path.key("verb"))?;
        let object_path = path.key("object");
        let object_kind = self.object(object, &object_path, is_substatement)?;
        if verb_id == VERB_VOIDED && object_kind != ObjectKind::StatementRef {
            return Err(object_path.error(format!(
                "a statement with the verb {VERB_VOIDED} voids another statement: its object must be a StatementRef"
            )));
        }
        if let Some(context) = context {
            self.context(context, &path.key("context"), object_kind)?;
        }
        Ok(())
    }

    fn statement_version(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let version = as_str(value, path)?;
        if self.version.accepts_statement_version(version) {
            Ok(())
        } else {
            let allowed = match self.version {
                XapiVersion::V1_0_3 => "\"1.0\" or \"1.0.x\"",
                XapiVersion::V2_0_0 => "\"1.0\", \"1.0.x\", \"2.0\" or \"2.0.x\"",
            };
            Err(path.error(format!("{version:?} is not an accepted version; must be {allowed}")))
        }
    }

    fn uuid(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let text = as_str(value, path)?;
        match syntax::parse_uuid(text) {
            Some(_) => Ok(()),
            None => Err(path.error(format!("{text:?} is not a UUID in standard form (8-4-4-4-12 hex digits)"))),
        }
    }

    fn timestamp(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let text = as_str(value, path)?;
        if syntax::parse_timestamp(text, self.version).is_some() {
            return Ok(());
        }
        let rule = match self.version {
            XapiVersion::V2_0_0 => "an RFC 3339 date-time with a time-zone offset",
            XapiVersion::V1_0_3 => "an ISO 8601 date-time",
        };
        let negative_zero = ["-00", "-0000", "-00:00"].iter().any(|z| text.ends_with(z));
        if negative_zero {
            Err(path.error(format!("{text:?} has the offset -00:00 (unknown local offset), which is not allowed; use Z or +00:00")))
        } else {
            Err(path.error(format!("{text:?} is not {rule}")))
        }
    }

    fn iri(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let text = as_str(value, path)?;
        if syntax::is_iri(text) {
            Ok(())
        } else {
            Err(path.error(format!("{text:?} is not an absolute IRI (scheme:rest, no spaces)")))
        }
    }

    fn actor(&self, value: &Value, path: &JsonPath<'_>, role: Role) -> Result<ActorShape> {
        let map = as_object(value, path)?;
        let mut object_type = None;
        let mut n_ifis = 0;
        let mut member = None;
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "objectType" => {
                    let text = as_str(child, &child_path)?;
                    match text {
                        "Agent" | "Group" => object_type = Some(text),
                        _ => return Err(child_path.error(format!("{text:?} is not \"Agent\" or \"Group\""))),
                    }
                }
                "name" => {
                    as_str(child, &child_path)?;
                }
                "mbox" => {
                    let text = as_str(child, &child_path)?;
                    if !syntax::is_mailto_iri(text) {
                        return Err(child_path.error(format!("{text:?} is not a mailto IRI (mailto:name@example.com)")));
                    }
                    n_ifis += 1;
                }
                "mbox_sha1sum" => {
                    let text = as_str(child, &child_path)?;
                    if !syntax::is_hex_of_len(text, 40) {
                        return Err(child_path.error(format!("{text:?} is not a SHA-1 digest (40 hex digits)")));
                    }
                    n_ifis += 1;
                }
                "openid" => {
                    let text = as_str(child, &child_path)?;
                    if !syntax::is_iri(text) {
                        return Err(child_path.error(format!("{text:?} is not a URI")));
                    }
                    n_ifis += 1;
                }
                "account" => {
                    self.account(child, &child_path)?;
                    n_ifis += 1;
                }
                "member" => member = Some(child),
                _ => return Err(unknown_property(&child_path)),
            }
        }
        let is_group = object_type == Some("Group");
        let role_error = |expected: &str| {
            path.key("objectType").error(format!("must be {expected:?} here"))
        };
        match role {
            Role::Member | Role::ContextAgent if is_group => return Err(role_error("Agent")),
            Role::Team if !is_group => {
                return Err(path.key("objectType").error("must be \"Group\": a team is a Group"));
            }
            Role::ContextGroup if !is_group => {
                return Err(path.key("objectType").error("must be \"Group\": a contextGroup names a Group"));
            }
            _ => {}
        }
        let mut n_members = 0;
        if is_group {
            if n_ifis > 1 {
                return Err(path.error(format!(
                    "an identified Group has exactly one inverse functional identifier, found {n_ifis}"
                )));
            }
            match member {
                Some(members) => {
                    let member_path = path.key("member");
                    let list = as_array(members, &member_path)?;
                    for (i, agent) in list.iter().enumerate() {
                        self.actor(agent, &member_path.index(i), Role::Member)?;
                    }
                    n_members = list.len();
                    if n_ifis == 0 && list.is_empty() {
                        return Err(member_path.error("an anonymous Group must list at least one member"));
                    }
                }
                None if n_ifis == 0 => {
                    return Err(path.error(
                        "an anonymous Group (no mbox, mbox_sha1sum, openid or account) must have a \"member\" list",
                    ));
                }
                None => {}
            }
        } else {
            if member.is_some() {
                return Err(path.key("member").error("only a Group has members (objectType \"Group\")"));
            }
            if n_ifis != 1 {
                return Err(path.error(format!(
                    "an Agent has exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account), found {n_ifis}"
                )));
            }
        }
        Ok(ActorShape { is_group, n_ifis, n_members })
    }

    fn account(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let map = as_object(value, path)?;
        let (mut home_page, mut name) = (false, false);
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "homePage" => {
                    self.iri(child, &child_path)?;
                    home_page = true;
                }
                "name" => {
                    as_str(child, &child_path)?;
                    name = true;
                }
                _ => return Err(unknown_property(&child_path)),
            }
        }
        if !home_page {
            return Err(path.key("homePage").error("is required"));
        }
        if !name {
            return Err(path.key("name").error("is required"));
        }
        Ok(())
    }

    fn authority(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let shape = self.actor(value, path, Role::Authority)?;
        if shape.is_group && (shape.n_ifis != 0 || shape.n_members != 2) {
            return Err(path.error(
                "an authority Group must be an anonymous Group of exactly two Agents (OAuth consumer and user)",
            ));
        }
        Ok(())
    }

    fn verb<'v>(&self, value: &'v Value, path: &JsonPath<'_>) -> Result<&'v str> {
        let map = as_object(value, path)?;
        let mut id = None;
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "id" => {
                    self.iri(child, &child_path)?;
                    id = child.as_str();
                }
                "display" => self.language_map(child, &child_path)?,
                _ => return Err(unknown_property(&child_path)),
            }
        }
        id.ok_or_else(|| path.key("id").error("is required"))
    }

    fn object(&self, value: &Value, path: &JsonPath<'_>, in_substatement: bool) -> Result<ObjectKind> {
        let map = as_object(value, path)?;
        let kind = match map.get("objectType") {
            None => ObjectKind::Activity,
            Some(object_type) => {
                let type_path = path.key("objectType");
                match as_str(object_type, &type_path)? {
                    "Activity" => ObjectKind::Activity,
                    "Agent" => ObjectKind::Agent,
                    "Group" => ObjectKind::Group,
                    "StatementRef" => ObjectKind::StatementRef,
                    "SubStatement" => ObjectKind::SubStatement,
                    other => {
                        return Err(type_path.error(format!(
                            "{other:?} is not one of \"Activity\", \"Agent\", \"Group\", \"StatementRef\", \"SubStatement\""
                        )));
                    }
                }
            }
        };
        match kind {
            ObjectKind::Activity => self.activity(map, path)?,
            ObjectKind::Agent | ObjectKind::Group => {
                self.actor(value, path, Role::Actor)?;
            }
            ObjectKind::StatementRef => self.statement_ref(map, path)?,
            ObjectKind::SubStatement if in_substatement => {
                return Err(path.key("objectType").error("a SubStatement must not contain another SubStatement"));
            }
            ObjectKind::SubStatement => self.statement(value, path, true)?,
        }
        Ok(kind)
    }

    fn statement_ref(&self, map: &Map<String, Value>, path: &JsonPath<'_>) -> Result {
        let mut id = false;
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "objectType" => {
                    if as_str(child, &child_path)? != "StatementRef" {
                        return Err(child_path.error("must be \"StatementRef\""));
                    }
                }
                "id" => {
                    self.uuid(child, &child_path)?;
                    id = true;
                }
                _ => return Err(unknown_property(&child_path)),
            }
        }
        if !id {
            return Err(path.key("id").error("is required"));
        }
        if !map.contains_key("objectType") {
            return Err(path.key("objectType").error("is required: must be \"StatementRef\""));
        }
        Ok(())
    }

    fn activity(&self, map: &Map<String, Value>, path: &JsonPath<'_>) -> Result {
        let mut id = false;
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "objectType" => {
                    if as_str(child, &child_path)? != "Activity" {
                        return Err(child_path.error("must be \"Activity\""));
                    }
                }
                "id" => {
                    self.iri(child, &child_path)?;
                    id = true;
                }
                "definition" => self.activity_definition(child, &child_path)?,
                "mbox" | "mbox_sha1sum" | "openid" | "account" | "member" => {
                    return Err(child_path.error(
                        "not a property of an Activity; an Agent or Group used as an object needs \"objectType\"",
                    ));
                }
                _ => return Err(unknown_property(&child_path)),
            }
        }
        if !id {
            return Err(path.key("id").error("is required"));
        }
        Ok(())
    }

    fn activity_definition(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let map = as_object(value, path)?;
        let mut interaction_type = None;
        let mut first_interaction_property = None;
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "name" | "description" => self.language_map(child, &child_path)?,
                "type" => self.iri(child, &child_path)?,
                "moreInfo" => self.iri(child, &child_path)?,
                "extensions" => self.extensions(child, &child_path)?,
                "interactionType" => {
                    let text = as_str(child, &child_path)?;
                    if !INTERACTION_TYPES.contains(&text) {
                        return Err(child_path.error(format!(
                            "{text:?} is not an interaction type ({})",
                            INTERACTION_TYPES.join(", ")
                        )));
                    }
                    interaction_type = Some(text);
                }
                "correctResponsesPattern" => {
                    let list = as_array(child, &child_path)?;
                    for (i, pattern) in list.iter().enumerate() {
                        as_str(pattern, &child_path.index(i))?;
                    }
                    first_interaction_property.get_or_insert(key.as_str());
                }
                "choices" | "scale" | "source" | "target" | "steps" => {
                    self.interaction_components(child, &child_path)?;
                    first_interaction_property.get_or_insert(key.as_str());
                }
                _ => return Err(unknown_property(&child_path)),
            }
        }
        if let Some(property) = first_interaction_property {
            let Some(interaction_type) = interaction_type else {
                return Err(path.key("interactionType").error(format!(
                    "is required when {property:?} is present"
                )));
            };
            let allowed: &[&str] = match interaction_type {
                "choice" | "sequencing" => &["choices"],
                "likert" => &["scale"],
                "matching" => &["source", "target"],
                "performance" => &["steps"],
                _ => &[],
            };
            for list in ["choices", "scale", "source", "target", "steps"] {
                if map.contains_key(list) && !allowed.contains(&list) {
                    return Err(path.key(list).error(format!(
                        "is not a component list of the interaction type {interaction_type:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    fn interaction_components(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let list = as_array(value, path)?;
        for (i, component) in list.iter().enumerate() {
            let component_path = path.index(i);
            let map = as_object(component, &component_path)?;
            let mut id = None;
            for (key, child) in map {
                let child_path = component_path.key(key);
                match key.as_str() {
                    "id" => id = Some(as_str(child, &child_path)?),
                    "description" => self.language_map(child, &child_path)?,
                    _ => return Err(unknown_property(&child_path)),
                }
            }
            let Some(id) = id else { return Err(component_path.key("id").error("is required")) };
            let duplicate = list[..i].iter().any(|earlier| earlier.get("id").and_then(Value::as_str) == Some(id));
            if duplicate {
                return Err(component_path.key("id").error(format!(
                    "{id:?} is used twice; interaction component ids must be distinct"
                )));
            }
        }
        Ok(())
    }

    fn result(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let map = as_object(value, path)?;
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "score" => self.score(child, &child_path)?,
                "success" | "completion" => {
                    if !child.is_boolean() {
                        return Err(type_error(child, "a boolean", &child_path));
                    }
                }
                "response" => {
                    as_str(child, &child_path)?;
                }
                "duration" => {
                    let text = as_str(child, &child_path)?;
                    if !syntax::is_duration(text) {
                        return Err(child_path.error(format!("{text:?} is not an ISO 8601 duration (e.g. PT1H30M2.5S)")));
                    }
                }
                "extensions" => self.extensions(child, &child_path)?,
                _ => return Err(unknown_property(&child_path)),
            }
        }
        Ok(())
    }

    fn score(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let map = as_object(value, path)?;
        let (mut raw, mut min, mut max) = (None, None, None);
        for (key, child) in map {
            let child_path = path.key(key);
            let number = match child.as_f64() {
                Some(number) => number,
                None => return Err(type_error(child, "a number", &child_path)),
            };
            match key.as_str() {
                "scaled" => {
                    if !(-1.0..=1.0).contains(&number) {
                        return Err(child_path.error(format!("{number} is outside -1..1")));
                    }
                }
                "raw" => raw = Some(number),
                "min" => min = Some(number),
                "max" => max = Some(number),
                _ => return Err(unknown_property(&child_path)),
            }
        }
        if let (Some(min), Some(max)) = (min, max)
            && min >= max
        {
            return Err(path.key("min").error(format!("{min} must be less than max {max}")));
        }
        if let Some(raw) = raw {
            if let Some(min) = min
                && raw < min
            {
                return Err(path.key("raw").error(format!("{raw} is less than min {min}")));
            }
            if let Some(max) = max
                && raw > max
            {
                return Err(path.key("raw").error(format!("{raw} is greater than max {max}")));
            }
        }
        Ok(())
    }

    fn context(&self, value: &Value, path: &JsonPath<'_>, object_kind: ObjectKind) -> Result {
        let map = as_object(value, path)?;
        let v2 = self.version == XapiVersion::V2_0_0;
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "registration" => self.uuid(child, &child_path)?,
                "instructor" => {
                    self.actor(child, &child_path, Role::Actor)?;
                }
                "team" => {
                    self.actor(child, &child_path, Role::Team)?;
                }
                "contextActivities" => self.context_activities(child, &child_path)?,
                "revision" | "platform" => {
                    as_str(child, &child_path)?;
                    if object_kind != ObjectKind::Activity {
                        return Err(child_path.error(format!(
                            "{key:?} may only be used when the statement's object is an Activity"
                        )));
                    }
                }
                "language" => {
                    let text = as_str(child, &child_path)?;
                    if !syntax::is_language_tag(text) {
                        return Err(child_path.error(format!("{text:?} is not an RFC 5646 language tag")));
                    }
                }
                "statement" => {
                    let reference = as_object(child, &child_path)?;
                    self.statement_ref(reference, &child_path)?;
                }
                "extensions" => self.extensions(child, &child_path)?,
                "contextAgents" if v2 => self.context_agents(child, &child_path, false)?,
                "contextGroups" if v2 => self.context_agents(child, &child_path, true)?,
                _ => return Err(unknown_property(&child_path)),
            }
        }
        Ok(())
    }

    fn context_activities(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let map = as_object(value, path)?;
        for (key, child) in map {
            let child_path = path.key(key);
            match key.as_str() {
                "parent" | "grouping" | "category" | "other" => match child {
                    Value::Array(list) => {
                        for (i, activity) in list.iter().enumerate() {
                            let activity_path = child_path.index(i);
                            self.activity(as_object(activity, &activity_path)?, &activity_path)?;
                        }
                    }
                    other => self.activity(as_object(other, &child_path)?, &child_path)?,
                },
                _ => return Err(unknown_property(&child_path)),
            }
        }
        Ok(())
    }

    /// `contextAgents` (groups = false) or `contextGroups` (groups = true), xAPI 2.0.
    fn context_agents(&self, value: &Value, path: &JsonPath<'_>, groups: bool) -> Result {
        let (object_type, member_key, role) = if groups {
            ("contextGroup", "group", Role::ContextGroup)
        } else {
            ("contextAgent", "agent", Role::ContextAgent)
        };
        let list = as_array(value, path)?;
        for (i, entry) in list.iter().enumerate() {
            let entry_path = path.index(i);
            let map = as_object(entry, &entry_path)?;
            let (mut has_type, mut has_member) = (false, false);
            for (key, child) in map {
                let child_path = entry_path.key(key);
                match key.as_str() {
                    "objectType" => {
                        if as_str(child, &child_path)? != object_type {
                            return Err(child_path.error(format!("must be {object_type:?}")));
                        }
                        has_type = true;
                    }
                    k if k == member_key => {
                        self.actor(child, &child_path, role)?;
                        has_member = true;
                    }
                    "relevantTypes" => {
                        let types = as_array(child, &child_path)?;
                        if types.is_empty() {
                            return Err(child_path.error("must not be empty when present"));
                        }
                        for (j, iri) in types.iter().enumerate() {
                            self.iri(iri, &child_path.index(j))?;
                        }
                    }
                    _ => return Err(unknown_property(&child_path)),
                }
            }
            if !has_type {
                return Err(entry_path.key("objectType").error(format!("is required: must be {object_type:?}")));
            }
            if !has_member {
                return Err(entry_path.key(member_key).error("is required"));
            }
        }
        Ok(())
    }

    fn extensions(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let map = as_object(value, path)?;
        for key in map.keys() {
            if !syntax::is_iri(key) {
                return Err(path.key(key).error("an extension key must be an absolute IRI"));
            }
        }
        Ok(())
    }

    fn language_map(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let map = as_object(value, path)?;
        for (tag, text) in map {
            let child_path = path.key(tag);
            if !syntax::is_language_tag(tag) {
                return Err(child_path.error(format!("{tag:?} is not an RFC 5646 language tag")));
            }
            as_str(text, &child_path)?;
        }
        Ok(())
    }

    fn attachments(&self, value: &Value, path: &JsonPath<'_>) -> Result {
        let list = as_array(value, path)?;
        for (i, attachment) in list.iter().enumerate() {
            let attachment_path = path.index(i);
            let map = as_object(attachment, &attachment_path)?;
            let mut seen = [false; 5];
            for (key, child) in map {
                let child_path = attachment_path.key(key);
                match key.as_str() {
                    "usageType" => {
                        self.iri(child, &child_path)?;
                        seen[0] = true;
                    }
                    "display" => {
                        self.language_map(child, &child_path)?;
                        seen[1] = true;
                    }
                    "description" => self.language_map(child, &child_path)?,
                    "contentType" => {
                        let text = as_str(child, &child_path)?;
                        if !syntax::is_media_type(text) {
                            return Err(child_path.error(format!("{text:?} is not an Internet media type")));
                        }
                        seen[2] = true;
                    }
                    "length" => {
                        if child.as_u64().is_none() {
                            return Err(type_error(child, "a non-negative integer", &child_path));
                        }
                        seen[3] = true;
                    }
                    "sha2" => {
                        let text = as_str(child, &child_path)?;
                        if !syntax::is_sha2_hex(text) {
                            return Err(child_path.error(format!("{text:?} is not a SHA-2 digest in hex")));
                        }
                        seen[4] = true;
                    }
                    "fileUrl" => self.iri(child, &child_path)?,
                    _ => return Err(unknown_property(&child_path)),
                }
            }
            for (present, name) in seen.iter().zip(["usageType", "display", "contentType", "length", "sha2"]) {
                if !present {
                    return Err(attachment_path.key(name).error("is required"));
                }
            }
        }
        Ok(())
    }
}

const INTERACTION_TYPES: &[&str] = &[
    "true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing",
    "likert", "numeric", "other",
];

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn type_error(value: &Value, expected: &str, path: &JsonPath<'_>) -> XapiError {
    if value.is_null() {
        path.error(format!("must be {expected}; null is only allowed inside extensions"))
    } else {
        path.error(format!("must be {expected}, found {}", type_name(value)))
    }
}

fn unknown_property(path: &JsonPath<'_>) -> XapiError {
    path.error("unknown property (property names are case-sensitive)")
}

fn as_object<'v>(value: &'v Value, path: &JsonPath<'_>) -> Result<&'v Map<String, Value>> {
    value.as_object().ok_or_else(|| type_error(value, "an object", path))
}

fn as_array<'v>(value: &'v Value, path: &JsonPath<'_>) -> Result<&'v Vec<Value>> {
    value.as_array().ok_or_else(|| type_error(value, "an array", path))
}

fn as_str<'v>(value: &'v Value, path: &JsonPath<'_>) -> Result<&'v str> {
    value.as_str().ok_or_else(|| type_error(value, "a string", path))
}
