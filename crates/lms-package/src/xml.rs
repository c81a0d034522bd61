//! A small element tree over quick-xml with resolved namespaces and source positions.
//!
//! Manifests are small, so they are read into a tree once; the format parsers then walk
//! it. The reader recovers from the common authoring mistakes (an element never closed, a
//! stray end tag) by reporting them as `malformed-xml` and closing the open elements, so the
//! rest of the document still yields a model.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::diagnostic::Diagnostic;
use crate::model::Location;

/// The namespace families package formats use. Prefixes and exact URIs vary between
/// editions and authoring tools, so elements are matched by family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ns {
    /// IMS Content Packaging (any version), and elements in no namespace.
    Cp,
    Adlcp,
    Adlseq,
    Adlnav,
    Imsss,
    /// `http://www.w3.org/XML/1998/namespace` (`xml:base`, `xml:lang`).
    Xml,
    /// The cmi5 course structure namespace (`https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd`).
    Cmi5,
    /// Anything else (metadata, LOM, xAPI and vendor namespaces…).
    Other,
    /// An attribute without a prefix.
    None,
}

fn family_of(uri_or_prefix: &str) -> Ns {
    let s = uri_or_prefix.to_ascii_lowercase();
    if s == "http://www.w3.org/xml/1998/namespace" || s == "xml" {
        Ns::Xml
    } else if s.contains("w3id.org/xapi/profiles/cmi5/") {
        Ns::Cmi5
    } else if s.contains("adlcp") {
        Ns::Adlcp
    } else if s.contains("adlseq") {
        Ns::Adlseq
    } else if s.contains("adlnav") {
        Ns::Adlnav
    } else if s.contains("imsss") {
        Ns::Imsss
    } else if s.contains("imscp") || s.contains("imsproject.org/xsd/ims_cp") || s.contains("imsproject") {
        Ns::Cp
    } else {
        Ns::Other
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Attr {
    pub ns: Ns,
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Element {
    pub ns: Ns,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    /// Direct text content (character data and CDATA), entities resolved, not trimmed.
    pub text: String,
    /// Byte offset of the `<` in the decoded document.
    pub offset: usize,
}

impl Element {
    /// `true` when this element is `ns:name` (the local name compared exactly).
    pub fn is(&self, ns: Ns, name: &str) -> bool {
        self.ns == ns && self.name == name
    }
    /// Like [`Element::is`] but ignoring ASCII case (SCORM 1.2 tools mix `dataFromLMS`
    /// and `datafromlms`).
    pub fn is_ci(&self, ns: Ns, name: &str) -> bool {
        self.ns == ns && self.name.eq_ignore_ascii_case(name)
    }
    pub fn children_named<'a>(&'a self, ns: Ns, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }
    pub fn child(&self, ns: Ns, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }
    pub fn child_ci(&self, ns: Ns, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is_ci(ns, name))
    }
    /// An attribute in no namespace (or, leniently, in the element's own family).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.name == name && (a.ns == Ns::None || a.ns == self.ns))
            .map(|a| a.value.as_str())
    }
    pub fn attr_ns(&self, ns: Ns, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.ns == ns && a.name == name).map(|a| a.value.as_str())
    }
    pub fn attr_ns_ci(&self, ns: Ns, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.name.eq_ignore_ascii_case(name))
            .map(|a| a.value.as_str())
    }
    /// Trimmed text content.
    pub fn text_trimmed(&self) -> &str {
        self.text.trim()
    }
}

/// Maps byte offsets of a document to 1-based line and column (columns count characters).
#[derive(Clone, Debug)]
pub(crate) struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        LineIndex { line_starts }
    }

    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = text.get(start..offset).map(|s| s.chars().count()).unwrap_or(offset - start);
        (line as u32 + 1, column as u32 + 1)
    }
}

/// A parsed XML document: the root element (if any) plus what is needed to name places in it.
#[derive(Debug)]
pub(crate) struct Document {
    pub file: String,
    pub text: String,
    pub lines: LineIndex,
    pub root: Option<Element>,
    /// `true` when the document was not well-formed (already reported).
    pub malformed: bool,
}

impl Document {
    pub fn location(&self, offset: usize) -> Location {
        let (line, column) = self.lines.line_col(&self.text, offset);
        Location { file: self.file.clone(), line, column }
    }
    pub fn loc(&self, element: &Element) -> Location {
        self.location(element.offset)
    }
}

