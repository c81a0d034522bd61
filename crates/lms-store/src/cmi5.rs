//! cmi5 registrations and launch sessions (issue 8): storage.
//!
//! - A **registration** is one learner on one cmi5 package version; its id is the cmi5
//!   registration UUID. Its run-time state (`lms_cmi5::Registration` as JSON: AU progress,
//!   satisfied blocks and course, every session's status) is opaque text here: the server
//!   decides with the pure crate, the store keeps the result durable.
//! - [`Store::change_cmi5_registration`] reads the registration under a write lock, lets the
//!   caller decide (check a statement, launch, waive, abandon) and stores the new state, a
//!   new session, the `LMS.LaunchData` document and the statements the decision produced,
//!   so two requests of one registration never decide on the same old state.
//! - A **session** row holds the hash of the one-time fetch URL's secret and, once fetched,
//!   the hash of the auth token the AU sends to the LRS.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{BeginWrite, Db, with_db};
use crate::xapi::tx_support::*;
use crate::xapi::write_batches_in_tx;
use crate::{DocumentKey, DocumentWrite, Error, StatementBatch, Store, now_text};

/// The LRS client key under which the LMS stores the cmi5 statements it writes itself.
pub const CMI5_LMS_CLIENT_KEY: &str = "lms-cmi5";

/// A stored cmi5 registration.
#[derive(Clone, Debug, Serialize)]
pub struct Cmi5RegistrationRecord {
    pub id: String,
    pub package_id: String,
    pub personnel_number: String,
    /// The xAPI Agent the AUs are launched for.
    pub actor_json: String,
    /// `lms_cmi5::Registration` as JSON.
    pub state_json: String,
    pub course_satisfied: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A registration to create, with the state and statements the pure crate produced.
#[derive(Clone, Debug)]
pub struct NewCmi5Registration {
    pub id: String,
    pub package_id: String,
    pub personnel_number: String,
    pub actor_json: String,
    pub state_json: String,
    pub course_satisfied: bool,
    /// "satisfied" statements already due at creation (all-NotApplicable blocks/course).
    pub statements: Vec<PreparedStatement>,
}

/// A launch session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cmi5SessionRecord {
    pub id: String,
    pub registration_id: String,
    pub au_index: i64,
    /// `true` once the fetch URL handed out the auth token.
    pub fetched: bool,
}

/// A session to record with a change (a launch).
#[derive(Clone, Debug)]
pub struct NewCmi5Session {
    pub id: String,
    pub au_index: i64,
    /// The secret in the fetch URL (only its hash is stored).
    pub fetch_secret: String,
}

/// What one decision on a registration writes, all in one transaction.
#[derive(Clone, Debug, Default)]
pub struct Cmi5Change {
    /// The new `lms_cmi5::Registration` JSON; `None` keeps the stored one.
    pub state_json: Option<String>,
    pub course_satisfied: bool,
    pub new_session: Option<NewCmi5Session>,
    /// State/Profile documents to put (the `LMS.LaunchData` of a launch).
    pub documents: Vec<(DocumentKey, DocumentWrite)>,
    /// Documents to put only where none is stored (a default `cmi5LearnerPreferences`).
    pub documents_if_absent: Vec<(DocumentKey, DocumentWrite)>,
    /// Statements to store, in this order (the AU's, then the LMS's).
    pub statements: Vec<PreparedStatement>,
    /// Attachments that came with the AU's statements.
    pub attachments: Vec<NewAttachment>,
    /// The LRS client the AU's statements are stored under (`None`: the LMS's own).
    pub client_key: Option<String>,
}

const COLUMNS: &str = "id, package_id, personnel_number, actor_json, state_json, course_satisfied, created_at, updated_at";

type RegistrationRow = (String, String, String, String, String, bool, String, String);

fn record((id, package_id, personnel_number, actor_json, state_json, course_satisfied, created_at, updated_at): RegistrationRow) -> Cmi5RegistrationRecord {
    Cmi5RegistrationRecord { id, package_id, personnel_number, actor_json, state_json, course_satisfied, created_at, updated_at }
}

