//! The citizen's form posts: sign-in and activation at `/mi-cuenta`, signing out, ratings from
//! the account or at the public follow-up, and the activation code a caseworker prints.
//! Citizens act only on the person of their own session: nothing here takes a person id from
//! the request.

use angel_app::{
    citizen::forms::{
        AccountFeedbackForm, CitizenActivateForm, CitizenSignInForm, FolioFeedbackForm,
    },
    ssr::{
        AppState, ServiceError,
        auth::citizen::{self, CitizenSignedIn, Outcome},
        services::{citizen as service, portal, registry},
    },
    staff::form_state::{FormState, Notice},
};
use axum::{
    extract::{Path, Request, State},
    response::{IntoResponse, Redirect, Response},
};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::forms::{
    Pages, failed, invalid, me, noticed, parse, render, request_id, throttled, values,
};
use super::security::{citizen_cookie, clear_citizen_cookie, cookie_value, csrf_cookie, refusal};

fn citizen_of(request: &Request) -> Option<CitizenSignedIn> {
    request.extensions().get::<CitizenSignedIn>().copied()
}

fn previous_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, citizen::cookie_name(&state.auth))
}

/// Signed in: to the account, with the session cookie and a fresh CSRF token.
fn signed_in(state: &AppState, token: &str) -> Response {
    let mut response = Redirect::to("/mi-cuenta").into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, citizen_cookie(&state.auth, token));
    headers.append(
        header::SET_COOKIE,
        csrf_cookie(&state.auth, &angel_app::ssr::auth::random_token()),
    );
    response
}

async fn answer(
    state: &AppState,
    pages: &Pages,
    request: Request,
    outcome: Result<Outcome, ServiceError>,
    activation: bool,
) -> Response {
    match outcome {
        Ok(Outcome::SignedIn(token)) => signed_in(state, &token),
        Ok(Outcome::Invalid) => {
            let form = noticed(Notice::CitizenRefused { activation });
            render(state, pages, request, form, StatusCode::UNAUTHORIZED).await
        }
        Ok(Outcome::AlreadyActive) => {
            let form = noticed(Notice::AccountActive);
            render(state, pages, request, form, StatusCode::CONFLICT).await
        }
        Ok(Outcome::Throttled(wait)) => throttled(state, pages, request, wait).await,
        Err(error) => failed(state, pages, request, error, &[]).await,
    }
}

