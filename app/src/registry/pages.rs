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
) -> AnyView {
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
    .into_any()
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
    let query = leptos_router::hooks::use_query_map();
    // Shared values before any await: the browser matches them up with the server's in order.
    let state = use_form_state();
    let options = Resource::new(|| (), |_| api::intake_choices());
    view! {
        <h1>{t!(i18n, intake_title)}</h1>
        <p class="lead">{t!(i18n, intake_intro)}</p>
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    let options = match options.await {
                        Ok(o) => o,
                        Err(e) => return failure(e),
                    };
                    let today = super::forms::parse_date(&options.today);
                    // Registering from a relative's profile: from the query at first, then as posted.
                    let relative = if state.values.is_empty() {
                        let query = query.read_untracked();
                        query.get("familiar_de").zip(query.get("relacion"))
                    } else {
                        Some((state.value("relative_of"), state.value("relation"))).filter(|(of, _)| !of.is_empty())
                    };
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
                            {relative.clone().map(|(of, relation)| view! {
                                <p class="notice">{t!(i18n, intake_for_relative)}</p>
                                <input type="hidden" name="relative_of" value=of />
                                <input type="hidden" name="relation" value=relation />
                            })}
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
                })
            }}
        </Suspense>
    }
}

fn profile_view(i18n: I18nContext<Locale>, p: Profile, state: FormState) -> AnyView {
    let revealed = match &state.notice {
        Some(Notice::Revealed { kind, value }) => Some((kind.clone(), value.clone())),
        _ => None,
    };
    let code_notice =
        matches!(state.notice, Some(Notice::CitizenCode { .. })).then(|| state.clone());
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
    let circle_of = p.clone();
    let active = p.status == "active";
    view! {
        <h1>{name} " " {synthetic_badge(i18n, p.synthetic)}</h1>
        {active.then(|| view! {
            <p class="tools">
                <a class="button" href=format!("/oficina/persona/{id}/que-paso")>{t!(i18n, events_link)}</a>
                <a class="button secondary" href=format!("/oficina/persona/{id}/editar")>{t!(i18n, profile_edit)}</a>
                <a class="button secondary" href=format!("/oficina/persona/{id}/tarjeta")>{t!(i18n, profile_print_card)}</a>
                <a class="button secondary" href=format!("/oficina/persona/{id}/historial")>{t!(i18n, timeline_link)}</a>
            </p>
        })}
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
        {circle_view(i18n, &circle_of)}
        {active.then(|| view! {
            <section aria-labelledby="citizen-account" class="no-print">
                <h2 id="citizen-account">{t!(i18n, citizen_code_title)}</h2>
                <p>{t!(i18n, citizen_code_explain)}</p>
                {code_notice.map(|state| view! { <NoticeBox state /> })}
                <form method="post" action=format!("/oficina/persona/{id}/codigo") class="inline">
                    <CsrfField />
                    <button type="submit" class="secondary">{t!(i18n, citizen_code_issue)}</button>
                </form>
            </section>
        })}
        <p class="hint">{t!(i18n, profile_viewed_note)}</p>
    }
    .into_any()
}

/// `/oficina/persona/{id}`: the profile (each view audited).
#[component]
pub fn PersonPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let state = use_form_state();
    let profile = Resource::new(move || id.get(), api::person_profile);
    view! {
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    match profile.await {
                        Ok(p) => profile_view(i18n, p, state),
                        Err(e) => failure(e),
                    }
                })
            }}
        </Suspense>
    }
}

fn relation_name(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "parent_of" => t_string!(i18n, relation_parent_of),
        "child_of" => t_string!(i18n, relation_child_of),
        "guardian_of" => t_string!(i18n, relation_guardian_of),
        "ward_of" => t_string!(i18n, relation_ward_of),
        _ => t_string!(i18n, relation_spouse_of),
    }
    .to_owned()
}

