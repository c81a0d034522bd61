//! Storage tests: scorm.
