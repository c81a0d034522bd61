//! Pure pieces of the other xAPI resources: document request parameters (State, Activity
//! Profile, Agent Profile), the Person object of the Agents resource, and 1.0.3's alternate
//! request syntax.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::actor::{AgentParam, parse_agent_param};
use crate::{XapiError, XapiVersion, syntax};

/// The three document resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentResource {
    /// `/activities/state`: `activityId`, `agent`, optional `registration`, `stateId`.
    State,
    /// `/activities/profile`: `activityId`, `profileId`.
    ActivityProfile,
    /// `/agents/profile`: `agent`, `profileId`.
    AgentProfile,
}

/// The HTTP method of a document request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentMethod {
    Get,
    Head,
    Put,
    Post,
    Delete,
}

/// Checked parameters of a document request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DocumentQuery {
    pub activity_id: Option<String>,
    pub agent: Option<AgentParam>,
    pub registration: Option<Uuid>,
    /// `stateId` or `profileId`; `None` asks for the list of ids (GET) or, for State, all
    /// documents of the agent and activity (DELETE).
    pub document_id: Option<String>,
    /// GET of the id list: only documents stored after this instant.
    pub since: Option<DateTime<Utc>>,
}

impl DocumentQuery {
    /// Parse percent-decoded parameters. Unknown, repeated or malformed parameters, and missing
    /// required ones, are errors (400). `PUT`/`POST` need the document id; Activity and Agent
    /// Profile `DELETE` need it too; `since` belongs to GET/HEAD only.
    pub fn parse<'a>(
        resource: DocumentResource,
        method: DocumentMethod,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        version: XapiVersion,
    ) -> Result<Self, XapiError> {
        let id_name = match resource {
            DocumentResource::State => "stateId",
            _ => "profileId",
        };
        let mut query = DocumentQuery::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name) {
                return Err(XapiError::query(name, "is given more than once"));
            }
            seen.push(name);
            match (name, resource) {
                ("activityId", DocumentResource::State | DocumentResource::ActivityProfile) => {
                    if !syntax::is_iri(value) {
                        return Err(XapiError::query(name, format!("{value:?} is not an IRI")));
                    }
                    query.activity_id = Some(value.to_owned());
                }
                ("agent", DocumentResource::State | DocumentResource::AgentProfile) => {
                    query.agent = Some(parse_agent_param(value, version).map_err(|e| XapiError::query(name, e.to_string()))?);
                }
                ("registration", DocumentResource::State) => {
                    query.registration = Some(
                        syntax::parse_uuid(value).ok_or_else(|| XapiError::query(name, format!("{value:?} is not a UUID")))?,
                    );
                }
                ("since", _) => {
                    if !matches!(method, DocumentMethod::Get | DocumentMethod::Head) {
                        return Err(XapiError::query(name, "only applies to GET"));
                    }
                    query.since = Some(
                        syntax::parse_timestamp(value, XapiVersion::V1_0_3)
                            .ok_or_else(|| XapiError::query(name, format!("{value:?} is not an ISO 8601 timestamp")))?,
                    );
                }
                (n, _) if n == id_name => query.document_id = Some(value.to_owned()),
                _ => return Err(XapiError::query(name, format!("is not a parameter of this resource ({resource:?})"))),
            }
        }
        let needs_activity = matches!(resource, DocumentResource::State | DocumentResource::ActivityProfile);
        if needs_activity && query.activity_id.is_none() {
            return Err(XapiError::query("activityId", "is required"));
        }
        let needs_agent = matches!(resource, DocumentResource::State | DocumentResource::AgentProfile);
        if needs_agent && query.agent.is_none() {
            return Err(XapiError::query("agent", "is required"));
        }
        let needs_id = match method {
            DocumentMethod::Put | DocumentMethod::Post => true,
            DocumentMethod::Delete => resource != DocumentResource::State,
            DocumentMethod::Get | DocumentMethod::Head => false,
        };
        if needs_id && query.document_id.is_none() {
            return Err(XapiError::query(id_name, "is required for this method"));
        }
        Ok(query)
    }
}

