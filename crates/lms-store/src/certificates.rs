//! Certificates of attendance (issue 7): issuance, lifecycle, verification, templates per
//! org unit, batch rendering and the personnel-file export.
//!
//! Rendering is done by the pure crate `lms-certificate` (PDF/A-2u); this module loads
//! what it needs, renders off the async runtime (`spawn_blocking`, or a pool of worker
//! threads for batches), stores each PDF content-addressed in the blob store and records the
//! certificate. A certificate row keeps the exact input it was rendered from and the
//! template's SHA-256, so [`Store::rerender_certificate`] gives the stored bytes again.
//!
//! # Issuance hooks for other areas
//!
//! - [`Store::issue_certificate_for_offering`]`(offering_id, personnel_number, now)`: call
//!   after an offering's completion rule is met (a row in `offering_completions` exists).
//! - [`Store::issue_certificate_for_elearning`]`(personnel_number, package_id, completed_at, now)`:
//!   call after an e-learning course completes. Returns `Ok(None)` when no certificate is
//!   configured for the package (no e-learning course uses it, or the course has no certified
//!   duration, see [`Store::set_certificate_duration`]).
//!
//! Both are idempotent: while a valid certificate for the same completion exists it is
//! returned instead of a new one. Callers should log an `Err` rather than fail the
//! completion: a certificate can always be issued later ([`Store::issue_pending_certificates`]).
//!
//! # Lifecycle
//!
//! `valid` → `revoked` ([`Store::revoke_certificate`], with a reason) or → `superseded`
//! ([`Store::reissue_certificate`]: a new code, the current name and template; the old row
//! stays, linked both ways through `replaces` / `superseded_by`).
//!
//! # Verification
//!
//! [`Store::certificate`] by code (any spelling [`lms_certificate::parse_verification_code`]
//! accepts) and [`Store::check_certificate_pdf`]: the SHA-256 of uploaded bytes against the
//! issued PDF's, so an edited file does not match.

mod zip_out;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use lms_certificate::{Certificate, Fonts, Language, Orientation, Template};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{BeginWrite, with_db};
use crate::{Error, Store};

pub use zip_out::{BatchItemError, BatchReport, CertificateProgress, ExportFilter, ExportReport, METADATA_CSV_COLUMNS};

/// Where verification URLs point when no base URL was set.
pub const DEFAULT_VERIFICATION_BASE_URL: &str = "http://localhost:8080";

/// Lifecycle state of an issued certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    Valid,
    /// Withdrawn, with a reason.
    Revoked,
    /// Replaced by a re-issue (`superseded_by`); kept in the history.
    Superseded,
}

impl CertificateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "valid",
            CertificateStatus::Revoked => "revoked",
            CertificateStatus::Superseded => "superseded",
        }
    }
    fn parse(text: &str) -> Result<Self, Error> {
        Ok(match text {
            "valid" => CertificateStatus::Valid,
            "revoked" => CertificateStatus::Revoked,
            "superseded" => CertificateStatus::Superseded,
            other => return Err(Error::Task(format!("stored certificate status {other:?} is unknown"))),
        })
    }
}

/// What a certificate certifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateOrigin {
    /// `offering`, `elearning` or `manual`.
    pub source: String,
    pub offering_id: Option<i64>,
    pub course_id: Option<i64>,
    pub package_id: Option<String>,
    /// The issuing org unit (its name is the certificate's department).
    pub org_unit_id: Option<String>,
    pub issued_by: Option<String>,
    pub template_sha256: String,
}

/// One issued certificate with its lifecycle.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IssuedCertificate {
    pub code: String,
    pub personnel_number: String,
    /// What was printed (holder name, course, dates, hours, trainer, department, URL).
    pub certificate: Certificate,
    pub origin: CertificateOrigin,
    pub issued_at: DateTime<Utc>,
    pub pdf_sha256: String,
    pub pdf_size: u64,
    pub status: CertificateStatus,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub revocation_reason: Option<String>,
    /// The certificate this one re-issued.
    pub replaces: Option<String>,
    /// The re-issue that replaced this one.
    pub superseded_by: Option<String>,
}

/// A certificate issued by hand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualCertificate {
    pub personnel_number: String,
    pub course_title: String,
    pub dates: Vec<NaiveDate>,
    pub duration_minutes: u32,
    #[serde(default)]
    pub trainer: Option<String>,
    /// The issuing org unit: its name is printed as the department, its template is used.
    pub org_unit_id: String,
    #[serde(default)]
    pub course_id: Option<i64>,
}

/// What to certify.
#[derive(Clone, Debug, PartialEq)]
pub enum IssueRequest {
    /// A completed offering (the completion rule was met).
    Offering { offering_id: i64, personnel_number: String },
    /// A completed e-learning package.
    Elearning { personnel_number: String, package_id: String, completed_at: DateTime<Utc> },
    Manual(ManualCertificate),
}

