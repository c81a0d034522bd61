//! HTTP tests: SCORM 2004 navigation through the sequencer (issue 5): request validity in the
//! player and in `adl.nav.request_valid.*`, the SCO's data reported at the next navigation,
//! the tree state persisted per registration (suspend all, resume all), `hideLMSUI`, refusals
//! with a message, and global objectives shared across packages of a learner.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::foundation::zip_bytes;
use crate::support::*;

/// Three SCOs: `two` is disabled until `one` is satisfied (through the global objective
/// `g-one`), `three` hides the suspend-all button. `b1` (in the `reader` variant) reads `g-one`.
fn manifest(identifier: &str, global_to_system: bool, reader: bool) -> String {
    let items = if reader {
        r#"<item identifier="b1" identifierref="r1"><title>Reader</title>
             <imsss:sequencing><imsss:objectives>
               <imsss:primaryObjective objectiveID="obj-b1"/>
               <imsss:objective objectiveID="obj-g"><imsss:mapInfo targetObjectiveID="g-one" readSatisfiedStatus="true"/></imsss:objective>
             </imsss:objectives></imsss:sequencing></item>"#
            .to_string()
    } else {
        r#"<item identifier="one" identifierref="r1"><title>One</title>
             <imsss:sequencing><imsss:objectives>
               <imsss:primaryObjective objectiveID="obj-one"><imsss:mapInfo targetObjectiveID="g-one" writeSatisfiedStatus="true"/></imsss:primaryObjective>
             </imsss:objectives></imsss:sequencing></item>
           <item identifier="two" identifierref="r1"><title>Two</title>
             <imsss:sequencing>
               <imsss:sequencingRules><imsss:preConditionRule>
                 <imsss:ruleConditions conditionCombination="any">
                   <imsss:ruleCondition referencedObjective="obj-prev" operator="not" condition="satisfied"/>
                   <imsss:ruleCondition referencedObjective="obj-prev" operator="not" condition="objectiveStatusKnown"/>
                 </imsss:ruleConditions><imsss:ruleAction action="disabled"/>
               </imsss:preConditionRule></imsss:sequencingRules>
               <imsss:objectives>
                 <imsss:primaryObjective objectiveID="obj-two"/>
                 <imsss:objective objectiveID="obj-prev"><imsss:mapInfo targetObjectiveID="g-one" readSatisfiedStatus="true"/></imsss:objective>
               </imsss:objectives></imsss:sequencing></item>
           <item identifier="three" identifierref="r1"><title>Three</title>
             <adlnav:presentation><adlnav:navigationInterface><adlnav:hideLMSUI>suspendAll</adlnav:hideLMSUI></adlnav:navigationInterface></adlnav:presentation>
           </item>"#
            .to_string()
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="{identifier}" version="1"
  xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3"
  xmlns:imsss="http://www.imsglobal.org/xsd/imsss" xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"
  xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org"><organization identifier="org" adlseq:objectivesGlobalToSystem="{global_to_system}"><title>Sequenced</title>
    {items}
    <imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>
  </organization></organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="sco.html"><file href="sco.html"/></resource>
  </resources>
</manifest>"#
    )
}

