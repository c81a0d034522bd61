//! Migrations: `migrations/sqlite/*.sql` and `migrations/postgres/*.sql`, embedded in the
//! binary and applied in order at start. Each applied migration's SHA-256 is recorded; a
//! migration edited after it was applied stops the start with a clear error.

use sha2::{Digest, Sha256};

use crate::db::{BeginWrite, Db, with_db};
use crate::{Error, now_text};

struct Migration {
    name: &'static str,
    sql: &'static str,
}

// `SQLITE` and `POSTGRES`: every file of `migrations/<backend>/`, in name order (build.rs).
include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

pub(crate) async fn apply(db: &Db) -> Result<(), Error> {
    let migrations = match db {
        Db::Sqlite(_) => SQLITE,
        Db::Postgres(_) => POSTGRES,
    };
    with_db!(db, |pool| {
        // Serialize concurrent starts (several server instances on one PostgreSQL).
        let mut tx = pool.begin_write().await?;
        if matches!(db, Db::Postgres(_)) {
            sqlx::query("SELECT pg_advisory_xact_lock(7417001)").execute(&mut *tx).await?;
        }
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        for migration in migrations {
            let checksum = hex::encode(Sha256::digest(migration.sql.as_bytes()));
            let applied: Option<(String,)> = sqlx::query_as("SELECT sha256 FROM schema_migrations WHERE name = $1")
                .bind(migration.name)
                .fetch_optional(&mut *tx)
                .await?;
            match applied {
                Some((existing,)) if existing == checksum => continue,
                Some(_) => return Err(Error::MigrationChanged { name: migration.name.to_string() }),
                None => {}
            }
            sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_migrations (name, sha256, applied_at) VALUES ($1, $2, $3)")
                .bind(migration.name)
                .bind(&checksum)
                .bind(now_text())
                .execute(&mut *tx)
                .await?;
            tracing::info!(migration = migration.name, "applied migration");
        }
        tx.commit().await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_have_the_same_migrations() {
        let sqlite: Vec<&str> = super::SQLITE.iter().map(|m| m.name).collect();
        let postgres: Vec<&str> = super::POSTGRES.iter().map(|m| m.name).collect();
        assert_eq!(sqlite, postgres, "every migration needs a SQLite and a PostgreSQL version of the same name");
        assert!(!sqlite.is_empty());
    }
}
