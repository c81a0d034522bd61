//! cmi5 course structures (`cmi5.xml`, cmi5 specification sections 13 and 14).
//!
//! The course becomes one organization; blocks become clusters and AUs launchable items,
//! each AU with a resource of its own (identifier = the AU's IRI, href = its `url`).
//!
//! Validation follows the spec's rules and `CourseStructure.xsd`: element order and
//! cardinality, required attributes and enumerations, fully qualified IRIs for every id
//! (3.0.0.0-1), ids unique across course, blocks, AUs and objectives (13.1.2.0-1,
//! 13.1.3.0-1, 13.1.4.0-1), objective references that resolve, AU URLs conformant with
//! RFC 1738 (13.1.4.0-2) whose query does not use a cmi5 launch parameter name
//! (8.1.0.0-6), relative URLs only inside a zip (14.2.0.0-1) and naming a file of it
//! (14.1.0.0-4), `cmi5.xml` at the package root (14.1.0.0-2). Every diagnostic produced
//! here ends with `[cmi5 <requirement id>]` (the ids of ADL's CATAPULT requirement list);
//! [`cmi5_requirement`] reads it back.

use std::collections::{HashMap, HashSet};

use crate::context::Ctx;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::*;
use crate::paths::{is_absolute_url, join_href, JoinError};
use crate::sequencing::SequencingCollection;
use crate::values::Reporter;
use crate::xml::{Document, Element, Ns};

/// The requirement id a cmi5 diagnostic cites (`"13.1.4.0-1"`), or `None` for other
/// diagnostics.
pub fn cmi5_requirement(diagnostic: &Diagnostic) -> Option<&str> {
    let start = diagnostic.message.rfind("[cmi5 ")? + "[cmi5 ".len();
    let rest = &diagnostic.message[start..];
    rest.strip_suffix(']')
}

/// Requirement ids cited by the cmi5 parser.
mod req {
    pub const IRI: &str = "3.0.0.0-1";
    pub const NON_CONFORMING: &str = "4.4.0.0-2";
    pub const QUERY_CONFLICT: &str = "8.1.0.0-6";
    pub const BLOCK_ID_UNIQUE: &str = "13.1.2.0-1";
    pub const OBJECTIVE_ID_UNIQUE: &str = "13.1.3.0-1";
    pub const AU_ID_UNIQUE: &str = "13.1.4.0-1";
    pub const AU_URL_RFC1738: &str = "13.1.4.0-2";
    pub const XSD: &str = "13.2.0.0-1";
    pub const AT_ROOT: &str = "14.1.0.0-2";
    pub const RELATIVE_IN_ZIP: &str = "14.1.0.0-3";
    pub const FILE_IN_ZIP: &str = "14.1.0.0-4";
    pub const FULLY_QUALIFIED_WITHOUT_ZIP: &str = "14.2.0.0-1";
}

/// The cmi5 launch parameter names an AU URL's own query must not use (8.1.0.0-6).
const LAUNCH_PARAMETER_NAMES: [&str; 5] = ["endpoint", "fetch", "actor", "registration", "activityId"];

/// The requirement a diagnostic code stands for when the code itself says it.
fn default_requirement(code: &str) -> Option<&'static str> {
    Some(match code {
        "missing-launch-file" => req::FILE_IN_ZIP,
        "path-outside-package" => req::RELATIVE_IN_ZIP,
        "unknown-objective" => req::NON_CONFORMING,
        "malformed-xml" | "invalid-encoding" | "not-a-course-structure" | "missing-element" | "missing-attribute"
        | "missing-identifier" | "unknown-element" | "misplaced-element" | "unexpected-attribute" | "invalid-value"
        | "value-out-of-range" | "missing-launch-url" | "no-launchable-item" | "missing-title" => req::XSD,
        _ => return None,
    })
}

