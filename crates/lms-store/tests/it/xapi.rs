//! LRS storage on both backends: group writes (conflicts, identical re-sends, voiding),
//! filtered queries with paging, attachments, activity definitions, documents, clients.

use lms_store::{
    DocumentKey, DocumentKind, DocumentWrite, Error, NewAttachment, StatementBatch, StatementFilter, Store, XapiWriter,
};
use lms_xapi::{PreparedStatement, XapiVersion};
use serde_json::{Value, json};

use crate::harness::on_both;

fn authority() -> Value {
    json!({"objectType": "Agent", "account": {"homePage": lms_store::XAPI_CLIENT_HOME_PAGE, "name": "client-a"}})
}

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A statement: `n` names its id; actor `ann` or `bob`, verb, activity object.
fn statement(n: u32, actor: &str, verb: &str, activity: &str) -> Value {
    json!({
        "id": id(n),
        "actor": {"mbox": format!("mailto:{actor}@example.com")},
        "verb": {"id": format!("http://example.com/verbs/{verb}")},
        "object": {"id": format!("http://example.com/act/{activity}"), "definition": {"name": {"en": activity}}},
        "context": {"instructor": {"mbox": "mailto:teacher@example.com"},
                    "contextActivities": {"parent": {"id": "http://example.com/act/course"}}},
    })
}

fn prepare(values: Vec<Value>, stored_ms: i64) -> Vec<PreparedStatement> {
    let stored = chrono::DateTime::from_timestamp_millis(stored_ms).unwrap();
    lms_xapi::prepare_statements(values, XapiVersion::V2_0_0, &authority(), stored, uuid::Uuid::new_v4).unwrap()
}

fn batch(values: Vec<Value>, stored_ms: i64) -> StatementBatch {
    StatementBatch { statements: prepare(values, stored_ms), attachments: vec![], client_key: "client-a".into(), define: true }
}

fn outcome_text(result: &Result<(), Error>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(Error::Conflict { .. }) => "conflict".into(),
        Err(e) => format!("error: {e}"),
    }
}

/// The statement numbers (last part of the id) a filter returns, in order.
async fn ids_of(store: &Store, filter: StatementFilter) -> Vec<u32> {
    let page = store.query_xapi_statements(&filter).await.unwrap();
    page.statements
        .iter()
        .map(|s| {
            let v: Value = serde_json::from_str(&s.json).unwrap();
            v["id"].as_str().unwrap()[24..].parse().unwrap()
        })
        .collect()
}

on_both!(batches_conflicts_and_identical_resends, |store: Store, _dir| async move {
    let first = batch(vec![statement(1, "ann", "completed", "a1"), statement(2, "bob", "attempted", "a2")], 1_000);
    let outcomes = store.write_statement_batches(&[first]).await.unwrap();
    assert_eq!(outcomes.iter().map(outcome_text).collect::<Vec<_>>(), ["ok"]);

    // in one transaction: an identical re-send (ok, nothing new), a conflicting one (its whole
    // batch is refused), a new one, and a later batch re-using the new one's id identically
    let cases = vec![
        batch(vec![statement(1, "ann", "completed", "a1")], 2_000),
        batch(vec![statement(3, "ann", "passed", "a1"), statement(2, "bob", "CHANGED", "a2")], 2_000),
        batch(vec![statement(4, "bob", "passed", "a3")], 2_000),
        batch(vec![statement(4, "bob", "passed", "a3")], 2_000),
        batch(vec![statement(4, "bob", "failed", "a3")], 2_000),
    ];
    let outcomes = store.write_statement_batches(&cases).await.unwrap();
    assert_eq!(outcomes.iter().map(outcome_text).collect::<Vec<_>>(), ["ok", "conflict", "ok", "ok", "conflict"]);
    assert_eq!(store.xapi_statement_count().await.unwrap(), 3, "statements 1, 2, 4");
    assert!(store.xapi_statement(&id(3)).await.unwrap().is_none(), "the refused batch left nothing");
    let two = store.xapi_statement(&id(2)).await.unwrap().unwrap();
    assert!(two.json.contains("attempted"));
    assert_eq!(two.stored_ms, 1_000);
});