/// The result of comparing an uploaded PDF with the issued one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PdfCheck {
    /// `true` only when the bytes are exactly the issued file.
    pub matches: bool,
    pub uploaded_sha256: String,
    pub issued_sha256: String,
}

/// A certificate ready to be rendered (not yet stored).
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub personnel_number: String,
    pub source_key: Option<String>,
    pub certificate: Certificate,
    pub origin: CertificateOrigin,
    pub template: Arc<Template>,
    pub replaces: Option<String>,
}

pub(crate) fn ts_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn ts_parse(text: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::Task(format!("stored timestamp {text:?} is not RFC 3339")))
}

pub(crate) fn certificate_error(field: &'static str) -> impl Fn(lms_certificate::Error) -> Error {
    move |e| Error::invalid(field, e.to_string())
}

/// The built-in default template (German, portrait).
pub fn default_certificate_template() -> Template {
    Template::builtin(Language::German, Orientation::Portrait)
}

fn template_sha256(json: &str) -> String {
    hex::encode(Sha256::digest(json.as_bytes()))
}

type CertificateRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const CERTIFICATE_COLUMNS: &str = "code, personnel_number, certificate_json, meta_json, issued_at, pdf_sha256, pdf_size, status, \
     revoked_at, revoked_by, revocation_reason, replaces, superseded_by";

fn certificate_from_row(row: CertificateRow) -> Result<IssuedCertificate, Error> {
    let (code, personnel_number, certificate_json, meta_json, issued_at, pdf_sha256, pdf_size, status, revoked_at, revoked_by, reason, replaces, superseded_by) =
        row;
    let certificate: Certificate = serde_json::from_str(&certificate_json)
        .map_err(|e| Error::Task(format!("stored certificate {code}: {e}")))?;
    let origin: CertificateOrigin =
        serde_json::from_str(&meta_json).map_err(|e| Error::Task(format!("stored certificate {code}: {e}")))?;
    Ok(IssuedCertificate {
        code,
        personnel_number,
        certificate,
        origin,
        issued_at: ts_parse(&issued_at)?,
        pdf_sha256,
        pdf_size: u64::try_from(pdf_size).unwrap_or(0),
        status: CertificateStatus::parse(&status)?,
        revoked_at: revoked_at.as_deref().map(ts_parse).transpose()?,
        revoked_by,
        revocation_reason: reason,
        replaces,
        superseded_by,
    })
}

/// A fresh, unguessable verification code.
pub(crate) fn new_code() -> Result<String, Error> {
    let seed: [u8; 16] = rand::random();
    lms_certificate::verification_code(&seed).map_err(certificate_error("verification_code"))
}

fn check_base_url(url: &str) -> Result<String, Error> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::invalid("base_url", "must start with https:// or http://"));
    }
    if url.len() > 200 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid("base_url", "at most 200 characters, no spaces"));
    }
    Ok(url.to_string())
}

impl Store {
    // ---- settings -------------------------------------------------------------------