/// Localized `<langstring lang>` texts under `element`'s child `name`, ordered by language.
fn langstrings(element: &Element, ns: Ns, name: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = element
        .children
        .iter()
        .filter(|c| c.is(ns, name))
        .flat_map(|c| c.children.iter().filter(|l| l.is(ns, "langstring")))
        .map(|l| {
            let lang = l.attr("lang").map(str::trim).unwrap_or("").to_string();
            let text = l.text.split_whitespace().collect::<Vec<_>>().join(" ");
            (lang, text)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The text to show: English if present, else the first language.
fn pick(texts: &[(String, String)]) -> Option<String> {
    texts
        .iter()
        .find(|(lang, _)| lang.to_ascii_lowercase().starts_with("en"))
        .or(texts.first())
        .map(|(_, t)| t.clone())
        .filter(|t| !t.is_empty())
}

/// Characters RFC 3986/3987 and RFC 1738 never allow unescaped in a URL or IRI.
fn is_forbidden_url_char(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
}

/// Every `%` starts a two-digit hex escape.
fn escapes_are_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// Why `id` is not a fully qualified IRI (3.0.0.0-1), or `None` when it is one.
pub(crate) fn iri_problem(id: &str) -> Option<&'static str> {
    if !is_absolute_url(id) {
        return Some("it has no scheme (such as `https:`), so it is a relative reference, not a fully qualified IRI");
    }
    let rest = &id[id.find(':').map_or(0, |i| i + 1)..];
    if rest.is_empty() || rest.starts_with('#') {
        return Some("nothing follows its scheme");
    }
    if id.chars().any(is_forbidden_url_char) {
        return Some("it contains a space or a character IRIs do not allow");
    }
    if !escapes_are_valid(id) {
        return Some("a `%` is not followed by two hex digits");
    }
    if id.matches('#').count() > 1 {
        return Some("it has more than one `#`");
    }
    None
}

/// Why an AU `url` does not conform to RFC 1738 (13.1.4.0-2), or `None`.
fn url_problem(url: &str) -> Option<&'static str> {
    if url.chars().any(is_forbidden_url_char) {
        return Some("it contains a space or a character URLs must escape");
    }
    if !escapes_are_valid(url) {
        return Some("a `%` is not followed by two hex digits");
    }
    if url.matches('#').count() > 1 {
        return Some("it has more than one `#`");
    }
    if is_absolute_url(url) {
        let rest = &url[url.find(':').map_or(0, |i| i + 1)..];
        if rest.is_empty() || rest == "//" {
            return Some("nothing follows its scheme");
        }
    }
    None
}

/// The names in `url`'s query string that collide with cmi5 launch parameters (8.1.0.0-6).
fn conflicting_parameters(url: &str) -> Vec<&'static str> {
    let Some(query_start) = url.find('?') else { return Vec::new() };
    let query = &url[query_start + 1..];
    let query = query.split('#').next().unwrap_or("");
    let names: HashSet<String> = query
        .split('&')
        .map(|pair| pair.split('=').next().unwrap_or(""))
        .map(|name| crate::paths::percent_decode(&name.replace('+', " ")))
        .collect();
    LAUNCH_PARAMETER_NAMES.iter().copied().filter(|n| names.contains(*n)).collect()
}

/// One step of an XSD `<xs:sequence>`: one of `names`, between `min` and `max` times.
struct Particle {
    names: &'static [&'static str],
    min: usize,
    max: usize,
}

const fn one(names: &'static [&'static str]) -> Particle {
    Particle { names, min: 1, max: 1 }
}
const fn optional(names: &'static [&'static str]) -> Particle {
    Particle { names, min: 0, max: 1 }
}
const fn many(names: &'static [&'static str], min: usize) -> Particle {
    Particle { names, min, max: usize::MAX }
}

const ROOT_MODEL: &[Particle] = &[one(&["course"]), optional(&["objectives"]), many(&["au", "block"], 1)];
const COURSE_MODEL: &[Particle] = &[one(&["title"]), one(&["description"])];
const BLOCK_MODEL: &[Particle] =
    &[one(&["title"]), one(&["description"]), optional(&["objectives"]), many(&["au", "block"], 1)];
