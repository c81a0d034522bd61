//! Storage: the database (SQLite by default, PostgreSQL for more than one server) through
//! sqlx, and the content-addressed blob folder for package files.
//!
//! This is the only crate that names `sqlx` and the only one besides the server that
//! touches the disk. Every other crate hands it values.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lms_store::Error> {
//! let store = lms_store::Store::open(&lms_store::StoreConfig::sqlite_in("./lms-data")).await?;
//! let people = store.list_people(10).await?;
//! # Ok(()) }
//! ```

mod blobs;
mod certificates;
mod cmi5;
mod db;
mod error;
mod migrate;
mod packages;
mod people;
mod schedule;
mod scorm;
mod xapi;

use std::path::{Path, PathBuf};

pub use blobs::BlobStore;
pub use cmi5::{
    CMI5_LMS_CLIENT_KEY, Cmi5Change, Cmi5RegistrationRecord, Cmi5SessionRecord, NewCmi5Registration, NewCmi5Session, cmi5_secret_hash,
};
pub use db::Backend;
pub use error::Error;
pub use packages::{ImportOptions, ImportOutcome, PackageFile, PackageRecord, Progress};
pub use xapi::{
    DocumentKey, DocumentKind, DocumentWrite, NewAttachment, StatementBatch, StatementFilter, StatementPage, StoredAttachment,
    StoredDocument, StoredStatement, XAPI_CLIENT_HOME_PAGE, XAPI_SCOPES, XapiClient, XapiWriter,
};
pub use scorm::{
    AfterCompletion, CommitAck, CommitBatchIn, LaunchKind, NewRegistration, OpenedSession, RefusedCall, Registration, SCORM_STATEMENT_CLIENT,
    ScoRecord, ScoXapiContext, ScormCommitRequest, ScormCommitWriter, SequencingRecord, SequencingSave, SessionStart,
};
pub use certificates::{
    BatchItemError, BatchReport, CertificateOrigin, CertificateProgress, CertificateStatus, DEFAULT_VERIFICATION_BASE_URL, ExportFilter,
    ExportReport, IssueRequest, IssuedCertificate, METADATA_CSV_COLUMNS, ManualCertificate, PdfCheck, canonical_code,
    default_certificate_template,
};
pub use people::{
    ImportReport, NewOrgUnit, NewPerson, OrgUnit, Person, PersonRow, RejectedRow, Role, validate_personnel_number,
};
pub use schedule::{
    AttendanceInput, AttendanceReport, AuditEntry, BookingRecord, CompletedOffering, CourseRecord, ElearningCompletion, ElearningCompletionRecorded,
    MandatoryStatus, NewCourse, NewOffering, NewRequirement, NewRoom, NewSession, OfferingRecord, OutboxMessage, PathStatus,
    PersonHistory, RoomRecord, SchedulePolicy, SessionRecord, TickReport, YearSpec, YearSummary, generated_person,
};

use db::Db;

/// Where the data lives.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// The data folder: the SQLite file (unless `database_url` says otherwise) and `blobs/`.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; `None` means `sqlite://<data_dir>/lms.sqlite`.
    pub database_url: Option<String>,
    /// Connections in the pool.
    pub max_connections: u32,
}

impl StoreConfig {
    /// The embedded default: one SQLite file in `data_dir`.
    pub fn sqlite_in(data_dir: impl Into<PathBuf>) -> Self {
        StoreConfig { data_dir: data_dir.into(), database_url: None, max_connections: 8 }
    }
}

/// The storage handle. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
    blobs: BlobStore,
    data_dir: PathBuf,
    /// The background maintenance task, stopped with the last handle: SQLite's WAL
    /// checkpointer ([`db::spawn_checkpointer`]), PostgreSQL's planner statistics
    /// ([`db::spawn_statistics_keeper`]).
    _checkpointer: Option<std::sync::Arc<db::TaskGuard>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.db.backend()).field("data_dir", &self.data_dir).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the data folder and the database, and applies migrations.
    pub async fn open(config: &StoreConfig) -> Result<Store, Error> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|source| Error::Io { path: config.data_dir.clone(), source })?;
        let db = Db::connect(config).await?;
        migrate::apply(&db).await?;
        let blobs = BlobStore::open(config.data_dir.join("blobs"))?;
        let maintenance = match &db {
            Db::Sqlite(pool) => {
                db::checkpoint_now(pool).await?;
                Some(std::sync::Arc::new(db::TaskGuard(db::spawn_checkpointer(pool.clone()))))
            }
            Db::Postgres(pool) => Some(std::sync::Arc::new(db::TaskGuard(db::spawn_statistics_keeper(pool.clone())))),
        };
        Ok(Store { db, blobs, data_dir: config.data_dir.clone(), _checkpointer: maintenance })
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// `SELECT 1` round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), Error> {
        self.db.ping().await
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.db.close().await
    }
}

pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
