//! SCORM run-time benchmarks (issue 3).
//!
//! 1. Pure run-time: `SetValue` calls per second through `Attempt::handle` (criterion).
//!    Target: ≥ 1,000,000/s.
//! 2. Commit latency through the content origin's HTTP stack in process
//!    (`lms_server::content_app`, no socket): `LMS_BENCH_SCORM_LEARNERS` simulated learners
//!    (default 2,000), each with its own session, commit concurrently, `LMS_BENCH_SCORM_COMMITS`
//!    commits each (default 5), twice: paced, each learner committing once every
//!    `LMS_BENCH_SCORM_INTERVAL_MS` (default 2,000 ms, i.e. 1,000 commits/s offered; real
//!    content commits every few seconds to minutes), and back to back (saturation). Each commit
//!    also stores its xAPI statements. p50/p99 on SQLite and, when reachable, PostgreSQL
//!    (`LMS_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`; the bench
//!    creates and drops its own database). Bounded: every phase stops after 120 s.
//!    Target: p99 < 5 ms. Printed with the p50/p99 of the learners' first commits (which also
//!    store xAPI statements) and of the later ones; `LMS_BENCH_SCORM_TIMELINE=1` adds them per
//!    250 ms of the run, to see when slow commits happened.
//! 3. Before the commits, the disk's own flush latency (`fsync` of 8 KiB in a loop): every
//!    commit waits for one flush, so this is the floor under the commit p99.
//!
//! Run with `cargo bench -p lms-benches --bench rte`; `LMS_BENCH_SCORM_BACKENDS=sqlite|postgres`
//! for one backend.

use std::collections::BTreeSet;
use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use criterion::Criterion;
use lms_rte::{Attempt, AttemptConfig, Call, ScormVersion, UnixMillis};
use lms_server::{AppState, ServerConfig, content_app};
use lms_store::{AfterCompletion, ImportOptions, LaunchKind, NewPerson, NewRegistration, Role, Store, StoreConfig};
use tower::ServiceExt;

const PHASE_LIMIT: Duration = Duration::from_secs(120);

fn set_values(c: &mut Criterion) {
    let elements = [
        ("cmi.location", "page-12"),
        ("cmi.suspend_data", "A1B2C3D4E5F6G7H8I9J0"),
        ("cmi.score.scaled", "0.85"),
        ("cmi.progress_measure", "0.5"),
        ("cmi.session_time", "PT1H2M3.5S"),
        ("cmi.interactions.0.learner_response", "choice_a[,]choice_b"),
        ("cmi.completion_status", "incomplete"),
        ("cmi.exit", "suspend"),
    ];
    let mut attempt = Attempt::new(AttemptConfig::new(ScormVersion::Scorm2004, "u1", "Ada"));
    attempt.handle(Call::Initialize(""), UnixMillis(0));
    attempt.handle(Call::SetValue("cmi.interactions.0.id", "q1"), UnixMillis(0));
    attempt.handle(Call::SetValue("cmi.interactions.0.type", "choice"), UnixMillis(0));
    let mut group = c.benchmark_group("rte");
    group.throughput(criterion::Throughput::Elements(elements.len() as u64));
    group.bench_function("set_value_2004_x8", |b| {
        b.iter(|| {
            for (name, value) in elements {
                black_box(attempt.handle(Call::SetValue(black_box(name), black_box(value)), UnixMillis(1)));
            }
        })
    });
    let mut attempt12 = Attempt::new(AttemptConfig::new(ScormVersion::Scorm12, "u1", "Ada"));
    attempt12.handle(Call::Initialize(""), UnixMillis(0));
    let elements12 = [
        ("cmi.core.lesson_location", "page-12"),
        ("cmi.suspend_data", "A1B2C3D4E5F6G7H8I9J0"),
        ("cmi.core.score.raw", "85"),
        ("cmi.core.session_time", "0001:02:03.5"),
        ("cmi.core.lesson_status", "incomplete"),
        ("cmi.core.exit", "suspend"),
    ];
    group.throughput(criterion::Throughput::Elements(elements12.len() as u64));
    group.bench_function("set_value_12_x6", |b| {
        b.iter(|| {
            for (name, value) in elements12 {
                black_box(attempt12.handle(Call::SetValue(black_box(name), black_box(value)), UnixMillis(1)));
            }
        })
    });
    group.finish();
}

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="bench" version="1" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Bench</title>
    <item identifier="i" identifierref="r"><title>One</title></item></organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormType="sco" href="index.html"><file href="index.html"/></resource></resources>
</manifest>"#;

