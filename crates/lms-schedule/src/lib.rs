//! lms-schedule
