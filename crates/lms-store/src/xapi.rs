//! xAPI Learning Record Store (issue 4): storage of statements, attachments, Activity
//! definitions, State/Profile documents and LRS client credentials.
//!
//! Statements arrive validated and prepared by `lms-xapi` ([`lms_xapi::PreparedStatement`]).
//! [`Store::write_statement_batches`] stores several requests' batches in one transaction
//! (multi-row inserts, one existence check for all ids, activities upserted in id order so
//! concurrent writers never deadlock); [`XapiWriter`] feeds it from a channel, so concurrent
//! single-statement requests are committed together (group commit) and each is answered only
//! after its commit.
//!
//! Statements are numbered by `seq` (strictly increasing, assigned inside the write
//! transaction): ordering, paging cursors and the relation tables (agents, activities) use it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lms_xapi::{PreparedStatement, StatementObject};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use crate::db::{BeginWrite, Db, WriterConnection, in_write_tx, with_db};
use crate::{Error, Store, now_text};

/// The xAPI scopes a client can hold.
pub const XAPI_SCOPES: &[&str] =
    &["statements/write", "statements/read", "statements/read/mine", "state", "define", "profile", "all/read", "all"];

/// The home page of the accounts that name LRS clients in a statement's `authority`.
pub const XAPI_CLIENT_HOME_PAGE: &str = "https://lms.invalid/xapi/clients";

/// An LRS client (Basic-auth key and secret) and what it may do.
#[derive(Clone, Debug, PartialEq)]
pub struct XapiClient {
    pub key: String,
    pub scopes: BTreeSet<String>,
    /// The Agent written as `authority` into the statements this client stores.
    pub authority: Value,
}

impl XapiClient {
    /// Whether the client holds `scope`, directly or through `all` (and `all/read` for the
    /// read scopes).
    pub fn has_scope(&self, scope: &str) -> bool {
        if self.scopes.contains("all") || self.scopes.contains(scope) {
            return true;
        }
        let read_only = matches!(scope, "statements/read" | "statements/read/mine" | "state/read" | "profile/read" | "activities/read" | "agents/read");
        read_only && self.scopes.contains("all/read")
    }
}

fn secret_hash(key: &str, secret: &str) -> String {
    hex::encode(Sha256::digest(format!("lms-xapi-client\0{key}\0{secret}").as_bytes()))
}

fn client_authority(key: &str) -> Value {
    serde_json::json!({"objectType": "Agent", "account": {"homePage": XAPI_CLIENT_HOME_PAGE, "name": key}})
}

fn check_client(key: &str, secret: &str, scopes: &[&str]) -> Result<(), Error> {
    if key.is_empty() || key.len() > 200 || key.contains(':') || key.chars().any(char::is_control) {
        return Err(Error::invalid("key", "must be 1 to 200 characters without ':' or control characters"));
    }
    if secret.len() < 8 {
        return Err(Error::invalid("secret", "must be at least 8 characters"));
    }
    if scopes.is_empty() {
        return Err(Error::invalid("scopes", "name at least one scope"));
    }
    if let Some(bad) = scopes.iter().find(|s| !XAPI_SCOPES.contains(s)) {
        return Err(Error::invalid("scopes", format!("{bad:?} is not an xAPI scope ({})", XAPI_SCOPES.join(", "))));
    }
    Ok(())
}

/// Attachment data that came with a statement request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttachment {
    pub sha2: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// One request's statements: stored all together or not at all.
#[derive(Clone, Debug)]
pub struct StatementBatch {
    pub statements: Vec<PreparedStatement>,
    pub attachments: Vec<NewAttachment>,
    /// The client that sends them (for `statements/read/mine`).
    pub client_key: String,
    /// Whether Activity definitions in the statements update the canonical ones (scope `define`).
    pub define: bool,
}

/// A stored statement as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredStatement {
    pub seq: i64,
    pub json: String,
    pub stored_ms: i64,
    pub voided: bool,
}

/// What `GET /statements` asks the store for. Agent keys are `lms_xapi::Ifi::key` strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatementFilter {
    pub agent: Option<String>,
    pub related_agents: bool,
    pub verb: Option<String>,
    pub activity: Option<String>,
    pub related_activities: bool,
    pub registration: Option<String>,
    /// Stored strictly after (milliseconds since the epoch, rounded down).
    pub since_ms: Option<i64>,
    /// Stored at or before.
    pub until_ms: Option<i64>,
    /// Only statements stored by this client (`statements/read/mine`).
    pub client_key: Option<String>,
    pub ascending: bool,
    /// The paging cursor: continue after (ascending) or before (descending) this `seq`.
    pub cursor: Option<i64>,
    pub limit: u32,
}

impl StatementFilter {
    fn has_properties(&self) -> bool {
        self.agent.is_some() || self.verb.is_some() || self.activity.is_some() || self.registration.is_some()
    }
}

/// A page of statements and, when there are more, the cursor of the next page.
#[derive(Clone, Debug, PartialEq)]
pub struct StatementPage {
    pub statements: Vec<StoredStatement>,
    pub next_cursor: Option<i64>,
}

/// A stored attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAttachment {
    pub sha2: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// The three document resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    State,
    ActivityProfile,
    AgentProfile,
}

impl DocumentKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DocumentKind::State => "state",
            DocumentKind::ActivityProfile => "activity_profile",
            DocumentKind::AgentProfile => "agent_profile",
        }
    }
}

/// Where a document lives. Parts a resource does not use are `""`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentKey {
    pub kind: DocumentKind,
    pub activity_id: String,
    pub agent_key: String,
    pub registration: String,
    pub document_id: String,
}

/// A stored document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDocument {
    pub content: Vec<u8>,
    pub content_type: String,
    /// Quoted (`"…"`).
    pub etag: String,
    pub updated_ms: i64,
}

/// What a document write does once the current document has been read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentWrite {
    pub content: Vec<u8>,
    pub content_type: String,
    pub etag: String,
}

enum Param {
    Int(i64),
    Text(String),
}

macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                Param::Int(v) => q.bind(*v),
                Param::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }};
}

pub(crate) const STATEMENT_CHUNK: usize = 200;
pub(crate) const ROW_CHUNK: usize = 500;
pub(crate) const ID_CHUNK: usize = 500;

