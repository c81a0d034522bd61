//! HTTP tests: blended learning (issue 6).
