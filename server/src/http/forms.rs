//! The HTML form posts. Each one parses its form (unknown fields refused), calls the service,
//! and answers with a redirect (303) when it worked or with the same page showing the errors
//! and what was typed (never a password). The access layer already checked the origin, the
//! CSRF token and the permission.

use std::sync::Arc;

use angel_app::{
    coverage::forms::IndicatorForm,
    eligibility::forms::{AnswerForm, RequestForm, bundle_path},
    portal::{forms::TrackForm, screener::Answers},
    registry::{
        facts::{FactForm, RelativeForm},
        forms::{PersonForm, SearchForm},
        merge::DecisionForm,
    },
    rules::forms::RuleForm,
    shell,
    ssr::{
        AppState, ServiceError,
        auth::{SignedIn, sign_in as auth},
        services::{
            api_clients, eligibility, indicators, merge, portal, profile, referral, registry,
            rules, staff, tracking, workload,
        },
    },
    staff::{
        form_state::{FormState, Notice},
        forms::{ActivateForm, ApiClientForm, ChangePasswordForm, SignInForm, StaffForm},
    },
    tracking::forms::{
        AssignForm, DecisionForm as RequestDecisionForm, NoteForm, ReferralDecisionForm,
        ReferralForm,
    },
};
use axum::{
    body::Body,
    extract::{Path, Request, State},
    response::{IntoResponse, Redirect, Response},
};
use http::{HeaderMap, StatusCode, header};
use leptos::prelude::provide_context;
use leptos_axum::AxumRouteListing;
use serde::de::DeserializeOwned;

use super::security::{clear_session_cookie, cookie_value, csrf_cookie, refusal, session_cookie};

/// The route table, to render a page again after a post.
#[derive(Clone)]
pub struct Pages(pub Arc<Vec<AxumRouteListing>>);

/// Renders the page at the request's path with the form's state and the given status.
pub(super) async fn render(
    state: &AppState,
    pages: &Pages,
    request: Request,
    form: FormState,
    status: StatusCode,
) -> Response {
    let (mut parts, _) = request.into_parts();
    parts.method = http::Method::GET;
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    let context_state = state.clone();
    let handler = leptos_axum::render_route_with_context(
        pages.0.as_ref().clone(),
        move || {
            provide_context(context_state.clone());
            provide_context(form.clone());
        },
        {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        },
    );
    let mut response = handler(
        State(state.clone()),
        Request::from_parts(parts, Body::empty()),
    )
    .await;
    if response.status().is_success() {
        *response.status_mut() = status;
    }
    response
}

/// Splits the request and parses its urlencoded body (the access layer bounded its size).
pub(super) async fn parse<T: DeserializeOwned>(request: Request) -> Result<(Request, T), Response> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, super::security::MAX_BODY_BYTES)
        .await
        .map_err(|_| refusal(StatusCode::PAYLOAD_TOO_LARGE, &parts.headers))?;
    let form = serde_urlencoded::from_bytes::<T>(&bytes)
        .map_err(|_| refusal(StatusCode::UNPROCESSABLE_ENTITY, &parts.headers))?;
    Ok((Request::from_parts(parts, Body::empty()), form))
}

pub(super) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(super) fn values(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A state with the errors of a refused form.
pub(super) fn invalid(
    pairs: &[(&str, &str)],
    errors: Vec<angel_app::error::FieldError>,
) -> FormState {
    FormState {
        values: values(pairs),
        errors,
        notice: None,
    }
}

/// Signed in: the session cookie, a fresh CSRF token, and off to the role's home.
fn signed_in(state: &AppState, token: &str, home: &str) -> Response {
    let mut response = Redirect::to(home).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session_cookie(&state.auth, token));
    headers.append(
        header::SET_COOKIE,
        csrf_cookie(&state.auth, &angel_app::ssr::auth::random_token()),
    );
    response
}

