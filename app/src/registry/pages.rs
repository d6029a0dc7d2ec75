//! The registry screens at /oficina: find a person, register one (with the duplicate check),
//! and the profile. Plain HTML forms that post to their own page and work without JavaScript;
//! once hydrated, the CURP field says which rule fails while the caseworker types.

use leptos::prelude::*;

use super::api;
use super::dto::{Candidate, PersonHit, Profile};
use super::forms::curp_error;
use crate::domain::curp::{Date, STATES};
use crate::i18n::*;
use crate::staff::form_state::{
    CsrfField, Field, FormState, Notice, field_message, use_form_state,
};
use crate::staff::pages::{NoticeBox, failure, id_param};
use leptos_i18n::I18nContext;

fn agree_name(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "birth_date" => t_string!(i18n, agree_birth_date),
        "first_surname" => t_string!(i18n, agree_first_surname),
        "second_surname" => t_string!(i18n, agree_second_surname),
        "given_names" => t_string!(i18n, agree_given_names),
        "sex" => t_string!(i18n, agree_sex),
        _ => t_string!(i18n, agree_borough),
    }
    .to_owned()
}

fn id_name(i18n: I18nContext<Locale>, kind: &str) -> String {
    match kind {
        "curp" => t_string!(i18n, id_curp),
        "ine" => t_string!(i18n, id_ine),
        "nss" => t_string!(i18n, id_nss),
        "rfc" => t_string!(i18n, id_rfc),
        _ => t_string!(i18n, id_passport),
    }
    .to_owned()
}

fn field_label(i18n: I18nContext<Locale>, field: &str) -> String {
    match field {
        "given_names" => t_string!(i18n, field_given_names),
        "first_surname" => t_string!(i18n, field_first_surname),
        "second_surname" => t_string!(i18n, field_second_surname),
        "birth_date" => t_string!(i18n, field_birth_date),
        "sex" => t_string!(i18n, field_sex),
        _ => t_string!(i18n, field_birth_state),
    }
    .to_owned()
}

fn synthetic_badge(i18n: I18nContext<Locale>, synthetic: bool) -> impl IntoView {
    synthetic.then(|| view! { <span class="badge synthetic">{t!(i18n, people_synthetic)}</span> })
}

