//! Storage tests: SCORM registrations, sessions, idempotent durable commits, resume and the
//! after-completion rules, on SQLite and PostgreSQL.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use lms_rte::{Attempt, AttemptConfig, ScormVersion, UnixMillis};
use lms_store::{
    AfterCompletion, CommitBatchIn, Error, ImportOptions, LaunchKind, NewPerson, NewRegistration, Role, SequencingSave, Store,
};

use crate::harness::on_both;

const MANIFEST_2004: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.scorm-store" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Store test</title>
    <item identifier="i1" identifierref="r1"><title>One</title></item>
  </organization></organizations>
  <resources><resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html">
    <file href="index.html"/></resource></resources>
</manifest>"#;

async fn setup(store: &Store, dir: &std::path::Path) -> String {
    let path = dir.join("p.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("imsmanifest.xml", options).unwrap();
    writer.write_all(MANIFEST_2004.as_bytes()).unwrap();
    writer.start_file("index.html", options).unwrap();
    writer.write_all(b"<p>hi</p>").unwrap();
    writer.finish().unwrap();
    let outcome = store.import_package_zip(&path, &ImportOptions::default(), None).await.unwrap();
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

fn config() -> AttemptConfig {
    AttemptConfig::new(ScormVersion::Scorm2004, "L1", "Lea Learner")
}

fn batch(seq: i64, calls: &[&[&str]]) -> CommitBatchIn {
    CommitBatchIn { seq, calls: calls.iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect() }
}

fn value(json: &str, element: &str) -> Option<String> {
    let attempt = Attempt::from_json(json).unwrap();
    attempt.values().into_iter().find(|(k, _)| k == element).map(|(_, v)| v)
}

async fn registration(store: &Store, package_id: &str, after: AfterCompletion) -> String {
    store
        .create_scorm_registration(&NewRegistration {
            package_id: package_id.into(),
            personnel_number: "L1".into(),
            after_completion: after,
        })
        .await
        .unwrap()
        .id
}

on_both!(registrations_are_checked, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = registration(&store, &package_id, AfterCompletion::Review).await;
    let r = store.scorm_registration(&id).await.unwrap().unwrap();
    assert_eq!((r.package_id.as_str(), r.personnel_number.as_str(), r.attempt), (package_id.as_str(), "L1", 1));
    let missing_package = store
        .create_scorm_registration(&NewRegistration {
            package_id: "nope".into(),
            personnel_number: "L1".into(),
            after_completion: AfterCompletion::Review,
        })
        .await;
    assert!(matches!(missing_package, Err(Error::NotFound { .. })), "{missing_package:?}");
    let missing_person = store
        .create_scorm_registration(&NewRegistration {
            package_id: package_id.clone(),
            personnel_number: "ZZ".into(),
            after_completion: AfterCompletion::Review,
        })
        .await;
    assert!(matches!(missing_person, Err(Error::NotFound { .. })), "{missing_person:?}");
});

on_both!(commits_are_idempotent_and_ordered, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = registration(&store, &package_id, AfterCompletion::Review).await;
    let s = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    assert_eq!(value(&s.attempt_json, "cmi.entry").as_deref(), Some("ab-initio"));
    let now = UnixMillis(1_000);
    let first = batch(1, &[&["Initialize", ""], &["SetValue", "cmi.location", "p1"], &["Commit", ""]]);
    let ack = store.apply_scorm_commit(&s.session_id, &s.token, std::slice::from_ref(&first), now).await.unwrap();
    assert_eq!((ack.acked_seq, ack.applied.clone()), (1, vec![1]));
    // the same batch again (a retry after a lost answer) is acknowledged and not applied
    let again = store.apply_scorm_commit(&s.session_id, &s.token, std::slice::from_ref(&first), now).await.unwrap();
    assert_eq!((again.acked_seq, again.applied.len()), (1, 0));
    assert_eq!(store.scorm_commit_count(&id).await.unwrap(), 1);
    // a gap: batch 3 without 2 is not applied; 2 and 3 together are
    let third = batch(3, &[&["SetValue", "cmi.location", "p3"], &["Commit", ""]]);
    let gap = store.apply_scorm_commit(&s.session_id, &s.token, std::slice::from_ref(&third), now).await.unwrap();
    assert_eq!((gap.acked_seq, gap.applied.len()), (1, 0));
    let second = batch(2, &[&["SetValue", "cmi.location", "p2"], &["Commit", ""]]);
    let both = store.apply_scorm_commit(&s.session_id, &s.token, &[third, first, second], now).await.unwrap();
    assert_eq!((both.acked_seq, both.applied.clone()), (3, vec![2, 3]));
    let states = store.scorm_sco_states(&id).await.unwrap();
    assert_eq!(value(&states[0].attempt_json, "cmi.location").as_deref(), Some("p3"));
    assert_eq!(store.scorm_commit_count(&id).await.unwrap(), 3);
    // a wrong token is no session at all
    let wrong = store.apply_scorm_commit(&s.session_id, "not-the-token", &[batch(4, &[&["Commit", ""]])], now).await;
    assert!(matches!(wrong, Err(Error::NotFound { .. })), "{wrong:?}");
});

