//! xAPI Learning Record Store (issue 4): the resources under `/xapi/`.
//!
//! One handler takes every request under `/xapi/`: it answers CORS preflights, unpacks
//! 1.0.3's alternate request syntax, checks the version header and the client's Basic
//! credentials and scopes, then dispatches on resource and method. The xAPI rules live in
//! `lms-xapi` (pure) and storage in `lms-store`; statement writes go through the store's
//! group-commit writer ([`lms_store::XapiWriter`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine;
use chrono::{DateTime, Utc};
use lms_store::{
    DocumentKey, DocumentKind, DocumentWrite, NewAttachment, StatementBatch, StatementFilter, StoredDocument, XapiClient,
    XapiWriter,
};
use lms_xapi::{
    AttachmentPart, DocumentMethod, DocumentQuery, DocumentResource, StatementFormat, StatementQuery, XapiError, XapiVersion,
};
use serde_json::{Value, json};

use crate::AppState;

/// Largest accepted xAPI request body.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Statements per page when the request asks for none or more.
const MAX_PAGE: u32 = 500;
/// How long verified credentials are remembered.
const CREDENTIAL_TTL: Duration = Duration::from_secs(60);

/// The LRS's share of the server state: the statement writer (started on first use) and a
/// short-lived cache of verified credentials (the secret check costs a database round trip).
#[derive(Clone, Debug, Default)]
pub struct XapiState {
    writer: Arc<OnceLock<XapiWriter>>,
    credentials: Arc<Mutex<HashMap<String, (XapiClient, Instant)>>>,
}

impl XapiState {
    fn writer(&self, state: &AppState) -> &XapiWriter {
        self.writer.get_or_init(|| XapiWriter::spawn(state.store.clone()))
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/xapi", any(handle)).route("/xapi/", any(handle)).route("/xapi/{*rest}", any(handle))
}

/// An error answer of the LRS: status and message.
#[derive(Debug)]
struct XError {
    status: StatusCode,
    message: String,
}

impl XError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        XError { status, message: message.into() }
    }
    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    fn forbidden(scope: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, format!("this client lacks the scope {scope:?}"))
    }
}

impl From<XapiError> for XError {
    fn from(e: XapiError) -> Self {
        XError::bad(e.to_string())
    }
}

impl From<lms_store::Error> for XError {
    fn from(e: lms_store::Error) -> Self {
        use lms_store::Error as E;
        match e {
            E::Conflict { what } => XError::new(StatusCode::CONFLICT, format!("{what} is already stored")),
            E::PreconditionFailed { message } => XError::new(StatusCode::PRECONDITION_FAILED, message),
            E::Invalid { field, message } => XError::bad(format!("{field}: {message}")),
            E::NotFound { what } => XError::new(StatusCode::NOT_FOUND, format!("{what} not found")),
            other => {
                tracing::error!(error = %other, "LRS store error");
                XError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error; the server log has the details")
            }
        }
    }
}

type XResult<T> = Result<T, XError>;

/// The resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resource {
    Statements,
    State,
    ActivityProfile,
    AgentProfile,
    Agents,
    Activities,
    About,
}

fn resource_of(path: &str) -> Option<Resource> {
    let rest = path.strip_prefix("/xapi")?.trim_end_matches('/');
    Some(match rest {
        "/statements" => Resource::Statements,
        "/activities/state" => Resource::State,
        "/activities/profile" => Resource::ActivityProfile,
        "/agents/profile" => Resource::AgentProfile,
        "/agents" => Resource::Agents,
        "/activities" => Resource::Activities,
        "/about" => Resource::About,
        _ => return None,
    })
}

/// A request after alternate syntax and version handling.
struct XRequest {
    method: Method,
    resource: Resource,
    headers: HeaderMap,
    /// Decoded query parameters (or the alternate syntax's form parameters).
    params: Vec<(String, String)>,
    body: Vec<u8>,
    version: XapiVersion,
    client: XapiClient,
    /// The request path and query, for `more` links.
    path: String,
    /// Set when the credentials are a cmi5 session's auth token (its rules apply).
    cmi5: Option<crate::cmi5::LrsSession>,
}

