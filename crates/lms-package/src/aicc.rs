//! AICC course structure files (CMI001 "level 1–3"): `.crs` (course), `.au` (assignable
//! units), `.des` (titles), `.cst` (structure), `.pre` (prerequisites), `.ort` (objectives).
//!
//! Blocks become clusters and AUs launchable items, each AU with a resource of its own
//! (identifier = `system_id`, href = `file_name`, parameters = `web_launch`). Column names are
//! matched case-insensitively and in any order, as real files vary.

use std::collections::{HashMap, HashSet};

use crate::context::Ctx;
use crate::diagnostic::Diagnostic;
use crate::model::*;
use crate::paths::{join_href, JoinError};
use crate::sequencing::SequencingCollection;
use crate::values::parse_decimal;

/// One CSV row with the line it starts on.
#[derive(Debug)]
struct Row {
    line: u32,
    fields: Vec<String>,
}

/// Parses comma-separated values: quoted fields may hold commas, doubled quotes and line
/// breaks. Blank lines are skipped.
fn parse_csv(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1u32;
    let mut row_line = 1u32;
    let mut chars = text.chars().peekable();
    let mut row_has_content = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                row_has_content = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field).trim().to_string());
                row_has_content = true;
            }
            '\r' => {}
            '\n' => {
                if row_has_content || !field.trim().is_empty() {
                    fields.push(std::mem::take(&mut field).trim().to_string());
                    rows.push(Row { line: row_line, fields: std::mem::take(&mut fields) });
                }
                field.clear();
                row_has_content = false;
                line += 1;
                row_line = line;
            }
            _ => {
                if !c.is_whitespace() {
                    row_has_content = true;
                }
                field.push(c);
            }
        }
    }
    if row_has_content || !field.trim().is_empty() {
        fields.push(field.trim().to_string());
        rows.push(Row { line: row_line, fields });
    }
    rows
}

/// A CSV file with a header row, read by column name.
struct Table {
    file: String,
    header: Vec<String>,
    rows: Vec<Row>,
}

impl Table {
    fn new(file: &str, text: &str) -> Self {
        let mut rows = parse_csv(text);
        let header = if rows.is_empty() {
            Vec::new()
        } else {
            rows.remove(0).fields.into_iter().map(|h| h.to_ascii_lowercase()).collect()
        };
        Table { file: file.to_string(), header, rows }
    }
    fn column(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.header.iter().position(|h| h == n))
    }
    fn get(row: &Row, column: Option<usize>) -> &str {
        column.and_then(|c| row.fields.get(c)).map(String::as_str).unwrap_or("")
    }
    fn location(&self, line: u32) -> Location {
        Location { file: self.file.clone(), line, column: 1 }
    }
}

/// `[Section]` → key → (value, line); keys lowercased. `[Course_Description]` keeps its text
/// under the key `""`.
fn parse_ini(text: &str) -> HashMap<String, HashMap<String, (String, u32)>> {
    let mut sections: HashMap<String, HashMap<String, (String, u32)>> = HashMap::new();
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let number = i as u32 + 1;
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_ascii_lowercase();
            sections.entry(current.clone()).or_default();
            continue;
        }
        if current == "course_description" {
            let entry = sections.entry(current.clone()).or_default().entry(String::new()).or_insert((String::new(), number));
            if !line.is_empty() {
                if !entry.0.is_empty() {
                    entry.0.push(' ');
                }
                entry.0.push_str(line);
            }
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            sections
                .entry(current.clone())
                .or_default()
                .insert(key.trim().to_ascii_lowercase(), (value.trim().to_string(), number));
        }
    }
    sections
}

fn time_limit_action(raw: &str) -> Option<TimeLimitAction> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    match code.as_str() {
        "E,M" => Some(TimeLimitAction::ExitMessage),
        "E,N" => Some(TimeLimitAction::ExitNoMessage),
        "C,M" => Some(TimeLimitAction::ContinueMessage),
        "C,N" => Some(TimeLimitAction::ContinueNoMessage),
        _ => TimeLimitAction::parse(raw),
    }
}