pub(super) async fn failed(
    state: &AppState,
    pages: &Pages,
    request: Request,
    error: ServiceError,
    pairs: &[(&str, &str)],
) -> Response {
    let (form, status) = match error {
        ServiceError::Invalid(errors) => (invalid(pairs, errors), StatusCode::UNPROCESSABLE_ENTITY),
        ServiceError::Conflict => (
            FormState {
                values: values(pairs),
                errors: vec![],
                notice: Some(Notice::Conflict),
            },
            StatusCode::CONFLICT,
        ),
        ServiceError::RateLimited => (
            FormState {
                values: values(pairs),
                errors: vec![],
                notice: Some(Notice::Throttled { seconds: 60 }),
            },
            StatusCode::TOO_MANY_REQUESTS,
        ),
        ServiceError::NotFound => return refusal(StatusCode::NOT_FOUND, request.headers()),
        other => {
            tracing::error!(error = %other, "form post failed");
            (
                FormState {
                    values: values(pairs),
                    errors: vec![],
                    notice: Some(Notice::Failed),
                },
                StatusCode::INTERNAL_SERVER_ERROR,
            )
        }
    };
    render(state, pages, request, form, status).await
}

/// `POST /entrar`.
pub async fn sign_in(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let (request, form) = match parse::<SignInForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let pairs = [("username", form.username.as_str())];
    let errors = form.validate();
    if !errors.is_empty() {
        return render(
            &state,
            &pages,
            request,
            invalid(&pairs, errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let (ua, rid, previous) = request_context(&state, request.headers());
    let cx = auth::Context {
        user_agent: ua.as_deref(),
        request_id: rid.as_deref(),
        previous_token: previous.as_deref(),
    };
    let outcome = auth::sign_in(&state, &form.username, &form.password, cx).await;
    // Nothing typed is echoed: the answer is byte for byte the same for any username.
    answer(&state, &pages, request, outcome).await
}

/// User agent, request id and the session token still in the browser (rotated at sign-in).
fn request_context(
    state: &AppState,
    headers: &HeaderMap,
) -> (Option<String>, Option<String>, Option<String>) {
    (
        user_agent(headers),
        request_id(headers),
        cookie_value(headers, state.auth.session_cookie()),
    )
}

/// The answer to a sign-in or an activation: signed in, refused (one message for every cause,
/// nothing typed echoed), throttled, or failed.
async fn answer(
    state: &AppState,
    pages: &Pages,
    request: Request,
    outcome: Result<auth::Outcome, ServiceError>,
) -> Response {
    match outcome {
        Ok(auth::Outcome::SignedIn { token, home }) => signed_in(state, &token, home),
        Ok(auth::Outcome::Invalid) => {
            let form = noticed(Notice::InvalidCredentials);
            render(state, pages, request, form, StatusCode::UNAUTHORIZED).await
        }
        Ok(auth::Outcome::Throttled(wait)) => throttled(state, pages, request, wait).await,
        Err(error) => failed(state, pages, request, error, &[]).await,
    }
}

pub(super) async fn throttled(
    state: &AppState,
    pages: &Pages,
    request: Request,
    wait: chrono::TimeDelta,
) -> Response {
    let seconds = wait.num_seconds().max(1);
    let form = noticed(Notice::Throttled { seconds });
    let mut response = render(state, pages, request, form, StatusCode::TOO_MANY_REQUESTS).await;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, seconds.into());
    response
}

/// `POST /revisa` (public): one step of the anonymous eligibility check. The answers so far
/// arrive in the form (never in the URL) and go back in hidden fields; nothing is stored or
/// logged. Bad answers → the same step with field errors (422).
pub async fn screen_step(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let (request, pairs) = match parse::<Vec<(String, String)>>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let Some(answers) = Answers::from_pairs(&pairs) else {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
    };
    match portal::screen(&state, &answers).await {
        Ok((screening, errors)) => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let form = FormState {
                values: answers.values,
                errors,
                notice: Some(Notice::Screened(Box::new(screening))),
            };
            render(&state, &pages, request, form, status).await
        }
        Err(error) => failed(&state, &pages, request, error, &[]).await,
    }
}

/// `POST /seguimiento` (public): a request's history by folio and the beneficiary's birth date.
/// An unknown folio, a wrong birth date and too many tries for the folio get one neutral
/// message (404, or 429 with `Retry-After` when throttled); the birth date is echoed back only
/// to correct it.
pub async fn follow_request(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let (request, form) = match parse::<TrackForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let pairs = [
        ("folio", form.folio.as_str()),
        ("birth_date", form.birth_date.as_str()),
    ];
    let rid = request_id(request.headers());
    let (notice, status, wait) = match portal::follow(&state, &form, rid.as_deref()).await {
        Ok(portal::Followed::Found(found)) => (Notice::Tracked(found), StatusCode::OK, None),
        Ok(portal::Followed::Unknown) => (Notice::TrackUnknown, StatusCode::NOT_FOUND, None),
        Ok(portal::Followed::Throttled(wait)) => (
            Notice::TrackUnknown,
            StatusCode::TOO_MANY_REQUESTS,
            Some(wait.num_seconds().max(1)),
        ),
        Err(error) => return failed(&state, &pages, request, error, &pairs).await,
    };
    let shown = if status == StatusCode::OK {
        &pairs[..1]
    } else {
        &pairs[..]
    };
    let form = FormState {
        values: values(shown),
        notice: Some(notice),
        ..FormState::default()
    };
    let mut response = render(&state, &pages, request, form, status).await;
    if let Some(seconds) = wait {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

/// `POST /activar`.
pub async fn activate(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let (request, form) = match parse::<ActivateForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let pairs = [("username", form.username.as_str())];
    let context =
        match staff::password_context(&state.db, &form.username.trim().to_lowercase()).await {
            Ok(words) => words,
            Err(error) => return failed(&state, &pages, request, error, &pairs).await,
        };
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let errors = form.validate(&context);
    if !errors.is_empty() {
        return render(
            &state,
            &pages,
            request,
            invalid(&pairs, errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let (ua, rid, previous) = request_context(&state, request.headers());
    let cx = auth::Context {
        user_agent: ua.as_deref(),
        request_id: rid.as_deref(),
        previous_token: previous.as_deref(),
    };
    let outcome = auth::activate(&state, &form.username, &form.token, &form.password, cx).await;
    answer(&state, &pages, request, outcome).await
}

pub(super) fn me(request: &Request) -> Option<SignedIn> {
    request.extensions().get::<SignedIn>().cloned()
}

/// A form post by a signed-in staff member: who, the request (body consumed), the parsed form
/// and the request id.
pub(super) struct Posted<T> {
    pub(super) me: SignedIn,
    pub(super) request: Request,
    pub(super) form: T,
    pub(super) rid: Option<String>,
}

/// The common start of a staff form post: 401 without a session (the access layer normally
/// answered already), 413/422 for a body that does not parse.
pub(super) async fn signed_post<T: DeserializeOwned>(
    request: Request,
) -> Result<Posted<T>, Response> {
    let Some(me) = me(&request) else {
        return Err(refusal(StatusCode::UNAUTHORIZED, request.headers()));
    };
    let (request, form) = parse::<T>(request).await?;
    let rid = request_id(request.headers());
    Ok(Posted {
        me,
        request,
        form,
        rid,
    })
}

/// [`signed_post`] of a form whose fields repeat or are indexed: the posted pairs become the
/// form through `parse`, and a body it refuses (unknown or missing fields) is 422.
async fn signed_pairs<F>(
    request: Request,
    parse: impl FnOnce(&[(String, String)]) -> Option<F>,
) -> Result<Posted<F>, Response> {
    let posted = signed_post::<Vec<(String, String)>>(request).await?;
    let Some(form) = parse(&posted.form) else {
        return Err(refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            posted.request.headers(),
        ));
    };
    Ok(Posted {
        me: posted.me,
        request: posted.request,
        form,
        rid: posted.rid,
    })
}

/// A page state carrying only a notice.
pub(super) fn noticed(notice: Notice) -> FormState {
    FormState {
        notice: Some(notice),
        ..FormState::default()
    }
}

/// `POST /salir`.
pub async fn sign_out(State(state): State<AppState>, request: Request) -> Response {
    let Some(me) = me(&request) else {
        return refusal(StatusCode::UNAUTHORIZED, request.headers());
    };
    if let Err(error) = staff::sign_out(&state, &me, request_id(request.headers()).as_deref()).await
    {
        tracing::error!(%error, "sign-out failed");
        return refusal(StatusCode::INTERNAL_SERVER_ERROR, request.headers());
    }
    let mut response = Redirect::to("/entrar").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie(&state.auth));
    response
}

/// `POST /cuenta`: change one's own password.
pub async fn change_password(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<ChangePasswordForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match staff::change_own_password(&state, &me, &form, rid.as_deref()).await {
        Ok(()) => {
            render(
                &state,
                &pages,
                request,
                noticed(Notice::PasswordChanged),
                StatusCode::OK,
            )
            .await
        }
        Err(error) => failed(&state, &pages, request, error, &[]).await,
    }
}

/// `POST /admin/personal/nuevo`.
pub async fn create_staff(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<StaffForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let pairs = [
        ("username", form.username.as_str()),
        ("display_name", form.display_name.as_str()),
        ("role", form.role.as_str()),
        ("agency", form.agency.as_str()),
        ("office", form.office.as_str()),
    ];
    match staff::create(&state, Some(&me), &form, rid.as_deref()).await {
        Ok((_, token)) => {
            let username = form.username.trim().to_lowercase();
            render(
                &state,
                &pages,
                request,
                noticed(Notice::OneTimeToken { username, token }),
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) => failed(&state, &pages, request, error, &pairs).await,
    }
}

/// `POST /admin/api`: a new API client for an agency (its credential is shown once), or, with
/// `revoke`, the end of one.
pub async fn api_clients_post(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<ApiClientForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    if !form.revoke.is_empty() {
        let Ok(id) = form.revoke.trim().parse::<i32>() else {
            return failed(&state, &pages, request, ServiceError::NotFound, &[]).await;
        };
        return match api_clients::revoke(&state, &me.actor, id, rid.as_deref()).await {
            Ok(()) => {
                render(
                    &state,
                    &pages,
                    request,
                    noticed(Notice::ApiRevoked),
                    StatusCode::OK,
                )
                .await
            }
            Err(error) => failed(&state, &pages, request, error, &[]).await,
        };
    }
    let pairs = [
        ("agency", form.agency.as_str()),
        ("name", form.name.as_str()),
        ("days", form.days.as_str()),
    ];
    match api_clients::create(&state, Some(&me.actor), &form, rid.as_deref()).await {
        Ok(made) => {
            render(
                &state,
                &pages,
                request,
                noticed(Notice::ApiCredential {
                    name: form.name.trim().to_owned(),
                    credential: made.credential,
                    expires_at: made.expires_at,
                }),
                StatusCode::CREATED,
            )
            .await
        }
        Err(error) => failed(&state, &pages, request, error, &pairs).await,
    }
}

/// `POST /admin/personal/{id}`: save, disable, enable or reset.
pub async fn change_staff(
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
    } = match signed_post::<StaffForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let pairs = [
        ("display_name", form.display_name.as_str()),
        ("role", form.role.as_str()),
        ("agency", form.agency.as_str()),
        ("office", form.office.as_str()),
    ];
    match staff::change(&state, &me, id, &form, rid.as_deref()).await {
        Ok(staff::Changed::Reset { token, username }) => {
            render(
                &state,
                &pages,
                request,
                noticed(Notice::OneTimeToken { username, token }),
                StatusCode::OK,
            )
            .await
        }
        Ok(_) => Redirect::to(&format!("/admin/personal/{id}")).into_response(),
        Err(error) => failed(&state, &pages, request, error, &pairs).await,
    }
}

/// `POST /admin/sesiones`: end one session.
pub async fn end_session(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct EndSession {
        session: i32,
    }
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<EndSession>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match staff::end_session(&state, &me, form.session, rid.as_deref()).await {
        Ok(()) | Err(ServiceError::NotFound) => {
            render(
                &state,
                &pages,
                request,
                noticed(Notice::SessionEnded),
                StatusCode::OK,
            )
            .await
        }
        Err(error) => failed(&state, &pages, request, error, &[]).await,
    }
}

/// `POST /oficina/personas`: find a person. One exact hit (CURP or card) opens the profile;
/// otherwise the page lists what was found. The CURP stays in the body, never in a URL.
pub async fn search_people(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<SearchForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let pairs = [
        ("curp", form.curp.as_str()),
        ("card", form.card.as_str()),
        ("given_names", form.given_names.as_str()),
        ("first_surname", form.first_surname.as_str()),
        ("second_surname", form.second_surname.as_str()),
        ("birth_date", form.birth_date.as_str()),
    ];
    match registry::find(&state, &me, &form, rid.as_deref()).await {
        Ok(hits) if hits.len() == 1 && form.by != "name" => {
            Redirect::to(&format!("/oficina/persona/{}", hits[0].id)).into_response()
        }
        Ok(hits) => {
            let form = FormState {
                values: values(&pairs),
                notice: Some(Notice::Found(hits)),
                ..FormState::default()
            };
            render(&state, &pages, request, form, StatusCode::OK).await
        }
        Err(error) => failed(&state, &pages, request, error, &pairs).await,
    }
}

/// `POST /oficina/personas/nueva`: register a person. Created or already registered (same
/// CURP) → their profile; probable duplicates → the same form with the candidates.
pub async fn register_person(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<PersonForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let pairs = person_pairs(&form);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match registry::register(&state, &me, &form, rid.as_deref()).await {
        Ok(registry::Registered::Created(id) | registry::Registered::Existing(id)) => {
            Redirect::to(&format!("/oficina/persona/{id}")).into_response()
        }
        Ok(registry::Registered::Candidates(candidates)) => {
            let form = FormState {
                values: values(&pairs),
                notice: Some(Notice::Candidates(candidates)),
                ..FormState::default()
            };
            render(&state, &pages, request, form, StatusCode::OK).await
        }
        Err(error) => failed(&state, &pages, request, error, &pairs).await,
    }
}

fn person_pairs(form: &PersonForm) -> Vec<(&'static str, String)> {
    vec![
        ("given_names", form.given_names.clone()),
        ("first_surname", form.first_surname.clone()),
        ("second_surname", form.second_surname.clone()),
        ("birth_date", form.birth_date.clone()),
        ("sex", form.sex.clone()),
        ("birth_state", form.birth_state.clone()),
        ("curp", form.curp.clone()),
        ("ine", form.ine.clone()),
        ("nss", form.nss.clone()),
        ("rfc", form.rfc.clone()),
        ("passport", form.passport.clone()),
        ("borough", form.borough.clone()),
        ("colonia", form.colonia.clone()),
        ("postal_code", form.postal_code.clone()),
        ("street", form.street.clone()),
        ("phone", form.phone.clone()),
        ("residence_since", form.residence_since.clone()),
        ("relative_of", form.relative_of.clone()),
        ("relation", form.relation.clone()),
    ]
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealForm {
    kind: String,
}

/// `POST /oficina/persona/{id}`: one ID number in full, audited.
pub async fn reveal_id(
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
    } = match signed_post::<RevealForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match registry::reveal(&state, &me, id, &form.kind, rid.as_deref()).await {
        Ok(value) => {
            let form = noticed(Notice::Revealed {
                kind: form.kind,
                value,
            });
            render(&state, &pages, request, form, StatusCode::OK).await
        }
        Err(error) => failed(&state, &pages, request, error, &[]).await,
    }
}

/// `GET /oficina/tarjeta/{token}`: the card's QR code → the person's profile (404 when unknown).
pub async fn open_card(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    match registry::by_card_token(&state.db, &token).await {
        Ok(Some(id)) => Redirect::to(&format!("/oficina/persona/{id}")).into_response(),
        Ok(None) => refusal(StatusCode::NOT_FOUND, request.headers()),
        Err(error) => {
            tracing::error!(%error, "card lookup failed");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, request.headers())
        }
    }
}

/// The shape of most staff form posts: parse (unknown fields refused), call the service, and
/// redirect to `to` when it worked, or show the page again with the errors and `echo` (what
/// was typed).
async fn post_then_redirect<T, F, Fut>(
    state: AppState,
    pages: Pages,
    request: Request,
    echo: fn(&T) -> Vec<(&'static str, String)>,
    to: String,
    call: F,
) -> Response
where
    T: DeserializeOwned,
    F: FnOnce(AppState, SignedIn, T, Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(), ServiceError>>,
{
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<T>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let typed = echo(&form);
    let result = call(state.clone(), me, form, rid).await.map(|()| to);
    redirect_or_failed(&state, &pages, request, &typed, result).await
}

/// A 303 to the address the post produced, or the page again with its errors and what was typed.
async fn redirect_or_failed<K: AsRef<str>>(
    state: &AppState,
    pages: &Pages,
    request: Request,
    typed: &[(K, String)],
    result: Result<String, ServiceError>,
) -> Response {
    match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(error) => {
            let typed: Vec<(&str, &str)> = typed
                .iter()
                .map(|(k, v)| (k.as_ref(), v.as_str()))
                .collect();
            failed(state, pages, request, error, &typed).await
        }
    }
}

/// `POST /oficina/persona/{id}/editar`: saves an edit if nobody saved the profile since the
/// form was filled; otherwise 409 with the caseworker's input kept (the page shows both).
pub async fn edit_person(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let echo = |form: &PersonForm| {
        let mut typed = person_pairs(form);
        typed.push(("version", form.version.clone()));
        typed
    };
    let to = format!("/oficina/persona/{id}");
    post_then_redirect(
        state,
        pages,
        request,
        echo,
        to,
        move |state, me, form, rid| async move {
            profile::update(&state, &me, id, &form, rid.as_deref())
                .await
                .map(|_| ())
        },
    )
    .await
}

/// `POST /oficina/persona/{id}/familia`: adds a relative by card number.
pub async fn add_relative(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let echo = |form: &RelativeForm| {
        vec![
            ("relation", form.relation.clone()),
            ("card", form.card.clone()),
            ("same_household", form.same_household.clone()),
        ]
    };
    let to = format!("/oficina/persona/{id}");
    post_then_redirect(
        state,
        pages,
        request,
        echo,
        to,
        move |state, me, form, rid| async move {
            profile::add_relative(&state, &me, id, &form, rid.as_deref()).await
        },
    )
    .await
}

/// `POST /oficina/persona/{id}/datos`: records a fact.
pub async fn add_fact(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let echo = |form: &FactForm| {
        vec![
            ("kind", form.kind.clone()),
            ("value", form.value.clone()),
            ("as_of", form.as_of.clone()),
            ("source", form.source.clone()),
            ("verified", form.verified.clone()),
        ]
    };
    let to = format!("/oficina/persona/{id}");
    post_then_redirect(
        state,
        pages,
        request,
        echo,
        to,
        move |state, me, form, rid| async move {
            profile::add_fact(&state, &me, id, &form, rid.as_deref()).await
        },
    )
    .await
}

/// `POST /oficina/persona/{id}/que-paso`: either answers a question (records a fact and shows
/// the page again, re-evaluated) or requests the ticked programs (then the receipt). The two
/// forms carry repeated fields (`evento`, `pick`), so the body is read as a list of pairs.
pub async fn life_event_post(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form: pairs,
        rid,
    } = match signed_post::<Vec<(String, String)>>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let action = pairs
        .iter()
        .find(|(k, _)| k == "do")
        .map(|(_, v)| v.clone());
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "do").collect();
    let unprocessable =
        |request: &Request| refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
    let result = match action.as_deref() {
        Some("answer") => {
            let Some(form) = AnswerForm::from_pairs(&rest) else {
                return unprocessable(&request);
            };
            let result = eligibility::answer(&state, &me, id, &form, rid.as_deref())
                .await
                .map(|()| bundle_path(id, &form.events));
            (form.echo(), result)
        }
        Some("request") => {
            let Some(form) = RequestForm::from_pairs(&rest) else {
                return unprocessable(&request);
            };
            let result = eligibility::request(&state, &me, id, &form, rid.as_deref())
                .await
                .map(|ids| {
                    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                    format!("/oficina/persona/{id}/recibo?ids={}", ids.join(","))
                });
            (form.echo(), result)
        }
        _ => return unprocessable(&request),
    };
    let (typed, result) = result;
    redirect_or_failed(&state, &pages, request, &typed, result).await
}

/// `POST /admin/reglas/{code}`: start, save, publish or discard a program's rule draft. A
/// refused save shows the page again with every typed value and the errors at their rows.
pub async fn rule_post(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(code): Path<String>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_pairs(request, RuleForm::from_pairs).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let result = rules::post(&state, &me, &code, &form, rid.as_deref()).await;
    // Only a save has typed values worth keeping; the other actions post a stamp.
    let typed = if form.action == "save" {
        form.echo()
    } else {
        Vec::new()
    };
    redirect_or_failed(&state, &pages, request, &typed, result).await
}

/// `POST /admin/indicadores/{code}`: save an indicator's names and programs. A refused save
/// shows the page again with what was typed and the errors at their fields.
pub async fn indicator_post(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(code): Path<String>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_pairs(request, IndicatorForm::from_pairs).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let result = indicators::save(&state, &me, &code, &form, rid.as_deref()).await;
    redirect_or_failed(&state, &pages, request, &form.echo(), result).await
}

/// `POST /oficina/duplicados/{id}`: merge, mark distinct, or undo the merge of a pair.
pub async fn decide_pair(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let echo = |form: &DecisionForm| {
        vec![
            ("decision", form.decision.clone()),
            ("survivor", form.survivor.clone()),
            ("reason", form.reason.clone()),
        ]
    };
    let to = format!("/oficina/duplicados/{id}");
    post_then_redirect(
        state,
        pages,
        request,
        echo,
        to,
        move |state, me, form, rid| async move {
            merge::decide(&state, &me, id, &form, rid.as_deref()).await
        },
    )
    .await
}

/// The fields of a form post read as pairs: `get(name)` (empty when absent) and `only(names)`
/// (no other field was posted).
struct Pairs(Vec<(String, String)>);

impl Pairs {
    fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn only(&self, allowed: &[&str]) -> bool {
        self.0.iter().all(|(k, _)| allowed.contains(&k.as_str()))
    }

    /// A referral form (`do=refer`), with what was typed for the page shown again.
    fn referral(&self) -> Option<(ReferralForm, Vec<(&'static str, String)>)> {
        if !self.only(&["do", "program", "reason", "note", "sensitivity"]) {
            return None;
        }
        let form = ReferralForm {
            program: self.get("program"),
            reason: self.get("reason"),
            note: self.get("note"),
            sensitivity: self.get("sensitivity"),
        };
        let mut typed = form.echo();
        typed.push(("do", "refer".into()));
        Some((form, typed))
    }
}

/// `POST /agencia/solicitud/{id}`: moves a request through the status machine with a reason
/// code (and an optional note). A request changed since the form was filled is a conflict: the
/// page comes back with what was typed and nothing is written. With `do=refer`, refers the
/// person to another agency's program instead; with `do=assign` (agency heads), gives the
/// request to a member of the agency's staff.
pub async fn decide_request(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form: pairs,
        rid,
    } = match signed_post::<Vec<(String, String)>>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let pairs = Pairs(pairs);
    let back = format!("/agencia/solicitud/{id}");
    let (typed, result) = if pairs.get("do") == "refer" {
        let Some((form, typed)) = pairs.referral() else {
            return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
        };
        let result = referral::refer_from_request(&state, &me, id, &form, rid.as_deref())
            .await
            .map(|_| back);
        (typed, result)
    } else if pairs.get("do") == "assign" {
        if !pairs.only(&["do", "staff"]) {
            return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
        }
        let form = AssignForm {
            staff: pairs.get("staff"),
        };
        let typed = vec![("do", "assign".to_owned()), ("staff", form.staff.clone())];
        let result = workload::reassign(&state, &me, id, &form, rid.as_deref())
            .await
            .map(|()| back);
        (typed, result)
    } else {
        if !pairs.only(&["to", "reason", "note", "sensitivity", "version"]) {
            return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
        }
        let form = RequestDecisionForm {
            to: pairs.get("to"),
            reason: pairs.get("reason"),
            note: pairs.get("note"),
            sensitivity: pairs.get("sensitivity"),
            version: pairs.get("version"),
        };
        let result = tracking::transition(&state, &me, id, &form, rid.as_deref())
            .await
            .map(|()| back);
        (form.echo(), result)
    };
    redirect_or_failed(&state, &pages, request, &typed, result).await
}

/// `POST /agencia/canalizacion/{id}`: the receiving agency accepts a referral (the request
/// opens; its decision screen follows) or declines it with a reason.
pub async fn decide_referral(
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
    } = match signed_post::<ReferralDecisionForm>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let result = referral::decide(&state, &me, id, &form, rid.as_deref())
        .await
        .map(|opened| match opened {
            Some(enrollment) => format!("/agencia/solicitud/{enrollment}"),
            None => format!("/agencia/canalizacion/{id}"),
        });
    redirect_or_failed(&state, &pages, request, &form.echo(), result).await
}

/// `POST /agencia`: "take next" — the most urgent unassigned request of the agency becomes the
/// caller's and opens; with an empty queue, back to the queue saying so.
pub async fn take_next(State(state): State<AppState>, request: Request) -> Response {
    let Posted {
        me,
        request,
        form,
        rid,
    } = match signed_post::<Vec<(String, String)>>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    if !form.is_empty() {
        return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
    }
    match tracking::take_next(&state, &me, rid.as_deref()).await {
        Ok(Some(id)) => Redirect::to(&format!("/agencia/solicitud/{id}")).into_response(),
        Ok(None) => Redirect::to("/agencia?vacia=1").into_response(),
        Err(ServiceError::NotFound) => refusal(StatusCode::NOT_FOUND, request.headers()),
        Err(error) => {
            tracing::error!(%error, "take next failed");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, request.headers())
        }
    }
}

