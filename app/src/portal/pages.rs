//! The public pages of the portal: `/revisa` (the anonymous eligibility check) and
//! `/seguimiento` (follow a request with its folio and the beneficiary's birth date: a plain form
//! post, the folio never in the URL; the answer is the same page with the request's history, or
//! one neutral message whatever was wrong).

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::hooks::use_query_map;

use super::dto::{ScreenRow, Screening, TrackedRequest};
use super::screener::{self, Answers, CHILD, Document};
use crate::catalog::dto::Localized;
use crate::citizen::pages::RatingForm;
use crate::domain::curp::Date;
use crate::domain::eligibility::{Facts, Question, Verdict, evaluate};
use crate::eligibility::explain::{self, status_name};
use crate::i18n::*;
use crate::pages::ErrorMessage;
use crate::staff::form_state::{
    CsrfField, Field, FormState, Notice, field_message, use_form_state,
};
use crate::staff::pages::NoticeBox;
use crate::tracking::pages::reason_name;

#[component]
pub fn TrackPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let found = match &state.notice {
        Some(Notice::Tracked(t)) => Some((**t).clone()),
        _ => None,
    };
    view! {
        <h1>{t!(i18n, track_title)}</h1>
        <p class="lead">{t!(i18n, track_intro)}</p>
        <NoticeBox state=state.clone() />
        {found.map(|t| view! { <Tracked t state=state.clone() /> })}
        <form method="post" action="/seguimiento" class="stack" novalidate>
            <CsrfField />
            <Field name="folio" label=t_string!(i18n, track_folio).to_owned() autocomplete="off"
                hint=t_string!(i18n, track_folio_hint).to_owned() state=state.clone() />
            <Field name="birth_date" label=t_string!(i18n, track_birth_date).to_owned() kind="date"
                autocomplete="bday" state=state.clone() />
            <button type="submit">{t!(i18n, track_submit)}</button>
        </form>
    }
}

#[component]
fn Tracked(t: TrackedRequest, state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let status = status_name(i18n, &t.status);
    let rate = t.rating_pass.clone().filter(|_| t.can_rate).map(|pass| {
        view! {
            <h3>{t!(i18n, feedback_title)}</h3>
            <RatingForm action="/seguimiento/opinion" folio=t.folio.clone() pass=Some(pass) state />
        }
    });
    let rated = t.rating.map(|n| view! { <p class="rated">{t_string!(i18n, feedback_given, rating = n).to_string()}</p> });
    view! {
        <section class="tracked" aria-labelledby="tracked-title" data-folio=t.folio.clone()>
            <h2 id="tracked-title">{t.program.get(locale).to_owned()} " · " <code>{t.folio.clone()}</code></h2>
            <dl>
                <dt>{t!(i18n, track_status)}</dt>
                <dd class="status" data-status=t.status.clone()>{status}</dd>
                <dt>{t!(i18n, track_agency)}</dt>
                <dd>{t.agency.get(locale).to_owned()}</dd>
                <dt>{t!(i18n, track_requested)}</dt>
                <dd>{t.requested_on.to_string()}</dd>
                <dt>{t!(i18n, track_due)}</dt>
                <dd>{t.due_on.to_string()}</dd>
            </dl>
            {t.supervised.then(|| view! { <p class="notice supervised">{t!(i18n, track_supervised)}</p> })}
            {(t.overdue && !t.supervised).then(|| view! { <p class="notice">{t!(i18n, track_overdue)}</p> })}
            <h3>{t!(i18n, track_history)}</h3>
            <ol class="steps">
                {t.steps.into_iter().map(|s| view! {
                    <li>
                        <time datetime=s.on.to_string()>{s.on.to_string()}</time> " · "
                        <strong>{status_name(i18n, &s.status)}</strong> " · "
                        {reason_name(i18n, &s.reason)}
                    </li>
                }).collect_view()}
            </ol>
            {rated}
            {rate}
        </section>
    }
}

