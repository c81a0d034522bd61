//! cmi5 course structures (`cmi5.xml`, cmi5 specification section 13).
//!
//! The course becomes one organization; blocks become clusters and AUs launchable items,
//! each AU with a resource of its own (identifier = the AU's IRI, href = its `url`).

use std::collections::HashMap;

use crate::context::Ctx;
use crate::diagnostic::Severity;
use crate::model::*;
use crate::paths::{join_href, JoinError};
use crate::sequencing::SequencingCollection;
use crate::values::Reporter;
use crate::xml::{Document, Element};

/// Localized `<langstring lang>` texts under `element`'s child `name`, ordered by language.
fn langstrings(element: &Element, name: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = element
        .children
        .iter()
        .filter(|c| c.name == name)
        .flat_map(|c| c.children.iter().filter(|l| l.name == "langstring"))
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

struct State<'d> {
    r: Reporter<'d>,
    base_dir: String,
    ids: HashMap<String, u32>,
    resources: Vec<Resource>,
    objectives: Vec<String>,
    au_count: usize,
    launch_checks: Vec<(String, Location, String)>,
}

pub(crate) fn parse_cmi5(ctx: &mut Ctx<'_>, path: &str, base_dir: &str) -> Option<Package> {
    let doc = ctx.read_xml(path)?;
    let mut diagnostics = std::mem::take(&mut ctx.diagnostics);
    let mut checks = Vec::new();
    let package = build(&doc, path, base_dir, &mut diagnostics, &mut checks);
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
    diagnostics: &mut Vec<crate::Diagnostic>,
    checks: &mut Vec<(String, Location, String)>,
) -> Option<Package> {
    let root = doc.root.as_ref()?;
    let mut st = State {
        r: Reporter { doc, diagnostics },
        base_dir: base_dir.to_string(),
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
    let course = root.children.iter().find(|c| c.name == "course");
    let (identifier, titles, location) = match course {
        Some(course) => {
            let id = st.id(course, "course");
            (id, langstrings(course, "title"), doc.loc(course))
        }
        None => {
            st.r.error("missing-element", root, "The course structure has no <course> element (cmi5 §13.1).".to_string());
            (String::new(), Vec::new(), doc.loc(root))
        }
    };
    let title = pick(&titles).unwrap_or_else(|| {
        if let Some(course) = course {
            st.r.warning("missing-title", course, "The <course> has no <title>; learners will see its id instead.".to_string());
        }
        identifier.clone()
    });
    if let Some(objectives) = root.children.iter().find(|c| c.name == "objectives") {
        for objective in objectives.children.iter().filter(|c| c.name == "objective") {
            let id = st.id(objective, "objective");
            if !id.is_empty() {
                st.objectives.push(id);
            }
        }
    }
    let items: Vec<Item> = root
        .children
        .iter()
        .filter(|c| c.name == "au" || c.name == "block")
        .map(|c| st.node(c))
        .collect();
    if st.au_count == 0 {
        st.r.error("no-launchable-item", root, "The course structure has no <au>: there is nothing to launch.".to_string());
    }
    check_objective_refs(&items, &st.objectives.clone(), &mut st);
    *checks = std::mem::take(&mut st.launch_checks);
    let _ = location;
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

fn check_objective_refs(items: &[Item], known: &[String], st: &mut State<'_>) {
    for item in items {
        if let Some(cmi5) = &item.cmi5 {
            for objective in &cmi5.objectives {
                if !known.contains(objective) {
                    let message = format!(
                        "\"{}\" refers to the objective \"{objective}\", which the course's <objectives> do not define.",
                        item.identifier
                    );
                    st.r.diagnostics.push(crate::Diagnostic::warning("unknown-objective", item.location.clone(), message));
                }
            }
        }
        check_objective_refs(&item.children, known, st);
    }
}

impl State<'_> {
    fn id(&mut self, element: &Element, what: &str) -> String {
        let id = element.attr("id").map(str::trim).unwrap_or("");
        if id.is_empty() {
            self.r.error(
                "missing-identifier",
                element,
                format!("This <{what}> has no `id`; cmi5 requires a unique IRI for each (cmi5 §13.1)."),
            );
            return String::new();
        }
        let line = self.r.doc.loc(element).line;
        if let Some(first) = self.ids.get(id).copied() {
            self.r.error(
                "duplicate-identifier",
                element,
                format!("The id \"{id}\" is used twice (first on line {first}); ids must be unique."),
            );
        } else {
            self.ids.insert(id.to_string(), line);
        }
        id.to_string()
    }

    fn node(&mut self, element: &Element) -> Item {
        let is_block = element.name == "block";
        let what = if is_block { "block" } else { "au" };
        let identifier = self.id(element, what);
        let titles = langstrings(element, "title");
        let descriptions = langstrings(element, "description");
        let title = pick(&titles).unwrap_or_else(|| {
            self.r.warning(
                "missing-title",
                element,
                format!("The <{what}> \"{identifier}\" has no <title>; learners will see its id instead."),
            );
            identifier.clone()
        });
        let objectives: Vec<String> = element
            .children
            .iter()
            .filter(|c| c.name == "objectives")
            .flat_map(|o| o.children.iter().filter(|c| c.name == "objective"))
            .filter_map(|o| o.attr("idref").map(|s| s.trim().to_string()))
            .collect();
        let mut launch = LaunchData::default();
        let mut parameters = None;
        let mut url = None;
        let mut entitlement_key = None;
        let mut resource_ref = None;
        let mut children = Vec::new();
        let mut move_on = Cmi5MoveOn::NotApplicable;
        let mut launch_method = Cmi5LaunchMethod::AnyWindow;
        if is_block {
            children = element
                .children
                .iter()
                .filter(|c| c.name == "au" || c.name == "block")
                .map(|c| self.node(c))
                .collect();
            if children.is_empty() {
                self.r.warning("empty-item", element, format!("The block \"{identifier}\" holds no AU or block."));
            }
        } else {
            self.au_count += 1;
            move_on = self.r.vocabulary(
                element,
                crate::xml::Ns::None,
                "moveOn",
                Cmi5MoveOn::parse,
                Cmi5MoveOn::NotApplicable,
                "`Passed`, `Completed`, `CompletedAndPassed`, `CompletedOrPassed`, `NotApplicable`",
                Severity::Error,
            );
            launch_method = self.r.vocabulary(
                element,
                crate::xml::Ns::None,
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
                launch.mastery_score =
                    self.r.decimal_text(element, "`masteryScore`", raw, (0.0, 1.0), Severity::Error);
            }
            parameters = element.children.iter().find(|c| c.name == "launchParameters").map(|c| c.text.trim().to_string());
            entitlement_key =
                element.children.iter().find(|c| c.name == "entitlementKey").map(|c| c.text.trim().to_string());
            match element.children.iter().find(|c| c.name == "url").map(|c| (c, c.text.trim())) {
                Some((url_el, u)) if !u.is_empty() => {
                    url = Some(u.to_string());
                    let href = match join_href(&self.base_dir, &[], u) {
                        Ok(href) => Some(href),
                        Err(JoinError::OutsidePackage) => {
                            self.r.error(
                                "path-outside-package",
                                url_el,
                                format!("The AU url \"{u}\" points outside the package folder."),
                            );
                            None
                        }
                    };
                    if let Some(href) = &href {
                        self.launch_checks.push((href.clone(), self.r.doc.loc(url_el), format!("AU \"{identifier}\"")));
                    }
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
                _ => self.r.error(
                    "missing-launch-url",
                    element,
                    format!("The AU \"{identifier}\" has no <url>, so there is nothing to launch (cmi5 §13.1)."),
                ),
            }
        }
        Item {
            identifier: identifier.clone(),
            title,
            resource_ref,
            parameters: parameters.clone(),
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
}
