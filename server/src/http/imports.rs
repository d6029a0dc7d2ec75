//! `/admin/importar`: the legacy import from the browser (see
//! [`angel_app::ssr::services::uploads`]). The upload is a multipart form that works without
//! JavaScript (the access layer checks its CSRF field and the permission before reading it);
//! the file is checked whole as `angel import persons` checks it, kept sealed, previewed by a
//! dry run in the background, and imported once an administrator confirms.

use angel_app::{
    ssr::{
        AppState, ServiceError,
        services::{
            legacy::Options,
            uploads::{self, Decision, NewUpload, Phase, Work},
        },
    },
    staff::{
        dto::ImportProblem,
        form_state::{FormState, Notice},
    },
};
use axum::{
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State},
    response::{IntoResponse, Redirect, Response},
};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use tower::{Layer, ServiceExt};

use super::forms::{Pages, Posted, failed, me, render, request_id, signed_post};
use super::security::refusal;
use crate::legacy::{self, describe};

/// The fields of an upload, read by the access layer (which checked and removed the CSRF
/// field): `(field name, its bytes)`, in order.
#[derive(Debug, Clone)]
pub struct Uploaded(pub Vec<(String, Bytes)>);

/// The parts of a multipart body: `(field name, its bytes)`, in order. `None` when it is not a
/// multipart body or does not parse.
pub async fn fields(headers: &HeaderMap, body: Bytes) -> Option<Vec<(String, Bytes)>> {
    let mut request = Request::new(Body::from(body));
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        request
            .headers_mut()
            .insert(header::CONTENT_TYPE, ct.clone());
    }
    // Multipart's own limit (2 MB unless told otherwise) would cut an upload short: the access
    // layer has already bounded the body.
    let read = DefaultBodyLimit::disable().layer(tower::service_fn(|request: Request| async {
        Ok::<_, std::convert::Infallible>(read_fields(request).await)
    }));
    read.oneshot(request).await.ok().flatten()
}

async fn read_fields(request: Request) -> Option<Vec<(String, Bytes)>> {
    let mut multipart = Multipart::from_request(request, &()).await.ok()?;
    let mut out = Vec::new();
    while let Some(field) = multipart.next_field().await.ok()? {
        let name = field.name().unwrap_or_default().to_owned();
        out.push((name, field.bytes().await.ok()?));
    }
    Some(out)
}

/// What the upload form sends.
#[derive(Default)]
struct UploadForm {
    agency: String,
    mapping: String,
    fuzzy: bool,
    file: Option<Bytes>,
}

impl UploadForm {
    /// Reads the known fields; `None` for an unknown one.
    fn read(parts: Vec<(String, Bytes)>) -> Option<UploadForm> {
        let mut form = UploadForm::default();
        let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
        for (name, value) in parts {
            match name.as_str() {
                "agency" => form.agency = text(&value),
                // A mapping file, or the mapping pasted: whichever is not empty.
                "mapping" | "mapping_file" if !value.is_empty() => form.mapping = text(&value),
                "mapping" | "mapping_file" => {}
                "fuzzy" => form.fuzzy = !value.is_empty(),
                "file" => form.file = Some(value).filter(|f| !f.is_empty()),
                _ => return None,
            }
        }
        Some(form)
    }
}

fn problems_notice(problems: &[angel_app::ssr::services::legacy::Problem]) -> FormState {
    let listed = problems
        .iter()
        .map(|p| {
            let (es, en) = describe(&p.code);
            ImportProblem {
                line: p.line,
                column: p.column.clone(),
                code: p.code.clone(),
                message_es: es,
                message_en: en,
            }
        })
        .collect();
    FormState {
        notice: Some(Notice::ImportRefused(listed)),
        ..FormState::default()
    }
}

