//! The two backends behind one handle.
//!
//! Queries are written once, with `$1, $2, …` placeholders in order of first use (both
//! SQLite and PostgreSQL accept that), and run on whichever pool is open through
//! [`with_db!`], which monomorphizes the body for each driver. Types crossing the
//! boundary are the ones both drivers encode natively: `i64`, `f64`, `bool`, `String`,
//! `Vec<u8>`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::{Error, StoreConfig};

/// Which database is in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the open pool, whichever backend it is.
macro_rules! with_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_db;

impl Db {
    pub(crate) async fn connect(config: &StoreConfig) -> Result<Db, Error> {
        let url = match &config.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", config.data_dir.join("lms.sqlite").display()),
        };
        let connect_error = |source| Error::Connect { url: redact(&url), source };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(&url).map_err(connect_error)?;
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections.max(1))
                // no ping before every acquire: it is a round trip more for every query and
                // transaction (a connection the server dropped fails its next query instead,
                // and is then closed and replaced)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(&url)
                .map_err(connect_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // statement journals and sorts in memory, not in temporary files
                .pragma("temp_store", "memory")
                // 8 MiB of page cache per connection (SQLite's default is 2 MiB): the LRS's
                // id and relation indexes are written at random places
                .pragma("cache_size", "-8192")
                .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES);
            let pool = SqlitePoolOptions::new()
                .max_connections(config.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(Error::UnsupportedUrl { url: redact(&url) })
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) async fn ping(&self) -> Result<(), Error> {
        with_db!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    pub(crate) async fn close(&self) {
        with_db!(self, |pool| pool.close().await)
    }

    /// Resolves when [`Db::close`] is called: a task holding a connection of its own must then
    /// let it go, or the close waits for it forever.
    pub(crate) fn close_event(&self) -> sqlx::pool::CloseEvent {
        with_db!(self, |pool| pool.close_event())
    }
}

/// How often a SQLite database's WAL is copied into the database file ([`spawn_checkpointer`]).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// WAL size in pages at which the connection that commits checkpoints by itself (SQLite's
/// automatic checkpoint; its default is 1,000). Raised from the default because that
/// checkpoint runs inside the commit of whichever writer crosses the limit, stalling it (and
/// every commit queued behind it) for the copy and the database file's `fsync`; here it is
/// only the safety net that bounds the WAL when [`spawn_checkpointer`] cannot catch up (the
/// WAL starts over only after a checkpoint copied all of it, which sustained writes prevent).
const WAL_AUTOCHECKPOINT_PAGES: &str = "10000";

/// SQLite: copies the WAL into the database file every [`CHECKPOINT_EVERY`] on a connection of
/// its own (`PRAGMA wal_checkpoint(PASSIVE)`: it copies what it can without waiting for
/// readers or the writer, and the writer does not wait for it), so writers rarely pay for a
/// checkpoint in their commit. Durability is unchanged: a commit is durable once its WAL
/// frames are synced (`synchronous = FULL`), whether or not they were copied yet. Ends when
/// the pool is closed.
pub(crate) fn spawn_checkpointer(pool: SqlitePool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // The first tick one period from now: [`checkpoint_now`] has just emptied the WAL.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + CHECKPOINT_EVERY, CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                if pool.is_closed() {
                    break;
                }
                tracing::warn!(%error, "checkpointing the SQLite WAL failed");
            }
        }
    })
}

/// How often [`spawn_statistics_keeper`] looks for tables whose statistics are stale.
const STATISTICS_EVERY: Duration = Duration::from_secs(30);

/// PostgreSQL: every [`STATISTICS_EVERY`], `ANALYZE`s the tables of the store's schema changed
/// by more than 50 rows plus 10 % since their last analysis (autovacuum's own default rule),
/// and those never analyzed. The planner needs these statistics to choose the index paths the
/// LRS queries are written for: without them a filtered GET at a million statements sorts
/// every match of its agent (38 ms instead of 0.1 ms), and while the StatementRef table has
/// never been analyzed (autovacuum never analyzes a table nobody wrote to) the planner takes
/// it for 1,070 rows and starts the referring-statements query from the agent's statements
/// instead (13 ms instead of 0.1 ms at 400,000). Autovacuum keeps the first kind when it runs,
/// but it can be switched off (it is on the project's CI machine); where it runs, it has
/// usually analyzed a changed table first and this finds nothing to do. `SKIP_LOCKED`: a table
/// being analyzed by someone else (another server, autovacuum) is left to them. Ends when
/// the pool is closed.
pub(crate) fn spawn_statistics_keeper(pool: sqlx::PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + STATISTICS_EVERY, STATISTICS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            let stale: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar(
                "SELECT relname::text FROM pg_stat_user_tables WHERE schemaname = current_schema() \
                 AND (n_mod_since_analyze > 50 + 0.1 * GREATEST(n_live_tup, 0) \
                      OR (last_analyze IS NULL AND last_autoanalyze IS NULL)) ORDER BY relname",
            )
            .fetch_all(&pool)
            .await;
            let outcome = match stale {
                Ok(tables) => {
                    let mut outcome = Ok(());
                    for table in tables {
                        let sql = format!("ANALYZE (SKIP_LOCKED) \"{}\"", table.replace('"', "\"\""));
                        if let Err(error) = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await {
                            outcome = Err(error);
                            break;
                        }
                        tracing::debug!(table, "analyzed");
                    }
                    outcome
                }
                Err(error) => Err(error),
            };
            if let Err(error) = outcome {
                if pool.is_closed() {
                    break;
                }
                tracing::warn!(%error, "updating the PostgreSQL planner statistics failed");
            }
        }
    })
}