/// Finds the companion file with extension `ext` for the course file `crs`: same folder and
/// name first, else the first such file in the folder.
fn companion(files: &[String], crs: &str, ext: &str) -> Option<String> {
    let (dir, name) = match crs.rfind('/') {
        Some(i) => (&crs[..=i], &crs[i + 1..]),
        None => ("", crs),
    };
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name).to_ascii_lowercase();
    let in_dir: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with(dir) && !f[dir.len()..].contains('/'))
        .filter(|f| f.to_ascii_lowercase().ends_with(&format!(".{ext}")))
        .collect();
    in_dir
        .iter()
        .find(|f| f[dir.len()..].to_ascii_lowercase() == format!("{stem}.{ext}"))
        .or(in_dir.first())
        .map(|f| f.to_string())
}

struct Au {
    id: String,
    line: u32,
}

pub(crate) fn parse_aicc(ctx: &mut Ctx<'_>, crs_path: &str, base_dir: &str) -> Option<Package> {
    let files = ctx.source.files().to_vec();
    // AICC files are plain text: UTF-8 (with or without BOM) or, failing that, Windows-1252
    // as the authoring tools of the time wrote them.
    let read_text = |ctx: &mut Ctx<'_>, path: &str| -> Option<String> {
        let bytes = ctx.read(path)?;
        if encoding_rs::Encoding::for_bom(&bytes).is_some() || std::str::from_utf8(&bytes).is_ok() {
            return Some(crate::xml::decode(&bytes, path, &mut ctx.diagnostics));
        }
        Some(encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes).0.into_owned())
    };
    let crs_text = read_text(ctx, crs_path)?;
    let crs = parse_ini(&crs_text);
    let course = crs.get("course");
    let get = |key: &str| course.and_then(|c| c.get(key)).map(|(v, _)| v.clone()).filter(|v| !v.is_empty());
    let identifier = get("course_id").unwrap_or_default();
    if course.is_none() {
        ctx.diagnostics.push(Diagnostic::error(
            "missing-element",
            Ctx::file_location(crs_path),
            format!("`{crs_path}` has no [Course] section."),
        ));
    } else if identifier.is_empty() {
        ctx.diagnostics.push(Diagnostic::error(
            "missing-identifier",
            Ctx::file_location(crs_path),
            format!("`{crs_path}` has no Course_ID in its [Course] section."),
        ));
    }
    let course_title = get("course_title");

    let load = |ctx: &mut Ctx<'_>, ext: &str, required: bool| -> Option<Table> {
        match companion(&files, crs_path, ext) {
            Some(path) => read_text(ctx, &path).map(|text| Table::new(&path, &text)),
            None => {
                if required {
                    ctx.diagnostics.push(Diagnostic::error(
                        "missing-structure-file",
                        Ctx::file_location(crs_path),
                        format!("The AICC course has no .{ext} file next to `{crs_path}`; it is required."),
                    ));
                }
                None
            }
        }
    };
    let au_table = load(ctx, "au", true);
    let des_table = load(ctx, "des", false);
    let cst_table = load(ctx, "cst", true);
    let pre_table = load(ctx, "pre", false);
    let ort_table = load(ctx, "ort", false);

    // Titles from .des.
    let mut titles: HashMap<String, String> = HashMap::new();
    if let Some(des) = &des_table {
        let id_col = des.column(&["system_id"]).or(Some(0));
        let title_col = des.column(&["title"]);
        for row in &des.rows {
            let id = Table::get(row, id_col).to_ascii_uppercase();
            let title = Table::get(row, title_col);
            if !id.is_empty() && !title.is_empty() {
                titles.insert(id, title.to_string());
            }
        }
    }

    // Prerequisites from .pre: element, then expression; several rows are and-ed.
    let mut prerequisites: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(pre) = &pre_table {
        for row in &pre.rows {
            let element = Table::get(row, Some(0)).to_ascii_uppercase();
            let expression = Table::get(row, Some(1));
            if !element.is_empty() && !expression.is_empty() {
                prerequisites.entry(element).or_default().push(expression.to_string());
            }
        }
    }

    // Objectives from .ort.
    let mut objectives: Vec<String> = Vec::new();
    if let Some(ort) = &ort_table {
        let columns: Vec<usize> = match ort.column(&["objective_id"]) {
            Some(c) => vec![c],
            None => ort.header.iter().enumerate().filter(|(_, h)| *h == "member").map(|(i, _)| i).collect(),
        };
        for row in &ort.rows {
            for &c in &columns {
                let id = Table::get(row, Some(c));
                if !id.is_empty() && !objectives.iter().any(|o| o == id) {
                    objectives.push(id.to_string());
                }
            }
        }
    }

    // AUs.
    let mut resources = Vec::new();
    let mut aus: Vec<Au> = Vec::new();
    let mut au_items: HashMap<String, Item> = HashMap::new();
    let mut launch_checks = Vec::new();
    if let Some(au) = &au_table {
        let col = |names: &[&str]| au.column(names);
        let (id_c, file_c, web_c, mastery_c, time_c, action_c) = (
            col(&["system_id"]).or(Some(0)),
            col(&["file_name"]),
            col(&["web_launch"]),
            col(&["mastery_score"]),
            col(&["max_time_allowed"]),
            col(&["time_limit_action"]),
        );
        if file_c.is_none() {
            ctx.diagnostics.push(Diagnostic::error(
                "missing-element",
                au.location(1),
                format!("`{}` has no `file_name` column, so no AU can be launched.", au.file),
            ));
        }
        for row in &au.rows {
            let location = au.location(row.line);
            let id = Table::get(row, id_c).to_string();
            if id.is_empty() {
                ctx.diagnostics.push(Diagnostic::error("missing-identifier", location, "This AU has no system_id.".to_string()));
                continue;
            }
            let key = id.to_ascii_uppercase();
            if let Some(first) = aus.iter().find(|a| a.id.eq_ignore_ascii_case(&id)) {
                ctx.diagnostics.push(Diagnostic::error(
                    "duplicate-identifier",
                    location,
                    format!("The AU system_id \"{id}\" is used twice (first on line {}).", first.line),
                ));
                continue;
            }
            let mut launch = LaunchData::default();
            let mastery = Table::get(row, mastery_c);
            if !mastery.is_empty() {
                match parse_decimal(mastery) {
                    Some(v) if (0.0..=100.0).contains(&v) => launch.mastery_score = Some(v),
                    _ => ctx.diagnostics.push(Diagnostic::warning(
                        "invalid-value",
                        location.clone(),
                        format!("The mastery_score \"{mastery}\" of AU \"{id}\" is not a number from 0 to 100; it is ignored."),
                    )),
                }
            }
            launch.max_time_allowed = Some(Table::get(row, time_c).to_string()).filter(|s| !s.is_empty());
            let action = Table::get(row, action_c);
            if !action.is_empty() {
                launch.time_limit_action = time_limit_action(action);
                if launch.time_limit_action.is_none() {
                    ctx.diagnostics.push(Diagnostic::warning(
                        "invalid-value",
                        location.clone(),
                        format!("The time_limit_action \"{action}\" of AU \"{id}\" is not one of `E,M`, `E,N`, `C,M`, `C,N`; it is ignored."),
                    ));
                }
            }
            let file_name = Table::get(row, file_c);
            let href = if file_name.is_empty() {
                ctx.diagnostics.push(Diagnostic::error(
                    "missing-launch-url",
                    location.clone(),
                    format!("The AU \"{id}\" has no file_name, so there is nothing to launch."),
                ));
                None
            } else {
                match join_href(base_dir, &[], file_name) {
                    Ok(h) => {
                        launch_checks.push((h.clone(), location.clone(), format!("AU \"{id}\"")));
                        Some(h)
                    }
                    Err(JoinError::OutsidePackage) => {
                        ctx.diagnostics.push(Diagnostic::error(
                            "path-outside-package",
                            location.clone(),
                            format!("The file_name \"{file_name}\" of AU \"{id}\" points outside the package folder."),
                        ));
                        None
                    }
                }
            };
            let parameters = Some(Table::get(row, web_c).to_string()).filter(|s| !s.is_empty());
            resources.push(Resource {
                identifier: id.clone(),
                scorm_type: None,
                href,
                files: Vec::new(),
                dependencies: Vec::new(),
                location: location.clone(),
            });
            au_items.insert(
                key.clone(),
                Item {
                    identifier: id.clone(),
                    title: titles.get(&key).cloned().unwrap_or_else(|| id.clone()),
                    resource_ref: Some(id.clone()),
                    parameters,
                    visible: true,
                    children: Vec::new(),
                    launch,
                    sequencing: None,
                    hide_lms_ui: Vec::new(),
                    data_maps: Vec::new(),
                    prerequisites: prerequisites.get(&key).map(|p| p.join(" & ")),
                    cmi5: None,
                    location,
                },
            );
            aus.push(Au { id, line: row.line });
        }
    }

    // The structure from .cst: block → members.
    let mut blocks: Vec<(String, u32, Vec<String>)> = Vec::new();
    let mut cst_file = String::new();
    if let Some(cst) = &cst_table {
        cst_file = cst.file.clone();
        let mut member_cols: Vec<usize> =
            cst.header.iter().enumerate().filter(|(_, h)| *h == "member").map(|(i, _)| i).collect();
        if member_cols.is_empty() {
            member_cols = vec![1];
        }
        let block_col = cst.column(&["block"]).or(Some(0));
        for row in &cst.rows {
            let block = Table::get(row, block_col).to_ascii_uppercase();
            if block.is_empty() {
                continue;
            }
            let members: Vec<String> = member_cols
                .iter()
                .map(|&c| Table::get(row, Some(c)).to_ascii_uppercase())
                .filter(|m| !m.is_empty())
                .collect();
            match blocks.iter_mut().find(|(b, _, _)| *b == block) {
                Some((_, _, existing)) => existing.extend(members),
                None => blocks.push((block, row.line, members)),
            }
        }
    }
    let mut placed: HashSet<String> = HashSet::new();
    let mut diagnostics = Vec::new();
    let mut items = build_block(
        "ROOT",
        &blocks,
        &mut au_items,
        &titles,
        &prerequisites,
        &cst_file,
        &mut placed,
        &mut Vec::new(),
        &mut diagnostics,
    );
    ctx.diagnostics.append(&mut diagnostics);
    if cst_table.is_some() && !blocks.iter().any(|(b, _, _)| b == "ROOT") {
        ctx.diagnostics.push(Diagnostic::warning(
            "missing-element",
            Ctx::file_location(&cst_file),
            "The .cst file has no ROOT block; the AUs are placed at the top level.".to_string(),
        ));
    }
    for au in &aus {
        let key = au.id.to_ascii_uppercase();
        if let Some(item) = au_items.remove(&key) {
            if cst_table.is_some() && blocks.iter().any(|(b, _, _)| b == "ROOT") {
                ctx.diagnostics.push(Diagnostic::warning(
                    "au-not-in-structure",
                    item.location.clone(),
                    format!("The AU \"{}\" is not placed in the course structure (.cst); it is added at the top level.", au.id),
                ));
            }
            items.push(item);
        }
    }
    if aus.is_empty() && au_table.is_some() {
        ctx.diagnostics.push(Diagnostic::error(
            "no-launchable-item",
            Ctx::file_location(crs_path),
            "The AICC course lists no AU, so there is nothing to launch.".to_string(),
        ));
    }
    for (href, location, whose) in launch_checks {
        ctx.check_file(&href, &location, true, &whose);
    }
    let title = course_title.clone().unwrap_or_else(|| {
        ctx.diagnostics.push(Diagnostic::warning(
            "missing-title",
            Ctx::file_location(crs_path),
            "The [Course] section has no Course_Title; learners will see the course id instead.".to_string(),
        ));
        identifier.clone()
    });
    Some(Package {
        standard: Standard::Aicc,
        edition: None,
        identifier: identifier.clone(),
        title: title.clone(),
        schema_version: get("version"),
        manifest_path: crs_path.to_string(),
        default_organization: Some(identifier.clone()),
        organizations: vec![Organization {
            identifier,
            title,
            items,
            objectives_global_to_system: true,
            shared_data_global_to_system: true,
            sequencing: None,
            objectives,
        }],
        resources,
        sequencing_collection: SequencingCollection::default(),
    })
}

