//! SCORM registrations, attempts and commits (issue 3): storage.
//!
//! - A **registration** is one learner on one package version (`package_id`); it never moves to
//!   a newer upload, so an attempt always continues on the version it started on.
//! - Each registration has a current **attempt** number; the run-time state of every SCO of
//!   that attempt is one row holding the whole [`lms_rte::Attempt`] as JSON. Older attempts
//!   stay as history.
//! - A **session** is one launch of one SCO. The player gets a random token for it; commits
//!   name the session and carry the token.
//! - [`Store::apply_scorm_commit`] re-applies the calls the browser accepted through the Rust
//!   run-time (authoritative) and stores the new state, the commit row and the session's
//!   sequence number in **one** transaction; the caller acknowledges only after it returns.
//!   A batch whose sequence number was already applied is skipped, so retries are harmless.

use std::collections::HashMap;

use lms_rte::{Attempt, AttemptConfig, Call, SessionState, UnixMillis};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{BeginWrite, Db, WriterConnection, in_write_tx, with_db};
use crate::xapi::tx_support::*;
use crate::xapi::{StatementBatch, write_batches_in_tx};
use crate::{Error, Store, now_text};

/// What launching a completed registration does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterCompletion {
    /// Start attempt n+1 with fresh data.
    NewAttempt,
    /// Show the content in review mode (`cmi.mode = review`, no credit); nothing is stored.
    Review,
}

impl AfterCompletion {
    pub fn as_str(self) -> &'static str {
        match self {
            AfterCompletion::NewAttempt => "new_attempt",
            AfterCompletion::Review => "review",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "new_attempt" => Some(AfterCompletion::NewAttempt),
            "review" => Some(AfterCompletion::Review),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewRegistration {
    pub package_id: String,
    pub personnel_number: String,
    pub after_completion: AfterCompletion,
}

/// A stored registration.
#[derive(Clone, Debug, Serialize)]
pub struct Registration {
    pub id: String,
    pub package_id: String,
    pub personnel_number: String,
    pub after_completion: AfterCompletion,
    pub attempt: i64,
    pub last_item_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The stored run-time state of one SCO in the registration's current attempt.
#[derive(Clone, Debug)]
pub struct ScoRecord {
    pub item_id: String,
    pub attempt_json: String,
    pub updated_at: String,
}

/// How a session is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaunchKind {
    /// Continue the current attempt (resume after suspend, per the run-time's rules).
    Normal,
    /// Start the registration's next attempt first (the course was completed).
    NewAttempt,
    /// Review: the stored data is shown read-only and commits are acknowledged, not stored.
    Review,
    /// Start a new attempt of this SCO's data even when it was suspended (the sequencer began
    /// a new attempt on its activity, e.g. a retry); the registration's attempt stays.
    NewScoAttempt,
}

/// The stored sequencing state of a registration (SCORM 2004 with the sequencer).
#[derive(Clone, Debug)]
pub struct SequencingRecord {
    /// `lms_sequencing::SequencingState` as JSON.
    pub state_json: String,
    /// Bumped by every save; name it in [`SequencingSave::expected_version`].
    pub version: i64,
}

/// One save of a registration's sequencing state (and of the learner's shared global
/// objectives), written in one transaction.
#[derive(Clone, Debug)]
pub struct SequencingSave {
    pub registration_id: String,
    pub state_json: String,
    /// The version read before the navigation (`None`: there was no state yet). When another
    /// save came in between, the save is refused with [`Error::Conflict`].
    pub expected_version: Option<i64>,
    /// `(personnel_number, GlobalObjectives JSON)` for packages whose organization keeps
    /// objectives global to the system.
    pub learner_objectives: Option<(String, String)>,
}

/// What every xAPI statement of one SCO session shares (ADL's xAPI SCORM profile): fixed when
/// the session opens and kept with it, so each commit turns its run-time events into
/// statements in the commit's own transaction.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct ScoXapiContext {
    /// The LMS's public URL: the learner account's `homePage` and the base of activity IRIs.
    pub home_page: String,
    /// The learner's personnel number: the account `name` (never an e-mail, never the name).
    pub personnel_number: String,
    /// The course activity (one per course across uploaded versions).
    pub course_iri: String,
    pub course_title: Option<String>,
    /// The SCO activity.
    pub sco_iri: String,
    pub sco_title: String,
    /// RFC 5646 tag of the titles, e.g. `de-DE`.
    pub language: String,
}

impl ScoXapiContext {
    /// The context for one SCO of a course: activity IRIs under `public_url` (the course by
    /// its `course_key`, so all uploaded versions are one activity; the SCO by its item id).
    pub fn new(
        public_url: &str,
        personnel_number: &str,
        course_key: &str,
        course_title: &str,
        item_id: &str,
        sco_title: &str,
    ) -> Result<Self, Error> {
        let course_iri = lms_scorm_xapi::course_iri(public_url, course_key).map_err(|e| Error::invalid("public_url", e.to_string()))?;
        Ok(ScoXapiContext {
            home_page: public_url.trim_end_matches('/').to_string(),
            personnel_number: personnel_number.to_string(),
            sco_iri: lms_scorm_xapi::sco_iri(&course_iri, item_id),
            course_iri,
            course_title: (!course_title.is_empty()).then(|| course_title.to_string()),
            sco_title: sco_title.to_string(),
            // The manifest does not say which language its titles are in.
            language: "und".into(),
        })
    }
}

/// The client key SCORM statements are stored under (for `statements/read/mine`).
pub const SCORM_STATEMENT_CLIENT: &str = "lms:scorm";

/// A session the player can hand to the browser.
#[derive(Clone, Debug)]
pub struct OpenedSession {
    pub session_id: String,
    /// The secret the browser sends with each commit (only its hash is stored).
    pub token: String,
    pub item_id: String,
    pub attempt: i64,
    pub review: bool,
    /// The attempt as the browser's run-time starts from (`Attempt::to_json`).
    pub attempt_json: String,
}

/// What the content frame of a session needs.
#[derive(Clone, Debug)]
pub struct SessionStart {
    pub registration_id: String,
    pub package_id: String,
    pub item_id: String,
    pub review: bool,
    pub start_json: String,
    /// `false` once the session has committed or a newer launch superseded it: a reloaded
    /// content frame must not start again from `start_json`.
    pub fresh: bool,
}

/// One `Commit`/`Terminate` as the browser sends it: the accepted calls since the previous
/// batch, in order, ending with the `Commit` or `Terminate` (or an implicit `Commit` when the
/// page goes away). Each call is `[method, args…]`.
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommitBatchIn {
    pub seq: i64,
    pub calls: Vec<Vec<String>>,
}

/// One session's commit, as [`Store::apply_scorm_commits`] and [`ScormCommitWriter`] take it.
#[derive(Clone, Debug)]
pub struct ScormCommitRequest {
    pub session_id: String,
    pub token: String,
    pub batches: Vec<CommitBatchIn>,
    pub now: UnixMillis,
}

/// A call the authoritative run-time refused although the browser had accepted it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RefusedCall {
    pub seq: i64,
    pub call: Vec<String>,
    pub error: u16,
}

