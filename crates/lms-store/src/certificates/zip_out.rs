//! Many certificates at once, streamed into a zip: the batch (issue and render for an
//! offering or a list of requests) and the personnel-file export.
//!
//! Memory stays flat: requests are prepared a few at a time, rendered on worker threads
//! (never on the async runtime's threads), each PDF is written to the blob store and into the
//! zip and then dropped; the zip goes to any `Write` (a file, or a channel feeding an HTTP
//! body) without seeking. The metadata records for `metadata.json` and `metadata.csv`, written
//! last, are spooled to a scratch file in the blob store's `tmp/`, not held in memory.
//!
//! # The export format
//!
//! - `certificates/<personnel_number>/<last date>_<code>.pdf`: the issued PDF/A files, byte for
//!   byte (their SHA-256 is in the metadata and checkable at `/verify/<code>`).
//! - `history/<personnel_number>.pdf` (export only, when asked): the training history as PDF/A.
//! - `metadata.json`: `{"format": "lms-certificates/1", "generated_at", "certificates": [record…]}`.
//! - `metadata.csv`: the same records, UTF-8, comma-separated, one header line with the columns of
//!   [`METADATA_CSV_COLUMNS`]; lists (dates) joined with `;`.
//!
//! A record: `file`, `personnel_number`, `holder_name`, `course_title`, `course_id`,
//! `offering_id`, `first_date`, `last_date`, `dates`, `duration_minutes`, `duration_hours`,
//! `trainer`, `issuing_unit`, `issuing_unit_id`, `verification_code`, `verification_url`,
//! `issued_at`, `status`, `sha256`.

use std::io::{Read, Write};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use lms_certificate::{Fonts, HistoryEntry, Person as HistoryPerson};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{CERTIFICATE_COLUMNS, CertificateRow, IssueRequest, IssuedCertificate, NewRow, Prepared, TemplateCache, certificate_error, certificate_from_row, insert_row, ts_text};
use crate::db::{BeginWrite, with_db};
use crate::{Error, Store};

/// Columns of `metadata.csv`, in order.
pub const METADATA_CSV_COLUMNS: &[&str] = &[
    "file",
    "personnel_number",
    "holder_name",
    "course_title",
    "course_id",
    "offering_id",
    "first_date",
    "last_date",
    "dates",
    "duration_minutes",
    "duration_hours",
    "trainer",
    "issuing_unit",
    "issuing_unit_id",
    "verification_code",
    "verification_url",
    "issued_at",
    "status",
    "sha256",
];

/// Called with (done, total) as certificates are written.
pub type CertificateProgress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// One request of a batch that produced no certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BatchItemError {
    pub personnel_number: String,
    pub message: String,
}

/// What a batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchReport {
    /// Newly issued (rendered, stored, recorded).
    pub issued: u64,
    /// Already valid before: their stored PDFs went into the zip.
    pub existing: u64,
    /// Nothing to certify (e-learning without configuration).
    pub skipped: u64,
    pub failed: Vec<BatchItemError>,
}

/// Which certificates the personnel-file export takes: valid ones, of one person and/or whose
/// last training day lies in `from..=to`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportFilter {
    #[serde(default)]
    pub personnel_number: Option<String>,
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// Add `history/<personnel_number>.pdf` for every person in the export.
    #[serde(default)]
    pub include_history: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub certificates: u64,
    pub people: u64,
    pub histories: u64,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
struct MetadataRecord {
    file: String,
    personnel_number: String,
    holder_name: String,
    course_title: String,
    course_id: Option<i64>,
    offering_id: Option<i64>,
    first_date: String,
    last_date: String,
    dates: Vec<String>,
    duration_minutes: u32,
    duration_hours: String,
    trainer: Option<String>,
    issuing_unit: String,
    issuing_unit_id: Option<String>,
    verification_code: String,
    verification_url: String,
    issued_at: String,
    status: String,
    sha256: String,
}