/// One batch of a decision's statements (`None` when there are none).
fn statement_batch(statements: Vec<PreparedStatement>, attachments: Vec<NewAttachment>, client_key: Option<String>) -> Option<StatementBatch> {
    if statements.is_empty() {
        return None;
    }
    Some(StatementBatch {
        statements,
        attachments,
        client_key: client_key.unwrap_or_else(|| CMI5_LMS_CLIENT_KEY.to_string()),
        define: false,
    })
}

/// SHA-256 (hex) of a secret: fetch secrets and auth tokens are stored only as hashes.
pub fn cmi5_secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(format!("lms-cmi5\0{secret}").as_bytes()))
}

impl Store {
    /// Creates a cmi5 registration (the package must be a cmi5 package, the person must exist).
    pub async fn create_cmi5_registration(&self, new: NewCmi5Registration) -> Result<Cmi5RegistrationRecord, Error> {
        let package = self
            .package(&new.package_id)
            .await?
            .ok_or_else(|| Error::NotFound { what: format!("package {:?}", new.package_id) })?;
        if package.standard != "cmi5" {
            return Err(Error::invalid("package_id", format!("package {:?} is {}, not cmi5", new.package_id, package.standard)));
        }
        if self.person(&new.personnel_number).await?.is_none() {
            return Err(Error::NotFound { what: format!("person {:?}", new.personnel_number) });
        }
        let now = now_text();
        let now_ms = chrono::Utc::now().timestamp_millis();
        let is_pg = matches!(self.db, Db::Postgres(_));
        let batch = statement_batch(new.statements, Vec::new(), Some(format!("cmi5:{}", new.id)));
        let inserted: Result<(), Error> = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM cmi5_registrations WHERE id = $1")
                    .bind(&new.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_some() {
                    return Err(Error::Conflict { what: format!("registration {}", new.id) });
                }
                sqlx::query(
                    "INSERT INTO cmi5_registrations (id, package_id, personnel_number, actor_json, state_json, course_satisfied, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                )
                .bind(&new.id)
                .bind(&new.package_id)
                .bind(&new.personnel_number)
                .bind(&new.actor_json)
                .bind(&new.state_json)
                .bind(new.course_satisfied)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                if let Some(batch) = &batch {
                    for outcome in write_batches_in_tx!(tx, is_pg, std::slice::from_ref(batch), now_ms) {
                        outcome?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }
            .await
        });
        inserted?;
        self.cmi5_registration(&new.id).await?.ok_or_else(|| Error::NotFound { what: format!("registration {}", new.id) })
    }

    pub async fn cmi5_registration(&self, id: &str) -> Result<Option<Cmi5RegistrationRecord>, Error> {
        let row: Option<RegistrationRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM cmi5_registrations WHERE id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(record))
    }

