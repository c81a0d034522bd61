//! lms-cts