async fn prepare(store: &Store, dir: &std::path::Path, learners: usize, prefix: &str) -> Vec<(String, String)> {
    let zip_path = dir.join("bench.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("imsmanifest.xml", options).unwrap();
    writer.write_all(MANIFEST.as_bytes()).unwrap();
    writer.start_file("index.html", options).unwrap();
    writer.write_all(b"<p>bench</p>").unwrap();
    writer.finish().unwrap();
    let package = store.import_package_zip(&zip_path, &ImportOptions::default(), None).await.unwrap().record.id;
    let mut sessions = Vec::new();
    for n in 0..learners {
        let pn = format!("{prefix}{n:05}");
        store
            .create_person(&NewPerson {
                personnel_number: pn.clone(),
                name: format!("Learner {n}"),
                org_unit: None,
                roles: BTreeSet::from([Role::Learner]),
                password: None,
            })
            .await
            .unwrap();
        let reg = store
            .create_scorm_registration(&NewRegistration {
                package_id: package.clone(),
                personnel_number: pn.clone(),
                after_completion: AfterCompletion::Review,
            })
            .await
            .unwrap();
        let config = AttemptConfig::new(ScormVersion::Scorm2004, &pn, "Learner");
        // with an xAPI context, as the server opens sessions: commits also store statements
        let xapi = lms_store::ScoXapiContext::new("https://lms.example.org", &pn, "bench", "Bench", "i", "One").unwrap();
        let s = store.open_scorm_session(&reg.id, "i", LaunchKind::Normal, config, Some(&xapi)).await.unwrap();
        sessions.push((s.session_id, s.token));
    }
    sessions
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `learners` concurrent learners, each sending `commits` commits. With `interval` each
/// learner commits once per interval (starting at a random offset), so the offered load is
/// `learners / interval` commits per second — a realistic pace (real content commits every
/// few seconds to minutes); without it every learner commits back to back (saturation).
async fn commit_latency(
    label: &str,
    store: Store,
    dir: &std::path::Path,
    learners: usize,
    commits: usize,
    interval: Option<Duration>,
) {
    let sessions = prepare(&store, dir, learners, if interval.is_some() { "P" } else { "B" }).await;
    let state = AppState::new(store.clone(), ServerConfig::new(dir)).unwrap();
    let app = content_app(state);
    let started = Instant::now();
    let mut tasks = Vec::new();
    let app = Arc::new(app);
    for (index, (session, token)) in sessions.into_iter().enumerate() {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new(); // (is the learner's first commit, latency)
            // spread the learners evenly over the interval (deterministic, no RNG needed)
            let offset = interval.map(|i| i.mul_f64(index as f64 / learners as f64)).unwrap_or_default();
            for seq in 1..=commits as i64 {
                if let Some(interval) = interval {
                    let due = started + offset + interval * (seq as u32 - 1);
                    tokio::time::sleep_until(due.into()).await;
                }
                if started.elapsed() > PHASE_LIMIT {
                    break;
                }
                let mut calls = Vec::new();
                if seq == 1 {
                    calls.push(serde_json::json!(["Initialize", ""]));
                }
                calls.push(serde_json::json!(["SetValue", "cmi.location", format!("page-{seq}")]));
                calls.push(serde_json::json!(["SetValue", "cmi.suspend_data", format!("state-{seq}-0123456789abcdef")]));
                calls.push(serde_json::json!(["SetValue", "cmi.progress_measure", "0.5"]));
                calls.push(serde_json::json!(["Commit", ""]));
                let body = serde_json::json!({ "token": token, "batches": [{ "seq": seq, "calls": calls }] }).to_string();
                let request = Request::post(format!("/scorm/commit/{session}")).body(Body::from(body)).unwrap();
                let t = Instant::now();
                let response = (*app).clone().oneshot(request).await.unwrap();
                let status = response.status();
                let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
                latencies.push((seq == 1, t.elapsed(), t - started));
                assert!(status.is_success(), "commit failed: {status}");
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    let mut first = Vec::new();
    let mut later = Vec::new();
    let mut timeline = Vec::new();
    for t in tasks {
        for (is_first, latency, at) in t.await.unwrap() {
            all.push(latency);
            timeline.push((at, latency));
            if is_first { first.push(latency) } else { later.push(latency) }
        }
    }
    let wall = started.elapsed();
    all.sort();
    first.sort();
    later.sort();
    let pace = match interval {
        Some(i) => format!("one commit every {:.1} s each ({:.0} commits/s offered)", i.as_secs_f64(), learners as f64 / i.as_secs_f64()),
        None => "back to back (saturation)".to_string(),
    };
    println!(
        "commit latency {label}: {learners} concurrent learners, {pace}: {} commits in {:.1} s ({:.0}/s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        wall.as_secs_f64(),
        all.len() as f64 / wall.as_secs_f64(),
        percentile(&all, 0.50).as_secs_f64() * 1000.0,
        percentile(&all, 0.99).as_secs_f64() * 1000.0,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    if std::env::var_os("LMS_BENCH_SCORM_TIMELINE").is_some() {
        // per 250 ms of the run: how many commits started, their p50/p99/max
        timeline.sort();
        for window in timeline.chunk_by(|a, b| a.0.as_millis() / 250 == b.0.as_millis() / 250) {
            let mut l: Vec<Duration> = window.iter().map(|w| w.1).collect();
            l.sort();
            println!(
                "  {label} t={:>6} ms: {:>4} commits, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                window[0].0.as_millis() / 250 * 250,
                l.len(),
                percentile(&l, 0.5).as_secs_f64() * 1000.0,
                percentile(&l, 0.99).as_secs_f64() * 1000.0,
                l.last().unwrap().as_secs_f64() * 1000.0
            );
        }
    }
    // a learner's first commit (Initialize) also stores its xAPI statements; the later ones do not
    println!(
        "commit latency {label}: first commits p50 {:.2} ms, p99 {:.2} ms; later commits p50 {:.2} ms, p99 {:.2} ms",
        percentile(&first, 0.50).as_secs_f64() * 1000.0,
        percentile(&first, 0.99).as_secs_f64() * 1000.0,
        percentile(&later, 0.50).as_secs_f64() * 1000.0,
        percentile(&later, 0.99).as_secs_f64() * 1000.0,
    );
}

async fn both_paces(label: &str, store: &Store, dir: &std::path::Path, learners: usize, commits: usize, interval: Duration) {
    commit_latency(label, store.clone(), dir, learners, commits, Some(interval)).await;
    let burst = dir.join("burst");
    std::fs::create_dir_all(&burst).unwrap();
    commit_latency(label, store.clone(), &burst, learners, commits, None).await;
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The floor under a durable commit on this machine: 8 KiB appended and `fsync`ed in a loop
/// for `LMS_BENCH_SCORM_FSYNC_S` seconds (default 5) in the folder the databases live in.
/// Every commit waits for one such flush (group commit shares it), so a stall of the disk
/// stalls every commit queued behind it; the commit p99 cannot be lower than what this shows.
fn fsync_floor(dir: &std::path::Path) {
    let seconds = env_usize("LMS_BENCH_SCORM_FSYNC_S", 5) as u64;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0x5Au8; 8192];
    let mut times = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        file.write_all(&block).unwrap();
        let t = Instant::now();
        file.sync_data().unwrap();
        times.push(t.elapsed());
    }
    drop(file);
    std::fs::remove_file(path).unwrap();
    times.sort();
    let over = |ms: u64| times.iter().filter(|t| **t > Duration::from_millis(ms)).count();
    println!(
        "fsync floor: {} flushes of 8 KiB in {seconds} s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} over 5 ms, {} over 50 ms",
        times.len(),
        percentile(&times, 0.50).as_secs_f64() * 1000.0,
        percentile(&times, 0.99).as_secs_f64() * 1000.0,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        over(5),
        over(50),
    );
}

fn commits() {
    let learners = env_usize("LMS_BENCH_SCORM_LEARNERS", 2_000);
    let commits = env_usize("LMS_BENCH_SCORM_COMMITS", 5);
    let interval = Duration::from_millis(env_usize("LMS_BENCH_SCORM_INTERVAL_MS", 2_000) as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        fsync_floor(dir.path());
        // `LMS_BENCH_SCORM_BACKENDS=sqlite` or `=postgres` runs one of them (default both)
        let backends = std::env::var("LMS_BENCH_SCORM_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
        if backends.contains("sqlite") {
            let mut config = StoreConfig::sqlite_in(dir.path());
            config.max_connections = 16;
            let store = Store::open(&config).await.unwrap();
            both_paces("SQLite", &store, dir.path(), learners, commits, interval).await;
            store.close().await;
        }
        if !backends.contains("postgres") {
            return;
        }

        let admin_url =
            std::env::var("LMS_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("lms_bench_rte_{}", std::process::id());
        let Ok(mut admin) = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await else {
            println!("commit latency PostgreSQL: skipped, {admin_url} cannot be reached");
            return;
        };
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await;
        let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin_url.clone());
        let pg_dir = tempfile::tempdir().unwrap();
        let pg = StoreConfig {
            data_dir: pg_dir.path().to_path_buf(),
            database_url: Some(format!("{base}/{name}")),
            max_connections: 16,
        };
        let store = Store::open(&pg).await.unwrap();
        both_paces("PostgreSQL", &store, pg_dir.path(), learners, commits, interval).await;
        store.close().await;
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await;
    });
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    set_values(&mut criterion);
    criterion.final_summary();
    commits();
}