pub(crate) fn fact_name(i18n: I18nContext<Locale>, kind: &str) -> String {
    match kind {
        "monthly_income" => t_string!(i18n, fact_monthly_income),
        "employment" => t_string!(i18n, fact_employment),
        "months_worked" => t_string!(i18n, fact_months_worked),
        "school_level" => t_string!(i18n, fact_school_level),
        "school_type" => t_string!(i18n, fact_school_type),
        "grade_average" => t_string!(i18n, fact_grade_average),
        "disability" => t_string!(i18n, fact_disability),
        "pregnant" => t_string!(i18n, fact_pregnant),
        "job_loss" => t_string!(i18n, fact_job_loss),
        "violence_referral" => t_string!(i18n, fact_violence_referral),
        "partner" => t_string!(i18n, fact_partner),
        "other_scholarship" => t_string!(i18n, fact_other_scholarship),
        "pension" => t_string!(i18n, fact_pension),
        "provider_lost" => t_string!(i18n, fact_provider_lost),
        _ => t_string!(i18n, fact_social_security),
    }
    .to_owned()
}

/// A fact's value in words (numbers as they are; closed sets translated).
pub(crate) fn fact_value(i18n: I18nContext<Locale>, kind: &str, value: &str) -> String {
    let word = match value {
        "formal" => t_string!(i18n, value_formal),
        "informal" => t_string!(i18n, value_informal),
        "unemployed" => t_string!(i18n, value_unemployed),
        "student" => t_string!(i18n, value_student),
        "retired" => t_string!(i18n, value_retired),
        "home" => t_string!(i18n, value_home),
        "none" if kind == "school_level" => t_string!(i18n, value_no_schooling),
        "none" => t_string!(i18n, value_no_social_security),
        "preschool" => t_string!(i18n, value_preschool),
        "primary" => t_string!(i18n, value_primary),
        "secondary" => t_string!(i18n, value_secondary),
        "upper_secondary" => t_string!(i18n, value_upper_secondary),
        "higher" => t_string!(i18n, value_higher),
        "not_studying" => t_string!(i18n, value_not_studying),
        "public" => t_string!(i18n, value_public),
        "private" => t_string!(i18n, value_private),
        "yes" => t_string!(i18n, value_yes),
        "no" => t_string!(i18n, value_no),
        "imss" => "IMSS",
        "issste" => "ISSSTE",
        "pemex_sedena" => "PEMEX / SEDENA / SEMAR",
        "other" => t_string!(i18n, value_other),
        _ if kind == "monthly_income" => return format!("$ {value}"),
        _ => return value.to_owned(),
    };
    word.to_owned()
}

fn source_name(i18n: I18nContext<Locale>, source: &str) -> String {
    match source {
        "declared" => t_string!(i18n, source_declared),
        "document" => t_string!(i18n, source_document),
        "agency" => t_string!(i18n, source_agency),
        _ => t_string!(i18n, source_import),
    }
    .to_owned()
}

fn changed_field_name(i18n: I18nContext<Locale>, field: &str) -> String {
    match field {
        "borough" => t_string!(i18n, field_borough).to_owned(),
        "colonia" => t_string!(i18n, field_colonia).to_owned(),
        "postal_code" => t_string!(i18n, field_postal_code).to_owned(),
        "residence_since" => t_string!(i18n, field_residence_since).to_owned(),
        "contact" => t_string!(i18n, profile_contact).to_owned(),
        "curp" | "ine" | "nss" | "rfc" | "passport" => id_name(i18n, field),
        other => field_label(i18n, other),
    }
}