on_both!(filters_paging_and_statement_refs, |store: Store, _dir| async move {
    let mut values = Vec::new();
    for n in 1..=12u32 {
        let actor = if n % 2 == 0 { "ann" } else { "bob" };
        let verb = if n % 3 == 0 { "passed" } else { "attempted" };
        values.push(statement(n, actor, verb, &format!("a{}", n % 4)));
    }
    // 13: a StatementRef to 3 (bob, passed, a3) by carl
    values.push(json!({"id": id(13), "actor": {"mbox": "mailto:carl@example.com"},
        "verb": {"id": "http://example.com/verbs/commented"}, "object": {"objectType": "StatementRef", "id": id(3)}}));
    let outcomes = store.write_statement_batches(&[batch(values, 5_000)]).await.unwrap();
    assert!(outcomes[0].is_ok());
    let ann = Some("mbox:mailto:ann@example.com".to_string());
    let cases: Vec<(StatementFilter, Vec<u32>)> = vec![
        (StatementFilter { limit: 100, ..Default::default() }, (1..=13).rev().collect()),
        (StatementFilter { limit: 100, ascending: true, ..Default::default() }, (1..=13).collect()),
        (StatementFilter { agent: ann.clone(), limit: 100, ..Default::default() }, vec![12, 10, 8, 6, 4, 2]),
        (
            StatementFilter { verb: Some("http://example.com/verbs/passed".into()), limit: 100, ..Default::default() },
            vec![13, 12, 9, 6, 3],
        ),
        (
            StatementFilter { activity: Some("http://example.com/act/a3".into()), limit: 100, ..Default::default() },
            vec![13, 11, 7, 3],
        ),
        (
            StatementFilter { activity: Some("http://example.com/act/course".into()), limit: 100, ..Default::default() },
            vec![],
        ),
        (
            StatementFilter {
                activity: Some("http://example.com/act/course".into()),
                related_activities: true,
                limit: 3,
                ..Default::default()
            },
            vec![13, 12, 11],
        ),
        (
            StatementFilter {
                agent: Some("mbox:mailto:teacher@example.com".into()),
                related_agents: true,
                verb: Some("http://example.com/verbs/passed".into()),
                limit: 100,
                ..Default::default()
            },
            vec![13, 12, 9, 6, 3],
        ),
        (StatementFilter { agent: Some("mbox:mailto:teacher@example.com".into()), limit: 100, ..Default::default() }, vec![]),
        (StatementFilter { since_ms: Some(5_000), limit: 100, ..Default::default() }, vec![]),
        (StatementFilter { until_ms: Some(5_000), limit: 2, ..Default::default() }, vec![13, 12]),
        (StatementFilter { client_key: Some("someone-else".into()), limit: 100, ..Default::default() }, vec![]),
    ];
    for (filter, expected) in cases {
        assert_eq!(ids_of(&store, filter.clone()).await, expected, "{filter:?}");
    }

    // paging: pages of 5 through the agent filter, ascending and descending
    for ascending in [false, true] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let filter = StatementFilter { agent: ann.clone(), limit: 4, ascending, cursor, ..Default::default() };
            let page = store.query_xapi_statements(&filter).await.unwrap();
            seen.extend(page.statements.iter().map(|s| s.seq));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        if !ascending {
            sorted.reverse();
        }
        assert_eq!(seen, sorted);
        assert_eq!(seen.len(), 6);
    }
});

