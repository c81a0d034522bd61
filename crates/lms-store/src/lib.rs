//! lms-store
