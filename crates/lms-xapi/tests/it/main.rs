//! lms-xapi's tests, data-driven: cases live in `tests/data/`, gold dumps beside them
//! (refresh with `UPDATE_EXPECT=1`).

mod documents;
mod equality;
mod multipart;
mod prepare;
mod query;
mod statements;
mod support;
mod syntax;