/// `/revisa`: the anonymous eligibility check. Choose a life event (links, no JavaScript
/// needed), then answer a few questions at a time (form posts carrying the earlier answers in
/// hidden fields); each program says likely eligible, not eligible or that information is
/// missing, with the reasons and the documents to bring. Hydrated, the verdicts follow the
/// answers while they are typed (the same evaluator, in the browser).
#[component]
pub fn ScreenerPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let query = use_query_map();
    let posted = match &state.notice {
        Some(Notice::Screened(s)) => Some((**s).clone()),
        _ => None,
    };
    let data = Resource::new(
        move || {
            query.with(|q| {
                (
                    q.get("evento").unwrap_or_default(),
                    q.get("para").unwrap_or_default(),
                )
            })
        },
        |(event, para)| super::api::screening_start(event, para),
    );
    view! {
        <h1>{t!(i18n, screen_title)}</h1>
        <p class="lead">{t!(i18n, screen_intro)}</p>
        {match posted {
            Some(s) => view! { <Step s state=state.clone() /> }.into_any(),
            None => view! {
                <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(start) => match start.screening {
                                Some(s) => view! { <Step s state=FormState::default() /> }.into_any(),
                                None => view! { <EventChoice events=start.events /> }.into_any(),
                            },
                            Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        }
                    })}
                </Suspense>
            }
            .into_any(),
        }}
    }
}

#[component]
fn EventChoice(events: Vec<(String, Localized)>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <h2>{t!(i18n, screen_choose)}</h2>
        <ul class="life-events">
            {events.into_iter().map(|(code, label)| view! {
                <li><a class="choice" href=format!("/revisa?evento={code}") data-event=code.clone()>{label.get(locale).to_owned()}</a></li>
            }).collect_view()}
        </ul>
    }
}

fn verdict_text(i18n: I18nContext<Locale>, v: Verdict) -> String {
    match v {
        Verdict::Eligible => t_string!(i18n, screen_likely),
        Verdict::NotEligible => t_string!(i18n, screen_not),
        Verdict::NeedsInformation => t_string!(i18n, screen_needs),
    }
    .to_owned()
}

fn document_name(i18n: I18nContext<Locale>, d: Document) -> String {
    match d {
        Document::Identity => t_string!(i18n, doc_identity),
        Document::ProofOfAddress => t_string!(i18n, doc_proof_of_address),
        Document::ResidenceCertificate => t_string!(i18n, doc_residence_certificate),
        Document::IncomeStatement => t_string!(i18n, doc_income_statement),
        Document::ChildrenBirthCertificates => t_string!(i18n, doc_children_birth_certificates),
        Document::SchoolCertificate => t_string!(i18n, doc_school_certificate),
        Document::DisabilityCertificate => t_string!(i18n, doc_disability_certificate),
        Document::EmploymentRecord => t_string!(i18n, doc_employment_record),
        Document::MedicalCertificate => t_string!(i18n, doc_medical_certificate),
        Document::SocialSecurityStatement => t_string!(i18n, doc_social_security_statement),
        Document::InstitutionReferral => t_string!(i18n, doc_institution_referral),
        Document::ProviderLostRecord => t_string!(i18n, doc_provider_lost_record),
    }
    .to_owned()
}

