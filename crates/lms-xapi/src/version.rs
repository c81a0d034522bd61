//! xAPI versions: the `X-Experience-API-Version` header and the statement `version` property.

use crate::XapiError;

/// The two xAPI versions this crate validates against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum XapiVersion {
    /// xAPI 1.0.3 (accepts any `1.0.x` header).
    V1_0_3,
    /// xAPI 2.0.0, IEEE 9274.1.1 (accepts any `2.0.x` header).
    V2_0_0,
}

impl XapiVersion {
    /// Parse an `X-Experience-API-Version` header: `1.0`, `1.0.x` → 1.0.3; `2.0`, `2.0.x` → 2.0.0.
    pub fn from_header(value: &str) -> Result<Self, XapiError> {
        let value_trimmed = value.trim();
        match major_minor(value_trimmed) {
            Some((1, 0)) => Ok(XapiVersion::V1_0_3),
            Some((2, 0)) => Ok(XapiVersion::V2_0_0),
            Some(_) => Err(XapiError::VersionHeader {
                value: value.to_owned(),
                reason: "unsupported version; this LRS speaks 1.0.x and 2.0.x".into(),
            }),
            None => Err(XapiError::VersionHeader {
                value: value.to_owned(),
                reason: "not a version number of the form MAJOR.MINOR[.PATCH]".into(),
            }),
        }
    }

    /// The value this LRS sends in its own `X-Experience-API-Version` header.
    pub fn header_value(self) -> &'static str {
        match self {
            XapiVersion::V1_0_3 => "1.0.3",
            XapiVersion::V2_0_0 => "2.0.0",
        }
    }

    /// The `version` stored on a statement that arrived without one.
    pub fn default_statement_version(self) -> &'static str {
        match self {
            XapiVersion::V1_0_3 => "1.0.0",
            XapiVersion::V2_0_0 => "2.0.0",
        }
    }

    /// Whether a statement's `version` property is acceptable: `1.0` or `1.0.x` under 1.0.3;
    /// additionally `2.0` or `2.0.x` under 2.0.0.
    pub fn accepts_statement_version(self, version: &str) -> bool {
        matches!((self, major_minor(version)), (_, Some((1, 0))) | (XapiVersion::V2_0_0, Some((2, 0))))
    }
}

impl std::fmt::Display for XapiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.header_value())
    }
}

/// `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`, digits only, no leading `+`/spaces.
fn major_minor(value: &str) -> Option<(u32, u32)> {
    let mut parts = value.split('.');
    let major = number(parts.next()?)?;
    let minor = number(parts.next()?)?;
    if let Some(patch) = parts.next() {
        number(patch)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor))
}

fn number(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
