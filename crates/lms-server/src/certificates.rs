//! Certificates (issue 7) over HTTP: the public verification page, issuance by hand,
//! revocation, re-issue, the training history, the personnel-file export and batch rendering
//! (both streamed as zip), templates per org unit and settings. The README section
//! "Certificates" lists every route.

use std::io::Write;
use std::num::NonZeroUsize;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::Utc;
use lms_store::{CertificateStatus, ExportFilter, IssueRequest, IssuedCertificate, ManualCertificate, PdfCheck, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller};

/// Largest PDF accepted by `POST /verify/{code}`.
const MAX_VERIFY_UPLOAD: usize = 20 * 1024 * 1024;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/verify/{code}", get(verify_page).post(verify_upload).layer(DefaultBodyLimit::max(MAX_VERIFY_UPLOAD + 64 * 1024)))
        .route("/api/certificates", post(issue_manual).get(list_certificates))
        .route("/api/certificates/pending", post(issue_pending))
        .route("/api/certificates/settings", get(get_settings).put(put_settings))
        .route("/api/certificates/export", post(export))
        .route("/api/certificates/history/{personnel_number}", get(history_pdf))
        .route("/api/certificates/offerings/{offering_id}", post(issue_for_offering))
        .route("/api/certificates/offerings/{offering_id}/render", post(render_offering))
        .route("/api/certificates/courses/{course_id}/duration", put(put_duration))
        .route("/api/certificates/default-template", get(get_default_template).put(put_default_template).delete(delete_default_template))
        .route("/api/certificates/templates/{org_unit}", get(get_template).put(put_template).delete(delete_template))
        .route("/api/certificates/{code}", get(get_certificate))
        .route("/api/certificates/{code}/pdf", get(get_pdf))
        .route("/api/certificates/{code}/revoke", post(revoke))
        .route("/api/certificates/{code}/reissue", post(reissue))
}

// ---- public verification ----------------------------------------------------------------

fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.contains("application/json") && !accept.contains("text/html")
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the public may see: no personnel number, no revocation reason.
fn public_json(issued: &IssuedCertificate) -> Value {
    let c = &issued.certificate;
    let mut dates = c.dates.clone();
    dates.sort_unstable();
    dates.dedup();
    json!({
        "code": issued.code,
        "status": issued.status,
        "valid": issued.status == CertificateStatus::Valid,
        "holder_name": c.holder_name,
        "course_title": c.course_title,
        "dates": dates,
        "duration_minutes": c.duration_minutes,
        "issuer": c.department,
        "issued_at": issued.issued_at,
        "revoked_at": issued.revoked_at,
        "superseded_by": issued.superseded_by,
    })
}

fn status_text(issued: &IssuedCertificate) -> (&'static str, String) {
    match issued.status {
        CertificateStatus::Valid => ("valid", "Gültig / valid".to_string()),
        CertificateStatus::Revoked => (
            "revoked",
            format!(
                "Widerrufen / revoked{}",
                issued.revoked_at.map(|t| format!(" ({})", t.format("%Y-%m-%d"))).unwrap_or_default()
            ),
        ),
        CertificateStatus::Superseded => (
            "superseded",
            format!("Ersetzt durch / replaced by {}", issued.superseded_by.clone().unwrap_or_default()),
        ),
    }
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title><style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;color:#222}}\
         dt{{font-weight:bold;margin-top:.6em}}.valid{{color:#0a6b2d}}.revoked,.superseded,.mismatch{{color:#a40e0e}}.match{{color:#0a6b2d}}</style></head>\
         <body>{body}</body></html>\n",
        escape(title)
    ))
}

fn certificate_html(issued: &IssuedCertificate, check: Option<&PdfCheck>) -> Html<String> {
    let c = &issued.certificate;
    let (class, status) = status_text(issued);
    let mut dates = c.dates.clone();
    dates.sort_unstable();
    dates.dedup();
    let dates: Vec<String> = dates.iter().map(|d| d.format("%d.%m.%Y").to_string()).collect();
    let check_html = match check {
        None => String::new(),
        Some(check) if check.matches => "<p class=\"match\"><strong>Die hochgeladene Datei ist die ausgestellte Bescheinigung. \
             / The uploaded file is the issued certificate.</strong></p>"
            .to_string(),
        Some(check) => format!(
            "<p class=\"mismatch\"><strong>Die hochgeladene Datei stimmt NICHT mit der ausgestellten überein (verändert?). \
             / The uploaded file does NOT match the issued one (altered?).</strong><br>SHA-256: {}</p>",
            escape(&check.uploaded_sha256)
        ),
    };
    let body = format!(
        "<h1>Teilnahmebescheinigung / Certificate of attendance</h1>{check_html}\
         <p class=\"{class}\"><strong>{}</strong></p><dl>\
         <dt>Prüfcode / Code</dt><dd>{}</dd><dt>Name</dt><dd>{}</dd><dt>Veranstaltung / Course</dt><dd>{}</dd>\
         <dt>Datum / Date</dt><dd>{}</dd><dt>Aussteller / Issuer</dt><dd>{}</dd><dt>Ausgestellt / Issued</dt><dd>{}</dd></dl>\
         <h2>PDF prüfen / Check a PDF</h2><form method=\"post\" enctype=\"multipart/form-data\">\
         <input type=\"file\" name=\"pdf\" accept=\"application/pdf\" required> <button type=\"submit\">Prüfen / Check</button></form>",
        escape(&status),
        escape(&issued.code),
        escape(&c.holder_name),
        escape(&c.course_title),
        escape(&dates.join(", ")),
        escape(&c.department),
        issued.issued_at.format("%d.%m.%Y"),
    );
    page(&format!("Bescheinigung {}", issued.code), &body)
}

