//! Storage tests: cmi5 registrations, launch sessions, the one-time fetch token, changes
//! that store state, session, document and statements together, and bare cmi5.xml import,
//! on SQLite and PostgreSQL.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use lms_store::{
    Cmi5Change, DocumentKey, DocumentKind, DocumentWrite, Error, ImportOptions, NewCmi5Registration, NewCmi5Session, NewPerson,
    Role, StatementFilter, Store,
};
use serde_json::{Value, json};

use crate::harness::on_both;

const CMI5_XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.com/course/store"><title><langstring lang="en">Store course</langstring></title>
    <description><langstring lang="en">d</langstring></description></course>
  <au id="https://example.com/au/one" moveOn="Completed">
    <title><langstring lang="en">One</langstring></title><description><langstring lang="en">d</langstring></description>
    <url>URL</url>
  </au>
</courseStructure>"#;

fn cmi5_zip(dir: &Path) -> PathBuf {
    let path = dir.join("cmi5.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("cmi5.xml", options).unwrap();
    writer.write_all(CMI5_XML.replace("URL", "index.html").as_bytes()).unwrap();
    writer.start_file("index.html", options).unwrap();
    writer.write_all(b"<p>AU</p>").unwrap();
    writer.finish().unwrap();
    path
}

async fn setup(store: &Store, dir: &Path) -> String {
    let outcome = store.import_package_zip(&cmi5_zip(dir), &ImportOptions::default(), None).await.unwrap();
    assert_eq!(outcome.record.standard, "cmi5");
    store
        .create_person(&NewPerson {
            personnel_number: "L1".into(),
            name: "Lea Learner".into(),
            org_unit: None,
            roles: BTreeSet::from([Role::Learner]),
            password: None,
        })
        .await
        .unwrap();
    outcome.record.id
}

fn actor() -> Value {
    json!({"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": "L1"}})
}

fn prepared(statements: Vec<Value>) -> Vec<lms_xapi::PreparedStatement> {
    let authority = json!({"objectType": "Agent", "account": {"homePage": "https://lms.invalid/xapi/clients", "name": "lms-cmi5"}});
    lms_xapi::prepare_statements(statements, lms_xapi::XapiVersion::V1_0_3, &authority, chrono::Utc::now(), uuid::Uuid::new_v4)
        .unwrap()
}

fn statement(verb: &str, registration: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": actor(),
        "verb": {"id": format!("https://example.com/verbs/{verb}")},
        "object": {"id": "https://example.com/au/one"},
        "context": {"registration": registration},
        "timestamp": "2026-01-01T00:00:00Z"
    })
}

fn new_registration(package_id: &str, id: &str, statements: Vec<Value>) -> NewCmi5Registration {
    NewCmi5Registration {
        id: id.into(),
        package_id: package_id.into(),
        personnel_number: "L1".into(),
        actor_json: actor().to_string(),
        state_json: json!({"n": 0}).to_string(),
        course_satisfied: false,
        statements: prepared(statements),
    }
}

