//! SCORM registrations, attempts and commits (issue 3): storage.
