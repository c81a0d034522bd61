//! lms-xapi