/// The answer to a commit, sent only after it is durable.
#[derive(Clone, Debug, Serialize)]
pub struct CommitAck {
    /// Every batch up to this sequence number is stored.
    pub acked_seq: i64,
    /// Sequence numbers applied by this request (retries of applied ones are not listed).
    pub applied: Vec<i64>,
    pub refused: Vec<RefusedCall>,
    /// The session has terminated.
    pub terminated: bool,
    /// `adl.nav.request` as the SCO left it (`None` for `_none_` and SCORM 1.2).
    pub nav_request: Option<String>,
    /// This commit reported completion or passing: the registration whose course status the
    /// caller re-evaluates.
    #[serde(skip)]
    pub completion_reported: Option<String>,
    /// xAPI statements stored with this commit.
    #[serde(skip)]
    pub statements_stored: usize,
}

const REGISTRATION_COLUMNS: &str =
    "id, package_id, personnel_number, after_completion, attempt, last_item_id, created_at, updated_at";

fn registration_from_row<R: Row>(row: &R) -> Result<Registration, Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let after: String = row.try_get("after_completion")?;
    Ok(Registration {
        id: row.try_get("id")?,
        package_id: row.try_get("package_id")?,
        personnel_number: row.try_get("personnel_number")?,
        after_completion: AfterCompletion::parse(&after).unwrap_or(AfterCompletion::Review),
        attempt: row.try_get("attempt")?,
        last_item_id: row.try_get("last_item_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn json_error(e: impl std::fmt::Display) -> Error {
    Error::Task(format!("stored SCORM state cannot be read: {e}"))
}

/// The attempt as a review session shows it: stored data, `review` mode, no credit, not yet
/// initialized.
fn review_copy(attempt: &Attempt) -> Result<String, Error> {
    let mut value: serde_json::Value = serde_json::from_str(&attempt.to_json()).map_err(json_error)?;
    value["config"]["mode"] = "review".into();
    value["config"]["credit"] = "no_credit".into();
    value["state"] = "not_initialized".into();
    value["last_error"] = 0.into();
    value["data"]["entry"] = "".into();
    let text = value.to_string();
    Attempt::from_json(&text).map_err(json_error)?;
    Ok(text)
}

/// Writes a [`SequencingSave`] inside the open transaction `$tx` (the same statements on
/// both backends); evaluates to `Result<i64, Error>` with the new version.
macro_rules! write_sequencing {
    ($tx:ident, $save:expr, $now:expr) => {{
        let save: &SequencingSave = $save;
        let written = match save.expected_version {
            None => sqlx::query(
                "INSERT INTO scorm_sequencing_states (registration_id, state_json, version, updated_at) VALUES ($1, $2, 1, $3) \
                 ON CONFLICT (registration_id) DO NOTHING",
            )
            .bind(&save.registration_id)
            .bind(&save.state_json)
            .bind($now)
            .execute(&mut *$tx)
            .await?
            .rows_affected(),
            Some(version) => sqlx::query(
                "UPDATE scorm_sequencing_states SET state_json = $1, version = version + 1, updated_at = $2 \
                 WHERE registration_id = $3 AND version = $4",
            )
            .bind(&save.state_json)
            .bind($now)
            .bind(&save.registration_id)
            .bind(version)
            .execute(&mut *$tx)
            .await?
            .rows_affected(),
        };
        if written != 1 {
            Err(Error::Conflict {
                what: format!(
                    "the sequencing state of registration {} changed meanwhile (another window navigated); reload the player",
                    save.registration_id
                ),
            })
        } else {
            if let Some((person, objectives)) = &save.learner_objectives {
                sqlx::query(
                    "INSERT INTO scorm_learner_objectives (personnel_number, objectives_json, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (personnel_number) DO UPDATE SET objectives_json = excluded.objectives_json, updated_at = excluded.updated_at",
                )
                .bind(person)
                .bind(objectives)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            }
            Ok(save.expected_version.unwrap_or(0) + 1)
        }
    }};
}

/// A session as a group of commits reads it (locked on PostgreSQL) and leaves it.
struct SessionRow {
    registration_id: String,
    attempt: i64,
    item_id: String,
    token_sha256: String,
    review: bool,
    last_seq: i64,
    xapi_context: Option<String>,
    /// `last_seq` moved in this group: the row is written back.
    moved: bool,
}

/// The run-time state of one SCO as a group of commits reads it (locked on PostgreSQL).
struct ScoRow {
    attempt_json: String,
    current_session_id: Option<String>,
    /// Parsed at the first commit that applies calls to it; `Some` means it is written back.
    attempt: Option<Attempt>,
}

/// `(registration_id, attempt, item_id)`, the key of `scorm_sco_states`.
type ScoKey = (String, i64, String);

/// One `scorm_commits` row.
struct CommitRow<'a> {
    session_id: &'a str,
    seq: i64,
    registration_id: String,
    item_id: String,
    calls_json: String,
    changes_json: String,
    events_json: String,
    terminated: bool,
}

/// Most rows (or ids) in one statement of a group commit; a power of two.
const GROUP_CHUNK: usize = 256;

/// Row counts are padded to the next power of two, so a group commit's statement texts repeat
/// (a handful per table) and PostgreSQL reuses its prepared statements instead of preparing a
/// new text, an extra round trip, for every group size.
fn padded(rows: usize) -> usize {
    rows.next_power_of_two()
}

/// `$from, …` for `count` parameters.
fn params_list(from: usize, count: usize) -> String {
    let mut out = String::with_capacity(count * 5);
    for i in from..from + count {
        if i > from {
            out.push(',');
        }
        out.push('$');
        out.push_str(&i.to_string());
    }
    out
}

/// `(VALUES ($1,…,$columns), …) AS v` for `rows` rows: the columns are `v.column1`, … on both
/// backends.
fn values_table(first: usize, columns: usize, rows: usize) -> String {
    let mut out = String::from("(VALUES ");
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        out.push_str(&params_list(first + r * columns, columns));
        out.push(')');
    }
    out.push_str(") AS v");
    out
}

