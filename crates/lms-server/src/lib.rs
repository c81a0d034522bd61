//! lms-server
