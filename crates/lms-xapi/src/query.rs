//! The query parameters of `GET /statements`, parsed and checked.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::actor::{AgentParam, parse_agent_param};
use crate::{XapiError, XapiVersion, syntax};

/// The `format` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatementFormat {
    /// Statements as stored.
    #[default]
    Exact,
    /// Agents, Groups, Activities and Verbs reduced to their identifiers ([`crate::format_ids`]).
    Ids,
    /// Canonical Activity definitions, one language per language map ([`crate::format_canonical`]).
    Canonical,
}

/// A checked `GET /statements` request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatementQuery {
    pub statement_id: Option<Uuid>,
    pub voided_statement_id: Option<Uuid>,
    pub agent: Option<AgentParam>,
    pub verb: Option<String>,
    pub activity: Option<String>,
    pub registration: Option<Uuid>,
    pub related_activities: bool,
    pub related_agents: bool,
    /// Only statements stored strictly after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only statements stored at or before this instant.
    pub until: Option<DateTime<Utc>>,
    /// `0` (the default) means "the server's maximum".
    pub limit: u32,
    pub format: StatementFormat,
    pub attachments: bool,
    pub ascending: bool,
    /// Parameters the caller allowed through [`StatementQuery::parse_allowing`] (e.g. a paging
    /// cursor of its `more` URLs), in request order.
    pub extra: Vec<(String, String)>,
}

const PARAMETERS: &[&str] = &[
    "statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
    "related_activities", "related_agents", "since", "until", "limit", "format", "attachments",
    "ascending",
];

impl StatementQuery {
    /// Parse percent-decoded `(name, value)` pairs. Rejects unknown or repeated parameters,
    /// malformed values, `statementId` together with `voidedStatementId`, and either of them
    /// together with anything but `attachments` and `format`.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        version: XapiVersion,
    ) -> Result<Self, XapiError> {
        Self::parse_allowing(pairs, version, &[])
    }

    /// Like [`StatementQuery::parse`], but the parameters named in `extra_names` are accepted
    /// and returned in [`StatementQuery::extra`] (they count as filters for the single-statement
    /// rule).
    pub fn parse_allowing<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        version: XapiVersion,
        extra_names: &[&str],
    ) -> Result<Self, XapiError> {
        let mut query = StatementQuery::default();
        let mut seen: Vec<&'a str> = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name) {
                return Err(XapiError::query(name, "is given more than once"));
            }
            seen.push(name);
            match name {
                "statementId" => query.statement_id = Some(uuid_value(name, value)?),
                "voidedStatementId" => query.voided_statement_id = Some(uuid_value(name, value)?),
                "agent" => {
                    query.agent = Some(parse_agent_param(value, version).map_err(|e| XapiError::query(name, e.to_string()))?);
                }
                "verb" => query.verb = Some(iri_value(name, value)?),
                "activity" => query.activity = Some(iri_value(name, value)?),
                "registration" => query.registration = Some(uuid_value(name, value)?),
                "related_activities" => query.related_activities = bool_value(name, value)?,
                "related_agents" => query.related_agents = bool_value(name, value)?,
                "since" => query.since = Some(timestamp_value(name, value)?),
                "until" => query.until = Some(timestamp_value(name, value)?),
                "limit" => {
                    query.limit = value
                        .parse()
                        .ok()
                        .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| XapiError::query(name, format!("{value:?} is not a non-negative integer")))?;
                }
                "format" => {
                    query.format = match value {
                        "exact" => StatementFormat::Exact,
                        "ids" => StatementFormat::Ids,
                        "canonical" => StatementFormat::Canonical,
                        _ => return Err(XapiError::query(name, format!("{value:?} is not one of ids, exact, canonical"))),
                    }
                }
                "attachments" => query.attachments = bool_value(name, value)?,
                "ascending" => query.ascending = bool_value(name, value)?,
                _ if extra_names.contains(&name) => query.extra.push((name.to_owned(), value.to_owned())),
                _ => {
                    return Err(XapiError::query(
                        name,
                        format!("is not a parameter of the Statement resource ({})", PARAMETERS.join(", ")),
                    ));
                }
            }
        }
        if query.statement_id.is_some() && query.voided_statement_id.is_some() {
            return Err(XapiError::query("voidedStatementId", "cannot be combined with statementId"));
        }
        if let Some(single) = ["statementId", "voidedStatementId"].into_iter().find(|p| seen.contains(p))
            && let Some(other) =
                seen.iter().find(|p| !matches!(**p, "statementId" | "voidedStatementId" | "attachments" | "format"))
        {
            return Err(XapiError::query(other, format!("cannot be combined with {single} (only attachments and format can)")));
        }
        Ok(query)
    }

    /// Whether this asks for one statement by id (`statementId` or `voidedStatementId`).
    pub fn is_single(&self) -> bool {
        self.statement_id.is_some() || self.voided_statement_id.is_some()
    }
}

fn uuid_value(name: &str, value: &str) -> Result<Uuid, XapiError> {
    syntax::parse_uuid(value).ok_or_else(|| XapiError::query(name, format!("{value:?} is not a UUID")))
}

fn iri_value(name: &str, value: &str) -> Result<String, XapiError> {
    if syntax::is_iri(value) {
        Ok(value.to_owned())
    } else {
        Err(XapiError::query(name, format!("{value:?} is not an IRI")))
    }
}

fn bool_value(name: &str, value: &str) -> Result<bool, XapiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(XapiError::query(name, format!("{value:?} is not true or false"))),
    }
}

/// Query timestamps are read leniently (ISO 8601, as in 1.0.3) under both versions; a
/// negative-zero offset is still refused.
fn timestamp_value(name: &str, value: &str) -> Result<DateTime<Utc>, XapiError> {
    syntax::parse_timestamp(value, XapiVersion::V1_0_3)
        .ok_or_else(|| XapiError::query(name, format!("{value:?} is not an ISO 8601 timestamp")))
}
