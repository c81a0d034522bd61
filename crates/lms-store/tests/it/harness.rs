use std::sync::atomic::{AtomicU32, Ordering};

use lms_store::{Store, StoreConfig};
use sqlx::Connection;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store on a fresh database, and what to clean up afterwards.
pub struct TestDb {
    pub store: Store,
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn postgres_required() -> bool {
    std::env::var_os("LMS_REQUIRE_POSTGRES").is_some() || std::env::var_os("CI").is_some()
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::sqlite_in(dir.path())).await.unwrap();
        TestDb { store, dir, postgres: None }
    }

    /// `None` (after a loud message) when PostgreSQL is unreachable and not required.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("LMS_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
        let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(c) => c,
            Err(e) => {
                if postgres_required() {
                    panic!("PostgreSQL is required for this run but cannot be reached at {admin_url}: {e}");
                }
                eprintln!("!!! SKIPPING the PostgreSQL half of this test: cannot reach {admin_url}: {e}");
                return None;
            }
        };
        drop_leftovers(&mut admin).await;
        let name = format!("lms_t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig { data_dir: dir.path().to_path_buf(), database_url: Some(url), max_connections: 8 };
        let store = Store::open(&config).await.unwrap();
        Some(TestDb { store, dir, postgres: Some((admin_url, name)) })
    }

    /// The URL of the store's database, for a test that writes behind the store's back.
    pub fn database_url(&self) -> String {
        match &self.postgres {
            Some((admin_url, name)) => with_database(admin_url, name),
            None => format!("sqlite://{}", self.dir.path().join("lms.sqlite").display()),
        }
    }

    /// Closes the store and drops the PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.postgres {
            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut admin).await;
            }
        }
    }
}

/// Drops test databases left by processes that are gone (a test that panicked).
async fn drop_leftovers(admin: &mut sqlx::PgConnection) {
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'lms_t_%'")
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
    for (name,) in names {
        let pid: Option<u32> = name.strip_prefix("lms_t_").and_then(|r| r.split('_').next()).and_then(|p| p.parse().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut *admin).await;
            }
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Defines `mod $name { sqlite(), postgres() }`, each running `$body(store, dir)`.
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::harness::TestDb::sqlite().await;
                ($body)(db.store.clone(), db.dir.path().to_path_buf()).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::harness::TestDb::postgres().await else { return };
                ($body)(db.store.clone(), db.dir.path().to_path_buf()).await;
                db.finish().await;
            }
        }
    };
}
pub(crate) use on_both;

/// The shared corpus, or `None` after a loud message (a failure under CI).
pub fn corpus() -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if path.is_dir() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("the shared corpus is missing at {} (CI must have ../shared beside the project)", path.display());
    }
    eprintln!("!!! SKIPPING corpus-based checks: {} is missing", path.display());
    None
}

#[test]
fn database_url_rewrite() {
    assert_eq!(with_database("postgres://u@h:5432/test", "x"), "postgres://u@h:5432/x");
    assert_eq!(with_database("postgres://u@h:5432/test?sslmode=disable", "x"), "postgres://u@h:5432/x?sslmode=disable");
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}
