//! Document resources: ETags, `If-Match`/`If-None-Match` matching, JSON merge; agent parameters.

use lms_xapi::{ActorKind, Ifi, XapiError, XapiVersion, etag, etag_matches, merge_documents, parse_agent_param};

#[test]
fn etags_are_quoted_sha256_of_the_bytes() {
    let tag = etag(b"{\"a\":1}");
    assert_eq!(tag.len(), 66);
    assert!(tag.starts_with('"') && tag.ends_with('"'));
    assert_eq!(tag, etag(b"{\"a\":1}"));
    assert_ne!(tag, etag(b"{\"a\":2}"));
    // SHA-256 of the empty string
    assert_eq!(etag(b""), "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"");
}

#[test]
fn if_match_headers() {
    let current = etag(b"doc");
    let bare = current.trim_matches('"').to_owned();
    for (header, expected) in [
        ("*".to_owned(), true),
        (current.clone(), true),
        (format!("W/{current}"), true),
        (format!("\"other\", {current}"), true),
        (bare, true),
        ("\"other\"".to_owned(), false),
        (String::new(), false),
        ("\"\"".to_owned(), false),
    ] {
        assert_eq!(etag_matches(&header, &current), expected, "{header:?}");
    }
}

#[test]
fn post_merges_top_level_properties() {
    let merged = merge_documents(br#"{"a":1,"b":{"x":1},"c":3}"#, br#"{"b":{"y":2},"d":4}"#).unwrap();
    assert_eq!(String::from_utf8(merged).unwrap(), r#"{"a":1,"b":{"y":2},"c":3,"d":4}"#);
    for (stored, posted) in [(&b"[1]"[..], &b"{}"[..]), (b"{}", b"[1]"), (b"{}", b"not json"), (b"text", b"{}"), (b"{}", b"\"s\"")] {
        assert!(
            matches!(merge_documents(stored, posted), Err(XapiError::Document { .. })),
            "{} + {}",
            String::from_utf8_lossy(stored),
            String::from_utf8_lossy(posted)
        );
    }
}

#[test]
fn agent_parameters() {
    let agent = parse_agent_param(r#"{"mbox":"mailto:ann@example.com"}"#, XapiVersion::V2_0_0).unwrap();
    assert_eq!(agent.kind, ActorKind::Agent);
    assert_eq!(agent.ifi, Ifi::Mbox("mailto:ann@example.com".into()));
    let group = parse_agent_param(
        r#"{"objectType":"Group","account":{"homePage":"http://example.com","name":"team"}}"#,
        XapiVersion::V1_0_3,
    )
    .unwrap();
    assert_eq!(group.kind, ActorKind::Group);
    assert_eq!(group.ifi.key(), "account:http://example.com team");
    let sha = parse_agent_param(r#"{"mbox_sha1sum":"CD9B00A5611F94EAA7B1661EDAB976068E364975"}"#, XapiVersion::V2_0_0).unwrap();
    assert_eq!(sha.ifi.key(), "mbox_sha1sum:cd9b00a5611f94eaa7b1661edab976068e364975");
    assert_eq!(serde_json::Value::Object(sha.ifi.to_json())["mbox_sha1sum"], "cd9b00a5611f94eaa7b1661edab976068e364975");

    for (text, what) in [
        ("mailto:ann@example.com", "not JSON"),
        (r#"{"name":"Ann"}"#, "no IFI"),
        (r#"{"mbox":"ann@example.com"}"#, "bad mbox"),
        (r#"{"objectType":"Group","member":[{"mbox":"mailto:a@example.com"}]}"#, "anonymous group"),
        (r#"["mailto:a@example.com"]"#, "array"),
    ] {
        assert!(parse_agent_param(text, XapiVersion::V2_0_0).is_err(), "{what}: {text}");
    }
}

#[test]
fn document_request_parameters() {
    use lms_xapi::{DocumentMethod, DocumentQuery, DocumentResource};
    let cases = crate::support::read_json(&crate::support::data_dir().join("documents.json"));
    let mut wrong = Vec::new();
    for case in cases.as_array().unwrap() {
        let rule = case["rule"].as_str().unwrap();
        let resource = match case["resource"].as_str().unwrap() {
            "State" => DocumentResource::State,
            "ActivityProfile" => DocumentResource::ActivityProfile,
            _ => DocumentResource::AgentProfile,
        };
        let method = match case["method"].as_str().unwrap() {
            "Get" => DocumentMethod::Get,
            "Head" => DocumentMethod::Head,
            "Put" => DocumentMethod::Put,
            "Post" => DocumentMethod::Post,
            _ => DocumentMethod::Delete,
        };
        let pairs: Vec<(&str, &str)> =
            case["pairs"].as_array().unwrap().iter().map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap())).collect();
        let result = DocumentQuery::parse(resource, method, pairs.iter().copied(), XapiVersion::V2_0_0);
        match (result, case.get("error_parameter").and_then(|v| v.as_str())) {
            (Ok(query), None) => {
                // what was given comes back
                for (name, value) in &pairs {
                    let present = match *name {
                        "activityId" => query.activity_id.as_deref() == Some(*value),
                        "stateId" | "profileId" => query.document_id.as_deref() == Some(*value),
                        "agent" => query.agent.is_some(),
                        "registration" => query.registration.is_some(),
                        "since" => query.since.is_some(),
                        _ => false,
                    };
                    if !present {
                        wrong.push(format!("{rule}: {name} was lost"));
                    }
                }
            }
            (Ok(_), Some(expected)) => wrong.push(format!("{rule}: accepted, expected an error about {expected}")),
            (Err(XapiError::Query { parameter, reason }), Some(expected)) => {
                if parameter != expected {
                    wrong.push(format!("{rule}: error about {parameter} ({reason}), expected {expected}"));
                }
            }
            (Err(error), _) => wrong.push(format!("{rule}: {error}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn person_objects_gather_names_and_identifiers() {
    let a = serde_json::json!({"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"});
    let b = serde_json::json!({"name": "Ann E.", "mbox": "mailto:ann@example.com", "account": {"homePage": "http://example.com", "name": "ann"}});
    let person = lms_xapi::person_object(&[&a, &b, &a]);
    assert_eq!(
        person,
        serde_json::json!({
            "objectType": "Person",
            "name": ["Ann", "Ann E."],
            "mbox": ["mailto:ann@example.com"],
            "account": [{"homePage": "http://example.com", "name": "ann"}]
        })
    );
}

#[test]
fn alternate_request_syntax() {
    use lms_xapi::parse_alternate_request;
    let body = b"X-Experience-API-Version=1.0.3&Authorization=Basic+dGVzdDpwYXNz&Content-Type=application%2Fjson\
&statementId=fd41c918-b88b-4b20-a0a5-a4c32391aaa0&content=%7B%22a%22%3A+1%7D";
    let request = parse_alternate_request([("method", "put")], body).unwrap();
    assert_eq!(request.method, "PUT");
    assert_eq!(request.content.as_deref(), Some(r#"{"a": 1}"#));
    assert_eq!(request.parameters, [("statementId".to_owned(), "fd41c918-b88b-4b20-a0a5-a4c32391aaa0".to_owned())]);
    assert_eq!(request.headers.len(), 3);
    assert_eq!(request.headers[1], ("Authorization".to_owned(), "Basic dGVzdDpwYXNz".to_owned()));

    let get = parse_alternate_request([("method", "GET")], b"").unwrap();
    assert_eq!((get.method.as_str(), get.content, get.parameters.len()), ("GET", None, 0));

    for (query, body, parameter) in [
        (vec![], &b""[..], "method"),
        (vec![("method", "PATCH")], b"", "method"),
        (vec![("method", "PUT"), ("statementId", "x")], b"", "statementId"),
        (vec![("method", "PUT"), ("method", "PUT")], b"", "method"),
        (vec![("method", "PUT")], b"content=%ZZ", "form body"),
        (vec![("method", "PUT")], b"content=%C3%28", "form body"),
    ] {
        match parse_alternate_request(query.iter().copied(), body) {
            Err(XapiError::Query { parameter: p, .. }) => assert_eq!(p, parameter),
            other => panic!("{query:?}: {other:?}"),
        }
    }
}
