//! Foundation: health, packages, content, people, sign-in.

use std::io::Write;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::support::*;

pub const MANIFEST: &str = r#"<?xml version="1.0"?>
<manifest identifier="demo" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Demo-Kurs für Ämter</title>
    <item identifier="i" identifierref="r"><title>Start</title></item></organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html">
    <file href="index.html"/><file href="media/clip.mp4"/></resource></resources>
</manifest>"#;

pub fn zip_bytes(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut cursor);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
    cursor.into_inner()
}

pub fn demo_zip() -> Vec<u8> {
    let clip: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    zip_bytes(&[("imsmanifest.xml", MANIFEST.as_bytes()), ("index.html", b"<h1>Hallo</h1>"), ("media/clip.mp4", &clip)])
}

#[tokio::test]
async fn healthz_and_unknown_routes() {
    let env = env().await;
    let reply = send(&env, get("/healthz", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["status"], "ok");
    let reply = send(&env, get("/no/such/thing", None)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.json()["error"].as_str().unwrap().contains("no such endpoint"));
}

#[tokio::test]
async fn upload_list_and_serve_package() {
    let env = env().await;
    // Authentication and roles come first.
    assert_eq!(send(&env, post_zip("wrong-token", demo_zip())).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&env, post_zip(&env.learner, demo_zip())).await.status, StatusCode::FORBIDDEN);

    let reply = send(&env, post_zip(&env.author, demo_zip())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&reply.bytes));
    let body = reply.json();
    assert_eq!(body["title"], "Demo-Kurs für Ämter");
    assert_eq!(body["standard"], "scorm12");
    assert!(body["diagnostics"].is_array());
    let id = body["id"].as_str().unwrap().to_string();

    // The same bytes again: nothing new, same id.
    let reply = send(&env, post_zip(&env.author, demo_zip())).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["id"], id.as_str());
    assert_eq!(reply.json()["duplicate"], true);

    let list = send(&env, get("/api/packages", Some(&env.learner))).await.json();
    assert_eq!(list["packages"].as_array().unwrap().len(), 1);
    let one = send(&env, get(&format!("/api/packages/{id}"), Some(&env.learner))).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["launch_path"], "index.html");
    assert_eq!(send(&env, get("/api/packages/nope", Some(&env.learner))).await.status, StatusCode::NOT_FOUND);

    // Files with their MIME type, and byte ranges: on the content origin only.
    assert_eq!(send(&env, get(&format!("/content/{id}/index.html"), None)).await.status, StatusCode::NOT_FOUND);
    let page = send_content(&env, get(&format!("/content/{id}/index.html"), None)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert_eq!(page.bytes, b"<h1>Hallo</h1>");
    let ranged = Request::get(format!("/content/{id}/media/clip.mp4")).header(header::RANGE, "bytes=100-199").body(Body::empty()).unwrap();
    let part = send_content(&env, ranged).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(part.bytes, (100..200u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
    assert_eq!(send_content(&env, get(&format!("/content/{id}/missing.html"), None)).await.status, StatusCode::NOT_FOUND);
    assert!(send_content(&env, get(&format!("/content/{id}/../x"), None)).await.status.is_client_error());
}

#[tokio::test]
async fn multipart_upload() {
    let env = env().await;
    let zip = demo_zip();
    let boundary = "XyZboundary42";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n").as_bytes());
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"demo.zip\"\r\nContent-Type: application/zip\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&zip);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post("/api/packages")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", env.admin))
        .body(Body::from(body))
        .unwrap();
    let reply = send(&env, request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&reply.bytes));

    let no_file = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--{boundary}--\r\n");
    let request = Request::post("/api/packages")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", env.admin))
        .body(Body::from(no_file))
        .unwrap();
    let reply = send(&env, request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.json()["error"].as_str().unwrap().contains("\"file\""));
}