fn padded_or_zero(rows: usize) -> usize {
    if rows == 0 { 0 } else { padded(rows) }
}

/// The writes of a group of commits as one statement: `commits` new `scorm_commits` rows (8
/// parameters each; rows whose first column is NULL are padding), `states` new
/// `scorm_sco_states.attempt_json` (4 each) and `sessions` new `scorm_sessions.last_seq` (2
/// each; padding repeats a row); `$1` is the time stamp. SQLite runs several statements given
/// in one text; PostgreSQL takes them as data-modifying `WITH` parts of one statement (they
/// touch different tables).
fn group_writes_sql(is_pg: bool, commits: usize, states: usize, sessions: usize) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(3);
    let mut next = 2;
    if commits > 0 {
        parts.push(format!(
            "INSERT INTO scorm_commits (session_id, seq, registration_id, item_id, calls_json, changes_json, events_json, terminated, created_at) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8, $1 FROM {} \
             WHERE v.column1 IS NOT NULL",
            values_table(next, 8, commits)
        ));
        next += 8 * commits;
    }
    if states > 0 {
        parts.push(format!(
            "UPDATE scorm_sco_states SET attempt_json = v.column4, updated_at = $1 FROM {} \
             WHERE scorm_sco_states.registration_id = v.column1 AND scorm_sco_states.attempt = v.column2 \
             AND scorm_sco_states.item_id = v.column3",
            values_table(next, 4, states)
        ));
        next += 4 * states;
    }
    if sessions > 0 {
        parts.push(format!(
            "UPDATE scorm_sessions SET last_seq = v.column2, updated_at = $1 FROM {} WHERE scorm_sessions.id = v.column1",
            values_table(next, 2, sessions)
        ));
    }
    if !is_pg || parts.len() == 1 {
        return parts.join("; ");
    }
    let last = parts.pop().unwrap_or_default();
    let with: Vec<String> = parts.into_iter().enumerate().map(|(i, part)| format!("w{i} AS ({part})")).collect();
    format!("WITH {} {last}", with.join(", "))
}

