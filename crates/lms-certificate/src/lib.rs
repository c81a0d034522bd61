//! lms-certificate
