//! SCORM 1.2 and SCORM 2004 (`imsmanifest.xml`).

use std::collections::{HashMap, HashSet};

use crate::context::Ctx;
use crate::diagnostic::Severity;
use crate::model::*;
use crate::paths::{join_href, JoinError};
use crate::seqparse::parse_sequencing;
use crate::sequencing::{Sequencing, SequencingCollection};
use crate::values::Reporter;
use crate::xml::{Document, Element, Ns};

const W: Severity = Severity::Warning;
const E: Severity = Severity::Error;

/// A file reference to check once the model is built.
struct PlannedCheck {
    href: String,
    location: Location,
    launch: bool,
    whose: String,
}

struct State<'d> {
    is_12: bool,
    /// Organization and item identifiers → line of first use.
    ids: HashMap<String, u32>,
    r: Reporter<'d>,
}

impl State<'_> {
    /// The `identifier` attribute, reporting `missing-identifier` and `duplicate-identifier`.
    fn identifier(&mut self, element: &Element, what: &str, ids: Option<&mut HashMap<String, u32>>) -> String {
        let id = element.attr("identifier").map(str::trim).unwrap_or("");
        if id.is_empty() {
            self.r.error(
                "missing-identifier",
                element,
                format!("This {what} has no `identifier`; every {what} needs a unique one."),
            );
            return String::new();
        }
        let line = self.r.doc.loc(element).line;
        let ids = match ids {
            Some(ids) => ids,
            None => &mut self.ids,
        };
        if let Some(first) = ids.get(id) {
            let message = format!("The identifier \"{id}\" is used twice (first on line {first}); identifiers must be unique.");
            self.r.error("duplicate-identifier", element, message);
        } else {
            ids.insert(id.to_string(), line);
        }
        id.to_string()
    }

    fn title(&mut self, element: &Element, what: &str, id: &str) -> String {
        match element.child(Ns::Cp, "title").map(|t| t.text_trimmed()) {
            Some(t) if !t.is_empty() => t.to_string(),
            _ => {
                self.r.warning(
                    "missing-title",
                    element,
                    format!("The {what} \"{id}\" has no <title>; learners will see its identifier instead."),
                );
                id.to_string()
            }
        }
    }
}

fn adlcp_text<'e>(element: &'e Element, name: &str) -> Option<&'e Element> {
    element.child_ci(Ns::Adlcp, name)
}

fn uses_fourth_edition_features(element: &Element) -> bool {
    element.is(Ns::Adlcp, "data")
        || element.is(Ns::Adlseq, "objectives")
        || element.attr_ns(Ns::Adlcp, "sharedDataGlobalToSystem").is_some()
        || element.children.iter().any(uses_fourth_edition_features)
}