    /// The public base URL the verification links (QR codes) point to, e.g.
    /// `https://lms.example.org` (then `…/verify/CODE`).
    pub async fn certificate_base_url(&self) -> Result<String, Error> {
        let row: Option<(String,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT value FROM certificate_settings WHERE name = 'base_url'").fetch_optional(pool).await?
        });
        Ok(row.map(|r| r.0).unwrap_or_else(|| DEFAULT_VERIFICATION_BASE_URL.to_string()))
    }

    pub async fn set_certificate_base_url(&self, url: &str) -> Result<String, Error> {
        let url = check_base_url(url)?;
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO certificate_settings (name, value) VALUES ('base_url', $1) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(&url)
            .execute(pool)
            .await?;
        });
        Ok(url)
    }

    /// Sets the certified duration of a course (used instead of the sum of attended session
    /// times; required for certificates of e-learning courses).
    pub async fn set_certificate_duration(&self, course_id: i64, duration_minutes: u32) -> Result<(), Error> {
        if duration_minutes == 0 {
            return Err(Error::invalid("duration_minutes", "must be at least 1"));
        }
        let exists: Option<(i64,)> =
            with_db!(&self.db, |pool| sqlx::query_as("SELECT id FROM courses WHERE id = $1").bind(course_id).fetch_optional(pool).await?);
        if exists.is_none() {
            return Err(Error::NotFound { what: format!("course {course_id}") });
        }
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO certificate_course_durations (course_id, duration_minutes) VALUES ($1, $2) \
                 ON CONFLICT (course_id) DO UPDATE SET duration_minutes = excluded.duration_minutes",
            )
            .bind(course_id)
            .bind(i64::from(duration_minutes))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn certified_duration(&self, course_id: i64) -> Result<Option<u32>, Error> {
        let row: Option<(i64,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT duration_minutes FROM certificate_course_durations WHERE course_id = $1")
                .bind(course_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|r| u32::try_from(r.0).ok()))
    }

    // ---- templates ------------------------------------------------------------------

    /// Stores `template` (checked) for an org unit (`None` = the default for every unit
    /// without its own). Certificates issued before keep the template they were made with.
    pub async fn set_certificate_template(&self, org_unit_id: Option<&str>, template: &Template, by: Option<&str>) -> Result<String, Error> {
        template.validate().map_err(certificate_error("template"))?;
        if let Some(unit) = org_unit_id {
            if self.org_unit(unit).await?.is_none() {
                return Err(Error::NotFound { what: format!("org unit {unit:?}") });
            }
        }
        let sha = self.store_template(template).await?;
        with_db!(&self.db, |pool| {
            sqlx::query(
                "INSERT INTO certificate_unit_templates (org_unit_id, template_sha256, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_unit_id) DO UPDATE SET template_sha256 = excluded.template_sha256, updated_at = excluded.updated_at, \
                 updated_by = excluded.updated_by",
            )
            .bind(org_unit_id.unwrap_or(""))
            .bind(&sha)
            .bind(crate::now_text())
            .bind(by)
            .execute(pool)
            .await?;
        });
        Ok(sha)
    }

    /// Removes an org unit's own template (it falls back to its parent's, the default, or
    /// the built-in one). `true` if there was one.
    pub async fn remove_certificate_template(&self, org_unit_id: Option<&str>) -> Result<bool, Error> {
        let n = with_db!(&self.db, |pool| {
            sqlx::query("DELETE FROM certificate_unit_templates WHERE org_unit_id = $1")
                .bind(org_unit_id.unwrap_or(""))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    async fn store_template(&self, template: &Template) -> Result<String, Error> {
        let json = template.to_json();
        let sha = template_sha256(&json);
        with_db!(&self.db, |pool| {
            sqlx::query("INSERT INTO certificate_templates (sha256, template_json, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING")
                .bind(&sha)
                .bind(&json)
                .bind(crate::now_text())
                .execute(pool)
                .await?;
        });
        Ok(sha)
    }

    /// A stored template by its SHA-256.
    pub async fn certificate_template_by_sha256(&self, sha256: &str) -> Result<Option<Template>, Error> {
        let row: Option<(String,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT template_json FROM certificate_templates WHERE sha256 = $1").bind(sha256).fetch_optional(pool).await?
        });
        row.map(|(json,)| Template::from_json(&json).map_err(|e| Error::Task(format!("stored template {sha256}: {e}")))).transpose()
    }

    /// The template used for certificates of `org_unit_id`: its own, else the nearest
    /// parent's, else the default, else the built-in one. Returns (SHA-256, template).
    pub async fn certificate_template_for(&self, org_unit_id: Option<&str>) -> Result<(String, Template), Error> {
        let mut unit = org_unit_id.map(str::to_string);
        let mut seen = 0;
        loop {
            let key = unit.clone().unwrap_or_default();
            let row: Option<(String, String)> = with_db!(&self.db, |pool| {
                sqlx::query_as(
                    "SELECT t.sha256, t.template_json FROM certificate_unit_templates u JOIN certificate_templates t ON t.sha256 = u.template_sha256 \
                     WHERE u.org_unit_id = $1",
                )
                .bind(&key)
                .fetch_optional(pool)
                .await?
            });
            if let Some((sha, json)) = row {
                let template = Template::from_json(&json).map_err(|e| Error::Task(format!("stored template {sha}: {e}")))?;
                return Ok((sha, template));
            }
            let Some(current) = unit else { break };
            seen += 1;
            unit = if seen > 64 { None } else { self.org_unit(&current).await?.and_then(|u| u.parent_id) };
        }
        let template = default_certificate_template();
        let sha = self.store_template(&template).await?;
        Ok((sha, template))
    }

    // ---- preparing ------------------------------------------------------------------

    async fn holder(&self, personnel_number: &str) -> Result<crate::Person, Error> {
        self.person(personnel_number).await?.ok_or_else(|| Error::NotFound { what: format!("person {personnel_number:?}") })
    }

    async fn department(&self, org_unit_id: &str) -> Result<String, Error> {
        Ok(self.org_unit(org_unit_id).await?.ok_or_else(|| Error::NotFound { what: format!("org unit {org_unit_id:?}") })?.name)
    }

    async fn finish_prepared(
        &self,
        personnel_number: String,
        holder_name: String,
        source_key: Option<String>,
        content: Content,
        mut origin: CertificateOrigin,
        templates: &mut TemplateCache,
    ) -> Result<Prepared, Error> {
        let (sha, template) = templates.get(self, origin.org_unit_id.as_deref()).await?;
        origin.template_sha256 = sha;
        let code = new_code()?;
        let base = match &templates.base_url {
            Some(base) => base.clone(),
            None => {
                let base = self.certificate_base_url().await?;
                templates.base_url = Some(base.clone());
                base
            }
        };
        let certificate = Certificate {
            holder_name,
            personnel_number: Some(personnel_number.clone()),
            course_title: content.course_title,
            dates: content.dates,
            duration_minutes: content.duration_minutes,
            trainer: content.trainer,
            department: content.department,
            verification_url: format!("{base}/verify/{code}"),
            verification_code: code,
        };
        certificate.validate().map_err(certificate_error("certificate"))?;
        Ok(Prepared { personnel_number, source_key, certificate, origin, template, replaces: None })
    }

    /// What a certificate for `request` would say. `Ok(None)`: nothing to certify is
    /// configured (e-learning without a course or certified duration).
    pub(crate) async fn prepare(&self, request: &IssueRequest, by: Option<&str>, templates: &mut TemplateCache) -> Result<Option<Prepared>, Error> {
        match request {
            IssueRequest::Offering { offering_id, personnel_number } => {
                let holder = self.holder(personnel_number).await?;
                let (content, origin) = self.offering_content(*offering_id, personnel_number, by).await?;
                let key = format!("offering:{offering_id}:{personnel_number}");
                Ok(Some(self.finish_prepared(holder.personnel_number, holder.name, Some(key), content, origin, templates).await?))
            }
            IssueRequest::Elearning { personnel_number, package_id, completed_at } => {
                let holder = self.holder(personnel_number).await?;
                let Some((content, origin)) = self.elearning_content(package_id, *completed_at, by).await? else {
                    return Ok(None);
                };
                let key = format!("elearning:{package_id}:{personnel_number}:{}", ts_text(*completed_at));
                Ok(Some(self.finish_prepared(holder.personnel_number, holder.name, Some(key), content, origin, templates).await?))
            }
            IssueRequest::Manual(manual) => {
                let holder = self.holder(&manual.personnel_number).await?;
                let department = match templates.departments.get(&manual.org_unit_id) {
                    Some(name) => name.clone(),
                    None => {
                        let name = self.department(&manual.org_unit_id).await?;
                        templates.departments.insert(manual.org_unit_id.clone(), name.clone());
                        name
                    }
                };
                if manual.duration_minutes == 0 {
                    return Err(Error::invalid("duration_minutes", "must be at least 1"));
                }
                let content = Content {
                    course_title: manual.course_title.trim().to_string(),
                    dates: manual.dates.clone(),
                    duration_minutes: manual.duration_minutes,
                    trainer: manual.trainer.clone().filter(|t| !t.trim().is_empty()),
                    department,
                };
                let origin = CertificateOrigin {
                    source: "manual".into(),
                    offering_id: None,
                    course_id: manual.course_id,
                    package_id: None,
                    org_unit_id: Some(manual.org_unit_id.clone()),
                    issued_by: by.map(str::to_string),
                    template_sha256: String::new(),
                };
                Ok(Some(self.finish_prepared(holder.personnel_number, holder.name, None, content, origin, templates).await?))
            }
        }
    }

    async fn offering_content(&self, offering_id: i64, personnel_number: &str, by: Option<&str>) -> Result<(Content, CertificateOrigin), Error> {
        let course: Option<(i64, String, String, i64)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.title, c.org_unit_id, o.partly_weight_percent FROM offerings o JOIN courses c ON c.id = o.course_id WHERE o.id = $1",
            )
            .bind(offering_id)
            .fetch_optional(pool)
            .await?
        });
        let (course_id, title, org_unit_id, partly_weight) = course.ok_or_else(|| Error::NotFound { what: format!("offering {offering_id}") })?;
        let completed: Option<(String,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT completed_at FROM offering_completions WHERE offering_id = $1 AND personnel_number = $2")
                .bind(offering_id)
                .bind(personnel_number)
                .fetch_optional(pool)
                .await?
        });
        if completed.is_none() {
            return Err(Error::invalid(
                "personnel_number",
                format!("{personnel_number} has not completed offering {offering_id} (its completion rule is not met)"),
            ));
        }
        let sessions: Vec<(i64, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT id, starts_at, ends_at FROM offering_sessions WHERE offering_id = $1 ORDER BY starts_at, id")
                .bind(offering_id)
                .fetch_all(pool)
                .await?
        });
        let marks: Vec<(i64, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT m.session_id, m.status FROM attendance_marks m JOIN offering_sessions s ON s.id = m.session_id \
                 WHERE s.offering_id = $1 AND m.personnel_number = $2 ORDER BY m.id",
            )
            .bind(offering_id)
            .bind(personnel_number)
            .fetch_all(pool)
            .await?
        });
        let trainers: Vec<(i64, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT st.session_id, p.name FROM session_trainers st JOIN people p ON p.personnel_number = st.personnel_number \
                 JOIN offering_sessions s ON s.id = st.session_id WHERE s.offering_id = $1 ORDER BY s.starts_at, p.name",
            )
            .bind(offering_id)
            .fetch_all(pool)
            .await?
        });
        // The latest mark per session counts (marks are append-only corrections).
        let latest: BTreeMap<i64, String> = marks.into_iter().collect();
        let mut dates = Vec::new();
        let mut minutes: i64 = 0;
        let mut attended_sessions = Vec::new();
        for (id, starts, ends) in &sessions {
            let weight = match latest.get(id).map(String::as_str) {
                Some("attended") => 100,
                Some("partly") => partly_weight.clamp(0, 100),
                _ => continue,
            };
            let (starts, ends) = (ts_parse(starts)?, ts_parse(ends)?);
            dates.push(lms_schedule::time::berlin_date(starts));
            minutes += (ends - starts).num_minutes().max(0) * weight / 100;
            attended_sessions.push(*id);
        }
        if dates.is_empty() {
            return Err(Error::invalid("personnel_number", format!("{personnel_number} has no attended session on offering {offering_id}")));
        }
        let mut names: Vec<String> = Vec::new();
        for (session, name) in trainers {
            if attended_sessions.contains(&session) && !names.contains(&name) {
                names.push(name);
            }
        }
        let duration_minutes = match self.certified_duration(course_id).await? {
            Some(m) => m,
            None => u32::try_from(minutes).unwrap_or(u32::MAX),
        };
        if duration_minutes == 0 {
            return Err(Error::invalid("duration_minutes", format!("the attended sessions of offering {offering_id} last no time")));
        }
        let content = Content {
            course_title: title,
            dates,
            duration_minutes,
            trainer: if names.is_empty() { None } else { Some(names.join(", ")) },
            department: self.department(&org_unit_id).await?,
        };
        let origin = CertificateOrigin {
            source: "offering".into(),
            offering_id: Some(offering_id),
            course_id: Some(course_id),
            package_id: None,
            org_unit_id: Some(org_unit_id),
            issued_by: by.map(str::to_string),
            template_sha256: String::new(),
        };
        Ok((content, origin))
    }

    async fn elearning_content(
        &self,
        package_id: &str,
        completed_at: DateTime<Utc>,
        by: Option<&str>,
    ) -> Result<Option<(Content, CertificateOrigin)>, Error> {
        let course: Option<(i64, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT id, title, org_unit_id FROM courses WHERE package_id = $1 AND kind = 'e_learning' ORDER BY id LIMIT 1")
                .bind(package_id)
                .fetch_optional(pool)
                .await?
        });
        let Some((course_id, title, org_unit_id)) = course else {
            tracing::info!(package_id, "no certificate: no e-learning course uses this package");
            return Ok(None);
        };
        let Some(duration_minutes) = self.certified_duration(course_id).await? else {
            tracing::info!(course_id, "no certificate: the e-learning course has no certified duration");
            return Ok(None);
        };
        let content = Content {
            course_title: title,
            dates: vec![lms_schedule::time::berlin_date(completed_at)],
            duration_minutes,
            trainer: None,
            department: self.department(&org_unit_id).await?,
        };
        let origin = CertificateOrigin {
            source: "elearning".into(),
            offering_id: None,
            course_id: Some(course_id),
            package_id: Some(package_id.to_string()),
            org_unit_id: Some(org_unit_id),
            issued_by: by.map(str::to_string),
            template_sha256: String::new(),
        };
        Ok(Some((content, origin)))
    }

    // ---- issuing --------------------------------------------------------------------

    /// Issues a certificate for a completed offering (idempotent: an existing valid one for
    /// this person and offering is returned). The hook for blended learning.
    pub async fn issue_certificate_for_offering(&self, offering_id: i64, personnel_number: &str, now: DateTime<Utc>) -> Result<IssuedCertificate, Error> {
        let request = IssueRequest::Offering { offering_id, personnel_number: personnel_number.to_string() };
        self.issue_certificate(&request, None, now)
            .await?
            .ok_or_else(|| Error::Task("an offering completion always yields a certificate".into()))
    }

    /// Issues a certificate for a completed e-learning package (idempotent per completion).
    /// `Ok(None)` when none is configured for the package. The hook for the SCORM/xAPI player.
    pub async fn issue_certificate_for_elearning(
        &self,
        personnel_number: &str,
        package_id: &str,
        completed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<IssuedCertificate>, Error> {
        let request = IssueRequest::Elearning { personnel_number: personnel_number.to_string(), package_id: package_id.to_string(), completed_at };
        self.issue_certificate(&request, None, now).await
    }

    /// Issues one certificate (renders it off the async runtime, stores the PDF, records it).
    /// For completions an existing valid certificate is returned instead of a second one.
    pub async fn issue_certificate(&self, request: &IssueRequest, by: Option<&str>, now: DateTime<Utc>) -> Result<Option<IssuedCertificate>, Error> {
        let mut templates = TemplateCache::default();
        let Some(prepared) = self.prepare(request, by, &mut templates).await? else {
            return Ok(None);
        };
        if let Some(key) = &prepared.source_key {
            if let Some(existing) = self.valid_for_source(key).await? {
                return Ok(Some(existing));
            }
        }
        match self.render_and_record(prepared.clone(), now).await {
            Ok(issued) => Ok(Some(issued)),
            Err(e) if e.is_unique_violation() && prepared.source_key.is_some() => {
                // Someone issued it at the same moment: theirs counts.
                let key = prepared.source_key.unwrap_or_default();
                self.valid_for_source(&key).await?.map(Some).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    async fn valid_for_source(&self, key: &str) -> Result<Option<IssuedCertificate>, Error> {
        let sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE source_key = $1 AND status = 'valid'");
        let row: Option<CertificateRow> =
            with_db!(&self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(key).fetch_optional(pool).await?);
        row.map(certificate_from_row).transpose()
    }

    async fn render_and_record(&self, prepared: Prepared, now: DateTime<Utc>) -> Result<IssuedCertificate, Error> {
        let blobs = self.blobs.clone();
        let (prepared, put) = tokio::task::spawn_blocking(move || -> Result<_, Error> {
            let pdf = lms_certificate::render(&prepared.certificate, &prepared.template, &Fonts::builtin(), now)
                .map_err(certificate_error("certificate"))?;
            let put = blobs.put_from(|w| w.write_all(&pdf))?.map_err(|e| Error::Io { path: blobs.root().to_path_buf(), source: e })?;
            Ok((prepared, put))
        })
        .await
        .map_err(|e| Error::Task(format!("rendering a certificate: {e}")))??;
        let row = NewRow::new(&prepared, now, put.sha256, put.size)?;
        with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                if let Some(old) = &prepared.replaces {
                    let n = sqlx::query("UPDATE certificates SET status = 'superseded', superseded_by = $1 WHERE code = $2 AND status <> 'superseded'")
                        .bind(&row.code)
                        .bind(old)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Err(Error::Conflict { what: format!("a re-issue of certificate {old}") });
                    }
                }
                insert_row!(tx, &row);
                tx.commit().await?;
                Ok::<_, Error>(())
            }
            .await
        })?;
        self.certificate(&row.code).await?.ok_or_else(|| Error::Task("the certificate just stored is gone".into()))
    }

    /// Issues certificates for every offering completion (and configured e-learning
    /// completion) that has none yet. Returns the new certificates' codes.
    pub async fn issue_pending_certificates(&self, now: DateTime<Utc>) -> Result<Vec<String>, Error> {
        let offerings: Vec<(i64, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT oc.offering_id, oc.personnel_number FROM offering_completions oc WHERE NOT EXISTS (SELECT 1 FROM certificates c \
                 WHERE c.source = 'offering' AND c.offering_id = oc.offering_id AND c.personnel_number = oc.personnel_number) \
                 ORDER BY oc.offering_id, oc.personnel_number",
            )
            .fetch_all(pool)
            .await?
        });
        let elearning: Vec<(String, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as(
                "SELECT e.personnel_number, e.package_id, e.completed_at FROM elearning_completions e JOIN courses co ON co.package_id = e.package_id \
                 JOIN certificate_course_durations d ON d.course_id = co.id WHERE co.kind = 'e_learning' ORDER BY e.completed_at",
            )
            .fetch_all(pool)
            .await?
        });
        let mut codes = Vec::new();
        for (offering_id, person) in offerings {
            let issued = self.issue_certificate_for_offering(offering_id, &person, now).await?;
            codes.push(issued.code);
        }
        for (person, package, at) in elearning {
            let key = format!("elearning:{package}:{person}:{at}");
            let exists: Option<(String,)> = with_db!(&self.db, |pool| {
                sqlx::query_as("SELECT code FROM certificates WHERE source_key = $1").bind(&key).fetch_optional(pool).await?
            });
            if exists.is_none() {
                if let Some(issued) = self.issue_certificate_for_elearning(&person, &package, ts_parse(&at)?, now).await? {
                    codes.push(issued.code);
                }
            }
        }
        Ok(codes)
    }

    // ---- lifecycle ------------------------------------------------------------------

    /// Revokes a valid certificate. The reason (1–500 characters) is kept with it.
    pub async fn revoke_certificate(&self, code: &str, reason: &str, by: Option<&str>, now: DateTime<Utc>) -> Result<IssuedCertificate, Error> {
        let code = canonical_code(code)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
            return Err(Error::invalid("reason", "1 to 500 characters without control characters are required"));
        }
        let current = self.certificate(&code).await?.ok_or_else(|| Error::NotFound { what: format!("certificate {code}") })?;
        if current.status != CertificateStatus::Valid {
            return Err(Error::invalid("code", format!("certificate {code} is {} and cannot be revoked", current.status.as_str())));
        }
        let n = with_db!(&self.db, |pool| {
            sqlx::query(
                "UPDATE certificates SET status = 'revoked', revoked_at = $1, revoked_by = $2, revocation_reason = $3 WHERE code = $4 AND status = 'valid'",
            )
            .bind(ts_text(now))
            .bind(by)
            .bind(reason)
            .bind(&code)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(Error::Conflict { what: format!("a change to certificate {code}") });
        }
        self.certificate(&code).await?.ok_or_else(|| Error::NotFound { what: format!("certificate {code}") })
    }

    /// Issues a new certificate in place of `code` (valid or revoked): same training, the
    /// holder's current name, the unit's current template, a new code. The old one becomes
    /// `superseded` and stays in the history.
    pub async fn reissue_certificate(&self, code: &str, by: Option<&str>, now: DateTime<Utc>) -> Result<IssuedCertificate, Error> {
        let code = canonical_code(code)?;
        let old = self.certificate(&code).await?.ok_or_else(|| Error::NotFound { what: format!("certificate {code}") })?;
        if old.status == CertificateStatus::Superseded {
            return Err(Error::invalid("code", format!("certificate {code} was already re-issued as {}", old.superseded_by.unwrap_or_default())));
        }
        let holder = self.holder(&old.personnel_number).await?;
        let source_key: Option<(Option<String>,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT source_key FROM certificates WHERE code = $1").bind(&code).fetch_optional(pool).await?
        });
        let content = Content {
            course_title: old.certificate.course_title.clone(),
            dates: old.certificate.dates.clone(),
            duration_minutes: old.certificate.duration_minutes,
            trainer: old.certificate.trainer.clone(),
            department: match &old.origin.org_unit_id {
                Some(unit) => self.department(unit).await.unwrap_or(old.certificate.department.clone()),
                None => old.certificate.department.clone(),
            },
        };
        let mut origin = old.origin.clone();
        origin.issued_by = by.map(str::to_string);
        let mut templates = TemplateCache::default();
        let mut prepared = self
            .finish_prepared(holder.personnel_number, holder.name, source_key.and_then(|r| r.0), content, origin, &mut templates)
            .await?;
        prepared.replaces = Some(code);
        self.render_and_record(prepared, now).await
    }

    // ---- reading --------------------------------------------------------------------

    /// A certificate by its verification code (any accepted spelling). `Ok(None)` for a
    /// well-formed code that was never issued; `Err(Invalid)` for a malformed one.
    pub async fn certificate(&self, code: &str) -> Result<Option<IssuedCertificate>, Error> {
        let code = canonical_code(code)?;
        let sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE code = $1");
        let row: Option<CertificateRow> =
            with_db!(&self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&code).fetch_optional(pool).await?);
        row.map(certificate_from_row).transpose()
    }

    /// Every certificate of a person (all states), newest first.
    pub async fn certificates_of(&self, personnel_number: &str) -> Result<Vec<IssuedCertificate>, Error> {
        let sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE personnel_number = $1 ORDER BY issued_at DESC, code");
        let rows: Vec<CertificateRow> =
            with_db!(&self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(personnel_number).fetch_all(pool).await?);
        rows.into_iter().map(certificate_from_row).collect()
    }

    /// Every certificate issued for an offering (all states), by holder.
    pub async fn certificates_of_offering(&self, offering_id: i64) -> Result<Vec<IssuedCertificate>, Error> {
        let sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE offering_id = $1 ORDER BY personnel_number, issued_at");
        let rows: Vec<CertificateRow> =
            with_db!(&self.db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(offering_id).fetch_all(pool).await?);
        rows.into_iter().map(certificate_from_row).collect()
    }

    /// The issued PDF's bytes.
    pub async fn certificate_pdf(&self, code: &str) -> Result<Vec<u8>, Error> {
        let issued = self.certificate(code).await?.ok_or_else(|| Error::NotFound { what: format!("certificate {code}") })?;
        let path = self.blobs.path_of(&issued.pdf_sha256);
        tokio::fs::read(&path).await.map_err(Error::io(path))
    }

    /// Renders the certificate again from what was stored (same input, same template, same
    /// issue time): the bytes equal the issued PDF.
    pub async fn rerender_certificate(&self, code: &str) -> Result<Vec<u8>, Error> {
        let issued = self.certificate(code).await?.ok_or_else(|| Error::NotFound { what: format!("certificate {code}") })?;
        let template = self
            .certificate_template_by_sha256(&issued.origin.template_sha256)
            .await?
            .ok_or_else(|| Error::NotFound { what: format!("template {}", issued.origin.template_sha256) })?;
        tokio::task::spawn_blocking(move || lms_certificate::render(&issued.certificate, &template, &Fonts::builtin(), issued.issued_at))
            .await
            .map_err(|e| Error::Task(format!("rendering a certificate: {e}")))?
            .map_err(certificate_error("certificate"))
    }

    /// Compares uploaded bytes with the issued PDF (SHA-256). `Ok(None)`: no such certificate.
    pub async fn check_certificate_pdf(&self, code: &str, uploaded: &[u8]) -> Result<Option<(IssuedCertificate, PdfCheck)>, Error> {
        let Some(issued) = self.certificate(code).await? else { return Ok(None) };
        let uploaded_sha256 = hex::encode(Sha256::digest(uploaded));
        let check = PdfCheck { matches: uploaded_sha256 == issued.pdf_sha256, uploaded_sha256, issued_sha256: issued.pdf_sha256.clone() };
        Ok(Some((issued, check)))
    }

    /// People who completed an offering (the ones its certificates are for).
    pub async fn offering_completers(&self, offering_id: i64) -> Result<Vec<String>, Error> {
        let rows: Vec<(String,)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT personnel_number FROM offering_completions WHERE offering_id = $1 ORDER BY personnel_number")
                .bind(offering_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }
}