impl MetadataRecord {
    fn new(file: String, issued: &IssuedCertificate) -> MetadataRecord {
        let c = &issued.certificate;
        let mut dates: Vec<NaiveDate> = c.dates.clone();
        dates.sort_unstable();
        dates.dedup();
        let day = |d: &NaiveDate| d.format("%Y-%m-%d").to_string();
        MetadataRecord {
            file,
            personnel_number: issued.personnel_number.clone(),
            holder_name: c.holder_name.clone(),
            course_title: c.course_title.clone(),
            course_id: issued.origin.course_id,
            offering_id: issued.origin.offering_id,
            first_date: dates.first().map(day).unwrap_or_default(),
            last_date: dates.last().map(day).unwrap_or_default(),
            dates: dates.iter().map(day).collect(),
            duration_minutes: c.duration_minutes,
            duration_hours: lms_certificate::Language::English.hours(c.duration_minutes),
            trainer: c.trainer.clone(),
            issuing_unit: c.department.clone(),
            issuing_unit_id: issued.origin.org_unit_id.clone(),
            verification_code: issued.code.clone(),
            verification_url: c.verification_url.clone(),
            issued_at: ts_text(issued.issued_at),
            status: issued.status.as_str().to_string(),
            sha256: issued.pdf_sha256.clone(),
        }
    }

    fn csv_fields(&self) -> Vec<String> {
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        vec![
            self.file.clone(),
            self.personnel_number.clone(),
            self.holder_name.clone(),
            self.course_title.clone(),
            opt(self.course_id),
            opt(self.offering_id),
            self.first_date.clone(),
            self.last_date.clone(),
            self.dates.join(";"),
            self.duration_minutes.to_string(),
            self.duration_hours.clone(),
            self.trainer.clone().unwrap_or_default(),
            self.issuing_unit.clone(),
            self.issuing_unit_id.clone().unwrap_or_default(),
            self.verification_code.clone(),
            self.verification_url.clone(),
            self.issued_at.clone(),
            self.status.clone(),
            self.sha256.clone(),
        ]
    }
}

fn certificate_file(issued: &IssuedCertificate) -> String {
    let last = issued.certificate.dates.iter().max().map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    format!("certificates/{}/{}_{}.pdf", safe_name(&issued.personnel_number), last, issued.code)
}

/// Personnel numbers are letters, digits, `.`, `_`, `-`; anything else is replaced anyway.
fn safe_name(text: &str) -> String {
    let cleaned: String = text.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') { c } else { '_' }).collect();
    if cleaned.is_empty() { "_".into() } else { cleaned }
}

fn zip_time(at: DateTime<Utc>) -> zip::DateTime {
    zip::DateTime::from_date_and_time(
        u16::try_from(at.year()).unwrap_or(1980),
        at.month() as u8,
        at.day() as u8,
        at.hour() as u8,
        at.minute() as u8,
        at.second() as u8,
    )
    .unwrap_or_default()
}

/// The metadata records of a zip being written, one JSON line each in a scratch file of the
/// blob store (removed on drop): `metadata.json` and `metadata.csv` come last, and holding
/// every record until then would make memory grow with the number of certificates.
struct Spool {
    path: std::path::PathBuf,
    writer: std::io::BufWriter<std::fs::File>,
    count: u64,
}

impl Spool {
    fn new(blobs: &crate::BlobStore) -> Result<Spool, Error> {
        let (file, path) = blobs.scratch_file()?;
        Ok(Spool { path, writer: std::io::BufWriter::with_capacity(64 * 1024, file), count: 0 })
    }