#[allow(clippy::too_many_arguments)]
fn build_block(
    block: &str,
    blocks: &[(String, u32, Vec<String>)],
    au_items: &mut HashMap<String, Item>,
    titles: &HashMap<String, String>,
    prerequisites: &HashMap<String, Vec<String>>,
    cst_file: &str,
    placed: &mut HashSet<String>,
    path: &mut Vec<String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Item> {
    let Some((_, line, members)) = blocks.iter().find(|(b, _, _)| b == block) else { return Vec::new() };
    let location = Location { file: cst_file.to_string(), line: *line, column: 1 };
    if path.len() >= crate::xml::MAX_DEPTH {
        diagnostics.push(Diagnostic::error(
            "cyclic-structure",
            location,
            format!("The blocks are nested more than {} levels deep at \"{block}\"; the rest is not read.", crate::xml::MAX_DEPTH),
        ));
        return Vec::new();
    }
    path.push(block.to_string());
    let mut items = Vec::new();
    for member in members {
        if path.contains(member) {
            diagnostics.push(Diagnostic::error(
                "cyclic-structure",
                location.clone(),
                format!("The block \"{block}\" contains \"{member}\", which contains it: the structure loops."),
            ));
            continue;
        }
        if !placed.insert(member.clone()) {
            diagnostics.push(Diagnostic::warning(
                "duplicate-identifier",
                location.clone(),
                format!("\"{member}\" is placed in the course structure more than once; only its first place is kept."),
            ));
            continue;
        }
        let is_block = blocks.iter().any(|(b, _, _)| b == member);
        let children = if is_block {
            build_block(member, blocks, au_items, titles, prerequisites, cst_file, placed, path, diagnostics)
        } else {
            Vec::new()
        };
        match au_items.remove(member) {
            Some(mut item) => {
                item.children = children;
                items.push(item);
            }
            None if is_block => items.push(Item {
                identifier: member.clone(),
                title: titles.get(member).cloned().unwrap_or_else(|| member.clone()),
                resource_ref: None,
                parameters: None,
                visible: true,
                children,
                launch: LaunchData::default(),
                sequencing: None,
                hide_lms_ui: Vec::new(),
                data_maps: Vec::new(),
                prerequisites: prerequisites.get(member).map(|p| p.join(" & ")),
                cmi5: None,
                location: location.clone(),
            }),
            None => diagnostics.push(Diagnostic::error(
                "missing-resource",
                location.clone(),
                format!("The block \"{block}\" lists \"{member}\", which is neither an AU in the .au file nor a block."),
            )),
        }
    }
    path.pop();
    items
}

#[cfg(test)]
mod tests {
    use super::parse_csv;

    #[test]
    fn csv_handles_quotes_and_lines() {
        let rows = parse_csv("\"a\",\"b,c\",3\r\n\r\n\"x\"\"y\",,\"multi\nline\"\nlast");
        let fields: Vec<(u32, Vec<String>)> = rows.into_iter().map(|r| (r.line, r.fields)).collect();
        assert_eq!(
            fields,
            vec![
                (1, vec!["a".into(), "b,c".into(), "3".into()]),
                (3, vec!["x\"y".into(), "".into(), "multi\nline".into()]),
                (5, vec!["last".into()]),
            ]
        );
    }
}