/// Decodes a document's bytes to UTF-8: BOMs (UTF-8/UTF-16) first, then the XML declaration's
/// `encoding`, else UTF-8 (invalid sequences replaced, with a warning).
pub(crate) fn decode(bytes: &[u8], file: &str, diagnostics: &mut Vec<Diagnostic>) -> String {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            diagnostics.push(invalid_encoding(file, encoding.name()));
        }
        return text.into_owned();
    }
    // Look for encoding="…" in the declaration (ASCII-compatible encodings only here).
    let head = &bytes[..bytes.len().min(200)];
    let declared = std::str::from_utf8(head)
        .ok()
        .or_else(|| std::str::from_utf8(&head[..head.iter().position(|&b| b >= 0x80).unwrap_or(head.len())]).ok())
        .and_then(|h| {
            let h = h.strip_prefix("<?xml")?;
            let end = h.find("?>")?;
            let decl = &h[..end];
            let at = decl.find("encoding")?;
            let rest = decl[at + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
            let quote = rest.chars().next()?;
            if quote != '"' && quote != '\'' {
                return None;
            }
            let rest = &rest[1..];
            let close = rest.find(quote)?;
            Some(rest[..close].to_string())
        });
    if let Some(label) = declared
        && let Some(encoding) = encoding_rs::Encoding::for_label(label.as_bytes())
            && encoding != encoding_rs::UTF_8 {
                let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
                if had_errors {
                    diagnostics.push(invalid_encoding(file, encoding.name()));
                }
                return text.into_owned();
            }
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => s.to_string(),
        Cow::Owned(s) => {
            diagnostics.push(invalid_encoding(file, "UTF-8"));
            s
        }
    }
}

fn invalid_encoding(file: &str, encoding: &str) -> Diagnostic {
    Diagnostic::warning(
        "invalid-encoding",
        Location { file: file.to_string(), line: 1, column: 1 },
        format!("`{file}` is not valid {encoding}; unreadable characters were replaced."),
    )
}

fn resolve_entity(name: &str) -> Option<String> {
    Some(
        match name {
            "lt" => "<",
            "gt" => ">",
            "amp" => "&",
            "apos" => "'",
            "quot" => "\"",
            _ => {
                let num = name.strip_prefix('#')?;
                let code = if let Some(hex) = num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    num.parse().ok()?
                };
                return char::from_u32(code).filter(|&c| c != '\0').map(String::from);
            }
        }
        .to_string(),
    )
}

/// Deeper documents are refused: the format parsers walk the tree recursively.
pub(crate) const MAX_DEPTH: usize = 256;

struct Open {
    element: Element,
    /// The qualified name as written, to match end tags.
    qname: String,
}