fn normalize_version(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

pub(crate) fn parse_scorm(ctx: &mut Ctx<'_>, manifest_path: &str, base_dir: &str) -> Option<Package> {
    let doc = ctx.read_xml(manifest_path)?;
    let mut diagnostics = std::mem::take(&mut ctx.diagnostics);
    let mut checks = Vec::new();
    let package = build(&doc, manifest_path, base_dir, &mut diagnostics, &mut checks);
    ctx.diagnostics = diagnostics;
    let mut reported = HashSet::new();
    for check in checks.iter().filter(|c| c.launch) {
        if reported.insert(check.href.clone()) {
            ctx.check_file(&check.href, &check.location, true, &check.whose);
        }
    }
    for check in checks.iter().filter(|c| !c.launch) {
        if reported.insert(check.href.clone()) {
            ctx.check_file(&check.href, &check.location, false, &check.whose);
        }
    }
    package
}

fn build(
    doc: &Document,
    manifest_path: &str,
    base_dir: &str,
    diagnostics: &mut Vec<crate::Diagnostic>,
    checks: &mut Vec<PlannedCheck>,
) -> Option<Package> {
    let root = doc.root.as_ref()?;
    let mut r = Reporter { doc, diagnostics };
    if !root.is(Ns::Cp, "manifest") {
        r.error(
            "not-a-manifest",
            root,
            format!("The root element is <{}>, but an imsmanifest.xml must start with <manifest>.", root.name),
        );
        return None;
    }

    // Which SCORM, and which edition.
    let schema_version_el = root.child(Ns::Cp, "metadata").and_then(|m| m.child(Ns::Cp, "schemaversion"));
    let schema_version = schema_version_el.map(|e| e.text_trimmed().to_string());
    let hints_12 = doc.text.contains("imscp_rootv1p1p2") || doc.text.contains("adlcp_rootv1p2");
    let hints_2004 = doc.text.contains("imscp_v1p1")
        || doc.text.contains("adlcp_v1p3")
        || doc.text.contains("imsglobal.org/xsd/imsss")
        || doc.text.contains("adlseq_v1p3");
    let guessed_edition = if uses_fourth_edition_features(root) { Scorm2004Edition::Fourth } else { Scorm2004Edition::Second };
    let guess = || if hints_2004 && !hints_12 { (Standard::Scorm2004, Some(guessed_edition)) } else { (Standard::Scorm12, None) };
    let describe = |standard: Standard, edition: Option<Scorm2004Edition>| match (standard, edition) {
        (Standard::Scorm2004, Some(Scorm2004Edition::Fourth)) => "SCORM 2004 4th Edition",
        (Standard::Scorm2004, Some(Scorm2004Edition::Third)) => "SCORM 2004 3rd Edition",
        (Standard::Scorm2004, _) => "SCORM 2004 2nd Edition",
        _ => "SCORM 1.2",
    };
    let (standard, edition) = match schema_version.as_deref().map(normalize_version).as_deref() {
        Some("1.2") => (Standard::Scorm12, None),
        Some("cam 1.3") | Some("2004 2nd edition") => (Standard::Scorm2004, Some(Scorm2004Edition::Second)),
        Some("2004 3rd edition") => (Standard::Scorm2004, Some(Scorm2004Edition::Third)),
        Some("2004 4th edition") => (Standard::Scorm2004, Some(Scorm2004Edition::Fourth)),
        Some(other) => {
            let (standard, edition) = if other.contains("2004") {
                (Standard::Scorm2004, Some(Scorm2004Edition::Fourth))
            } else {
                guess()
            };
            let element = schema_version_el.unwrap_or(root);
            r.warning(
                "unknown-schema-version",
                element,
                format!(
                    "The schema version \"{}\" is not one SCORM defines (1.2, CAM 1.3, 2004 3rd Edition, 2004 4th Edition); the package is read as {} from its namespaces.",
                    schema_version.as_deref().unwrap_or(other),
                    describe(standard, edition)
                ),
            );
            (standard, edition)
        }
        None => {
            let (standard, edition) = guess();
            r.warning(
                "missing-schema-version",
                root,
                format!(
                    "The manifest has no <metadata><schemaversion>; it is read as {} from its namespaces.",
                    describe(standard, edition)
                ),
            );
            (standard, edition)
        }
    };
    let mut st = State { is_12: standard == Standard::Scorm12, ids: HashMap::new(), r };

    let identifier = {
        let mut own = HashMap::new();
        st.identifier(root, "manifest", Some(&mut own))
    };
    for sub in root.children_named(Ns::Cp, "manifest") {
        st.r.warning(
            "sub-manifest-ignored",
            sub,
            "Nested <manifest> elements (sub-manifests) are not supported; this one is ignored.".to_string(),
        );
    }

    // Resources first, so items can be checked against them.
    let manifest_base = root.attr_ns(Ns::Xml, "base").unwrap_or("");
    let mut resources = Vec::new();
    let mut resource_ids = HashMap::new();
    let mut rejected_hrefs: HashSet<String> = HashSet::new();
    match root.child(Ns::Cp, "resources") {
        None => st.r.error("missing-element", root, "The manifest has no <resources> element.".to_string()),
        Some(resources_el) => {
            let resources_base = resources_el.attr_ns(Ns::Xml, "base").unwrap_or("");
            for res_el in resources_el.children_named(Ns::Cp, "resource") {
                let id = st.identifier(res_el, "resource", Some(&mut resource_ids));
                let location = st.r.doc.loc(res_el);
                let scorm_type = match res_el.attr_ns_ci(Ns::Adlcp, "scormType") {
                    Some(t) if t.trim().eq_ignore_ascii_case("sco") => Some(ScormType::Sco),
                    Some(t) if t.trim().eq_ignore_ascii_case("asset") => Some(ScormType::Asset),
                    Some(t) => {
                        st.r.warning(
                            "invalid-value",
                            res_el,
                            format!("The resource \"{id}\" has scormType \"{t}\"; only `sco` and `asset` exist, so it is treated as an asset."),
                        );
                        Some(ScormType::Asset)
                    }
                    None => {
                        st.r.warning(
                            "missing-scorm-type",
                            res_el,
                            format!("The resource \"{id}\" has no adlcp:scormType; it is launched as an asset, without run-time tracking."),
                        );
                        None
                    }
                };
                let resource_base = res_el.attr_ns(Ns::Xml, "base").unwrap_or("");
                let bases = [manifest_base, resources_base, resource_base];
                let join = |element: &Element, href: &str, st: &mut State<'_>| match join_href(base_dir, &bases, href) {
                    Ok(joined) => Some(joined),
                    Err(JoinError::OutsidePackage) => {
                        st.r.error(
                            "path-outside-package",
                            element,
                            format!("The reference \"{href}\" points outside the package folder."),
                        );
                        None
                    }
                };
                let href = match res_el.attr("href").map(str::trim) {
                    Some(h) if !h.is_empty() => {
                        let joined = join(res_el, h, &mut st);
                        if joined.is_none() {
                            rejected_hrefs.insert(id.clone());
                        }
                        joined
                    }
                    _ => None,
                };
                let mut files = Vec::new();
                for file_el in res_el.children_named(Ns::Cp, "file") {
                    match file_el.attr("href").map(str::trim) {
                        Some(h) if !h.is_empty() => {
                            if let Some(joined) = join(file_el, h, &mut st) {
                                checks.push(PlannedCheck {
                                    href: joined.clone(),
                                    location: st.r.doc.loc(file_el),
                                    launch: false,
                                    whose: format!("resource \"{id}\""),
                                });
                                files.push(joined);
                            }
                        }
                        _ => st.r.warning("missing-attribute", file_el, "This <file> has no `href`.".to_string()),
                    }
                }
                let dependencies = res_el
                    .children_named(Ns::Cp, "dependency")
                    .filter_map(|d| d.attr("identifierref").map(|s| s.trim().to_string()))
                    .collect();
                resources.push(Resource { identifier: id, scorm_type, href, files, dependencies, location });
            }
        }
    }

    // The sequencing collection.
    let mut collection = SequencingCollection::default();
    let mut collection_ids = HashMap::new();
    for collection_el in root.children_named(Ns::Imsss, "sequencingCollection") {
        for seq_el in collection_el.children_named(Ns::Imsss, "sequencing") {
            let seq = parse_sequencing(seq_el, &mut st.r);
            match seq.id.as_deref() {
                None => st.r.error(
                    "missing-identifier",
                    seq_el,
                    "A <sequencing> in the <sequencingCollection> has no `ID`, so no item can refer to it.".to_string(),
                ),
                Some(id) => {
                    if let Some(first) = collection_ids.insert(id.to_string(), seq.location.line) {
                        st.r.error(
                            "duplicate-identifier",
                            seq_el,
                            format!("The sequencing ID \"{id}\" is used twice (first on line {first})."),
                        );
                    }
                }
            }
            collection.entries.push(seq);
        }
    }

    // Organizations and their items.
    let mut organizations = Vec::new();
    let mut default_organization = None;
    let orgs_el = root.child(Ns::Cp, "organizations");
    match orgs_el {
        None => st.r.error("missing-element", root, "The manifest has no <organizations> element.".to_string()),
        Some(orgs_el) => {
            for org_el in orgs_el.children_named(Ns::Cp, "organization") {
                let id = st.identifier(org_el, "organization", None);
                let title = st.title(org_el, "organization", &id);
                let items = org_el.children_named(Ns::Cp, "item").map(|i| parse_item(i, &mut st)).collect();
                let objectives_global_to_system =
                    st.r.boolean(org_el, Ns::Adlseq, "objectivesGlobalToSystem", true, E);
                let shared_data_global_to_system =
                    st.r.boolean(org_el, Ns::Adlcp, "sharedDataGlobalToSystem", true, E);
                let sequencing = if st.is_12 {
                    None
                } else {
                    org_el.child(Ns::Imsss, "sequencing").map(|s| parse_sequencing(s, &mut st.r))
                };
                organizations.push(Organization {
                    identifier: id,
                    title,
                    items,
                    objectives_global_to_system,
                    shared_data_global_to_system,
                    sequencing,
                    objectives: Vec::new(),
                });
            }
            match orgs_el.attr("default").map(str::trim).filter(|d| !d.is_empty()) {
                Some(default) => {
                    if organizations.iter().any(|o| o.identifier == default) {
                        default_organization = Some(default.to_string());
                    } else {
                        st.r.error(
                            "unknown-default-organization",
                            orgs_el,
                            format!("The default organization \"{default}\" does not exist; the <organization> identifiers are: {}.", quoted_list(organizations.iter().map(|o| o.identifier.as_str()))),
                        );
                    }
                }
                None => default_organization = organizations.first().map(|o| o.identifier.clone()),
            }
        }
    }

    // Links between items, resources and the sequencing collection.
    let resource_by_id: HashMap<&str, &Resource> = resources.iter().map(|r| (r.identifier.as_str(), r)).collect();
    let mut launched: HashSet<String> = HashSet::new();
    let mut launchable_in_default = 0usize;
    for org in &organizations {
        if let Some(seq) = &org.sequencing {
            check_sequencing_ref(seq, &collection, &mut st.r, orgs_el.unwrap_or(root));
        }
        let is_default = default_organization.as_deref().is_none_or(|d| d == org.identifier);
        let mut count = 0;
        let links = Links { resources: &resource_by_id, collection: &collection, rejected_hrefs: &rejected_hrefs };
        link_items(&org.items, &links, &mut st, checks, &mut launched, &mut count);
        if is_default {
            launchable_in_default += count;
        }
    }
    for resource in &resources {
        for dep in &resource.dependencies {
            if !resource_by_id.contains_key(dep.as_str()) {
                let message = format!(
                    "The resource \"{}\" depends on \"{dep}\", which the manifest does not define.",
                    resource.identifier
                );
                st.r.diagnostics.push(crate::Diagnostic::warning("missing-dependency", resource.location.clone(), message));
            }
        }
        if let Some(href) = &resource.href
            && !launched.contains(&resource.identifier) {
                checks.push(PlannedCheck {
                    href: href.clone(),
                    location: resource.location.clone(),
                    launch: false,
                    whose: format!("resource \"{}\"", resource.identifier),
                });
            }
    }
    if launchable_in_default == 0 && orgs_el.is_some() {
        let element = orgs_el.unwrap_or(root);
        st.r.error(
            "no-launchable-item",
            element,
            "No item of the default organization can be launched: none refers to a resource with an `href`.".to_string(),
        );
    }

    let title = default_organization
        .as_deref()
        .and_then(|d| organizations.iter().find(|o| o.identifier == d))
        .or(organizations.first())
        .map(|o| o.title.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| identifier.clone());
    Some(Package {
        standard,
        edition,
        identifier,
        title,
        schema_version,
        manifest_path: manifest_path.to_string(),
        default_organization,
        organizations,
        resources,
        sequencing_collection: collection,
    })
}