impl XRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let default_version = state.config.xapi_version;
    let (response, version) = if request.method() == Method::OPTIONS {
        (preflight(request.headers()), default_version)
    } else {
        let is_head = request.method() == Method::HEAD;
        let statements_read = matches!(*request.method(), Method::GET | Method::HEAD)
            && resource_of(request.uri().path()) == Some(Resource::Statements);
        let (result, version) = process(&state, request).await;
        let mut response = match result {
            Ok(response) => response,
            Err(error) => error_response(error),
        };
        if statements_read && !response.headers().contains_key("x-experience-api-consistent-through") {
            response.headers_mut().insert("x-experience-api-consistent-through", consistent_through());
        }
        if is_head {
            *response.body_mut() = Body::empty();
        }
        (response, version)
    };
    finish(response, version, origin)
}

fn error_response(error: XError) -> Response {
    let mut response = (error.status, axum::Json(json!({ "error": error.message }))).into_response();
    if error.status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"xAPI\""));
    }
    response
}

const EXPOSED: &str = "ETag, Last-Modified, Content-Type, X-Experience-API-Version, X-Experience-API-Consistent-Through";
const ALLOWED_HEADERS: &str =
    "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match, Accept-Language, X-Requested-With";

fn preflight(headers: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD, PUT, POST, DELETE, OPTIONS"));
    let requested = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.unwrap_or(HeaderValue::from_static(ALLOWED_HEADERS)));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}

fn finish(mut response: Response, version: XapiVersion, origin: Option<HeaderValue>) -> Response {
    let h = response.headers_mut();
    h.insert(HeaderName::from_static("x-experience-api-version"), HeaderValue::from_static(version.header_value()));
    match origin {
        Some(origin) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        None => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
    }
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
    response
}

/// Everything but CORS: returns the answer and the version to announce.
async fn process(state: &AppState, request: Request) -> (XResult<Response>, XapiVersion) {
    let default_version = state.config.xapi_version;
    let (parts, body) = request.into_parts();
    let Some(resource) = resource_of(parts.uri.path()) else {
        return (Err(XError::new(StatusCode::NOT_FOUND, "no such xAPI resource")), default_version);
    };
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b.to_vec(),
        Err(_) => {
            return (
                Err(XError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is larger than {MAX_BODY_BYTES} bytes"))),
                default_version,
            );
        }
    };
    let query = parts.uri.query().unwrap_or("");
    let params = match lms_xapi::parse_form_urlencoded(query.as_bytes()) {
        Ok(p) => p,
        Err(e) => return (Err(e.into()), default_version),
    };
    let mut method = parts.method.clone();
    let mut headers = parts.headers.clone();
    let mut params = params;
    let mut body = body;
    let alternate = params.iter().any(|(k, _)| k == "method");
    if alternate {
        if method != Method::POST {
            return (Err(XError::bad("the alternate request syntax (?method=) must be sent as POST")), default_version);
        }
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return (
                Err(XError::bad("the alternate request syntax needs an application/x-www-form-urlencoded body")),
                default_version,
            );
        }
        let alt = match lms_xapi::parse_alternate_request(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &body) {
            Ok(a) => a,
            Err(e) => return (Err(e.into()), default_version),
        };
        headers.remove(header::CONTENT_TYPE);
        for (name, value) in &alt.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()), HeaderValue::from_str(value)) {
                headers.insert(n, v);
            }
        }
        method = match Method::from_bytes(alt.method.as_bytes()) {
            Ok(m) => m,
            Err(_) => return (Err(XError::bad("unknown method")), default_version),
        };
        params = alt.parameters;
        body = alt.content.map(String::into_bytes).unwrap_or_default();
    }

    // version
    let version_header = headers.get("x-experience-api-version").map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    let version = match &version_header {
        Some(text) => match XapiVersion::from_header(text) {
            Ok(v) => v,
            Err(e) => return (Err(e.into()), default_version),
        },
        None if resource == Resource::About => default_version,
        None => return (Err(XError::bad("the X-Experience-API-Version header is missing")), default_version),
    };
    if alternate && version == XapiVersion::V2_0_0 {
        return (Err(XError::bad("xAPI 2.0 has no alternate request syntax (?method=)")), version);
    }
    if resource == Resource::About {
        return (about(&method), version);
    }

    // credentials: a cmi5 session's auth token, else an LRS client
    let cmi5 = match crate::cmi5::lrs_session(state, &headers).await {
        Ok(session) => session,
        Err(e) => return (Err(XError::new(e.status, e.message)), version),
    };
    let client = match &cmi5 {
        Some(session) => session.client.clone(),
        None => match authenticate(state, &headers).await {
            Ok(c) => c,
            Err(e) => return (Err(e), version),
        },
    };
    let path = match parts.uri.query() {
        Some(q) if !alternate => format!("{}?{q}", parts.uri.path()),
        _ => parts.uri.path().to_string(),
    };
    let request = XRequest { method, resource, headers, params, body, version, client, path, cmi5 };
    (route(state, request).await, version)
}

