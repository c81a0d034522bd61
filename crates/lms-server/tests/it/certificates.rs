//! HTTP tests: certificates (issue 7).
