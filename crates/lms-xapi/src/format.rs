//! Output forms of `GET /statements`: `exact` (the stored JSON as is), `ids` and `canonical`.

use serde_json::{Map, Value};

/// `format=ids`: Agents and identified Groups reduced to `objectType` + IFI, anonymous Groups to
/// their members' ids, Activities to `objectType` + `id`, Verbs to `id`. Everything else as stored.
pub fn format_ids(statement: &Value) -> Value {
    let Some(map) = statement.as_object() else { return statement.clone() };
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let reduced = match key.as_str() {
            "actor" | "authority" => actor_ids(value),
            "verb" => only_keys(value, &["id"]),
            "object" => object_ids(value),
            "context" => context_ids(value),
            _ => value.clone(),
        };
        out.insert(key.clone(), reduced);
    }
    Value::Object(out)
}

fn only_keys(value: &Value, keys: &[&str]) -> Value {
    let Some(map) = value.as_object() else { return value.clone() };
    Value::Object(map.iter().filter(|(k, _)| keys.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn actor_ids(value: &Value) -> Value {
    let Some(map) = value.as_object() else { return value.clone() };
    let mut out = Map::new();
    for (key, child) in map {
        match key.as_str() {
            "objectType" | "mbox" | "mbox_sha1sum" | "openid" | "account" => {
                out.insert(key.clone(), child.clone());
            }
            _ => {}
        }
    }
    let anonymous = !["mbox", "mbox_sha1sum", "openid", "account"].iter().any(|k| map.contains_key(*k));
    if anonymous && let Some(Value::Array(members)) = map.get("member") {
        out.insert("member".into(), Value::Array(members.iter().map(actor_ids).collect()));
    }
    Value::Object(out)
}

fn object_ids(value: &Value) -> Value {
    match value.get("objectType").and_then(Value::as_str) {
        Some("Agent" | "Group") => actor_ids(value),
        Some("SubStatement") => format_ids(value),
        Some("StatementRef") => value.clone(),
        _ => only_keys(value, &["objectType", "id"]),
    }
}

fn context_ids(value: &Value) -> Value {
    let Some(map) = value.as_object() else { return value.clone() };
    let mut out = Map::with_capacity(map.len());
    for (key, child) in map {
        let reduced = match key.as_str() {
            "instructor" | "team" => actor_ids(child),
            "contextActivities" => match child.as_object() {
                Some(lists) => Value::Object(
                    lists
                        .iter()
                        .map(|(k, list)| {
                            let reduced = match list {
                                Value::Array(items) => Value::Array(items.iter().map(|a| only_keys(a, &["objectType", "id"])).collect()),
                                single => Value::Array(vec![only_keys(single, &["objectType", "id"])]),
                            };
                            (k.clone(), reduced)
                        })
                        .collect(),
                ),
                None => child.clone(),
            },
            "contextAgents" | "contextGroups" => match child.as_array() {
                Some(entries) => Value::Array(
                    entries
                        .iter()
                        .map(|entry| match entry.as_object() {
                            Some(entry) => Value::Object(
                                entry
                                    .iter()
                                    .map(|(k, v)| {
                                        let v = if k == "agent" || k == "group" { actor_ids(v) } else { v.clone() };
                                        (k.clone(), v)
                                    })
                                    .collect(),
                            ),
                            None => entry.clone(),
                        })
                        .collect(),
                ),
                None => child.clone(),
            },
            _ => child.clone(),
        };
        out.insert(key.clone(), reduced);
    }
    Value::Object(out)
}

/// `format=canonical`: each Activity's definition replaced by the LRS's canonical one
/// (`canonical_definition(activity_id)`, when it knows one), and every language map (verb
/// `display`, definition `name`/`description`, interaction component descriptions, attachment
/// `display`/`description`) reduced to the one entry that best fits `languages` (most preferred
/// first, as from [`parse_accept_language`]). Agents and Groups stay as stored.
pub fn format_canonical(
    statement: &Value,
    languages: &[String],
    canonical_definition: &dyn Fn(&str) -> Option<Value>,
) -> Value {
    let mut out = statement.clone();
    canonicalize_statement(&mut out, languages, canonical_definition);
    out
}

fn canonicalize_statement(statement: &mut Value, languages: &[String], lookup: &dyn Fn(&str) -> Option<Value>) {
    let Some(map) = statement.as_object_mut() else { return };
    if let Some(Value::Object(verb)) = map.get_mut("verb")
        && let Some(display) = verb.get_mut("display")
    {
        filter_language_map(display, languages);
    }
    if let Some(object) = map.get_mut("object") {
        match object.get("objectType").and_then(Value::as_str) {
            Some("SubStatement") => canonicalize_statement(object, languages, lookup),
            None | Some("Activity") => canonicalize_activity(object, languages, lookup),
            _ => {}
        }
    }
    if let Some(Value::Object(context)) = map.get_mut("context")
        && let Some(Value::Object(lists)) = context.get_mut("contextActivities")
    {
        for list in lists.values_mut() {
            match list {
                Value::Array(items) => items.iter_mut().for_each(|a| canonicalize_activity(a, languages, lookup)),
                single => canonicalize_activity(single, languages, lookup),
            }
        }
    }
    if let Some(Value::Array(attachments)) = map.get_mut("attachments") {
        for attachment in attachments {
            if let Some(attachment) = attachment.as_object_mut() {
                for key in ["display", "description"] {
                    if let Some(language_map) = attachment.get_mut(key) {
                        filter_language_map(language_map, languages);
                    }
                }
            }
        }
    }
}

fn canonicalize_activity(activity: &mut Value, languages: &[String], lookup: &dyn Fn(&str) -> Option<Value>) {
    let Some(map) = activity.as_object_mut() else { return };
    if let Some(canonical) = map.get("id").and_then(Value::as_str).and_then(lookup) {
        map.insert("definition".into(), canonical);
    }
    let Some(Value::Object(definition)) = map.get_mut("definition") else { return };
    for key in ["name", "description"] {
        if let Some(language_map) = definition.get_mut(key) {
            filter_language_map(language_map, languages);
        }
    }
    for key in ["choices", "scale", "source", "target", "steps"] {
        if let Some(Value::Array(components)) = definition.get_mut(key) {
            for component in components {
                if let Some(description) = component.get_mut("description") {
                    filter_language_map(description, languages);
                }
            }
        }
    }
}

/// Keep the one entry of a language map that best fits the preferences: an exact tag match
/// (case-insensitive), else a prefix match either way (`en` ~ `en-US`), else `*`, else the
/// first entry.
fn filter_language_map(language_map: &mut Value, languages: &[String]) {
    let Some(map) = language_map.as_object() else { return };
    if map.len() <= 1 {
        return;
    }
    let pick = |wanted: &str| -> Option<&String> {
        if wanted == "*" {
            return map.keys().next();
        }
        map.keys().find(|tag| tag.eq_ignore_ascii_case(wanted)).or_else(|| {
            map.keys().find(|tag| {
                let (tag, wanted) = (tag.to_ascii_lowercase(), wanted.to_ascii_lowercase());
                tag.starts_with(&format!("{wanted}-")) || wanted.starts_with(&format!("{tag}-"))
            })
        })
    };
    let chosen = languages.iter().find_map(|wanted| pick(wanted)).or_else(|| map.keys().next()).cloned();
    if let Some(chosen) = chosen {
        let value = map.get(&chosen).cloned().unwrap_or(Value::Null);
        let mut single = Map::new();
        single.insert(chosen, value);
        *language_map = Value::Object(single);
    }
}

/// The language ranges of an `Accept-Language` header, most preferred first (by `q`, then by
/// position); ranges with `q=0` are dropped.
pub fn parse_accept_language(header: &str) -> Vec<String> {
    let mut ranges: Vec<(u16, usize, String)> = Vec::new();
    for (position, item) in header.split(',').enumerate() {
        let mut parts = item.split(';');
        let range = parts.next().unwrap_or("").trim();
        if range.is_empty() {
            continue;
        }
        let mut quality = 1000u16;
        for parameter in parts {
            if let Some(q) = parameter.trim().strip_prefix("q=")
                && let Ok(q) = q.trim().parse::<f64>()
            {
                quality = (q.clamp(0.0, 1.0) * 1000.0).round() as u16;
            }
        }
        if quality > 0 {
            ranges.push((quality, position, range.to_owned()));
        }
    }
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.into_iter().map(|(_, _, range)| range).collect()
}
