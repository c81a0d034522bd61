//! Package import: check the archive, parse it, stream every file into the blob store,
//! then record the package version and its file list in one transaction.
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

struct Extracted {
    package: Package,
    diagnostics: Vec<Diagnostic>,
    files: Vec<PackageFile>,
    new_blobs: Vec<String>,
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
        let extracted = tokio::task::spawn_blocking(move || extract(&blobs, &zip_path, &limits, progress.as_deref()))
            .await
            .map_err(|e| Error::Task(e.to_string()))??;
        match self.record_package(&extracted, options).await {
            Ok((record, duplicate)) => {
                Ok(ImportOutcome { record, package: extracted.package, diagnostics: extracted.diagnostics, duplicate })
            }
            Err(e) => {
                self.blobs.remove_new(&extracted.new_blobs);
                Err(e)
            }
        }
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
        match self.record_package(&extracted, options).await {
            Ok((record, duplicate)) => {
                Ok(ImportOutcome { record, package: extracted.package, diagnostics: extracted.diagnostics, duplicate })
            }
            Err(e) => {
                self.blobs.remove_new(&extracted.new_blobs);
                Err(e)
            }
        }
    }

    async fn record_package(&self, x: &Extracted, options: &ImportOptions) -> Result<(PackageRecord, bool), Error> {
        if let Some(existing) = self.package_by_content(&x.content_sha256).await? {
            return Ok((existing, true));
        }
        let package = &x.package;
        let course_key = format!("{}:{}", package.standard.as_str(), package.identifier);
        let id = uuid::Uuid::now_v7().to_string();
        let launch_path = launch_path(package);
        let model_json = serde_json::to_string(package).map_err(|e| Error::Task(e.to_string()))?;
        let warnings: Vec<&Diagnostic> = x.diagnostics.iter().filter(|d| d.severity == Severity::Warning).collect();
        let diagnostics_json = serde_json::to_string(&warnings).map_err(|e| Error::Task(e.to_string()))?;
        let total_size: i64 = x.files.iter().map(|f| f.size).sum();
        let now = now_text();
        let result: Result<(), sqlx::Error> = with_db!(&self.db, |pool| {
            async {
                let mut tx = pool.begin_write().await?;
                let (max_version,): (Option<i64>,) =
                    sqlx::query_as("SELECT MAX(version) FROM packages WHERE course_key = $1")
                        .bind(&course_key)
                        .fetch_one(&mut *tx)
                        .await?;
                let version = max_version.unwrap_or(0) + 1;
                // Blobs first (shared, insert-if-absent), sorted so concurrent imports take
                // row locks in the same order.
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
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                    for f in chunk {
                        q = q.bind(f.sha256.as_str()).bind(f.size).bind(now.as_str());
                    }
                    q.execute(&mut *tx).await?;
                }
                sqlx::query(
                    "INSERT INTO packages (id, course_key, version, standard, title, identifier, content_sha256, launch_path, model_json, diagnostics_json, n_files, total_size, uploaded_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(&id)
                .bind(&course_key)
                .bind(version)
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
                .execute(&mut *tx)
                .await?;
                for chunk in x.files.chunks(300) {
                    let mut sql = String::from("INSERT INTO package_files (package_id, path, sha256, size) VALUES ");
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&format!("($1, ${}, ${}, ${})", i * 3 + 2, i * 3 + 3, i * 3 + 4));
                    }
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(&id);
                    for f in chunk {
                        q = q.bind(f.path.as_str()).bind(f.sha256.as_str()).bind(f.size);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await
            }
            .await
        });
        match result {
            Ok(()) => {}
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
        }
        let record = self.package(&id).await?.ok_or_else(|| Error::NotFound { what: format!("package {id}") })?;
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

/// The blocking part: archive checks, parse, and streaming every entry into the blob store.
fn extract(
    blobs: &crate::BlobStore,
    zip_path: &Path,
    limits: &ArchiveLimits,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
) -> Result<Extracted, Error> {
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
    let mut archive = source.into_archive();
    let entries: Vec<(usize, String, u64)> =
        archive.entries().iter().enumerate().filter(|(_, e)| !e.is_dir).map(|(i, e)| (i, e.path.clone(), e.size)).collect();
    let total: u64 = entries.iter().map(|e| e.2).sum();
    let mut done = 0u64;
    let mut files = Vec::with_capacity(entries.len());
    let mut new_blobs = Vec::new();
    for (index, path, _) in entries {
        let put = blobs.put_from(|out: &mut dyn Write| archive.read_entry(index, &mut WriteRef(out)).map(|_| ()));
        let put = match put {
            Ok(Ok(put)) => put,
            Ok(Err(archive_error)) => {
                blobs.remove_new(&new_blobs);
                return Err(Error::Archive(archive_error));
            }
            Err(io) => {
                blobs.remove_new(&new_blobs);
                return Err(io);
            }
        };
        done += put.size;
        if let Some(progress) = progress {
            progress(done, total.max(done));
        }
        if put.created {
            new_blobs.push(put.sha256.clone());
        }
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
    Ok(Extracted { package, diagnostics, files, new_blobs, content_sha256 })
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
    let put = blobs.put_from(|out: &mut dyn Write| out.write_all(&bytes))?.map_err(Error::io(path))?;
    let new_blobs = if put.created { vec![put.sha256.clone()] } else { Vec::new() };
    let files = vec![PackageFile { path: "cmi5.xml".into(), sha256: put.sha256.clone(), size: put.size as i64 }];
    let mut hasher = Sha256::new();
    hasher.update(b"cmi5.xml");
    hasher.update([0]);
    hasher.update(put.sha256.as_bytes());
    hasher.update([b'\n']);
    let content_sha256 = hex::encode(hasher.finalize());
    Ok(Extracted { package, diagnostics, files, new_blobs, content_sha256 })
}

/// `&mut dyn Write` as a sized `Write`.
struct WriteRef<'a>(&'a mut dyn Write);

impl Write for WriteRef<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