async fn find_public(state: &AppState, code: &str, json: bool) -> Result<IssuedCertificate, Response> {
    let not_found = |message: String| {
        if json {
            ApiError::new(StatusCode::NOT_FOUND, message).into_response()
        } else {
            (StatusCode::NOT_FOUND, page("Nicht gefunden / not found", &format!("<h1>{}</h1>", escape(&message)))).into_response()
        }
    };
    match state.store.certificate(code).await {
        Ok(Some(issued)) => Ok(issued),
        Ok(None) => Err(not_found(format!("no certificate with code {code} was issued"))),
        Err(lms_store::Error::Invalid { message, .. }) => Err(if json {
            ApiError::bad_request(format!("code: {message}")).into_response()
        } else {
            (StatusCode::BAD_REQUEST, page("Ungültiger Code / invalid code", &format!("<h1>{}</h1>", escape(&message)))).into_response()
        }),
        Err(other) => Err(ApiError::from(other).into_response()),
    }
}

async fn verify_page(State(state): State<AppState>, Path(code): Path<String>, headers: HeaderMap) -> Response {
    let json = wants_json(&headers);
    let issued = match find_public(&state, &code, json).await {
        Ok(issued) => issued,
        Err(response) => return response,
    };
    let mut response = if json { axum::Json(public_json(&issued)).into_response() } else { certificate_html(&issued, None).into_response() };
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The uploaded PDF: the raw body (`application/pdf` or `application/octet-stream`), or the
/// `pdf` field of a `multipart/form-data` form.
async fn uploaded_pdf(state: &AppState, request: Request) -> Result<Vec<u8>, ApiError> {
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state).await.map_err(|e| ApiError::bad_request(e.body_text()))?;
        while let Some(field) = multipart.next_field().await.map_err(|e| ApiError::bad_request(e.body_text()))? {
            if field.name() == Some("pdf") {
                let bytes = field.bytes().await.map_err(|e| ApiError::bad_request(e.body_text()))?;
                return Ok(bytes.to_vec());
            }
        }
        return Err(ApiError::bad_request("the form has no field named pdf"));
    }
    let bytes = Bytes::from_request(request, state).await.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("send the PDF as the body (Content-Type: application/pdf) or as the form field pdf"));
    }
    Ok(bytes.to_vec())
}

