//! lms-rte
