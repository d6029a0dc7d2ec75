//! `/oficina/persona/{id}/que-paso`: choose life events, see every program that fits with the
//! reasons, answer the missing questions, request several programs at once; and the receipt.
//!
//! Plain forms that work without JavaScript (the life events are a GET form; answers and the
//! request post to the page). Once hydrated, typing an answer evaluates the rules again in the
//! browser before it is saved.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api;
use super::dto::{Block, Bundle, BundleRow};
use super::explain;
use super::forms::OVERRIDE_REASONS;
use crate::domain::eligibility::{Facts, Question, Verdict, evaluate};
use crate::domain::facts::FactKind;
use crate::i18n::*;
use crate::registry::pages::fact_value;
use crate::staff::form_state::{CsrfField, FormState, field_message, use_form_state};
use crate::staff::pages::{NoticeBox, failure, id_param};
use leptos_i18n::I18nContext;

fn events_param() -> Memo<Vec<String>> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get_all("evento").unwrap_or_default()))
}

fn override_name(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "documents_pending" => t_string!(i18n, override_documents_pending),
        "emergency" => t_string!(i18n, override_emergency),
        "data_outdated" => t_string!(i18n, override_data_outdated),
        _ => t_string!(i18n, override_agency_instruction),
    }
    .to_owned()
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Eligible => "verdict eligible",
        Verdict::NotEligible => "verdict not-eligible",
        Verdict::NeedsInformation => "verdict needs-information",
    }
}

/// The answer form of one fact question for one beneficiary. Typing updates `facts` (the
/// evaluation above changes at once when hydrated); posting records the fact.
fn answer_form(
    i18n: I18nContext<Locale>,
    person: i32,
    program: &str,
    beneficiary: i32,
    kind: FactKind,
    events: Vec<String>,
    facts: RwSignal<Vec<(i32, Facts)>>,
    state: &FormState,
) -> AnyView {
    // One id per program card: two programs may ask the same question.
    let input_id = format!("answer-{program}-{beneficiary}-{}", kind.code());
    // The error of a refused answer, next to the question it answered.
    let error = (state.value("person") == beneficiary.to_string()
        && state.value("kind") == kind.code())
    .then(|| state.error("value"))
    .flatten();
    let error_id = format!("{input_id}-error");
    let described = error.as_ref().map(|_| error_id.clone());
    let invalid = error.as_ref().map(|_| "true");
    let label = crate::registry::pages::fact_name(i18n, kind.code());
    let update = move |value: String| {
        facts.update(|all| {
            if let Some((_, f)) = all.iter_mut().find(|(id, _)| *id == beneficiary) {
                match kind.canonical(&value) {
                    Ok(v) => {
                        f.values.insert(kind, v);
                    }
                    Err(_) => {
                        f.values.remove(&kind);
                    }
                }
            }
        });
    };
    let control = match kind.choices() {
        Some(choices) => {
            let options = choices
                .iter()
                .map(|c| view! { <option value=*c>{fact_value(i18n, kind.code(), c)}</option> })
                .collect_view();
            view! {
                <select id=input_id.clone() name="value" aria-invalid=invalid aria-describedby=described.clone()
                    on:change=move |ev| update(event_target_value(&ev))>
                    <option value="">{t!(i18n, choose)}</option>
                    {options}
                </select>
            }
            .into_any()
        }
        None => view! {
            <input id=input_id.clone() name="value" inputmode="decimal" aria-invalid=invalid aria-describedby=described.clone()
                on:input=move |ev| update(event_target_value(&ev)) />
        }
        .into_any(),
    };
    view! {
        <form method="post" action=super::forms::bundle_path(person, &events) class="answer">
            <CsrfField />
            <input type="hidden" name="do" value="answer" />
            {events.iter().map(|e| view! { <input type="hidden" name="evento" value=e.clone() /> }).collect_view()}
            <input type="hidden" name="person" value=beneficiary.to_string() />
            <input type="hidden" name="kind" value=kind.code() />
            <label for=input_id>{label}</label>
            {control}
            {error.map(|code| view! { <p class="field-error" id=error_id>{field_message(i18n, &code)}</p> })}
            <button type="submit">{t!(i18n, bundle_answer)}</button>
        </form>
    }
    .into_any()
}