/// The body of a group of SCORM commits inside an open write transaction `$tx`: evaluates to
/// `Result<Vec<Result<CommitAck, Error>>, Error>`, one answer per request in order.
///
/// Every session and SCO state of the group is read (and on PostgreSQL locked) in one query;
/// the commits are then decided and applied one after the other in memory, each on the state
/// the previous ones left (the same session may come twice). A logical refusal (unknown
/// session, wrong token, superseded session, unreadable stored state) is that commit's answer
/// and writes nothing. The accepted commits are written together: their xAPI statements in one
/// `write_batches_in_tx!`, then `scorm_commits`, `scorm_sco_states` and `scorm_sessions` in one
/// statement ([`group_writes_sql`]). Any other error fails the whole group (`Err`): the caller
/// rolls back and, for a group of several, applies each commit on its own. With `BEGIN` and
/// `COMMIT` a group costs 4 round trips (plus the statements' own when it has any), whatever
/// its size.
macro_rules! apply_commits_in_tx {
    ($tx:ident, $is_pg:expr, $requests:expr, $stamp:expr) => {{
        let is_pg: bool = $is_pg;
        let requests: &[ScormCommitRequest] = $requests;
        let stamp: &str = $stamp;
        let outcome: Result<Vec<Result<CommitAck, Error>>, Error> = async {
            let lock = if is_pg { " FOR UPDATE" } else { "" };
            // 1. read every session of the group with its SCO state, in id order (the order
            //    PostgreSQL locks them in)
            let mut ids: Vec<&str> = requests.iter().map(|r| r.session_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let mut sessions: HashMap<String, SessionRow> = HashMap::with_capacity(ids.len());
            let mut scos: HashMap<ScoKey, ScoRow> = HashMap::with_capacity(ids.len());
            type Joined = (String, String, i64, String, String, bool, i64, Option<String>, String, Option<String>);
            for chunk in ids.chunks(GROUP_CHUNK) {
                let n = padded(chunk.len());
                let sql = format!(
                    "SELECT s.id, s.registration_id, s.attempt, s.item_id, s.token_sha256, s.review, s.last_seq, s.xapi_context, \
                     c.attempt_json, c.current_session_id \
                     FROM scorm_sessions s JOIN scorm_sco_states c \
                     ON c.registration_id = s.registration_id AND c.attempt = s.attempt AND c.item_id = s.item_id \
                     WHERE s.id IN ({}) ORDER BY s.id{lock}",
                    params_list(1, n)
                );
                let mut q = sqlx::query_as::<_, Joined>(sqlx::AssertSqlSafe(sql));
                for i in 0..n {
                    q = q.bind(chunk[i.min(chunk.len() - 1)]);
                }
                for (id, registration_id, attempt, item_id, token_sha256, review, last_seq, xapi_context, attempt_json, current) in
                    q.fetch_all(&mut *$tx).await?
                {
                    scos.entry((registration_id.clone(), attempt, item_id.clone()))
                        .or_insert(ScoRow { attempt_json, current_session_id: current, attempt: None });
                    sessions.insert(
                        id,
                        SessionRow { registration_id, attempt, item_id, token_sha256, review, last_seq, xapi_context, moved: false },
                    );
                }
            }
            // sessions without a SCO state: review sessions of a SCO never launched for credit,
            // and refusals (no such session, a newer attempt); rare
            let missing: Vec<&str> = ids.iter().copied().filter(|id| !sessions.contains_key(*id)).collect();
            type Plain = (String, String, i64, String, String, bool, i64, Option<String>);
            for chunk in missing.chunks(GROUP_CHUNK) {
                let n = padded(chunk.len());
                let sql = format!(
                    "SELECT id, registration_id, attempt, item_id, token_sha256, review, last_seq, xapi_context \
                     FROM scorm_sessions WHERE id IN ({}) ORDER BY id{lock}",
                    params_list(1, n)
                );
                let mut q = sqlx::query_as::<_, Plain>(sqlx::AssertSqlSafe(sql));
                for i in 0..n {
                    q = q.bind(chunk[i.min(chunk.len() - 1)]);
                }
                for (id, registration_id, attempt, item_id, token_sha256, review, last_seq, xapi_context) in q.fetch_all(&mut *$tx).await? {
                    sessions.insert(
                        id,
                        SessionRow { registration_id, attempt, item_id, token_sha256, review, last_seq, xapi_context, moved: false },
                    );
                }
            }

            // 2. decide and apply each commit in memory, in arrival order
            let mut answers: Vec<Result<CommitAck, Error>> = Vec::with_capacity(requests.len());
            let mut commit_rows: Vec<CommitRow> = Vec::new();
            let mut statement_batches: Vec<StatementBatch> = Vec::new();
            for request in requests {
                let session_id = request.session_id.as_str();
                let Some(session) = sessions.get_mut(session_id).filter(|s| s.token_sha256 == token_hash(&request.token)) else {
                    answers.push(Err(Error::NotFound { what: format!("session {session_id:?}") }));
                    continue;
                };
                let mut ordered: Vec<&CommitBatchIn> = request.batches.iter().collect();
                ordered.sort_by_key(|b| b.seq);
                let mut todo: Vec<&CommitBatchIn> = Vec::new();
                let mut next = session.last_seq + 1;
                for b in ordered {
                    if b.seq < next {
                        continue; // already applied (a retry), or a duplicate in this request
                    }
                    if b.seq > next {
                        break; // a gap: the browser resends from `acked_seq`
                    }
                    todo.push(b);
                    next += 1;
                }
                let Some(acked_seq) = todo.last().map(|b| b.seq) else {
                    answers.push(Ok(CommitAck {
                        acked_seq: session.last_seq,
                        applied: vec![],
                        refused: vec![],
                        terminated: false,
                        nav_request: None,
                        completion_reported: None,
                        statements_stored: 0,
                    }));
                    continue;
                };
                if session.review {
                    session.last_seq = acked_seq;
                    session.moved = true;
                    answers.push(Ok(CommitAck {
                        acked_seq,
                        applied: todo.iter().map(|b| b.seq).collect(),
                        refused: vec![],
                        terminated: todo.iter().any(|b| b.calls.iter().any(|c| is_terminate(c))),
                        nav_request: None,
                        completion_reported: None,
                        statements_stored: 0,
                    }));
                    continue;
                }
                let key: ScoKey = (session.registration_id.clone(), session.attempt, session.item_id.clone());
                let Some(sco) = scos.get_mut(&key) else {
                    answers.push(Err(Error::Conflict {
                        what: format!("session {session_id} was superseded: a newer attempt of registration {}", session.registration_id),
                    }));
                    continue;
                };
                if sco.current_session_id.as_deref() != Some(session_id) {
                    answers.push(Err(Error::Conflict {
                        what: format!("session {session_id} was superseded: a newer launch of item {:?}", session.item_id),
                    }));
                    continue;
                }
                let attempt = match sco.attempt.take() {
                    Some(attempt) => attempt,
                    None => match Attempt::from_json(&sco.attempt_json) {
                        Ok(attempt) => attempt,
                        Err(e) => {
                            answers.push(Err(json_error(e)));
                            continue;
                        }
                    },
                };
                let attempt = sco.attempt.insert(attempt);
                // from here on the commit is accepted: nothing below refuses it alone
                let first_attempt_number = attempt.attempt_number();
                let mut refused = Vec::new();
                let mut applied = Vec::new();
                let mut all_produced: Vec<lms_rte::CommitBatch> = Vec::new();
                for batch in &todo {
                    for call in &batch.calls {
                        let Some((method, args)) = call.split_first() else { continue };
                        let args: Vec<&str> = args.iter().map(String::as_str).collect();
                        let reply = match Call::from_method(method, &args) {
                            Some(c) => attempt.handle(c, request.now),
                            None => lms_rte::Reply { value: "false".into(), error: 101 },
                        };
                        if reply.error != 0 {
                            refused.push(RefusedCall { seq: batch.seq, call: call.clone(), error: reply.error });
                        }
                    }
                    let produced = attempt.take_batches();
                    let changes: Vec<&(String, Option<String>)> = produced.iter().flat_map(|b| b.changes.iter()).collect();
                    let events: Vec<&lms_rte::RteEvent> = produced.iter().flat_map(|b| b.events.iter()).collect();
                    commit_rows.push(CommitRow {
                        session_id,
                        seq: batch.seq,
                        registration_id: session.registration_id.clone(),
                        item_id: session.item_id.clone(),
                        calls_json: serde_json::to_string(&batch.calls).map_err(json_error)?,
                        changes_json: serde_json::to_string(&changes).map_err(json_error)?,
                        events_json: serde_json::to_string(&events).map_err(json_error)?,
                        terminated: produced.iter().any(|b| b.terminated),
                    });
                    applied.push(batch.seq);
                    all_produced.extend(produced);
                }
                let completion_reported = all_produced
                    .iter()
                    .flat_map(|b| b.events.iter())
                    .any(|e| matches!(e, lms_rte::RteEvent::Completed { .. } | lms_rte::RteEvent::Passed { .. }))
                    .then(|| session.registration_id.clone());
                let mut statements_stored = 0;
                if let Some(context) = &session.xapi_context {
                    let version = attempt.config().version;
                    if let Some(batch) = scorm_statements(context, &session.registration_id, first_attempt_number, version, &all_produced) {
                        statements_stored = batch.statements.len();
                        statement_batches.push(batch);
                    }
                }
                session.last_seq = acked_seq;
                session.moved = true;
                if !refused.is_empty() {
                    tracing::warn!(session = session_id, refused = ?refused, "the browser accepted calls the run-time refuses");
                }
                answers.push(Ok(CommitAck {
                    acked_seq,
                    applied,
                    refused,
                    terminated: attempt.state() == SessionState::Terminated,
                    nav_request: attempt.nav_request().map(str::to_string),
                    completion_reported,
                    statements_stored,
                }));
            }

            // 3. write what the accepted commits changed
            if !statement_batches.is_empty() {
                let now_ms = chrono::Utc::now().timestamp_millis();
                let outcomes = write_batches_in_tx!($tx, is_pg, &statement_batches, now_ms);
                if let Some(error) = outcomes.into_iter().find_map(Result::err) {
                    return Err(error);
                }
            }
            let states: Vec<(&ScoKey, String)> = scos
                .iter()
                .filter_map(|(key, sco)| sco.attempt.as_ref().map(|a| (key, a.to_json())))
                .collect();
            let moved: Vec<(&str, i64)> =
                sessions.iter().filter(|(_, s)| s.moved).map(|(id, s)| (id.as_str(), s.last_seq)).collect();
            // one statement (one round trip) for all three tables; more only past GROUP_CHUNK rows
            let rounds = [commit_rows.len(), states.len(), moved.len()].into_iter().max().unwrap_or(0).div_ceil(GROUP_CHUNK);
            for round in 0..rounds {
                let part = |len: usize| (round * GROUP_CHUNK).min(len)..((round + 1) * GROUP_CHUNK).min(len);
                let (commits, states, moved) =
                    (&commit_rows[part(commit_rows.len())], &states[part(states.len())], &moved[part(moved.len())]);
                let (nc, ns, nm) = (padded_or_zero(commits.len()), padded_or_zero(states.len()), padded_or_zero(moved.len()));
                let sql = group_writes_sql(is_pg, nc, ns, nm);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(stamp);
                for r in commits {
                    q = q
                        .bind(Some(r.session_id))
                        .bind(Some(r.seq))
                        .bind(Some(r.registration_id.as_str()))
                        .bind(Some(r.item_id.as_str()))
                        .bind(Some(r.calls_json.as_str()))
                        .bind(Some(r.changes_json.as_str()))
                        .bind(Some(r.events_json.as_str()))
                        .bind(Some(r.terminated));
                }
                for _ in commits.len()..nc {
                    q = q
                        .bind(None::<&str>)
                        .bind(None::<i64>)
                        .bind(None::<&str>)
                        .bind(None::<&str>)
                        .bind(None::<&str>)
                        .bind(None::<&str>)
                        .bind(None::<&str>)
                        .bind(None::<bool>);
                }
                for i in 0..ns {
                    let ((registration_id, attempt, item_id), json) = &states[i.min(states.len() - 1)];
                    q = q.bind(registration_id.as_str()).bind(*attempt).bind(item_id.as_str()).bind(json.as_str());
                }
                for i in 0..nm {
                    let (id, last_seq) = moved[i.min(moved.len() - 1)];
                    q = q.bind(id).bind(last_seq);
                }
                q.execute(&mut *$tx).await?;
            }
            Ok(answers)
        }
        .await;
        outcome
    }};
}

impl Store {
    /// The sequencing state of a registration, if a navigation stored one.
    pub async fn scorm_sequencing_state(&self, registration_id: &str) -> Result<Option<SequencingRecord>, Error> {
        let row: Option<(String, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT state_json, version FROM scorm_sequencing_states WHERE registration_id = $1")
                .bind(registration_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(state_json, version)| SequencingRecord { state_json, version }))
    }

    /// The global objectives a learner shares across packages (`GlobalObjectives` JSON).
    pub async fn scorm_learner_objectives(&self, personnel_number: &str) -> Result<Option<String>, Error> {
        let row: Option<(String,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT objectives_json FROM scorm_learner_objectives WHERE personnel_number = $1")
                .bind(personnel_number)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(json,)| json))
    }

    /// Stores a navigation's sequencing state (see [`SequencingSave`]); returns the new version.
    pub async fn save_scorm_sequencing(&self, save: &SequencingSave) -> Result<i64, Error> {
        let now = now_text();
        with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                let version = write_sequencing!(tx, save, &now)?;
                tx.commit().await?;
                Ok(version)
            }
            .await
        })
    }

    /// Registers a learner on a SCORM package version.
    pub async fn create_scorm_registration(&self, new: &NewRegistration) -> Result<Registration, Error> {
        let package = self
            .package(&new.package_id)
            .await?
            .ok_or_else(|| Error::NotFound { what: format!("package {:?}", new.package_id) })?;
        if package.standard != "scorm12" && package.standard != "scorm2004" {
            return Err(Error::invalid(
                "package_id",
                format!("package {:?} is {}, not SCORM 1.2 or SCORM 2004", new.package_id, package.standard),
            ));
        }
        if self.person(&new.personnel_number).await?.is_none() {
            return Err(Error::NotFound { what: format!("person {:?}", new.personnel_number) });
        }
        let id = uuid::Uuid::now_v7().to_string();
        let now = now_text();
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO scorm_registrations (id, package_id, personnel_number, after_completion, attempt, last_item_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 1, NULL, $5, $5)",
            )
            .bind(&id)
            .bind(&new.package_id)
            .bind(&new.personnel_number)
            .bind(new.after_completion.as_str())
            .bind(&now)
            .execute(pool)
            .await?;
        });
        self.scorm_registration(&id).await?.ok_or_else(|| Error::NotFound { what: format!("registration {id}") })
    }

    pub async fn scorm_registration(&self, id: &str) -> Result<Option<Registration>, Error> {
        with_db!(&self.db, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {REGISTRATION_COLUMNS} FROM scorm_registrations WHERE id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|row| registration_from_row(&row))
                .transpose()
        })
    }

    /// The SCO states of the registration's current attempt, by item id.
    pub async fn scorm_sco_states(&self, registration_id: &str) -> Result<Vec<ScoRecord>, Error> {
        let rows: Vec<(String, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT s.item_id, s.attempt_json, s.updated_at FROM scorm_sco_states s \
                 JOIN scorm_registrations r ON r.id = s.registration_id AND r.attempt = s.attempt \
                 WHERE s.registration_id = $1 ORDER BY s.item_id",
            )
            .bind(registration_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(item_id, attempt_json, updated_at)| ScoRecord { item_id, attempt_json, updated_at })
            .collect())
    }

    /// How many commits are stored for a registration (all attempts).
    pub async fn scorm_commit_count(&self, registration_id: &str) -> Result<i64, Error> {
        let (n,): (i64,) = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM scorm_commits WHERE registration_id = $1")
                .bind(registration_id)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// Opens a session on one SCO: creates its state from `fresh` on first launch, prepares
    /// the next session of a stored one (resume after suspend), and makes the new session the
    /// only one whose commits are accepted for that SCO.
    pub async fn open_scorm_session(
        &self,
        registration_id: &str,
        item_id: &str,
        kind: LaunchKind,
        fresh: AttemptConfig,
        xapi: Option<&ScoXapiContext>,
    ) -> Result<OpenedSession, Error> {
        self.open_scorm_session_prepared(registration_id, item_id, kind, fresh, xapi, &|_| {}, None).await
    }

    /// [`Store::open_scorm_session`] for a sequenced launch: `prepare` sets up the attempt the
    /// browser starts from (the sequencer's `cmi.objectives` and request validity), and the
    /// navigation's sequencing state is saved in the same transaction, so a delivery is stored
    /// exactly when its session is.
    #[allow(clippy::too_many_arguments)]
    pub async fn open_scorm_session_prepared(
        &self,
        registration_id: &str,
        item_id: &str,
        kind: LaunchKind,
        fresh: AttemptConfig,
        xapi: Option<&ScoXapiContext>,
        prepare: &(dyn Fn(&mut Attempt) + Sync),
        sequencing: Option<&SequencingSave>,
    ) -> Result<OpenedSession, Error> {
        let xapi_json = match (xapi, kind) {
            (Some(context), LaunchKind::Normal | LaunchKind::NewAttempt | LaunchKind::NewScoAttempt) => {
                Some(serde_json::to_string(context).map_err(json_error)?)
            }
            _ => None,
        };
        let session_id = uuid::Uuid::now_v7().to_string();
        let token = {
            use rand::RngCore;
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        };
        let now = now_text();
        let is_pg = matches!(self.db, Db::Postgres(_));
        let lock = if is_pg { " FOR UPDATE" } else { "" };
        let opened: Result<OpenedSession, Error> = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                let row: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT attempt FROM scorm_registrations WHERE id = $1{lock}"
                )))
                .bind(registration_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((mut attempt_no,)) = row else {
                    return Err(Error::NotFound { what: format!("registration {registration_id:?}") });
                };
                if kind == LaunchKind::NewAttempt {
                    attempt_no += 1;
                    sqlx::query("UPDATE scorm_registrations SET attempt = $1, updated_at = $2 WHERE id = $3")
                        .bind(attempt_no)
                        .bind(&now)
                        .bind(registration_id)
                        .execute(&mut *tx)
                        .await?;
                }
                let stored: Option<(String,)> = sqlx::query_as(
                    "SELECT attempt_json FROM scorm_sco_states WHERE registration_id = $1 AND attempt = $2 AND item_id = $3",
                )
                .bind(registration_id)
                .bind(attempt_no)
                .bind(item_id)
                .fetch_optional(&mut *tx)
                .await?;
                let review = kind == LaunchKind::Review;
                let attempt_json = match (&stored, review) {
                    (Some((json,)), true) => review_copy(&Attempt::from_json(json).map_err(json_error)?)?,
                    (None, true) => review_copy(&Attempt::try_new(fresh.clone()).map_err(json_error)?)?,
                    (Some((json,)), false) => {
                        let mut attempt = Attempt::from_json(json).map_err(json_error)?;
                        if kind == LaunchKind::NewScoAttempt {
                            attempt.begin_new_attempt();
                        } else if attempt.state() != SessionState::NotInitialized {
                            // A session that ran (running or terminated) is followed by the next
                            // one; a prepared session that never initialized is reused as it is.
                            attempt.begin_next_session();
                        }
                        prepare(&mut attempt);
                        attempt.to_json()
                    }
                    (None, false) => {
                        let mut attempt = Attempt::try_new(fresh.clone()).map_err(json_error)?;
                        prepare(&mut attempt);
                        attempt.to_json()
                    }
                };
                if let Some(save) = sequencing {
                    write_sequencing!(tx, save, &now)?;
                }
                if !review {
                    sqlx::query(
                        "INSERT INTO scorm_sco_states (registration_id, attempt, item_id, attempt_json, current_session_id, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (registration_id, attempt, item_id) DO UPDATE SET attempt_json = excluded.attempt_json, \
                         current_session_id = excluded.current_session_id, updated_at = excluded.updated_at",
                    )
                    .bind(registration_id)
                    .bind(attempt_no)
                    .bind(item_id)
                    .bind(&attempt_json)
                    .bind(&session_id)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(
                    "INSERT INTO scorm_sessions (id, registration_id, attempt, item_id, token_sha256, review, start_json, last_seq, created_at, updated_at, xapi_context) \
                     VALUES ($1, $2, $3, $4, $5, $6, $8, 0, $7, $7, $9)",
                )
                .bind(&session_id)
                .bind(registration_id)
                .bind(attempt_no)
                .bind(item_id)
                .bind(token_hash(&token))
                .bind(review)
                .bind(&now)
                .bind(&attempt_json)
                .bind(&xapi_json)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE scorm_registrations SET last_item_id = $1, updated_at = $2 WHERE id = $3")
                    .bind(item_id)
                    .bind(&now)
                    .bind(registration_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(OpenedSession {
                    session_id: session_id.clone(),
                    token: token.clone(),
                    item_id: item_id.to_string(),
                    attempt: attempt_no,
                    review,
                    attempt_json,
                })
            }
            .await
        });
        opened
    }

    /// A session as the browser starts it, after checking its token (`None`: no such session
    /// or a wrong token).
    pub async fn scorm_session_start(&self, session_id: &str, token: &str) -> Result<Option<SessionStart>, Error> {
        type SessionRow = (String, String, String, String, bool, String, i64, Option<String>);
        let row: Option<SessionRow> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT s.registration_id, r.package_id, s.item_id, s.token_sha256, s.review, s.start_json, s.last_seq, c.current_session_id \
                 FROM scorm_sessions s JOIN scorm_registrations r ON r.id = s.registration_id \
                 LEFT JOIN scorm_sco_states c ON c.registration_id = s.registration_id AND c.attempt = s.attempt AND c.item_id = s.item_id \
                 WHERE s.id = $1",
            )
            .bind(session_id)
            .fetch_optional(pool)
            .await?
        });
        let Some((registration_id, package_id, item_id, hash, review, start_json, last_seq, current)) = row else {
            return Ok(None);
        };
        if hash != token_hash(token) {
            return Ok(None);
        }
        let current = review || current.as_deref() == Some(session_id);
        Ok(Some(SessionStart { registration_id, package_id, item_id, review, start_json, fresh: current && last_seq == 0 }))
    }

    /// The package model (`lms_package::Package` as JSON) stored with a package version.
    pub async fn package_model_json(&self, package_id: &str) -> Result<Option<String>, Error> {
        let row: Option<(String,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT model_json FROM packages WHERE id = $1").bind(package_id).fetch_optional(pool).await?
        });
        Ok(row.map(|(json,)| json))
    }

    /// Applies the browser's batches of one session in one durable transaction (see the
    /// module docs). Batches already applied are skipped; a gap (a batch missing before
    /// the first new one) stops at the gap, and `acked_seq` tells the browser what to resend.
    pub async fn apply_scorm_commit(
        &self,
        session_id: &str,
        token: &str,
        batches: &[CommitBatchIn],
        now: UnixMillis,
    ) -> Result<CommitAck, Error> {
        let request =
            ScormCommitRequest { session_id: session_id.to_string(), token: token.to_string(), batches: batches.to_vec(), now };
        let (_, outcome) = self.apply_scorm_group(&mut WriterConnection::borrowed(), std::slice::from_ref(&request)).await;
        outcome?.pop().unwrap_or_else(|| Err(Error::Task("a SCORM commit got no answer".into())))
    }

    /// Several sessions' commits in **one** transaction (group commit: one disk flush for all),
    /// each decided on its own: a refused commit (unknown session, wrong token, superseded)
    /// writes nothing and changes nothing of the others. When the group's transaction fails
    /// after it began (a database error, a statement id taken by a different statement), each
    /// commit is applied again in a transaction of its own, so one bad commit costs only its own
    /// answer. The outer error means no transaction could be started and nothing was stored.
    pub async fn apply_scorm_commits(&self, requests: &[ScormCommitRequest]) -> Result<Vec<Result<CommitAck, Error>>, Error> {
        self.apply_scorm_commits_on(&mut WriterConnection::borrowed(), requests).await
    }

    /// [`Store::apply_scorm_commits`] on a writer's own connection.
    pub(crate) async fn apply_scorm_commits_on(
        &self,
        writer: &mut WriterConnection,
        requests: &[ScormCommitRequest],
    ) -> Result<Vec<Result<CommitAck, Error>>, Error> {
        let (began, outcome) = self.apply_scorm_group(writer, requests).await;
        let error = match outcome {
            Ok(answers) => return Ok(answers),
            Err(error) if !began => return Err(error),
            Err(error) if requests.len() == 1 => return Ok(vec![Err(error)]),
            Err(error) => error,
        };
        tracing::warn!(%error, commits = requests.len(), "a group of SCORM commits failed; applying them one by one");
        let mut answers = Vec::with_capacity(requests.len());
        let mut stopped: Option<String> = None;
        for request in requests {
            if let Some(message) = &stopped {
                answers.push(Err(Error::Task(format!("storing the commit failed: {message}"))));
                continue;
            }
            let (began, outcome) = self.apply_scorm_group(writer, std::slice::from_ref(request)).await;
            match outcome {
                Ok(mut one) => answers.push(one.pop().unwrap_or_else(|| Err(Error::Task("a SCORM commit got no answer".into())))),
                Err(error) => {
                    if !began {
                        // no transaction can be started: the others would wait for the same
                        stopped = Some(error.to_string());
                    }
                    answers.push(Err(error));
                }
            }
        }
        Ok(answers)
    }

    /// One transaction for `requests` ([`apply_commits_in_tx!`]) on the writer's connection;
    /// `true` once it began. After a database error the writer takes a new connection.
    async fn apply_scorm_group(
        &self,
        writer: &mut WriterConnection,
        requests: &[ScormCommitRequest],
    ) -> (bool, Result<Vec<Result<CommitAck, Error>>, Error>) {
        let is_pg = matches!(self.db, Db::Postgres(_));
        let stamp = now_text();
        let mut began = false;
        let outcome = in_write_tx!(writer, &self.db, |tx| {
            began = true;
            let answers = apply_commits_in_tx!(tx, is_pg, requests, &stamp)?;
            tx.commit().await?;
            Ok(answers)
        });
        (began, outcome)
    }
}

