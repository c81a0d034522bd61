//! HTTP tests through `oneshot`: no socket, a real store on SQLite in a temporary folder.

mod support;

mod certificates;
mod cmi5;
mod foundation;
mod schedule;
mod scorm;
mod scorm_sequencing;
mod xapi;
