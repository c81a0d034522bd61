//! Package import: check the archive, parse it, stream every file into the blob store
//! (new files are synced while the import goes on), name the new blobs and sync their
//! folders, then record the package version and its file list in one transaction: a row
//! commits only after the blobs it names are durable.
//!
//! Versions: uploads with the same standard and manifest identifier are versions of one
//! course (`course_key`); each gets a new row and id, so attempts keep pointing at the
//! version they started on. An upload identical to a stored version (same files, same
//! bytes) stores nothing and returns that version.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use lms_package::archive::{ArchiveLimits, SafeArchive};
use lms_package::{Diagnostic, Package, ParseOptions, Severity};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::blobs::NewBlobs;
use crate::db::{BeginWrite, with_db};
use crate::{Error, Store, now_text};

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub limits: ArchiveLimits,
    /// Who uploaded (personnel number), for the record.
    pub uploaded_by: Option<String>,
}

/// Progress of a long import: bytes of file content written so far, and the total.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// A stored package version.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PackageRecord {
    pub id: String,
    pub course_key: String,
    pub version: i64,
    pub standard: String,
    pub title: String,
    pub identifier: String,
    pub content_sha256: String,
    /// Path of the first launchable file, relative to the package root.
    pub launch_path: Option<String>,
    pub n_files: i64,
    pub total_size: i64,
    pub uploaded_by: Option<String>,
    pub created_at: String,
    /// Warnings kept from parsing (errors never get stored).
    pub diagnostics: Vec<serde_json::Value>,
}

#[derive(Clone, Debug)]
pub struct ImportOutcome {
    pub record: PackageRecord,
    /// The parsed model (for a duplicate: parsed again from the upload).
    pub package: Package,
    pub diagnostics: Vec<Diagnostic>,
    /// `true` when an identical upload was already stored and nothing new was written.
    pub duplicate: bool,
}

/// One stored file of a package.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PackageFile {
    pub path: String,
    pub sha256: String,
    pub size: i64,
}

/// What the write transaction of [`Store::record_package`] did.
enum Recorded {
    /// Stored as this version.
    New(i64),
    /// The same content is stored already.
    Duplicate,
}

struct Extracted {
    package: Package,
    diagnostics: Vec<Diagnostic>,
    files: Vec<PackageFile>,
    content_sha256: String,
}