fn about(method: &Method) -> XResult<Response> {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return Err(XError::new(StatusCode::METHOD_NOT_ALLOWED, "the About resource answers GET and HEAD"));
    }
    Ok(axum::Json(json!({ "version": ["1.0.3", "2.0.0"], "extensions": {} })).into_response())
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> XResult<XapiClient> {
    let unauthorized = |m: &str| XError::new(StatusCode::UNAUTHORIZED, m.to_string());
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("send the LRS client's key and secret as Basic credentials"))?;
    if let Some((client, at)) = state.xapi.credentials.lock().ok().and_then(|m| m.get(value).cloned())
        && at.elapsed() < CREDENTIAL_TTL
    {
        return Ok(client);
    }
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or_else(|| unauthorized("the Authorization header must use the Basic scheme"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| unauthorized("the Basic credentials are not base64 of key:secret"))?;
    let (key, secret) = decoded.split_once(':').ok_or_else(|| unauthorized("the Basic credentials are not key:secret"))?;
    let client = state
        .store
        .authenticate_xapi_client(key, secret)
        .await?
        .ok_or_else(|| unauthorized("unknown LRS client key or wrong secret"))?;
    if let Ok(mut cache) = state.xapi.credentials.lock() {
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(value.to_string(), (client.clone(), Instant::now()));
    }
    Ok(client)
}

fn require(client: &XapiClient, scopes: &[&str]) -> XResult<()> {
    if scopes.iter().any(|s| client.has_scope(s)) { Ok(()) } else { Err(XError::forbidden(scopes[0])) }
}

async fn route(state: &AppState, r: XRequest) -> XResult<Response> {
    let is_read = matches!(r.method, Method::GET | Method::HEAD);
    match (r.resource, r.method.clone()) {
        (Resource::Statements, Method::GET | Method::HEAD) => {
            require(&r.client, &["statements/read", "statements/read/mine"])?;
            get_statements(state, &r).await
        }
        (Resource::Statements, Method::PUT) => {
            require(&r.client, &["statements/write"])?;
            put_statement(state, r).await
        }
        (Resource::Statements, Method::POST) => {
            require(&r.client, &["statements/write"])?;
            post_statements(state, r).await
        }
        (Resource::State | Resource::ActivityProfile | Resource::AgentProfile, _) => {
            let scope = if r.resource == Resource::State { "state" } else { "profile" };
            if is_read {
                require(&r.client, &[scope, "all/read"])?;
            } else {
                require(&r.client, &[scope])?;
            }
            documents(state, r).await
        }
        (Resource::Agents, Method::GET | Method::HEAD) => {
            require(&r.client, &["all/read", "profile", "state", "define", "statements/read"])?;
            let mut agent = None;
            for (k, v) in r.pairs() {
                match k {
                    "agent" if agent.is_none() => {
                        agent = Some(lms_xapi::parse_agent_param(v, r.version).map_err(|e| XError::bad(format!("agent: {e}")))?)
                    }
                    _ => return Err(XError::bad(format!("query parameter {k:?} is not one of the Agents resource (agent)"))),
                }
            }
            let agent = agent.ok_or_else(|| XError::bad("the agent parameter is required"))?;
            Ok(axum::Json(lms_xapi::person_object(&[&agent.json])).into_response())
        }
        (Resource::Activities, Method::GET | Method::HEAD) => {
            require(&r.client, &["all/read", "profile", "state", "define", "statements/read"])?;
            let mut id = None;
            for (k, v) in r.pairs() {
                match k {
                    "activityId" if id.is_none() => {
                        if !lms_xapi::syntax::is_iri(v) {
                            return Err(XError::bad(format!("activityId {v:?} is not an IRI")));
                        }
                        id = Some(v.to_string());
                    }
                    _ => return Err(XError::bad(format!("query parameter {k:?} is not one of the Activities resource (activityId)"))),
                }
            }
            let id = id.ok_or_else(|| XError::bad("the activityId parameter is required"))?;
            let mut activity = json!({ "objectType": "Activity", "id": id });
            if let Some(definition) = state.store.xapi_activity_definition(&id).await? {
                activity["definition"] = definition;
            }
            Ok(axum::Json(activity).into_response())
        }
        _ => Err(XError::new(StatusCode::METHOD_NOT_ALLOWED, "this resource does not answer that method")),
    }
}