/// Household, relatives, facts and history on the profile.
fn circle_view(i18n: I18nContext<Locale>, p: &Profile) -> impl IntoView {
    let id = p.id;
    let editable = p.status == "active";
    let circle = p.circle.clone();
    view! {
        <section aria-labelledby="family">
            <h2 id="family">{t!(i18n, profile_family)}</h2>
            {if circle.relatives.is_empty() && circle.household.is_empty() {
                view! { <p>{t!(i18n, profile_no_family)}</p> }.into_any()
            } else {
                view! {
                    <ul class="relatives">
                        {circle.relatives.into_iter().map(|r| view! {
                            <li>{relation_name(i18n, &r.relation)} ": "
                                <a href=format!("/oficina/persona/{}", r.id)>{r.full_name}</a>
                                " (" {t!(i18n, profile_years, n = move || r.age)} ")"</li>
                        }).collect_view()}
                        {circle.household.into_iter().map(|h| view! {
                            <li>{t!(i18n, profile_housemate)} ": "
                                <a href=format!("/oficina/persona/{}", h.id)>{h.full_name}</a></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {editable.then(|| view! {
                <p><a href=format!("/oficina/persona/{id}/familia")>{t!(i18n, profile_add_relative)}</a></p>
            })}
        </section>
        <section aria-labelledby="facts">
            <h2 id="facts">{t!(i18n, profile_facts)}</h2>
            {if circle.facts.is_empty() {
                view! { <p>{t!(i18n, profile_no_facts)}</p> }.into_any()
            } else {
                view! {
                    <table class="facts">
                        <thead><tr>
                            <th scope="col">{t!(i18n, col_fact)}</th>
                            <th scope="col">{t!(i18n, col_value)}</th>
                            <th scope="col">{t!(i18n, col_as_of)}</th>
                            <th scope="col">{t!(i18n, col_source)}</th>
                            <th scope="col">{t!(i18n, col_verified)}</th>
                        </tr></thead>
                        <tbody>
                            {circle.facts.into_iter().map(|f| view! {
                                <tr class:superseded=f.superseded>
                                    <td>{fact_name(i18n, &f.kind)}
                                        {f.superseded.then(|| view! { " " <span class="hint">{t!(i18n, profile_superseded)}</span> })}</td>
                                    <td>{fact_value(i18n, &f.kind, &f.value)}</td>
                                    <td>{f.as_of}</td>
                                    <td>{source_name(i18n, &f.source)}</td>
                                    <td>{if f.verified { t_string!(i18n, value_yes) } else { t_string!(i18n, value_no) }}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            {editable.then(|| view! {
                <p><a href=format!("/oficina/persona/{id}/datos")>{t!(i18n, profile_add_fact)}</a></p>
            })}
        </section>
        <section aria-labelledby="history">
            <h2 id="history">{t!(i18n, profile_history)}</h2>
            {if circle.history.is_empty() {
                view! { <p>{t!(i18n, profile_no_history)}</p> }.into_any()
            } else {
                view! {
                    <ol class="history">
                        {circle.history.into_iter().map(|c| view! {
                            <li>
                                <strong>{c.at} " UTC"</strong> " · " {c.by} " · v" {c.version}
                                <ul>{c.fields.into_iter().map(|(field, old, new)| view! {
                                    <li>{changed_field_name(i18n, &field)}
                                        {match (old, new) {
                                            (None, None) => view! { " " <span class="hint">{t!(i18n, profile_changed_sealed)}</span> }.into_any(),
                                            (old, new) => view! { ": " <del>{old.unwrap_or_default()}</del> " → " <ins>{new.unwrap_or_default()}</ins> }.into_any(),
                                        }}
                                    </li>
                                }).collect_view()}</ul>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

/// The profile's values as the edit form's initial values.
fn edit_values(p: &Profile) -> std::collections::BTreeMap<String, String> {
    [
        ("given_names", p.given_names.clone()),
        ("first_surname", p.first_surname.clone()),
        (
            "second_surname",
            p.second_surname.clone().unwrap_or_default(),
        ),
        ("birth_date", p.birth_date.clone()),
        ("sex", p.sex.clone()),
        ("birth_state", p.birth_state.clone()),
        ("borough", p.borough_code.clone()),
        ("colonia", p.colonia.clone()),
        ("postal_code", p.postal_code.clone()),
        ("street", p.street.clone().unwrap_or_default()),
        ("phone", p.phone.clone().unwrap_or_default()),
        (
            "residence_since",
            p.residence_since.clone().unwrap_or_default(),
        ),
        ("version", p.version.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A conflict: what the caseworker typed next to what is saved now, for every field that
/// differs. The form keeps the caseworker's input and now carries the saved version, so that
/// saving again (after looking) is a deliberate choice.
fn conflict_box(
    i18n: I18nContext<Locale>,
    mine: &FormState,
    saved: &std::collections::BTreeMap<String, String>,
) -> impl IntoView {
    let differing: Vec<(String, String, String)> = saved
        .iter()
        .filter(|(k, _)| k.as_str() != "version")
        .filter(|(k, v)| mine.value(k).trim() != v.trim())
        .map(|(k, v)| (k.clone(), mine.value(k), v.clone()))
        .collect();
    view! {
        <section class="conflict" role="alert" aria-labelledby="conflict">
            <h2 id="conflict">{t!(i18n, edit_conflict_title)}</h2>
            <p>{t!(i18n, edit_conflict_intro)}</p>
            <table>
                <thead><tr>
                    <th scope="col">{t!(i18n, col_field)}</th>
                    <th scope="col">{t!(i18n, edit_yours)}</th>
                    <th scope="col">{t!(i18n, edit_saved)}</th>
                </tr></thead>
                <tbody>
                    {differing.into_iter().map(|(k, yours, saved)| view! {
                        <tr><th scope="row">{changed_field_name(i18n, &k)}</th><td>{yours}</td><td>{saved}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

fn sexes(i18n: I18nContext<Locale>) -> Vec<(String, String)> {
    vec![
        ("H".to_owned(), t_string!(i18n, sex_h).to_owned()),
        ("M".to_owned(), t_string!(i18n, sex_m).to_owned()),
        ("X".to_owned(), t_string!(i18n, sex_x).to_owned()),
    ]
}

fn states() -> Vec<(String, String)> {
    STATES
        .iter()
        .map(|s| ((*s).to_owned(), (*s).to_owned()))
        .collect()
}

/// `/oficina/persona/{id}/editar`: edit identity and address; add missing ID numbers.
#[component]
pub fn EditPersonPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let posted = use_form_state();
    let data = Resource::new(
        move || id.get(),
        |id| async move {
            Ok::<_, crate::error::AppError>((
                api::person_profile(id).await?,
                api::intake_choices().await?,
            ))
        },
    );
    view! {
        <Suspense>
            {move || {
                let posted = posted.clone();
                Suspend::new(async move {
                    let (p, options) = match data.await {
                        Ok(d) => d,
                        Err(e) => return failure(e),
                    };
                    let saved = edit_values(&p);
                    let conflict = matches!(posted.notice, Some(Notice::Conflict));
                    let mut state = if posted.values.is_empty() {
                        FormState { values: saved.clone(), ..FormState::default() }
                    } else {
                        posted.clone()
                    };
                    if conflict {
                        state.values.insert("version".to_owned(), p.version.to_string());
                    }
                    let today = super::forms::parse_date(&options.today);
                    let missing: Vec<&'static str> = ["curp", "ine", "nss", "rfc", "passport"]
                        .into_iter()
                        .filter(|k| !p.ids.iter().any(|m| m.kind == *k))
                        .collect();
                    let version = state.value("version");
                    view! {
                        <h1>{t!(i18n, edit_title)}</h1>
                        <p><a href=format!("/oficina/persona/{}", p.id)>{t!(i18n, edit_back)}</a></p>
                        {conflict.then(|| conflict_box(i18n, &posted, &saved))}
                        {(!conflict).then(|| view! { <NoticeBox state=posted.clone() /> })}
                        <form method="post" action=format!("/oficina/persona/{}/editar", p.id) class="stacked intake">
                            <CsrfField />
                            <input type="hidden" name="version" value=version />
                            <fieldset>
                                <legend>{t!(i18n, intake_identity)}</legend>
                                <Field name="given_names" label=t_string!(i18n, field_given_names).to_owned() state=state.clone() />
                                <Field name="first_surname" label=t_string!(i18n, field_first_surname).to_owned() state=state.clone() />
                                <Field name="second_surname" label=t_string!(i18n, field_second_surname).to_owned() state=state.clone() />
                                <Field name="birth_date" kind="date" label=t_string!(i18n, field_birth_date).to_owned() state=state.clone() />
                                {select_field(i18n, "sex", t_string!(i18n, field_sex).to_owned(), sexes(i18n), &state)}
                                {select_field(i18n, "birth_state", t_string!(i18n, field_birth_state).to_owned(), states(), &state)}
                            </fieldset>
                            {(!missing.is_empty()).then(|| view! {
                                <fieldset>
                                    <legend>{t!(i18n, edit_add_ids)}</legend>
                                    {missing.iter().map(|kind| match *kind {
                                        "curp" => view! { <CurpField state=state.clone() today /> }.into_any(),
                                        "ine" => view! { <Field name="ine" label=t_string!(i18n, field_ine).to_owned() autocomplete="off" state=state.clone() /> }.into_any(),
                                        "nss" => view! { <Field name="nss" label=t_string!(i18n, field_nss).to_owned() autocomplete="off" state=state.clone() /> }.into_any(),
                                        "rfc" => view! { <Field name="rfc" label=t_string!(i18n, field_rfc).to_owned() autocomplete="off" state=state.clone() /> }.into_any(),
                                        _ => view! { <Field name="passport" label=t_string!(i18n, field_passport).to_owned() autocomplete="off" state=state.clone() /> }.into_any(),
                                    }).collect_view()}
                                </fieldset>
                            })}
                            <fieldset>
                                <legend>{t!(i18n, intake_address)}</legend>
                                {select_field(i18n, "borough", t_string!(i18n, field_borough).to_owned(), options.boroughs.clone(), &state)}
                                <Field name="colonia" label=t_string!(i18n, field_colonia).to_owned() state=state.clone() />
                                <Field name="postal_code" label=t_string!(i18n, field_postal_code).to_owned() state=state.clone() />
                                <Field name="street" label=t_string!(i18n, field_street).to_owned() autocomplete="off" state=state.clone() />
                                <Field name="phone" kind="tel" label=t_string!(i18n, field_phone).to_owned() autocomplete="off" state=state.clone() />
                                <Field name="residence_since" kind="date" label=t_string!(i18n, field_residence_since).to_owned() state=state.clone() />
                            </fieldset>
                            <button type="submit">{if conflict { t!(i18n, edit_save_anyway).into_any() } else { t!(i18n, edit_save).into_any() }}</button>
                        </form>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

/// `/oficina/persona/{id}/familia`: add a relative by card number, or register a new one.
#[component]
pub fn RelativesPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let state = use_form_state();
    let relations: Vec<(String, String)> = super::facts::RELATIONS
        .iter()
        .map(|r| (r.code().to_owned(), relation_name(i18n, r.code())))
        .collect();
    let same = state.value("same_household") == "yes" || state.values.is_empty();
    view! {
        <h1>{t!(i18n, relatives_title)}</h1>
        <p><a href=move || format!("/oficina/persona/{}", id.get())>{t!(i18n, edit_back)}</a></p>
        <NoticeBox state=state.clone() />
        <form method="post" action=move || format!("/oficina/persona/{}/familia", id.get()) class="stacked">
            <h2>{t!(i18n, relatives_by_card)}</h2>
            <p class="hint">{t!(i18n, relatives_by_card_hint)}</p>
            <CsrfField />
            {select_field(i18n, "relation", t_string!(i18n, field_relation).to_owned(), relations.clone(), &state)}
            <Field name="card" label=t_string!(i18n, field_card).to_owned() autocomplete="off" state=state.clone() />
            <div class="field checkbox">
                <input type="checkbox" id="f-same_household" name="same_household" value="yes" checked=same />
                <label for="f-same_household">{t!(i18n, field_same_household)}</label>
            </div>
            <button type="submit">{t!(i18n, relatives_add)}</button>
        </form>
        <section aria-labelledby="register-relative">
            <h2 id="register-relative">{t!(i18n, relatives_register)}</h2>
            <p class="hint">{t!(i18n, relatives_register_hint)}</p>
            <ul>
                {super::facts::RELATIONS.iter().map(|r| {
                    // Seen from the new person: registering "a child" makes the new person child_of.
                    let (seen, label) = match r {
                        super::facts::Relation::ParentOf => ("child_of", t_string!(i18n, relatives_new_child)),
                        super::facts::Relation::ChildOf => ("parent_of", t_string!(i18n, relatives_new_parent)),
                        super::facts::Relation::GuardianOf => ("ward_of", t_string!(i18n, relatives_new_ward)),
                        super::facts::Relation::WardOf => ("guardian_of", t_string!(i18n, relatives_new_guardian)),
                        super::facts::Relation::SpouseOf => ("spouse_of", t_string!(i18n, relatives_new_spouse)),
                    };
                    view! { <li><a href=move || format!("/oficina/personas/nueva?familiar_de={}&relacion={seen}", id.get())>{label}</a></li> }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// `/oficina/persona/{id}/datos`: record a fact (append-only).
#[component]
pub fn FactsPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let state = use_form_state();
    let kinds: Vec<(String, String)> = super::facts::FACT_KINDS
        .iter()
        .map(|k| (k.code().to_owned(), fact_name(i18n, k.code())))
        .collect();
    let sources: Vec<(String, String)> = super::facts::SOURCES
        .iter()
        .map(|s| ((*s).to_owned(), source_name(i18n, s)))
        .collect();
    let verified = state.value("verified") == "yes";
    let choices: Vec<(&'static str, Vec<&'static str>)> = super::facts::FACT_KINDS
        .iter()
        .filter_map(|k| k.choices().map(|c| (k.code(), c.to_vec())))
        .collect();
    view! {
        <h1>{t!(i18n, facts_title)}</h1>
        <p><a href=move || format!("/oficina/persona/{}", id.get())>{t!(i18n, edit_back)}</a></p>
        <NoticeBox state=state.clone() />
        <form method="post" action=move || format!("/oficina/persona/{}/datos", id.get()) class="stacked">
            <CsrfField />
            {select_field(i18n, "kind", t_string!(i18n, field_fact_kind).to_owned(), kinds, &state)}
            <Field name="value" label=t_string!(i18n, field_fact_value).to_owned() hint=t_string!(i18n, facts_value_hint).to_owned() state=state.clone() />
            <Field name="as_of" kind="date" label=t_string!(i18n, field_as_of).to_owned() state=state.clone() />
            {select_field(i18n, "source", t_string!(i18n, field_source).to_owned(), sources, &state)}
            <div class="field checkbox">
                <input type="checkbox" id="f-verified" name="verified" value="yes" checked=verified />
                <label for="f-verified">{t!(i18n, field_verified)}</label>
            </div>
            <button type="submit">{t!(i18n, facts_add)}</button>
        </form>
        <section aria-labelledby="fact-values">
            <h2 id="fact-values">{t!(i18n, facts_values_title)}</h2>
            <dl class="profile">
                {choices.into_iter().map(|(kind, values)| view! {
                    <dt>{fact_name(i18n, kind)}</dt>
                    <dd>{values.iter().map(|v| format!("{v} = {}", fact_value(i18n, kind, v))).collect::<Vec<_>>().join(" · ")}</dd>
                }).collect_view()}
            </dl>
        </section>
    }
}

/// `/oficina/persona/{id}/tarjeta`: the printable card (credit-card size when printed).
#[component]
pub fn CardPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let card = Resource::new(move || id.get(), api::person_card);
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let c = match card.await {
                    Ok(c) => c,
                    Err(e) => return failure(e),
                };
                view! {
                    <h1 class="no-print">{t!(i18n, card_title)}</h1>
                    <p class="no-print">
                        <a href=format!("/oficina/persona/{}", c.id)>{t!(i18n, edit_back)}</a>
                        " · " {t!(i18n, card_print_hint)}
                    </p>
                    <article class="person-card" aria-label=t_string!(i18n, card_title)>
                        <header>
                            <strong>"Ángel"</strong>
                            <span>{t!(i18n, card_city)}</span>
                        </header>
                        <div class="person-card-body">
                            <div>
                                <p class="person-card-name">{c.full_name}</p>
                                <p class="person-card-number"><code>{c.card_number}</code></p>
                                {c.synthetic.then(|| view! { <p class="badge synthetic">{t!(i18n, people_synthetic)}</p> })}
                            </div>
                            <div class="person-card-qr" role="img" aria-label=t_string!(i18n, card_qr_label) inner_html=c.qr_svg></div>
                        </div>
                    </article>
                }.into_any()
            })}
        </Suspense>
    }
}

fn reason_name(i18n: I18nContext<Locale>, reason: &str) -> String {
    match reason {
        "documents_match" => t_string!(i18n, reason_documents_match),
        "registered_twice" => t_string!(i18n, reason_registered_twice),
        "confirmed_by_person" => t_string!(i18n, reason_confirmed_by_person),
        "different_documents" => t_string!(i18n, reason_different_documents),
        "homonym" => t_string!(i18n, reason_homonym),
        "wrong_merge" => t_string!(i18n, reason_wrong_merge),
        _ => t_string!(i18n, reason_data_error),
    }
    .to_owned()
}

fn reasons(i18n: I18nContext<Locale>, codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| ((*c).to_owned(), reason_name(i18n, c)))
        .collect()
}

/// `/oficina/duplicados`: pairs of profiles that may be one person (office supervisors).
#[component]
pub fn DuplicatesPage() -> impl IntoView {
    let i18n = use_i18n();
    let queue = Resource::new(|| (), |_| api::duplicate_queue());
    view! {
        <h1>{t!(i18n, duplicates_title)}</h1>
        <p class="lead">{t!(i18n, duplicates_intro)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(rows) if rows.is_empty() => view! { <p>{t!(i18n, duplicates_none)}</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="people">
                            <thead><tr>
                                <th scope="col">{t!(i18n, duplicates_pair)}</th>
                                <th scope="col">{t!(i18n, col_score)}</th>
                                <th scope="col">{t!(i18n, col_agree)}</th>
                                <th scope="col">{t!(i18n, duplicates_found)}</th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|r| view! {
                                    <tr>
                                        <td><a href=format!("/oficina/duplicados/{}", r.id)>{r.a} " · " {r.b}</a></td>
                                        <td>{format!("{} %", r.score)}</td>
                                        <td>{r.agreeing.iter().map(|a| agree_name(i18n, a)).collect::<Vec<_>>().join(", ")}</td>
                                        <td>{r.found}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}

/// `/oficina/duplicados/{id}`: a pair side by side; merge (choosing the surviving value of each
/// field), mark as different people, or undo a merge.
#[component]
pub fn PairPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let state = use_form_state();
    let pair = Resource::new(move || id.get(), api::duplicate_pair);
    view! {
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    let p = match pair.await {
                        Ok(p) => p,
                        Err(e) => return failure(e),
                    };
                    let action = format!("/oficina/duplicados/{}", p.id);
                    let side_head = |s: &super::dto::PairSide| view! {
                        <th scope="col">
                            <a href=format!("/oficina/persona/{}", s.id)>{s.card_number.clone()}</a>
                            " " {synthetic_badge(i18n, s.synthetic)}
                            <br /><code>{s.masked_curp.clone().unwrap_or_default()}</code>
                        </th>
                    };
                    let rows: Vec<(String, String, String)> = p.a.fields.iter().zip(&p.b.fields)
                        .map(|((f, a), (_, b))| (f.clone(), a.clone(), b.clone()))
                        .collect();
                    let pending = p.status == "pending";
                    view! {
                        <h1>{t!(i18n, pair_title)}</h1>
                        <p><a href="/oficina/duplicados">{t!(i18n, pair_back)}</a></p>
                        <p class="lead">{format!("{} %", p.score)} " · "
                            {p.agreeing.iter().map(|a| agree_name(i18n, a)).collect::<Vec<_>>().join(", ")}</p>
                        <NoticeBox state=state.clone() />
                        // A refusal of the decision as a whole (changed since the merge, two open
                        // requests of one program) has no field of its own to sit next to.
                        {state.error("decision").map(|code| view! {
                            <p class="field-error" id="err-decision">{field_message(i18n, &code)}</p>
                        })}
                        {(!pending).then(|| view! {
                            <p class="notice" role="status">
                                {if p.status == "merged" { t_string!(i18n, pair_merged) } else { t_string!(i18n, pair_distinct) }}
                                {p.reason.clone().map(|r| format!(" ({})", reason_name(i18n, &r)))}
                            </p>
                        })}
                        <form method="post" action=action.clone() class="stacked">
                            <CsrfField />
                            <table class="pair">
                                <thead><tr>
                                    <th scope="col">{t!(i18n, col_field)}</th>
                                    {side_head(&p.a)}
                                    {side_head(&p.b)}
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|(f, a, b)| {
                                        let differ = a != b;
                                        let name = format!("pick_{f}");
                                        view! {
                                            <tr class:differ=differ>
                                                <th scope="row">{changed_field_name(i18n, &f)}</th>
                                                <td>{pending.then(|| view! { <input type="radio" name=name.clone() value="a" checked=true aria-label=t_string!(i18n, pair_keep_a) /> " " })}{a}</td>
                                                <td>{pending.then(|| view! { <input type="radio" name=name.clone() value="b" aria-label=t_string!(i18n, pair_keep_b) /> " " })}{b}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                    <tr>
                                        <th scope="row">{t!(i18n, pair_links)}</th>
                                        <td>{p.a.relatives} " / " {p.a.facts}</td>
                                        <td>{p.b.relatives} " / " {p.b.facts}</td>
                                    </tr>
                                </tbody>
                            </table>
                            {pending.then(|| view! {
                                <fieldset>
                                    <legend>{t!(i18n, pair_merge)}</legend>
                                    <p class="hint">{t!(i18n, pair_merge_hint)}</p>
                                    {select_field(i18n, "survivor", t_string!(i18n, pair_survivor).to_owned(),
                                        vec![("a".to_owned(), p.a.card_number.clone()), ("b".to_owned(), p.b.card_number.clone())], &state)}
                                    {select_field(i18n, "reason", t_string!(i18n, field_reason).to_owned(), reasons(i18n, &super::merge::MERGE_REASONS), &state)}
                                    <button type="submit" name="decision" value="merge">{t!(i18n, pair_merge_submit)}</button>
                                </fieldset>
                            })}
                        </form>
                        {pending.then(|| view! {
                            <form method="post" action=action.clone() class="stacked">
                                <CsrfField />
                                <input type="hidden" name="decision" value="distinct" />
                                <fieldset>
                                    <legend>{t!(i18n, pair_distinct_title)}</legend>
                                    {select_field(i18n, "reason", t_string!(i18n, field_reason).to_owned(), reasons(i18n, &super::merge::DISTINCT_REASONS), &FormState::default())}
                                    <button type="submit" class="secondary">{t!(i18n, pair_distinct_submit)}</button>
                                </fieldset>
                            </form>
                        })}
                        {p.undoable.then(|| view! {
                            <form method="post" action=action.clone() class="stacked">
                                <CsrfField />
                                <input type="hidden" name="decision" value="unmerge" />
                                <fieldset>
                                    <legend>{t!(i18n, pair_unmerge_title)}</legend>
                                    {select_field(i18n, "reason", t_string!(i18n, field_reason).to_owned(), reasons(i18n, &super::merge::UNMERGE_REASONS), &state)}
                                    <button type="submit" class="secondary">{t!(i18n, pair_unmerge_submit)}</button>
                                </fieldset>
                            </form>
                        })}
                    }.into_any()
                })
            }}
        </Suspense>
    }
}