impl Store {
    /// Imports a zip file from disk. Hostile archives are refused before anything is
    /// written; packages with errors are refused with their diagnostics.
    pub async fn import_package_zip(
        &self,
        zip_path: &Path,
        options: &ImportOptions,
        progress: Option<Box<dyn Fn(u64, u64) + Send + Sync>>,
    ) -> Result<ImportOutcome, Error> {
        let blobs = self.blobs.clone();
        let zip_path: PathBuf = zip_path.to_path_buf();
        let limits = options.limits.clone();
        let extracted = tokio::task::spawn_blocking(move || {
            let (extracted, new_blobs) = extract(&blobs, &zip_path, &limits, progress.as_deref())?;
            new_blobs.publish()?;
            Ok::<_, Error>(extracted)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
        // The blobs are durable now. Should recording fail, they stay: another upload may
        // already have found them stored and named them in its own row.
        let (record, duplicate) = self.record_package(&extracted, options).await?;
        Ok(ImportOutcome { record, package: extracted.package, diagnostics: extracted.diagnostics, duplicate })
    }

    /// Imports a bare course structure file (a `cmi5.xml` sent on its own, not zipped): it is
    /// stored as the package's only file, `cmi5.xml`. Every AU URL must then be fully
    /// qualified (cmi5 14.2.0.0-1); the parser refuses relative ones.
    pub async fn import_structure_file(&self, path: &Path, options: &ImportOptions) -> Result<ImportOutcome, Error> {
        let blobs = self.blobs.clone();
        let path: PathBuf = path.to_path_buf();
        let extracted = tokio::task::spawn_blocking(move || extract_structure_file(&blobs, &path))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        let (record, duplicate) = self.record_package(&extracted, options).await?;
        Ok(ImportOutcome { record, package: extracted.package, diagnostics: extracted.diagnostics, duplicate })
    }

    /// Records a new version in one write transaction (one round of the pool, one commit),
    /// or answers with the stored version when the same content is already there.
    async fn record_package(&self, x: &Extracted, options: &ImportOptions) -> Result<(PackageRecord, bool), Error> {
        let package = &x.package;
        let course_key = format!("{}:{}", package.standard.as_str(), package.identifier);
        let id = uuid::Uuid::now_v7().to_string();
        let launch_path = launch_path(package);
        let model_json = serde_json::to_string(package).map_err(|e| Error::Task(e.to_string()))?;
        let warnings: Vec<&Diagnostic> = x.diagnostics.iter().filter(|d| d.severity == Severity::Warning).collect();
        let diagnostics_json = serde_json::to_string(&warnings).map_err(|e| Error::Task(e.to_string()))?;
        let total_size: i64 = x.files.iter().map(|f| f.size).sum();
        let now = now_text();
        let result: Result<Recorded, sqlx::Error> = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                // The version row first: its number follows the course's latest version, and
                // an upload whose content is already stored inserts nothing.
                let inserted: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO packages (id, course_key, version, standard, title, identifier, content_sha256, launch_path, model_json, diagnostics_json, n_files, total_size, uploaded_by, created_at) \
                     SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM packages WHERE course_key = $2 \
                     ON CONFLICT (content_sha256) DO NOTHING RETURNING version",
                )
                .bind(&id)
                .bind(&course_key)
                .bind(package.standard.as_str())
                .bind(&package.title)
                .bind(&package.identifier)
                .bind(&x.content_sha256)
                .bind(&launch_path)
                .bind(&model_json)
                .bind(&diagnostics_json)
                .bind(x.files.len() as i64)
                .bind(total_size)
                .bind(&options.uploaded_by)
                .bind(&now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((version,)) = inserted else {
                    tx.rollback().await?;
                    return Ok(Recorded::Duplicate);
                };
                // Blobs (shared, insert-if-absent), sorted so concurrent imports take row
                // locks in the same order; then the file list.
                let mut unique: Vec<&PackageFile> = x.files.iter().collect();
                unique.sort_by(|a, b| a.sha256.cmp(&b.sha256));
                unique.dedup_by(|a, b| a.sha256 == b.sha256);
                for chunk in unique.chunks(300) {
                    let mut sql = String::from("INSERT INTO blobs (sha256, size, created_at) VALUES ");
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&format!("(${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3));
                    }
                    sql.push_str(" ON CONFLICT (sha256) DO NOTHING");
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for f in chunk {
                        q = q.bind(f.sha256.as_str()).bind(f.size).bind(now.as_str());
                    }
                    q.execute(&mut *tx).await?;
                }
                for chunk in x.files.chunks(300) {
                    let mut sql = String::from("INSERT INTO package_files (package_id, path, sha256, size) VALUES ");
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&format!("($1, ${}, ${}, ${})", i * 3 + 2, i * 3 + 3, i * 3 + 4));
                    }
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&id);
                    for f in chunk {
                        q = q.bind(f.path.as_str()).bind(f.sha256.as_str()).bind(f.size);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(Recorded::New(version))
            }
            .await
        });
        let version = match result {
            Ok(Recorded::New(version)) => version,
            Ok(Recorded::Duplicate) => {
                let record = self.package_by_content(&x.content_sha256).await?.ok_or_else(|| Error::NotFound {
                    what: format!("package with content {}", x.content_sha256),
                })?;
                return Ok((record, true));
            }
            Err(e) => {
                let e = Error::from(e);
                // A concurrent identical upload won the race: answer with its version.
                if e.is_unique_violation() {
                    if let Some(existing) = self.package_by_content(&x.content_sha256).await? {
                        return Ok((existing, true));
                    }
                }
                return Err(e);
            }
        };
        // The row just written, without reading it back.
        let record = PackageRecord {
            id,
            course_key,
            version,
            standard: package.standard.as_str().to_string(),
            title: package.title.clone(),
            identifier: package.identifier.clone(),
            content_sha256: x.content_sha256.clone(),
            launch_path,
            n_files: x.files.len() as i64,
            total_size,
            uploaded_by: options.uploaded_by.clone(),
            created_at: now,
            diagnostics: serde_json::from_str(&diagnostics_json).unwrap_or_default(),
        };
        Ok((record, false))
    }

    async fn package_by_content(&self, content_sha256: &str) -> Result<Option<PackageRecord>, Error> {
        let id = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String,)>("SELECT id FROM packages WHERE content_sha256 = $1")
                .bind(content_sha256)
                .fetch_optional(pool)
                .await?
        });
        match id {
            Some((id,)) => self.package(&id).await,
            None => Ok(None),
        }
    }

    pub async fn package(&self, id: &str) -> Result<Option<PackageRecord>, Error> {
        let row = with_db!(&self.db, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PACKAGE_COLUMNS} FROM packages WHERE id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|row| package_from_row(&row))
                .transpose()?
        });
        Ok(row)
    }

    /// Every stored version, newest first.
    pub async fn list_packages(&self, limit: i64, offset: i64) -> Result<Vec<PackageRecord>, Error> {
        Ok(with_db!(&self.db, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {PACKAGE_COLUMNS} FROM packages ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
            )))
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
            .iter()
            .map(package_from_row)
            .collect::<Result<Vec<_>, _>>()?
        }))
    }

    /// A file of a package version: where its bytes are on disk, and its size.
    pub async fn package_file(&self, package_id: &str, path: &str) -> Result<Option<(PackageFile, PathBuf)>, Error> {
        let row = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String, String, i64)>(
                "SELECT path, sha256, size FROM package_files WHERE package_id = $1 AND path = $2",
            )
            .bind(package_id)
            .bind(path)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(path, sha256, size)| {
            let disk = self.blobs.path_of(&sha256);
            (PackageFile { path, sha256, size }, disk)
        }))
    }

    pub async fn package_files(&self, package_id: &str) -> Result<Vec<PackageFile>, Error> {
        let rows = with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (String, String, i64)>(
                "SELECT path, sha256, size FROM package_files WHERE package_id = $1 ORDER BY path",
            )
            .bind(package_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(path, sha256, size)| PackageFile { path, sha256, size }).collect())
    }

    pub async fn count_blobs(&self) -> Result<i64, Error> {
        Ok(with_db!(&self.db, |pool| {
            sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM blobs").fetch_one(pool).await?.0
        }))
    }
}