    fn io(&self) -> impl Fn(std::io::Error) -> Error + '_ {
        move |source| Error::Io { path: self.path.clone(), source }
    }

    fn push(&mut self, record: &MetadataRecord) -> Result<(), Error> {
        serde_json::to_writer(&mut self.writer, record).map_err(zip_error)?;
        self.writer.write_all(b"\n").map_err(self.io())?;
        self.count += 1;
        Ok(())
    }

    /// Calls `each` with every record, in the order they were pushed.
    fn for_each(&mut self, mut each: impl FnMut(MetadataRecord) -> Result<(), Error>) -> Result<(), Error> {
        use std::io::{BufRead, Seek};
        self.writer.flush().map_err(self.io())?;
        let mut file = self.writer.get_ref();
        file.seek(std::io::SeekFrom::Start(0)).map_err(self.io())?;
        let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
        let mut line = String::new();
        for _ in 0..self.count {
            line.clear();
            reader.read_line(&mut line).map_err(self.io())?;
            let record: MetadataRecord =
                serde_json::from_str(&line).map_err(|e| Error::Task(format!("reading back the metadata of the zip: {e}")))?;
            each(record)?;
        }
        // Further records are appended at the end.
        file.seek(std::io::SeekFrom::End(0)).map_err(self.io())?;
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes `metadata.json`: exactly what `serde_json::to_vec_pretty` gives for
/// `{"format": "lms-certificates/1", "generated_at": …, "certificates": [record…]}`, but
/// one record at a time.
fn write_metadata_json(out: &mut dyn Write, generated_at: &str, spool: &mut Spool) -> Result<(), Error> {
    let mut head = b"{\n  \"format\": \"lms-certificates/1\",\n  \"generated_at\": ".to_vec();
    serde_json::to_writer(&mut head, generated_at).map_err(zip_error)?;
    head.extend_from_slice(b",\n  \"certificates\": [");
    out.write_all(&head).map_err(zip_error)?;
    let mut first = true;
    let mut buffer = Vec::new();
    spool.for_each(|record| {
        // A record inside the array is indented by two levels (four spaces); JSON strings
        // never hold a raw line break, so every line break is the printer's.
        buffer.clear();
        buffer.extend_from_slice(if first { b"\n    " } else { b",\n    " });
        first = false;
        let at = buffer.len();
        serde_json::to_writer_pretty(&mut buffer, &record).map_err(zip_error)?;
        let pretty = buffer.split_off(at);
        for (i, line) in pretty.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                buffer.extend_from_slice(b"\n    ");
            }
            buffer.extend_from_slice(line);
        }
        out.write_all(&buffer).map_err(zip_error)
    })?;
    out.write_all(if first { b"]\n}" } else { b"\n  ]\n}" }).map_err(zip_error)
}

/// The zip being written, and the metadata collected on the way (spooled to disk).
struct ZipOut<W: Write> {
    zip: zip::ZipWriter<zip::write::StreamWriter<W>>,
    records: Spool,
    generated_at: DateTime<Utc>,
}

fn zip_error(e: impl std::fmt::Display) -> Error {
    Error::Task(format!("writing the zip: {e}"))
}

impl<W: Write> ZipOut<W> {
    fn new(out: W, generated_at: DateTime<Utc>, blobs: &crate::BlobStore) -> Result<Self, Error> {
        Ok(ZipOut { zip: zip::ZipWriter::new_stream(out), records: Spool::new(blobs)?, generated_at })
    }