/// `POST /mi-cuenta`: sign in with the card and the password. One answer for every wrong pair.
pub async fn sign_in(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let (request, form) = match parse::<CitizenSignInForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let card = match form.validate() {
        Ok(card) => card,
        Err(errors) => {
            let pairs = [("card", form.card.as_str())];
            let form = invalid(&pairs, errors);
            return render(
                &state,
                &pages,
                request,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let rid = request_id(request.headers());
    let previous = previous_token(&state, request.headers());
    let outcome = citizen::sign_in(
        &state,
        &card,
        &form.password,
        previous.as_deref(),
        rid.as_deref(),
    )
    .await;
    answer(&state, &pages, request, outcome, false).await
}

/// `POST /mi-cuenta/activar`: open the account (or reset it with a printed code).
pub async fn activate(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let (request, form) = match parse::<CitizenActivateForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let today = registry::today(state.clock.now());
    let activation = match form.validate(today) {
        Ok(a) => a,
        Err(errors) => {
            // The CURP and the code are not echoed back (they prove who the person is).
            let pairs = [
                ("card", form.card.as_str()),
                ("birth_date", form.birth_date.as_str()),
            ];
            let form = invalid(&pairs, errors);
            return render(
                &state,
                &pages,
                request,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let rid = request_id(request.headers());
    let previous = previous_token(&state, request.headers());
    let outcome = citizen::activate(
        &state,
        &activation,
        &form.password,
        previous.as_deref(),
        rid.as_deref(),
    )
    .await;
    answer(&state, &pages, request, outcome, true).await
}

/// `POST /mi-cuenta/salir`.
pub async fn sign_out(State(state): State<AppState>, request: Request) -> Response {
    if let Some(token) = previous_token(&state, request.headers())
        && let Err(error) = citizen::sign_out(&state, &token).await
    {
        tracing::error!(%error, "citizen sign-out failed");
        return refusal(StatusCode::INTERNAL_SERVER_ERROR, request.headers());
    }
    let mut response = Redirect::to("/mi-cuenta").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_citizen_cookie(&state.auth));
    response
}

/// `POST /mi-cuenta/opinion`: rate one of the citizen's decided requests. Another person's
/// folio is 404, as one that does not exist.
pub async fn rate_own(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let Some(me) = citizen_of(&request) else {
        return refusal(StatusCode::UNAUTHORIZED, request.headers());
    };
    let (request, form) = match parse::<AccountFeedbackForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let pairs = [
        ("folio", form.folio.as_str()),
        ("rating", form.rating.as_str()),
        ("comment", form.comment.as_str()),
    ];
    let (folio, rating) = match form.validate() {
        Ok(valid) => valid,
        Err(errors) => {
            let form = invalid(&pairs, errors);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render(&state, &pages, request, form, status).await;
        }
    };
    let rid = request_id(request.headers());
    match service::rate_own(&state, &me, &folio, &rating, rid.as_deref()).await {
        Ok(()) => Redirect::to("/mi-cuenta").into_response(),
        Err(error) => failed(&state, &pages, request, error, &pairs).await,
    }
}

/// `POST /seguimiento/opinion`: rate a decided request at the public follow-up, with the pass
/// the follow-up gave. The answer is the follow-up page; a pass that does not check out or ran
/// out gets the neutral "unknown" answer.
pub async fn rate_by_folio(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    request: Request,
) -> Response {
    let (request, form) = match parse::<FolioFeedbackForm>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let rid = request_id(request.headers());
    let refused = match form.validate() {
        Ok(rating) => {
            match portal::rate_by_pass(&state, &form.pass, &rating, rid.as_deref()).await {
                Ok(followed) => Ok(followed),
                Err(ServiceError::Invalid(errors)) => Err(errors),
                Err(error) => return failed(&state, &pages, request, error, &[]).await,
            }
        }
        Err(errors) if errors.iter().any(|e| e.field == "pass") => {
            return refusal(StatusCode::UNPROCESSABLE_ENTITY, request.headers());
        }
        Err(errors) => Err(errors),
    };
    // A refused rating: the request again, with the errors next to the rating form.
    let (followed, errors) = match refused {
        Ok(followed) => (followed, Vec::new()),
        Err(errors) => match portal::followed_by_pass(&state, &form.pass).await {
            Ok(followed) => (followed, errors),
            Err(error) => return failed(&state, &pages, request, error, &[]).await,
        },
    };
    let (notice, status) = match followed {
        portal::Followed::Found(found) if errors.is_empty() => {
            (Notice::Tracked(found), StatusCode::OK)
        }
        portal::Followed::Found(found) => {
            (Notice::Tracked(found), StatusCode::UNPROCESSABLE_ENTITY)
        }
        portal::Followed::Unknown | portal::Followed::Throttled(_) => {
            (Notice::TrackUnknown, StatusCode::NOT_FOUND)
        }
    };
    let page = FormState {
        values: values(&[
            ("folio", form.folio.as_str()),
            ("rating", form.rating.as_str()),
            ("comment", form.comment.as_str()),
        ]),
        errors,
        notice: Some(notice),
    };
    render(&state, &pages, request, page, status).await
}

/// No fields (the CSRF token was taken out by the access layer).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nothing {}

/// `POST /oficina/persona/{id}/codigo`: a caseworker prints an activation code for the person
/// (shown once on their profile).
pub async fn issue_code(
    State(state): State<AppState>,
    axum::Extension(pages): axum::Extension<Pages>,
    Path(id): Path<i32>,
    request: Request,
) -> Response {
    let Some(staff) = me(&request) else {
        return refusal(StatusCode::UNAUTHORIZED, request.headers());
    };
    let (request, _) = match parse::<Nothing>(request).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    let rid = request_id(request.headers());
    match citizen::issue_code(&state, &staff.actor, id, rid.as_deref()).await {
        Ok((code, expires)) => {
            let until = (expires - chrono::TimeDelta::seconds(1))
                .date_naive()
                .to_string();
            let form = noticed(Notice::CitizenCode { code, until });
            render(&state, &pages, request, form, StatusCode::OK).await
        }
        Err(error) => failed(&state, &pages, request, error, &[]).await,
    }
}