async fn register(env: &Env, manifest: &str) -> String {
    let zip = zip_bytes(&[("imsmanifest.xml", manifest.as_bytes()), ("sco.html", b"<p>sco</p>")]);
    let r = send(env, post_zip(&env.author, zip)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
    let package_id = r.json()["id"].as_str().unwrap().to_string();
    let body = json!({ "package_id": package_id, "personnel_number": "L1" }).to_string();
    let r = send(env, post_json("/api/registrations", Some(&env.learner), &body)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    r.json()["id"].as_str().unwrap().to_string()
}

async fn navigate(env: &Env, registration: &str, request: Value) -> Reply {
    send(env, post_json(&format!("/api/registrations/{registration}/sessions"), Some(&env.learner), &request.to_string())).await
}

fn frame_config(r: &Reply) -> Value {
    let html = String::from_utf8_lossy(&r.bytes);
    let start = html.find("id=\"lms-frame-config\">").unwrap() + "id=\"lms-frame-config\">".len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

async fn frame(env: &Env, delivery: &Reply) -> Value {
    let url = delivery.json()["frame_url"].as_str().unwrap().to_string();
    frame_config(&send_content(env, get(&url, None)).await)
}

async fn commit(env: &Env, delivery: &Reply, calls: Value) -> Value {
    let url = delivery.json()["frame_url"].as_str().unwrap().to_string();
    let (path, token) = url.split_once("?token=").unwrap();
    let session = path.rsplit('/').next().unwrap();
    let request = Request::post(format!("/scorm/commit/{session}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(json!({ "token": token, "batches": [{ "seq": 1, "calls": calls }] }).to_string()))
        .unwrap();
    let r = send_content(env, request).await;
    assert_eq!(r.status, StatusCode::OK, "{}", String::from_utf8_lossy(&r.bytes));
    r.json()
}

async fn report(env: &Env, registration: &str) -> Value {
    send(env, get(&format!("/api/registrations/{registration}"), Some(&env.learner))).await.json()
}

async fn stored_version(env: &Env, registration: &str) -> i64 {
    env.state.store.scorm_sequencing_state(registration).await.unwrap().map(|r| r.version).unwrap_or(0)
}

#[tokio::test]
async fn sequencer_drives_delivery_validity_and_suspend_resume() {
    let env = env().await;
    let id = register(&env, &manifest("com.example.seq", false, false)).await;
    // start: one; two is disabled until one is satisfied
    let r = navigate(&env, &id, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(r.json()["item_id"], "one");
    let nav = &r.json()["navigation"];
    assert_eq!((nav["continue"].as_bool(), nav["previous"].as_bool()), (Some(true), Some(false)), "{nav}");
    assert_eq!(nav["activities"]["two"], json!({ "choice": false, "hidden": false, "disabled": true }));
    assert_eq!(nav["activities"]["three"]["choice"], true);
    // the SCO sees the same answers in adl.nav.request_valid.*
    let config = frame(&env, &r).await;
    assert_eq!(config["attempt"]["navigation"]["continue_"], "true", "{config}");
    assert_eq!(config["attempt"]["navigation"]["choice"]["two"], "false");
    assert_eq!(stored_version(&env, &id).await, 1);
    // the SCO passes and asks for continue; the player shows two as choosable while it runs
    let ack = commit(
        &env,
        &r,
        json!([["Initialize", ""], ["SetValue", "cmi.completion_status", "completed"], ["SetValue", "cmi.success_status", "passed"],
               ["SetValue", "adl.nav.request", "continue"], ["Terminate", ""]]),
    )
    .await;
    assert_eq!(ack["nav_request"], "continue");
    let live = report(&env, &id).await;
    assert_eq!(live["sequencing"]["current"], "one", "{live}");
    assert_eq!(live["sequencing"]["navigation"]["activities"]["two"]["choice"], true, "{live}");
    assert_eq!(stored_version(&env, &id).await, 1, "a report while the SCO runs stores nothing");
    // continue: two (its data reported first), stored with the session
    let r = navigate(&env, &id, json!({ "request": "continue" })).await;
    assert_eq!(r.json()["item_id"], "two", "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(stored_version(&env, &id).await, 2);
    // a refused request: a message, nothing stored, the SCO stays
    let r = navigate(&env, &id, json!({ "request": "{target=nope}choice" })).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!((r.json()["end"].as_bool(), r.json()["refused"].as_bool(), r.json()["active"].as_bool()), (Some(true), Some(true), Some(true)));
    assert!(r.json()["message"].as_str().unwrap().starts_with("That activity cannot be opened now:"), "{}", r.json());
    assert_eq!(stored_version(&env, &id).await, 2);
    let r = navigate(&env, &id, json!({ "request": "fly" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = navigate(&env, &id, json!({ "request": "choice" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // suspend all: the course is left; the whole tree is kept for a later session
    let r = navigate(&env, &id, json!({ "request": "suspendAll" })).await;
    assert_eq!(r.json()["end"], true);
    assert!(r.json()["message"].as_str().unwrap().contains("resume"), "{}", r.json());
    assert_eq!(r.json()["navigation"]["resume_all"], true);
    let live = report(&env, &id).await;
    assert_eq!((live["sequencing"]["current"].clone(), live["sequencing"]["suspended"].clone()), (Value::Null, json!("two")));
    // opening the player again resumes where the learner left off
    let r = navigate(&env, &id, json!({ "request": "resume" })).await;
    assert_eq!(r.json()["item_id"], "two");
    // a reload of the player relaunches the active activity without navigating
    let version = stored_version(&env, &id).await;
    let r = navigate(&env, &id, json!({})).await;
    assert_eq!(r.json()["item_id"], "two");
    assert_eq!(stored_version(&env, &id).await, version);
    // previous, then choice of three, whose hideLMSUI hides suspend all
    let r = navigate(&env, &id, json!({ "request": "previous" })).await;
    assert_eq!(r.json()["item_id"], "one");
    let r = navigate(&env, &id, json!({ "request": "choice", "target": "three" })).await;
    assert_eq!(r.json()["item_id"], "three");
    assert_eq!(r.json()["navigation"]["hide"], json!(["suspend_all"]));
    assert_eq!(r.json()["navigation"]["continue"], true);
    // exit all ends the course; the next opening starts a new attempt of it
    let r = navigate(&env, &id, json!({ "request": "exitAll" })).await;
    assert_eq!((r.json()["end"].as_bool(), r.json()["message"].as_str()), (Some(true), Some("The course has ended.")));
    let r = navigate(&env, &id, json!({})).await;
    assert_eq!(r.json()["item_id"], "one");
    let live = report(&env, &id).await;
    assert_eq!(live["sequencing"]["course"]["attempts"], 2, "{live}");
}

#[tokio::test]
async fn global_objectives_are_shared_across_packages_only_when_global_to_system() {
    let env = env().await;
    let writer = register(&env, &manifest("com.example.writer", true, false)).await;
    let r = navigate(&env, &writer, json!({})).await;
    assert_eq!(r.json()["item_id"], "one");
    commit(&env, &r, json!([["Initialize", ""], ["SetValue", "cmi.success_status", "passed"], ["Terminate", ""]])).await;
    let r = navigate(&env, &writer, json!({ "request": "exitAll" })).await;
    assert_eq!(r.json()["end"], true);
    for (identifier, global, expected) in [("com.example.reader", true, json!("passed")), ("com.example.local", false, Value::Null)] {
        let reader = register(&env, &manifest(identifier, global, true)).await;
        let r = navigate(&env, &reader, json!({})).await;
        assert_eq!(r.json()["item_id"], "b1", "{}", String::from_utf8_lossy(&r.bytes));
        let config = frame(&env, &r).await;
        let objectives = config["attempt"]["data"]["objectives"].as_array().cloned().unwrap_or_default();
        let seen = objectives.iter().find(|o| o["id"] == "obj-g").map(|o| o["success_status"].clone()).unwrap_or(Value::Null);
        assert_eq!(seen, expected, "{identifier}: {objectives:?}");
    }
}
