//! Storage tests: xapi.
