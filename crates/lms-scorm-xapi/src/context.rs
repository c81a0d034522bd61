//! Who, where and which attempt: the fixed part of every statement, and the activity IRIs.
//!
//! IRIs follow the profile's construction guidelines: the course under the LMS's base URL,
//! the SCO under the course, interactions under the SCO, and the attempt under the SCO. Every
//! identifier that comes from a manifest or from content is percent-encoded as one path
//! segment, so any identifier gives a valid, unique IRI.

use lms_rte::ScormVersion;
use lms_xapi::syntax::{is_iri, is_language_tag};
use uuid::Uuid;

use crate::ScormXapiError;

/// The learner as an xAPI account: the LMS's home page and the personnel number. The
/// statements never carry an e-mail address or the learner's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnerAccount {
    /// An absolute IRI, e.g. `https://lms.example.com`.
    pub home_page: String,
    /// The personnel number (unique within the LMS).
    pub name: String,
}

/// Which ADL verb reports `cmi.interactions.n` answers. The profile's table names
/// `responded`; the issue that asked for this crate names `answered`. Both are ADL verbs and
/// both validate; the LMS picks one and keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InteractionVerb {
    /// `http://adlnet.gov/expapi/verbs/responded` (the xAPI SCORM Profile's choice).
    #[default]
    Responded,
    /// `http://adlnet.gov/expapi/verbs/answered`.
    Answered,
}

/// Everything about one SCO attempt that is the same in all its statements.
#[derive(Clone, Debug, PartialEq)]
pub struct ScormContext {
    pub learner: LearnerAccount,
    /// The LMS registration (`context.registration`), one per learner and package.
    pub registration: Uuid,
    /// The course (package) activity, e.g. from [`course_iri`].
    pub course_iri: String,
    /// The course's title from the manifest, if known.
    pub course_title: Option<String>,
    /// The SCO activity, e.g. from [`sco_iri`].
    pub sco_iri: String,
    /// The SCO's item title from the manifest.
    pub sco_title: String,
    /// The attempt number the events start in (`Attempt::attempt_number`); an `Initialized`
    /// or `Resumed` event carries its own number, which then applies to the events after it.
    pub attempt: u32,
    /// Which data model the events come from (decides how interaction responses convert).
    pub version: ScormVersion,
    /// RFC 5646 tag for the names and descriptions the statements carry, e.g. `en-US`.
    pub language: String,
    pub interaction_verb: InteractionVerb,
}

impl ScormContext {
    /// Checks what the statements need: absolute IRIs, a non-empty account name, a language
    /// tag, an attempt number from 1.
    pub fn validate(&self) -> Result<(), ScormXapiError> {
        if !is_iri(&self.learner.home_page) {
            return Err(ScormXapiError::context(
                "learner.home_page",
                format!("{:?} is not an absolute IRI", self.learner.home_page),
            ));
        }
        if self.learner.name.is_empty() {
            return Err(ScormXapiError::context("learner.name", "the personnel number is empty"));
        }
        for (field, iri) in [("course_iri", &self.course_iri), ("sco_iri", &self.sco_iri)] {
            if !is_iri(iri) {
                return Err(ScormXapiError::context(field, format!("{iri:?} is not an absolute IRI")));
            }
        }
        if !is_language_tag(&self.language) {
            return Err(ScormXapiError::context(
                "language",
                format!("{:?} is not an RFC 5646 language tag", self.language),
            ));
        }
        if self.attempt == 0 {
            return Err(ScormXapiError::context("attempt", "attempts are numbered from 1"));
        }
        Ok(())
    }
}

/// The course activity IRI for a package: `<base>/courses/<package id>`. The base must be an
/// absolute `http(s)` IRI without query or fragment; a trailing `/` is dropped.
pub fn course_iri(lms_base_url: &str, package_id: &str) -> Result<String, ScormXapiError> {
    let base = lms_base_url.trim_end_matches('/');
    let lower = base.to_ascii_lowercase();
    let has_authority = ["http://", "https://"]
        .iter()
        .any(|scheme| lower.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty()));
    if !has_authority || !is_iri(base) || base.contains(['?', '#']) {
        return Err(ScormXapiError::context(
            "lms_base_url",
            format!("{lms_base_url:?} is not an absolute http(s) URL without query or fragment"),
        ));
    }
    if package_id.is_empty() {
        return Err(ScormXapiError::context("package_id", "is empty"));
    }
    Ok(format!("{base}/courses/{}", segment(package_id)))
}

/// The SCO activity IRI: `<course IRI>/sco/<item identifier>`.
pub fn sco_iri(course_iri: &str, item_identifier: &str) -> String {
    format!("{course_iri}/sco/{}", segment(item_identifier))
}

/// The attempt activity IRI: `<SCO IRI>/registration/<uuid>/attempt/<n>`, unique per
/// learner (the registration), SCO and attempt, as the profile requires.
pub fn attempt_iri(sco_iri: &str, registration: Uuid, attempt: u32) -> String {
    format!("{sco_iri}/registration/{}/attempt/{attempt}", registration.hyphenated())
}

/// The interaction activity IRI: `<SCO IRI>/interactions/<cmi.interactions.n.id>`; an
/// interaction without an id is named by its index, `<SCO IRI>/interaction-index/<n>`.
pub fn interaction_iri(sco_iri: &str, interaction_id: &str, index: usize) -> String {
    if interaction_id.is_empty() {
        format!("{sco_iri}/interaction-index/{index}")
    } else {
        format!("{sco_iri}/interactions/{}", segment(interaction_id))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so the text is one path
/// segment of a plain URI (and thus of an IRI).
fn segment(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn segments_keep_unreserved_and_encode_the_rest() {
        assert_eq!(segment("Scene1_Slide3-q.1~"), "Scene1_Slide3-q.1~");
        assert_eq!(segment("urn:scormdriver:Q 1/a?b#c%"), "urn%3Ascormdriver%3AQ%201%2Fa%3Fb%23c%25");
        assert_eq!(segment("Frage ä"), "Frage%20%C3%A4");
    }
}