on_both!(refused_calls_are_reported, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = registration(&store, &package_id, AfterCompletion::Review).await;
    let s = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let b = batch(1, &[&["Initialize", ""], &["SetValue", "cmi.score.scaled", "7"], &["Commit", ""]]);
    let ack = store.apply_scorm_commit(&s.session_id, &s.token, &[b], UnixMillis(5)).await.unwrap();
    assert_eq!(ack.refused.len(), 1);
    assert_eq!(ack.refused[0].error, 407);
});

on_both!(suspend_and_resume, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = registration(&store, &package_id, AfterCompletion::Review).await;
    let s = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let calls: &[&[&str]] = &[
        &["Initialize", ""],
        &["SetValue", "cmi.location", "page-7"],
        &["SetValue", "cmi.suspend_data", "state=42"],
        &["SetValue", "cmi.session_time", "PT1M"],
        &["SetValue", "cmi.exit", "suspend"],
        &["Terminate", ""],
    ];
    let ack = store.apply_scorm_commit(&s.session_id, &s.token, &[batch(1, calls)], UnixMillis(10)).await.unwrap();
    assert!(ack.terminated);
    let next = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    assert_eq!(value(&next.attempt_json, "cmi.entry").as_deref(), Some("resume"));
    assert_eq!(value(&next.attempt_json, "cmi.location").as_deref(), Some("page-7"));
    assert_eq!(value(&next.attempt_json, "cmi.suspend_data").as_deref(), Some("state=42"));
    assert_eq!(value(&next.attempt_json, "cmi.total_time").as_deref(), Some("PT1M"));
    // the older session is superseded: its late commits are refused
    let late = store.apply_scorm_commit(&s.session_id, &s.token, &[batch(2, &[&["Commit", ""]])], UnixMillis(11)).await;
    assert!(matches!(late, Err(Error::Conflict { .. })), "{late:?}");
    // a launch that never initialized is reused as prepared (no second begin_next_session)
    let again = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    assert_eq!(value(&again.attempt_json, "cmi.entry").as_deref(), Some("resume"));
    let start = store.scorm_session_start(&again.session_id, &again.token).await.unwrap().unwrap();
    assert!(start.fresh);
    let old = store.scorm_session_start(&next.session_id, &next.token).await.unwrap().unwrap();
    assert!(!old.fresh, "a superseded session must not start again");
});