/// The canonical `XXXX-XXXX-XXXX-XXXX` form, or `Invalid` naming the problem.
pub fn canonical_code(code: &str) -> Result<String, Error> {
    lms_certificate::parse_verification_code(code).map_err(certificate_error("code"))
}

pub(crate) struct Content {
    course_title: String,
    dates: Vec<NaiveDate>,
    duration_minutes: u32,
    trainer: Option<String>,
    department: String,
}

/// Resolved templates per org unit, for one operation.
#[derive(Default)]
pub(crate) struct TemplateCache {
    by_unit: BTreeMap<Option<String>, (String, Arc<Template>)>,
    base_url: Option<String>,
    departments: BTreeMap<String, String>,
}

impl TemplateCache {
    async fn get(&mut self, store: &Store, unit: Option<&str>) -> Result<(String, Arc<Template>), Error> {
        let key = unit.map(str::to_string);
        if let Some(found) = self.by_unit.get(&key) {
            return Ok(found.clone());
        }
        let (sha, template) = store.certificate_template_for(unit).await?;
        let value = (sha, Arc::new(template));
        self.by_unit.insert(key, value.clone());
        Ok(value)
    }
}

/// A row to insert, all values as the database takes them.
pub(crate) struct NewRow {
    pub code: String,
    pub personnel_number: String,
    pub source: String,
    pub source_key: Option<String>,
    pub offering_id: Option<i64>,
    pub org_unit_id: Option<String>,
    pub first_date: String,
    pub last_date: String,
    pub certificate_json: String,
    pub meta_json: String,
    pub template_sha256: String,
    pub issued_at: String,
    pub pdf_sha256: String,
    pub pdf_size: i64,
    pub replaces: Option<String>,
}