/// `prefix` followed by `rows` parenthesized lists of `columns` placeholders, then `suffix`:
/// numbered `$1, $2, …` on PostgreSQL, anonymous `?` on SQLite, because
/// binding numbered ones costs time quadratic in their number there (SQLite looks each name up
/// in a list), which dominated the cost of a multi-row insert of a few hundred rows.
pub(crate) fn values_sql_for(is_pg: bool, prefix: &str, columns: usize, rows: usize, suffix: &str) -> String {
    values_list(prefix, columns, rows, suffix, is_pg)
}

fn values_list(prefix: &str, columns: usize, rows: usize, suffix: &str, numbered: bool) -> String {
    let mut sql = String::with_capacity(prefix.len() + rows * columns * 6 + suffix.len());
    sql.push_str(prefix);
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push(',');
            }
            if numbered {
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push('?');
            }
            n += 1;
        }
        sql.push(')');
    }
    sql.push_str(suffix);
    sql
}

/// `count` placeholders numbered from 1 (PostgreSQL) or anonymous (SQLite), comma-separated:
/// the only parameters of a query (see [`values_sql_for`]).
pub(crate) fn placeholders_for(is_pg: bool, count: usize) -> String {
    if is_pg { placeholders(1, count) } else { vec!["?"; count].join(",") }
}

pub(crate) fn placeholders(from: usize, count: usize) -> String {
    (from..from + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(",")
}

/// A statement about to be inserted.
pub(crate) struct Row0<'a> {
    pub(crate) seq: i64,
    pub(crate) prepared: &'a PreparedStatement,
    pub(crate) json: String,
    pub(crate) client_key: &'a str,
}

/// A relation row: (agent key or activity id, seq, related_only).
pub(crate) type RelationRow<'a> = (&'a str, i64, i64);

/// What [`StatementTables::look_up`] found.
pub(crate) struct Lookup {
    /// `(id, json)` of the stored statements among the ids asked for.
    pub(crate) existing: Vec<(String, String)>,
    /// `(id, definition_json)` of the stored Activity definitions among the ids asked for.
    pub(crate) definitions: Vec<(String, String)>,
    /// As many new statement numbers as asked for, ascending.
    pub(crate) seqs: Vec<i64>,
}

/// What [`StatementTables::insert_statements`] writes.
pub(crate) struct NewRows<'a> {
    pub(crate) statements: &'a [Row0<'a>],
    pub(crate) agents: &'a [RelationRow<'a>],
    pub(crate) activities: &'a [RelationRow<'a>],
    pub(crate) refs: &'a [(i64, String, i64)],
    /// Activity definitions to insert or replace, in id order (so concurrent writers lock
    /// them in the same order and never deadlock).
    pub(crate) definitions: &'a [(&'a str, String)],
    pub(crate) now_ms: i64,
}

/// The reads and writes of [`write_batches_in_tx!`], whose SQL differs by backend: a group of
/// statements costs two round trips (one read, one write) plus one more only when it holds
/// voiding statements.
///
/// PostgreSQL gets every column as one array parameter (`UNNEST`, `= ANY`), so no statement's
/// text depends on how many rows it carries (each is prepared once per connection), and the
/// writes are one statement with data-modifying `WITH` parts. SQLite gets multi-row `VALUES`
/// lists with anonymous placeholders, several statements in one text, in chunks (it has no
/// arrays).
pub(crate) trait StatementTables {
    /// The stored statements among `ids`, the stored definitions among `definition_ids`, and
    /// `numbers` new statement numbers.
    fn look_up(&mut self, ids: &[String], definition_ids: &[&str], numbers: usize) -> impl Future<Output = Result<Lookup, Error>> + Send;
    /// Inserts the statements, their relation rows and the definitions. A new statement that an
    /// earlier stored voiding statement targets is stored voided (unless it is itself a voiding
    /// statement).
    fn insert_statements(&mut self, rows: &NewRows<'_>) -> impl Future<Output = Result<(), Error>> + Send;
    /// Marks the statements with `ids` voided (the targets of new voiding statements), except
    /// voiding statements, which are never voided.
    fn void_statements(&mut self, ids: &[String]) -> impl Future<Output = Result<(), Error>> + Send;
}

const VOID_TARGETS_SQL: &str = "UPDATE xapi_statements SET voided = 1 WHERE id IN ({ids}) AND voided = 0 \
     AND seq NOT IN (SELECT seq FROM xapi_statement_refs WHERE voiding = 1)";
const UPSERT_DEFINITIONS_TAIL: &str =
    " ON CONFLICT (id) DO UPDATE SET definition_json = excluded.definition_json, updated_ms = excluded.updated_ms";

/// Chunk `round` of `list` cut in chunks of `size` (empty past its end).
fn chunk_of<T>(list: &[T], size: usize, round: usize) -> &[T] {
    &list[(round * size).min(list.len())..((round + 1) * size).min(list.len())]
}

impl StatementTables for sqlx::SqliteConnection {
    async fn look_up(&mut self, ids: &[String], definition_ids: &[&str], numbers: usize) -> Result<Lookup, Error> {
        let mut found = Lookup { existing: Vec::new(), definitions: Vec::new(), seqs: Vec::new() };
        let rounds = ids.len().div_ceil(ID_CHUNK).max(definition_ids.len().div_ceil(ID_CHUNK)).max(1);
        let mut max_seq = 0;
        for round in 0..rounds {
            let (ids, definition_ids) = (chunk_of(ids, ID_CHUNK, round), chunk_of(definition_ids, ID_CHUNK, round));
            let mut parts = Vec::new();
            if !ids.is_empty() {
                parts.push(format!("SELECT 0, id, json FROM xapi_statements WHERE id IN ({})", placeholders_for(false, ids.len())));
            }
            if !definition_ids.is_empty() {
                parts.push(format!(
                    "SELECT 1, id, definition_json FROM xapi_activities WHERE id IN ({})",
                    placeholders_for(false, definition_ids.len())
                ));
            }
            if round == 0 {
                parts.push("SELECT 2, NULL, CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM xapi_statements".into());
            }
            let mut q = sqlx::query_as::<_, (i64, Option<String>, String)>(sqlx::AssertSqlSafe(parts.join(" UNION ALL ")));
            for id in ids {
                q = q.bind(id.as_str());
            }
            for id in definition_ids {
                q = q.bind(*id);
            }
            for (kind, id, text) in q.fetch_all(&mut *self).await? {
                match (kind, id) {
                    (0, Some(id)) => found.existing.push((id, text)),
                    (1, Some(id)) => found.definitions.push((id, text)),
                    _ => max_seq = text.parse().map_err(|_| Error::Task(format!("the highest statement number {text:?} is not a number")))?,
                }
            }
        }
        found.seqs = (1..=numbers as i64).map(|i| max_seq + i).collect();
        Ok(found)
    }