async fn verify_upload(State(state): State<AppState>, Path(code): Path<String>, request: Request) -> Response {
    let json = wants_json(request.headers());
    let issued = match find_public(&state, &code, json).await {
        Ok(issued) => issued,
        Err(response) => return response,
    };
    let bytes = match uploaded_pdf(&state, request).await {
        Ok(bytes) => bytes,
        Err(e) => return e.into_response(),
    };
    let check = match state.store.check_certificate_pdf(&issued.code, &bytes).await {
        Ok(Some((_, check))) => check,
        Ok(None) => return ApiError::not_found(format!("certificate {code}")).into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut response = if json {
        let mut body = public_json(&issued);
        if let Value::Object(map) = &mut body {
            map.insert("pdf_matches".into(), json!(check.matches));
            map.insert("uploaded_sha256".into(), json!(check.uploaded_sha256));
        }
        axum::Json(body).into_response()
    } else {
        certificate_html(&issued, Some(&check)).into_response()
    };
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

// ---- issuing and lifecycle ----------------------------------------------------------------

async fn issue_manual(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<ManualCertificate>) -> ApiResult<Response> {
    caller.require(&[Role::Admin])?;
    let issued = state
        .store
        .issue_certificate(&IssueRequest::Manual(body), Some(&caller.0.personnel_number), Utc::now())
        .await?
        .ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, axum::Json(issued)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferingIssue {
    personnel_number: String,
}

async fn issue_for_offering(
    State(state): State<AppState>,
    caller: Caller,
    Path(offering_id): Path<i64>,
    ApiJson(body): ApiJson<OfferingIssue>,
) -> ApiResult<Response> {
    caller.require(&[Role::Admin])?;
    let issued = state.store.issue_certificate_for_offering(offering_id, &body.personnel_number, Utc::now()).await?;
    Ok((StatusCode::CREATED, axum::Json(issued)).into_response())
}

async fn issue_pending(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    let codes = state.store.issue_pending_certificates(Utc::now()).await?;
    Ok(axum::Json(json!({ "issued": codes })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    personnel_number: Option<String>,
    offering_id: Option<i64>,
}

async fn list_certificates(State(state): State<AppState>, caller: Caller, Query(query): Query<ListQuery>) -> ApiResult<axum::Json<Value>> {
    let list = match (query.personnel_number, query.offering_id) {
        (Some(person), None) => {
            if person != caller.0.personnel_number {
                caller.require(&[Role::Admin])?;
            }
            state.store.certificates_of(&person).await?
        }
        (None, Some(offering)) => {
            caller.require(&[Role::Admin])?;
            state.store.certificates_of_offering(offering).await?
        }
        (None, None) => state.store.certificates_of(&caller.0.personnel_number).await?,
        (Some(_), Some(_)) => return Err(ApiError::bad_request("give personnel_number or offering_id, not both")),
    };
    Ok(axum::Json(json!({ "certificates": list })))
}

/// The holder or an admin.
async fn readable(state: &AppState, caller: &Caller, code: &str) -> ApiResult<IssuedCertificate> {
    let issued = state.store.certificate(code).await?.ok_or_else(|| ApiError::not_found(format!("certificate {code}")))?;
    if issued.personnel_number != caller.0.personnel_number {
        caller.require(&[Role::Admin])?;
    }
    Ok(issued)
}

async fn get_certificate(State(state): State<AppState>, caller: Caller, Path(code): Path<String>) -> ApiResult<axum::Json<IssuedCertificate>> {
    Ok(axum::Json(readable(&state, &caller, &code).await?))
}

fn pdf_response(bytes: Vec<u8>, file_name: &str) -> Response {
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

async fn get_pdf(State(state): State<AppState>, caller: Caller, Path(code): Path<String>) -> ApiResult<Response> {
    let issued = readable(&state, &caller, &code).await?;
    let bytes = state.store.certificate_pdf(&issued.code).await?;
    Ok(pdf_response(bytes, &format!("certificate-{}.pdf", issued.code)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeBody {
    reason: String,
}

async fn revoke(State(state): State<AppState>, caller: Caller, Path(code): Path<String>, ApiJson(body): ApiJson<RevokeBody>) -> ApiResult<axum::Json<IssuedCertificate>> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(state.store.revoke_certificate(&code, &body.reason, Some(&caller.0.personnel_number), Utc::now()).await?))
}

async fn reissue(State(state): State<AppState>, caller: Caller, Path(code): Path<String>) -> ApiResult<Response> {
    caller.require(&[Role::Admin])?;
    let issued = state.store.reissue_certificate(&code, Some(&caller.0.personnel_number), Utc::now()).await?;
    Ok((StatusCode::CREATED, axum::Json(issued)).into_response())
}

async fn history_pdf(State(state): State<AppState>, caller: Caller, Path(personnel_number): Path<String>) -> ApiResult<Response> {
    if personnel_number != caller.0.personnel_number {
        caller.require(&[Role::Admin])?;
    }
    let bytes = state.store.training_history_pdf(&personnel_number, Utc::now()).await?;
    Ok(pdf_response(bytes, &format!("training-history-{personnel_number}.pdf")))
}

// ---- zips, streamed -------------------------------------------------------------------------

/// A `Write` that hands 64 KiB chunks to the response body through a bounded channel: the
/// writer (a blocking thread) waits while the client is slow, so memory stays flat.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK)));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

/// Runs `produce` (which writes a zip into the writer it gets) and streams its output.
fn zip_response<F, Fut>(file_name: &str, produce: F) -> Response
where
    F: FnOnce(ChannelWriter) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Value, lms_store::Error>> + Send + 'static,
{
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let errors = sender.clone();
    tokio::spawn(async move {
        let writer = ChannelWriter { sender, buffer: Vec::with_capacity(CHUNK) };
        match produce(writer).await {
            Ok(report) => tracing::info!(%report, "zip written"),
            Err(e) => {
                tracing::error!(error = %e, "writing a zip failed");
                // Breaks the download instead of ending it as if complete.
                let _ = errors.send(Err(std::io::Error::other("the zip could not be completed"))).await;
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}

fn workers() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

async fn render_offering(State(state): State<AppState>, caller: Caller, Path(offering_id): Path<i64>) -> ApiResult<Response> {
    caller.require(&[Role::Admin])?;
    if state.store.offering(offering_id).await?.is_none() {
        return Err(ApiError::not_found(format!("offering {offering_id}")));
    }
    let store = state.store.clone();
    let by = caller.0.personnel_number.clone();
    Ok(zip_response(&format!("certificates-offering-{offering_id}.zip"), move |writer| async move {
        let report = store.render_offering_certificates(offering_id, Some(&by), Utc::now(), workers(), writer, None).await?;
        for failure in &report.failed {
            tracing::warn!(personnel_number = %failure.personnel_number, message = %failure.message, "no certificate");
        }
        Ok(serde_json::to_value(&report).unwrap_or_default())
    }))
}

async fn export(State(state): State<AppState>, caller: Caller, ApiJson(filter): ApiJson<ExportFilter>) -> ApiResult<Response> {
    caller.require(&[Role::Admin])?;
    if let Some(person) = &filter.personnel_number {
        if state.store.person(person).await?.is_none() {
            return Err(ApiError::not_found(format!("person {person:?}")));
        }
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if from > to {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("from: {from} is after {to}")));
        }
    }
    let name = match &filter.personnel_number {
        Some(person) => format!("personnel-file-{person}.zip"),
        None => "personnel-file-export.zip".to_string(),
    };
    let store = state.store.clone();
    Ok(zip_response(&name, move |writer| async move {
        let report = store.export_certificates(&filter, Utc::now(), writer, None).await?;
        Ok(serde_json::to_value(&report).unwrap_or_default())
    }))
}

// ---- templates and settings -----------------------------------------------------------------

async fn template_body(state: &AppState, request: Request) -> ApiResult<lms_certificate::Template> {
    let bytes = Bytes::from_request(request, state).await.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_request("the template must be UTF-8 JSON"))?;
    lms_certificate::Template::from_json(text)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).with(json!({ "field": "template" })))
}

async fn put_template(State(state): State<AppState>, caller: Caller, Path(org_unit): Path<String>, request: Request) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    let template = template_body(&state, request).await?;
    let sha = state.store.set_certificate_template(Some(&org_unit), &template, Some(&caller.0.personnel_number)).await?;
    Ok(axum::Json(json!({ "org_unit": org_unit, "template_sha256": sha })))
}

async fn put_default_template(State(state): State<AppState>, caller: Caller, request: Request) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    let template = template_body(&state, request).await?;
    let sha = state.store.set_certificate_template(None, &template, Some(&caller.0.personnel_number)).await?;
    Ok(axum::Json(json!({ "org_unit": null, "template_sha256": sha })))
}

async fn template_response(state: &AppState, org_unit: Option<&str>) -> ApiResult<Response> {
    let (sha, template) = state.store.certificate_template_for(org_unit).await?;
    let mut response = Body::from(template.to_json()).into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(value) = HeaderValue::from_str(&sha) {
        response.headers_mut().insert("x-template-sha256", value);
    }
    Ok(response)
}

async fn get_template(State(state): State<AppState>, caller: Caller, Path(org_unit): Path<String>) -> ApiResult<Response> {
    caller.require(&[Role::Admin])?;
    if state.store.org_unit(&org_unit).await?.is_none() {
        return Err(ApiError::not_found(format!("org unit {org_unit:?}")));
    }
    template_response(&state, Some(&org_unit)).await
}

async fn get_default_template(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    caller.require(&[Role::Admin])?;
    template_response(&state, None).await
}

async fn delete_template(State(state): State<AppState>, caller: Caller, Path(org_unit): Path<String>) -> ApiResult<StatusCode> {
    caller.require(&[Role::Admin])?;
    if state.store.remove_certificate_template(Some(&org_unit)).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::not_found(format!("template of {org_unit:?}"))) }
}

async fn delete_default_template(State(state): State<AppState>, caller: Caller) -> ApiResult<StatusCode> {
    caller.require(&[Role::Admin])?;
    if state.store.remove_certificate_template(None).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::not_found("default template")) }
}

async fn get_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(json!({ "base_url": state.store.certificate_base_url().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    base_url: String,
}

async fn put_settings(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<SettingsBody>) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    Ok(axum::Json(json!({ "base_url": state.store.set_certificate_base_url(&body.base_url).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DurationBody {
    duration_minutes: u32,
}

async fn put_duration(State(state): State<AppState>, caller: Caller, Path(course_id): Path<i64>, ApiJson(body): ApiJson<DurationBody>) -> ApiResult<axum::Json<Value>> {
    caller.require(&[Role::Admin])?;
    state.store.set_certificate_duration(course_id, body.duration_minutes).await?;
    Ok(axum::Json(json!({ "course_id": course_id, "duration_minutes": body.duration_minutes })))
}
