//! lms-sequencing