fn quoted_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<String> = items.map(|i| format!("\"{i}\"")).collect();
    if list.is_empty() { "none".to_string() } else { list.join(", ") }
}

fn check_sequencing_ref(seq: &Sequencing, collection: &SequencingCollection, r: &mut Reporter<'_>, _near: &Element) {
    if let Some(id_ref) = &seq.id_ref
        && collection.get(id_ref).is_none() {
            let message = format!(
                "This <sequencing> refers to IDRef \"{id_ref}\", which is not in the <sequencingCollection>."
            );
            r.diagnostics.push(crate::Diagnostic::error("unknown-sequencing-reference", seq.location.clone(), message));
        }
}

struct Links<'a> {
    resources: &'a HashMap<&'a str, &'a Resource>,
    collection: &'a SequencingCollection,
    /// Resources whose `href` was refused (already reported).
    rejected_hrefs: &'a HashSet<String>,
}

fn link_items(
    items: &[Item],
    links: &Links<'_>,
    st: &mut State<'_>,
    checks: &mut Vec<PlannedCheck>,
    launched: &mut HashSet<String>,
    launchable: &mut usize,
) {
    for item in items {
        if let Some(seq) = &item.sequencing
            && let Some(root) = st.r.doc.root.as_ref() {
                check_sequencing_ref(seq, links.collection, &mut st.r, root);
            }
        match &item.resource_ref {
            Some(rid) => match links.resources.get(rid.as_str()) {
                None => {
                    let message = format!(
                        "The item \"{}\" refers to the resource \"{rid}\", which the manifest does not define.",
                        item.identifier
                    );
                    st.r.diagnostics.push(crate::Diagnostic::error("missing-resource", item.location.clone(), message));
                }
                Some(resource) => match &resource.href {
                    Some(href) => {
                        *launchable += 1;
                        launched.insert(resource.identifier.clone());
                        checks.push(PlannedCheck {
                            href: href.clone(),
                            location: resource.location.clone(),
                            launch: true,
                            whose: format!("item \"{}\"", item.identifier),
                        });
                    }
                    None if links.rejected_hrefs.contains(rid) => {}
                    None => {
                        let message = format!(
                            "The item \"{}\" launches the resource \"{rid}\", which has no `href`, so there is nothing to start.",
                            item.identifier
                        );
                        st.r.diagnostics.push(crate::Diagnostic::error("missing-launch-url", resource.location.clone(), message));
                    }
                },
            },
            None if item.children.is_empty() => {
                let message = format!(
                    "The item \"{}\" has no children and no `identifierref`: there is nothing for learners to open.",
                    item.identifier
                );
                st.r.diagnostics.push(crate::Diagnostic::warning("empty-item", item.location.clone(), message));
            }
            None => {}
        }
        link_items(&item.children, links, st, checks, launched, launchable);
    }
}