const AU_MODEL: &[Particle] = &[
    one(&["title"]),
    one(&["description"]),
    optional(&["objectives"]),
    one(&["url"]),
    optional(&["launchParameters"]),
    optional(&["entitlementKey"]),
];
const TEXT_MODEL: &[Particle] = &[many(&["langstring"], 1)];
const OBJECTIVES_MODEL: &[Particle] = &[many(&["objective"], 1)];

struct State<'d> {
    r: Reporter<'d>,
    /// The namespace of the course structure's elements (the cmi5 namespace when valid).
    ns: Ns,
    base_dir: String,
    /// A bare course structure file, not a zip: every URL must be fully qualified.
    bare: bool,
    /// Every id seen → its line.
    ids: HashMap<String, u32>,
    resources: Vec<Resource>,
    objectives: Vec<String>,
    au_count: usize,
    launch_checks: Vec<(String, Location, String)>,
}

pub(crate) fn parse_cmi5(ctx: &mut Ctx<'_>, path: &str, base_dir: &str) -> Option<Package> {
    let first = ctx.diagnostics.len();
    let package = parse_untagged(ctx, path, base_dir);
    for diagnostic in &mut ctx.diagnostics[first..] {
        if cmi5_requirement(diagnostic).is_none()
            && let Some(requirement) = default_requirement(diagnostic.code)
        {
            diagnostic.message = format!("{} [cmi5 {requirement}]", diagnostic.message);
        }
    }
    package
}

fn parse_untagged(ctx: &mut Ctx<'_>, path: &str, base_dir: &str) -> Option<Package> {
    if !base_dir.is_empty() {
        ctx.diagnostics.push(Diagnostic::error(
            "structure-file-not-at-root",
            Ctx::file_location(path),
            format!(
                "A cmi5 package must hold its course structure as `cmi5.xml` at the root of the zip, not at `{path}`. [cmi5 {}]",
                req::AT_ROOT
            ),
        ));
    }
    // A package of one file is a course structure imported without a zip (14.2); with
    // `manifest_only` the files are not looked at, so neither is this.
    let bare = ctx.source.files().len() == 1 && !ctx.options.manifest_only;
    let doc = ctx.read_xml(path)?;
    let mut diagnostics = std::mem::take(&mut ctx.diagnostics);
    let mut checks = Vec::new();
    let package = build(&doc, path, base_dir, bare, &mut diagnostics, &mut checks);
    ctx.diagnostics = diagnostics;
    for (href, location, whose) in checks {
        ctx.check_file(&href, &location, true, &whose);
    }
    package
}

fn build(
    doc: &Document,
    path: &str,
    base_dir: &str,
    bare: bool,
    diagnostics: &mut Vec<Diagnostic>,
    checks: &mut Vec<(String, Location, String)>,
) -> Option<Package> {
    let root = doc.root.as_ref()?;
    let mut st = State {
        r: Reporter { doc, diagnostics },
        ns: root.ns,
        base_dir: base_dir.to_string(),
        bare,
        ids: HashMap::new(),
        resources: Vec::new(),
        objectives: Vec::new(),
        au_count: 0,
        launch_checks: Vec::new(),
    };
    if root.name != "courseStructure" {
        st.r.error(
            "not-a-course-structure",
            root,
            format!("The root element is <{}>, but a cmi5.xml must start with <courseStructure>.", root.name),
        );
        return None;
    }
    if root.ns != Ns::Cmi5 {
        st.r.error(
            "not-a-course-structure",
            root,
            "<courseStructure> is not in the cmi5 namespace `https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd`."
                .to_string(),
        );
    }
    st.attributes(root, &[]);
    st.sequence(root, ROOT_MODEL);
    let ns = st.ns;
    let course = root.child(ns, "course");
    let (identifier, titles) = match course {
        Some(course) => {
            st.attributes(course, &["id"]);
            st.sequence(course, COURSE_MODEL);
            st.texts(course);
            (st.id(course, "course"), langstrings(course, ns, "title"))
        }
        None => (String::new(), Vec::new()),
    };
    let title = pick(&titles).unwrap_or_else(|| identifier.clone());
    if let Some(objectives) = root.child(ns, "objectives") {
        st.attributes(objectives, &[]);
        st.sequence(objectives, OBJECTIVES_MODEL);
        for objective in objectives.children_named(ns, "objective") {
            st.attributes(objective, &["id"]);
            st.objective_children(objective);
            st.texts(objective);
            let id = st.id(objective, "objective");
            if !id.is_empty() {
                st.objectives.push(id);
            }
        }
    }
    let items: Vec<Item> =
        root.children.iter().filter(|c| c.is(ns, "au") || c.is(ns, "block")).map(|c| st.node(c)).collect();
    let known: HashSet<String> = st.objectives.iter().cloned().collect();
    check_objective_refs(&items, &known, &mut st);
    *checks = std::mem::take(&mut st.launch_checks);
    Some(Package {
        standard: Standard::Cmi5,
        edition: None,
        identifier: identifier.clone(),
        title,
        schema_version: None,
        manifest_path: path.to_string(),
        default_organization: Some(identifier.clone()),
        organizations: vec![Organization {
            identifier,
            title: pick(&titles).unwrap_or_default(),
            items,
            objectives_global_to_system: true,
            shared_data_global_to_system: true,
            sequencing: None,
            objectives: st.objectives,
        }],
        resources: st.resources,
        sequencing_collection: SequencingCollection::default(),
    })
}

