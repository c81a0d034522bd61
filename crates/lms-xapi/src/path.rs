//! JSON paths built on the stack while walking a statement; rendered only for an error.

use crate::XapiError;

/// A position inside a JSON value, as a chain of borrowed segments (no allocation).
#[derive(Clone, Copy)]
pub(crate) enum JsonPath<'a> {
    Root,
    Key(&'a JsonPath<'a>, &'a str),
    Index(&'a JsonPath<'a>, usize),
}

impl<'a> JsonPath<'a> {
    pub(crate) fn key(&'a self, key: &'a str) -> JsonPath<'a> {
        JsonPath::Key(self, key)
    }

    pub(crate) fn index(&'a self, index: usize) -> JsonPath<'a> {
        JsonPath::Index(self, index)
    }

    /// `context.contextActivities.parent[0].id`; keys that are not plain words are quoted
    /// (`result.extensions["http://example.com/x"]`).
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            JsonPath::Root => {}
            JsonPath::Key(parent, key) => {
                parent.render_into(out);
                if key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') && !key.is_empty() {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                } else {
                    out.push('[');
                    out.push_str(&serde_json::Value::from(*key).to_string());
                    out.push(']');
                }
            }
            JsonPath::Index(parent, index) => {
                parent.render_into(out);
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> XapiError {
        XapiError::Invalid { path: self.render(), reason: reason.into() }
    }
}