    fn start(&mut self, name: &str, at: DateTime<Utc>, compress: bool) -> Result<(), Error> {
        let method = if compress { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
        let options = zip::write::SimpleFileOptions::default().compression_method(method).last_modified_time(zip_time(at));
        self.zip.start_file(name, options).map_err(zip_error)
    }

    fn add_certificate(&mut self, issued: &IssuedCertificate, pdf: &mut dyn Read) -> Result<(), Error> {
        let file = certificate_file(issued);
        self.start(&file, issued.issued_at, false)?;
        std::io::copy(pdf, &mut self.zip).map_err(zip_error)?;
        self.records.push(&MetadataRecord::new(file, issued))
    }

    fn add_file(&mut self, name: &str, bytes: &[u8], compress: bool) -> Result<(), Error> {
        self.start(name, self.generated_at, compress)?;
        self.zip.write_all(bytes).map_err(zip_error)
    }

    fn finish(mut self) -> Result<(), Error> {
        let generated_at = self.generated_at;
        self.start("metadata.json", generated_at, true)?;
        write_metadata_json(&mut self.zip, &ts_text(generated_at), &mut self.records)?;
        self.start("metadata.csv", generated_at, true)?;
        let mut csv = csv::Writer::from_writer(&mut self.zip);
        csv.write_record(METADATA_CSV_COLUMNS).map_err(zip_error)?;
        self.records.for_each(|record| csv.write_record(record.csv_fields()).map_err(zip_error))?;
        csv.flush().map_err(zip_error)?;
        drop(csv);
        let mut out = self.zip.finish().map_err(zip_error)?;
        out.flush().map_err(zip_error)
    }
}

enum Job {
    New(Box<Prepared>),
    Existing(Box<IssuedCertificate>),
}

enum Done {
    New { prepared: Box<Prepared>, pdf: Vec<u8>, sha256: String, size: u64 },
    Existing { issued: Box<IssuedCertificate>, pdf: Vec<u8> },
    Failed(BatchItemError),
}

impl Store {
    /// Issues the certificates of every person who completed `offering_id` (reusing valid
    /// ones) and streams all of them into a zip written to `out`. See [`Store::issue_certificates_zip`].
    pub async fn render_offering_certificates<W: Write + Send + 'static>(
        &self,
        offering_id: i64,
        by: Option<&str>,
        now: DateTime<Utc>,
        workers: NonZeroUsize,
        out: W,
        progress: Option<CertificateProgress>,
    ) -> Result<BatchReport, Error> {
        if self.offering(offering_id).await?.is_none() {
            return Err(Error::NotFound { what: format!("offering {offering_id}") });
        }
        let requests = self
            .offering_completers(offering_id)
            .await?
            .into_iter()
            .map(|personnel_number| IssueRequest::Offering { offering_id, personnel_number })
            .collect();
        self.issue_certificates_zip(requests, by, now, workers, out, progress).await
    }