/// One step: the questions still open (a form), then every program with its verdict so far.
#[component]
fn Step(s: Screening, state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let today = s.today;
    // The answers so far plus what is being typed: the verdicts below follow them.
    let answers = RwSignal::new(s.answers.clone());
    let facts = Memo::new(move |_| answers.with(|a| screener::facts(a, today).0));
    let done = s.questions.is_empty();
    let hidden = s.answers.hidden();
    let event = s.event.clone();
    let questions = s
        .questions
        .iter()
        .map(|q| question_field(i18n, *q, &s.boroughs, &state, answers))
        .collect_view();
    let later = s.later;
    let others = (!s.others.is_empty()).then(|| {
        let names = s
            .others
            .iter()
            .map(|(_, n)| n.get(locale).to_owned())
            .collect::<Vec<_>>()
            .join(", ");
        let (href, text) = if s.for_child {
            (format!("/revisa?evento={event}"), t_string!(i18n, screen_for_self).to_owned())
        } else {
            (format!("/revisa?evento={event}&para={CHILD}"), t_string!(i18n, screen_for_child).to_owned())
        };
        view! { <p class="others">{t!(i18n, screen_others)} " " {names} ". " <a href=href>{text}</a></p> }
    });
    let offices = s.offices.clone();
    view! {
        <section class="screening" aria-labelledby="screening-title" data-event=s.event.clone() data-done=done.to_string()>
            <h2 id="screening-title">
                {s.label.get(locale).to_owned()}
                {s.for_child.then(|| view! { " · " {t!(i18n, screen_about_child)} })}
            </h2>
            <NoticeBox state=state.clone() />
            {(!done).then(|| view! {
                <form method="post" action="/revisa" class="stack questions" novalidate>
                    <CsrfField />
                    {hidden.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v /> }).collect_view()}
                    {questions}
                    {(later > 0).then(|| view! { <p class="hint">{t_string!(i18n, screen_later, count = later).to_string()}</p> })}
                    <button type="submit">{t!(i18n, screen_next)}</button>
                </form>
            })}
            <h3>{move || if done { t_string!(i18n, screen_result).to_owned() } else { t_string!(i18n, screen_so_far).to_owned() }}</h3>
            {done.then(|| view! { <p class="hint print-hint">{t!(i18n, screen_print)}</p> })}
            <div class="programs">
                {s.rows.into_iter().map(|row| program_result(i18n, row, facts, today)).collect_view()}
            </div>
            {others}
            {(!offices.is_empty()).then(|| view! {
                <h3>{t!(i18n, screen_offices)}</h3>
                <ul class="offices">
                    {offices.into_iter().map(|o| view! {
                        <li>
                            <strong>{o.name}</strong>
                            <br />{o.address.unwrap_or_else(|| t_string!(i18n, screen_address_unpublished).to_owned())}
                            {o.hours.map(|h| view! { <br />{h} })}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <p><a href="/revisa">{t!(i18n, screen_again)}</a></p>
        </section>
    }
}

fn program_result(
    i18n: I18nContext<Locale>,
    row: ScreenRow,
    facts: Memo<Facts>,
    today: Date,
) -> impl IntoView {
    let locale = i18n.get_locale_untracked();
    let rule = row.rule.clone();
    let evaluation = Memo::new(move |_| facts.with(|f| evaluate(&rule, f, today)));
    let heading = format!("programa-{}", row.code);
    let labelled = heading.clone();
    view! {
        <article class="program-eval" aria-labelledby=labelled data-program=row.code.clone()
            data-verdict=move || evaluation.get().verdict.code()>
            <h4 id=heading>{row.name.get(locale).to_owned()}</h4>
            <p class="meta">{row.agency.get(locale).to_owned()}</p>
            {(!row.verified).then(|| view! { <p class="badge unverified">{t!(i18n, program_not_verified)}</p> })}
            <p class=move || format!("verdict {}", evaluation.get().verdict.code().replace('_', "-")) role="status">
                {move || verdict_text(i18n, evaluation.get().verdict)}
            </p>
            <ul class="criteria">
                {move || evaluation.get().criteria.into_iter().map(|c| {
                    view! { <li class=explain::outcome_class(c.outcome)>{explain::sentence(i18n, &c)}</li> }
                }).collect_view()}
            </ul>
            <p><strong>{t!(i18n, program_benefit)}</strong> ": " {row.benefit.get(locale).to_owned()}</p>
            <details>
                <summary>{t!(i18n, screen_documents)}</summary>
                <ul>{row.documents.into_iter().map(|d| view! { <li>{document_name(i18n, d)}</li> }).collect_view()}</ul>
            </details>
        </article>
    }
}

/// The input of one question, its error, and "I don't know". Typing updates `answers`.
fn question_field(
    i18n: I18nContext<Locale>,
    q: Question,
    boroughs: &[(String, String)],
    state: &FormState,
    answers: RwSignal<Answers>,
) -> AnyView {
    let set = move |field: String, value: String| {
        answers.update(|a| {
            if value.trim().is_empty() {
                a.values.remove(&field);
            } else {
                a.values.insert(field, value.trim().to_owned());
            }
        });
    };
    let field = screener::field(q);
    let skip_id = format!("skip-{field}");
    let one = |name: String, label: String, hint: Option<String>, control: AnyView| {
        let error = state.error(&name);
        let invalid = error.is_some();
        let error_id = format!("q-{name}-error");
        view! {
            <div class="field" class:invalid=invalid>
                <label for=format!("q-{name}")>{label}</label>
                {hint.map(|h| view! { <p class="hint">{h}</p> })}
                {control}
                {error.map(|code| view! { <p class="field-error" id=error_id>{field_message(i18n, &code)}</p> })}
            </div>
        }
    };
    let text_input = |name: &str, mode: &'static str| {
        let n = name.to_owned();
        let described = state.error(name).map(|_| format!("q-{name}-error"));
        view! {
            <input id=format!("q-{name}") name=name.to_owned() inputmode=mode autocomplete="off"
                value=state.value(name) aria-invalid=described.as_ref().map(|_| "true") aria-describedby=described
                on:input=move |ev| set(n.clone(), event_target_value(&ev)) />
        }
        .into_any()
    };
    let select = |name: &str, options: Vec<(String, String)>| {
        let n = name.to_owned();
        let chosen = state.value(name);
        let described = state.error(name).map(|_| format!("q-{name}-error"));
        view! {
            <select id=format!("q-{name}") name=name.to_owned() aria-invalid=described.as_ref().map(|_| "true")
                aria-describedby=described on:change=move |ev| set(n.clone(), event_target_value(&ev))>
                <option value="">{t!(i18n, choose)}</option>
                {options.into_iter().map(|(v, label)| {
                    let selected = v == chosen;
                    view! { <option value=v selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        }
        .into_any()
    };
    let yes_no = || {
        vec![
            ("yes".to_owned(), t_string!(i18n, value_yes).to_owned()),
            ("no".to_owned(), t_string!(i18n, value_no).to_owned()),
        ]
    };
    let body = match q {
        Question::BirthDate => one(field.clone(), t_string!(i18n, q_age).to_owned(), None, text_input("age", "numeric")).into_any(),
        Question::Sex => one(
            field.clone(),
            t_string!(i18n, q_sex).to_owned(),
            None,
            select("sex", vec![
                ("M".to_owned(), t_string!(i18n, sex_m).to_owned()),
                ("H".to_owned(), t_string!(i18n, sex_h).to_owned()),
                ("X".to_owned(), t_string!(i18n, sex_x).to_owned()),
            ]),
        )
        .into_any(),
        Question::Residence | Question::Borough => {
            let mut options: Vec<(String, String)> = boroughs.to_vec();
            options.push((screener::OUTSIDE.to_owned(), t_string!(i18n, q_outside).to_owned()));
            one(field.clone(), t_string!(i18n, q_borough).to_owned(), None, select("borough", options)).into_any()
        }
        Question::ResidenceSince => one(field.clone(), t_string!(i18n, q_residence_years).to_owned(), None, text_input("residence_years", "numeric")).into_any(),
        Question::Curp => one(field.clone(), t_string!(i18n, q_has_curp).to_owned(), None, select("has_curp", yes_no())).into_any(),
        Question::HouseholdIncome => view! {
            {one("household_income".to_owned(), t_string!(i18n, q_household_income).to_owned(),
                Some(t_string!(i18n, q_household_income_hint).to_owned()), text_input("household_income", "numeric"))}
            {one("household_size".to_owned(), t_string!(i18n, q_household_size).to_owned(), None, text_input("household_size", "numeric"))}
        }
        .into_any(),
        Question::Children => one(field.clone(), t_string!(i18n, q_children).to_owned(),
            Some(t_string!(i18n, q_children_hint).to_owned()), text_input("children", "text")).into_any(),
        Question::Fact(kind) => {
            let label = crate::registry::pages::fact_name(i18n, kind.code());
            let control = match kind.choices() {
                Some(choices) => select(
                    &field,
                    choices
                        .iter()
                        .map(|c| ((*c).to_owned(), crate::registry::pages::fact_value(i18n, kind.code(), c)))
                        .collect(),
                ),
                None => text_input(&field, "decimal"),
            };
            one(field.clone(), label, None, control).into_any()
        }
    };
    view! {
        <fieldset class="question" data-question=field.clone()>
            {body}
            <div class="field checkbox">
                <input type="checkbox" id=skip_id.clone() name="skip" value=field.clone() />
                <label for=skip_id>{t!(i18n, screen_skip)}</label>
            </div>
        </fieldset>
    }
    .into_any()
}