// ---- statements: writing -------------------------------------------------------------------

/// The statements of a PUT/POST body and the attachment parts that came with them.
struct Incoming {
    statements: Vec<Value>,
    attachments: Vec<NewAttachment>,
    was_array: bool,
}

fn read_statements(r: &XRequest) -> XResult<Incoming> {
    let content_type = r.content_type().to_string();
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (json_bytes, parts): (&[u8], Vec<AttachmentPart<'_>>) = if essence == "multipart/mixed" {
        let body = lms_xapi::parse_multipart(&content_type, &r.body)?;
        (body.statement_json, body.attachments)
    } else if essence == "application/json" || essence.is_empty() {
        (&r.body[..], Vec::new())
    } else {
        return Err(XError::bad(format!("Content-Type {essence:?}: send application/json or multipart/mixed")));
    };
    let value: Value = serde_json::from_slice(json_bytes).map_err(|e| XError::bad(format!("the body is not valid JSON: {e}")))?;
    let (statements, was_array) = match value {
        Value::Array(list) => (list, true),
        other => (vec![other], false),
    };
    lms_xapi::check_attachment_parts(&statements, &parts)?;
    for statement in &statements {
        lms_xapi::check_signature(statement, &parts)?;
    }
    let attachments = parts
        .iter()
        .map(|p| NewAttachment {
            sha2: p.sha2.clone(),
            content_type: p.content_type.unwrap_or("application/octet-stream").to_string(),
            content: p.body.to_vec(),
        })
        .collect();
    Ok(Incoming { statements, attachments, was_array })
}

async fn store_statements(state: &AppState, r: &XRequest, statements: Vec<Value>, attachments: Vec<NewAttachment>) -> XResult<Vec<String>> {
    if let Some(session) = &r.cmi5 {
        return crate::cmi5::store_statements(state, session, r.version, statements, attachments)
            .await
            .map_err(|e| XError::new(e.status, e.message));
    }
    let stored = Utc::now();
    let prepared = lms_xapi::prepare_statements(statements, r.version, &r.client.authority, stored, uuid::Uuid::now_v7)?;
    let ids: Vec<String> = prepared.iter().map(|p| p.index.statement_id.hyphenated().to_string()).collect();
    let batch = StatementBatch {
        statements: prepared,
        attachments,
        client_key: r.client.key.clone(),
        define: r.client.has_scope("define"),
    };
    state.xapi.writer(state).write(batch).await?;
    Ok(ids)
}