const PACKAGE_COLUMNS: &str = "id, course_key, version, standard, title, identifier, content_sha256, launch_path, n_files, total_size, uploaded_by, created_at, diagnostics_json";

fn package_from_row<R: Row>(row: &R) -> Result<PackageRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let diagnostics_json: String = row.try_get("diagnostics_json")?;
    Ok(PackageRecord {
        id: row.try_get("id")?,
        course_key: row.try_get("course_key")?,
        version: row.try_get("version")?,
        standard: row.try_get("standard")?,
        title: row.try_get("title")?,
        identifier: row.try_get("identifier")?,
        content_sha256: row.try_get("content_sha256")?,
        launch_path: row.try_get("launch_path")?,
        n_files: row.try_get("n_files")?,
        total_size: row.try_get("total_size")?,
        uploaded_by: row.try_get("uploaded_by")?,
        created_at: row.try_get("created_at")?,
        diagnostics: serde_json::from_str(&diagnostics_json).unwrap_or_default(),
    })
}

/// The path (inside the package, `%XX` decoded, no query) of the first launchable item's file.
pub(crate) fn launch_path(package: &Package) -> Option<String> {
    package.first_launchable_item().and_then(|item| package.launch_file(item))
}

/// Entries of at most this many bytes (declared, and enforced while unpacking) are unpacked
/// whole into a reused buffer and hashed before they touch the disk; larger ones are passed
/// on in pieces of this size.
const WHOLE_ENTRY_BYTES: usize = 1024 * 1024;
/// Jobs waiting between the unpacking and the storing thread. With the buffer each thread
/// holds, at most `PIPELINE_DEPTH + 2` buffers of at most [`WHOLE_ENTRY_BYTES`] exist (plus
/// the structure files parsing read), whatever the package's size.
const PIPELINE_DEPTH: usize = 4;
/// Packages unpacking to less than this are unpacked and stored on one thread: unpacking
/// them takes less time than starting a second thread saves.
const SECOND_THREAD_BYTES: u64 = 256 * 1024;