fn question_view(
    i18n: I18nContext<Locale>,
    bundle_person: i32,
    row: &BundleRow,
    q: Question,
    events: &[String],
    facts: RwSignal<Vec<(i32, Facts)>>,
    state: &FormState,
) -> AnyView {
    let about = explain::question(i18n, q);
    match q {
        Question::Fact(kind) => answer_form(i18n, bundle_person, &row.code, row.beneficiary_id, kind, events.to_vec(), facts, state),
        Question::Children | Question::HouseholdIncome => view! {
            <p>{about} " · " <a href=format!("/oficina/persona/{bundle_person}/familia")>{t!(i18n, bundle_add_children)}</a></p>
        }
        .into_any(),
        _ => view! {
            <p>{about} " · " <a href=format!("/oficina/persona/{}/editar", row.beneficiary_id)>{t!(i18n, bundle_edit_profile)}</a></p>
        }
        .into_any(),
    }
}

fn program_card(
    i18n: I18nContext<Locale>,
    bundle: &Bundle,
    row: BundleRow,
    facts: RwSignal<Vec<(i32, Facts)>>,
    events: &[String],
    state: FormState,
) -> impl IntoView {
    let today = bundle.today;
    let rule = row.rule.clone();
    let beneficiary = row.beneficiary_id;
    // The server's evaluation on first render; the browser's as answers are typed.
    let evaluation = Memo::new(move |_| {
        facts.with(|all| {
            let f = all
                .iter()
                .find(|(id, _)| *id == beneficiary)
                .map(|(_, f)| f.clone())
                .unwrap_or_default();
            evaluate(&rule, &f, today)
        })
    });
    let name = row.name.get(i18n.get_locale()).to_owned();
    let heading = format!("program-{}-{}", row.beneficiary_id, row.code);
    let heading_ref = heading.clone();
    let block = row.block.clone().map(|b| match b {
        Block::AlreadyOpen { folio, status } => view! {
            <p class="blocked">{t_string!(i18n, bundle_blocked_open, folio = folio.clone(), status = explain::status_name(i18n, &status)).to_string()}</p>
        }
        .into_any(),
        Block::Incompatible { with } => view! {
            <p class="blocked">{t_string!(i18n, bundle_blocked_incompatible, program = with.clone()).to_string()}</p>
        }
        .into_any(),
    });
    let questions_events = events.to_vec();
    let person = bundle.person_id;
    let row_for_questions = row.clone();
    let questions = row.evaluation.questions.clone();
    view! {
        <article class="program-eval" aria-labelledby=heading_ref data-program=row.code.clone() data-beneficiary=row.beneficiary_id>
            <h3 id=heading>{name} " " <span class="code">{row.code.clone()}</span></h3>
            <p class="meta">
                {row.agency.clone()} " · " {t!(i18n, bundle_for)} " " <strong>{row.beneficiary_name.clone()}</strong>
                " · " {t_string!(i18n, bundle_rule_version, version = row.rule_version).to_string()}
                " · " {t_string!(i18n, bundle_days, days = row.sla_days).to_string()}
            </p>
            {(!row.verified).then(|| view! { <p class="badge unverified">{t!(i18n, program_not_verified)}</p> })}
            <p class=move || verdict_class(evaluation.get().verdict) role="status">
                {move || explain::verdict(i18n, evaluation.get().verdict)}
            </p>
            {block}
            <h4>{t!(i18n, bundle_criteria)}</h4>
            <ul class="criteria">
                {move || evaluation.get().criteria.into_iter().map(|c| {
                    let class = explain::outcome_class(c.outcome);
                    view! { <li class=class>{explain::sentence(i18n, &c)}</li> }
                }).collect_view()}
            </ul>
            // The questions the saved facts leave open: they stay on the page while an answer is
            // typed (the verdict above changes at once) until the answer is saved.
            {(!questions.is_empty()).then(|| {
                view! {
                    <h4>{t!(i18n, bundle_questions)}</h4>
                    <p class="hint">{t!(i18n, bundle_answer_hint)}</p>
                    <div class="questions">
                        {questions.into_iter().map(|q| question_view(i18n, person, &row_for_questions, q, &questions_events, facts, &state)).collect_view()}
                    </div>
                }
            })}
        </article>
    }
}