async fn put_statement(state: &AppState, r: XRequest) -> XResult<Response> {
    let mut statement_id = None;
    for (k, v) in r.pairs() {
        match k {
            "statementId" if statement_id.is_none() => {
                statement_id =
                    Some(lms_xapi::syntax::parse_uuid(v).ok_or_else(|| XError::bad(format!("statementId {v:?} is not a UUID")))?)
            }
            _ => return Err(XError::bad(format!("query parameter {k:?} is not allowed on PUT (only statementId)"))),
        }
    }
    let statement_id = statement_id.ok_or_else(|| XError::bad("PUT needs the statementId parameter"))?;
    let mut incoming = read_statements(&r)?;
    if incoming.was_array || incoming.statements.len() != 1 {
        return Err(XError::bad("PUT takes one statement, not an array"));
    }
    let mut statement = incoming.statements.remove(0);
    let Some(map) = statement.as_object_mut() else { return Err(XError::bad("the statement must be a JSON object")) };
    match map.get("id") {
        Some(Value::String(id)) => {
            if lms_xapi::syntax::parse_uuid(id) != Some(statement_id) {
                return Err(XError::bad(format!("the statement's id {id:?} differs from the statementId parameter")));
            }
        }
        Some(_) => return Err(XError::bad("id: must be a UUID string")),
        None => {
            map.insert("id".into(), Value::String(statement_id.hyphenated().to_string()));
        }
    }
    store_statements(state, &r, vec![statement], incoming.attachments).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn post_statements(state: &AppState, r: XRequest) -> XResult<Response> {
    if let Some((k, _)) = r.params.first() {
        return Err(XError::bad(format!("query parameter {k:?} is not allowed on POST")));
    }
    let incoming = read_statements(&r)?;
    let ids = store_statements(state, &r, incoming.statements, incoming.attachments).await?;
    Ok(axum::Json(ids).into_response())
}

// ---- statements: reading -------------------------------------------------------------------

fn http_date(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn consistent_through() -> HeaderValue {
    HeaderValue::from_str(&lms_xapi::syntax::format_timestamp(Utc::now())).unwrap_or(HeaderValue::from_static(""))
}

async fn get_statements(state: &AppState, r: &XRequest) -> XResult<Response> {
    let query = StatementQuery::parse_allowing(r.pairs(), r.version, &["from"])?;
    let mine = !r.client.has_scope("statements/read");
    let languages = r.header("accept-language").map(lms_xapi::parse_accept_language).unwrap_or_default();
    let through = consistent_through();
    if query.is_single() {
        let (id, want_voided) = match (query.statement_id, query.voided_statement_id) {
            (Some(id), _) => (id, false),
            (_, Some(id)) => (id, true),
            _ => unreachable!("is_single"),
        };
        let stored = state.store.xapi_statement(&id.hyphenated().to_string()).await?;
        let stored = stored.filter(|s| s.voided == want_voided);
        let Some(stored) = stored else {
            let mut response = error_response(XError::new(StatusCode::NOT_FOUND, format!("no statement {id}")));
            response.headers_mut().insert("x-experience-api-consistent-through", through);
            return Ok(response);
        };
        let value: Value = serde_json::from_str(&stored.json).map_err(|_| XError::bad("stored statement unreadable"))?;
        if mine && value_client(&value) != Some(r.client.key.as_str()) {
            return Err(XError::new(StatusCode::NOT_FOUND, format!("no statement {id} of this client")));
        }
        let formatted = format_statements(state, vec![value], query.format, &languages).await?;
        let statement = formatted.into_iter().next().unwrap_or(Value::Null);
        let mut response = if query.attachments {
            multipart_answer(state, &statement, std::slice::from_ref(&statement)).await?
        } else {
            axum::Json(&statement).into_response()
        };
        let h = response.headers_mut();
        h.insert("x-experience-api-consistent-through", through);
        if let Ok(v) = HeaderValue::from_str(&http_date(stored.stored_ms)) {
            h.insert(header::LAST_MODIFIED, v);
        }
        return Ok(response);
    }

    let cursor = match query.extra.iter().find(|(k, _)| k == "from") {
        Some((_, v)) => Some(v.parse::<i64>().map_err(|_| XError::bad("the paging parameter from is not a number"))?),
        None => None,
    };
    let limit = if query.limit == 0 || query.limit > MAX_PAGE { MAX_PAGE } else { query.limit };
    let filter = StatementFilter {
        agent: query.agent.as_ref().map(|a| a.ifi.key()),
        related_agents: query.related_agents,
        verb: query.verb.clone(),
        activity: query.activity.clone(),
        related_activities: query.related_activities,
        registration: query.registration.map(|u| u.hyphenated().to_string()),
        since_ms: query.since.map(|t| t.timestamp_millis()),
        until_ms: query.until.map(|t| t.timestamp_millis()),
        client_key: mine.then(|| r.client.key.clone()),
        ascending: query.ascending,
        cursor,
        limit,
    };
    let page = state.store.query_xapi_statements(&filter).await?;
    let more = match page.next_cursor {
        Some(next) => {
            let mut pairs: Vec<String> = r
                .params
                .iter()
                .filter(|(k, _)| k != "from")
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            pairs.push(format!("from={next}"));
            let path = r.path.split('?').next().unwrap_or("/xapi/statements");
            format!("{path}?{}", pairs.join("&"))
        }
        None => String::new(),
    };
    let last_modified = page.statements.iter().map(|s| s.stored_ms).max();
    let mut response = if query.format == StatementFormat::Exact && !query.attachments {
        // the stored text as is: no parse, no re-serialization
        let mut body = String::with_capacity(page.statements.iter().map(|s| s.json.len() + 1).sum::<usize>() + 64);
        body.push_str("{\"statements\":[");
        for (i, s) in page.statements.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&s.json);
        }
        body.push_str("],\"more\":");
        body.push_str(&Value::String(more).to_string());
        body.push('}');
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    } else {
        let values: Vec<Value> = page.statements.iter().filter_map(|s| serde_json::from_str(&s.json).ok()).collect();
        let formatted = format_statements(state, values, query.format, &languages).await?;
        let result = json!({ "statements": formatted, "more": more });
        if query.attachments {
            multipart_answer(state, &result, &formatted).await?
        } else {
            axum::Json(result).into_response()
        }
    };
    let h = response.headers_mut();
    h.insert("x-experience-api-consistent-through", through);
    if let Some(ms) = last_modified
        && let Ok(v) = HeaderValue::from_str(&http_date(ms))
    {
        h.insert(header::LAST_MODIFIED, v);
    }
    Ok(response)
}