    /// Issues many certificates at once and streams them into a zip (with `metadata.json` and
    /// `metadata.csv`, see the module docs). Rendering runs on `workers` threads of their own;
    /// the zip lists the certificates in the order of `requests`, however many workers there
    /// are. PDFs go to the blob store and the zip one by one; rows are recorded in transactions of
    /// up to 500. A request that fails is reported in [`BatchReport::failed`], the others go on.
    pub async fn issue_certificates_zip<W: Write + Send + 'static>(
        &self,
        requests: Vec<IssueRequest>,
        by: Option<&str>,
        now: DateTime<Utc>,
        workers: NonZeroUsize,
        out: W,
        progress: Option<CertificateProgress>,
    ) -> Result<BatchReport, Error> {
        let total = requests.len() as u64;
        let (job_tx, job_rx) = tokio::sync::mpsc::channel::<Job>(64);
        let (row_tx, mut row_rx) = tokio::sync::mpsc::channel::<NewRow>(512);
        let blobs = self.blobs.clone();
        // New PDFs wait here (written, their data being synced) until the recorder names
        // them, just before the transaction holding their rows commits.
        let new_blobs = Arc::new(Mutex::new(blobs.new_blobs()));
        let writer_new_blobs = new_blobs.clone();
        let writer = tokio::task::spawn_blocking(move || -> Result<(u64, u64, Vec<BatchItemError>), Error> {
            let new_blobs = writer_new_blobs;
            // Jobs are numbered as workers take them, so the zip lists the certificates in
            // request order whichever worker finishes first.
            let job_rx = Mutex::new((job_rx, 0u64));
            let fonts = Fonts::builtin();
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<(u64, Done)>(workers.get() * 2);
            let mut zip = ZipOut::new(out, now, &blobs)?;
            std::thread::scope(|scope| {
                for _ in 0..workers.get() {
                    let done_tx = done_tx.clone();
                    let (job_rx, fonts, blobs, new_blobs) = (&job_rx, &fonts, &blobs, &*new_blobs);
                    scope.spawn(move || {
                        loop {
                            let job = match job_rx.lock() {
                                Ok(mut guard) => {
                                    let (rx, taken) = &mut *guard;
                                    rx.blocking_recv().map(|job| {
                                        *taken += 1;
                                        (*taken - 1, job)
                                    })
                                }
                                Err(_) => None,
                            };
                            let Some((index, job)) = job else { break };
                            let done = run_job(job, fonts, blobs, new_blobs, now);
                            if done_tx.send((index, done)).is_err() {
                                break;
                            }
                        }
                    });
                }
                drop(done_tx);
                let (mut issued, mut existing, mut failed) = (0u64, 0u64, Vec::new());
                let mut written = 0u64;
                let mut result = Ok(());
                let mut early = std::collections::BTreeMap::new();
                let mut next = 0u64;
                let in_order = done_rx.iter().flat_map(|(index, done)| {
                    early.insert(index, done);
                    std::iter::from_fn(|| {
                        let done = early.remove(&next)?;
                        next += 1;
                        Some(done)
                    })
                    .collect::<Vec<_>>()
                });
                for done in in_order {
                    if result.is_err() {
                        continue; // drain so the workers can finish
                    }
                    let step = match done {
                        Done::New { prepared, pdf, sha256, size } => NewRow::new(&prepared, now, sha256.clone(), size).and_then(|row| {
                            let record = IssuedCertificate {
                                code: row.code.clone(),
                                personnel_number: prepared.personnel_number.clone(),
                                certificate: prepared.certificate.clone(),
                                origin: prepared.origin.clone(),
                                issued_at: now,
                                pdf_sha256: sha256,
                                pdf_size: size,
                                status: super::CertificateStatus::Valid,
                                revoked_at: None,
                                revoked_by: None,
                                revocation_reason: None,
                                replaces: None,
                                superseded_by: None,
                            };
                            zip.add_certificate(&record, &mut pdf.as_slice())?;
                            row_tx.blocking_send(row).map_err(|_| Error::Task("the database writer stopped".into()))?;
                            issued += 1;
                            Ok(())
                        }),
                        Done::Existing { issued: record, pdf } => {
                            existing += 1;
                            zip.add_certificate(&record, &mut pdf.as_slice())
                        }
                        Done::Failed(error) => {
                            failed.push(error);
                            Ok(())
                        }
                    };
                    written += 1;
                    if let Some(progress) = &progress {
                        progress(written, total);
                    }
                    result = step;
                }
                drop(row_tx);
                result?;
                zip.finish()?;
                Ok((issued, existing, failed))
            })
        });

        // Prepare on this task, a few at a time (the channel is bounded).
        let producer = async {
            let mut cache = TemplateCache::default();
            let mut skipped = 0u64;
            let mut failed = Vec::new();
            for request in &requests {
                let person = match request {
                    IssueRequest::Offering { personnel_number, .. } | IssueRequest::Elearning { personnel_number, .. } => personnel_number.clone(),
                    IssueRequest::Manual(m) => m.personnel_number.clone(),
                };
                let job = match self.prepare(request, by, &mut cache).await {
                    Ok(None) => {
                        skipped += 1;
                        continue;
                    }
                    Ok(Some(prepared)) => match &prepared.source_key {
                        Some(key) => match self.valid_for_source(key).await {
                            Ok(Some(existing)) => Job::Existing(Box::new(existing)),
                            Ok(None) => Job::New(Box::new(prepared)),
                            Err(e) => return Err(e),
                        },
                        None => Job::New(Box::new(prepared)),
                    },
                    Err(e @ (Error::Invalid { .. } | Error::NotFound { .. })) => {
                        failed.push(BatchItemError { personnel_number: person, message: e.to_string() });
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                if job_tx.send(job).await.is_err() {
                    break; // the writer stopped; its error is reported below
                }
            }
            drop(job_tx);
            Ok::<_, Error>((skipped, failed))
        };
        // Record on this task, in transactions of up to 500 rows.
        let recorder = async {
            let mut batch: Vec<NewRow> = Vec::with_capacity(500);
            let mut recorded = 0u64;
            loop {
                let next = row_rx.recv().await;
                let end = next.is_none();
                if let Some(row) = next {
                    batch.push(row);
                }
                if (end && !batch.is_empty()) || batch.len() >= 500 || (row_rx.is_empty() && !batch.is_empty()) {
                    // Every PDF of these rows was added before its row was sent: name them
                    // all (and any added since) durably first.
                    let ready = match new_blobs.lock() {
                        Ok(mut pending) => std::mem::replace(&mut *pending, self.blobs.new_blobs()),
                        Err(_) => return Err(Error::Task("a certificate worker panicked".into())),
                    };
                    tokio::task::spawn_blocking(move || ready.publish())
                        .await
                        .map_err(|e| Error::Task(format!("storing certificate PDFs: {e}")))??;
                    with_db!(&self.db, |pool| {
                        async {
                            let mut tx = pool.begin_write().await?;
                            for row in &batch {
                                insert_row!(tx, row);
                            }
                            tx.commit().await?;
                            Ok::<_, Error>(())
                        }
                        .await
                    })?;
                    recorded += batch.len() as u64;
                    batch.clear();
                }
                if end {
                    return Ok::<_, Error>(recorded);
                }
            }
        };
        let (produced, recorded, written) = tokio::join!(producer, recorder, writer);
        let written = written.map_err(|e| Error::Task(format!("the certificate writer failed: {e}")))?;
        let (skipped, mut failed) = produced?;
        recorded?;
        let (issued, existing, render_failed) = written?;
        failed.extend(render_failed);
        Ok(BatchReport { issued, existing, skipped, failed })
    }

    /// The personnel-file export: the valid certificates chosen by `filter` (their PDFs as
    /// issued), optionally each person's training history as PDF/A, and `metadata.json` /
    /// `metadata.csv` (see the module docs), streamed as a zip into `out`.
    pub async fn export_certificates<W: Write + Send + 'static>(
        &self,
        filter: &ExportFilter,
        now: DateTime<Utc>,
        out: W,
        progress: Option<CertificateProgress>,
    ) -> Result<ExportReport, Error> {
        if let Some(person) = &filter.personnel_number {
            if self.person(person).await?.is_none() {
                return Err(Error::NotFound { what: format!("person {person:?}") });
            }
        }
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if from > to {
                return Err(Error::invalid("from", format!("{from} is after {to}")));
            }
        }
        let mut sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE status = 'valid'");
        let mut n = 0;
        let mut binds: Vec<String> = Vec::new();
        if let Some(person) = &filter.personnel_number {
            n += 1;
            sql.push_str(&format!(" AND personnel_number = ${n}"));
            binds.push(person.clone());
        }
        if let Some(from) = filter.from {
            n += 1;
            sql.push_str(&format!(" AND last_date >= ${n}"));
            binds.push(from.format("%Y-%m-%d").to_string());
        }
        if let Some(to) = filter.to {
            n += 1;
            sql.push_str(&format!(" AND last_date <= ${n}"));
            binds.push(to.format("%Y-%m-%d").to_string());
        }
        sql.push_str(" ORDER BY personnel_number, first_date, code");
        let rows: Vec<CertificateRow> = with_db!(&self.db, |pool| {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for value in &binds {
                query = query.bind(value);
            }
            query.fetch_all(pool).await?
        });
        let certificates: Vec<IssuedCertificate> = rows.into_iter().map(certificate_from_row).collect::<Result<_, _>>()?;
        let mut people: Vec<String> = certificates.iter().map(|c| c.personnel_number.clone()).collect();
        if let Some(person) = &filter.personnel_number {
            people.push(person.clone());
        }
        people.sort();
        people.dedup();
        // Histories: every valid certificate of the person (not only those in the period).
        let mut histories = Vec::new();
        if filter.include_history {
            for person in &people {
                let Some(holder) = self.person(person).await? else { continue };
                let (_, template) = self.certificate_template_for(holder.org_unit.as_deref()).await?;
                let entries: Vec<HistoryEntry> = self
                    .certificates_of(person)
                    .await?
                    .into_iter()
                    .filter(|c| c.status == super::CertificateStatus::Valid)
                    .map(|c| HistoryEntry {
                        course_title: c.certificate.course_title,
                        dates: c.certificate.dates,
                        duration_minutes: c.certificate.duration_minutes,
                        department: c.certificate.department,
                        verification_code: Some(c.code),
                    })
                    .collect();
                histories.push((HistoryPerson { name: holder.name, personnel_number: Some(holder.personnel_number) }, entries, template));
            }
        }
        let blobs = self.blobs.clone();
        let report = ExportReport { certificates: certificates.len() as u64, people: people.len() as u64, histories: histories.len() as u64 };
        tokio::task::spawn_blocking(move || -> Result<(), Error> {
            let total = (certificates.len() + histories.len()) as u64;
            let mut done = 0u64;
            let tick = |done: u64| {
                if let Some(progress) = &progress {
                    progress(done, total);
                }
            };
            let mut zip = ZipOut::new(out, now, &blobs)?;
            for issued in &certificates {
                let path = blobs.path_of(&issued.pdf_sha256);
                let mut file = std::fs::File::open(&path).map_err(Error::io(&path))?;
                zip.add_certificate(issued, &mut file)?;
                done += 1;
                tick(done);
            }
            let fonts = Fonts::builtin();
            for (person, entries, template) in &histories {
                let pdf = lms_certificate::render_history(person, entries, template, &fonts, now).map_err(certificate_error("history"))?;
                let name = format!("history/{}.pdf", safe_name(person.personnel_number.as_deref().unwrap_or("_")));
                zip.add_file(&name, &pdf, false)?;
                done += 1;
                tick(done);
            }
            zip.finish()
        })
        .await
        .map_err(|e| Error::Task(format!("the export writer failed: {e}")))??;
        Ok(report)
    }

    /// A person's training history (every valid certificate) as PDF/A, rendered with the
    /// template of the person's org unit.
    pub async fn training_history_pdf(&self, personnel_number: &str, now: DateTime<Utc>) -> Result<Vec<u8>, Error> {
        let holder = self.person(personnel_number).await?.ok_or_else(|| Error::NotFound { what: format!("person {personnel_number:?}") })?;
        let (_, template) = self.certificate_template_for(holder.org_unit.as_deref()).await?;
        let entries: Vec<HistoryEntry> = self
            .certificates_of(personnel_number)
            .await?
            .into_iter()
            .filter(|c| c.status == super::CertificateStatus::Valid)
            .map(|c| HistoryEntry {
                course_title: c.certificate.course_title,
                dates: c.certificate.dates,
                duration_minutes: c.certificate.duration_minutes,
                department: c.certificate.department,
                verification_code: Some(c.code),
            })
            .collect();
        let person = HistoryPerson { name: holder.name, personnel_number: Some(holder.personnel_number) };
        tokio::task::spawn_blocking(move || lms_certificate::render_history(&person, &entries, &template, &Fonts::builtin(), now))
            .await
            .map_err(|e| Error::Task(format!("rendering a history: {e}")))?
            .map_err(certificate_error("history"))
    }
}

