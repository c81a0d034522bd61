//! The LRS hot path through the whole HTTP stack in process (`lms_server::app`, no socket):
//! single-statement POSTs from many concurrent clients (group commit), 100-statement batch
//! POSTs, and the p99 of a filtered GET (agent + verb, limit 10) once the store holds
//! `LMS_BENCH_XAPI_STATEMENTS` statements (default 1,000,000), on SQLite and, when reachable,
//! PostgreSQL (`LMS_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`;
//! the bench creates and drops its own database).
//!
//! Counts and time are bounded: every phase stops after its count or `LMS_BENCH_XAPI_PHASE_S`
//! seconds (default 60; give it enough for the store to reach the full count). Run with
//! `cargo bench -p lms-benches --bench xapi`; `LMS_BENCH_XAPI_STATEMENTS=100000` for a quick run,
//! `LMS_BENCH_XAPI_BACKENDS=sqlite|postgres` for one backend, `LMS_BENCH_XAPI_KEEP_DB=1` to keep
//! the PostgreSQL database afterwards (to look at its query plans), `LMS_BENCH_XAPI_SINGLE_CLIENTS`
//! and `LMS_BENCH_XAPI_BATCH_CLIENTS` for the number of concurrent clients (default 64 and 4).
//! Targets (issue 4): ≥ 20,000 single POSTs/s, ≥ 150,000 statements/s in batches, GET p99 < 20 ms.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use criterion::Criterion;
use lms_server::{AppState, ServerConfig, app};
use lms_store::{Store, StoreConfig};
use tower::ServiceExt;

const KEY: &str = "bench-key";
const SECRET: &str = "bench-secret";
fn phase_limit() -> Duration {
    Duration::from_secs(std::env::var("LMS_BENCH_XAPI_PHASE_S").ok().and_then(|v| v.parse().ok()).unwrap_or(60))
}

/// Concurrent clients of a load phase: `var` in the environment, else `default`.
fn clients(var: &str, default: u64) -> u64 {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

fn auth() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}")))
}

/// Statement `n`: 1,000 learners, 10 verbs, 500 activities, each in one of 50 courses.
fn statement(n: u64) -> String {
    format!(
        r#"{{"actor":{{"objectType":"Agent","name":"Learner {a}","account":{{"homePage":"https://lms.example","name":"p{a:06}"}}}},"verb":{{"id":"http://adlnet.gov/expapi/verbs/v{v}","display":{{"en-US":"verb {v}"}}}},"object":{{"id":"https://lms.example/activities/a{o}","definition":{{"name":{{"en-US":"Activity {o}"}},"type":"http://adlnet.gov/expapi/activities/lesson"}}}},"result":{{"score":{{"scaled":0.{s}}},"success":true,"duration":"PT{d}S"}},"context":{{"registration":"{r:08x}-0000-4000-8000-000000000000","contextActivities":{{"parent":[{{"id":"https://lms.example/courses/c{c}"}}]}}}},"timestamp":"2026-11-22T10:00:00.000Z"}}"#,
        a = n % 1000,
        v = n % 10,
        o = n % 500,
        s = n % 10,
        d = n % 3600,
        r = n % 5000,
        c = n % 50,
    )
}

async fn post(router: &axum::Router, body: String) -> u16 {
    let request = Request::post("/xapi/statements")
        .header("authorization", auth())
        .header("x-experience-api-version", "2.0.0")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    router.clone().oneshot(request).await.unwrap().status().as_u16()
}

/// Sends `total` statements in POSTs of `per_request` from `clients` concurrent tasks;
/// returns statements per second.
async fn load(router: &axum::Router, first: u64, total: u64, per_request: u64, clients: u64) -> (u64, f64) {
    let next = Arc::new(AtomicU64::new(0));
    let limit = phase_limit();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let router = router.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(per_request, Ordering::Relaxed);
                if i >= total || started.elapsed() > limit {
                    break;
                }
                let body = if per_request == 1 {
                    statement(first + i)
                } else {
                    let items: Vec<String> = (i..(i + per_request).min(total)).map(|k| statement(first + k)).collect();
                    format!("[{}]", items.join(","))
                };
                let status = post(&router, body).await;
                assert_eq!(status, 200, "POST failed");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let sent = next.load(Ordering::Relaxed).min(total);
    (sent, sent as f64 / started.elapsed().as_secs_f64())
}