fn value_client(statement: &Value) -> Option<&str> {
    statement.get("authority")?.get("account")?.get("name")?.as_str()
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn format_statements(
    state: &AppState,
    statements: Vec<Value>,
    format: StatementFormat,
    languages: &[String],
) -> XResult<Vec<Value>> {
    Ok(match format {
        StatementFormat::Exact => statements,
        StatementFormat::Ids => statements
            .iter()
            .map(|s| {
                let mut v = lms_xapi::format_ids(s);
                activities_to_bare_ids(&mut v);
                v
            })
            .collect(),
        StatementFormat::Canonical => {
            let mut ids = Vec::new();
            for s in &statements {
                collect_activity_ids(s, &mut ids);
            }
            ids.sort();
            ids.dedup();
            let definitions = state.store.xapi_activity_definitions(&ids).await?;
            let lookup = |id: &str| definitions.get(id).cloned();
            statements.iter().map(|s| lms_xapi::format_canonical(s, languages, &lookup)).collect()
        }
    })
}

/// `format=ids`: an Activity is its `id` alone (Activity is the default object type).
fn activities_to_bare_ids(statement: &mut Value) {
    let strip = |activity: &mut Value| {
        if let Some(map) = activity.as_object_mut()
            && map.get("objectType").and_then(Value::as_str) == Some("Activity")
        {
            map.remove("objectType");
        }
    };
    if let Some(object) = statement.get_mut("object") {
        match object.get("objectType").and_then(Value::as_str) {
            Some("SubStatement") => activities_to_bare_ids(object),
            Some("Activity") => strip(object),
            _ => {}
        }
    }
    if let Some(lists) = statement.pointer_mut("/context/contextActivities").and_then(Value::as_object_mut) {
        for list in lists.values_mut() {
            if let Some(items) = list.as_array_mut() {
                items.iter_mut().for_each(strip);
            }
        }
    }
}

fn collect_activity_ids(statement: &Value, ids: &mut Vec<String>) {
    if let Some(object) = statement.get("object") {
        match object.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => {
                if let Some(id) = object.get("id").and_then(Value::as_str) {
                    ids.push(id.to_string());
                }
            }
            Some("SubStatement") => collect_activity_ids(object, ids),
            _ => {}
        }
    }
    if let Some(lists) = statement.get("context").and_then(|c| c.get("contextActivities")).and_then(Value::as_object) {
        for list in lists.values() {
            for activity in list.as_array().map(Vec::as_slice).unwrap_or(std::slice::from_ref(list)) {
                if let Some(id) = activity.get("id").and_then(Value::as_str) {
                    ids.push(id.to_string());
                }
            }
        }
    }
}