fn run_job(job: Job, fonts: &Fonts, blobs: &crate::BlobStore, new_blobs: &Mutex<crate::blobs::NewBlobs>, now: DateTime<Utc>) -> Done {
    match job {
        Job::Existing(issued) => {
            let path = blobs.path_of(&issued.pdf_sha256);
            match std::fs::read(&path) {
                Ok(pdf) => Done::Existing { issued, pdf },
                Err(e) => Done::Failed(BatchItemError {
                    personnel_number: issued.personnel_number.clone(),
                    message: format!("the stored PDF of certificate {} cannot be read: {e}", issued.code),
                }),
            }
        }
        Job::New(prepared) => {
            let fail = |message: String| Done::Failed(BatchItemError { personnel_number: prepared.personnel_number.clone(), message });
            let pdf = match lms_certificate::render(&prepared.certificate, &prepared.template, fonts, now) {
                Ok(pdf) => pdf,
                Err(e) => return fail(format!("certificate: {e}")),
            };
            let sha256 = hex::encode(Sha256::digest(&pdf));
            let size = pdf.len() as u64;
            // Written and synced meanwhile; named before the row commits.
            let put = match new_blobs.lock() {
                Ok(mut new_blobs) => new_blobs.put_hashed(&pdf, sha256.clone()),
                Err(_) => Err(Error::Task("another certificate worker panicked".into())),
            };
            if let Err(e) = put {
                return fail(format!("storing the PDF: {e}"));
            }
            Done::New { prepared, pdf, sha256, size }
        }
    }
}