fn get_request(n: u64) -> Request<Body> {
    let agent = format!(r#"{{"account":{{"homePage":"https://lms.example","name":"p{:06}"}}}}"#, n % 1000);
    let uri = format!(
        "/xapi/statements?agent={}&verb={}&limit=10",
        encode(&agent),
        encode(&format!("http://adlnet.gov/expapi/verbs/v{}", n % 10))
    );
    Request::get(uri)
        .header("authorization", auth())
        .header("x-experience-api-version", "2.0.0")
        .body(Body::empty())
        .unwrap()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn filtered_get_p99(router: &axum::Router, samples: u64) -> (f64, f64) {
    let mut times = Vec::with_capacity(samples as usize);
    for n in 0..samples {
        let started = Instant::now();
        let response = router.clone().oneshot(get_request(n * 7)).await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let _ = http_body_util::BodyExt::collect(response.into_body()).await.unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let p50 = times[times.len() / 2];
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    (p50, p99)
}

fn run_backend(runtime: &tokio::runtime::Runtime, criterion: &mut Criterion, name: &str, config: StoreConfig, total: u64) {
    let (router, store) = runtime.block_on(async {
        let store = Store::open(&config).await.unwrap();
        store.ensure_xapi_client(KEY, SECRET, &["all"]).await.unwrap();
        let state = AppState::new(store.clone(), ServerConfig::new(&config.data_dir)).unwrap();
        (app(state), store)
    });
    let singles = 20_000u64.min(total);
    let (single_clients, batch_clients) = (clients("LMS_BENCH_XAPI_SINGLE_CLIENTS", 64), clients("LMS_BENCH_XAPI_BATCH_CLIENTS", 4));
    let (sent, rate) = runtime.block_on(load(&router, 0, singles, 1, single_clients));
    println!("xapi/{name}: single-statement POSTs, {single_clients} concurrent clients: {sent} in total, {rate:.0} statements/s");
    let (sent_batches, batch_rate) = runtime.block_on(load(&router, singles, total - singles, 100, batch_clients));
    println!(
        "xapi/{name}: 100-statement batch POSTs, {batch_clients} concurrent clients: {sent_batches} in total, {batch_rate:.0} statements/s"
    );
    let stored = runtime.block_on(store.xapi_statement_count()).unwrap();
    let (p50, p99) = runtime.block_on(filtered_get_p99(&router, 1_000));
    println!("xapi/{name}: filtered GET (agent+verb, limit 10) at {stored} statements: p50 {p50:.2} ms, p99 {p99:.2} ms");
    if let Some(kib) = lms_benches::peak_rss_kib() {
        println!("xapi/{name}: peak resident memory of the bench process so far: {} MiB", kib / 1024);
    }
    let mut group = criterion.benchmark_group(format!("xapi_{name}"));
    group.sample_size(20);
    let mut n = 0u64;
    group.bench_function("filtered_get", |b| {
        b.iter(|| {
            n += 1;
            runtime.block_on(async { router.clone().oneshot(get_request(n)).await.unwrap().status() })
        })
    });
    group.finish();
    runtime.block_on(store.close());
}

/// The CPU every stored statement costs before any storage: parsing the request body,
/// validating and preparing the statements (ids, `stored`, authority, index data) and
/// serializing the JSON to store, on one core. Its inverse is the most statements per second
/// and core the LRS can take whatever the database does.
fn cpu_per_statement(criterion: &mut Criterion) {
    let body = format!("[{}]", (0..100).map(statement).collect::<Vec<_>>().join(","));
    let authority = serde_json::json!({"objectType": "Agent", "account": {"homePage": "https://lms.invalid/xapi/clients", "name": KEY}});
    let mut group = criterion.benchmark_group("xapi_cpu");
    group.throughput(criterion::Throughput::Elements(100));
    group.bench_function("parse_validate_prepare_serialize_100", |b| {
        b.iter(|| {
            let value: serde_json::Value = serde_json::from_slice(body.as_bytes()).unwrap();
            let serde_json::Value::Array(list) = value else { unreachable!() };
            let prepared =
                lms_xapi::prepare_statements(list, lms_xapi::XapiVersion::V2_0_0, &authority, chrono::Utc::now(), uuid::Uuid::now_v7)
                    .unwrap();
            let stored: usize = prepared.iter().map(|p| p.json.to_string().len()).sum();
            std::hint::black_box(stored)
        })
    });
    group.finish();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    cpu_per_statement(&mut criterion);
    let total: u64 = std::env::var("LMS_BENCH_XAPI_STATEMENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);

    // `LMS_BENCH_XAPI_BACKENDS=sqlite` or `=postgres` runs one of them (default both)
    let backends = std::env::var("LMS_BENCH_XAPI_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let dir = tempfile::tempdir().unwrap();
    if backends.contains("sqlite") {
        run_backend(&runtime, &mut criterion, "sqlite", StoreConfig::sqlite_in(dir.path()), total);
    }
    if !backends.contains("postgres") {
        criterion.final_summary();
        return;
    }

    let admin_url =
        std::env::var("LMS_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin_url.clone());
    let name = format!("lms_bench_xapi_{}", std::process::id());
    let created = std::process::Command::new("psql")
        // two -c: psql runs a multi-statement -c in one transaction, where CREATE DATABASE is refused
                    .args([&admin_url, "-q", "-c", &format!("DROP DATABASE IF EXISTS {name}"), "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if created {
        let pg_dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            data_dir: pg_dir.path().to_path_buf(),
            database_url: Some(format!("{base}/{name}")),
            max_connections: 8,
        };
        run_backend(&runtime, &mut criterion, "postgres", config, total);
        if std::env::var_os("LMS_BENCH_XAPI_KEEP_DB").is_some() {
            println!("xapi/postgres: database {name} kept (LMS_BENCH_XAPI_KEEP_DB)");
        } else {
            let _ = std::process::Command::new("psql").args([&admin_url, "-qc", &format!("DROP DATABASE IF EXISTS {name}")]).status();
        }
    } else {
        eprintln!("!!! PostgreSQL is not reachable at {admin_url}: the PostgreSQL half is skipped");
    }
    criterion.final_summary();
}
