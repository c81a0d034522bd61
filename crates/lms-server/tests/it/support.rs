//! Shared helpers: a store on SQLite in a temporary folder, tokens for an admin, an author
//! and a learner, and `send` through `oneshot`.


use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use lms_server::{AppState, ServerConfig, app};
use lms_store::{NewPerson, Role, Store, StoreConfig};
use serde_json::Value;
use tower::ServiceExt;

#[allow(dead_code)]
pub struct Env {
    pub state: AppState,
    pub admin: String,
    pub author: String,
    pub learner: String,
    pub dir: tempfile::TempDir,
}

pub async fn env_with(config: impl FnOnce(&mut ServerConfig)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig::sqlite_in(dir.path())).await.unwrap();
    store.ensure_bootstrap_admin("admin-token-0123456789").await.unwrap();
    let mut tokens = Vec::new();
    for (pn, role) in [("A1", Role::Author), ("L1", Role::Learner)] {
        store
            .create_person(&NewPerson {
                personnel_number: pn.into(),
                name: format!("Person {pn}"),
                org_unit: None,
                roles: BTreeSet::from([role]),
                password: Some("secret-password".into()),
            })
            .await
            .unwrap();
        tokens.push(store.create_api_token(pn, "test").await.unwrap());
    }
    let mut server_config = ServerConfig::new(dir.path());
    config(&mut server_config);
    let state = AppState::new(store, server_config).unwrap();
    Env { state, admin: "admin-token-0123456789".into(), author: tokens[0].clone(), learner: tokens[1].clone(), dir }
}

pub async fn env() -> Env {
    env_with(|_| {}).await
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.bytes)))
    }
}

pub async fn send(env: &Env, request: Request<Body>) -> Reply {
    let response = app(env.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, bytes }
}

/// A request to the content origin (uploaded content, the run-time frame, commits).
pub async fn send_content(env: &Env, request: Request<Body>) -> Reply {
    let response = lms_server::content_app(env.state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply { status, headers, bytes }
}

pub fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::empty()).unwrap()
}

pub fn post_json(uri: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::from(body.to_string())).unwrap()
}

pub fn post_zip(token: &str, bytes: Vec<u8>) -> Request<Body> {
    Request::post("/api/packages")
        .header(header::CONTENT_TYPE, "application/zip")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(bytes))
        .unwrap()
}