    async fn insert_statements(&mut self, rows: &NewRows<'_>) -> Result<(), Error> {
        let new_ids: Vec<String> = rows
            .statements
            .iter()
            .filter(|r| r.prepared.index.voided_statement_id.is_none())
            .map(|r| r.prepared.index.statement_id.hyphenated().to_string())
            .collect();
        let rounds = [
            rows.statements.len().div_ceil(STATEMENT_CHUNK),
            rows.agents.len().div_ceil(ROW_CHUNK),
            rows.activities.len().div_ceil(ROW_CHUNK),
            rows.refs.len().div_ceil(ROW_CHUNK),
            new_ids.len().div_ceil(ID_CHUNK),
            rows.definitions.len().div_ceil(ROW_CHUNK),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        for round in 0..rounds {
            let statements = chunk_of(rows.statements, STATEMENT_CHUNK, round);
            let agents = chunk_of(rows.agents, ROW_CHUNK, round);
            let activities = chunk_of(rows.activities, ROW_CHUNK, round);
            let refs = chunk_of(rows.refs, ROW_CHUNK, round);
            let new_ids = chunk_of(&new_ids, ID_CHUNK, round);
            let definitions = chunk_of(rows.definitions, ROW_CHUNK, round);
            // several statements in one text: SQLite binds the anonymous placeholders in order
            let mut parts = Vec::new();
            if !statements.is_empty() {
                parts.push(values_sql_for(
                    false,
                    "INSERT INTO xapi_statements (seq, id, stored_ms, verb_id, registration, voided, client_key, json) VALUES ",
                    8,
                    statements.len(),
                    "",
                ));
            }
            for (table, column, list) in
                [("xapi_statement_agents", "agent_key", agents), ("xapi_statement_activities", "activity_id", activities)]
            {
                if !list.is_empty() {
                    parts.push(values_sql_for(false, &format!("INSERT INTO {table} ({column}, seq, related_only) VALUES "), 3, list.len(), ""));
                }
            }
            if !refs.is_empty() {
                parts.push(values_sql_for(false, "INSERT INTO xapi_statement_refs (seq, ref_id, voiding) VALUES ", 3, refs.len(), ""));
            }
            if !new_ids.is_empty() {
                // after the refs: a voiding statement of the same batch counts too
                parts.push(format!(
                    "UPDATE xapi_statements SET voided = 1 WHERE id IN (SELECT ref_id FROM xapi_statement_refs WHERE voiding = 1 AND ref_id IN ({}))",
                    placeholders_for(false, new_ids.len())
                ));
            }
            if !definitions.is_empty() {
                parts.push(values_sql_for(
                    false,
                    "INSERT INTO xapi_activities (id, definition_json, updated_ms) VALUES ",
                    3,
                    definitions.len(),
                    UPSERT_DEFINITIONS_TAIL,
                ));
            }
            let sql = parts.join("; ");
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in statements {
                let ix = &r.prepared.index;
                q = q
                    .bind(r.seq)
                    .bind(ix.statement_id.hyphenated().to_string())
                    .bind(ix.stored.timestamp_millis())
                    .bind(ix.verb_id.as_str())
                    .bind(ix.registration.map(|u| u.hyphenated().to_string()))
                    .bind(0i64)
                    .bind(r.client_key)
                    .bind(r.json.as_str());
            }
            for (key, seq, related) in agents.iter().chain(activities) {
                q = q.bind(*key).bind(*seq).bind(*related);
            }
            for (seq, id, voiding) in refs {
                q = q.bind(*seq).bind(id.as_str()).bind(*voiding);
            }
            for id in new_ids {
                q = q.bind(id.as_str());
            }
            for (id, definition) in definitions {
                q = q.bind(*id).bind(definition.as_str()).bind(rows.now_ms);
            }
            q.execute(&mut *self).await?;
        }
        Ok(())
    }

    async fn void_statements(&mut self, ids: &[String]) -> Result<(), Error> {
        for chunk in ids.chunks(ID_CHUNK) {
            let sql = VOID_TARGETS_SQL.replace("{ids}", &placeholders_for(false, chunk.len()));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.as_str());
            }
            q.execute(&mut *self).await?;
        }
        Ok(())
    }
}

impl StatementTables for sqlx::PgConnection {
    async fn look_up(&mut self, ids: &[String], definition_ids: &[&str], numbers: usize) -> Result<Lookup, Error> {
        let mut found = Lookup { existing: Vec::new(), definitions: Vec::new(), seqs: Vec::with_capacity(numbers) };
        let rows = sqlx::query_as::<_, (i64, Option<String>, String)>(
            "SELECT 0::bigint, id, json FROM xapi_statements WHERE id = ANY($1) \
             UNION ALL SELECT 1, id, definition_json FROM xapi_activities WHERE id = ANY($2) \
             UNION ALL SELECT 2, NULL, nextval('xapi_statement_seq')::text FROM generate_series(1, $3)",
        )
        .bind(ids)
        .bind(definition_ids)
        .bind(numbers as i64)
        .fetch_all(&mut *self)
        .await?;
        for (kind, id, text) in rows {
            match (kind, id) {
                (0, Some(id)) => found.existing.push((id, text)),
                (1, Some(id)) => found.definitions.push((id, text)),
                _ => found.seqs.push(text.parse().map_err(|_| Error::Task(format!("the statement number {text:?} is not a number")))?),
            }
        }
        found.seqs.sort_unstable();
        Ok(found)
    }

