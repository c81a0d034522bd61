//! Storage tests: schedule.