/// `POST /oficina/persona/{id}/historial`: `do=note` appends a case note; `do=withdraw` records
/// that the person withdraws one of their requests (`enrollment`, with a reason and the
/// request's version); `do=refer` refers the person to another agency's program.
pub async fn timeline_post(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let Posted {
        me,
        request,
        form: pairs,
        rid,
    } = match signed_post::<Vec<(String, String)>>(request).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let pairs = Pairs(pairs);
    let back = format!("/oficina/persona/{id}/historial");
    let (typed, result) = match pairs.get("do").as_str() {
        "note" if pairs.only(&["do", "body", "sensitivity", "enrollment"]) => {
            let form = NoteForm {
                body: pairs.get("body"),
                sensitivity: pairs.get("sensitivity"),
                enrollment: pairs.get("enrollment"),
            };
            let typed = vec![
                ("body", form.body.clone()),
                ("sensitivity", form.sensitivity.clone()),
                ("enrollment", form.enrollment.clone()),
            ];
            let result = tracking::add_note(&state, &me, id, &form, rid.as_deref())
                .await
                .map(|_| back);
            (typed, result)
        }
        "withdraw" if pairs.only(&["do", "enrollment", "reason", "version"]) => {
            let Ok(enrollment) = pairs.get("enrollment").trim().parse::<i32>() else {
                return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
            };
            let form = RequestDecisionForm {
                to: "withdrawn".into(),
                reason: pairs.get("reason"),
                version: pairs.get("version"),
                ..RequestDecisionForm::default()
            };
            let typed = vec![("reason", form.reason.clone())];
            let result = tracking::withdraw(&state, &me, id, enrollment, &form, rid.as_deref())
                .await
                .map(|()| back);
            (typed, result)
        }
        "refer" => {
            let Some((form, typed)) = pairs.referral() else {
                return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
            };
            let result = referral::refer(&state, &me, id, &form, rid.as_deref())
                .await
                .map(|_| back);
            (typed, result)
        }
        _ => return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers()),
    };
    redirect_or_failed(&state, &pages, request, &typed, result).await
}