fn hits_table(i18n: I18nContext<Locale>, hits: Vec<PersonHit>) -> impl IntoView {
    view! {
        <table class="people">
            <thead><tr>
                <th scope="col">{t!(i18n, col_name)}</th>
                <th scope="col">{t!(i18n, col_birth_date)}</th>
                <th scope="col">{t!(i18n, col_curp)}</th>
                <th scope="col">{t!(i18n, col_card)}</th>
                <th scope="col">{t!(i18n, col_borough)}</th>
            </tr></thead>
            <tbody>
                {hits.into_iter().map(|h| view! {
                    <tr>
                        <td><a href=format!("/oficina/persona/{}", h.id)>{h.full_name}</a> " " {synthetic_badge(i18n, h.synthetic)}</td>
                        <td>{h.birth_date}</td>
                        <td><code>{h.masked_curp.unwrap_or_default()}</code></td>
                        <td><code>{h.card_number}</code></td>
                        <td>{h.borough}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// `/oficina/personas`: find a person by CURP, card number, or name and birth date.
#[component]
pub fn PeoplePage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let results = match state.notice.clone() {
        Some(Notice::Found(hits)) if hits.is_empty() => Some(view! { <p class="notice" role="status">{t!(i18n, people_none)}</p> }.into_any()),
        Some(Notice::Found(hits)) => Some(view! {
            <section aria-labelledby="results"><h2 id="results">{t!(i18n, people_results)}</h2>{hits_table(i18n, hits)}</section>
        }.into_any()),
        _ => None,
    };
    view! {
        <h1>{t!(i18n, people_title)}</h1>
        <p class="lead">{t!(i18n, people_intro)}</p>
        <p><a class="button" href="/oficina/personas/nueva">{t!(i18n, people_register_link)}</a></p>
        <NoticeBox state=state.clone() />
        {results}
        <div class="search-forms">
            <form method="post" action="/oficina/personas" class="stacked">
                <h2>{t!(i18n, people_by_curp)}</h2>
                <CsrfField />
                <input type="hidden" name="by" value="curp" />
                <Field name="curp" label=t_string!(i18n, field_curp).to_owned() autocomplete="off" state=state.clone() />
                <button type="submit">{t!(i18n, people_search)}</button>
            </form>
            <form method="post" action="/oficina/personas" class="stacked">
                <h2>{t!(i18n, people_by_card)}</h2>
                <CsrfField />
                <input type="hidden" name="by" value="card" />
                <Field name="card" label=t_string!(i18n, field_card).to_owned() autocomplete="off" state=state.clone() />
                <button type="submit">{t!(i18n, people_search)}</button>
            </form>
            <form method="post" action="/oficina/personas" class="stacked">
                <h2>{t!(i18n, people_by_name)}</h2>
                <CsrfField />
                <input type="hidden" name="by" value="name" />
                <Field name="given_names" label=t_string!(i18n, field_given_names).to_owned() state=state.clone() />
                <Field name="first_surname" label=t_string!(i18n, field_first_surname).to_owned() state=state.clone() />
                <Field name="second_surname" label=t_string!(i18n, field_second_surname).to_owned() state=state.clone() />
                <Field name="birth_date" kind="date" label=t_string!(i18n, field_birth_date).to_owned() state=state.clone() />
                <button type="submit">{t!(i18n, people_search)}</button>
            </form>
        </div>
    }
}

/// The CURP input: the server's error after a post, and once hydrated the rule that fails while
/// typing (the same `Curp::parse` the server runs).
#[component]
fn CurpField(state: FormState, today: Option<Date>) -> impl IntoView {
    let i18n = use_i18n();
    let initial = state.value("curp");
    let typed = RwSignal::new(initial.clone());
    let posted = state.error("curp");
    let first = initial.clone();
    let error = Memo::new(move |_| {
        let live = today
            .and_then(|t| curp_error(&typed.get(), t))
            .map(str::to_owned);
        // Before any typing, what the server said.
        if typed.get() == first {
            live.or_else(|| posted.clone())
        } else {
            live
        }
    });
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for="f-curp">{t!(i18n, field_curp)}</label>
            <p class="hint" id="f-curp-hint">{t!(i18n, field_curp_hint)}</p>
            <input id="f-curp" name="curp" type="text" autocomplete="off" maxlength="24"
                prop:value=move || typed.get()
                value=initial
                on:input=move |ev| typed.set(event_target_value(&ev))
                aria-invalid=move || error.get().map(|_| "true")
                aria-describedby=move || if error.get().is_some() { "f-curp-error" } else { "f-curp-hint" } />
            <p class="field-error" id="f-curp-error" aria-live="polite">
                {move || error.get().map(|code| field_message(i18n, &code))}
            </p>
        </div>
    }
}

fn select_field(
    i18n: I18nContext<Locale>,
    name: &'static str,
    label: String,
    options: Vec<(String, String)>,
    state: &FormState,
) -> impl IntoView {
    let id = format!("f-{name}");
    let error = state.error(name);
    let chosen = state.value(name);
    let invalid = error.is_some();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}</label>
            <select id=id name=name aria-invalid=error.as_ref().map(|_| "true")
                aria-describedby=error.as_ref().map(|_| format!("f-{name}-error"))>
                <option value="">{t!(i18n, choose)}</option>
                {options.into_iter().map(|(value, text)| {
                    let selected = value == chosen;
                    view! { <option value=value selected=selected>{text}</option> }
                }).collect_view()}
            </select>
            {error.map(|code| view! { <p class="field-error" id=format!("f-{name}-error")>{field_message(i18n, &code)}</p> })}
        </div>
    }
}

fn candidates_box(i18n: I18nContext<Locale>, candidates: Vec<Candidate>) -> impl IntoView {
    view! {
        <section class="candidates" aria-labelledby="candidates" role="alert">
            <h2 id="candidates">{t!(i18n, intake_candidates_title)}</h2>
            <p>{t!(i18n, intake_candidates_intro)}</p>
            <table class="people">
                <thead><tr>
                    <th scope="col">{t!(i18n, col_name)}</th>
                    <th scope="col">{t!(i18n, col_birth_date)}</th>
                    <th scope="col">{t!(i18n, col_curp)}</th>
                    <th scope="col">{t!(i18n, col_score)}</th>
                    <th scope="col">{t!(i18n, col_agree)}</th>
                    <th scope="col"><span class="visually-hidden">{t!(i18n, people_open)}</span></th>
                </tr></thead>
                <tbody>
                    {candidates.into_iter().map(|c| view! {
                        <tr>
                            <td>{c.person.full_name} " " {synthetic_badge(i18n, c.person.synthetic)}</td>
                            <td>{c.person.birth_date}</td>
                            <td><code>{c.person.masked_curp.unwrap_or_default()}</code></td>
                            <td>{format!("{} %", c.score)}</td>
                            <td>{c.agreeing.iter().map(|a| agree_name(i18n, a)).collect::<Vec<_>>().join(", ")}</td>
                            <td><a href=format!("/oficina/persona/{}", c.person.id)>{t!(i18n, intake_this_person)}</a></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// `/oficina/personas/nueva`: the intake form.
#[component]
pub fn NewPersonPage() -> impl IntoView {
    let i18n = use_i18n();
    let options = Resource::new(|| (), |_| api::intake_choices());
    view! {
        <h1>{t!(i18n, intake_title)}</h1>
        <p class="lead">{t!(i18n, intake_intro)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                let options = match options.await {
                    Ok(o) => o,
                    Err(e) => return failure(e),
                };
                let state = use_form_state();
                let today = super::forms::parse_date(&options.today);
                let candidates = match state.notice.clone() {
                    Some(Notice::Candidates(c)) => Some(c),
                    _ => None,
                };
                let states: Vec<(String, String)> = STATES.iter().map(|s| ((*s).to_owned(), (*s).to_owned())).collect();
                let sexes = vec![
                    ("H".to_owned(), t_string!(i18n, sex_h).to_owned()),
                    ("M".to_owned(), t_string!(i18n, sex_m).to_owned()),
                    ("X".to_owned(), t_string!(i18n, sex_x).to_owned()),
                ];
                view! {
                    <NoticeBox state=state.clone() />
                    {candidates.clone().map(|c| candidates_box(i18n, c))}
                    <form method="post" action="/oficina/personas/nueva" class="stacked intake">
                        <CsrfField />
                        <fieldset>
                            <legend>{t!(i18n, intake_identity)}</legend>
                            <Field name="given_names" label=t_string!(i18n, field_given_names).to_owned() state=state.clone() />
                            <Field name="first_surname" label=t_string!(i18n, field_first_surname).to_owned() state=state.clone() />
                            <Field name="second_surname" label=t_string!(i18n, field_second_surname).to_owned() state=state.clone() />
                            <Field name="birth_date" kind="date" label=t_string!(i18n, field_birth_date).to_owned() state=state.clone() />
                            {select_field(i18n, "sex", t_string!(i18n, field_sex).to_owned(), sexes, &state)}
                            {select_field(i18n, "birth_state", t_string!(i18n, field_birth_state).to_owned(), states, &state)}
                        </fieldset>
                        <fieldset>
                            <legend>{t!(i18n, intake_ids)}</legend>
                            <CurpField state=state.clone() today />
                            <Field name="ine" label=t_string!(i18n, field_ine).to_owned() autocomplete="off" state=state.clone() />
                            <Field name="nss" label=t_string!(i18n, field_nss).to_owned() autocomplete="off" state=state.clone() />
                            <Field name="rfc" label=t_string!(i18n, field_rfc).to_owned() autocomplete="off" state=state.clone() />
                            <Field name="passport" label=t_string!(i18n, field_passport).to_owned() autocomplete="off" state=state.clone() />
                        </fieldset>
                        <fieldset>
                            <legend>{t!(i18n, intake_address)}</legend>
                            {select_field(i18n, "borough", t_string!(i18n, field_borough).to_owned(), options.boroughs.clone(), &state)}
                            <Field name="colonia" label=t_string!(i18n, field_colonia).to_owned() state=state.clone() />
                            <Field name="postal_code" label=t_string!(i18n, field_postal_code).to_owned() state=state.clone() />
                            <Field name="street" label=t_string!(i18n, field_street).to_owned() autocomplete="off" state=state.clone() />
                            <Field name="phone" kind="tel" label=t_string!(i18n, field_phone).to_owned() autocomplete="off" state=state.clone() />
                            <Field name="residence_since" kind="date" label=t_string!(i18n, field_residence_since).to_owned() state=state.clone() />
                        </fieldset>
                        <button type="submit">{t!(i18n, intake_submit)}</button>
                        {candidates.map(|_| view! {
                            <button type="submit" name="confirm" value="new" class="secondary">{t!(i18n, intake_someone_else)}</button>
                        })}
                    </form>
                }.into_any()
            })}
        </Suspense>
    }
}

fn profile_view(i18n: I18nContext<Locale>, p: Profile, state: FormState) -> AnyView {
    let revealed = match state.notice {
        Some(Notice::Revealed { kind, value }) => Some((kind, value)),
        _ => None,
    };
    let id = p.id;
    let name = [
        Some(p.given_names.clone()),
        Some(p.first_surname.clone()),
        p.second_surname.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let age = p.age;
    view! {
        <h1>{name} " " {synthetic_badge(i18n, p.synthetic)}</h1>
        {p.synthetic.then(|| view! { <p class="notice">{t!(i18n, profile_synthetic)}</p> })}
        {p.merged_into.map(|to| view! {
            <p class="notice" role="status">{t!(i18n, profile_merged)} " "
                <a href=format!("/oficina/persona/{to}")>{t!(i18n, profile_open_survivor)}</a></p>
        })}
        {(!p.has_curp).then(|| view! { <p class="notice warning">{t!(i18n, profile_no_curp)}</p> })}
        {(!p.warnings.is_empty()).then(|| view! {
            <section class="warnings" aria-labelledby="warnings">
                <h2 id="warnings">{t!(i18n, profile_warnings)}</h2>
                <ul>{p.warnings.iter().map(|w| view! {
                    <li><strong>{field_label(i18n, &w.field)}</strong> ": " {field_message(i18n, &w.code)}</li>
                }).collect_view()}</ul>
            </section>
        })}
        <section aria-labelledby="identity">
            <h2 id="identity">{t!(i18n, profile_identity)}</h2>
            <dl class="profile">
                <dt>{t!(i18n, profile_card)}</dt><dd><code>{p.card_number}</code></dd>
                <dt>{t!(i18n, field_birth_date)}</dt><dd>{p.birth_date}</dd>
                <dt>{t!(i18n, profile_age)}</dt><dd>{t!(i18n, profile_years, n = move || age)}</dd>
                <dt>{t!(i18n, field_sex)}</dt><dd>{p.sex}</dd>
                <dt>{t!(i18n, field_birth_state)}</dt><dd>{p.birth_state}</dd>
            </dl>
        </section>
        <section aria-labelledby="ids">
            <h2 id="ids">{t!(i18n, profile_ids)}</h2>
            <dl class="profile">
                {p.ids.into_iter().map(|m| {
                    let shown = revealed.as_ref().filter(|(k, _)| *k == m.kind).map(|(_, v)| v.clone());
                    let kind = m.kind.clone();
                    view! {
                        <dt>{id_name(i18n, &m.kind)}</dt>
                        <dd>
                            {match shown {
                                Some(full) => view! {
                                    <code class="revealed">{full}</code>
                                    <span class="hint">" " {t!(i18n, profile_revealed)}</span>
                                }.into_any(),
                                None => view! {
                                    <code>{m.masked}</code> " "
                                    <form method="post" action=format!("/oficina/persona/{id}") class="inline">
                                        <CsrfField />
                                        <input type="hidden" name="kind" value=kind />
                                        <button type="submit" class="link">{t!(i18n, profile_reveal)}</button>
                                    </form>
                                }.into_any(),
                            }}
                        </dd>
                    }
                }).collect_view()}
            </dl>
        </section>
        <section aria-labelledby="contact">
            <h2 id="contact">{t!(i18n, profile_contact)}</h2>
            <dl class="profile">
                <dt>{t!(i18n, field_borough)}</dt><dd>{p.borough} " (" {p.borough_code} ")"</dd>
                <dt>{t!(i18n, field_colonia)}</dt><dd>{p.colonia}</dd>
                <dt>{t!(i18n, field_postal_code)}</dt><dd>{p.postal_code}</dd>
                <dt>{t!(i18n, field_street)}</dt><dd>{p.street.unwrap_or_default()}</dd>
                <dt>{t!(i18n, field_phone)}</dt><dd>{p.phone.unwrap_or_default()}</dd>
                <dt>{t!(i18n, field_residence_since)}</dt><dd>{p.residence_since.unwrap_or_default()}</dd>
                <dt>{t!(i18n, profile_registered)}</dt><dd>{p.registered_at} " UTC"</dd>
            </dl>
        </section>
        <p class="hint">{t!(i18n, profile_viewed_note)}</p>
    }
    .into_any()
}

/// `/oficina/persona/{id}`: the profile (each view audited).
#[component]
pub fn PersonPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let profile = Resource::new(move || id.get(), api::person_profile);
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => profile_view(i18n, p, use_form_state()),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}