/// What the unpacking side hands the storing side.
enum Job {
    /// A whole file: its position in the file list, and its bytes.
    Whole { slot: usize, bytes: Vec<u8> },
    /// A larger file begins; its bytes follow as `Part`s up to `End`.
    Begin { slot: usize },
    Part(Vec<u8>),
    End,
}

/// The blocking part: archive checks, parse, then every entry unpacked, hashed and written
/// to a temporary file (synced on other threads meanwhile). Larger packages are unpacked on
/// this thread and hashed and stored on a second one, so that unpacking overlaps with
/// hashing and the file system's work. The new blobs still need [`NewBlobs::publish`].
fn extract(
    blobs: &crate::BlobStore,
    zip_path: &Path,
    limits: &ArchiveLimits,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
) -> Result<(Extracted, NewBlobs), Error> {
    let file = File::open(zip_path).map_err(Error::io(zip_path))?;
    let archive = SafeArchive::open(std::io::BufReader::new(file), limits).map_err(Error::Archive)?;
    let source = lms_package::ZipSource::new(archive);
    let parsed = lms_package::parse(&source, &ParseOptions::default());
    let importable = parsed.is_importable();
    let diagnostics = parsed.diagnostics;
    let package = match parsed.package {
        Some(p) if importable => p,
        package => return Err(Error::NotImportable { title: package.map(|p| p.title), diagnostics }),
    };
    // The structure files parsing read are stored from memory, not unpacked again.
    let (mut archive, already_read) = source.into_parts();
    let entries: Vec<(usize, String, u64)> =
        archive.entries().iter().enumerate().filter(|(_, e)| !e.is_dir).map(|(i, e)| (i, e.path.clone(), e.size)).collect();
    let total: u64 = entries.iter().map(|e| e.2).sum();
    let mut storer = Storer { new: blobs.new_blobs(), progress, total, done: 0, stored: vec![None; entries.len()], open: None };

    let unpacked = if total < SECOND_THREAD_BYTES {
        let mut sink = InlineSink { storer: &mut storer, error: None, spare: Vec::new() };
        let unpacked = unpack_entries(&mut archive, &entries, already_read, &mut sink);
        match sink.error.take() {
            Some(e) => Err(UnpackError::Store(e)),
            None => unpacked,
        }
    } else {
        let (jobs, job_queue) = std::sync::mpsc::sync_channel::<Job>(PIPELINE_DEPTH);
        let (spare_sender, spares) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::scope(|scope| {
            let storing = std::thread::Builder::new().name("lms-import-store".into()).spawn_scoped(scope, || -> Result<(), Error> {
                for job in job_queue {
                    if let Some(spare) = storer.take(job)? {
                        let _ = spare_sender.send(spare);
                    }
                }
                Ok(())
            });
            let storing = match storing {
                Ok(storing) => storing,
                Err(e) => return Err(UnpackError::Store(Error::Task(format!("starting the storing thread: {e}")))),
            };
            let mut sink = ThreadSink { jobs, spares };
            let unpacked = unpack_entries(&mut archive, &entries, already_read, &mut sink);
            drop(sink);
            let stored = storing.join().unwrap_or_else(|_| Err(Error::Task("the storing thread panicked".into())));
            match stored {
                Err(e) => Err(UnpackError::Store(e)),
                Ok(()) => unpacked,
            }
        })
    };
    // On an error, dropping the storer removes every temporary file it wrote (including
    // one cut off mid-file); nothing was named yet.
    let Storer { new, stored, open, .. } = storer;
    drop(open);
    if let Err(e) = unpacked {
        return Err(match e {
            UnpackError::Archive(e) => Error::Archive(e),
            UnpackError::Store(e) => e,
            UnpackError::StorerGone => Error::Task("the storing thread stopped without a reason".into()),
        });
    }
    let mut files = Vec::with_capacity(entries.len());
    for ((_, path, _), put) in entries.into_iter().zip(stored) {
        let Some(put) = put else {
            return Err(Error::Task(format!("`{path}` was not stored")));
        };
        files.push(PackageFile { path, sha256: put.sha256, size: put.size as i64 });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut hasher = Sha256::new();
    for f in &files {
        hasher.update(f.path.as_bytes());
        hasher.update([0]);
        hasher.update(f.sha256.as_bytes());
        hasher.update([b'\n']);
    }
    let content_sha256 = hex::encode(hasher.finalize());
    Ok((Extracted { package, diagnostics, files, content_sha256 }, new))
}

enum UnpackError {
    Archive(lms_package::Error),
    /// Storing failed (on this thread).
    Store(Error),
    /// The storing thread stopped; its own result says why.
    StorerGone,
}

/// The storing side: hashes and stores every file it is handed.
struct Storer<'a> {
    /// The files written so far that were not stored yet.
    new: NewBlobs,
    progress: Option<&'a (dyn Fn(u64, u64) + Send + Sync)>,
    total: u64,
    done: u64,
    /// One per file, by position in the file list.
    stored: Vec<Option<crate::blobs::PutBlob>>,
    /// The larger file being received in parts.
    open: Option<(usize, crate::blobs::BlobStream)>,
}