async fn verbs_of(store: &Store, registration: &str) -> Vec<String> {
    let page = store
        .query_xapi_statements(&StatementFilter { registration: Some(registration.into()), ascending: true, limit: 100, ..Default::default() })
        .await
        .unwrap();
    page.statements
        .iter()
        .map(|s| {
            let v: Value = serde_json::from_str(&s.json).unwrap();
            v["verb"]["id"].as_str().unwrap().rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

on_both!(registrations_are_created_and_checked, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = uuid::Uuid::new_v4().to_string();
    let record = store.create_cmi5_registration(new_registration(&package_id, &id, vec![statement("created", &id)])).await.unwrap();
    assert_eq!((record.id.as_str(), record.personnel_number.as_str(), record.course_satisfied), (id.as_str(), "L1", false));
    assert_eq!(verbs_of(&store, &id).await, ["created"]);
    assert_eq!(store.cmi5_registrations_of("L1").await.unwrap().len(), 1);
    // the same id twice, an unknown package, a SCORM-less check of the standard, an unknown person
    let again = store.create_cmi5_registration(new_registration(&package_id, &id, vec![])).await;
    assert!(matches!(again, Err(Error::Conflict { .. })), "{again:?}");
    let unknown = store.create_cmi5_registration(new_registration("nope", &uuid::Uuid::new_v4().to_string(), vec![])).await;
    assert!(matches!(unknown, Err(Error::NotFound { .. })), "{unknown:?}");
    let mut stranger = new_registration(&package_id, &uuid::Uuid::new_v4().to_string(), vec![]);
    stranger.personnel_number = "X9".into();
    let stranger = store.create_cmi5_registration(stranger).await;
    assert!(matches!(stranger, Err(Error::NotFound { .. })), "{stranger:?}");
});

on_both!(a_change_stores_state_session_document_and_statements, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = uuid::Uuid::new_v4().to_string();
    store.create_cmi5_registration(new_registration(&package_id, &id, vec![])).await.unwrap();
    let key = DocumentKey {
        kind: DocumentKind::State,
        activity_id: "https://lms.invalid/cmi5/x/au/0".into(),
        agent_key: "account:https://lms.example L1".into(),
        registration: id.clone(),
        document_id: "LMS.LaunchData".into(),
    };
    let session_id = uuid::Uuid::new_v4().to_string();
    let launched = statement("launched", &id);
    let answer = store
        .change_cmi5_registration(&id, |current| -> Result<(&'static str, Cmi5Change), Error> {
            assert_eq!(current.state_json, json!({"n": 0}).to_string());
            Ok((
                "done",
                Cmi5Change {
                    state_json: Some(json!({"n": 1}).to_string()),
                    course_satisfied: true,
                    new_session: Some(NewCmi5Session { id: session_id.clone(), au_index: 0, fetch_secret: "fetch-secret".into() }),
                    documents: vec![(
                        key.clone(),
                        DocumentWrite { content: b"{\"launchMode\":\"Normal\"}".to_vec(), content_type: "application/json".into(), etag: "\"e\"".into() },
                    )],
                    documents_if_absent: vec![(
                        key.clone(),
                        DocumentWrite { content: b"{\"ignored\":true}".to_vec(), content_type: "application/json".into(), etag: "\"i\"".into() },
                    )],
                    statements: prepared(vec![launched.clone(), statement("satisfied", &id)]),
                    attachments: vec![],
                    client_key: Some(format!("cmi5:{id}")),
                },
            ))
        })
        .await
        .unwrap();
    assert_eq!(answer, "done");
    let record = store.cmi5_registration(&id).await.unwrap().unwrap();
    assert_eq!((record.state_json.as_str(), record.course_satisfied), (json!({"n": 1}).to_string().as_str(), true));
    assert_eq!(store.xapi_document(&key).await.unwrap().unwrap().content, b"{\"launchMode\":\"Normal\"}");
    assert_eq!(verbs_of(&store, &id).await, ["launched", "satisfied"]);

    // the fetch secret finds the session; the token is handed out once
    let session = store.cmi5_session_by_fetch_secret("fetch-secret").await.unwrap().unwrap();
    assert_eq!((session.id.as_str(), session.registration_id.as_str(), session.au_index, session.fetched), (session_id.as_str(), id.as_str(), 0, false));
    assert!(store.cmi5_session_by_fetch_secret("other").await.unwrap().is_none());
    assert!(store.issue_cmi5_token(&session_id, "token-1").await.unwrap());
    assert!(!store.issue_cmi5_token(&session_id, "token-2").await.unwrap(), "a second token for one session");
    assert_eq!(store.cmi5_session_by_token("token-1").await.unwrap().map(|s| s.id), Some(session_id.clone()));
    assert!(store.cmi5_session_by_token("token-2").await.unwrap().is_none());
    assert!(store.cmi5_session(&session_id).await.unwrap().unwrap().fetched);

    // a refusing decision changes nothing
    let refused = store
        .change_cmi5_registration(&id, |_| -> Result<((), Cmi5Change), Error> {
            Err(Error::Invalid { field: "statement", message: "refused".into() })
        })
        .await;
    assert!(matches!(refused, Err(Error::Invalid { .. })), "{refused:?}");
    assert_eq!(store.cmi5_registration(&id).await.unwrap().unwrap().state_json, json!({"n": 1}).to_string());
    assert_eq!(verbs_of(&store, &id).await.len(), 2);
    // a statement that cannot be stored (its id is taken by a different statement) takes the
    // state change with it
    let mut clash = statement("other", &id);
    clash["id"] = launched["id"].clone();
    let clashed = store
        .change_cmi5_registration(&id, |_| -> Result<((), Cmi5Change), Error> {
            Ok(((), Cmi5Change { state_json: Some(json!({"n": 99}).to_string()), statements: prepared(vec![clash]), ..Cmi5Change::default() }))
        })
        .await;
    assert!(matches!(clashed, Err(Error::Conflict { .. })), "{clashed:?}");
    assert_eq!(store.cmi5_registration(&id).await.unwrap().unwrap().state_json, json!({"n": 1}).to_string());
    let missing = store.change_cmi5_registration("nope", |_| -> Result<((), Cmi5Change), Error> { Ok(((), Cmi5Change::default())) }).await;
    assert!(matches!(missing, Err(Error::NotFound { .. })), "{missing:?}");
});

on_both!(concurrent_changes_never_decide_on_the_same_state, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = uuid::Uuid::new_v4().to_string();
    store.create_cmi5_registration(new_registration(&package_id, &id, vec![])).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                store
                    .change_cmi5_registration(&id, |current| -> Result<((), Cmi5Change), Error> {
                        let n = serde_json::from_str::<Value>(&current.state_json).unwrap()["n"].as_i64().unwrap();
                        Ok(((), Cmi5Change { state_json: Some(json!({"n": n + 1}).to_string()), ..Cmi5Change::default() }))
                    })
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let state: Value = serde_json::from_str(&store.cmi5_registration(&id).await.unwrap().unwrap().state_json).unwrap();
    assert_eq!(state["n"], 40);
});

