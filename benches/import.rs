//! Package import throughput next to raw zip decoding of the same files.
//!
//! `raw_decode` reads every entry of the zip into a sink (the floor any importer pays);
//! `import` is the whole `Store::import_package_zip`: archive checks, manifest parse,
//! SHA-256 of every file, writing the content-addressed blobs and making them durable
//! (`fsync` of each new file, rename, `fsync` of each folder that received one), and the
//! database rows in one durable commit (SQLite, `synchronous = FULL`).
//!
//! What is timed is what a running server pays per upload. Every iteration gets a fresh data
//! folder, so no blob is already stored (content-addressed dedup would make repeats nearly
//! free); opening the store (migrations, the blob folder's 256 fan-out folders) happens before
//! the timed part, as it does once at a server's start, and closing it (the final WAL
//! checkpoint and its `fsync`s, which a server pays once at shutdown) after it: criterion
//! drops each iteration's [`Opened`] outside the timing.
//! Before the timed runs, peak memory is printed for a 16 MiB and a 256 MiB package to show
//! that import memory does not grow with package size.

use std::io::Write;
use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, Throughput};
use lms_store::{ImportOptions, Store, StoreConfig};

fn uncompressed_size(path: &Path) -> u64 {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len()).map(|i| archive.by_index(i).unwrap().size()).sum()
}

fn raw_decode(path: &Path) -> u64 {
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(std::fs::File::open(path).unwrap())).unwrap();
    let mut total = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        total += std::io::copy(&mut entry, &mut std::io::sink()).unwrap();
    }
    total
}

/// A SCORM 1.2 package of about `megabytes` MiB: media-like incompressible files plus pages.
fn synthetic_package(dir: &Path, megabytes: usize) -> PathBuf {
    let path = dir.join(format!("synthetic-{megabytes}mb.zip"));
    let mut writer = zip::ZipWriter::new(std::io::BufWriter::new(std::fs::File::create(&path).unwrap()));
    let deflate = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let manifest = r#"<?xml version="1.0"?>
<manifest identifier="synthetic" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
<metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
<organizations default="o"><organization identifier="o"><title>Synthetic</title><item identifier="i" identifierref="r"><title>Start</title></item></organization></organizations>
<resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource></resources></manifest>"#;
    writer.start_file("imsmanifest.xml", deflate).unwrap();
    writer.write_all(manifest.as_bytes()).unwrap();
    writer.start_file("index.html", deflate).unwrap();
    writer.write_all("<p>Lerninhalt</p>\n".repeat(2000).as_bytes()).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut chunk = vec![0u8; 1024 * 1024];
    for file in 0..megabytes {
        writer.start_file(format!("media/clip{file:04}.mp4"), deflate).unwrap();
        for b in chunk.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b.copy_from_slice(&state.to_le_bytes()[..b.len()]);
        }
        writer.write_all(&chunk).unwrap();
    }
    writer.finish().unwrap();
    path
}

/// A store opened for one iteration; closed (and its data folder removed) when dropped.
struct Opened<'r> {
    runtime: &'r tokio::runtime::Runtime,
    store: Store,
    _data: tempfile::TempDir,
}

impl<'r> Opened<'r> {
    fn new(runtime: &'r tokio::runtime::Runtime) -> Self {
        let data = tempfile::tempdir().unwrap();
        let store = runtime.block_on(Store::open(&StoreConfig::sqlite_in(data.path()))).unwrap();
        Opened { runtime, store, _data: data }
    }
}

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        self.runtime.block_on(self.store.close());
    }
}

fn import_once(runtime: &tokio::runtime::Runtime, zip: &Path) -> u64 {
    let data = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        let store = Store::open(&StoreConfig::sqlite_in(data.path())).await.unwrap();
        let outcome = store.import_package_zip(zip, &ImportOptions::default(), None).await.unwrap();
        store.close().await;
        outcome.record.total_size as u64
    })
}

fn memory_report(runtime: &tokio::runtime::Runtime, dir: &Path) {
    let small = synthetic_package(dir, 16);
    let large = synthetic_package(dir, 256);
    import_once(runtime, &small);
    let after_small = lms_benches::peak_rss_kib().unwrap_or(0);
    import_once(runtime, &large);
    let after_large = lms_benches::peak_rss_kib().unwrap_or(0);
    println!(
        "memory: peak RSS after importing 16 MiB: {} MiB; after importing 256 MiB: {} MiB (growth {} MiB)",
        after_small / 1024,
        after_large / 1024,
        after_large.saturating_sub(after_small) / 1024
    );
    std::fs::remove_file(large).unwrap();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let work = tempfile::tempdir().unwrap();
    memory_report(&runtime, work.path());

    let mut inputs: Vec<(String, PathBuf)> = Vec::new();
    if let Some(corpus) = lms_benches::corpus() {
        for name in ["scorm12", "scorm2004", "cmi5", "aicc"] {
            inputs.push((name.to_string(), corpus.join(format!("packages/zips/{name}.zip"))));
        }
    }
    inputs.push(("synthetic-32mb".to_string(), synthetic_package(work.path(), 32)));

    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    for (name, path) in &inputs {
        let bytes = uncompressed_size(path);
        let mut group = criterion.benchmark_group(format!("import/{name}"));
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function("raw_decode", |b| b.iter(|| raw_decode(path)));
        group.bench_function("import", |b| {
            b.iter_batched(
                || Opened::new(&runtime),
                |opened| {
                    let outcome =
                        runtime.block_on(opened.store.import_package_zip(path, &ImportOptions::default(), None)).unwrap();
                    assert!(!outcome.duplicate);
                    opened
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
    criterion.final_summary();
}