impl Storer<'_> {
    /// Handles one job, giving back its buffer for reuse.
    fn take(&mut self, job: Job) -> Result<Option<Vec<u8>>, Error> {
        match job {
            Job::Whole { slot, bytes } => {
                let blob = self.new.put_bytes(&bytes)?;
                self.stored_one(slot, blob);
                Ok(Some(bytes))
            }
            Job::Begin { slot } => {
                self.open = Some((slot, self.new.stream()?));
                Ok(None)
            }
            Job::Part(bytes) => {
                if let Some((_, stream)) = self.open.as_mut() {
                    stream.write_all(&bytes).map_err(Error::io(self.new.root().join("tmp")))?;
                }
                Ok(Some(bytes))
            }
            Job::End => {
                if let Some((slot, stream)) = self.open.take() {
                    let blob = stream.finish_into(&mut self.new)?;
                    self.stored_one(slot, blob);
                }
                Ok(None)
            }
        }
    }

    fn stored_one(&mut self, slot: usize, blob: crate::blobs::PutBlob) {
        self.done += blob.size;
        if let Some(progress) = self.progress {
            progress(self.done, self.total.max(self.done));
        }
        if let Some(place) = self.stored.get_mut(slot) {
            *place = Some(blob);
        }
    }
}

/// Where unpacked files go: straight to a [`Storer`] or through a queue to its thread.
trait Sink {
    fn send(&mut self, job: Job) -> Result<(), UnpackError>;
    /// An empty buffer, reused when one came back.
    fn buffer(&mut self) -> Vec<u8>;
}

struct InlineSink<'s, 'a> {
    storer: &'s mut Storer<'a>,
    /// The error that stopped storing.
    error: Option<Error>,
    spare: Vec<u8>,
}

impl Sink for InlineSink<'_, '_> {
    fn send(&mut self, job: Job) -> Result<(), UnpackError> {
        match self.storer.take(job) {
            Ok(spare) => {
                if let Some(spare) = spare {
                    self.spare = spare;
                }
                Ok(())
            }
            Err(e) => {
                self.error = Some(e);
                Err(UnpackError::StorerGone)
            }
        }
    }
    fn buffer(&mut self) -> Vec<u8> {
        let mut buffer = std::mem::take(&mut self.spare);
        buffer.clear();
        buffer
    }
}

