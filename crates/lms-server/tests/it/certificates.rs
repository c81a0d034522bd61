//! HTTP tests: certificates (issue 7) — issuance by hand, the public verification page (HTML
//! and JSON, upload of a PDF as raw body or form), revocation, re-issue, rights, the streamed
//! export zip. Every PDF received is checked with the PDF/A-2u validator.

use std::collections::BTreeSet;
use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lms_store::{NewOrgUnit, NewPerson, Role};
use page_validation::{ValidationOptions, ValidationProfile, validate_pdf_bytes};
use serde_json::Value;

use crate::support::*;

const HOLDER: &str = "Jürgen Groß-Weiß";

fn assert_pdfa(label: &str, pdf: &[u8]) {
    let report = validate_pdf_bytes(pdf, &ValidationOptions::default().profile(ValidationProfile::PdfA2u)).unwrap();
    assert!(report.is_compliant && report.rules.failed == 0, "{label}: not PDF/A-2u:\n{report}");
}

async fn setup(env: &Env) {
    let store = &env.state.store;
    store.create_org_unit(&NewOrgUnit { id: "amt10".into(), name: "Amt für Personalentwicklung".into(), parent_id: None }).await.unwrap();
    store
        .create_person(&NewPerson {
            personnel_number: "P1".into(),
            name: HOLDER.into(),
            org_unit: Some("amt10".into()),
            roles: BTreeSet::from([Role::Learner]),
            password: None,
        })
        .await
        .unwrap();
}

const MANUAL: &str = r#"{"personnel_number":"P1","course_title":"Erste Hilfe – Auffrischung","dates":["2026-02-03","2026-02-04"],
    "duration_minutes":480,"trainer":"Dr. Änne Müller","org_unit_id":"amt10"}"#;

fn request(method: &str, uri: &str, token: Option<&str>, content_type: Option<&str>, accept: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(c) = content_type {
        b = b.header(header::CONTENT_TYPE, c);
    }
    if let Some(a) = accept {
        b = b.header(header::ACCEPT, a);
    }
    b.body(Body::from(body)).unwrap()
}