/// The statements of one commit's run-time events, ready to store; `None` when there are none
/// or they cannot be made (logged: the SCORM data itself is stored regardless).
fn scorm_statements(
    context_json: &str,
    registration_id: &str,
    attempt_number: u32,
    version: lms_rte::ScormVersion,
    produced: &[lms_rte::CommitBatch],
) -> Option<StatementBatch> {
    if produced.iter().all(|b| b.events.is_empty()) {
        return None;
    }
    let made = (|| -> Result<StatementBatch, String> {
        let context: ScoXapiContext = serde_json::from_str(context_json).map_err(|e| e.to_string())?;
        let registration = uuid::Uuid::parse_str(registration_id).map_err(|e| e.to_string())?;
        let scorm = lms_scorm_xapi::ScormContext {
            learner: lms_scorm_xapi::LearnerAccount { home_page: context.home_page.clone(), name: context.personnel_number },
            registration,
            course_iri: context.course_iri,
            course_title: context.course_title,
            sco_iri: context.sco_iri,
            sco_title: context.sco_title,
            attempt: attempt_number.max(1),
            version,
            language: context.language,
            interaction_verb: lms_scorm_xapi::InteractionVerb::Answered,
        };
        let statements = lms_scorm_xapi::batches_to_statements(&scorm, produced, uuid::Uuid::now_v7).map_err(|e| e.to_string())?;
        let authority = serde_json::json!({"objectType": "Agent", "account": {"homePage": context.home_page, "name": "lms"}});
        let prepared = lms_xapi::prepare_statements(
            statements,
            lms_xapi::XapiVersion::V2_0_0,
            &authority,
            chrono::Utc::now(),
            uuid::Uuid::now_v7,
        )
        .map_err(|e| e.to_string())?;
        Ok(StatementBatch { statements: prepared, attachments: vec![], client_key: SCORM_STATEMENT_CLIENT.into(), define: true })
    })();
    match made {
        Ok(batch) => Some(batch),
        Err(error) => {
            tracing::error!(registration = registration_id, %error, "SCORM events could not be written as xAPI statements");
            None
        }
    }
}