on_both!(voiding_rules, |store: Store, _dir| async move {
    let voiding = |n: u32, target: u32| {
        json!({"id": id(n), "actor": {"mbox": "mailto:admin@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}, "object": {"objectType": "StatementRef", "id": id(target)}})
    };
    // 2 voids 1; 3 tries to void the voiding statement 2 (refused silently); 4 voids 99, which
    // arrives later (99 is voided on arrival)
    let b = batch(vec![statement(1, "ann", "completed", "a1"), voiding(2, 1), voiding(3, 2), voiding(4, 99)], 1_000);
    store.write_statement_batches(&[b]).await.unwrap();
    store.write_statement_batches(&[batch(vec![statement(99, "ann", "completed", "a1")], 2_000)]).await.unwrap();
    let voided: Vec<(u32, bool)> = {
        let mut out = Vec::new();
        for n in [1, 2, 3, 4, 99] {
            out.push((n, store.xapi_statement(&id(n)).await.unwrap().unwrap().voided));
        }
        out
    };
    assert_eq!(voided, [(1, true), (2, false), (3, false), (4, false), (99, true)]);
    // queries leave voided statements out, but keep the statements pointing at them
    let all = ids_of(&store, StatementFilter { limit: 100, ..Default::default() }).await;
    assert_eq!(all, [4, 3, 2]);
    let about_ann = ids_of(&store, StatementFilter { agent: Some("mbox:mailto:ann@example.com".into()), limit: 100, ..Default::default() }).await;
    assert_eq!(about_ann, [4, 2], "the voiding statements target statements about ann");
});

on_both!(attachments_and_definitions, |store: Store, _dir| async move {
    let mut b = batch(vec![statement(1, "ann", "completed", "a1")], 1_000);
    b.attachments = vec![NewAttachment { sha2: "ab".repeat(32), content_type: "text/plain".into(), content: b"hello".to_vec() }];
    store.write_statement_batches(&[b.clone(), b]).await.unwrap();
    let found = store.xapi_attachments(&["ab".repeat(32), "cd".repeat(32)]).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].content, b"hello");
    assert_eq!(store.xapi_activity_definition("http://example.com/act/a1").await.unwrap(), Some(json!({"name": {"en": "a1"}})));
    // without the define scope, definitions are not taken over
    let mut changed = statement(2, "ann", "completed", "a1");
    changed["object"]["definition"] = json!({"name": {"de": "neu"}});
    let mut b = batch(vec![changed], 2_000);
    b.define = false;
    store.write_statement_batches(&[b]).await.unwrap();
    assert_eq!(store.xapi_activity_definition("http://example.com/act/a1").await.unwrap(), Some(json!({"name": {"en": "a1"}})));
    assert_eq!(store.xapi_activity_definition("http://example.com/act/none").await.unwrap(), None);
});

on_both!(group_commit_writer, |store: Store, _dir| async move {
    let writer = XapiWriter::spawn(store.clone());
    let mut tasks = Vec::new();
    for n in 1..=50u32 {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move { writer.write(batch(vec![statement(n, "ann", "completed", "a1")], 1_000)).await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let conflict = writer.write(batch(vec![statement(7, "ann", "failed", "a1")], 1_000)).await;
    assert!(matches!(conflict, Err(Error::Conflict { .. })), "{conflict:?}");
    assert_eq!(store.xapi_statement_count().await.unwrap(), 50);
    // the writer keeps a connection of its own; closing the store must not wait for it
    tokio::time::timeout(std::time::Duration::from_secs(10), store.close())
        .await
        .expect("closing the store while the statement writer is alive");
    drop(writer);
});

on_both!(documents, |store: Store, _dir| async move {
    let key = |id: &str| DocumentKey {
        kind: DocumentKind::State,
        activity_id: "http://example.com/act/a1".into(),
        agent_key: "mbox:mailto:ann@example.com".into(),
        registration: String::new(),
        document_id: id.into(),
    };
    let write = |text: &str| DocumentWrite {
        content: text.as_bytes().to_vec(),
        content_type: "application/json".into(),
        etag: lms_xapi::etag(text.as_bytes()),
    };
    store.write_xapi_document(&key("s1"), |current| { assert!(current.is_none()); Ok(write("{\"a\":1}")) }).await.unwrap();
    store.write_xapi_document(&key("s2"), |_| Ok(write("{}"))).await.unwrap();
    let refused = store
        .write_xapi_document(&key("s1"), |_| Err(Error::PreconditionFailed { message: "no".into() }))
        .await;
    assert!(matches!(refused, Err(Error::PreconditionFailed { .. })));
    let doc = store.xapi_document(&key("s1")).await.unwrap().unwrap();
    assert_eq!(doc.content, b"{\"a\":1}");
    assert_eq!(doc.etag, lms_xapi::etag(b"{\"a\":1}"));
    assert_eq!(store.xapi_document_ids(&key(""), None).await.unwrap(), ["s1", "s2"]);
    assert_eq!(store.xapi_document_ids(&key(""), Some(doc.updated_ms + 60_000)).await.unwrap(), Vec::<String>::new());
    store.delete_xapi_document(&key("s1"), |current| { assert!(current.is_some()); Ok(()) }).await.unwrap();
    assert_eq!(store.xapi_document_ids(&key(""), None).await.unwrap(), ["s2"]);
    assert_eq!(store.delete_xapi_documents(&key("")).await.unwrap(), 1);
    assert!(store.xapi_document(&key("s2")).await.unwrap().is_none());
});

on_both!(clients, |store: Store, _dir| async move {
    let client = store.create_xapi_client("lrs-key", "lrs-secret-1", &["statements/read", "state"]).await.unwrap();
    assert!(client.has_scope("statements/read") && client.has_scope("state") && !client.has_scope("statements/write"));
    assert!(matches!(store.create_xapi_client("lrs-key", "other-secret", &["all"]).await, Err(Error::Conflict { .. })));
    assert!(matches!(store.create_xapi_client("k", "lrs-secret-1", &["everything"]).await, Err(Error::Invalid { .. })));
    assert_eq!(store.authenticate_xapi_client("lrs-key", "lrs-secret-1").await.unwrap(), Some(client));
    assert_eq!(store.authenticate_xapi_client("lrs-key", "wrong-secret").await.unwrap(), None);
    assert_eq!(store.authenticate_xapi_client("nobody", "lrs-secret-1").await.unwrap(), None);
    // ensure: sets secret and scopes of an existing client
    store.ensure_xapi_client("lrs-key", "new-secret-2", &["all"]).await.unwrap();
    let again = store.authenticate_xapi_client("lrs-key", "new-secret-2").await.unwrap().unwrap();
    assert!(again.has_scope("statements/write") && again.has_scope("define"));
    assert_eq!(again.authority["account"]["name"], "lrs-key");
});