fn request_form(
    i18n: I18nContext<Locale>,
    bundle: &Bundle,
    events: &[String],
    state: &FormState,
) -> impl IntoView {
    let error = state
        .error("pick")
        .or_else(|| state.error("override_reason"));
    let picks = bundle
        .rows
        .iter()
        .map(|row| {
            let value = format!("{}:{}", row.beneficiary_id, row.program_id);
            let id = format!("pick-{}-{}", row.beneficiary_id, row.program_id);
            let allowed = row.block.is_none()
                && (row.evaluation.verdict == Verdict::Eligible || bundle.can_override);
            let label = format!(
                "{} ({}) — {}",
                row.name.get(i18n.get_locale()).to_owned(),
                row.beneficiary_name,
                explain::verdict(i18n, row.evaluation.verdict)
            );
            view! {
                <div class="field checkbox">
                    <input type="checkbox" id=id.clone() name="pick" value=value disabled=!allowed data-program=row.code.clone() data-beneficiary=row.beneficiary_id />
                    <label for=id>{label}</label>
                </div>
            }
        })
        .collect_view();
    let chosen_reason = state.value("override_reason");
    let override_field = bundle.can_override.then(|| {
        let options = OVERRIDE_REASONS
            .iter()
            .map(|r| {
                let selected = *r == chosen_reason;
                view! { <option value=*r selected=selected>{override_name(i18n, r)}</option> }
            })
            .collect_view();
        view! {
            <div class="field">
                <label for="f-override_reason">{t!(i18n, bundle_override)}</label>
                <select id="f-override_reason" name="override_reason">
                    <option value="">{t!(i18n, bundle_override_none)}</option>
                    {options}
                </select>
            </div>
        }
    });
    view! {
        <section aria-labelledby="request-title" class="request">
            <h2 id="request-title">{t!(i18n, bundle_request_title)}</h2>
            <p class="hint">{t!(i18n, bundle_request_hint)}</p>
            <form method="post" action=super::forms::bundle_path(bundle.person_id, events) class="stacked">
                <CsrfField />
                <input type="hidden" name="do" value="request" />
                {events.iter().map(|e| view! { <input type="hidden" name="evento" value=e.clone() /> }).collect_view()}
                <fieldset aria-describedby=error.as_ref().map(|_| "f-pick-error")>
                    <legend>{t!(i18n, field_pick)}</legend>
                    {picks}
                </fieldset>
                {error.map(|code| view! { <p class="field-error" id="f-pick-error" role="alert">{field_message(i18n, &code)}</p> })}
                {override_field}
                <button type="submit">{t!(i18n, bundle_request)}</button>
            </form>
        </section>
    }
}

/// `/oficina/persona/{id}/que-paso?evento=…`
#[component]
pub fn BundlePage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let events = events_param();
    let state = use_form_state();
    let bundle = Resource::new(
        move || (id.get(), events.get()),
        |(id, events)| api::life_event_bundle(id, events.join(",")),
    );
    view! {
        <h1>{t!(i18n, events_title)}</h1>
        <p><a href=move || format!("/oficina/persona/{}", id.get())>{t!(i18n, edit_back)}</a></p>
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    let b = match bundle.await {
                        Ok(b) => b,
                        Err(e) => return failure(e),
                    };
                    let chosen: Vec<String> = b.events.iter().filter(|e| e.chosen).map(|e| e.code.clone()).collect();
                    let facts = RwSignal::new(b.facts.clone());
                    let choices = b.events.iter().map(|e| {
                        let input = format!("event-{}", e.code);
                        let label = e.label.get(i18n.get_locale()).to_owned();
                        view! {
                            <div class="field checkbox">
                                <input type="checkbox" id=input.clone() name="evento" value=e.code.clone() checked=e.chosen />
                                <label for=input>{label}</label>
                            </div>
                        }
                    }).collect_view();
                    let cards = b.rows.clone().into_iter().map(|row| program_card(i18n, &b, row, facts, &chosen, state.clone())).collect_view();
                    let request = (!b.rows.is_empty()).then(|| request_form(i18n, &b, &chosen, &state));
                    view! {
                        <p class="lead">{b.person_name.clone()}</p>
                        <form method="get" action=format!("/oficina/persona/{}/que-paso", b.person_id) class="events">
                            <fieldset>
                                <legend>{t!(i18n, events_intro)}</legend>
                                <div class="event-choices">{choices}</div>
                            </fieldset>
                            <button type="submit">{t!(i18n, events_show)}</button>
                        </form>
                        {chosen.is_empty().then(|| view! { <p class="hint">{t!(i18n, events_none_chosen)}</p> })}
                        <section class="bundle" aria-live="polite">{cards}</section>
                        {request}
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

fn ids_param() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get("ids").unwrap_or_default()))
}