    async fn insert_statements(&mut self, rows: &NewRows<'_>) -> Result<(), Error> {
        let n = rows.statements.len();
        let (mut seq, mut id, mut stored, mut verb, mut registration, mut voiding, mut client, mut json) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for r in rows.statements {
            let ix = &r.prepared.index;
            seq.push(r.seq);
            id.push(ix.statement_id.hyphenated().to_string());
            stored.push(ix.stored.timestamp_millis());
            verb.push(ix.verb_id.as_str());
            registration.push(ix.registration.map(|u| u.hyphenated().to_string()));
            voiding.push(ix.voided_statement_id.is_some() as i64);
            client.push(r.client_key);
            json.push(r.json.as_str());
        }
        fn relation<'a>(list: &[RelationRow<'a>]) -> (Vec<&'a str>, Vec<i64>, Vec<i64>) {
            (list.iter().map(|r| r.0).collect(), list.iter().map(|r| r.1).collect(), list.iter().map(|r| r.2).collect())
        }
        let (agent_keys, agent_seqs, agent_related) = relation(rows.agents);
        let (activity_ids, activity_seqs, activity_related) = relation(rows.activities);
        // every part sees the tables as they were before this statement: the EXISTS finds
        // earlier voiding statements only (the batch's own are applied by `void_statements`)
        let sql = format!(
            "WITH s AS (\
                INSERT INTO xapi_statements (seq, id, stored_ms, verb_id, registration, voided, client_key, json) \
                SELECT u.seq, u.id, u.stored_ms, u.verb_id, u.registration, \
                       CASE WHEN u.voiding = 0 AND EXISTS (SELECT 1 FROM xapi_statement_refs r WHERE r.voiding = 1 AND r.ref_id = u.id) \
                       THEN 1 ELSE 0 END, \
                       u.client_key, u.json \
                FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[]) \
                     AS u(seq, id, stored_ms, verb_id, registration, voiding, client_key, json)), \
             g AS (INSERT INTO xapi_statement_agents (agent_key, seq, related_only) \
                SELECT * FROM UNNEST($9::text[], $10::bigint[], $11::bigint[])), \
             a AS (INSERT INTO xapi_statement_activities (activity_id, seq, related_only) \
                SELECT * FROM UNNEST($12::text[], $13::bigint[], $14::bigint[])), \
             r AS (INSERT INTO xapi_statement_refs (seq, ref_id, voiding) SELECT * FROM UNNEST($15::bigint[], $16::text[], $17::bigint[])) \
             INSERT INTO xapi_activities (id, definition_json, updated_ms) \
             SELECT d.id, d.definition_json, $20 FROM UNNEST($18::text[], $19::text[]) WITH ORDINALITY AS d(id, definition_json, n) \
             ORDER BY d.n{UPSERT_DEFINITIONS_TAIL}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(seq)
            .bind(id)
            .bind(stored)
            .bind(verb)
            .bind(registration)
            .bind(voiding)
            .bind(client)
            .bind(json)
            .bind(agent_keys)
            .bind(agent_seqs)
            .bind(agent_related)
            .bind(activity_ids)
            .bind(activity_seqs)
            .bind(activity_related)
            .bind(rows.refs.iter().map(|r| r.0).collect::<Vec<i64>>())
            .bind(rows.refs.iter().map(|r| r.1.as_str()).collect::<Vec<&str>>())
            .bind(rows.refs.iter().map(|r| r.2).collect::<Vec<i64>>())
            .bind(rows.definitions.iter().map(|d| d.0).collect::<Vec<&str>>())
            .bind(rows.definitions.iter().map(|d| d.1.as_str()).collect::<Vec<&str>>())
            .bind(rows.now_ms)
            .execute(&mut *self)
            .await?;
        Ok(())
    }

    async fn void_statements(&mut self, ids: &[String]) -> Result<(), Error> {
        if !ids.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(VOID_TARGETS_SQL.replace("{ids}", "SELECT * FROM UNNEST($1::text[])")))
                .bind(ids)
                .execute(&mut *self)
                .await?;
        }
        Ok(())
    }
}

