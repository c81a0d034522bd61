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
//!    Target: p99 < 5 ms.
//!
//! Run with `cargo bench -p lms-benches --bench rte`.

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
            let mut latencies = Vec::new();
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
                latencies.push(t.elapsed());
                assert!(status.is_success(), "commit failed: {status}");
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = started.elapsed();
    all.sort();
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

fn commits() {
    let learners = env_usize("LMS_BENCH_SCORM_LEARNERS", 2_000);
    let commits = env_usize("LMS_BENCH_SCORM_COMMITS", 5);
    let interval = Duration::from_millis(env_usize("LMS_BENCH_SCORM_INTERVAL_MS", 2_000) as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let mut config = StoreConfig::sqlite_in(dir.path());
        config.max_connections = 16;
        let store = Store::open(&config).await.unwrap();
        both_paces("SQLite", &store, dir.path(), learners, commits, interval).await;
        store.close().await;

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
