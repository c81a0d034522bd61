//! Bulk load of people from an HR export: 16,000 rows into a fresh database, on SQLite and,
//! when reachable, PostgreSQL (`LMS_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`; the bench creates and drops its own schema-free
//! database). Target: under 2 s for 16,000 rows.

use criterion::{BatchSize, Criterion, Throughput};
use lms_store::{PersonRow, Store, StoreConfig};

fn rows(n: usize) -> Vec<PersonRow> {
    (0..n)
        .map(|i| PersonRow {
            line: i as u64 + 2,
            personnel_number: format!("{:06}", 100_000 + i),
            name: format!("Beschäftigte Nr. {i}"),
            org_unit: format!("AMT-{:02}", i % 60),
            roles: if i % 50 == 0 { "learner;manager".into() } else { String::new() },
        })
        .collect()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    let mut group = criterion.benchmark_group("people_import");
    group.throughput(Throughput::Elements(16_000));
    group.bench_function("sqlite_16000_rows", |b| {
        b.iter_batched(
            || {
                let data = tempfile::tempdir().unwrap();
                let store = runtime.block_on(Store::open(&StoreConfig::sqlite_in(data.path()))).unwrap();
                (data, store, rows(16_000))
            },
            |(data, store, rows)| {
                let report = runtime.block_on(store.import_people(rows)).unwrap();
                assert_eq!(report.created, 16_000);
                runtime.block_on(store.close());
                data
            },
            BatchSize::PerIteration,
        )
    });
    let admin_url = std::env::var("LMS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin_url.clone());
    let mut n = 0;
    group.bench_function("postgres_16000_rows", |b| {
        b.iter_batched(
            || {
                n += 1;
                let name = format!("lms_bench_people_{}_{n}", std::process::id());
                let status = std::process::Command::new("psql")
                    // two -c: psql runs a multi-statement -c in one transaction, where CREATE DATABASE is refused
                    .args([&admin_url, "-q", "-c", &format!("DROP DATABASE IF EXISTS {name}"), "-c", &format!("CREATE DATABASE {name}")])
                    .status();
                assert!(status.map(|s| s.success()).unwrap_or(false), "PostgreSQL is needed for this bench");
                let data = tempfile::tempdir().unwrap();
                let config = StoreConfig {
                    data_dir: data.path().to_path_buf(),
                    database_url: Some(format!("{base}/{name}")),
                    max_connections: 4,
                };
                let store = runtime.block_on(Store::open(&config)).unwrap();
                (data, store, rows(16_000), name)
            },
            |(data, store, rows, name)| {
                let report = runtime.block_on(store.import_people(rows)).unwrap();
                assert_eq!(report.created, 16_000);
                runtime.block_on(store.close());
                (data, name)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    for i in 1..=n {
        let _ = std::process::Command::new("psql")
            .args([&admin_url, "-qc", &format!("DROP DATABASE IF EXISTS lms_bench_people_{}_{i}", std::process::id())])
            .status();
    }
    criterion.final_summary();
}