fn is_terminate(call: &[String]) -> bool {
    matches!(call.first().map(String::as_str), Some("Terminate" | "LMSFinish"))
}

/// Most commits in one group transaction.
const GROUP_COMMITS: usize = 256;

/// How many group transactions of SCORM commits run at once: one on SQLite (one writer at a
/// time is all it has), [`POSTGRES_LANES`] on PostgreSQL.
fn writer_lanes(store: &Store) -> usize {
    match store.backend() {
        crate::Backend::Sqlite => 1,
        crate::Backend::Postgres => POSTGRES_LANES,
    }
}

/// Group transactions of SCORM commits in flight at once on PostgreSQL. With one, a commit
/// that arrives while a group is being written waits for that whole group (its round trips
/// and its flush) before its own starts, so its latency is up to two groups'; with several
/// lanes it starts at once in the next free one, and PostgreSQL flushes concurrent commits
/// together. Lanes cannot step on each other: a group locks its sessions and SCO states
/// (`FOR UPDATE`, in id order) before it decides, so a second commit of the same session in
/// another lane waits for the first and then reads what it wrote.
const POSTGRES_LANES: usize = 3;

type CommitMessage = (ScormCommitRequest, tokio::sync::oneshot::Sender<Result<CommitAck, Error>>);

/// The SCORM commit writer: tasks ("lanes") that each apply every commit that arrived while
/// the previous transaction was being flushed, in one transaction ([`Store::apply_scorm_commits`]),
/// so concurrent learners share one disk flush instead of queueing for one each. Each caller
/// is answered only after the transaction holding its commit is durable. One lane on SQLite,
/// several on PostgreSQL ([`POSTGRES_LANES`]). Cheap to clone.
#[derive(Clone, Debug)]
pub struct ScormCommitWriter {
    sender: tokio::sync::mpsc::Sender<CommitMessage>,
}

