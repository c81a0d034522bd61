//! Blended learning under load, on SQLite and (when reachable) PostgreSQL
//! (`LMS_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`; the bench
//! creates and drops its own database):
//!
//! * a generated year (900 offerings, 16,000 people, 10,000 bookings through the booking
//!   rules) is loaded first, and its load time printed;
//! * `last_seats`: 50 people book one 10-seat offering at the same moment (50 tasks on a
//!   pool of 8 connections), through `book` (combined per offering) and, in the printed
//!   summary, also through `book_alone` (one transaction each, as several servers would); throughput in bookings/s, and every round is checked for
//!   exactly 10 booked and 40 waitlisted (zero oversell). Target ≥ 1,000 bookings/s;
//! * `team_view`: a department head's view (≈ 800 reports) and a team lead's (≈ 130),
//!   each written to the audit log; p50/p99 printed from 200 timed calls. Target p99 < 50 ms.

use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Criterion, Throughput};
use lms_schedule::attendance::CompletionRule;
use lms_schedule::booking::Actor;
use lms_schedule::ids::PersonId;
use lms_store::{NewOffering, NewSession, SchedulePolicy, Store, StoreConfig, YearSpec, generated_person};

const CONTENDERS: usize = 50;
const SEATS: u32 = 10;

struct Bench {
    store: Store,
    course: i64,
    heads: Vec<String>,
    team_leads: Vec<String>,
    next_day: i64,
}

fn prepare(runtime: &tokio::runtime::Runtime, store: Store, label: &str) -> Bench {
    let started = Instant::now();
    let summary = runtime.block_on(store.generate_year(&YearSpec::city(Utc::now()))).unwrap();
    eprintln!(
        "[{label}] generated year loaded in {:.1} s: {} people, {} offerings, {} sessions, {} booked, {} waitlisted, {} refused",
        started.elapsed().as_secs_f64(),
        summary.people,
        summary.offerings,
        summary.sessions,
        summary.booked,
        summary.waitlisted,
        summary.refused
    );
    let course = runtime.block_on(store.list_courses(1, 0)).unwrap()[0].id;
    // Team leads are the first members of each team (see `generate_year`).
    let team_leads = (0..20).map(generated_person).collect();
    Bench { store, course, heads: summary.department_heads, team_leads, next_day: 400 }
}

/// One round: a fresh 10-seat offering (not timed), then 50 simultaneous bookings (timed).
fn contention_round(runtime: &tokio::runtime::Runtime, bench: &mut Bench, alone: bool) -> Duration {
    bench.next_day += 1;
    let start = chrono::DateTime::from_timestamp(Utc::now().timestamp() - Utc::now().timestamp() % 86_400 + bench.next_day * 86_400 + 19 * 3600, 0).unwrap();
    let store = bench.store.clone();
    let course = bench.course;
    let offering = runtime.block_on(async {
        let o = store
            .create_offering(&NewOffering {
                course_id: course,
                min_participants: 0,
                max_participants: SEATS,
                booking_opens_at: None,
                booking_closes_at: start,
                cancellation_deadline: start,
                requires_approval: false,
                completion: CompletionRule::default(),
            })
            .await
            .unwrap();
        store
            .add_session(o.id, &NewSession { starts_at: start, ends_at: start + chrono::Duration::hours(2), room_id: None, trainer_ids: vec![] })
            .await
            .unwrap();
        o.id
    });
    let policy = SchedulePolicy::default();
    let began = Instant::now();
    let (booked, waitlisted) = runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..CONTENDERS {
            let store = store.clone();
            let pn = generated_person(15_000 + i);
            set.spawn(async move {
                let actor = Actor::Person(PersonId(pn.clone()));
                let booked = if alone { store.book_alone(offering, &pn, actor, &policy).await } else { store.book(offering, &pn, actor, &policy).await };
                booked.unwrap().status
            });
        }
        let (mut booked, mut waitlisted) = (0, 0);
        while let Some(status) = set.join_next().await {
            match status.unwrap().as_str() {
                "booked" => booked += 1,
                "waitlisted" => waitlisted += 1,
                other => panic!("unexpected status {other}"),
            }
        }
        (booked, waitlisted)
    });
    let elapsed = began.elapsed();
    assert_eq!((booked, waitlisted), (SEATS as usize, CONTENDERS - SEATS as usize), "oversold or lost bookings");
    let stored = runtime.block_on(store.offering(offering)).unwrap().unwrap();
    assert_eq!((stored.booked, stored.waitlisted), (SEATS, CONTENDERS as u32 - SEATS), "stored counts disagree");
    elapsed
}