fn multipart(pdf: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----lmsboundary7";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"c.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn issue_verify_tamper_revoke_reissue() {
    let env = env().await;
    setup(&env).await;
    // Only admins issue.
    let reply = send(&env, post_json("/api/certificates", Some(&env.learner), MANUAL)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = send(&env, post_json("/api/certificates", Some(&env.admin), MANUAL)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&reply.bytes));
    let issued = reply.json();
    let code = issued["code"].as_str().unwrap().to_string();
    assert_eq!(issued["certificate"]["holder_name"], HOLDER);
    assert_eq!(issued["status"], "valid");
    // Unknown fields and bad values are refused with the field named.
    let reply = send(&env, post_json("/api/certificates", Some(&env.admin), r#"{"personnel_number":"P1","x":1}"#)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = MANUAL.replace("480", "0");
    let reply = send(&env, post_json("/api/certificates", Some(&env.admin), &bad)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.json()["error"].as_str().unwrap().contains("duration_minutes"));

    // The PDF: admin yes, another learner no.
    let reply = send(&env, get(&format!("/api/certificates/{code}/pdf"), Some(&env.admin))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/pdf");
    let pdf = reply.bytes.clone();
    assert_pdfa("issued", &pdf);
    let reply = send(&env, get(&format!("/api/certificates/{code}/pdf"), Some(&env.learner))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // Public verification, JSON: issuer, course, dates, holder, valid; no personnel number.
    let reply = send(&env, request("GET", &format!("/verify/{code}"), None, None, Some("application/json"), vec![])).await;
    assert_eq!(reply.status, StatusCode::OK);
    let v = reply.json();
    assert_eq!((v["valid"].clone(), v["holder_name"].clone(), v["issuer"].clone()), (Value::Bool(true), Value::from(HOLDER), Value::from("Amt für Personalentwicklung")));
    assert_eq!(v["course_title"], "Erste Hilfe – Auffrischung");
    assert_eq!(v["dates"], serde_json::json!(["2026-02-03", "2026-02-04"]));
    assert!(!String::from_utf8_lossy(&reply.bytes).contains("P1"));
    // HTML (the default), the code typed in lower case without dashes.
    let sloppy = code.replace('-', "").to_lowercase();
    let reply = send(&env, request("GET", &format!("/verify/{sloppy}"), None, None, Some("text/html"), vec![])).await;
    assert_eq!(reply.status, StatusCode::OK);
    let html = String::from_utf8(reply.bytes.clone()).unwrap();
    assert!(html.contains(HOLDER) && html.contains("Gültig / valid") && html.contains("<form method=\"post\""), "{html}");

    // Upload: the issued file matches, an edited one does not (raw body and form).
    let reply = send(&env, request("POST", &format!("/verify/{code}"), None, Some("application/pdf"), Some("application/json"), pdf.clone())).await;
    assert_eq!(reply.json()["pdf_matches"], true);
    let mut edited = pdf.clone();
    let at = edited.windows(4).position(|w| w == b"2026").unwrap();
    edited[at + 3] = b'7';
    let reply = send(&env, request("POST", &format!("/verify/{code}"), None, Some("application/pdf"), Some("application/json"), edited.clone())).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["pdf_matches"], false);
    let (content_type, body) = multipart(&edited);
    let reply = send(&env, request("POST", &format!("/verify/{code}"), None, Some(&content_type), None, body)).await;
    let html = String::from_utf8(reply.bytes.clone()).unwrap();
    assert!(html.contains("does NOT match"), "{html}");
    let (content_type, body) = multipart(&pdf);
    let reply = send(&env, request("POST", &format!("/verify/{code}"), None, Some(&content_type), None, body)).await;
    assert!(String::from_utf8_lossy(&reply.bytes).contains("is the issued certificate"));

    // Unknown and malformed codes.
    let reply = send(&env, request("GET", "/verify/0000-0000-0000-0000", None, None, Some("application/json"), vec![])).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = send(&env, request("GET", "/verify/not-a-code", None, None, Some("application/json"), vec![])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = send(&env, request("GET", "/verify/%3Cscript%3E", None, None, None, vec![])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(!String::from_utf8_lossy(&reply.bytes).contains("<script>"));

    // Revoke (reason required), then verification says so.
    let reply = send(&env, post_json(&format!("/api/certificates/{code}/revoke"), Some(&env.admin), r#"{"reason":""}"#)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = send(&env, post_json(&format!("/api/certificates/{code}/revoke"), Some(&env.admin), r#"{"reason":"Falsch erfasst"}"#)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(&env, request("GET", &format!("/verify/{code}"), None, None, Some("application/json"), vec![])).await;
    assert_eq!((reply.json()["valid"].clone(), reply.json()["status"].clone()), (Value::Bool(false), Value::from("revoked")));
    assert!(reply.json().get("revocation_reason").is_none());

    // Re-issue: new code; the old one is superseded and points to it.
    let reply = send(&env, request("POST", &format!("/api/certificates/{code}/reissue"), Some(&env.admin), None, None, vec![])).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let new_code = reply.json()["code"].as_str().unwrap().to_string();
    let reply = send(&env, request("GET", &format!("/verify/{code}"), None, None, Some("application/json"), vec![])).await;
    assert_eq!(reply.json()["superseded_by"], new_code.as_str());
    let reply = send(&env, get("/api/certificates?personnel_number=P1", Some(&env.admin))).await;
    assert_eq!(reply.json()["certificates"].as_array().unwrap().len(), 2);
    let reply = send(&env, get("/api/certificates?personnel_number=P1", Some(&env.learner))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // The training history.
    let reply = send(&env, get("/api/certificates/history/P1", Some(&env.admin))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_pdfa("history", &reply.bytes);
}

#[tokio::test]
async fn export_zip_streams_and_templates() {
    let env = env().await;
    setup(&env).await;
    for _ in 0..3 {
        let reply = send(&env, post_json("/api/certificates", Some(&env.admin), MANUAL)).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let reply = send(&env, post_json("/api/certificates/export", Some(&env.admin), r#"{"personnel_number":"P1","include_history":true}"#)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(reply.bytes.clone())).unwrap();
    let mut names = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        if file.name().unwrap().ends_with(".pdf") {
            assert_pdfa(&file.name().unwrap(), &data);
        }
        names.push(file.name().unwrap().to_string());
    }
    assert_eq!(names.iter().filter(|n| n.starts_with("certificates/P1/2026-02-04_")).count(), 3, "{names:?}");
    assert!(names.contains(&"history/P1.pdf".to_string()) && names.contains(&"metadata.csv".to_string()));
    let reply = send(&env, post_json("/api/certificates/export", Some(&env.admin), r#"{"personnel_number":"NOPE"}"#)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = send(&env, post_json("/api/certificates/export", Some(&env.learner), r#"{}"#)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = send(&env, request("POST", "/api/certificates/offerings/999/render", Some(&env.admin), None, None, vec![])).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Templates: the built-in default, then an English one for amt10.
    let reply = send(&env, get("/api/certificates/templates/amt10", Some(&env.admin))).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut template: Value = reply.json();
    assert_eq!(template["language"], "de");
    template["language"] = "en".into();
    template["title"] = "Certificate: {course}".into();
    let put = request("PUT", "/api/certificates/templates/amt10", Some(&env.admin), Some("application/json"), None, template.to_string().into_bytes());
    assert_eq!(send(&env, put).await.status, StatusCode::OK);
    let reply = send(&env, get("/api/certificates/templates/amt10", Some(&env.admin))).await;
    assert_eq!(reply.json()["language"], "en");
    let broken = request("PUT", "/api/certificates/templates/amt10", Some(&env.admin), Some("application/json"), None, br#"{"name":"x"}"#.to_vec());
    assert_eq!(send(&env, broken).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let put = request("PUT", "/api/certificates/settings", Some(&env.admin), Some("application/json"), None, br#"{"base_url":"https://lms.example.org"}"#.to_vec());
    assert_eq!(send(&env, put).await.status, StatusCode::OK);
    let reply = send(&env, post_json("/api/certificates", Some(&env.admin), MANUAL)).await;
    let url = reply.json()["certificate"]["verification_url"].as_str().unwrap().to_string();
    assert!(url.starts_with("https://lms.example.org/verify/"), "{url}");
}