struct ThreadSink {
    jobs: std::sync::mpsc::SyncSender<Job>,
    spares: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl Sink for ThreadSink {
    fn send(&mut self, job: Job) -> Result<(), UnpackError> {
        self.jobs.send(job).map_err(|_| UnpackError::StorerGone)
    }
    fn buffer(&mut self) -> Vec<u8> {
        let mut buffer = self.spares.try_recv().unwrap_or_default();
        buffer.clear();
        buffer
    }
}

/// Unpacks every entry (or takes it from `already_read`) and sends it on.
fn unpack_entries<R: std::io::Read + std::io::Seek>(
    archive: &mut SafeArchive<R>,
    entries: &[(usize, String, u64)],
    mut already_read: std::collections::HashMap<usize, Vec<u8>>,
    sink: &mut impl Sink,
) -> Result<(), UnpackError> {
    for (slot, (index, _, size)) in entries.iter().enumerate() {
        if let Some(bytes) = already_read.remove(index) {
            sink.send(Job::Whole { slot, bytes })?;
        } else if *size <= WHOLE_ENTRY_BYTES as u64 {
            let mut bytes = sink.buffer();
            bytes.reserve(*size as usize);
            archive.read_entry(*index, &mut bytes).map_err(UnpackError::Archive)?;
            sink.send(Job::Whole { slot, bytes })?;
        } else {
            sink.send(Job::Begin { slot })?;
            let part = sink.buffer();
            let mut parts = PartSender { sink, part, stopped: None };
            let read = archive.read_entry(*index, &mut parts);
            if let Some(stopped) = parts.stopped.take() {
                return Err(stopped);
            }
            read.map_err(UnpackError::Archive)?;
            parts.send_part()?;
            sink.send(Job::End)?;
        }
    }
    Ok(())
}

/// Collects unpacked bytes into parts of [`WHOLE_ENTRY_BYTES`] and sends each full one.
struct PartSender<'s, S: Sink> {
    sink: &'s mut S,
    part: Vec<u8>,
    /// Why sending failed (writing then fails with an I/O error that says less).
    stopped: Option<UnpackError>,
}

impl<S: Sink> PartSender<'_, S> {
    fn send_part(&mut self) -> Result<(), UnpackError> {
        if self.part.is_empty() {
            return Ok(());
        }
        let next = self.sink.buffer();
        let part = std::mem::replace(&mut self.part, next);
        self.sink.send(Job::Part(part))
    }
}

impl<S: Sink> Write for PartSender<'_, S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.part.capacity() < WHOLE_ENTRY_BYTES {
            self.part.reserve_exact(WHOLE_ENTRY_BYTES - self.part.len());
        }
        let n = buf.len().min(WHOLE_ENTRY_BYTES - self.part.len());
        self.part.extend_from_slice(&buf[..n]);
        if self.part.len() == WHOLE_ENTRY_BYTES {
            if let Err(e) = self.send_part() {
                self.stopped = Some(e);
                return Err(std::io::Error::other("storing stopped"));
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The largest bare structure file accepted (the parser reads at most this much anyway).
const MAX_STRUCTURE_FILE_BYTES: u64 = 32 * 1024 * 1024;

fn extract_structure_file(blobs: &crate::BlobStore, path: &Path) -> Result<Extracted, Error> {
    let size = std::fs::metadata(path).map_err(Error::io(path))?.len();
    if size > MAX_STRUCTURE_FILE_BYTES {
        return Err(Error::invalid("package", format!("a bare structure file may have at most {MAX_STRUCTURE_FILE_BYTES} bytes")));
    }
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    let source = lms_package::MemorySource::new([("cmi5.xml", bytes.clone())]);
    let parsed = lms_package::parse(&source, &ParseOptions::default());
    let importable = parsed.is_importable();
    let diagnostics = parsed.diagnostics;
    let package = match parsed.package {
        Some(p) if importable && p.standard == lms_package::Standard::Cmi5 => p,
        Some(p) if importable => {
            return Err(Error::invalid(
                "package",
                format!("a bare structure file must be a cmi5 course structure, not {}", p.standard.as_str()),
            ));
        }
        package => return Err(Error::NotImportable { title: package.map(|p| p.title), diagnostics }),
    };
    // Durable before the row that names it commits.
    let put = blobs.put_bytes(&bytes)?;
    let files = vec![PackageFile { path: "cmi5.xml".into(), sha256: put.sha256.clone(), size: put.size as i64 }];
    let mut hasher = Sha256::new();
    hasher.update(b"cmi5.xml");
    hasher.update([0]);
    hasher.update(put.sha256.as_bytes());
    hasher.update([b'\n']);
    let content_sha256 = hex::encode(hasher.finalize());
    Ok(Extracted { package, diagnostics, files, content_sha256 })
}