fn percentiles(label: &str, what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
    eprintln!(
        "[{label}] {what}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        samples.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
}

fn run(criterion: &mut Criterion, runtime: &tokio::runtime::Runtime, store: Store, label: &str) {
    let mut bench = prepare(runtime, store, label);
    // Throughput summary outside criterion too: 20 rounds each way.
    for (alone, how) in [(false, "combined per offering (one server)"), (true, "one transaction per booking (as several servers)")] {
        let rounds: Vec<Duration> = (0..20).map(|_| contention_round(runtime, &mut bench, alone)).collect();
        let total: Duration = rounds.iter().sum();
        eprintln!(
            "[{label}] last seats, {how}: {} rounds of {CONTENDERS} bookings for {SEATS} seats, {:.0} bookings/s, zero oversell",
            rounds.len(),
            (rounds.len() * CONTENDERS) as f64 / total.as_secs_f64()
        );
    }
    let mut group = criterion.benchmark_group(format!("booking_{label}"));
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(CONTENDERS as u64));
    group.bench_function("last_seats_50_for_10", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| contention_round(runtime, &mut bench, false)).sum())
    });
    group.throughput(Throughput::Elements(1));
    let store = bench.store.clone();
    let head = bench.heads[0].clone();
    group.bench_function("team_view_department_head", |b| {
        b.iter(|| runtime.block_on(store.team_view(&head, "bench", Utc::now())).unwrap().members.len())
    });
    group.finish();
    for (what, people) in [("team view, department head", &bench.heads), ("team view, team lead", &bench.team_leads)] {
        let mut samples = Vec::new();
        let mut members = 0;
        for i in 0..200 {
            let manager = &people[i % people.len()];
            let began = Instant::now();
            members = runtime.block_on(store.team_view(manager, "bench", Utc::now())).unwrap().members.len();
            samples.push(began.elapsed());
        }
        percentiles(label, &format!("{what} (≈{members} reports)"), samples);
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    {
        let data = tempfile::tempdir().unwrap();
        let store = runtime.block_on(Store::open(&StoreConfig::sqlite_in(data.path()))).unwrap();
        run(&mut criterion, &runtime, store.clone(), "sqlite");
        runtime.block_on(store.close());
    }
    let admin_url = std::env::var("LMS_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin_url.clone());
    let name = format!("lms_bench_booking_{}", std::process::id());
    // Through sqlx (no `psql` needed); DROP/CREATE DATABASE each in a statement of its own.
    let admin = |sql: String| {
        let admin_url = admin_url.clone();
        runtime.block_on(async move {
            use sqlx::Connection;
            let mut connection = sqlx::PgConnection::connect(&admin_url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut connection).await?;
            connection.close().await
        })
    };
    match admin(format!("DROP DATABASE IF EXISTS {name}")).and_then(|()| admin(format!("CREATE DATABASE {name}"))) {
        Ok(()) => {
            let data = tempfile::tempdir().unwrap();
            let config = StoreConfig { data_dir: data.path().to_path_buf(), database_url: Some(format!("{base}/{name}")), max_connections: 8 };
            let store = runtime.block_on(Store::open(&config)).unwrap();
            run(&mut criterion, &runtime, store.clone(), "postgres");
            runtime.block_on(store.close());
            if let Err(e) = admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")) {
                eprintln!("!!! could not drop the bench database {name}: {e}");
            }
        }
        Err(e) => eprintln!("!!! PostgreSQL is not usable at {admin_url} ({e}): the PostgreSQL half of the booking bench is skipped"),
    }
    criterion.final_summary();
}
