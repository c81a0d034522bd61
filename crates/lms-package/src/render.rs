//! A human-readable dump of a [`Package`] (the text output of `lms package inspect`).

use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;

use crate::model::*;

/// Renders the package as an indented tree: organizations with their items (and everything
/// set on them), resources with their files, and the sequencing collection. Values left at
/// their absent/empty state are not shown.
pub fn render_tree(package: &Package) -> String {
    let mut out = String::new();
    let standard = match (package.standard, package.edition) {
        (Standard::Scorm12, _) => "SCORM 1.2".to_string(),
        (Standard::Scorm2004, Some(Scorm2004Edition::Second)) => "SCORM 2004 2nd Edition".to_string(),
        (Standard::Scorm2004, Some(Scorm2004Edition::Third)) => "SCORM 2004 3rd Edition".to_string(),
        (Standard::Scorm2004, Some(Scorm2004Edition::Fourth)) => "SCORM 2004 4th Edition".to_string(),
        (Standard::Scorm2004, None) => "SCORM 2004".to_string(),
        (Standard::Cmi5, _) => "cmi5".to_string(),
        (Standard::Xapi, _) => "xAPI (TinCan)".to_string(),
        (Standard::Aicc, _) => "AICC".to_string(),
    };
    let _ = writeln!(out, "{standard} package \"{}\"", package.title);
    let _ = writeln!(out, "  identifier: {}", package.identifier);
    let _ = writeln!(out, "  structure file: {}", package.manifest_path);
    if let Some(v) = &package.schema_version {
        let _ = writeln!(out, "  schema version: {v}");
    }
    match &package.default_organization {
        Some(d) => {
            let _ = writeln!(out, "  default organization: {d}");
        }
        None => {
            let _ = writeln!(out, "  default organization: (none)");
        }
    }
    for org in &package.organizations {
        let _ = write!(out, "organization {} \"{}\"", org.identifier, org.title);
        if !org.objectives_global_to_system {
            out.push_str(" objectivesGlobalToSystem=false");
        }
        if !org.shared_data_global_to_system {
            out.push_str(" sharedDataGlobalToSystem=false");
        }
        out.push('\n');
        if !org.objectives.is_empty() {
            let _ = writeln!(out, "  objectives: {}", org.objectives.join(", "));
        }
        if let Some(seq) = &org.sequencing {
            write_serialized(&mut out, 2, "sequencing", seq);
        }
        for item in &org.items {
            render_item(&mut out, 1, item, package);
        }
    }
    if !package.resources.is_empty() {
        out.push_str("resources\n");
    }
    for resource in &package.resources {
        let kind = match resource.scorm_type {
            Some(ScormType::Sco) => " sco",
            Some(ScormType::Asset) => " asset",
            None => "",
        };
        let _ = write!(out, "  resource {}{kind}", resource.identifier);
        if let Some(href) = &resource.href {
            let _ = write!(out, " href={href}");
        }
        out.push('\n');
        for file in &resource.files {
            let _ = writeln!(out, "    file {file}");
        }
        for dep in &resource.dependencies {
            let _ = writeln!(out, "    depends on {dep}");
        }
    }
    if !package.sequencing_collection.entries.is_empty() {
        out.push_str("sequencing collection\n");
        for seq in &package.sequencing_collection.entries {
            write_serialized(&mut out, 2, &format!("sequencing {}", seq.id.as_deref().unwrap_or("(no ID)")), seq);
        }
    }
    out
}

fn render_item(out: &mut String, depth: usize, item: &Item, package: &Package) {
    let pad = "  ".repeat(depth);
    let _ = write!(out, "{pad}item {} \"{}\"", item.identifier, item.title);
    if let Some(rid) = &item.resource_ref {
        match package.launch_url(item) {
            Some(url) => {
                let _ = write!(out, " -> {rid} ({url})");
            }
            None => {
                let _ = write!(out, " -> {rid}");
            }
        }
    }
    if !item.visible {
        out.push_str(" hidden");
    }
    out.push('\n');
    let inner = depth * 2 + 2;
    let inner_pad = " ".repeat(inner);
    if let Some(p) = &item.parameters
        && (item.resource_ref.is_none() || package.standard == Standard::Cmi5) {
            let _ = writeln!(out, "{inner_pad}parameters: {p}");
        }
    if let Some(p) = &item.prerequisites {
        let _ = writeln!(out, "{inner_pad}prerequisites: {p}");
    }
    if item.launch != LaunchData::default() {
        write_serialized(out, inner, "launch", &item.launch);
    }
    if !item.hide_lms_ui.is_empty() {
        let names: Vec<&str> = item.hide_lms_ui.iter().map(|h| h.as_str()).collect();
        let _ = writeln!(out, "{inner_pad}hideLMSUI: {}", names.join(", "));
    }
    for map in &item.data_maps {
        let _ = writeln!(
            out,
            "{inner_pad}shared data {} read={} write={}",
            map.target_id, map.read_shared_data, map.write_shared_data
        );
    }
    if let Some(cmi5) = &item.cmi5 {
        write_serialized(out, inner, "cmi5", cmi5);
    }
    if let Some(seq) = &item.sequencing {
        write_serialized(out, inner, "sequencing", seq);
    }
    for child in &item.children {
        render_item(out, depth + 1, child, package);
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.iter().all(|(k, v)| k == "location" || is_empty(v)),
        _ => false,
    }
}

/// Writes any serializable value as indented `key: value` lines, skipping `location`,
/// nulls and empty lists.
fn write_serialized(out: &mut String, indent: usize, key: &str, value: &impl Serialize) {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    write_value(out, indent, key, &value);
}

fn write_value(out: &mut String, indent: usize, key: &str, value: &Value) {
    let pad = " ".repeat(indent);
    let label = if key == "-" { "-".to_string() } else { format!("{key}:") };
    match value {
        Value::Null => {}
        Value::Array(items) if items.is_empty() => {}
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let list: Vec<String> = items.iter().map(scalar).collect();
            let _ = writeln!(out, "{pad}{label} [{}]", list.join(", "));
        }
        Value::Array(items) => {
            let _ = writeln!(out, "{pad}{label}");
            for item in items {
                write_value(out, indent + 2, "-", item);
            }
        }
        Value::Object(fields) => {
            let shown: Vec<(&String, &Value)> =
                fields.iter().filter(|(k, v)| *k != "location" && (v.is_object() || !is_empty(v))).collect();
            if shown.iter().all(|(_, v)| !v.is_object() && !v.is_array()) {
                // All scalars: one line.
                let inline: Vec<String> = shown.iter().map(|(k, v)| format!("{k}={}", scalar(v))).collect();
                let inline = if inline.is_empty() { "(empty)".to_string() } else { inline.join(" ") };
                let _ = writeln!(out, "{pad}{label} {inline}");
                return;
            }
            let _ = writeln!(out, "{pad}{label}");
            for (k, v) in shown {
                write_value(out, indent + 2, k, v);
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{label} {}", scalar(other));
        }
    }
}