/// `/oficina/persona/{id}/recibo?ids=…`: the printable receipt of the requests just made.
#[component]
pub fn ReceiptPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let ids = ids_param();
    let receipt = Resource::new(
        move || (id.get(), ids.get()),
        |(id, ids)| api::request_receipt(id, ids),
    );
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let r = match receipt.await {
                    Ok(r) => r,
                    Err(e) => return failure(e),
                };
                let lines = r.lines.into_iter().map(|l| {
                    let program = l.program.get(i18n.get_locale()).to_owned();
                    view! {
                        <tr>
                            <td><code class="folio">{l.folio}</code></td>
                            <td>{program}</td>
                            <td>{l.agency}</td>
                            <td>{l.beneficiary}</td>
                            <td>{l.due_on}</td>
                            <td>{explain::status_name(i18n, &l.status)}</td>
                        </tr>
                    }
                }).collect_view();
                view! {
                    <article class="receipt">
                        <h1>{t!(i18n, receipt_title)}</h1>
                        <p class="no-print">
                            <a href=format!("/oficina/persona/{}", r.person_id)>{t!(i18n, edit_back)}</a>
                        </p>
                        <p><strong>{r.applicant}</strong></p>
                        <dl class="profile">
                            <dt>{t!(i18n, receipt_at)}</dt><dd>{r.requested_at} " UTC"</dd>
                            <dt>{t!(i18n, receipt_office)}</dt><dd>{r.office.unwrap_or_default()}</dd>
                        </dl>
                        <table class="people">
                            <thead><tr>
                                <th scope="col">{t!(i18n, receipt_folio)}</th>
                                <th scope="col">{t!(i18n, receipt_program)}</th>
                                <th scope="col">{t!(i18n, receipt_agency)}</th>
                                <th scope="col">{t!(i18n, receipt_beneficiary)}</th>
                                <th scope="col">{t!(i18n, receipt_due)}</th>
                                <th scope="col">{t!(i18n, receipt_status)}</th>
                            </tr></thead>
                            <tbody>{lines}</tbody>
                        </table>
                        <p>{t!(i18n, receipt_intro)}</p>
                    </article>
                }.into_any()
            })}
        </Suspense>
    }
}

fn outreach_heading(i18n: I18nContext<Locale>, kind: &str) -> String {
    match kind {
        "turning_68" => t_string!(i18n, outreach_turning_68),
        "turning_6" => t_string!(i18n, outreach_turning_6),
        _ => t_string!(i18n, outreach_provider_lost),
    }
    .to_owned()
}

/// `/oficina/alcance`: people of the office's borough a program should reach soon, each with
/// a link to open the matching life event with them.
#[component]
pub fn OutreachPage() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| api::office_outreach());
    view! {
        <h1>{t!(i18n, outreach_title)}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => {
                        let intro = t_string!(i18n, outreach_intro, borough = o.borough.clone(), from = o.today.to_string(), until = o.until.to_string()).to_string();
                        view! {
                            <p class="lead">{intro}</p>
                            {o.groups.into_iter().map(|g| {
                                let heading = outreach_heading(i18n, &g.kind);
                                let id = format!("outreach-{}", g.kind);
                                let more = (g.total > g.people.len()).then(|| t_string!(i18n, outreach_more, shown = g.people.len(), total = g.total).to_string());
                                let event = g.event.clone();
                                view! {
                                    <section aria-labelledby=id.clone() data-group=g.kind.clone() data-total=g.total>
                                        <h2 id=id.clone()>{heading} " · " <span class="code">{g.program.clone()}</span> " (" {g.total} ")"</h2>
                                        {if g.people.is_empty() {
                                            view! { <p>{t!(i18n, outreach_nobody)}</p> }.into_any()
                                        } else {
                                            view! {
                                                <table>
                                                    <thead><tr>
                                                        <th scope="col">{t!(i18n, outreach_person)}</th>
                                                        <th scope="col">{t!(i18n, field_birth_date)}</th>
                                                        <th scope="col">{t!(i18n, outreach_on)}</th>
                                                        <th scope="col"><span class="visually-hidden">{t!(i18n, outreach_open)}</span></th>
                                                    </tr></thead>
                                                    <tbody>
                                                        {g.people.into_iter().map(|p| {
                                                            let open = super::forms::bundle_path(p.id, std::slice::from_ref(&event));
                                                            view! {
                                                                <tr>
                                                                    <td><a href=format!("/oficina/persona/{}", p.id)>{p.name}</a></td>
                                                                    <td>{p.birth_date.to_string()}</td>
                                                                    <td>{p.on.map(|d| d.to_string()).unwrap_or_default()}</td>
                                                                    <td><a href=open>{t!(i18n, outreach_open)}</a></td>
                                                                </tr>
                                                            }
                                                        }).collect_view()}
                                                    </tbody>
                                                </table>
                                            }.into_any()
                                        }}
                                        {more.map(|m| view! { <p class="hint">{m}</p> })}
                                    </section>
                                }
                            }).collect_view()}
                        }.into_any()
                    }
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}
