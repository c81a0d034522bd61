//! The storage suite: every test runs against SQLite and against PostgreSQL.
//!
//! PostgreSQL comes from `LMS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
//! each test gets a fresh database. When PostgreSQL cannot be reached the PostgreSQL half
//! fails if `LMS_REQUIRE_POSTGRES` or `CI` is set (as `cargo xtask test` and CI do), and
//! otherwise says so loudly and skips.

mod harness;
mod packages;
mod people;
mod schedule;
mod scorm;
mod xapi;
mod certificates;
mod cmi5;
