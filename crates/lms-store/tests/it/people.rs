use std::collections::BTreeSet;
use std::path::PathBuf;

use lms_store::{Error, NewOrgUnit, NewPerson, PersonRow, Role, Store};

use crate::harness::on_both;

fn person(pn: &str, unit: Option<&str>, roles: &[Role]) -> NewPerson {
    NewPerson {
        personnel_number: pn.into(),
        name: format!("Person {pn}"),
        org_unit: unit.map(str::to_string),
        roles: roles.iter().copied().collect(),
        password: None,
    }
}

on_both!(org_units_and_people, |store: Store, _dir: PathBuf| async move {
    let root = store.create_org_unit(&NewOrgUnit { id: "CITY".into(), name: "City".into(), parent_id: None }).await.unwrap();
    assert_eq!(root.parent_id, None);
    store
        .create_org_unit(&NewOrgUnit { id: "HR".into(), name: "Personalamt".into(), parent_id: Some("CITY".into()) })
        .await
        .unwrap();
    let dup = store.create_org_unit(&NewOrgUnit { id: "HR".into(), name: "again".into(), parent_id: None }).await;
    assert!(matches!(dup, Err(Error::Conflict { .. })), "{dup:?}");
    let orphan =
        store.create_org_unit(&NewOrgUnit { id: "X".into(), name: "X".into(), parent_id: Some("NOPE".into()) }).await;
    assert!(matches!(orphan, Err(Error::Invalid { field: "parent_id", .. })), "{orphan:?}");

    let created = store.create_person(&person("100234", Some("HR"), &[Role::Manager])).await.unwrap();
    assert_eq!(created.roles, BTreeSet::from([Role::Manager]));
    let fetched = store.person("100234").await.unwrap().unwrap();
    assert_eq!(fetched.org_unit.as_deref(), Some("HR"));
    assert_eq!(fetched.name, "Person 100234");
    assert!(!fetched.has_password);

    // Defaults to learner; duplicates are conflicts; bad numbers and unknown units are invalid.
    assert_eq!(store.create_person(&person("100235", None, &[])).await.unwrap().roles, BTreeSet::from([Role::Learner]));
    assert!(matches!(store.create_person(&person("100234", None, &[])).await, Err(Error::Conflict { .. })));
    assert!(matches!(
        store.create_person(&person("12 34", None, &[])).await,
        Err(Error::Invalid { field: "personnel_number", .. })
    ));
    assert!(matches!(
        store.create_person(&person("100236", Some("NOPE"), &[])).await,
        Err(Error::Invalid { field: "org_unit", .. })
    ));
    assert!(store.person("100236").await.unwrap().is_none());
    assert_eq!(store.count_people().await.unwrap(), 2);
});

on_both!(passwords_sessions_and_tokens, |store: Store, _dir: PathBuf| async move {
    store.create_person(&NewPerson { password: Some("correct horse".into()), ..person("42", None, &[]) }).await.unwrap();
    assert!(store.login("42", "wrong password", chrono::Duration::hours(1)).await.unwrap().is_none());
    assert!(store.login("nobody", "correct horse", chrono::Duration::hours(1)).await.unwrap().is_none());
    let session = store.login("42", "correct horse", chrono::Duration::hours(1)).await.unwrap().unwrap();
    assert_eq!(store.person_for_session(&session).await.unwrap().unwrap().personnel_number, "42");
    assert!(store.person_for_session("not-a-session").await.unwrap().is_none());
    store.logout(&session).await.unwrap();
    assert!(store.person_for_session(&session).await.unwrap().is_none());
    // An expired session is refused.
    let expired = store.login("42", "correct horse", chrono::Duration::seconds(-5)).await.unwrap().unwrap();
    assert!(store.person_for_session(&expired).await.unwrap().is_none());

    assert!(matches!(store.set_password("42", "short").await, Err(Error::Invalid { field: "password", .. })));
    assert!(matches!(store.set_password("nobody", "long enough").await, Err(Error::NotFound { .. })));

    let token = store.create_api_token("42", "test").await.unwrap();
    assert_eq!(store.person_for_token(&token).await.unwrap().unwrap().personnel_number, "42");
    assert!(store.person_for_token("deadbeef").await.unwrap().is_none());

    // The bootstrap admin is created once and keeps working across restarts.
    store.ensure_bootstrap_admin("bootstrap-secret-123").await.unwrap();
    store.ensure_bootstrap_admin("bootstrap-secret-123").await.unwrap();
    let admin = store.person_for_token("bootstrap-secret-123").await.unwrap().unwrap();
    assert!(admin.has_role(Role::Admin));
    assert!(store.ensure_bootstrap_admin("short").await.is_err());
});

fn row(line: u64, pn: &str, name: &str, unit: &str, roles: &str) -> PersonRow {
    PersonRow { line, personnel_number: pn.into(), name: name.into(), org_unit: unit.into(), roles: roles.into() }
}

on_both!(people_import_reports_and_updates, |store: Store, _dir: PathBuf| async move {
    let mut rows: Vec<PersonRow> =
        (0..1200).map(|i| row(i + 2, &format!("P{i:05}"), &format!("Mitarbeiterin {i}"), &format!("OU{}", i % 7), "")).collect();
    rows.push(row(2000, "", "No Number", "OU1", ""));
    rows.push(row(2001, "P00001", "Duplicate", "OU1", ""));
    rows.push(row(2002, "P99999", "Bad Role", "OU1", "learner;wizard"));
    rows.push(row(2003, "P99998", "  ", "OU1", ""));
    rows.push(row(2004, "P9 9997", "Space", "OU1", ""));
    rows.push(row(2005, "M00001", "Managerin", "OU1", "manager|learner"));
    let report = store.import_people(rows).await.unwrap();
    assert_eq!(report.created, 1201);
    assert_eq!(report.updated, 0);
    let rejected: Vec<(u64, &str)> = report.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(rejected.len(), 5, "{rejected:?}");
    assert!(rejected[0].1.contains("empty"));
    assert!(rejected[1].1.contains("more than once"));
    assert!(rejected[2].1.contains("wizard"));
    assert_eq!(report.created_org_units.len(), 7);
    assert_eq!(store.count_people().await.unwrap(), 1201);
    let m = store.person("M00001").await.unwrap().unwrap();
    assert_eq!(m.roles, BTreeSet::from([Role::Learner, Role::Manager]));

    // Re-import: updates names and roles, creates nothing twice.
    let report = store
        .import_people(vec![row(2, "P00000", "Renamed", "OU3", "trainer"), row(3, "NEW1", "New", "OU-NEW", "")])
        .await
        .unwrap();
    assert_eq!((report.created, report.updated), (1, 1));
    assert_eq!(report.created_org_units, vec!["OU-NEW".to_string()]);
    let p = store.person("P00000").await.unwrap().unwrap();
    assert_eq!((p.name.as_str(), p.org_unit.as_deref()), ("Renamed", Some("OU3")));
    assert_eq!(p.roles, BTreeSet::from([Role::Trainer]));
    assert_eq!(store.count_people().await.unwrap(), 1202);
});

on_both!(reopening_applies_migrations_once, |store: Store, dir: PathBuf| async move {
    store.create_person(&person("7", None, &[])).await.unwrap();
    // Opening the same database again keeps the data and does not re-run migrations.
    if store.backend() == lms_store::Backend::Sqlite {
        let again = Store::open(&lms_store::StoreConfig::sqlite_in(&dir)).await.unwrap();
        assert!(again.person("7").await.unwrap().is_some());
        again.close().await;
    }
});