on_both!(new_attempt_and_review, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = registration(&store, &package_id, AfterCompletion::NewAttempt).await;
    let s = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let calls: &[&[&str]] =
        &[&["Initialize", ""], &["SetValue", "cmi.completion_status", "completed"], &["Terminate", ""]];
    store.apply_scorm_commit(&s.session_id, &s.token, &[batch(1, calls)], UnixMillis(10)).await.unwrap();
    let fresh = store.open_scorm_session(&id, "i1", LaunchKind::NewAttempt, config(), None).await.unwrap();
    assert_eq!(fresh.attempt, 2);
    assert_eq!(value(&fresh.attempt_json, "cmi.completion_status").as_deref(), Some("unknown"));
    assert_eq!(store.scorm_registration(&id).await.unwrap().unwrap().attempt, 2);
    // review shows the stored data read-only and stores nothing
    let review = store.open_scorm_session(&id, "i1", LaunchKind::Review, config(), None).await.unwrap();
    assert!(review.review);
    let attempt = Attempt::from_json(&review.attempt_json).unwrap();
    assert_eq!(attempt.config().mode, lms_rte::Mode::Review);
    let before = store.scorm_commit_count(&id).await.unwrap();
    let b = batch(1, &[&["Initialize", ""], &["SetValue", "cmi.location", "x"], &["Terminate", ""]]);
    let ack = store.apply_scorm_commit(&review.session_id, &review.token, &[b], UnixMillis(20)).await.unwrap();
    assert_eq!(ack.acked_seq, 1);
    assert_eq!(store.scorm_commit_count(&id).await.unwrap(), before);
});

on_both!(concurrent_commits_of_one_session_apply_once, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = registration(&store, &package_id, AfterCompletion::Review).await;
    let s = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let b1 = batch(1, &[&["Initialize", ""], &["SetValue", "cmi.suspend_data", "a"], &["Commit", ""]]);
    let b2 = batch(2, &[&["SetValue", "cmi.suspend_data", "ab"], &["Commit", ""]]);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, sid, token, batches) = (store.clone(), s.session_id.clone(), s.token.clone(), vec![b1.clone(), b2.clone()]);
        tasks.push(tokio::spawn(async move { store.apply_scorm_commit(&sid, &token, &batches, UnixMillis(1)).await }));
    }
    let mut applied = 0;
    for t in tasks {
        let ack = t.await.unwrap().unwrap();
        assert_eq!(ack.acked_seq, 2);
        applied += ack.applied.len();
    }
    assert_eq!(applied, 2, "each batch is applied exactly once");
    assert_eq!(store.scorm_commit_count(&id).await.unwrap(), 2);
    let states = store.scorm_sco_states(&id).await.unwrap();
    assert_eq!(value(&states[0].attempt_json, "cmi.suspend_data").as_deref(), Some("ab"));
});