#[tokio::test]
async fn bad_uploads_are_refused_with_reasons() {
    let env = env_with(|c| c.max_upload_bytes = 64 * 1024).await;
    let hostile = zip_bytes(&[("imsmanifest.xml", MANIFEST.as_bytes()), ("index.html", b"x"), ("../../etc/passwd", b"x")]);
    let reply = send(&env, post_zip(&env.author, hostile)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.json()["error"].as_str().unwrap().contains("refused"), "{}", reply.json());

    let broken = zip_bytes(&[("imsmanifest.xml", b"<manifest><organizations>"), ("index.html", b"x")]);
    let reply = send(&env, post_zip(&env.author, broken)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = reply.json();
    assert!(!body["diagnostics"].as_array().unwrap().is_empty(), "{body}");
    assert_eq!(body["diagnostics"][0]["location"]["file"], "imsmanifest.xml");

    let reply = send(&env, post_zip(&env.author, b"not a zip".to_vec())).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    let reply = send(&env, post_zip(&env.author, Vec::new())).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let reply = send(&env, post_zip(&env.author, vec![0u8; 100 * 1024])).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);

    let text = Request::post("/api/packages")
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::AUTHORIZATION, format!("Bearer {}", env.author))
        .body(Body::from("hello"))
        .unwrap();
    assert_eq!(send(&env, text).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let list = send(&env, get("/api/packages", Some(&env.author))).await.json();
    assert!(list["packages"].as_array().unwrap().is_empty(), "nothing may be stored: {list}");
    let spool = env.state.config.spool_dir.clone();
    assert_eq!(std::fs::read_dir(spool).unwrap().count(), 0, "spooled uploads are removed");
}

#[tokio::test]
async fn people_org_units_and_sign_in() {
    let env = env().await;
    let unit = send(&env, post_json("/api/org-units", Some(&env.admin), r#"{"id":"HR","name":"Personalamt"}"#)).await;
    assert_eq!(unit.status, StatusCode::CREATED);
    let body = json!({"personnel_number": "500100", "name": "Jürgen Groß", "org_unit": "HR", "roles": ["learner", "manager"], "password": "long-password"});
    let created = send(&env, post_json("/api/people", Some(&env.admin), &body.to_string())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&created.bytes));
    assert_eq!(created.json()["name"], "Jürgen Groß");
    assert_eq!(send(&env, post_json("/api/people", Some(&env.admin), &body.to_string())).await.status, StatusCode::CONFLICT);
    // Only admins create people.
    assert_eq!(send(&env, post_json("/api/people", Some(&env.author), &body.to_string())).await.status, StatusCode::FORBIDDEN);

    // Bad bodies name what is wrong.
    let unknown = send(&env, post_json("/api/people", Some(&env.admin), r#"{"personnel_number":"1","name":"x","email":"a@b"}"#)).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.json()["error"].as_str().unwrap().contains("email"), "{}", unknown.json());
    let wrong_type = send(&env, post_json("/api/people", Some(&env.admin), r#"{"personnel_number":1,"name":"x"}"#)).await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_type.json()["error"].as_str().unwrap().contains("personnel_number"), "{}", wrong_type.json());
    let syntax = send(&env, post_json("/api/people", Some(&env.admin), r#"{"personnel_number":"#)).await;
    assert_eq!(syntax.status, StatusCode::BAD_REQUEST);
    let bad_role = send(&env, post_json("/api/people", Some(&env.admin), r#"{"personnel_number":"9","name":"x","roles":["king"]}"#)).await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_number = send(&env, post_json("/api/people", Some(&env.admin), r#"{"personnel_number":"a b","name":"x"}"#)).await;
    assert_eq!(bad_number.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_number.json()["field"], "personnel_number");

    let person = send(&env, get("/api/people/500100", Some(&env.admin))).await;
    assert_eq!(person.status, StatusCode::OK);
    assert_eq!(person.json()["org_unit"], "HR");
    assert_eq!(send(&env, get("/api/people/500100", Some(&env.learner))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&env, get("/api/people/nobody", Some(&env.admin))).await.status, StatusCode::NOT_FOUND);

    // Sign in with personnel number and password: a session cookie.
    let wrong = send(&env, post_json("/api/login", None, r#"{"personnel_number":"500100","password":"nope-nope"}"#)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let login = send(&env, post_json("/api/login", None, r#"{"personnel_number":"500100","password":"long-password"}"#)).await;
    assert_eq!(login.status, StatusCode::OK);
    let cookie = login.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"));
    let pair = cookie.split(';').next().unwrap().to_string();
    let me = Request::get("/api/me").header(header::COOKIE, pair.clone()).body(Body::empty()).unwrap();
    let me = send(&env, me).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["personnel_number"], "500100");
    // Everyone may see their own record.
    let own = Request::get("/api/people/500100").header(header::COOKIE, pair.clone()).body(Body::empty()).unwrap();
    assert_eq!(send(&env, own).await.status, StatusCode::OK);
    let out = Request::post("/api/logout").header(header::COOKIE, pair.clone()).body(Body::empty()).unwrap();
    assert_eq!(send(&env, out).await.status, StatusCode::NO_CONTENT);
    let me = Request::get("/api/me").header(header::COOKIE, pair).body(Body::empty()).unwrap();
    assert_eq!(send(&env, me).await.status, StatusCode::UNAUTHORIZED);
}