/// `POST /admin/importar`: checks the file whole, keeps it sealed and starts its preview;
/// a refused file is listed with every problem and nothing is kept.
pub async fn upload(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let Some(me) = me(&request) else {
        return refusal(StatusCode::UNAUTHORIZED, request.headers());
    };
    let rid = request_id(request.headers());
    let parsed = request
        .extensions()
        .get::<Uploaded>()
        .and_then(|u| UploadForm::read(u.0.clone()));
    let Some(form) = parsed else {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
    };
    let agency = form.agency.trim().parse::<i32>().ok();
    let pairs = [("agency", form.agency.as_str())];
    let mut errors = Vec::new();
    if agency.is_none() {
        errors.push(angel_app::error::FieldError::new("agency", "required"));
    }
    if form.file.is_none() {
        errors.push(angel_app::error::FieldError::new("file", "required"));
    }
    let (Some(agency_id), Some(file)) = (agency, form.file) else {
        return failed(
            &state,
            &pages,
            request,
            ServiceError::Invalid(errors),
            &pairs,
        )
        .await;
    };
    let mapping_text = Some(form.mapping.trim()).filter(|m| !m.is_empty());
    let checked = match legacy::check_with(&file, mapping_text) {
        Ok(c) => c,
        Err(problems) => {
            let refused = problems_notice(&problems);
            return render(
                &state,
                &pages,
                request,
                refused,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let new = NewUpload {
        agency_id,
        sha256: &checked.sha256,
        rows: checked.rows,
        fuzzy: form.fuzzy,
        mapping: mapping_text,
        file: &file,
    };
    match uploads::store(&state, &me.actor, new, rid.as_deref()).await {
        Ok(id) => {
            start(&state, id, Phase::Preview);
            Redirect::to(&format!("/admin/importar/{id}")).into_response()
        }
        Err(error) => failed(&state, &pages, request, error, &pairs).await,
    }
}

/// Seconds after which the page of an upload being worked on is read again.
const REFRESH_SECONDS: &str = "2";

/// Layer over the pages: the answer to `GET /admin/importar/{id}` while this server previews or
/// imports that upload carries `Refresh: 2`, so the browser reads it again until the work is
/// over. In the HTTP answer, the refresh needs neither JavaScript nor the page's `<head>`.
///
/// The work may end (or start) while the page is rendered, so it is asked both before and
/// after: a page that shows the work running always says to refresh, and at worst a page
/// rendered just as the work ended is read once more.
pub async fn refresh(
    State(state): State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let upload = (request.method() == http::Method::GET)
        .then(|| request.uri().path().strip_prefix("/admin/importar/"))
        .flatten()
        .and_then(|id| id.parse::<i32>().ok());
    let busy = || upload.is_some_and(|id| state.uploads.busy(id));
    let before = busy();
    let mut response = next.run(request).await;
    let working = before || busy();
    if working && response.status() == StatusCode::OK {
        response.headers_mut().insert(
            header::REFRESH,
            http::HeaderValue::from_static(REFRESH_SECONDS),
        );
    }
    response
}

/// The decision form of one upload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionForm {
    action: String,
}

/// `POST /admin/importar/{id}`: confirm, discard or resume.
pub async fn decide(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<DecisionForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let Some(decision) = Decision::from_code(form.action.trim()) else {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
    };
    match uploads::decide(&state, &me.actor, id, decision, rid.as_deref()).await {
        Ok(phase) => {
            if let Some(phase) = phase {
                start(&state, id, phase);
            }
            Redirect::to(&format!("/admin/importar/{id}")).into_response()
        }
        Err(error) => failed(&state, &pages, request, error, &[]).await,
    }
}

/// `GET /admin/importar/{id}/informe.csv`: the whole report.
pub async fn report(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let headers = request.headers();
    let Some(me) = me(&request) else {
        return refusal(StatusCode::UNAUTHORIZED, headers);
    };
    let rid = request_id(headers);
    match uploads::report_csv(&state, &me.actor, id, rid.as_deref()).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"importacion-{id}.csv\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            csv.to_vec(),
        )
            .into_response(),
        Err(ServiceError::NotFound) => refusal(StatusCode::NOT_FOUND, headers),
        Err(error) => {
            tracing::error!(%error, upload = id, "import report");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, headers)
        }
    }
}

/// Starts a step in the background, unless this server is already working on the upload.
fn start(state: &AppState, id: i32, phase: Phase) {
    let Some(work) = Work::claim(state, id) else {
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        // `run` lets go of the claim before it records the end, so that what the page then
        // shows (done, failed) may be acted on at once.
        if let Err(error) = run(&state, id, phase, work).await {
            // Codes only: never a cell of the file.
            tracing::error!(%error, upload = id, ?phase, "import step stopped");
            if let Err(error) = uploads::failed(&state, id).await {
                tracing::error!(%error, upload = id, "import step not marked failed");
            }
        }
    });
}

/// One step: the file opened and checked again, the import run (a dry run for the preview),
/// its counts and report kept.
async fn run(state: &AppState, id: i32, phase: Phase, work: Work) -> Result<(), ServiceError> {
    let opened = uploads::open(state, id).await?;
    let checked = legacy::check_with(&opened.file, opened.upload.mapping.as_deref())
        .map_err(|_| ServiceError::Internal("a kept file no longer passes the checks"))?;
    let options = Options {
        dry_run: phase == Phase::Preview,
        fuzzy: opened.upload.fuzzy,
        ..Options::default()
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let summary = legacy::import(
        state,
        &checked,
        &opened.agency_code,
        options,
        &mut out,
        |done| work.progress(done),
    )
    .await?;
    let report = out
        .into_inner()
        .map_err(|_| ServiceError::Internal("the import report could not be written"))?;
    drop(work);
    uploads::finished(state, id, phase, &summary, &report).await
}