on_both!(sequencing_state_is_versioned_and_saved_with_the_session, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = registration(&store, &package_id, AfterCompletion::Review).await;
    assert!(store.scorm_sequencing_state(&id).await.unwrap().is_none());
    assert!(store.scorm_learner_objectives("L1").await.unwrap().is_none());
    // a delivery: the state is stored with the session, in one transaction
    let save = |state: &str, expected: Option<i64>, shared: Option<&str>| SequencingSave {
        registration_id: id.clone(),
        state_json: state.to_string(),
        expected_version: expected,
        learner_objectives: shared.map(|s| ("L1".to_string(), s.to_string())),
    };
    let prepare = |attempt: &mut Attempt| {
        attempt.initialize_objectives(&[lms_rte::ObjectiveInit {
            id: "obj-1".into(),
            success_status: Some("passed".into()),
            ..Default::default()
        }])
    };
    let opened = store
        .open_scorm_session_prepared(&id, "i1", LaunchKind::NewScoAttempt, config(), None, &prepare, Some(&save("{\"v\":1}", None, None)))
        .await
        .unwrap();
    assert_eq!(value(&opened.attempt_json, "cmi.objectives.0.success_status").as_deref(), Some("passed"));
    let record = store.scorm_sequencing_state(&id).await.unwrap().unwrap();
    assert_eq!((record.state_json.as_str(), record.version), ("{\"v\":1}", 1));
    // a save must name the version it read: a stale one is a conflict and changes nothing
    assert_eq!(store.save_scorm_sequencing(&save("{\"v\":2}", Some(1), Some("{\"g\":1}"))).await.unwrap(), 2);
    let stale = store.save_scorm_sequencing(&save("{\"v\":3}", Some(1), Some("{\"g\":2}"))).await;
    assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");
    let again = store.save_scorm_sequencing(&save("{\"v\":3}", None, None)).await;
    assert!(matches!(again, Err(Error::Conflict { .. })), "{again:?}");
    let record = store.scorm_sequencing_state(&id).await.unwrap().unwrap();
    assert_eq!((record.state_json.as_str(), record.version), ("{\"v\":2}", 2));
    assert_eq!(store.scorm_learner_objectives("L1").await.unwrap().as_deref(), Some("{\"g\":1}"));
    // a failed session opening stores no sequencing state either
    let failed = store
        .open_scorm_session_prepared(&id, "i1", LaunchKind::Normal, config(), None, &|_| {}, Some(&save("{\"v\":9}", Some(1), None)))
        .await;
    assert!(matches!(failed, Err(Error::Conflict { .. })), "{failed:?}");
    assert_eq!(store.scorm_sequencing_state(&id).await.unwrap().unwrap().version, 2);
    // a new attempt of a suspended SCO starts with fresh data (the sequencer said so)
    let url_session = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let now = UnixMillis(1_800_000_000_000);
    store
        .apply_scorm_commit(
            &url_session.session_id,
            &url_session.token,
            &[batch(1, &[&["Initialize", ""], &["SetValue", "cmi.location", "p3"], &["SetValue", "cmi.exit", "suspend"], &["Terminate", ""]])],
            now,
        )
        .await
        .unwrap();
    let resumed = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    assert_eq!(value(&resumed.attempt_json, "cmi.location").as_deref(), Some("p3"));
    let fresh = store.open_scorm_session(&id, "i1", LaunchKind::NewScoAttempt, config(), None).await.unwrap();
    assert_eq!(value(&fresh.attempt_json, "cmi.location"), None);
    assert_eq!(value(&fresh.attempt_json, "cmi.entry").as_deref(), Some("ab-initio"));
});

