//! `/mi-cuenta` and `/mi-cuenta/activar`: the citizen's account. Plain forms that work without
//! JavaScript; the page shows the sign-in form until a citizen is signed in.

use leptos::prelude::*;
use leptos_i18n::I18nContext;

use super::api::get_my_account;
use super::dto::{AccessEntry, MyAccount, MyRequest};
use crate::domain::access::Role;
use crate::eligibility::explain::status_name;
use crate::i18n::*;
use crate::staff::form_state::{
    CsrfField, Field, FormState, Notice, field_message, use_form_state,
};
use crate::staff::pages::{NoticeBox, failure, role_name};

/// `/mi-cuenta`.
#[component]
pub fn CitizenAccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let account = Resource::new(|| (), |_| get_my_account());
    view! {
        <h1>{t!(i18n, citizen_title)}</h1>
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    match account.await {
                        Ok(Some(a)) => view! { <Account a state /> }.into_any(),
                        Ok(None) => view! { <CitizenSignIn state /> }.into_any(),
                        Err(e) => failure(e),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn CitizenSignIn(state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="lead">{t!(i18n, citizen_intro)}</p>
        <form method="post" action="/mi-cuenta" class="stack" novalidate>
            <CsrfField />
            <Field name="card" label=t_string!(i18n, citizen_card).to_owned() autocomplete="username"
                hint=t_string!(i18n, citizen_card_hint).to_owned() state=state.clone() />
            <Field name="password" label=t_string!(i18n, field_password).to_owned() kind="password"
                autocomplete="current-password" state=state.clone() />
            <button type="submit">{t!(i18n, citizen_sign_in)}</button>
        </form>
        <p><a href="/mi-cuenta/activar">{t!(i18n, citizen_activate_link)}</a></p>
    }
}

#[component]
fn Account(a: MyAccount, state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let shown = a.access.len();
    let total = a.access_total;
    let requests = a.requests;
    let access = a.access;
    view! {
        <section aria-labelledby="me-title">
            <h2 id="me-title">{t!(i18n, citizen_profile)}</h2>
            <dl class="summary">
                <dt>{t!(i18n, citizen_name)}</dt>
                <dd>{a.name}</dd>
                <dt>"CURP"</dt>
                <dd><code class="masked-curp">{a.masked_curp.unwrap_or_else(|| t_string!(i18n, citizen_no_curp).to_owned())}</code></dd>
                <dt>{t!(i18n, citizen_card)}</dt>
                <dd><code>{a.card}</code></dd>
                <dt>{t!(i18n, citizen_borough)}</dt>
                <dd>{a.borough}</dd>
            </dl>
        </section>
        <section aria-labelledby="requests-title">
            <h2 id="requests-title">{t!(i18n, citizen_requests)}</h2>
            {if requests.is_empty() {
                view! { <p>{t!(i18n, citizen_no_requests)}</p> }.into_any()
            } else {
                view! {
                    <ul class="my-requests">
                        {requests.into_iter().map(|r| view! { <RequestItem r state=state.clone() /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="access-title">
            <h2 id="access-title">{t!(i18n, citizen_access)}</h2>
            <p>{t!(i18n, citizen_access_intro)}</p>
            {if access.is_empty() {
                view! { <p class="access-empty">{t!(i18n, citizen_access_none)}</p> }.into_any()
            } else {
                view! {
                    // Scrolls sideways on a phone: focusable so that the keyboard can scroll it.
                    <div class="table-wrap" tabindex="0" role="region" aria-labelledby="access-title">
                        <table class="access-log">
                            <caption>{t_string!(i18n, citizen_access_caption, shown = shown, total = total).to_string()}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">{t!(i18n, citizen_access_when)}</th>
                                    <th scope="col">{t!(i18n, citizen_access_what)}</th>
                                    <th scope="col">{t!(i18n, citizen_access_who)}</th>
                                    <th scope="col">{t!(i18n, citizen_access_why)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {access.into_iter().map(|e| view! { <AccessRow e /> }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        <form method="post" action="/mi-cuenta/salir">
            <CsrfField />
            <button type="submit" class="secondary">{t!(i18n, citizen_sign_out)}</button>
        </form>
    }
}

#[component]
fn RequestItem(r: MyRequest, state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let status = status_name(i18n, &r.status);
    // The errors of a refused rating belong to the request it was for.
    let mine = state.value("folio") == r.folio;
    let state = if mine { state } else { FormState::default() };
    view! {
        <li class="my-request" data-folio=r.folio.clone()>
            <h3>{r.program.get(locale).to_owned()} " · " <code>{r.folio.clone()}</code></h3>
            <dl>
                <dt>{t!(i18n, track_status)}</dt>
                <dd class="status" data-status=r.status.clone()>{status}</dd>
                <dt>{t!(i18n, track_agency)}</dt>
                <dd>{r.agency.get(locale).to_owned()}</dd>
                {r.for_whom.map(|name| view! { <dt>{t!(i18n, citizen_for_whom)}</dt><dd>{name}</dd> })}
                <dt>{t!(i18n, track_requested)}</dt>
                <dd>{r.requested_on.to_string()}</dd>
                <dt>{t!(i18n, track_due)}</dt>
                <dd>{r.due_on.to_string()}</dd>
            </dl>
            {r.supervised.then(|| view! { <p class="notice supervised">{t!(i18n, track_supervised)}</p> })}
            {r.rating.map(|n| view! { <p class="rated">{t_string!(i18n, feedback_given, rating = n).to_string()}</p> })}
            {r.can_rate.then(|| view! { <RatingForm action="/mi-cuenta/opinion" folio=r.folio.clone() pass=None state /> })}
        </li>
    }
}

/// The 1–5 rating of a decided request, with an optional comment. At the public follow-up it
/// carries the pass the follow-up gave; from the account, the folio.
#[component]
pub fn RatingForm(
    action: &'static str,
    folio: String,
    pass: Option<String>,
    state: FormState,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("rate-{folio}");
    let chosen = state.value("rating");
    let rating_error = state.error("rating");
    let comment_error = state.error("comment");
    let comment = state.value("comment");
    let legend_id = format!("{id}-legend");
    let error_id = format!("{id}-error");
    // The form with errors takes the ids the error summary links to.
    let comment_id = if comment_error.is_some() {
        "f-comment".to_owned()
    } else {
        format!("{id}-comment")
    };
    let fieldset_id = rating_error.as_ref().map(|_| "f-rating");
    let comment_error_id = format!("{id}-comment-error");
    let rating_described = rating_error.as_ref().map(|_| error_id.clone());
    let comment_invalid = comment_error.is_some();
    let comment_aria = comment_error.as_ref().map(|_| "true");
    let comment_described = comment_error.as_ref().map(|_| comment_error_id.clone());
    view! {
        <form method="post" action=action class="rating stack" novalidate>
            <CsrfField />
            <input type="hidden" name="folio" value=folio />
            {pass.map(|p| view! { <input type="hidden" name="pass" value=p /> })}
            <fieldset id=fieldset_id aria-describedby=rating_described>
                <legend id=legend_id>{t!(i18n, feedback_question)}</legend>
                <div class="stars">
                    {(1..=5u8).map(|n| {
                        let value = n.to_string();
                        let checked = chosen == value;
                        let input_id = format!("{id}-{n}");
                        view! {
                            <label for=input_id.clone() class="star">
                                <input type="radio" id=input_id.clone() name="rating" value=value checked=checked />
                                {feedback_label(i18n, n)}
                            </label>
                        }
                    }).collect_view()}
                </div>
                {rating_error.map(|code| view! { <p class="field-error" id=error_id.clone()>{field_message(i18n, &code)}</p> })}
            </fieldset>
            <div class="field" class:invalid=comment_invalid>
                <label for=comment_id.clone()>{t!(i18n, feedback_comment)}</label>
                <textarea id=comment_id name="comment" rows="3" maxlength="1000"
                    aria-invalid=comment_aria
                    aria-describedby=comment_described>{comment}</textarea>
                {comment_error.map(|code| view! { <p class="field-error" id=comment_error_id>{field_message(i18n, &code)}</p> })}
            </div>
            <button type="submit">{t!(i18n, feedback_submit)}</button>
        </form>
    }
}

fn feedback_label(i18n: I18nContext<Locale>, n: u8) -> String {
    match n {
        1 => t_string!(i18n, feedback_1),
        2 => t_string!(i18n, feedback_2),
        3 => t_string!(i18n, feedback_3),
        4 => t_string!(i18n, feedback_4),
        _ => t_string!(i18n, feedback_5),
    }
    .to_owned()
}

#[component]
fn AccessRow(e: AccessEntry) -> impl IntoView {
    let i18n = use_i18n();
    let who = [
        e.agency,
        e.office,
        e.role
            .as_deref()
            .and_then(Role::from_code)
            .map(|r| role_name(i18n, r)),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <tr data-action=e.action.clone()>
            <td><time>{e.at}</time></td>
            <td>{action_name(i18n, &e.action)}</td>
            <td>{who}</td>
            <td>{e.purpose.as_deref().map(|p| purpose_name(i18n, p))}</td>
        </tr>
    }
}

/// What was done, in words.
pub fn action_name(i18n: I18nContext<Locale>, action: &str) -> String {
    match action {
        "person.viewed" | "person.eligibility_viewed" | "person.receipt_viewed" => {
            t_string!(i18n, access_viewed)
        }
        "person.id_revealed" => t_string!(i18n, access_id_revealed),
        "person.registered" => t_string!(i18n, access_registered),
        "person.updated" | "person.fact_recorded" | "person.related" => {
            t_string!(i18n, access_updated)
        }
        "person.merged" | "person.unmerged" | "person.duplicate_dismissed" => {
            t_string!(i18n, access_duplicates)
        }
        "enrollment.requested" | "enrollment.requested_override" => {
            t_string!(i18n, access_requested)
        }
        "enrollment.imported" => t_string!(i18n, access_imported),
        "enrollment.status_changed" => t_string!(i18n, access_status_changed),
        "enrollment.assigned" | "enrollment.reassigned" => t_string!(i18n, access_assigned),
        "case_note.added" => t_string!(i18n, access_note),
        "referral.created" | "referral.accepted" | "referral.declined" => {
            t_string!(i18n, access_referral)
        }
        "citizen.code_issued" => t_string!(i18n, access_code_issued),
        _ => t_string!(i18n, access_other),
    }
    .to_owned()
}

/// Why, in words.
pub fn purpose_name(i18n: I18nContext<Locale>, purpose: &str) -> String {
    match purpose {
        "registry" => t_string!(i18n, purpose_registry),
        "card" => t_string!(i18n, purpose_card),
        "eligibility" => t_string!(i18n, purpose_eligibility),
        "decision" => t_string!(i18n, purpose_decision),
        "timeline" => t_string!(i18n, purpose_timeline),
        "referral" => t_string!(i18n, purpose_referral),
        "duplicate_review" => t_string!(i18n, purpose_duplicate_review),
        "account" => t_string!(i18n, purpose_account),
        _ => t_string!(i18n, purpose_other),
    }
    .to_owned()
}

/// `/mi-cuenta/activar`: open the account with the card, the birth date and the CURP or a code
/// printed at an office, and choose a password.
#[component]
pub fn CitizenActivatePage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let already = matches!(state.notice, Some(Notice::AccountActive));
    view! {
        <h1>{t!(i18n, citizen_activate_title)}</h1>
        <p class="lead">{t!(i18n, citizen_activate_intro)}</p>
        {already.then(|| view! { <p class="error" role="alert">{t!(i18n, citizen_already_active)}</p> })}
        <NoticeBox state=state.clone() />
        <form method="post" action="/mi-cuenta/activar" class="stack" novalidate>
            <CsrfField />
            <Field name="card" label=t_string!(i18n, citizen_card).to_owned() autocomplete="username"
                hint=t_string!(i18n, citizen_card_hint).to_owned() state=state.clone() />
            <Field name="birth_date" label=t_string!(i18n, citizen_birth_date).to_owned() kind="date"
                autocomplete="bday" state=state.clone() />
            <fieldset class="either">
                <legend>{t!(i18n, citizen_proof)}</legend>
                <Field name="curp" label="CURP".to_owned() autocomplete="off" state=state.clone() />
                <p class="or">{t!(i18n, citizen_or)}</p>
                <Field name="code" label=t_string!(i18n, citizen_code).to_owned() autocomplete="off"
                    hint=t_string!(i18n, citizen_code_hint).to_owned() state=state.clone() />
            </fieldset>
            <Field name="password" label=t_string!(i18n, field_new_password).to_owned() kind="password"
                autocomplete="new-password" hint=t_string!(i18n, citizen_password_rules).to_owned() state=state.clone() />
            <Field name="confirm" label=t_string!(i18n, field_confirm).to_owned() kind="password"
                autocomplete="new-password" state=state.clone() />
            <button type="submit">{t!(i18n, citizen_activate_submit)}</button>
        </form>
    }
}
