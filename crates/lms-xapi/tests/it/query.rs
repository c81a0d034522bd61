//! `GET /statements` parameters (`tests/data/query.json`); the parsed forms are dumped to
//! `query.expected`.

use lms_xapi::{StatementQuery, XapiError, XapiVersion};
use serde_json::Value;

use crate::support::{check_gold, data_dir, read_json};

fn summary(query: &StatementQuery) -> String {
    let mut parts = Vec::new();
    if let Some(id) = query.statement_id {
        parts.push(format!("statement_id={id}"));
    }
    if let Some(id) = query.voided_statement_id {
        parts.push(format!("voided_statement_id={id}"));
    }
    if let Some(agent) = &query.agent {
        parts.push(format!("agent={:?}:{}", agent.kind, agent.ifi.key()));
    }
    if let Some(verb) = &query.verb {
        parts.push(format!("verb={verb}"));
    }
    if let Some(activity) = &query.activity {
        parts.push(format!("activity={activity}"));
    }
    if let Some(registration) = query.registration {
        parts.push(format!("registration={registration}"));
    }
    if let Some(since) = query.since {
        parts.push(format!("since={}", since.to_rfc3339()));
    }
    if let Some(until) = query.until {
        parts.push(format!("until={}", until.to_rfc3339()));
    }
    parts.push(format!(
        "related_activities={} related_agents={} limit={} format={:?} attachments={} ascending={} single={}",
        query.related_activities, query.related_agents, query.limit, query.format, query.attachments, query.ascending,
        query.is_single()
    ));
    for (name, value) in &query.extra {
        parts.push(format!("extra {name}={value}"));
    }
    parts.join(" ")
}

#[test]
fn statement_query_parameters() {
    let cases = read_json(&data_dir().join("query.json"));
    let mut dump = String::new();
    let mut wrong = Vec::new();
    for case in cases.as_array().unwrap() {
        let rule = case["rule"].as_str().unwrap();
        let pairs: Vec<(&str, &str)> = case["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| (pair[0].as_str().unwrap(), pair[1].as_str().unwrap()))
            .collect();
        let extra: Vec<&str> = case.get("extra").and_then(Value::as_array).map(|l| l.iter().map(|v| v.as_str().unwrap()).collect()).unwrap_or_default();
        let result = StatementQuery::parse_allowing(pairs.iter().copied(), XapiVersion::V2_0_0, &extra);
        match (result, case.get("error_parameter").and_then(Value::as_str)) {
            (Ok(query), None) => dump.push_str(&format!("{rule}\n    {}\n", summary(&query))),
            (Ok(_), Some(parameter)) => wrong.push(format!("{rule}: accepted, expected an error about {parameter}")),
            (Err(XapiError::Query { parameter, reason }), Some(expected)) => {
                if parameter != expected {
                    wrong.push(format!("{rule}: error about {parameter} ({reason}), expected {expected}"));
                }
                dump.push_str(&format!("{rule}\n    error: {parameter}: {reason}\n"));
            }
            (Err(error), _) => wrong.push(format!("{rule}: {error}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    check_gold("query.expected", &dump);
}

#[test]
fn parse_without_extras_rejects_them() {
    let error = StatementQuery::parse([("cursor", "x")], XapiVersion::V1_0_3).unwrap_err();
    assert!(matches!(error, XapiError::Query { ref parameter, .. } if parameter == "cursor"), "{error}");
}