// SCORM as xAPI (issue 4): a session opened with an xAPI context stores its run-time events as
// statements in the same transaction as the commit; a retried commit adds none; a review
// session and a session without a context write none.
on_both!(commits_write_xapi_statements, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let id = registration(&store, &package_id, AfterCompletion::Review).await;
    let context =
        lms_store::ScoXapiContext::new("https://lms.example.org/", "L1", "course-key", "Store test", "i1", "One").unwrap();
    assert_eq!(context.sco_iri, "https://lms.example.org/courses/course-key/sco/i1");
    // a public URL that cannot be an IRI base is refused with the setting named
    for bad in ["lms.example.org", "https://", "https://lms.example.org/?a=b", ""] {
        let refused = lms_store::ScoXapiContext::new(bad, "L1", "course-key", "Store test", "i1", "One");
        assert!(matches!(&refused, Err(Error::Invalid { field: "public_url", .. })), "{bad:?}: {refused:?}");
    }
    let s = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), Some(&context)).await.unwrap();
    let calls = batch(
        1,
        &[
            &["Initialize", ""],
            &["SetValue", "cmi.interactions.0.id", "q1"],
            &["SetValue", "cmi.interactions.0.type", "true-false"],
            &["SetValue", "cmi.interactions.0.learner_response", "true"],
            &["SetValue", "cmi.interactions.0.result", "correct"],
            &["SetValue", "cmi.score.scaled", "0.9"],
            &["SetValue", "cmi.completion_status", "completed"],
            &["SetValue", "cmi.success_status", "passed"],
            &["Terminate", ""],
        ],
    );
    let ack = store.apply_scorm_commit(&s.session_id, &s.token, std::slice::from_ref(&calls), UnixMillis(1_700_000_000_000)).await.unwrap();
    assert!(ack.refused.is_empty(), "{:?}", ack.refused);
    assert_eq!(ack.completion_reported.as_deref(), Some(id.as_str()));
    let filter = lms_store::StatementFilter { registration: Some(id.clone()), ascending: true, limit: 100, ..Default::default() };
    let page = store.query_xapi_statements(&filter).await.unwrap();
    let verbs: Vec<String> = page
        .statements
        .iter()
        .map(|s| {
            let v: serde_json::Value = serde_json::from_str(&s.json).unwrap();
            assert_eq!(v["actor"]["account"]["name"], "L1", "{v}");
            assert_eq!(v["actor"]["account"]["homePage"], "https://lms.example.org", "{v}");
            v["verb"]["id"].as_str().unwrap().rsplit('/').next().unwrap().to_string()
        })
        .collect();
    for expected in ["initialized", "answered", "scored", "completed", "passed", "terminated"] {
        assert!(verbs.iter().any(|v| v == expected), "{expected} missing from {verbs:?}");
    }
    assert_eq!(verbs.first().map(String::as_str), Some("initialized"), "{verbs:?}");
    assert_eq!(verbs.last().map(String::as_str), Some("terminated"), "{verbs:?}");
    assert_eq!(ack.statements_stored, verbs.len());
    // the statements are found by the learner too
    let by_agent = lms_store::StatementFilter {
        agent: Some(lms_xapi::Ifi::Account { home_page: "https://lms.example.org".into(), name: "L1".into() }.key()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(store.query_xapi_statements(&by_agent).await.unwrap().statements.len(), verbs.len());
    // a retry of the same commit stores nothing twice
    store.apply_scorm_commit(&s.session_id, &s.token, &[calls], UnixMillis(1_700_000_000_000)).await.unwrap();
    assert_eq!(store.query_xapi_statements(&filter).await.unwrap().statements.len(), verbs.len());
    // review launches and sessions without a context write no statements
    let review = store.open_scorm_session(&id, "i1", LaunchKind::Review, config(), Some(&context)).await.unwrap();
    store
        .apply_scorm_commit(&review.session_id, &review.token, &[batch(1, &[&["Initialize", ""], &["Terminate", ""]])], UnixMillis(1_700_000_100_000))
        .await
        .unwrap();
    let plain = store.open_scorm_session(&id, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let ack = store
        .apply_scorm_commit(&plain.session_id, &plain.token, &[batch(1, &[&["Initialize", ""], &["Terminate", ""]])], UnixMillis(1_700_000_200_000))
        .await
        .unwrap();
    assert_eq!(ack.statements_stored, 0);
    assert_eq!(store.query_xapi_statements(&filter).await.unwrap().statements.len(), verbs.len());
});

// Group commit: several sessions' commits in one transaction, each under its own savepoint —
// a refused one (wrong token, superseded session) leaves the others applied and itself
// changes nothing.
on_both!(group_commit_isolates_refused_commits, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let a = registration(&store, &package_id, AfterCompletion::Review).await;
    let b = registration(&store, &package_id, AfterCompletion::Review).await;
    let sa = store.open_scorm_session(&a, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let sb = store.open_scorm_session(&b, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let calls = |loc: &str| vec![batch(1, &[&["Initialize", ""], &["SetValue", "cmi.location", loc], &["Commit", ""]])];
    let request = |s: &lms_store::OpenedSession, token: &str, loc: &str| lms_store::ScormCommitRequest {
        session_id: s.session_id.clone(),
        token: token.into(),
        batches: calls(loc),
        now: UnixMillis(1_000),
    };
    let outcomes = store
        .apply_scorm_commits(&[request(&sa, &sa.token, "a1"), request(&sb, "wrong-token", "b1"), request(&sb, &sb.token, "b2")])
        .await
        .unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap().applied, vec![1]);
    assert!(matches!(outcomes[1], Err(Error::NotFound { .. })), "{:?}", outcomes[1]);
    assert_eq!(outcomes[2].as_ref().unwrap().applied, vec![1]);
    let location = |id: String| {
        let store = store.clone();
        async move { value(&store.scorm_sco_states(&id).await.unwrap()[0].attempt_json, "cmi.location") }
    };
    assert_eq!(location(a.clone()).await.as_deref(), Some("a1"));
    assert_eq!(location(b.clone()).await.as_deref(), Some("b2"));
    assert_eq!(store.scorm_commit_count(&b).await.unwrap(), 1);
    // the writer task gives the same answers to concurrent callers
    let writer = lms_store::ScormCommitWriter::spawn(store.clone());
    let sa2 = store.open_scorm_session(&a, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let sb2 = store.open_scorm_session(&b, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let (ra, rb, stale) = tokio::join!(
        writer.apply(request(&sa2, &sa2.token, "a2")),
        writer.apply(request(&sb2, &sb2.token, "b3")),
        writer.apply(lms_store::ScormCommitRequest { batches: vec![batch(2, &[&["Commit", ""]])], ..request(&sb, &sb.token, "x") }),
    );
    assert_eq!(ra.unwrap().applied, vec![1]);
    assert_eq!(rb.unwrap().applied, vec![1]);
    assert!(matches!(stale, Err(Error::Conflict { .. })), "a superseded session: {stale:?}");
    assert_eq!(location(b).await.as_deref(), Some("b3"));
    // the writer's lanes keep connections of their own; closing the store must not wait for them
    tokio::time::timeout(std::time::Duration::from_secs(10), store.close())
        .await
        .expect("closing the store while the SCORM commit writer is alive");
    drop(writer);
});

// A group holding the same session twice (its next batch, and a retry of one already applied),
// an unknown session and a review session of a SCO never launched for credit: each is decided
// on the state the commits before it in the group left.
on_both!(group_commit_applies_in_order_within_the_group, |store: Store, dir: PathBuf| async move {
    let package_id = setup(&store, &dir).await;
    let a = registration(&store, &package_id, AfterCompletion::Review).await;
    let r = registration(&store, &package_id, AfterCompletion::Review).await;
    let sa = store.open_scorm_session(&a, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let review = store.open_scorm_session(&r, "i1", LaunchKind::Review, config(), None).await.unwrap();
    let request = |s: &lms_store::OpenedSession, b: CommitBatchIn| lms_store::ScormCommitRequest {
        session_id: s.session_id.clone(),
        token: s.token.clone(),
        batches: vec![b],
        now: UnixMillis(1_000),
    };
    let first = batch(1, &[&["Initialize", ""], &["SetValue", "cmi.location", "p1"], &["Commit", ""]]);
    let second = batch(2, &[&["SetValue", "cmi.location", "p2"], &["Commit", ""]]);
    let unknown = lms_store::ScormCommitRequest { session_id: "no-such-session".into(), ..request(&sa, second.clone()) };
    let outcomes = store
        .apply_scorm_commits(&[
            request(&sa, first.clone()),
            request(&sa, second.clone()),
            request(&sa, first),
            unknown,
            request(&review, batch(1, &[&["Initialize", ""], &["SetValue", "cmi.location", "x"], &["Terminate", ""]])),
        ])
        .await
        .unwrap();
    let ack = |i: usize| outcomes[i].as_ref().map(|a| (a.acked_seq, a.applied.clone())).unwrap();
    assert_eq!(ack(0), (1, vec![1]));
    assert_eq!(ack(1), (2, vec![2]));
    assert_eq!(ack(2), (2, vec![]), "a retry of an applied batch in the same group");
    assert!(matches!(outcomes[3], Err(Error::NotFound { .. })), "{:?}", outcomes[3]);
    assert_eq!(ack(4), (1, vec![1]));
    assert!(outcomes[4].as_ref().unwrap().terminated);
    assert_eq!(value(&store.scorm_sco_states(&a).await.unwrap()[0].attempt_json, "cmi.location").as_deref(), Some("p2"));
    assert_eq!(store.scorm_commit_count(&a).await.unwrap(), 2);
    assert_eq!(store.scorm_commit_count(&r).await.unwrap(), 0);
    assert!(store.scorm_sco_states(&r).await.unwrap().is_empty(), "review stores no state");
    // the sessions' sequence numbers were stored: the next batches continue from them
    let ack = store.apply_scorm_commit(&sa.session_id, &sa.token, &[second], UnixMillis(2_000)).await.unwrap();
    assert_eq!((ack.acked_seq, ack.applied.len()), (2, 0));
    let ack =
        store.apply_scorm_commit(&review.session_id, &review.token, &[batch(1, &[&["Commit", ""]])], UnixMillis(2_000)).await.unwrap();
    assert_eq!((ack.acked_seq, ack.applied.len()), (1, 0));
});

/// A group whose transaction fails after it began (here: a commit row that already exists,
/// written behind the store's back) is applied again commit by commit: only the commit that
/// cannot be stored fails, and the others are stored.
async fn failed_group_is_applied_commit_by_commit(store: Store, dir: PathBuf, url: String) {
    use sqlx::Connection;
    let package_id = setup(&store, &dir).await;
    let a = registration(&store, &package_id, AfterCompletion::Review).await;
    let b = registration(&store, &package_id, AfterCompletion::Review).await;
    let sa = store.open_scorm_session(&a, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let sb = store.open_scorm_session(&b, "i1", LaunchKind::Normal, config(), None).await.unwrap();
    let sql = "INSERT INTO scorm_commits (session_id, seq, registration_id, item_id, calls_json, changes_json, events_json, terminated, created_at) \
               VALUES ($1, 1, $2, 'i1', '[]', '[]', '[]', false, 'x')";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(sql).bind(&sb.session_id).bind(&b).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(sql).bind(&sb.session_id).bind(&b).execute(&mut conn).await.unwrap();
    }
    let request = |s: &lms_store::OpenedSession, loc: &str| lms_store::ScormCommitRequest {
        session_id: s.session_id.clone(),
        token: s.token.clone(),
        batches: vec![batch(1, &[&["Initialize", ""], &["SetValue", "cmi.location", loc], &["Commit", ""]])],
        now: UnixMillis(1_000),
    };
    let outcomes = store.apply_scorm_commits(&[request(&sa, "a1"), request(&sb, "b1")]).await.unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap().applied, vec![1]);
    assert!(outcomes[1].as_ref().is_err_and(|e| e.is_unique_violation()), "{:?}", outcomes[1]);
    assert_eq!(value(&store.scorm_sco_states(&a).await.unwrap()[0].attempt_json, "cmi.location").as_deref(), Some("a1"));
    assert_eq!(value(&store.scorm_sco_states(&b).await.unwrap()[0].attempt_json, "cmi.location"), None);
    // the failed commit was not acknowledged: its session still expects batch 1
    let retry = store.apply_scorm_commit(&sb.session_id, &sb.token, &request(&sb, "b1").batches, UnixMillis(2_000)).await;
    assert!(retry.is_err_and(|e| e.is_unique_violation()));
}

mod failed_group_is_applied_commit_by_commit {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let db = crate::harness::TestDb::sqlite().await;
        super::failed_group_is_applied_commit_by_commit(db.store.clone(), db.dir.path().to_path_buf(), db.database_url()).await;
        db.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(db) = crate::harness::TestDb::postgres().await else { return };
        super::failed_group_is_applied_commit_by_commit(db.store.clone(), db.dir.path().to_path_buf(), db.database_url()).await;
        db.finish().await;
    }
}
