//! xAPI (TinCan) packages described by `tincan.xml`.
//!
//! The course activity (type `…/activities/course`, else the first activity) names the
//! package; every activity with a `<launch>` becomes a launchable item with a resource of
//! its own.

use std::collections::HashMap;

use crate::context::Ctx;
use crate::model::*;
use crate::paths::{join_href, JoinError};
use crate::sequencing::SequencingCollection;
use crate::values::Reporter;
use crate::xml::Element;

fn localized(element: &Element, name: &str) -> Option<String> {
    let texts: Vec<(&str, &str)> = element
        .children
        .iter()
        .filter(|c| c.name == name)
        .map(|c| (c.attr_ns(crate::xml::Ns::Xml, "lang").or(c.attr("lang")).unwrap_or(""), c.text.trim()))
        .collect();
    texts
        .iter()
        .find(|(lang, _)| lang.to_ascii_lowercase().starts_with("en"))
        .or(texts.first())
        .map(|(_, t)| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
}

pub(crate) fn parse_xapi(ctx: &mut Ctx<'_>, path: &str, base_dir: &str) -> Option<Package> {
    let doc = ctx.read_xml(path)?;
    let mut diagnostics = std::mem::take(&mut ctx.diagnostics);
    let mut checks: Vec<(String, Location, String)> = Vec::new();
    let package = (|| {
        let root = doc.root.as_ref()?;
        let mut r = Reporter { doc: &doc, diagnostics: &mut diagnostics };
        if root.name != "tincan" {
            r.error(
                "not-a-tincan-file",
                root,
                format!("The root element is <{}>, but a tincan.xml must start with <tincan>.", root.name),
            );
            return None;
        }
        let activities: Vec<&Element> = root
            .children
            .iter()
            .filter(|c| c.name == "activities")
            .flat_map(|a| a.children.iter().filter(|c| c.name == "activity"))
            .collect();
        let course = activities
            .iter()
            .find(|a| a.attr("type").is_some_and(|t| t.trim().ends_with("/activities/course")))
            .or(activities.first())
            .copied();
        let Some(course) = course else {
            r.error("no-launchable-item", root, "The tincan.xml lists no <activity>.".to_string());
            return None;
        };
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut items = Vec::new();
        let mut resources = Vec::new();
        for activity in &activities {
            let id = activity.attr("id").map(str::trim).unwrap_or("").to_string();
            if id.is_empty() {
                r.error("missing-identifier", activity, "This <activity> has no `id` IRI.".to_string());
            } else if let Some(first) = ids.get(&id) {
                r.error(
                    "duplicate-identifier",
                    activity,
                    format!("The activity id \"{id}\" is used twice (first on line {first})."),
                );
            } else {
                ids.insert(id.clone(), doc.loc(activity).line);
            }
            let Some(launch_el) = activity.children.iter().find(|c| c.name == "launch") else { continue };
            let raw = launch_el.text.trim();
            if raw.is_empty() {
                r.error("missing-launch-url", launch_el, format!("The <launch> of activity \"{id}\" is empty."));
                continue;
            }
            let href = match join_href(base_dir, &[], raw) {
                Ok(h) => Some(h),
                Err(JoinError::OutsidePackage) => {
                    r.error("path-outside-package", launch_el, format!("The launch \"{raw}\" points outside the package folder."));
                    None
                }
            };
            if let Some(h) = &href {
                checks.push((h.clone(), doc.loc(launch_el), format!("activity \"{id}\"")));
            }
            let title = localized(activity, "name").unwrap_or_else(|| id.clone());
            resources.push(Resource {
                identifier: id.clone(),
                scorm_type: None,
                href,
                files: Vec::new(),
                dependencies: Vec::new(),
                location: doc.loc(launch_el),
            });
            items.push(Item {
                identifier: id.clone(),
                title,
                resource_ref: Some(id),
                parameters: None,
                visible: true,
                children: Vec::new(),
                launch: LaunchData::default(),
                sequencing: None,
                hide_lms_ui: Vec::new(),
                data_maps: Vec::new(),
                prerequisites: None,
                cmi5: None,
                location: doc.loc(activity),
            });
        }
        if items.is_empty() {
            r.error("no-launchable-item", root, "No <activity> in tincan.xml has a <launch>, so there is nothing to start.".to_string());
        }
        let identifier = course.attr("id").map(str::trim).unwrap_or("").to_string();
        let title = localized(course, "name").unwrap_or_else(|| {
            r.warning("missing-title", course, "The course activity has no <name>; learners will see its id instead.".to_string());
            identifier.clone()
        });
        Some(Package {
            standard: Standard::Xapi,
            edition: None,
            identifier: identifier.clone(),
            title: title.clone(),
            schema_version: None,
            manifest_path: path.to_string(),
            default_organization: Some(identifier.clone()),
            organizations: vec![Organization {
                identifier,
                title,
                items,
                objectives_global_to_system: true,
                shared_data_global_to_system: true,
                sequencing: None,
                objectives: Vec::new(),
            }],
            resources,
            sequencing_collection: SequencingCollection::default(),
        })
    })();
    ctx.diagnostics = diagnostics;
    for (href, location, whose) in checks {
        ctx.check_file(&href, &location, true, &whose);
    }
    package
}
