//! People, org units, roles, passwords, API tokens and login sessions.
//!
//! People are identified by their personnel number (many staff have no e-mail). Passwords
//! are stored as argon2 hashes; API tokens and session ids only as SHA-256 hashes, so a
//! copy of the database gives no working credential.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{BeginWrite, with_db};
use crate::{Error, Store, now_text};

/// What a person may do. Stored lower-case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Learner,
    Author,
    Trainer,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Learner, Role::Author, Role::Trainer, Role::Manager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Author => "author",
            Role::Trainer => "trainer",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// A stored person.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    pub personnel_number: String,
    pub name: String,
    pub org_unit: Option<String>,
    pub roles: BTreeSet<Role>,
    pub has_password: bool,
}

impl Person {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Clone, Debug)]
pub struct NewPerson {
    pub personnel_number: String,
    pub name: String,
    pub org_unit: Option<String>,
    pub roles: BTreeSet<Role>,
    pub password: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrgUnit {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewOrgUnit {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

/// A personnel number is 1–32 characters of letters, digits, `.`, `_` and `-`.
pub fn validate_personnel_number(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("is empty".into());
    }
    if text.chars().count() > 32 {
        return Err(format!("{text:?} is longer than 32 characters"));
    }
    if let Some(bad) = text.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(format!("{text:?} contains {bad:?}; only letters, digits, '.', '_' and '-' are allowed"));
    }
    Ok(())
}

fn validate_org_unit_id(text: &str) -> Result<(), String> {
    if text.is_empty() || text.chars().count() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if text.chars().any(|c| c.is_control()) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

fn validate_name(text: &str) -> Result<(), String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("is empty".into());
    }
    if trimmed.chars().count() > 200 {
        return Err("is longer than 200 characters".into());
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A random 256-bit secret as 64 hex characters.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn hash_password(password: &str) -> Result<String, Error> {
    if password.chars().count() < 8 {
        return Err(Error::invalid("password", "must be at least 8 characters"));
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Task(format!("password hashing failed: {e}")))
}

/// One CSV row of an HR export, before validation.
#[derive(Clone, Debug, Default)]
pub struct PersonRow {
    /// 1-based line in the file, for the report.
    pub line: u64,
    pub personnel_number: String,
    pub name: String,
    pub org_unit: String,
    /// Roles separated by `;` or `|`; empty means learner.
    pub roles: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RejectedRow {
    pub line: u64,
    pub personnel_number: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub rejected: Vec<RejectedRow>,
    /// Org units that did not exist and were created (flat, named by their id).
    pub created_org_units: Vec<String>,
}

impl Store {
    pub async fn create_org_unit(&self, unit: &NewOrgUnit) -> Result<OrgUnit, Error> {
        validate_org_unit_id(&unit.id).map_err(|m| Error::invalid("id", m))?;
        validate_name(&unit.name).map_err(|m| Error::invalid("name", m))?;
        if let Some(parent) = &unit.parent_id {
            if self.org_unit(parent).await?.is_none() {
                return Err(Error::invalid("parent_id", format!("org unit {parent:?} does not exist")));
            }
        }
        let result = with_db!(&self.db, |pool| {
            sqlx::query("INSERT INTO org_units (id, name, parent_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&unit.id)
                .bind(unit.name.trim())
                .bind(&unit.parent_id)
                .bind(now_text())
                .execute(pool)
                .await
                .map(|_| ())
        });
        match result {
            Ok(()) => Ok(OrgUnit { id: unit.id.clone(), name: unit.name.trim().to_string(), parent_id: unit.parent_id.clone() }),
            Err(e) => {
                let e = Error::from(e);
                if e.is_unique_violation() {
                    Err(Error::Conflict { what: format!("org unit {:?}", unit.id) })
                } else {
                    Err(e)
                }
            }
        }
    }

    pub async fn org_unit(&self, id: &str) -> Result<Option<OrgUnit>, Error> {
        let row = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String, String, Option<String>)>("SELECT id, name, parent_id FROM org_units WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(id, name, parent_id)| OrgUnit { id, name, parent_id }))
    }

    pub async fn list_org_units(&self) -> Result<Vec<OrgUnit>, Error> {
        let rows = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String, String, Option<String>)>("SELECT id, name, parent_id FROM org_units ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(id, name, parent_id)| OrgUnit { id, name, parent_id }).collect())
    }

    pub async fn create_person(&self, person: &NewPerson) -> Result<Person, Error> {
        validate_personnel_number(&person.personnel_number).map_err(|m| Error::invalid("personnel_number", m))?;
        validate_name(&person.name).map_err(|m| Error::invalid("name", m))?;
        if let Some(unit) = &person.org_unit {
            if self.org_unit(unit).await?.is_none() {
                return Err(Error::invalid("org_unit", format!("org unit {unit:?} does not exist")));
            }
        }
        let password_hash = match &person.password {
            Some(p) => {
                let p = p.clone();
                Some(tokio::task::spawn_blocking(move || hash_password(&p)).await.map_err(|e| Error::Task(e.to_string()))??)
            }
            None => None,
        };
        let roles: BTreeSet<Role> =
            if person.roles.is_empty() { BTreeSet::from([Role::Learner]) } else { person.roles.clone() };
        let now = now_text();
        let result: Result<(), sqlx::Error> = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                sqlx::query(
                    "INSERT INTO people (personnel_number, name, org_unit_id, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&person.personnel_number)
                .bind(person.name.trim())
                .bind(&person.org_unit)
                .bind(&password_hash)
                .bind(&now)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                for role in &roles {
                    sqlx::query("INSERT INTO person_roles (personnel_number, role) VALUES ($1, $2)")
                        .bind(&person.personnel_number)
                        .bind(role.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await
            }
            .await
        });
        match result {
            Ok(()) => Ok(Person {
                personnel_number: person.personnel_number.clone(),
                name: person.name.trim().to_string(),
                org_unit: person.org_unit.clone(),
                roles,
                has_password: password_hash.is_some(),
            }),
            Err(e) => {
                let e = Error::from(e);
                if e.is_unique_violation() {
                    Err(Error::Conflict { what: format!("person {:?}", person.personnel_number) })
                } else {
                    Err(e)
                }
            }
        }
    }

    pub async fn person(&self, personnel_number: &str) -> Result<Option<Person>, Error> {
        let row = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String, String, Option<String>, Option<String>)>(
                "SELECT personnel_number, name, org_unit_id, password_hash FROM people WHERE personnel_number = $1",
            )
            .bind(personnel_number)
            .fetch_optional(pool)
            .await?
        });
        let Some((personnel_number, name, org_unit, password_hash)) = row else { return Ok(None) };
        let roles = self.roles_of(&personnel_number).await?;
        Ok(Some(Person { personnel_number, name, org_unit, roles, has_password: password_hash.is_some() }))
    }

    async fn roles_of(&self, personnel_number: &str) -> Result<BTreeSet<Role>, Error> {
        let rows = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String,)>("SELECT role FROM person_roles WHERE personnel_number = $1")
                .bind(personnel_number)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().filter_map(|(r,)| Role::parse(&r)).collect())
    }

    pub async fn list_people(&self, limit: i64) -> Result<Vec<Person>, Error> {
        let rows = with_db!(&self.db, |pool| {
            sqlx::query("SELECT personnel_number FROM people ORDER BY personnel_number LIMIT $1")
                .bind(limit)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<Vec<_>, _>>()?
        });
        let mut people = Vec::with_capacity(rows.len());
        for pn in rows {
            if let Some(p) = self.person(&pn).await? {
                people.push(p);
            }
        }
        Ok(people)
    }

    pub async fn count_people(&self) -> Result<i64, Error> {
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM people").fetch_one(pool).await?.0
        }))
    }

    /// Sets (or replaces) a person's password.
    pub async fn set_password(&self, personnel_number: &str, password: &str) -> Result<(), Error> {
        let p = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&p)).await.map_err(|e| Error::Task(e.to_string()))??;
        let done = with_db!(&self.db, |pool| {
            sqlx::query("UPDATE people SET password_hash = $1, updated_at = $2 WHERE personnel_number = $3")
                .bind(&hash)
                .bind(now_text())
                .bind(personnel_number)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 0 {
            return Err(Error::NotFound { what: format!("person {personnel_number:?}") });
        }
        Ok(())
    }

    /// Checks personnel number and password; on success creates a login session and
    /// returns its secret (for the cookie). Wrong number and wrong password look the same.
    pub async fn login(&self, personnel_number: &str, password: &str, ttl: chrono::Duration) -> Result<Option<String>, Error> {
        let row = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (Option<String>,)>("SELECT password_hash FROM people WHERE personnel_number = $1")
                .bind(personnel_number)
                .fetch_optional(pool)
                .await?
        });
        let hash = row.and_then(|(h,)| h);
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || match hash {
            Some(hash) => match PasswordHash::new(&hash) {
                Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
                Err(_) => false,
            },
            None => {
                // Spend the same time as a real check so timing does not reveal who exists.
                let _ = hash_password("timing-equaliser-password");
                false
            }
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
        if !ok {
            return Ok(None);
        }
        let secret = random_secret();
        let expires = (chrono::Utc::now() + ttl).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        with_db!(&self.db, |pool| {
            sqlx::query("INSERT INTO login_sessions (session_sha256, personnel_number, expires_at) VALUES ($1, $2, $3)")
                .bind(sha256_hex(&secret))
                .bind(personnel_number)
                .bind(&expires)
                .execute(pool)
                .await?;
        });
        Ok(Some(secret))
    }

    /// The person a session cookie belongs to, if the session is valid and not expired.
    pub async fn person_for_session(&self, secret: &str) -> Result<Option<Person>, Error> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let row = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String,)>(
                "SELECT personnel_number FROM login_sessions WHERE session_sha256 = $1 AND expires_at > $2",
            )
            .bind(sha256_hex(secret))
            .bind(&now)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some((pn,)) => self.person(&pn).await,
            None => Ok(None),
        }
    }

    pub async fn logout(&self, secret: &str) -> Result<(), Error> {
        with_db!(&self.db, |pool| {
            sqlx::query("DELETE FROM login_sessions WHERE session_sha256 = $1").bind(sha256_hex(secret)).execute(pool).await?;
        });
        Ok(())
    }

    /// Creates an API token for a person; returns the secret (shown once).
    pub async fn create_api_token(&self, personnel_number: &str, label: &str) -> Result<String, Error> {
        let secret = random_secret();
        self.insert_api_token(personnel_number, &secret, label).await?;
        Ok(secret)
    }

    async fn insert_api_token(&self, personnel_number: &str, secret: &str, label: &str) -> Result<(), Error> {
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO api_tokens (token_sha256, personnel_number, label, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (token_sha256) DO NOTHING",
            )
            .bind(sha256_hex(secret))
            .bind(personnel_number)
            .bind(label)
            .bind(now_text())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The person a bearer token belongs to.
    pub async fn person_for_token(&self, secret: &str) -> Result<Option<Person>, Error> {
        let row = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String,)>("SELECT personnel_number FROM api_tokens WHERE token_sha256 = $1")
                .bind(sha256_hex(secret))
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some((pn,)) => self.person(&pn).await,
            None => Ok(None),
        }
    }

    /// `LMS_ADMIN_TOKEN`: makes sure a bootstrap admin (`admin`) exists and that `secret`
    /// is one of its API tokens. Idempotent.
    pub async fn ensure_bootstrap_admin(&self, secret: &str) -> Result<(), Error> {
        if secret.len() < 16 {
            return Err(Error::invalid("LMS_ADMIN_TOKEN", "must be at least 16 characters"));
        }
        if self.person("admin").await?.is_none() {
            let admin = NewPerson {
                personnel_number: "admin".into(),
                name: "Bootstrap administrator".into(),
                org_unit: None,
                roles: BTreeSet::from([Role::Admin]),
                password: None,
            };
            match self.create_person(&admin).await {
                Ok(_) | Err(Error::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.insert_api_token("admin", secret, "LMS_ADMIN_TOKEN").await
    }

    /// Bulk load from an HR export: rows are validated, then inserted or updated in one
    /// transaction with multi-row statements. Bad rows are reported, never half-applied.
    /// Org units that do not exist yet are created (flat) and listed in the report.
    pub async fn import_people(&self, rows: Vec<PersonRow>) -> Result<ImportReport, Error> {
        let mut report = ImportReport::default();
        let mut seen: HashSet<String> = HashSet::with_capacity(rows.len());
        let mut valid: Vec<(PersonRow, BTreeSet<Role>)> = Vec::with_capacity(rows.len());
        for mut row in rows {
            row.personnel_number = row.personnel_number.trim().to_string();
            row.org_unit = row.org_unit.trim().to_string();
            let reject = |reason: String| RejectedRow { line: row.line, personnel_number: row.personnel_number.clone(), reason };
            if let Err(m) = validate_personnel_number(&row.personnel_number) {
                report.rejected.push(reject(format!("personnel number {m}")));
                continue;
            }
            if let Err(m) = validate_name(&row.name) {
                report.rejected.push(reject(format!("name {m}")));
                continue;
            }
            if !row.org_unit.is_empty() {
                if let Err(m) = validate_org_unit_id(&row.org_unit) {
                    report.rejected.push(reject(format!("org unit {m}")));
                    continue;
                }
            }
            let mut roles = BTreeSet::new();
            let mut bad_role = None;
            for part in row.roles.split([';', '|', ',']).map(str::trim).filter(|p| !p.is_empty()) {
                match Role::parse(part) {
                    Some(r) => {
                        roles.insert(r);
                    }
                    None => bad_role = Some(part.to_string()),
                }
            }
            if let Some(bad) = bad_role {
                report.rejected.push(reject(format!(
                    "unknown role {bad:?} (known: learner, author, trainer, manager, admin)"
                )));
                continue;
            }
            if roles.is_empty() {
                roles.insert(Role::Learner);
            }
            if !seen.insert(row.personnel_number.clone()) {
                report.rejected.push(reject("personnel number appears more than once in the file".into()));
                continue;
            }
            valid.push((row, roles));
        }

        let existing_units: BTreeSet<String> = self.list_org_units().await?.into_iter().map(|u| u.id).collect();
        let wanted_units: BTreeSet<&str> =
            valid.iter().map(|(r, _)| r.org_unit.as_str()).filter(|u| !u.is_empty()).collect();
        let new_units: Vec<String> =
            wanted_units.into_iter().filter(|u| !existing_units.contains(*u)).map(str::to_string).collect();

        let existing_people: HashSet<String> = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String,)>("SELECT personnel_number FROM people").fetch_all(pool).await?
        })
        .into_iter()
        .map(|(p,)| p)
        .collect();

        let now = now_text();
        const CHUNK: usize = 500;
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin_write().await?;
            for unit in &new_units {
                sqlx::query("INSERT INTO org_units (id, name, parent_id, created_at) VALUES ($1, $2, NULL, $3)")
                    .bind(unit)
                    .bind(unit)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
            }
            for chunk in valid.chunks(CHUNK) {
                let mut sql = String::from(
                    "INSERT INTO people (personnel_number, name, org_unit_id, password_hash, created_at, updated_at) VALUES ",
                );
                for i in 0..chunk.len() {
                    let b = i * 4;
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("(${}, ${}, ${}, NULL, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 4));
                }
                sql.push_str(
                    " ON CONFLICT (personnel_number) DO UPDATE SET name = excluded.name, org_unit_id = excluded.org_unit_id, updated_at = excluded.updated_at",
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                for (row, _) in chunk {
                    let unit = if row.org_unit.is_empty() { None } else { Some(row.org_unit.as_str()) };
                    query = query.bind(row.personnel_number.as_str()).bind(row.name.trim()).bind(unit).bind(now.as_str());
                }
                query.execute(&mut *tx).await?;

                let mut delete = String::from("DELETE FROM person_roles WHERE personnel_number IN (");
                for i in 0..chunk.len() {
                    if i > 0 {
                        delete.push(',');
                    }
                    delete.push_str(&format!("${}", i + 1));
                }
                delete.push(')');
                let mut query = sqlx::query(sqlx::AssertSqlSafe(delete.clone()));
                for (row, _) in chunk {
                    query = query.bind(row.personnel_number.as_str());
                }
                query.execute(&mut *tx).await?;

                let pairs: Vec<(&str, &str)> = chunk
                    .iter()
                    .flat_map(|(row, roles)| roles.iter().map(move |r| (row.personnel_number.as_str(), r.as_str())))
                    .collect();
                for pairs in pairs.chunks(CHUNK) {
                    let mut sql = String::from("INSERT INTO person_roles (personnel_number, role) VALUES ");
                    for i in 0..pairs.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&format!("(${}, ${})", i * 2 + 1, i * 2 + 2));
                    }
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                    for (pn, role) in pairs {
                        query = query.bind(*pn).bind(*role);
                    }
                    query.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
        });

        for (row, _) in &valid {
            if existing_people.contains(&row.personnel_number) {
                report.updated += 1;
            } else {
                report.created += 1;
            }
        }
        report.created_org_units = new_units;
        Ok(report)
    }

    /// Role counts, for a quick overview.
    pub async fn role_counts(&self) -> Result<BTreeMap<String, i64>, Error> {
        let rows = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String, i64)>("SELECT role, COUNT(*) FROM person_roles GROUP BY role").fetch_all(pool).await?
        });
        Ok(rows.into_iter().collect())
    }
}
