//! Routes. Handlers are thin: parse the request, call the store, shape the answer.

use std::collections::BTreeSet;
use std::path::PathBuf;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use lms_store::{ImportOptions, NewOrgUnit, NewPerson, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Caller, SESSION_COOKIE, session_cookie};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/packages", post(upload_package).get(list_packages).layer(DefaultBodyLimit::disable()))
        .route("/api/packages/{id}", get(get_package))
        .route("/api/packages/{id}/files", get(list_package_files))
        .route("/api/people", post(create_person))
        .route("/api/people/{personnel_number}", get(get_person))
        .route("/api/org-units", post(create_org_unit).get(list_org_units))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .merge(crate::scorm::router())
        .merge(crate::xapi::router())
        .merge(crate::cmi5::router())
        .merge(crate::schedule::router())
        .merge(crate::certificates::router())
        .fallback(not_found)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint; the README lists the API")
}

async fn healthz(State(state): State<AppState>) -> ApiResult<axum::Json<Value>> {
    state.store.ping().await?;
    Ok(axum::Json(json!({ "status": "ok", "database": format!("{:?}", state.store.backend()).to_lowercase() })))
}

// ---- packages ---------------------------------------------------------------------------

/// A spooled upload, removed from disk when dropped.
struct Spool {
    path: PathBuf,
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn upload_package(State(state): State<AppState>, caller: Caller, request: Request) -> ApiResult<Response> {
    caller.require(&[Role::Author, Role::Admin])?;
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let spool = Spool { path: state.config.spool_dir.join(format!("upload-{}.zip", uuid::Uuid::new_v4().simple())) };
    let mut file = tokio::fs::File::create(&spool.path).await.map_err(|e| {
        tracing::error!(error = %e, "cannot create spool file");
        ApiError::internal()
    })?;
    let limit = state.config.max_upload_bytes;
    let mut bare_structure = false;
    let written = if content_type.starts_with("multipart/form-data") {
        let mut multipart = axum::extract::Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::bad_request(format!("the multipart body cannot be read: {}", e.body_text())))?;
        let mut written = None;
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(format!("the multipart body is broken: {}", e.body_text())))?
        {
            if field.name() != Some("file") {
                continue;
            }
            let mut n = 0u64;
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| ApiError::bad_request(format!("the upload broke off: {}", e.body_text())))?
            {
                n += chunk.len() as u64;
                if n > limit {
                    return Err(too_large(limit));
                }
                file.write_all(&chunk).await.map_err(spool_error)?;
            }
            written = Some(n);
            break;
        }
        written.ok_or_else(|| ApiError::bad_request("the multipart body has no field named \"file\""))?
    } else if content_type.starts_with("text/xml") || content_type.starts_with("application/xml") {
        // a bare cmi5 course structure (cmi5.xml alone, every AU URL fully qualified)
        bare_structure = true;
        let mut stream = request.into_body().into_data_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the upload broke off: {e}")))?;
            n += chunk.len() as u64;
            if n > limit {
                return Err(too_large(limit));
            }
            file.write_all(&chunk).await.map_err(spool_error)?;
        }
        n
    } else if content_type.starts_with("application/zip")
        || content_type.starts_with("application/x-zip-compressed")
        || content_type.starts_with("application/octet-stream")
    {
        let mut stream = request.into_body().into_data_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the upload broke off: {e}")))?;
            n += chunk.len() as u64;
            if n > limit {
                return Err(too_large(limit));
            }
            file.write_all(&chunk).await.map_err(spool_error)?;
        }
        n
    } else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the package as Content-Type: application/zip, as multipart/form-data with a field named \"file\", or a bare cmi5.xml as text/xml",
        ));
    };
    file.flush().await.map_err(spool_error)?;
    drop(file);
    if written == 0 {
        return Err(ApiError::bad_request("the upload is empty"));
    }
    let options = ImportOptions {
        limits: state.config.archive_limits.clone(),
        uploaded_by: Some(caller.0.personnel_number.clone()),
    };
    let outcome = if bare_structure {
        state.store.import_structure_file(&spool.path, &options).await?
    } else {
        state.store.import_package_zip(&spool.path, &options, None).await?
    };
    let status = if outcome.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let body = json!({
        "id": outcome.record.id,
        "title": outcome.record.title,
        "standard": outcome.record.standard,
        "version": outcome.record.version,
        "course_key": outcome.record.course_key,
        "duplicate": outcome.duplicate,
        "n_files": outcome.record.n_files,
        "diagnostics": outcome.diagnostics,
    });
    Ok((status, axum::Json(body)).into_response())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the upload is larger than the limit of {limit} bytes"))
}