/// SQLite: copies the WAL into the database file once, at start after the migrations: a new
/// database's migrations leave a WAL of hundreds of pages, which the background checkpointer
/// would otherwise copy (and `fsync`) alongside the first requests. `PASSIVE`, like the
/// background one, so a start never waits for another process's readers or writer.
pub(crate) async fn checkpoint_now(pool: &SqlitePool) -> Result<(), Error> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(pool).await?;
    Ok(())
}

/// Aborts a background task when dropped (held by every clone of the store through an `Arc`).
pub(crate) struct TaskGuard(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}


/// Starting a transaction that will write. On SQLite this is `BEGIN IMMEDIATE`, which takes
/// the write lock up front: a deferred transaction that reads first and writes later can fail
/// with "database is locked" when another writer got in between, whatever the busy timeout.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    fn begin_write(&self) -> impl Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send {
        self.begin()
    }
}

/// A connection that a writer task keeps for itself between transactions (the SCORM commit
/// lanes, the LRS statement writer), or borrows from the pool for one call.
///
/// Kept for itself, it is taken from the pool at first use and held: no wait for the pool per
/// group, a statement cache that stays warm (PostgreSQL prepares each statement text once per
/// connection), and on SQLite a page cache that keeps the indexes the writer works on. On
/// PostgreSQL it plans with generic plans (`plan_cache_mode = force_generic_plan`): the write
/// statements take their rows as arrays, so a plan made for one group fits every other, and
/// re-planning them per call cost more than running them. Such a connection is closed, not
/// returned to the pool, when it is dropped or after an error (it may be broken, and the
/// setting must not reach other users of the pool).
pub(crate) struct WriterConnection {
    held: Option<HeldConnection>,
    dedicated: bool,
}

pub(crate) enum HeldConnection {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// Runs `$body` with `$conn` bound to the held connection, whichever backend it is.
macro_rules! with_held {
    ($held:expr, |$conn:ident| $body:expr) => {
        match $held {
            $crate::db::HeldConnection::Sqlite($conn) => $body,
            $crate::db::HeldConnection::Postgres($conn) => $body,
        }
    };
}
pub(crate) use with_held;

/// Runs `$body` in a write transaction `$tx` begun on the writer's connection (taken from the
/// pool of `$db` when it has none) and evaluates to its `Result`; `$body` commits. After a
/// database error the writer lets the connection go ([`WriterConnection::discard`]).
macro_rules! in_write_tx {
    ($writer:expr, $db:expr, |$tx:ident| $body:expr) => {{
        let writer: &mut $crate::db::WriterConnection = $writer;
        let outcome = async {
            let held = writer.get($db).await?;
            $crate::db::with_held!(held, |connection| {
                #[allow(unused_mut)]
                let mut $tx = $crate::db::BeginWriteOn::begin_write(connection).await?;
                $body
            })
        }
        .await;
        if matches!(outcome, Err($crate::Error::Database(_))) {
            writer.discard();
        }
        outcome
    }};
}
pub(crate) use in_write_tx;

impl WriterConnection {
    /// A connection the caller keeps across calls.
    pub(crate) fn dedicated() -> WriterConnection {
        WriterConnection { held: None, dedicated: true }
    }

    /// A pool connection for one call, returned to the pool afterwards.
    pub(crate) fn borrowed() -> WriterConnection {
        WriterConnection { held: None, dedicated: false }
    }

    /// The connection, taken from the pool when there is none yet.
    pub(crate) async fn get(&mut self, db: &Db) -> Result<&mut HeldConnection, Error> {
        let held = match self.held.take() {
            Some(held) => held,
            None => match db {
                Db::Sqlite(pool) => HeldConnection::Sqlite(pool.acquire().await?),
                Db::Postgres(pool) => {
                    let mut connection = pool.acquire().await?;
                    if self.dedicated {
                        connection.close_on_drop();
                        sqlx::query("SET plan_cache_mode = force_generic_plan").execute(&mut *connection).await?;
                    }
                    HeldConnection::Postgres(connection)
                }
            },
        };
        Ok(self.held.insert(held))
    }

    /// After a failed transaction: the next call takes a new connection; a dedicated one is
    /// closed (it may be broken), a borrowed one goes back to the pool.
    pub(crate) fn discard(&mut self) {
        if let Some(held) = self.held.take()
            && self.dedicated
        {
            match held {
                HeldConnection::Sqlite(mut c) => c.close_on_drop(),
                HeldConnection::Postgres(mut c) => c.close_on_drop(),
            }
        }
    }
}

impl Drop for WriterConnection {
    fn drop(&mut self) {
        self.discard();
    }
}

/// [`BeginWrite`] for a connection held by a writer.
pub(crate) trait BeginWriteOn {
    type Database: sqlx::Database;
    fn begin_write(&mut self) -> impl Future<Output = Result<sqlx::Transaction<'_, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWriteOn for sqlx::pool::PoolConnection<sqlx::Sqlite> {
    type Database = sqlx::Sqlite;
    fn begin_write(&mut self) -> impl Future<Output = Result<sqlx::Transaction<'_, sqlx::Sqlite>, sqlx::Error>> + Send {
        sqlx::Connection::begin_with(&mut **self, "BEGIN IMMEDIATE")
    }
}

impl BeginWriteOn for sqlx::pool::PoolConnection<sqlx::Postgres> {
    type Database = sqlx::Postgres;
    fn begin_write(&mut self) -> impl Future<Output = Result<sqlx::Transaction<'_, sqlx::Postgres>, sqlx::Error>> + Send {
        sqlx::Connection::begin(&mut **self)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