/// The Person object answered by `GET /agents`: every name and IFI of the given Agent objects
/// (the queried agent and whatever the LRS knows as the same person), each once, in order.
pub fn person_object(agents: &[&Value]) -> Value {
    let mut person = Map::new();
    person.insert("objectType".into(), "Person".into());
    for key in ["name", "mbox", "mbox_sha1sum", "openid", "account"] {
        let mut values: Vec<Value> = Vec::new();
        for agent in agents {
            if let Some(value) = agent.get(key)
                && !values.contains(value)
            {
                values.push(value.clone());
            }
        }
        if !values.is_empty() {
            person.insert(key.into(), Value::Array(values));
        }
    }
    Value::Object(person)
}

/// A request made with 1.0.3's alternate request syntax (`POST …?method=PUT` with a form body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlternateRequest {
    /// The real method, upper case: `GET`, `HEAD`, `PUT`, `POST` or `DELETE`.
    pub method: String,
    /// Form fields that are HTTP headers (`Authorization`, `X-Experience-API-Version`,
    /// `Content-Type`, `Content-Length`, `If-Match`, `If-None-Match`), names as sent.
    pub headers: Vec<(String, String)>,
    /// The other form fields: the resource's parameters.
    pub parameters: Vec<(String, String)>,
    /// The `content` field: the request body.
    pub content: Option<String>,
}

const ALTERNATE_HEADERS: &[&str] =
    &["authorization", "x-experience-api-version", "content-type", "content-length", "if-match", "if-none-match"];

/// Unpack an alternate-syntax request (xAPI 1.0.3 Communication §1.3; 2.0.0 dropped it — the
/// server decides by version). `query` are the decoded query parameters: `method` must be the
/// only one. `form_body` is the `application/x-www-form-urlencoded` body.
pub fn parse_alternate_request<'a>(
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
    form_body: &[u8],
) -> Result<AlternateRequest, XapiError> {
    let mut method = None;
    for (name, value) in query {
        if name != "method" {
            return Err(XapiError::query(name, "the alternate request syntax allows only the method parameter in the query string"));
        }
        if method.is_some() {
            return Err(XapiError::query("method", "is given more than once"));
        }
        let upper = value.to_ascii_uppercase();
        if !matches!(upper.as_str(), "GET" | "HEAD" | "PUT" | "POST" | "DELETE") {
            return Err(XapiError::query("method", format!("{value:?} is not GET, HEAD, PUT, POST or DELETE")));
        }
        method = Some(upper);
    }
    let method = method.ok_or_else(|| XapiError::query("method", "is required"))?;
    let mut request = AlternateRequest { method, headers: Vec::new(), parameters: Vec::new(), content: None };
    for (name, value) in parse_form_urlencoded(form_body)? {
        if name == "content" {
            request.content = Some(value);
        } else if ALTERNATE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            request.headers.push((name, value));
        } else {
            request.parameters.push((name, value));
        }
    }
    Ok(request)
}

/// Decode an `application/x-www-form-urlencoded` body (`+` is a space, `%XX` a byte; the result
/// must be UTF-8).
pub fn parse_form_urlencoded(body: &[u8]) -> Result<Vec<(String, String)>, XapiError> {
    let mut pairs = Vec::new();
    for field in body.split(|b| *b == b'&').filter(|f| !f.is_empty()) {
        let (name, value) = match field.iter().position(|b| *b == b'=') {
            Some(i) => (&field[..i], &field[i + 1..]),
            None => (field, &b""[..]),
        };
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

fn decode_component(bytes: &[u8]) -> Result<String, XapiError> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| XapiError::query("form body", "has a malformed %-escape"))?;
                out.push(byte);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| XapiError::query("form body", "is not UTF-8 after decoding"))
}
