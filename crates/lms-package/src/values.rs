//! Reading attribute and text values with diagnostics: booleans, decimals, vocabularies.

use crate::diagnostic::{Diagnostic, Severity};
use crate::xml::{Document, Element, Ns};

/// Collects diagnostics while walking one XML document.
pub(crate) struct Reporter<'d> {
    pub doc: &'d Document,
    pub diagnostics: &'d mut Vec<Diagnostic>,
}

impl Reporter<'_> {
    pub fn push(&mut self, severity: Severity, code: &'static str, element: &Element, message: String) {
        let location = self.doc.loc(element);
        self.diagnostics.push(Diagnostic { severity, code, location, message });
    }
    pub fn error(&mut self, code: &'static str, element: &Element, message: String) {
        self.push(Severity::Error, code, element, message);
    }
    pub fn warning(&mut self, code: &'static str, element: &Element, message: String) {
        self.push(Severity::Warning, code, element, message);
    }

    fn raw<'e>(&self, element: &'e Element, ns: Ns, name: &str) -> Option<&'e str> {
        if ns == Ns::None { element.attr(name) } else { element.attr_ns(ns, name) }
    }

    /// A required attribute; reports `missing-attribute` (error) when absent or empty.
    pub fn required(&mut self, element: &Element, ns: Ns, name: &str, what: &str) -> Option<String> {
        match self.raw(element, ns, name).map(str::trim) {
            Some(v) if !v.is_empty() => Some(v.to_string()),
            _ => {
                self.error(
                    "missing-attribute",
                    element,
                    format!("<{}> has no `{name}` attribute, but {what} needs one.", element.name),
                );
                None
            }
        }
    }

    /// An `xs:boolean` attribute (`true`, `false`, `1`, `0`).
    pub fn boolean(&mut self, element: &Element, ns: Ns, name: &str, default: bool, severity: Severity) -> bool {
        let Some(raw) = self.raw(element, ns, name) else { return default };
        match parse_bool(raw) {
            Some(v) => v,
            None => {
                self.push(
                    severity,
                    "invalid-value",
                    element,
                    format!(
                        "`{name}=\"{raw}\"` on <{}> is not a boolean (write `true` or `false`); `{default}` is used.",
                        element.name
                    ),
                );
                default
            }
        }
    }

    /// A decimal attribute within `min..=max`.
    pub fn decimal(
        &mut self,
        element: &Element,
        ns: Ns,
        name: &str,
        default: f64,
        (min, max): (f64, f64),
        severity: Severity,
    ) -> f64 {
        match self.raw(element, ns, name) {
            None => default,
            Some(raw) => self.decimal_text(element, &format!("`{name}`"), raw, (min, max), severity).unwrap_or(default),
        }
    }

    /// A decimal written as text or attribute value; `what` names it in the message.
    pub fn decimal_text(
        &mut self,
        element: &Element,
        what: &str,
        raw: &str,
        (min, max): (f64, f64),
        severity: Severity,
    ) -> Option<f64> {
        match parse_decimal(raw) {
            Some(v) if v >= min && v <= max => Some(v),
            Some(_) => {
                self.push(
                    severity,
                    "value-out-of-range",
                    element,
                    format!("{what} on <{}> is \"{}\", outside the allowed {min} to {max}.", element.name, raw.trim()),
                );
                None
            }
            None => {
                self.push(
                    severity,
                    "invalid-value",
                    element,
                    format!("{what} on <{}> is \"{}\", which is not a decimal number.", element.name, raw.trim()),
                );
                None
            }
        }
    }

    /// A non-negative integer attribute.
    pub fn unsigned(&mut self, element: &Element, ns: Ns, name: &str, severity: Severity) -> Option<u32> {
        let raw = self.raw(element, ns, name)?;
        match raw.trim().parse::<u32>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.push(
                    severity,
                    "invalid-value",
                    element,
                    format!("`{name}=\"{raw}\"` on <{}> is not a whole number of zero or more.", element.name),
                );
                None
            }
        }
    }

    /// A token from a fixed vocabulary.
    #[allow(clippy::too_many_arguments)]
    pub fn vocabulary<T: Copy>(
        &mut self,
        element: &Element,
        ns: Ns,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        default: T,
        allowed: &str,
        severity: Severity,
    ) -> T {
        let Some(raw) = self.raw(element, ns, name) else { return default };
        match parse(raw.trim()) {
            Some(v) => v,
            None => {
                self.push(
                    severity,
                    "invalid-value",
                    element,
                    format!("`{name}=\"{raw}\"` on <{}> is not one of {allowed}.", element.name),
                );
                default
            }
        }
    }
}

pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// An `xs:decimal`: optional sign, digits, optional fraction. No exponents, no NaN.
pub(crate) fn parse_decimal(raw: &str) -> Option<f64> {
    let s = raw.trim();
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_xsd() {
        for (raw, expected) in
            [("0.8", Some(0.8)), (" -1 ", Some(-1.0)), (".5", Some(0.5)), ("1.", Some(1.0)), ("1e3", None), ("NaN", None), ("", None), ("0,5", None)]
        {
            assert_eq!(parse_decimal(raw), expected, "{raw}");
        }
    }
}
