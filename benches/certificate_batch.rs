//! Certificates through the store: issue + render + blob store + database rows + zip, the
//! path `lms certificates render` and the batch API take (issue 7).
//!
//! - certificates per second on ONE rendering thread (1,000 certificates, one worker);
//! - a 10,000-certificate batch on 2 worker threads, streamed into a zip (written to a
//!   counting sink, as to a file or an HTTP body), with the peak resident memory before and
//!   after it: memory is flat when the peak hardly moves;
//! - the personnel-file export of all of them (the stored PDFs copied into a zip).
//!
//! Run: `cargo bench -p lms-benches --bench certificate_batch`.
//! Targets: ≥ 500 certificates/s on one core; 10,000 in under 30 s on 2 cores, memory flat.

use std::io::Write;
use std::num::NonZeroUsize;
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use lms_store::{ExportFilter, IssueRequest, ManualCertificate, PersonRow, Store, StoreConfig};

/// Counts what the zip writer produces and drops it.
struct CountingSink(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn requests(range: std::ops::Range<usize>) -> Vec<IssueRequest> {
    let courses = ["Datenschutz und Informationssicherheit im Verwaltungsalltag", "Erste Hilfe – Auffrischung", "Brandschutzhelfer/in nach ASR A2.2"];
    range
        .map(|i| {
            IssueRequest::Manual(ManualCertificate {
                personnel_number: format!("B{i:05}"),
                course_title: courses[i % courses.len()].to_string(),
                dates: vec![NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(), NaiveDate::from_ymd_opt(2026, 3, 11).unwrap()],
                duration_minutes: 900,
                trainer: Some("Dr. Änne Müller-Lüdenscheidt".into()),
                org_unit_id: "amt10".into(),
                course_id: None,
            })
        })
        .collect()
}

fn rss_mib() -> String {
    lms_benches::peak_rss_kib().map(|k| format!("{} MiB", k / 1024)).unwrap_or_else(|| "n/a".into())
}

async fn batch(store: &Store, requests: Vec<IssueRequest>, workers: usize, label: &str) {
    let n = requests.len();
    let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let now = Utc.with_ymd_and_hms(2026, 3, 12, 9, 0, 0).unwrap();
    let started = Instant::now();
    let report = store
        .issue_certificates_zip(requests, Some("bench"), now, NonZeroUsize::new(workers).unwrap(), CountingSink(bytes.clone()), None)
        .await
        .expect("batch");
    let elapsed = started.elapsed();
    assert_eq!(report.issued as usize, n, "{:?}", report.failed.first());
    println!(
        "{label}: {n} certificates in {:.2} s = {:.0} certificates/s; zip {} MiB; peak RSS now {}",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        bytes.load(std::sync::atomic::Ordering::Relaxed) / (1024 * 1024),
        rss_mib()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a tiny batch then.
    let full = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::sqlite_in(dir.path())).await.unwrap();
        let people = if full { 11_000 } else { 20 };
        let rows = (0..people)
            .map(|i| PersonRow { line: i as u64 + 2, personnel_number: format!("B{i:05}"), name: format!("Teilnehmerin Nr. {i} Groß-Weiß"), org_unit: "amt10".into(), roles: String::new() })
            .collect();
        store.import_people(rows).await.unwrap();
        println!("machine: {} logical CPUs; peak RSS after setup {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1), rss_mib());
        if !full {
            batch(&store, requests(0..20), 2, "smoke").await;
            return;
        }
        batch(&store, requests(0..1_000), 1, "1 worker (one core renders)").await;
        batch(&store, requests(1_000..11_000), 2, "10,000 batch, 2 workers").await;
        let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let started = Instant::now();
        let report = store
            .export_certificates(&ExportFilter::default(), Utc::now(), CountingSink(bytes.clone()), None)
            .await
            .unwrap();
        println!(
            "export of {} certificates (no histories): {:.2} s, zip {} MiB; peak RSS now {}",
            report.certificates,
            started.elapsed().as_secs_f64(),
            bytes.load(std::sync::atomic::Ordering::Relaxed) / (1024 * 1024),
            rss_mib()
        );
    });
}
