//! HTTP tests: SCORM player and commits (issue 3).