/// The body of [`Store::write_statement_batches`] inside an open write transaction `$tx`, so
/// other writers (SCORM commits) store statements atomically with their own rows. Evaluates to
/// the per-batch outcomes; `?` leaves the enclosing function (the transaction is then dropped,
/// i.e. rolled back).
macro_rules! write_batches_in_tx {
    ($tx:ident, $is_pg:expr, $batches:expr, $now_ms:expr) => {{
            // 1. which ids exist already, what the definitions say now (for every Activity a
            //    statement may define), and new statement numbers: one round trip
            let mut all_ids: Vec<String> = Vec::new();
            let mut candidate_definitions: BTreeSet<&str> = BTreeSet::new();
            for batch in $batches {
                for p in &batch.statements {
                    all_ids.push(p.index.statement_id.hyphenated().to_string());
                    if batch.define {
                        candidate_definitions.extend(lms_xapi::activity_definitions(&p.json).into_iter().map(|(id, _)| id));
                    }
                }
            }
            let numbers = all_ids.len();
            all_ids.sort_unstable();
            all_ids.dedup();
            let candidate_definitions: Vec<&str> = candidate_definitions.into_iter().collect();
            let lookup = StatementTables::look_up(&mut *$tx, &all_ids, &candidate_definitions, numbers).await?;
            let mut existing: HashMap<String, Value> = HashMap::new();
            for (id, json) in lookup.existing {
                existing.insert(id, serde_json::from_str(&json).unwrap_or(Value::Null));
            }

            // 2. decide per batch
            let mut outcomes: Vec<Result<(), Error>> = Vec::with_capacity($batches.len());
            let mut accepted: Vec<(&PreparedStatement, &str)> = Vec::new();
            let mut pending: HashMap<String, &Value> = HashMap::new();
            let mut attachments: BTreeMap<&str, &NewAttachment> = BTreeMap::new();
            let mut definitions: BTreeMap<&str, Value> = BTreeMap::new();
            for batch in $batches {
                let mut fresh: Vec<&PreparedStatement> = Vec::new();
                let mut conflict = None;
                for p in &batch.statements {
                    let id = p.index.statement_id.hyphenated().to_string();
                    let known = existing.get(&id).or_else(|| pending.get(&id).copied());
                    match known {
                        Some(old) if lms_xapi::statements_equivalent(&without_filled_timestamp(old), &without_filled_timestamp(&p.json)) => {}
                        Some(_) => {
                            conflict = Some(id);
                            break;
                        }
                        None => fresh.push(p),
                    }
                }
                if let Some(id) = conflict {
                    outcomes.push(Err(Error::Conflict { what: format!("a different statement with id {id}") }));
                    continue;
                }
                for p in fresh {
                    pending.insert(p.index.statement_id.hyphenated().to_string(), &p.json);
                    accepted.push((p, batch.client_key.as_str()));
                    if batch.define {
                        for (id, definition) in lms_xapi::activity_definitions(&p.json) {
                            let merged = match definitions.get(id) {
                                Some(earlier) => merge_definition(earlier, definition),
                                None => definition.clone(),
                            };
                            definitions.insert(id, merged);
                        }
                    }
                }
                for a in &batch.attachments {
                    attachments.insert(a.sha2.as_str(), a);
                }
                outcomes.push(Ok(()));
            }
            if !accepted.is_empty() {
                let rows: Vec<Row0> = accepted
                    .iter()
                    .zip(&lookup.seqs)
                    .map(|((p, client), seq)| Row0 { seq: *seq, prepared: p, json: p.json.to_string(), client_key: client })
                    .collect();

                let mut agent_rows: Vec<(&str, i64, i64)> = Vec::new();
                let mut activity_rows: Vec<(&str, i64, i64)> = Vec::new();
                let mut ref_rows: Vec<(i64, String, i64)> = Vec::new();
                for r in &rows {
                    let ix = &r.prepared.index;
                    for key in &ix.related_agent_keys {
                        let direct = ix.agent_keys.binary_search(key).is_ok();
                        agent_rows.push((key.as_str(), r.seq, if direct { 0 } else { 1 }));
                    }
                    for key in &ix.agent_keys {
                        if ix.related_agent_keys.binary_search(key).is_err() {
                            agent_rows.push((key.as_str(), r.seq, 0));
                        }
                    }
                    let object_activity = match &ix.object {
                        StatementObject::Activity { id } => Some(id.as_str()),
                        _ => None,
                    };
                    for id in &ix.related_activity_ids {
                        activity_rows.push((id.as_str(), r.seq, if Some(id.as_str()) == object_activity { 0 } else { 1 }));
                    }
                    if let Some(id) = object_activity
                        && ix.related_activity_ids.binary_search_by(|x| x.as_str().cmp(id)).is_err()
                    {
                        activity_rows.push((id, r.seq, 0));
                    }
                    if let StatementObject::StatementRef { id } = &ix.object {
                        ref_rows.push((r.seq, id.hyphenated().to_string(), ix.voided_statement_id.is_some() as i64));
                    }
                }

                // 3. attachments and activity definitions, in key order
                let attachment_list: Vec<&NewAttachment> = attachments.into_values().collect();
                for chunk in attachment_list.chunks(100) {
                    let sql = values_sql_for(
                        $is_pg,
                        "INSERT INTO xapi_attachments (sha2, content_type, content) VALUES ",
                        3,
                        chunk.len(),
                        " ON CONFLICT (sha2) DO NOTHING",
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for a in chunk {
                        q = q.bind(a.sha2.as_str()).bind(a.content_type.as_str()).bind(a.content.as_slice());
                    }
                    q.execute(&mut *$tx).await?;
                }
                // the canonical definition gathers what every statement said: language maps are
                // merged, other properties take the newest value
                let mut known: HashMap<String, Value> = HashMap::new();
                for (id, text) in lookup.definitions {
                    if let Ok(v) = serde_json::from_str(&text) {
                        known.insert(id, v);
                    }
                }
                // (a definition that says nothing new is not written again: most statements
                // repeat what their Activity's earlier statements said)
                let definition_list: Vec<(&str, String)> = definitions
                    .into_iter()
                    .filter_map(|(id, d)| match known.get(id) {
                        Some(old) => {
                            let merged = merge_definition(old, &d);
                            (merged != *old).then(|| (id, merged.to_string()))
                        }
                        None => Some((id, d.to_string())),
                    })
                    .collect();

                // 4. the statements, their relation rows and the definitions: one round trip
                StatementTables::insert_statements(
                    &mut *$tx,
                    &NewRows {
                        statements: &rows,
                        agents: &agent_rows,
                        activities: &activity_rows,
                        refs: &ref_rows,
                        definitions: &definition_list,
                        now_ms: $now_ms,
                    },
                )
                .await?;

                // 5. voiding: the targets of the new voiding statements (a new statement that an
                //    earlier voiding statement targets was stored voided)
                let mut void_ids: Vec<String> =
                    rows.iter().filter_map(|r| r.prepared.index.voided_statement_id).map(|u| u.hyphenated().to_string()).collect();
                void_ids.sort_unstable();
                void_ids.dedup();
                StatementTables::void_statements(&mut *$tx, &void_ids).await?;
            }
            outcomes
    }};
}
pub(crate) use write_batches_in_tx;

/// What [`write_batches_in_tx!`] names: `use crate::xapi::tx_support::*;` where it expands.
pub(crate) mod tx_support {
    pub(crate) use super::{NewAttachment, NewRows, Row0, StatementTables, merge_definition, values_sql_for, without_filled_timestamp};
    pub(crate) use lms_xapi::{PreparedStatement, StatementObject};
    pub(crate) use serde_json::Value;
    pub(crate) use std::collections::{BTreeMap, BTreeSet, HashMap};
}

impl Store {
    // ---- clients ------------------------------------------------------------------------

    /// Creates a client; a client with this key already existing is a conflict.
    pub async fn create_xapi_client(&self, key: &str, secret: &str, scopes: &[&str]) -> Result<XapiClient, Error> {
        check_client(key, secret, scopes)?;
        let authority = client_authority(key);
        let scopes_text = scopes.join(" ");
        let result = with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO xapi_clients (key, secret_sha256, scopes, authority_json, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(key)
            .bind(secret_hash(key, secret))
            .bind(&scopes_text)
            .bind(authority.to_string())
            .bind(now_text())
            .execute(pool)
            .await
            .map(|_| ())
        });
        match result {
            Ok(_) => Ok(XapiClient { key: key.into(), scopes: scopes.iter().map(|s| s.to_string()).collect(), authority }),
            Err(e) => {
                let e = Error::from(e);
                if e.is_unique_violation() { Err(Error::Conflict { what: format!("LRS client {key:?}") }) } else { Err(e) }
            }
        }
    }

    /// Creates the client, or sets its secret and scopes when it exists (for
    /// `LMS_LRS_BASIC=key:secret` at start).
    pub async fn ensure_xapi_client(&self, key: &str, secret: &str, scopes: &[&str]) -> Result<XapiClient, Error> {
        check_client(key, secret, scopes)?;
        let authority = client_authority(key);
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO xapi_clients (key, secret_sha256, scopes, authority_json, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (key) DO UPDATE SET secret_sha256 = excluded.secret_sha256, scopes = excluded.scopes",
            )
            .bind(key)
            .bind(secret_hash(key, secret))
            .bind(scopes.join(" "))
            .bind(authority.to_string())
            .bind(now_text())
            .execute(pool)
            .await?;
        });
        Ok(XapiClient { key: key.into(), scopes: scopes.iter().map(|s| s.to_string()).collect(), authority })
    }

    /// The client with this key and secret, or `None` when either is wrong.
    pub async fn authenticate_xapi_client(&self, key: &str, secret: &str) -> Result<Option<XapiClient>, Error> {
        let row: Option<(String, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT secret_sha256, scopes, authority_json FROM xapi_clients WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        let Some((hash, scopes, authority)) = row else { return Ok(None) };
        let expected = secret_hash(key, secret);
        // constant-time comparison of the two hex strings
        let same = hash.len() == expected.len()
            && hash.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return Ok(None);
        }
        let authority = serde_json::from_str(&authority).unwrap_or_else(|_| client_authority(key));
        Ok(Some(XapiClient { key: key.into(), scopes: scopes.split_whitespace().map(str::to_string).collect(), authority }))
    }

    // ---- statements: writing ---------------------------------------------------------------

    /// Stores several requests' batches in one transaction. Each batch is stored entirely or
    /// not at all: a statement whose id is already stored (or used earlier in this call) with
    /// different content fails its batch with [`Error::Conflict`]; an identical one is skipped.
    /// The outer error means the transaction itself failed (nothing was stored).
    pub async fn write_statement_batches(&self, batches: &[StatementBatch]) -> Result<Vec<Result<(), Error>>, Error> {
        self.write_statement_batches_on(&mut WriterConnection::borrowed(), batches).await
    }

    /// [`Store::write_statement_batches`] on a writer's own connection.
    pub(crate) async fn write_statement_batches_on(
        &self,
        writer: &mut WriterConnection,
        batches: &[StatementBatch],
    ) -> Result<Vec<Result<(), Error>>, Error> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let is_pg = matches!(self.db, Db::Postgres(_));
        in_write_tx!(writer, &self.db, |tx| {
            let outcomes = write_batches_in_tx!(tx, is_pg, batches, now_ms);
            tx.commit().await?;
            Ok(outcomes)
        })
    }

    // ---- statements: reading ------------------------------------------------------------

    /// One statement by id, voided or not (the caller decides what to show).
    pub async fn xapi_statement(&self, id: &str) -> Result<Option<StoredStatement>, Error> {
        let row = with_db!(&self.db, |pool| {
            sqlx::query("SELECT seq, json, stored_ms, voided FROM xapi_statements WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|row| -> Result<StoredStatement, sqlx::Error> {
                    Ok(StoredStatement {
                        seq: row.try_get(0)?,
                        json: row.try_get(1)?,
                        stored_ms: row.try_get(2)?,
                        voided: row.try_get::<i64, _>(3)? != 0,
                    })
                })
                .transpose()?
        });
        Ok(row)
    }

    /// Number of stored statements (voided ones included).
    pub async fn xapi_statement_count(&self) -> Result<i64, Error> {
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM xapi_statements").fetch_one(pool).await?
        }))
    }

    /// The statements matching `filter`, newest first unless `ascending`; voided statements
    /// never, and besides the statements matching the agent/verb/activity/registration
    /// conditions themselves, those whose StatementRef object points at a matching one.
    pub async fn query_xapi_statements(&self, filter: &StatementFilter) -> Result<StatementPage, Error> {
        let limit = filter.limit.clamp(1, 10_000) as i64;
        let order = if filter.ascending { "ASC" } else { "DESC" };

        // the statements themselves
        let mut params: Vec<Param> = Vec::new();
        // With an agent (else an activity) filter, its relation table drives the query: its
        // (key, seq) index yields the matches in order (CROSS JOIN keeps SQLite from starting
        // at a less selective verb index when it has no statistics).
        let driver = if filter.agent.is_some() {
            Some(("xapi_statement_agents", "ag"))
        } else if filter.activity.is_some() {
            Some(("xapi_statement_activities", "ac"))
        } else {
            None
        };
        let mut sql = match driver {
            Some((table, alias)) => format!("SELECT s.seq, s.json, s.stored_ms FROM {table} {alias} CROSS JOIN xapi_statements s"),
            None => String::from("SELECT s.seq, s.json, s.stored_ms FROM xapi_statements s"),
        };
        let mut conditions: Vec<String> = vec!["s.voided = 0".into()];
        let mut target_conditions: Vec<String> = Vec::new();
        property_conditions(filter, "s", &mut params, &mut conditions, &mut target_conditions, true, &mut sql);
        if let Some((_, alias)) = driver {
            // the driver's join condition moves from ON to WHERE
            let on = format!(" JOIN {} {alias} ON ", if alias == "ag" { "xapi_statement_agents" } else { "xapi_statement_activities" });
            if let Some(start) = sql.find(&on) {
                let rest = &sql[start + on.len()..];
                let end = rest.find(" JOIN ").unwrap_or(rest.len());
                let condition = rest[..end].to_string();
                sql.replace_range(start..start + on.len() + end, "");
                conditions.push(condition);
            }
        }
        time_conditions(filter, "s", &mut params, &mut conditions);
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
        params.push(Param::Int(limit + 1));
        let order_by = driver.map(|(_, alias)| alias).unwrap_or("s");
        sql.push_str(&format!(" ORDER BY {order_by}.seq {order} LIMIT ${}", params.len()));

        let mut found = self.fetch_statements(sql, &params).await?;

        // statements that refer to a matching one
        if filter.has_properties() {
            let mut params: Vec<Param> = Vec::new();
            // The few StatementRef rows drive this query (CROSS JOIN fixes the order on SQLite,
            // which otherwise starts from every statement with the filter's verb).
            let mut sql = String::from(
                "SELECT s.seq, s.json, s.stored_ms FROM xapi_statement_refs r \
                 CROSS JOIN xapi_statements t CROSS JOIN xapi_statements s",
            );
            let mut conditions: Vec<String> = vec!["t.id = r.ref_id".into(), "s.seq = r.seq".into(), "s.voided = 0".into()];
            let mut unused = Vec::new();
            property_conditions(filter, "t", &mut params, &mut conditions, &mut unused, false, &mut sql);
            time_conditions(filter, "s", &mut params, &mut conditions);
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
            params.push(Param::Int(limit + 1));
            sql.push_str(&format!(" ORDER BY r.seq {order} LIMIT ${}", params.len()));
            let referring = self.fetch_statements(sql, &params).await?;
            if !referring.is_empty() {
                found.extend(referring);
                found.sort_by_key(|s| s.seq);
                found.dedup_by_key(|s| s.seq);
                if !filter.ascending {
                    found.reverse();
                }
            }
        }
        let next_cursor = if found.len() as i64 > limit {
            found.truncate(limit as usize);
            found.last().map(|s| s.seq)
        } else {
            None
        };
        Ok(StatementPage { statements: found, next_cursor })
    }

    async fn fetch_statements(&self, sql: String, params: &[Param]) -> Result<Vec<StoredStatement>, Error> {
        Ok(with_db!(&self.db, |pool| {
            let q = bind_params!(sqlx::query(sqlx::AssertSqlSafe(sql)), params);
            let rows = q.fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(StoredStatement { seq: row.try_get(0)?, json: row.try_get(1)?, stored_ms: row.try_get(2)?, voided: false });
            }
            out
        }))
    }

    /// Stored attachments by SHA-2 (those that exist).
    pub async fn xapi_attachments(&self, sha2s: &[String]) -> Result<Vec<StoredAttachment>, Error> {
        let mut out = Vec::new();
        for chunk in sha2s.chunks(ID_CHUNK) {
            let sql = format!("SELECT sha2, content_type, content FROM xapi_attachments WHERE sha2 IN ({})", placeholders(1, chunk.len()));
            with_db!(&self.db, |pool| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for s in chunk {
                    q = q.bind(s.as_str());
                }
                for row in q.fetch_all(pool).await? {
                    out.push(StoredAttachment { sha2: row.try_get(0)?, content_type: row.try_get(1)?, content: row.try_get(2)? });
                }
            });
        }
        Ok(out)
    }

    /// The canonical definition of an Activity, if the LRS has one.
    pub async fn xapi_activity_definition(&self, id: &str) -> Result<Option<Value>, Error> {
        let text: Option<String> = with_db!(&self.db, |pool| {
            sqlx::query_scalar("SELECT definition_json FROM xapi_activities WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Canonical definitions of several Activities (those known).
    pub async fn xapi_activity_definitions(&self, ids: &[String]) -> Result<HashMap<String, Value>, Error> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(ID_CHUNK) {
            let sql = format!("SELECT id, definition_json FROM xapi_activities WHERE id IN ({})", placeholders(1, chunk.len()));
            with_db!(&self.db, |pool| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for s in chunk {
                    q = q.bind(s.as_str());
                }
                for row in q.fetch_all(pool).await? {
                    let id: String = row.try_get(0)?;
                    let text: String = row.try_get(1)?;
                    if let Ok(v) = serde_json::from_str(&text) {
                        out.insert(id, v);
                    }
                }
            });
        }
        Ok(out)
    }

    // ---- documents ------------------------------------------------------------------------

    pub async fn xapi_document(&self, key: &DocumentKey) -> Result<Option<StoredDocument>, Error> {
        Ok(with_db!(&self.db, |pool| {
            sqlx::query(
                "SELECT content, content_type, etag, updated_ms FROM xapi_documents \
                 WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 AND registration = $4 AND document_id = $5",
            )
            .bind(key.kind.as_str())
            .bind(&key.activity_id)
            .bind(&key.agent_key)
            .bind(&key.registration)
            .bind(&key.document_id)
            .fetch_optional(pool)
            .await?
            .map(|row| -> Result<StoredDocument, sqlx::Error> {
                Ok(StoredDocument {
                    content: row.try_get(0)?,
                    content_type: row.try_get(1)?,
                    etag: row.try_get(2)?,
                    updated_ms: row.try_get(3)?,
                })
            })
            .transpose()?
        }))
    }

    /// Reads the current document and writes what `decide` returns, in one transaction
    /// (`decide` checks preconditions and merges; its error aborts without a change).
    pub async fn write_xapi_document(
        &self,
        key: &DocumentKey,
        decide: impl FnOnce(Option<StoredDocument>) -> Result<DocumentWrite, Error>,
    ) -> Result<(), Error> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin_write().await?;
            let current = sqlx::query(
                "SELECT content, content_type, etag, updated_ms FROM xapi_documents \
                 WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 AND registration = $4 AND document_id = $5",
            )
            .bind(key.kind.as_str())
            .bind(&key.activity_id)
            .bind(&key.agent_key)
            .bind(&key.registration)
            .bind(&key.document_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| -> Result<StoredDocument, sqlx::Error> {
                Ok(StoredDocument {
                    content: row.try_get(0)?,
                    content_type: row.try_get(1)?,
                    etag: row.try_get(2)?,
                    updated_ms: row.try_get(3)?,
                })
            })
            .transpose()?;
            let write = decide(current)?;
            sqlx::query(
                "INSERT INTO xapi_documents (kind, activity_id, agent_key, registration, document_id, content, content_type, etag, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (kind, activity_id, agent_key, registration, document_id) DO UPDATE SET \
                 content = excluded.content, content_type = excluded.content_type, etag = excluded.etag, updated_ms = excluded.updated_ms",
            )
            .bind(key.kind.as_str())
            .bind(&key.activity_id)
            .bind(&key.agent_key)
            .bind(&key.registration)
            .bind(&key.document_id)
            .bind(write.content.as_slice())
            .bind(&write.content_type)
            .bind(&write.etag)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes one document after `check` accepted the current one (`None`: there is none).
    pub async fn delete_xapi_document(
        &self,
        key: &DocumentKey,
        check: impl FnOnce(Option<&StoredDocument>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let current = self.xapi_document(key).await?;
        check(current.as_ref())?;
        with_db!(&self.db, |pool| {
            sqlx::query(
                "DELETE FROM xapi_documents WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 AND registration = $4 AND document_id = $5",
            )
            .bind(key.kind.as_str())
            .bind(&key.activity_id)
            .bind(&key.agent_key)
            .bind(&key.registration)
            .bind(&key.document_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Deletes every document of `key`'s kind, activity, agent and registration (the
    /// `document_id` of `key` is ignored): State's DELETE without `stateId`.
    pub async fn delete_xapi_documents(&self, key: &DocumentKey) -> Result<u64, Error> {
        Ok(with_db!(&self.db, |pool| {
            sqlx::query("DELETE FROM xapi_documents WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 AND registration = $4")
                .bind(key.kind.as_str())
                .bind(&key.activity_id)
                .bind(&key.agent_key)
                .bind(&key.registration)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// The ids of the documents of `key`'s kind, activity, agent and registration, updated
    /// after `since_ms` if given, in id order.
    pub async fn xapi_document_ids(&self, key: &DocumentKey, since_ms: Option<i64>) -> Result<Vec<String>, Error> {
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_scalar(
                "SELECT document_id FROM xapi_documents WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 \
                 AND registration = $4 AND updated_ms > $5 ORDER BY document_id",
            )
            .bind(key.kind.as_str())
            .bind(&key.activity_id)
            .bind(&key.agent_key)
            .bind(&key.registration)
            .bind(since_ms.unwrap_or(i64::MIN))
            .fetch_all(pool)
            .await?
        }))
    }
}

/// The statement without the `timestamp` the LRS filled in (equal to `stored`), so that a
/// re-sent statement without timestamp compares as the same statement.
pub(crate) fn without_filled_timestamp(statement: &Value) -> std::borrow::Cow<'_, Value> {
    let filled = statement.get("timestamp").is_some() && statement.get("timestamp") == statement.get("stored");
    if filled {
        let mut copy = statement.clone();
        if let Some(map) = copy.as_object_mut() {
            map.remove("timestamp");
        }
        std::borrow::Cow::Owned(copy)
    } else {
        std::borrow::Cow::Borrowed(statement)
    }
}

/// `newer` over `older`: language maps (`name`, `description`) keep the older languages and
/// take the newer texts; every other property is the newer one when present.
pub(crate) fn merge_definition(older: &Value, newer: &Value) -> Value {
    let (Some(old), Some(new)) = (older.as_object(), newer.as_object()) else { return newer.clone() };
    let mut merged = old.clone();
    for (key, value) in new {
        match (key.as_str(), merged.get_mut(key), value) {
            ("name" | "description", Some(Value::Object(target)), Value::Object(source)) => {
                for (lang, text) in source {
                    target.insert(lang.clone(), text.clone());
                }
            }
            _ => {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(merged)
}

/// Agent/verb/activity/registration conditions on the statement `t`. `joins` says whether
/// the relation tables may be joined (ordering follows their keys) or must be `EXISTS`.
fn property_conditions(
    filter: &StatementFilter,
    t: &str,
    params: &mut Vec<Param>,
    conditions: &mut Vec<String>,
    _unused: &mut Vec<String>,
    joins: bool,
    sql: &mut String,
) {
    if let Some(agent) = &filter.agent {
        params.push(Param::Text(agent.clone()));
        let related = if filter.related_agents { "" } else { " AND ag.related_only = 0" };
        if joins {
            sql.push_str(&format!(" JOIN xapi_statement_agents ag ON ag.seq = {t}.seq AND ag.agent_key = ${}{related}", params.len()));
        } else {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM xapi_statement_agents ag WHERE ag.agent_key = ${} AND ag.seq = {t}.seq{related})",
                params.len()
            ));
        }
    }
    if let Some(activity) = &filter.activity {
        params.push(Param::Text(activity.clone()));
        let related = if filter.related_activities { "" } else { " AND ac.related_only = 0" };
        if joins {
            sql.push_str(&format!(
                " JOIN xapi_statement_activities ac ON ac.seq = {t}.seq AND ac.activity_id = ${}{related}",
                params.len()
            ));
        } else {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM xapi_statement_activities ac WHERE ac.activity_id = ${} AND ac.seq = {t}.seq{related})",
                params.len()
            ));
        }
    }
    if let Some(verb) = &filter.verb {
        params.push(Param::Text(verb.clone()));
        conditions.push(format!("{t}.verb_id = ${}", params.len()));
    }
    if let Some(registration) = &filter.registration {
        params.push(Param::Text(registration.clone()));
        conditions.push(format!("{t}.registration = ${}", params.len()));
    }
}

fn time_conditions(filter: &StatementFilter, s: &str, params: &mut Vec<Param>, conditions: &mut Vec<String>) {
    if let Some(since) = filter.since_ms {
        params.push(Param::Int(since));
        conditions.push(format!("{s}.stored_ms > ${}", params.len()));
    }
    if let Some(until) = filter.until_ms {
        params.push(Param::Int(until));
        conditions.push(format!("{s}.stored_ms <= ${}", params.len()));
    }
    if let Some(cursor) = filter.cursor {
        params.push(Param::Int(cursor));
        let op = if filter.ascending { ">" } else { "<" };
        conditions.push(format!("{s}.seq {op} ${}", params.len()));
    }
    if let Some(client) = &filter.client_key {
        params.push(Param::Text(client.clone()));
        conditions.push(format!("{s}.client_key = ${}", params.len()));
    }
}

// ---- group commit -------------------------------------------------------------------------

type WriteRequest = (StatementBatch, oneshot::Sender<Result<(), Error>>);

/// Most statements committed in one transaction.
const GROUP_STATEMENTS: usize = 2_000;
/// Most attachment bytes in one transaction.
const GROUP_ATTACHMENT_BYTES: usize = 32 * 1024 * 1024;

/// The statement writer: a task that takes every batch that has arrived while the previous
/// transaction committed and stores them together. Cheap to clone.
#[derive(Clone, Debug)]
pub struct XapiWriter {
    sender: mpsc::Sender<WriteRequest>,
}

impl XapiWriter {
    /// Starts the writer task on the current tokio runtime. It ends when every handle is dropped.
    pub fn spawn(store: Store) -> XapiWriter {
        let (sender, mut receiver) = mpsc::channel::<WriteRequest>(4_096);
        tokio::spawn(async move {
            let mut connection = WriterConnection::dedicated();
            // the writer lets its connection go when the store closes (it would wait for it)
            let closing = store.db.close_event();
            tokio::pin!(closing);
            loop {
                let first = tokio::select! {
                    biased;
                    _ = &mut closing => break,
                    first = receiver.recv() => match first {
                        Some(first) => first,
                        None => break,
                    },
                };
                let mut size = first.0.statements.len();
                let mut bytes: usize = first.0.attachments.iter().map(|a| a.content.len()).sum();
                let mut group = vec![first];
                while size < GROUP_STATEMENTS && bytes < GROUP_ATTACHMENT_BYTES {
                    match receiver.try_recv() {
                        Ok(next) => {
                            size += next.0.statements.len();
                            bytes += next.0.attachments.iter().map(|a| a.content.len()).sum::<usize>();
                            group.push(next);
                        }
                        Err(_) => break,
                    }
                }
                let (batches, replies): (Vec<StatementBatch>, Vec<oneshot::Sender<Result<(), Error>>>) = group.into_iter().unzip();
                match store.write_statement_batches_on(&mut connection, &batches).await {
                    Ok(outcomes) => {
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(outcome);
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, "storing statements failed");
                        let message = error.to_string();
                        for reply in replies {
                            let _ = reply.send(Err(Error::Task(format!("storing statements failed: {message}"))));
                        }
                    }
                }
            }
        });
        XapiWriter { sender }
    }

    /// Stores one request's statements; returns after their transaction committed.
    pub async fn write(&self, batch: StatementBatch) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.sender.send((batch, reply)).await.map_err(|_| Error::Task("the statement writer has stopped".into()))?;
        answer.await.map_err(|_| Error::Task("the statement writer has stopped".into()))?
    }
}