on_both!(bare_structure_files_import_only_with_absolute_urls, |store: Store, dir: PathBuf| async move {
    let absolute = dir.join("absolute.xml");
    std::fs::write(&absolute, CMI5_XML.replace("URL", "https://example.com/au/index.html")).unwrap();
    let outcome = store.import_structure_file(&absolute, &ImportOptions::default()).await.unwrap();
    assert_eq!((outcome.record.standard.as_str(), outcome.record.n_files), ("cmi5", 1));
    assert_eq!(store.package_files(&outcome.record.id).await.unwrap()[0].path, "cmi5.xml");
    let again = store.import_structure_file(&absolute, &ImportOptions::default()).await.unwrap();
    assert!(again.duplicate);

    let relative = dir.join("relative.xml");
    std::fs::write(&relative, CMI5_XML.replace("URL", "index.html")).unwrap();
    match store.import_structure_file(&relative, &ImportOptions::default()).await {
        Err(Error::NotImportable { diagnostics, .. }) => {
            let ids: Vec<&str> = diagnostics.iter().filter_map(lms_package::cmi5_requirement).collect();
            assert!(ids.contains(&"14.2.0.0-1"), "{ids:?}");
        }
        other => panic!("a relative AU URL in a bare cmi5.xml was accepted: {other:?}"),
    }
    let not_xml = dir.join("notes.md");
    std::fs::write(&not_xml, "# not a course").unwrap();
    let refused = store.import_structure_file(&not_xml, &ImportOptions::default()).await;
    assert!(matches!(refused, Err(Error::NotImportable { .. })), "{refused:?}");
});