    /// The registrations of one person on one cmi5 package, oldest first.
    pub async fn cmi5_registrations_of(&self, personnel_number: &str) -> Result<Vec<Cmi5RegistrationRecord>, Error> {
        let rows: Vec<RegistrationRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM cmi5_registrations WHERE personnel_number = $1 ORDER BY created_at, id"
            )))
            .bind(personnel_number)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(record).collect())
    }

    /// Reads registration `id` under a write lock, calls `decide` with it and stores what it
    /// returns (see the module docs). `decide`'s error leaves everything as it was.
    pub async fn change_cmi5_registration<T, E: From<Error>>(
        &self,
        id: &str,
        decide: impl FnOnce(&Cmi5RegistrationRecord) -> Result<(T, Cmi5Change), E>,
    ) -> Result<T, E> {
        let is_pg = matches!(self.db, Db::Postgres(_));
        let lock = if is_pg { " FOR UPDATE" } else { "" };
        let now = now_text();
        let now_ms = chrono::Utc::now().timestamp_millis();
        let outcome: Result<Result<(T, Cmi5Change), E>, Error> = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                let row: Option<RegistrationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM cmi5_registrations WHERE id = $1{lock}"
                )))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else { return Err(Error::NotFound { what: format!("registration {id:?}") }) };
                let current = record(row);
                let (value, mut change) = match decide(&current) {
                    Ok(decided) => decided,
                    Err(e) => return Ok(Err(e)),
                };
                let statements = std::mem::take(&mut change.statements);
                let attachments = std::mem::take(&mut change.attachments);
                if let Some(batch) = statement_batch(statements, attachments, change.client_key.clone()) {
                    // the statements commit with the state that produced them, or not at all
                    for outcome in write_batches_in_tx!(tx, is_pg, std::slice::from_ref(&batch), now_ms) {
                        outcome?;
                    }
                }
                if let Some(state_json) = &change.state_json {
                    sqlx::query(
                        "UPDATE cmi5_registrations SET state_json = $1, course_satisfied = $2, updated_at = $3 WHERE id = $4",
                    )
                    .bind(state_json)
                    .bind(change.course_satisfied)
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(session) = &change.new_session {
                    sqlx::query(
                        "INSERT INTO cmi5_sessions (id, registration_id, au_index, fetch_secret_sha256, token_sha256, created_at) \
                         VALUES ($1, $2, $3, $4, NULL, $5)",
                    )
                    .bind(&session.id)
                    .bind(id)
                    .bind(session.au_index)
                    .bind(cmi5_secret_hash(&session.fetch_secret))
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
                let documents = change.documents.iter().map(|d| (d, true)).chain(change.documents_if_absent.iter().map(|d| (d, false)));
                for ((key, write), replace) in documents {
                    // the same table and key as `Store::write_xapi_document`
                    let on_conflict = if replace {
                        "DO UPDATE SET content = excluded.content, content_type = excluded.content_type, etag = excluded.etag, updated_ms = excluded.updated_ms"
                    } else {
                        "DO NOTHING"
                    };
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO xapi_documents (kind, activity_id, agent_key, registration, document_id, content, content_type, etag, updated_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (kind, activity_id, agent_key, registration, document_id) {on_conflict}"
                    )))
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
                }
                tx.commit().await?;
                Ok(Ok((value, change)))
            }
            .await
        });
        let (value, _) = outcome??;
        Ok(value)
    }

    /// The session whose fetch URL carries `fetch_secret`.
    pub async fn cmi5_session_by_fetch_secret(&self, fetch_secret: &str) -> Result<Option<Cmi5SessionRecord>, Error> {
        self.cmi5_session_where("fetch_secret_sha256", &cmi5_secret_hash(fetch_secret)).await
    }

    /// The session whose auth token is `token`.
    pub async fn cmi5_session_by_token(&self, token: &str) -> Result<Option<Cmi5SessionRecord>, Error> {
        self.cmi5_session_where("token_sha256", &cmi5_secret_hash(token)).await
    }

    pub async fn cmi5_session(&self, session_id: &str) -> Result<Option<Cmi5SessionRecord>, Error> {
        self.cmi5_session_where("id", session_id).await
    }

    async fn cmi5_session_where(&self, column: &'static str, value: &str) -> Result<Option<Cmi5SessionRecord>, Error> {
        let row: Option<(String, String, i64, Option<String>)> = with_db!(&self.db, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, registration_id, au_index, token_sha256 FROM cmi5_sessions WHERE {column} = $1"
            )))
            .bind(value)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(id, registration_id, au_index, token)| Cmi5SessionRecord {
            id,
            registration_id,
            au_index,
            fetched: token.is_some(),
        }))
    }

    /// Records `token` as the session's auth token unless one was handed out already
    /// (`false`: the fetch URL was used before).
    pub async fn issue_cmi5_token(&self, session_id: &str, token: &str) -> Result<bool, Error> {
        let n = with_db!(&self.db, |pool| {
            sqlx::query("UPDATE cmi5_sessions SET token_sha256 = $1 WHERE id = $2 AND token_sha256 IS NULL")
                .bind(cmi5_secret_hash(token))
                .bind(session_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }
}