fn parse_item(element: &Element, st: &mut State<'_>) -> Item {
    let identifier = st.identifier(element, "item", None);
    let title = st.title(element, "item", &identifier);
    let resource_ref = element.attr("identifierref").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let parameters = element.attr("parameters").filter(|s| !s.trim().is_empty()).map(str::to_string);
    let visible = st.r.boolean(element, Ns::None, "isvisible", true, W);
    let children = element.children_named(Ns::Cp, "item").map(|i| parse_item(i, st)).collect();

    let mut launch = LaunchData::default();
    if let Some(el) = adlcp_text(element, "masteryscore") {
        launch.mastery_score = st.r.decimal_text(el, "The mastery score", &el.text, (0.0, 100.0), W);
    }
    launch.data_from_lms = adlcp_text(element, "dataFromLMS").map(|e| e.text_trimmed().to_string());
    launch.max_time_allowed =
        adlcp_text(element, "maxTimeAllowed").map(|e| e.text_trimmed().to_string()).filter(|s| !s.is_empty());
    if let Some(el) = adlcp_text(element, "timeLimitAction") {
        let raw = el.text_trimmed();
        launch.time_limit_action = TimeLimitAction::parse(raw);
        if launch.time_limit_action.is_none() {
            st.r.warning(
                "invalid-value",
                el,
                format!("The time limit action \"{raw}\" is not one of `exit,message`, `exit,no message`, `continue,message`, `continue,no message`; it is ignored."),
            );
        }
    }
    if let Some(el) = adlcp_text(element, "completionThreshold") {
        let mut threshold = CompletionThreshold::default();
        let text = el.text_trimmed();
        if !text.is_empty()
            && let Some(v) = st.r.decimal_text(el, "The completion threshold", text, (0.0, 1.0), E) {
                threshold.completed_by_measure = true;
                threshold.min_progress_measure = v;
            }
        if el.attr("completedByMeasure").is_some() {
            threshold.completed_by_measure = st.r.boolean(el, Ns::None, "completedByMeasure", false, E);
        }
        threshold.min_progress_measure =
            st.r.decimal(el, Ns::None, "minProgressMeasure", threshold.min_progress_measure, (0.0, 1.0), E);
        threshold.progress_weight = st.r.decimal(el, Ns::None, "progressWeight", 1.0, (0.0, 1.0), E);
        launch.completion_threshold = Some(threshold);
    }
    let prerequisites =
        adlcp_text(element, "prerequisites").map(|e| e.text_trimmed().to_string()).filter(|s| !s.is_empty());

    let sequencing = if st.is_12 {
        None
    } else {
        element.child(Ns::Imsss, "sequencing").map(|s| parse_sequencing(s, &mut st.r))
    };
    let mut hide_lms_ui = Vec::new();
    for presentation in element.children_named(Ns::Adlnav, "presentation") {
        for nav in presentation.children_named(Ns::Adlnav, "navigationInterface") {
            for hide in nav.children_named(Ns::Adlnav, "hideLMSUI") {
                let raw = hide.text_trimmed();
                match HideLmsUi::parse(raw) {
                    Some(h) if !hide_lms_ui.contains(&h) => hide_lms_ui.push(h),
                    Some(_) => {}
                    None => st.r.warning(
                        "invalid-value",
                        hide,
                        format!("\"{raw}\" is not a player control that can be hidden (previous, continue, exit, exitAll, abandon, abandonAll, suspendAll); it is ignored."),
                    ),
                }
            }
        }
    }
    let mut data_maps = Vec::new();
    for data in element.children_named(Ns::Adlcp, "data") {
        for map in data.children_named(Ns::Adlcp, "map") {
            let Some(target_id) = st.r.required(map, Ns::None, "targetID", "a shared data map") else { continue };
            data_maps.push(DataMap {
                target_id,
                read_shared_data: st.r.boolean(map, Ns::None, "readSharedData", true, E),
                write_shared_data: st.r.boolean(map, Ns::None, "writeSharedData", false, E),
            });
        }
    }
    Item {
        identifier,
        title,
        resource_ref,
        parameters,
        visible,
        children,
        launch,
        sequencing,
        hide_lms_ui,
        data_maps,
        prerequisites,
        cmi5: None,
        location: st.r.doc.loc(element),
    }
}
