//! lms-xapi: the pure xAPI core of the Learning Record Store (xAPI 1.0.3 and 2.0.0 / IEEE 9274.1.1).
//!
//! No IO, no clock, no randomness: the server passes in bytes, parsed JSON, the credential's
//! authority, the time of storage and an id generator, and gets values back. Every error is an
//! [`XapiError`] that names what is wrong (for statements: the JSON path, e.g.
//! `context.instructor.mbox`), so the server can answer 400 with it.
//!
//! Cost on the ingest path (release build, one core of the 2-core dev machine, CPU time): a
//! typical statement validates in about 0.8 µs and is prepared (validation included) in about
//! 3 µs; parsing its JSON with serde_json takes about 3 µs more.
//!
//! * [`validate_statement`] / [`validate_statements`]: the full data-model rules, with the JSON
//!   path of the first violation ([`XapiError::Invalid`]).
//! * [`prepare_statement`] / [`prepare_statements`]: validation plus what storage needs (the
//!   stored JSON and a [`StatementIndex`]); [`activity_definitions`] for the Activities resource.
//! * [`statements_equivalent`]: is a re-sent statement with a known id the same one (→ 204) or a
//!   conflict (→ 409)? The rules are in [`equality`].
//! * [`format_ids`] / [`format_canonical`]: the `format` query parameter's output forms.
//! * [`StatementQuery::parse`]: the `GET /statements` parameters, checked.
//! * [`parse_multipart`], [`check_attachment_parts`], [`check_signature`]: statements with
//!   attachments and JWS-signed statements.
//! * [`render_multipart`]: `GET /statements?attachments=true` responses.
//! * [`DocumentQuery::parse`], [`merge_documents`], [`etag`], [`etag_matches`]: the State,
//!   Activity Profile and Agent Profile resources; [`person_object`] for the Agents resource.
//! * [`XapiVersion::from_header`], [`parse_agent_param`], [`parse_alternate_request`] (1.0.3).
//!
//! ```
//! use lms_xapi::{XapiVersion, prepare_statement};
//! let version = XapiVersion::from_header("2.0.0").unwrap();
//! let statement: serde_json::Value = serde_json::from_str(r#"{
//!     "actor": {"mbox": "mailto:ann@example.com"},
//!     "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
//!     "object": {"id": "http://example.com/course/1"}
//! }"#).unwrap();
//! let authority = serde_json::json!({"account": {"homePage": "https://lms.example", "name": "client"}});
//! let stored = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
//! let prepared = prepare_statement(statement, version, &authority, stored, uuid::Uuid::nil).unwrap();
//! assert_eq!(prepared.index.actor_key.as_deref(), Some("mbox:mailto:ann@example.com"));
//! ```

mod actor;
mod document;
pub mod equality;
mod error;
mod format;
mod multipart;
mod path;
mod prepare;
mod query;
mod resources;
mod signature;
pub mod syntax;
mod validate;
mod version;

pub use actor::{ActorKind, AgentParam, Ifi, parse_agent_param};
pub use document::{etag, etag_matches, merge_documents};
pub use equality::statements_equivalent;
pub use error::XapiError;
pub use format::{format_canonical, format_ids, parse_accept_language};
pub use multipart::{AttachmentPart, MultipartBody, check_attachment_parts, parse_multipart, render_multipart};
pub use prepare::{
    PreparedStatement, StatementIndex, StatementObject, activity_definitions, prepare_statement,
    prepare_statements,
};
pub use query::{StatementFormat, StatementQuery};
pub use resources::{
    AlternateRequest, DocumentMethod, DocumentQuery, DocumentResource, parse_alternate_request,
    parse_form_urlencoded, person_object,
};
pub use signature::{SignatureCheck, check_signature};
pub use validate::{
    USAGE_TYPE_SIGNATURE, VERB_VOIDED, validate_activity, validate_actor, validate_statement,
    validate_statements,
};
pub use version::XapiVersion;
