//! HTTP tests: xAPI LRS (issue 4).
