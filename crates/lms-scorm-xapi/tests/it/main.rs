//! lms-scorm-xapi's tests, data-driven: scripted run-time transcripts in
//! `tests/data/transcripts/*.script.json`, the statements they produce in the gold files
//! beside them (`*.statements.json`, refreshed with `UPDATE_EXPECT=1`), and response
//! conversions in `tests/data/responses.json`.

mod course;
mod errors;
mod properties;
mod responses;
mod support;
mod transcripts;