fn spool_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "writing the upload spool failed");
    ApiError::internal()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Paging {
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_packages(
    State(state): State<AppState>,
    _caller: Caller,
    query: Result<Query<Paging>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::Json<Value>> {
    let Query(paging) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = paging.limit.unwrap_or(100).clamp(1, 1000);
    let offset = paging.offset.unwrap_or(0).max(0);
    let packages = state.store.list_packages(limit, offset).await?;
    Ok(axum::Json(json!({ "packages": packages, "limit": limit, "offset": offset })))
}

async fn get_package(State(state): State<AppState>, _caller: Caller, Path(id): Path<String>) -> ApiResult<axum::Json<Value>> {
    let record = state.store.package(&id).await?.ok_or_else(|| ApiError::not_found(format!("package {id:?}")))?;
    Ok(axum::Json(serde_json::to_value(record).map_err(|_| ApiError::internal())?))
}

async fn list_package_files(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    state.store.package(&id).await?.ok_or_else(|| ApiError::not_found(format!("package {id:?}")))?;
    let files = state.store.package_files(&id).await?;
    Ok(axum::Json(json!({ "files": files })))
}

// ---- people and org units ------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePerson {
    personnel_number: String,
    name: String,
    #[serde(default)]
    org_unit: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    password: Option<String>,
}

async fn create_person(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreatePerson>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.require(&[Role::Admin])?;
    let mut roles = BTreeSet::new();
    for r in &body.roles {
        roles.insert(Role::parse(r).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("roles: unknown role {r:?} (known: learner, author, trainer, manager, admin)"),
            )
        })?);
    }
    let person = state
        .store
        .create_person(&NewPerson {
            personnel_number: body.personnel_number,
            name: body.name,
            org_unit: body.org_unit.filter(|u| !u.is_empty()),
            roles,
            password: body.password,
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(serde_json::to_value(person).map_err(|_| ApiError::internal())?)))
}

async fn get_person(
    State(state): State<AppState>,
    caller: Caller,
    Path(personnel_number): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    if caller.0.personnel_number != personnel_number {
        caller.require(&[Role::Admin, Role::Manager])?;
    }
    let person = state
        .store
        .person(&personnel_number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("person {personnel_number:?}")))?;
    Ok(axum::Json(serde_json::to_value(person).map_err(|_| ApiError::internal())?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrgUnit {
    id: String,
    name: String,
    #[serde(default)]
    parent_id: Option<String>,
}

async fn create_org_unit(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateOrgUnit>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    caller.require(&[Role::Admin])?;
    let unit = state.store.create_org_unit(&NewOrgUnit { id: body.id, name: body.name, parent_id: body.parent_id }).await?;
    Ok((StatusCode::CREATED, axum::Json(serde_json::to_value(unit).map_err(|_| ApiError::internal())?)))
}

async fn list_org_units(State(state): State<AppState>, _caller: Caller) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(json!({ "org_units": state.store.list_org_units().await? })))
}

// ---- sign-in -------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    personnel_number: String,
    password: String,
}

const SESSION_HOURS: i64 = 12;

async fn login(State(state): State<AppState>, ApiJson(body): ApiJson<Login>) -> ApiResult<Response> {
    let secret = state
        .store
        .login(body.personnel_number.trim(), &body.password, chrono::Duration::hours(SESSION_HOURS))
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "personnel number or password is wrong"))?;
    let person = state.store.person(body.personnel_number.trim()).await?.ok_or_else(ApiError::internal)?;
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}",
        SESSION_HOURS * 3600
    );
    let mut response = axum::Json(serde_json::to_value(person).map_err(|_| ApiError::internal())?).into_response();
    response.headers_mut().insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| ApiError::internal())?);
    Ok(response)
}

async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> ApiResult<Response> {
    if let Some(secret) = session_cookie(&headers) {
        state.store.logout(&secret).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_static("lms_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"));
    Ok(response)
}

async fn me(caller: Caller) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(serde_json::to_value(caller.0).map_err(|_| ApiError::internal())?))
}