impl NewRow {
    pub(crate) fn new(prepared: &Prepared, now: DateTime<Utc>, pdf_sha256: String, pdf_size: u64) -> Result<NewRow, Error> {
        let first = prepared.certificate.dates.iter().min().copied().unwrap_or_default();
        let last = prepared.certificate.dates.iter().max().copied().unwrap_or_default();
        Ok(NewRow {
            code: prepared.certificate.verification_code.clone(),
            personnel_number: prepared.personnel_number.clone(),
            source: prepared.origin.source.clone(),
            source_key: prepared.source_key.clone(),
            offering_id: prepared.origin.offering_id,
            org_unit_id: prepared.origin.org_unit_id.clone(),
            first_date: first.format("%Y-%m-%d").to_string(),
            last_date: last.format("%Y-%m-%d").to_string(),
            certificate_json: serde_json::to_string(&prepared.certificate).map_err(|e| Error::Task(e.to_string()))?,
            meta_json: serde_json::to_string(&prepared.origin).map_err(|e| Error::Task(e.to_string()))?,
            template_sha256: prepared.origin.template_sha256.clone(),
            issued_at: ts_text(now),
            pdf_sha256,
            pdf_size: i64::try_from(pdf_size).unwrap_or(i64::MAX),
            replaces: prepared.replaces.clone(),
        })
    }
}

/// Inserts a [`NewRow`] (and its blob row) inside a transaction `$tx` of either backend.
macro_rules! insert_row {
    ($tx:expr, $row:expr) => {{
        let row: &$crate::certificates::NewRow = $row;
        sqlx::query("INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING")
            .bind(&row.pdf_sha256)
            .bind(row.pdf_size)
            .bind(&row.issued_at)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(
            "INSERT INTO certificates (code, personnel_number, source, source_key, offering_id, org_unit_id, first_date, last_date, \
             certificate_json, meta_json, template_sha256, issued_at, pdf_sha256, pdf_size, status, replaces) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'valid', $15)",
        )
        .bind(&row.code)
        .bind(&row.personnel_number)
        .bind(&row.source)
        .bind(&row.source_key)
        .bind(row.offering_id)
        .bind(&row.org_unit_id)
        .bind(&row.first_date)
        .bind(&row.last_date)
        .bind(&row.certificate_json)
        .bind(&row.meta_json)
        .bind(&row.template_sha256)
        .bind(&row.issued_at)
        .bind(&row.pdf_sha256)
        .bind(row.pdf_size)
        .bind(&row.replaces)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use insert_row;