/// Parses `bytes` (the file at `file`) into a [`Document`], adding diagnostics for
/// malformed XML. Never fails: a document that cannot be read at all has no root.
pub(crate) fn parse_document(file: &str, bytes: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Document {
    let text = decode(bytes, file, diagnostics);
    let lines = LineIndex::new(&text);
    let mut doc = Document { file: file.to_string(), text, lines, root: None, malformed: false };
    let mut errors: Vec<(usize, String)> = Vec::new();
    let root = build_tree(&doc.text, &doc.lines, &mut errors);
    for (offset, message) in errors {
        doc.malformed = true;
        let location = doc.location(offset);
        diagnostics.push(Diagnostic::error("malformed-xml", location, message));
    }
    doc.root = root;
    doc
}

fn build_tree(text: &str, lines: &LineIndex, errors: &mut Vec<(usize, String)>) -> Option<Element> {
    let mut reader = NsReader::from_str(text);
    {
        let config = reader.config_mut();
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Element> = None;
    let mut extra_roots = 0usize;
    // After a syntax error the reader stops; the elements still open are closed silently.
    let mut aborted = false;

    fn attach(stack: &mut [Open], root: &mut Option<Element>, extra_roots: &mut usize, element: Element) {
        if let Some(parent) = stack.last_mut() {
            parent.element.children.push(element);
        } else if root.is_none() {
            *root = Some(element);
        } else {
            *extra_roots += 1;
        }
    }

    loop {
        let start = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(error) => {
                let offset = (reader.error_position() as usize).max(start);
                errors.push((offset, format!("The XML is not well-formed: {error}.")));
                aborted = true;
                break;
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let qname = e.name().0.to_string();
                let (resolved, local) = reader.resolver().resolve_element(e.name());
                let ns = match resolved {
                    ResolveResult::Bound(ns) => family_of(ns.0),
                    ResolveResult::Unbound => Ns::Cp,
                    ResolveResult::Unknown(prefix) => family_of(&prefix),
                };
                let mut element = Element {
                    ns,
                    name: local.into_inner().to_string(),
                    attrs: Vec::new(),
                    children: Vec::new(),
                    text: String::new(),
                    offset: start,
                };
                for attr in e.attributes() {
                    let attr = match attr {
                        Ok(attr) => attr,
                        Err(error) => {
                            errors.push((start, format!("The attributes of <{qname}> are not well-formed: {error}.")));
                            continue;
                        }
                    };
                    let key = attr.key.0;
                    if key == "xmlns" || key.starts_with("xmlns:") {
                        continue;
                    }
                    let (resolved, local) = reader.resolver().resolve_attribute(attr.key);
                    let ns = match resolved {
                        ResolveResult::Bound(ns) => family_of(ns.0),
                        ResolveResult::Unbound => Ns::None,
                        ResolveResult::Unknown(prefix) => family_of(&prefix),
                    };
                    let value = match attr.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                        Ok(v) => v.into_owned(),
                        Err(error) => {
                            errors.push((start, format!("The value of `{key}` on <{qname}> is not well-formed: {error}.")));
                            attr.value.into_owned()
                        }
                    };
                    element.attrs.push(Attr { ns, name: local.into_inner().to_string(), value });
                }
                if is_empty {
                    attach(&mut stack, &mut root, &mut extra_roots, element);
                } else if stack.len() >= MAX_DEPTH {
                    errors.push((start, format!("The elements are nested more than {MAX_DEPTH} levels deep; the rest of the file is not read.")));
                    aborted = true;
                    break;
                } else {
                    stack.push(Open { element, qname });
                }
            }
            Event::End(e) => {
                let qname = e.name().0.to_string();
                match stack.iter().rposition(|open| open.qname == qname) {
                    Some(index) => {
                        while stack.len() > index + 1 {
                            if let Some(unclosed) = stack.pop() {
                                let (line, column) = lines.line_col(text, start);
                                errors.push((
                                    unclosed.element.offset,
                                    format!(
                                        "The element <{}> is never closed: `</{qname}>` at line {line}, column {column} closes its parent first.",
                                        unclosed.qname
                                    ),
                                ));
                                attach(&mut stack, &mut root, &mut extra_roots, unclosed.element);
                            }
                        }
                        if let Some(open) = stack.pop() {
                            attach(&mut stack, &mut root, &mut extra_roots, open.element);
                        }
                    }
                    None => errors.push((start, format!("The end tag `</{qname}>` has no matching start tag."))),
                }
            }
            Event::Text(t) => {
                if let Some(open) = stack.last_mut() {
                    open.element.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(open) = stack.last_mut() {
                    open.element.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let name: &str = &r;
                match resolve_entity(name) {
                    Some(value) => {
                        if let Some(open) = stack.last_mut() {
                            open.element.text.push_str(&value);
                        }
                    }
                    None => errors.push((start, format!("The entity `&{name};` is not defined."))),
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    // Close whatever is still open.
    while let Some(unclosed) = stack.pop() {
        if !aborted {
            errors.push((
                unclosed.element.offset,
                format!("The element <{}> is never closed before the end of the file.", unclosed.qname),
            ));
        }
        attach(&mut stack, &mut root, &mut extra_roots, unclosed.element);
    }
    if root.is_none() && errors.is_empty() {
        errors.push((0, "The file holds no XML element.".to_string()));
    }
    if extra_roots > 0 {
        errors.push((text.len(), "The file has more than one top-level element.".to_string()));
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "ab\nçd<x/>";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), (1, 1));
        assert_eq!(index.line_col(text, 3), (2, 1));
        let lt = text.find('<').unwrap();
        assert_eq!(index.line_col(text, lt), (2, 3));
    }
}