fn collect_sha2s(statement: &Value, out: &mut Vec<String>) {
    if let Some(list) = statement.get("attachments").and_then(Value::as_array) {
        for a in list {
            if let Some(sha2) = a.get("sha2").and_then(Value::as_str) {
                out.push(sha2.to_ascii_lowercase());
            }
        }
    }
    if let Some(object) = statement.get("object")
        && object.get("objectType").and_then(Value::as_str) == Some("SubStatement")
    {
        collect_sha2s(object, out);
    }
}

async fn multipart_answer(state: &AppState, result: &Value, statements: &[Value]) -> XResult<Response> {
    let mut sha2s = Vec::new();
    for s in statements {
        collect_sha2s(s, &mut sha2s);
    }
    sha2s.sort();
    sha2s.dedup();
    let stored = state.store.xapi_attachments(&sha2s).await?;
    let parts: Vec<AttachmentPart<'_>> = stored
        .iter()
        .map(|a| AttachmentPart { sha2: a.sha2.clone(), content_type: Some(a.content_type.as_str()), body: &a.content })
        .collect();
    let json_bytes = serde_json::to_vec(result).map_err(|_| XError::bad("cannot render"))?;
    let boundary = format!("xapi-{}", uuid::Uuid::new_v4().simple());
    let (content_type, body) = lms_xapi::render_multipart(&boundary, &json_bytes, &parts);
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

// ---- documents -------------------------------------------------------------------------------

fn document_response(document: StoredDocument) -> Response {
    let mut response = Response::new(Body::from(document.content));
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&document.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&document.etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(document.updated_ms)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    response
}

/// A document's quoted ETag: the first 160 bits of its SHA-256 as 40 hex digits (the form of
/// a SHA-1, which the 1.0.3 conformance suite checks for).
fn document_etag(content: &[u8]) -> String {
    let full = lms_xapi::etag(content);
    format!("\"{}\"", &full[1..41])
}

fn is_json_type(content_type: &str) -> bool {
    content_type.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json")
}

async fn documents(state: &AppState, r: XRequest) -> XResult<Response> {
    let resource = match r.resource {
        Resource::State => DocumentResource::State,
        Resource::ActivityProfile => DocumentResource::ActivityProfile,
        _ => DocumentResource::AgentProfile,
    };
    let method = match r.method {
        Method::GET => DocumentMethod::Get,
        Method::HEAD => DocumentMethod::Head,
        Method::PUT => DocumentMethod::Put,
        Method::POST => DocumentMethod::Post,
        Method::DELETE => DocumentMethod::Delete,
        _ => return Err(XError::new(StatusCode::METHOD_NOT_ALLOWED, "documents answer GET, HEAD, PUT, POST and DELETE")),
    };
    let query = DocumentQuery::parse(resource, method, r.pairs(), r.version)?;
    if let Some(session) = &r.cmi5 {
        crate::cmi5::check_document(state, session, resource, method, &query, r.header("content-type"), &r.body)
            .await
            .map_err(|e| XError::new(e.status, e.message))?;
    }
    let key = DocumentKey {
        kind: match resource {
            DocumentResource::State => DocumentKind::State,
            DocumentResource::ActivityProfile => DocumentKind::ActivityProfile,
            DocumentResource::AgentProfile => DocumentKind::AgentProfile,
        },
        activity_id: query.activity_id.clone().unwrap_or_default(),
        agent_key: query.agent.as_ref().map(|a| a.ifi.key()).unwrap_or_default(),
        registration: query.registration.map(|u| u.hyphenated().to_string()).unwrap_or_default(),
        document_id: query.document_id.clone().unwrap_or_default(),
    };
    let if_match = r.header("if-match").map(str::to_string);
    let if_none_match = r.header("if-none-match").map(str::to_string);
    match method {
        DocumentMethod::Get | DocumentMethod::Head => {
            if query.document_id.is_some() {
                let document = state
                    .store
                    .xapi_document(&key)
                    .await?
                    .ok_or_else(|| XError::new(StatusCode::NOT_FOUND, "no such document"))?;
                Ok(document_response(document))
            } else {
                let ids = state.store.xapi_document_ids(&key, query.since.map(|t| t.timestamp_millis())).await?;
                Ok(axum::Json(ids).into_response())
            }
        }
        DocumentMethod::Put | DocumentMethod::Post => {
            let content_type = r.header("content-type").unwrap_or("application/octet-stream").to_string();
            let posted = r.body.clone();
            let is_post = method == DocumentMethod::Post;
            if is_post && !(is_json_type(&content_type) && serde_json::from_slice::<Value>(&posted).is_ok_and(|v| v.is_object())) {
                return Err(XError::bad("POST to a document resource takes a JSON object (Content-Type application/json)"));
            }
            // 1.0.3 lets State be overwritten without a precondition; 2.0 does not.
            let needs_precondition = !is_post && (resource != DocumentResource::State || r.version == XapiVersion::V2_0_0);
            // the 1.0.3 suite wants a profile PUT without any precondition refused even for a new document
            let refuse_unconditional = !is_post
                && resource != DocumentResource::State
                && r.version == XapiVersion::V1_0_3
                && if_match.is_none()
                && if_none_match.is_none();
            state
                .store
                .write_xapi_document(&key, move |current| {
                    check_preconditions(current.as_ref(), if_match.as_deref(), if_none_match.as_deref(), needs_precondition)?;
                    if refuse_unconditional {
                        return Err(lms_store::Error::Invalid {
                            field: "If-Match",
                            message: "a PUT of a profile document needs If-Match or If-None-Match".into(),
                        });
                    }
                    let (content, content_type) = match (is_post, current) {
                        (true, Some(current)) => {
                            if !is_json_type(&current.content_type) {
                                return Err(lms_store::Error::Invalid {
                                    field: "document",
                                    message: "the stored document is not JSON, so a POST cannot merge into it".into(),
                                });
                            }
                            let merged = lms_xapi::merge_documents(&current.content, &posted)
                                .map_err(|e| lms_store::Error::Invalid { field: "document", message: e.to_string() })?;
                            (merged, "application/json".to_string())
                        }
                        _ => (posted, content_type),
                    };
                    let etag = document_etag(&content);
                    Ok(DocumentWrite { content, content_type, etag })
                })
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        DocumentMethod::Delete => {
            if query.document_id.is_none() {
                state.store.delete_xapi_documents(&key).await?;
            } else {
                state
                    .store
                    .delete_xapi_document(&key, |current| {
                        check_preconditions(current, if_match.as_deref(), if_none_match.as_deref(), false)
                    })
                    .await?;
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }
}

/// `If-Match` must match the current document (412 otherwise, also when there is none);
/// `If-None-Match: *` requires that there is none (412). Without either header, writing over
/// an existing document is a conflict (409) when `needs_precondition`.
fn check_preconditions(
    current: Option<&StoredDocument>,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    needs_precondition: bool,
) -> Result<(), lms_store::Error> {
    let failed = |m: &str| lms_store::Error::PreconditionFailed { message: m.to_string() };
    if let Some(header) = if_match {
        match current {
            Some(doc) if lms_xapi::etag_matches(header, &doc.etag) => {}
            _ => return Err(failed("If-Match does not match the current document")),
        }
    }
    if let Some(header) = if_none_match
        && let Some(doc) = current
        && lms_xapi::etag_matches(header, &doc.etag)
    {
        return Err(failed("If-None-Match matches the current document"));
    }
    if needs_precondition && if_match.is_none() && if_none_match.is_none() && current.is_some() {
        return Err(lms_store::Error::Conflict {
            what: "a document with this id (send If-Match with its ETag, or If-None-Match, to change it)".into(),
        });
    }
    Ok(())
}