fn check_objective_refs(items: &[Item], known: &HashSet<String>, st: &mut State<'_>) {
    for item in items {
        if let Some(cmi5) = &item.cmi5 {
            for objective in &cmi5.objectives {
                if !known.contains(objective) {
                    let message = format!(
                        "\"{}\" refers to the objective \"{objective}\", which the course's <objectives> do not define.",
                        item.identifier
                    );
                    st.r.diagnostics.push(Diagnostic::error("unknown-objective", item.location.clone(), message));
                }
            }
        }
        check_objective_refs(&item.children, known, st);
    }
}

impl State<'_> {
    /// Checks `element`'s children against an XSD sequence: the course structure's own
    /// elements in order and number, then (only at the end) elements of other namespaces.
    fn sequence(&mut self, element: &Element, model: &[Particle]) {
        let mut index = 0;
        let mut count = 0;
        let mut extension_seen: Option<&str> = None;
        // Particles passed over with too few elements (reported at the end, unless the
        // element turned up out of order, which is reported where it stands).
        let mut short: Vec<(usize, Option<&str>)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for child in &element.children {
            if child.ns != self.ns {
                if child.ns == Ns::Cp {
                    self.r.error(
                        "unknown-element",
                        child,
                        format!("<{}> in no namespace is not allowed inside <{}>.", child.name, element.name),
                    );
                } else {
                    extension_seen.get_or_insert(child.name.as_str());
                }
                continue;
            }
            if let Some(extension) = extension_seen {
                self.r.error(
                    "misplaced-element",
                    child,
                    format!(
                        "<{}> comes after the extension element <{extension}>; elements of other namespaces may only follow the cmi5 elements of <{}>.",
                        child.name, element.name
                    ),
                );
            }
            let name = child.name.as_str();
            seen.insert(name);
            let position = model[index..].iter().position(|p| p.names.contains(&name)).map(|p| p + index);
            match position {
                Some(p) if p == index => {
                    count += 1;
                    if count > model[p].max {
                        self.r.error(
                            "misplaced-element",
                            child,
                            format!("<{}> holds more than one <{name}>.", element.name),
                        );
                    }
                }
                Some(p) => {
                    for (i, skipped) in model.iter().enumerate().take(p).skip(index) {
                        let done = if i == index { count } else { 0 };
                        if done < skipped.min {
                            short.push((i, Some(name)));
                        }
                    }
                    index = p;
                    count = 1;
                }
                None if model.iter().any(|p| p.names.contains(&name)) => self.r.error(
                    "misplaced-element",
                    child,
                    format!("<{name}> is out of order in <{}>: the cmi5 schema fixes the order {}.", element.name, order(model)),
                ),
                None => self.r.error(
                    "unknown-element",
                    child,
                    format!("<{name}> is not an element of the cmi5 course structure schema inside <{}>.", element.name),
                ),
            }
        }
        for (i, particle) in model.iter().enumerate().skip(index) {
            let done = if i == index { count } else { 0 };
            if done < particle.min {
                short.push((i, None));
            }
        }
        for (i, before) in short {
            if !model[i].names.iter().any(|n| seen.contains(n)) {
                self.missing(element, &model[i], before);
            }
        }
    }

    fn missing(&mut self, element: &Element, particle: &Particle, before: Option<&str>) {
        let what = particle.names.iter().map(|n| format!("<{n}>")).collect::<Vec<_>>().join(" or ");
        let id = element.attr("id").map(|id| format!(" \"{}\"", id.trim())).unwrap_or_default();
        let place = before.map(|b| format!(" before <{b}>")).unwrap_or_default();
        self.r.error("missing-element", element, format!("<{}>{id} has no {what}{place}.", element.name));
    }

    /// An `<objective>` of the course: `<title>` and `<description>` once each, in any order.
    fn objective_children(&mut self, objective: &Element) {
        for name in ["title", "description"] {
            match objective.children_named(self.ns, name).count() {
                1 => {}
                0 => self.missing(objective, &one(if name == "title" { &["title"] } else { &["description"] }), None),
                _ => self.r.error("misplaced-element", objective, format!("<objective> holds more than one <{name}>.")),
            }
        }
        let ns = self.ns;
        for child in objective.children.iter().filter(|c| c.ns == ns && c.name != "title" && c.name != "description") {
            self.r.error("unknown-element", child, format!("<{}> is not allowed inside <objective>.", child.name));
        }
    }

    /// Checks the `<title>`/`<description>` children of `element` (langstrings, `lang`).
    fn texts(&mut self, element: &Element) {
        let ns = self.ns;
        for text in element.children.iter().filter(|c| c.is(ns, "title") || c.is(ns, "description")) {
            self.attributes(text, &[]);
            self.sequence(text, TEXT_MODEL);
            for langstring in text.children_named(ns, "langstring") {
                self.attributes(langstring, &["lang"]);
                if let Some(lang) = langstring.attr("lang")
                    && !is_language_tag(lang.trim())
                {
                    self.r.error(
                        "invalid-value",
                        langstring,
                        format!("`lang=\"{lang}\"` is not a language tag such as `en-US`."),
                    );
                }
            }
        }
    }

    /// Unprefixed attributes other than `allowed` are not in the schema (only attributes of
    /// other namespaces may be added).
    fn attributes(&mut self, element: &Element, allowed: &[&str]) {
        for attr in element.attrs.iter().filter(|a| a.ns == Ns::None || a.ns == self.ns) {
            if !allowed.contains(&attr.name.as_str()) {
                self.r.error(
                    "unexpected-attribute",
                    element,
                    format!("<{}> has the attribute `{}`, which the cmi5 schema does not define.", element.name, attr.name),
                );
            }
        }
    }

    fn id(&mut self, element: &Element, what: &str) -> String {
        let id = element.attr("id").map(str::trim).unwrap_or("");
        if id.is_empty() {
            self.r.error(
                "missing-identifier",
                element,
                format!("This <{what}> has no `id`; cmi5 requires a unique IRI for each."),
            );
            return String::new();
        }
        if let Some(problem) = iri_problem(id) {
            self.r.error(
                "not-an-iri",
                element,
                format!("The {what} id \"{id}\" is not a fully qualified IRI: {problem}. [cmi5 {}]", req::IRI),
            );
        }
        let line = self.r.doc.loc(element).line;
        if let Some(first) = self.ids.get(id).copied() {
            let requirement = match what {
                "block" => req::BLOCK_ID_UNIQUE,
                "objective" => req::OBJECTIVE_ID_UNIQUE,
                _ => req::AU_ID_UNIQUE,
            };
            self.r.error(
                "duplicate-identifier",
                element,
                format!(
                    "The {what} id \"{id}\" is used twice (first on line {first}); ids must be unique within the course structure. [cmi5 {requirement}]"
                ),
            );
        } else {
            self.ids.insert(id.to_string(), line);
        }
        id.to_string()
    }

    fn node(&mut self, element: &Element) -> Item {
        let ns = self.ns;
        let is_block = element.name == "block";
        let what = if is_block { "block" } else { "AU" };
        if is_block {
            self.attributes(element, &["id"]);
            self.sequence(element, BLOCK_MODEL);
        } else {
            self.attributes(element, &["id", "moveOn", "masteryScore", "launchMethod", "activityType"]);
            self.sequence(element, AU_MODEL);
        }
        self.texts(element);
        let identifier = self.id(element, if is_block { "block" } else { "au" });
        let titles = langstrings(element, ns, "title");
        let descriptions = langstrings(element, ns, "description");
        let title = pick(&titles).unwrap_or_else(|| identifier.clone());
        let mut objectives = Vec::new();
        for list in element.children_named(ns, "objectives") {
            self.attributes(list, &[]);
            self.sequence(list, OBJECTIVES_MODEL);
            for objective in list.children_named(ns, "objective") {
                self.attributes(objective, &["idref"]);
                match objective.attr("idref").map(str::trim).filter(|s| !s.is_empty()) {
                    Some(idref) => objectives.push(idref.to_string()),
                    None => self.r.error(
                        "missing-attribute",
                        objective,
                        format!("An objective reference of the {what} \"{identifier}\" has no `idref`."),
                    ),
                }
            }
        }
        let mut launch = LaunchData::default();
        let mut parameters = None;
        let mut url = None;
        let mut entitlement_key = None;
        let mut resource_ref = None;
        let mut children = Vec::new();
        let mut move_on = Cmi5MoveOn::NotApplicable;
        let mut launch_method = Cmi5LaunchMethod::AnyWindow;
        if is_block {
            children =
                element.children.iter().filter(|c| c.is(ns, "au") || c.is(ns, "block")).map(|c| self.node(c)).collect();
        } else {
            self.au_count += 1;
            move_on = self.r.vocabulary(
                element,
                Ns::None,
                "moveOn",
                Cmi5MoveOn::parse,
                Cmi5MoveOn::NotApplicable,
                "`Passed`, `Completed`, `CompletedAndPassed`, `CompletedOrPassed`, `NotApplicable`",
                Severity::Error,
            );
            launch_method = self.r.vocabulary(
                element,
                Ns::None,
                "launchMethod",
                |t| match t {
                    "AnyWindow" => Some(Cmi5LaunchMethod::AnyWindow),
                    "OwnWindow" => Some(Cmi5LaunchMethod::OwnWindow),
                    _ => None,
                },
                Cmi5LaunchMethod::AnyWindow,
                "`AnyWindow`, `OwnWindow`",
                Severity::Error,
            );
            if let Some(raw) = element.attr("masteryScore") {
                launch.mastery_score = self.r.decimal_text(element, "`masteryScore`", raw, (0.0, 1.0), Severity::Error);
            }
            parameters = element.child(ns, "launchParameters").map(|c| c.text.trim().to_string());
            entitlement_key = element.child(ns, "entitlementKey").map(|c| c.text.trim().to_string());
            match element.child(ns, "url").map(|c| (c, c.text.trim())) {
                Some((url_el, u)) if !u.is_empty() => {
                    url = Some(u.to_string());
                    let href = self.au_url(url_el, u, &identifier);
                    self.resources.push(Resource {
                        identifier: identifier.clone(),
                        scorm_type: None,
                        href,
                        files: Vec::new(),
                        dependencies: Vec::new(),
                        location: self.r.doc.loc(url_el),
                    });
                    resource_ref = Some(identifier.clone());
                }
                Some((url_el, _)) => self.r.error(
                    "missing-launch-url",
                    url_el,
                    format!("The <url> of the AU \"{identifier}\" is empty, so there is nothing to launch."),
                ),
                None => {} // reported by the sequence check as a missing <url>
            }
        }
        Item {
            identifier: identifier.clone(),
            title,
            resource_ref,
            parameters,
            visible: true,
            children,
            launch,
            sequencing: None,
            hide_lms_ui: Vec::new(),
            data_maps: Vec::new(),
            prerequisites: None,
            cmi5: Some(Cmi5Item {
                is_block,
                activity_id: identifier,
                move_on,
                launch_method,
                url,
                entitlement_key,
                objectives,
                titles,
                descriptions,
            }),
            location: self.r.doc.loc(element),
        }
    }

    /// Checks an AU `url` and returns the href to launch (joined with the package folder).
    fn au_url(&mut self, url_el: &Element, u: &str, identifier: &str) -> Option<String> {
        if let Some(problem) = url_problem(u) {
            self.r.error(
                "invalid-url",
                url_el,
                format!(
                    "The url \"{u}\" of the AU \"{identifier}\" does not conform to RFC 1738: {problem}. [cmi5 {}]",
                    req::AU_URL_RFC1738
                ),
            );
            return None;
        }
        let conflicts = conflicting_parameters(u);
        if !conflicts.is_empty() {
            self.r.error(
                "launch-parameter-conflict",
                url_el,
                format!(
                    "The url of the AU \"{identifier}\" has the query parameter(s) {} that cmi5 reserves for launch. [cmi5 {}]",
                    conflicts.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                    req::QUERY_CONFLICT
                ),
            );
        }
        let absolute = is_absolute_url(u);
        if self.bare && !absolute {
            self.r.error(
                "relative-url-without-package",
                url_el,
                format!(
                    "The url \"{u}\" of the AU \"{identifier}\" is relative, but a course structure imported without a zip must use fully qualified URLs. [cmi5 {}]",
                    req::FULLY_QUALIFIED_WITHOUT_ZIP
                ),
            );
            return None;
        }
        match join_href(&self.base_dir, &[], u) {
            Ok(href) => {
                if !absolute {
                    self.launch_checks.push((href.clone(), self.r.doc.loc(url_el), format!("AU \"{identifier}\"")));
                }
                Some(href)
            }
            Err(JoinError::OutsidePackage) => {
                self.r.error("path-outside-package", url_el, format!("The AU url \"{u}\" points outside the package folder."));
                None
            }
        }
    }
}

