//! Storage tests: certificates.