impl ScormCommitWriter {
    /// Starts the writer's lanes on the current tokio runtime. They end when every handle is dropped.
    pub fn spawn(store: Store) -> ScormCommitWriter {
        let (sender, receiver) = tokio::sync::mpsc::channel::<CommitMessage>(8_192);
        // the lanes take turns at the queue: the one holding it waits for the next commit
        // and takes whatever else is waiting with it, then lets the next idle lane wait
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..writer_lanes(&store) {
            let (store, receiver) = (store.clone(), receiver.clone());
            tokio::spawn(async move {
                let mut connection = WriterConnection::dedicated();
                // the lane lets its connection go when the store closes (it would wait for it)
                let closing = store.db.close_event();
                tokio::pin!(closing);
                // connected before the first group arrives (a failure here is retried by it)
                tokio::select! {
                    biased;
                    _ = &mut closing => return,
                    _ = connection.get(&store.db) => {}
                }
                loop {
                    let next = async {
                        let mut queue = receiver.lock().await;
                        let first = queue.recv().await?;
                        let mut group = vec![first];
                        while group.len() < GROUP_COMMITS {
                            match queue.try_recv() {
                                Ok(next) => group.push(next),
                                Err(_) => break,
                            }
                        }
                        Some(group)
                    };
                    let group = tokio::select! {
                        biased;
                        _ = &mut closing => break,
                        group = next => match group {
                            Some(group) => group,
                            None => break,
                        },
                    };
                    let (requests, replies): (Vec<ScormCommitRequest>, Vec<_>) = group.into_iter().unzip();
                    match store.apply_scorm_commits_on(&mut connection, &requests).await {
                        Ok(outcomes) => {
                            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                                let _ = reply.send(outcome);
                            }
                        }
                        Err(error) => {
                            tracing::error!(%error, commits = requests.len(), "storing SCORM commits failed");
                            let message = error.to_string();
                            for reply in replies {
                                let _ = reply.send(Err(Error::Task(format!("storing the commit failed: {message}"))));
                            }
                        }
                    }
                }
            });
        }
        ScormCommitWriter { sender }
    }

    /// Applies one commit; returns after the transaction holding it committed.
    pub async fn apply(&self, request: ScormCommitRequest) -> Result<CommitAck, Error> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.sender.send((request, reply)).await.map_err(|_| Error::Task("the SCORM commit writer has stopped".into()))?;
        answer.await.map_err(|_| Error::Task("the SCORM commit writer has stopped".into()))?
    }
}

