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