/// The element order of a model, for messages.
fn order(model: &[Particle]) -> String {
    model.iter().map(|p| p.names.iter().map(|n| format!("<{n}>")).collect::<Vec<_>>().join("|")).collect::<Vec<_>>().join(", ")
}

/// `xs:language`: `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`.
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or("");
    (1..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iris_must_be_fully_qualified() {
        assert_eq!(iri_problem("https://example.org/a"), None);
        assert_eq!(iri_problem("urn:uuid:1234"), None);
        assert!(iri_problem("example.org/a").is_some());
        assert!(iri_problem("https://example.org/a b").is_some());
        assert!(iri_problem("https:").is_some());
        assert!(iri_problem("https://x.org/%zz").is_some());
    }

    #[test]
    fn urls_follow_rfc1738_and_keep_launch_names_free() {
        assert_eq!(url_problem("index.html?a=1&b=2"), None);
        assert!(url_problem("http://example.com index.html").is_some());
        assert_eq!(conflicting_parameters("index.html?endpoint=x&a=1"), vec!["endpoint"]);
        assert_eq!(conflicting_parameters("index.html?a=1#actor=x"), Vec::<&str>::new());
        assert_eq!(conflicting_parameters("index.html?activity%49d=1"), vec!["activityId"]);
    }

    #[test]
    fn language_tags() {
        assert!(is_language_tag("en-US"));
        assert!(is_language_tag("zh-Hant-TW"));
        assert!(!is_language_tag("english language"));
        assert!(!is_language_tag(""));
    }
}
