//! Agents, Groups and their inverse functional identifiers (IFIs).

use serde_json::{Map, Value};

use crate::{XapiError, XapiVersion, validate};

/// One inverse functional identifier: what makes an Agent (or identified Group) the same
/// person (or group) across statements.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ifi {
    /// `mailto:` IRI, as given.
    Mbox(String),
    /// SHA-1 of the mailto IRI, lower-case hex.
    MboxSha1Sum(String),
    /// An OpenID URI.
    OpenId(String),
    /// A system account: the system's home page and the unique name on it.
    Account { home_page: String, name: String },
}

impl Ifi {
    /// A single string that identifies the IFI, for indexes and document keys:
    /// `mbox:mailto:ann@example.com`, `mbox_sha1sum:<hex>`, `openid:<uri>`,
    /// `account:<homePage> <name>` (a homePage has no spaces, so the split is unambiguous).
    pub fn key(&self) -> String {
        match self {
            Ifi::Mbox(mbox) => format!("mbox:{mbox}"),
            Ifi::MboxSha1Sum(sum) => format!("mbox_sha1sum:{sum}"),
            Ifi::OpenId(uri) => format!("openid:{uri}"),
            Ifi::Account { home_page, name } => format!("account:{home_page} {name}"),
        }
    }

    /// The IFI of an already validated Agent or Group object, if it has one (an anonymous
    /// Group has none).
    pub fn of(actor: &Map<String, Value>) -> Option<Ifi> {
        if let Some(mbox) = actor.get("mbox").and_then(Value::as_str) {
            return Some(Ifi::Mbox(mbox.to_owned()));
        }
        if let Some(sum) = actor.get("mbox_sha1sum").and_then(Value::as_str) {
            return Some(Ifi::MboxSha1Sum(sum.to_ascii_lowercase()));
        }
        if let Some(uri) = actor.get("openid").and_then(Value::as_str) {
            return Some(Ifi::OpenId(uri.to_owned()));
        }
        let account = actor.get("account")?.as_object()?;
        Some(Ifi::Account {
            home_page: account.get("homePage")?.as_str()?.to_owned(),
            name: account.get("name")?.as_str()?.to_owned(),
        })
    }

    /// The IFI as the JSON properties it came from (`{"mbox": …}`, `{"account": {…}}`).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut map = Map::new();
        match self {
            Ifi::Mbox(mbox) => map.insert("mbox".into(), mbox.clone().into()),
            Ifi::MboxSha1Sum(sum) => map.insert("mbox_sha1sum".into(), sum.clone().into()),
            Ifi::OpenId(uri) => map.insert("openid".into(), uri.clone().into()),
            Ifi::Account { home_page, name } => {
                let mut account = Map::new();
                account.insert("homePage".into(), home_page.clone().into());
                account.insert("name".into(), name.clone().into());
                map.insert("account".into(), account.into())
            }
        };
        map
    }
}

/// The `objectType` of an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActorKind {
    Agent,
    Group,
}

/// An identified Agent or Group given as a request parameter (`agent=` on statements, State
/// and Agent Profile documents, the Agents resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentParam {
    pub kind: ActorKind,
    pub ifi: Ifi,
    /// The JSON as given (validated), e.g. to answer the Agents resource.
    pub json: Value,
}

/// Parse the JSON text of an `agent` parameter: an Agent, or a Group with an IFI.
/// Anonymous Groups are rejected: they cannot be looked up.
pub fn parse_agent_param(text: &str, version: XapiVersion) -> Result<AgentParam, XapiError> {
    let json: Value = serde_json::from_str(text)
        .map_err(|e| XapiError::Json { what: "the agent parameter".into(), reason: e.to_string() })?;
    validate::validate_actor(&json, version)?;
    let map = json.as_object().ok_or_else(|| XapiError::invalid("", "an agent must be a JSON object"))?;
    let kind = match map.get("objectType").and_then(Value::as_str) {
        Some("Group") => ActorKind::Group,
        _ => ActorKind::Agent,
    };
    let ifi = Ifi::of(map).ok_or_else(|| {
        XapiError::invalid("", "an anonymous Group cannot be used here: it has no inverse functional identifier")
    })?;
    Ok(AgentParam { kind, ifi, json })
}

/// [`Ifi::key`] of a validated Agent or Group object, built without the intermediate [`Ifi`].
pub(crate) fn ifi_key(actor: &Map<String, Value>) -> Option<String> {
    if let Some(mbox) = actor.get("mbox").and_then(Value::as_str) {
        return Some(format!("mbox:{mbox}"));
    }
    if let Some(sum) = actor.get("mbox_sha1sum").and_then(Value::as_str) {
        return Some(format!("mbox_sha1sum:{}", sum.to_ascii_lowercase()));
    }
    if let Some(uri) = actor.get("openid").and_then(Value::as_str) {
        return Some(format!("openid:{uri}"));
    }
    let account = actor.get("account")?.as_object()?;
    let home_page = account.get("homePage")?.as_str()?;
    let name = account.get("name")?.as_str()?;
    Some(format!("account:{home_page} {name}"))
}

/// The IFI keys of an actor and, for a Group, of its members: everyone a statement with this
/// actor is "about" for the `agent` filter.
pub(crate) fn push_actor_keys(actor: &Value, keys: &mut Vec<String>) {
    let Some(map) = actor.as_object() else { return };
    if let Some(key) = ifi_key(map) {
        keys.push(key);
    }
    if let Some(members) = map.get("member").and_then(Value::as_array) {
        for member in members {
            if let Some(key) = member.as_object().and_then(ifi_key) {
                keys.push(key);
            }
        }
    }
}
