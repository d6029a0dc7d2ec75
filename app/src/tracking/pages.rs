//! `/agencia/solicitud/{id}` (the decision screen), the agency queue shown on `/agencia`, the
//! escalations of supervisors and agency heads, and `/oficina/persona/{id}/historial` (the
//! person's timeline with notes and withdrawals). Plain forms that work without JavaScript.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::hooks::use_query_map;

use super::api;
use super::dto::{
    AgencyQueue, Escalations, Move, NoteLine, QueueFilter, QueueRow, ReferTarget, ReferralRow,
    Referrals, Timeline, Workload,
};
use super::forms::NOTE_MAX_CHARS;
use crate::domain::referral::{DeclineReason, ReferReason};
use crate::eligibility::explain;
use crate::i18n::*;
use crate::staff::form_state::{CsrfField, FormState, field_message, use_form_state};
use crate::staff::pages::{NoticeBox, failure, id_param};

/// The reason code in words.
pub fn reason_name(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "eligible" => t_string!(i18n, why_eligible),
        "override" => t_string!(i18n, why_override),
        "referral_accepted" => t_string!(i18n, why_referral_accepted),
        "imported" => t_string!(i18n, why_imported),
        "review_started" => t_string!(i18n, why_review_started),
        "documents_complete" => t_string!(i18n, why_documents_complete),
        "meets_requirements" => t_string!(i18n, why_meets_requirements),
        "exception_authorized" => t_string!(i18n, why_exception_authorized),
        "not_eligible" => t_string!(i18n, why_not_eligible),
        "incomplete_documents" => t_string!(i18n, why_incomplete_documents),
        "duplicate_request" => t_string!(i18n, why_duplicate_request),
        "incompatible_program" => t_string!(i18n, why_incompatible_program),
        "no_budget" => t_string!(i18n, why_no_budget),
        "person_request" => t_string!(i18n, why_person_request),
        "no_longer_needed" => t_string!(i18n, why_no_longer_needed),
        "benefit_started" => t_string!(i18n, why_benefit_started),
        "reinstated" => t_string!(i18n, why_reinstated),
        "missing_recertification" => t_string!(i18n, why_missing_recertification),
        "under_investigation" => t_string!(i18n, why_under_investigation),
        "temporary_absence" => t_string!(i18n, why_temporary_absence),
        "death" => t_string!(i18n, why_death),
        "moved_away" => t_string!(i18n, why_moved_away),
        "age_limit" => t_string!(i18n, why_age_limit),
        "falsified_documents" => t_string!(i18n, why_falsified_documents),
        "no_longer_eligible" => t_string!(i18n, why_no_longer_eligible),
        "voluntary_exit" => t_string!(i18n, why_voluntary_exit),
        "program_completed" => t_string!(i18n, why_program_completed),
        _ => return code.to_owned(),
    }
    .to_owned()
}

/// A referral reason in words.
pub fn refer_reason_name(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "employment" => t_string!(i18n, refer_reason_employment),
        "income" => t_string!(i18n, refer_reason_income),
        "health" => t_string!(i18n, refer_reason_health),
        "disability" => t_string!(i18n, refer_reason_disability),
        "violence" => t_string!(i18n, refer_reason_violence),
        "education" => t_string!(i18n, refer_reason_education),
        "care" => t_string!(i18n, refer_reason_care),
        "housing" => t_string!(i18n, refer_reason_housing),
        "food" => t_string!(i18n, refer_reason_food),
        "other" => t_string!(i18n, refer_reason_other),
        _ => return code.to_owned(),
    }
    .to_owned()
}

/// A reason to decline a referral in words.
pub fn decline_reason_name(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "not_eligible" => t_string!(i18n, decline_reason_not_eligible),
        "already_served" => t_string!(i18n, decline_reason_already_served),
        "out_of_scope" => t_string!(i18n, decline_reason_out_of_scope),
        "person_declined" => t_string!(i18n, decline_reason_person_declined),
        "unreachable" => t_string!(i18n, decline_reason_unreachable),
        "no_capacity" => t_string!(i18n, decline_reason_no_capacity),
        _ => return code.to_owned(),
    }
    .to_owned()
}

fn referral_status_name(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "open" => t_string!(i18n, referral_status_open),
        "accepted" => t_string!(i18n, referral_status_accepted),
        "declined" => t_string!(i18n, referral_status_declined),
        _ => return code.to_owned(),
    }
    .to_owned()
}

fn level_name(i18n: I18nContext<Locale>, level: i32) -> String {
    match level {
        0 => String::new(),
        1 => t_string!(i18n, escalation_level_1).to_owned(),
        2 => t_string!(i18n, escalation_level_2).to_owned(),
        _ => t_string!(i18n, escalation_level_3).to_owned(),
    }
}

fn due_text(i18n: I18nContext<Locale>, row: &QueueRow) -> String {
    if row.days_left < 0 {
        t_string!(i18n, queue_overdue_days, days = -row.days_left).to_string()
    } else {
        t_string!(i18n, queue_days_left, days = row.days_left).to_string()
    }
}

/// Rows of a queue or an escalation list.
fn queue_table(i18n: I18nContext<Locale>, rows: Vec<QueueRow>, linked: bool) -> impl IntoView {
    view! {
        <table class="queue">
            <thead><tr>
                <th scope="col">{t!(i18n, queue_folio)}</th>
                <th scope="col">{t!(i18n, queue_person)}</th>
                <th scope="col">{t!(i18n, queue_borough)}</th>
                <th scope="col">{t!(i18n, queue_status)}</th>
                <th scope="col">{t!(i18n, queue_due)}</th>
                <th scope="col">{t!(i18n, queue_escalation)}</th>
                <th scope="col">{t!(i18n, queue_assigned)}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let folio = if linked {
                        view! { <a href=format!("/agencia/solicitud/{}", r.id)><code>{r.folio.clone()}</code></a> }.into_any()
                    } else {
                        view! { <code>{r.folio.clone()}</code> }.into_any()
                    };
                    let class = if r.days_left < 0 { "overdue" } else { "" };
                    view! {
                        <tr class=class data-folio=r.folio.clone()>
                            <td>{folio} " " <span class="code">{r.program.clone()}</span></td>
                            <td>{r.person.clone()}</td>
                            <td>{r.borough.clone()}</td>
                            <td>{explain::status_name(i18n, &r.status)}</td>
                            <td>{r.due_on.to_string()} " · " {due_text(i18n, &r)}</td>
                            <td>{level_name(i18n, r.escalation_level)}</td>
                            <td>{r.assigned_to.clone().unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The filter of the agency queue from the query string.
pub fn queue_filter() -> Memo<QueueFilter> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        QueueFilter {
            program: get("programa"),
            status: get("estado"),
            borough: get("alcaldia"),
            due: get("vence"),
            escalated: get("escalada"),
        }
    })
}

/// The queue section of `/agencia`: filters (a GET form), "take next", and the requests.
pub fn queue_section(
    i18n: I18nContext<Locale>,
    queue: AgencyQueue,
    filter: QueueFilter,
    may_take: bool,
    empty_notice: bool,
) -> impl IntoView {
    let locale = i18n.get_locale();
    let option = move |value: String, label: String, current: &str| {
        let selected = value == current;
        view! { <option value=value selected=selected>{label}</option> }
    };
    let statuses = ["requested", "in_review", "approved", "active", "suspended"];
    // Only a program of the agency (codes are letters and digits: nothing to escape).
    let export = if queue
        .programs
        .iter()
        .any(|(code, _)| *code == filter.program)
    {
        format!("?programa={}", filter.program)
    } else {
        String::new()
    };
    view! {
        <section class="queue" aria-labelledby="queue-title">
            <h2 id="queue-title">{t!(i18n, queue_title)}</h2>
            {may_take.then(|| view! {
                <form method="post" action="/agencia" class="take-next">
                    <CsrfField />
                    <button type="submit">{t!(i18n, queue_take_next)}</button>
                </form>
            })}
            {empty_notice.then(|| view! { <p class="notice" role="status">{t!(i18n, queue_empty)}</p> })}
            <form method="get" action="/agencia" class="filter">
                <label>{t!(i18n, queue_program)} " "
                    <select name="programa">
                        {option(String::new(), t_string!(i18n, queue_all).to_owned(), &filter.program)}
                        {queue.programs.iter().map(|(code, name)| option(code.clone(), format!("{code} · {}", name.get(locale)), &filter.program)).collect_view()}
                    </select>
                </label>
                <label>{t!(i18n, queue_status)} " "
                    <select name="estado">
                        {option(String::new(), t_string!(i18n, queue_pending).to_owned(), &filter.status)}
                        {statuses.iter().map(|s| option((*s).to_owned(), explain::status_name(i18n, s), &filter.status)).collect_view()}
                    </select>
                </label>
                <label>{t!(i18n, queue_borough)} " "
                    <select name="alcaldia">
                        {option(String::new(), t_string!(i18n, queue_all).to_owned(), &filter.borough)}
                        {queue.boroughs.iter().map(|(code, name)| option(code.clone(), name.clone(), &filter.borough)).collect_view()}
                    </select>
                </label>
                <label>{t!(i18n, queue_due)} " "
                    <select name="vence">
                        {option(String::new(), t_string!(i18n, queue_all).to_owned(), &filter.due)}
                        {option("overdue".into(), t_string!(i18n, queue_due_overdue).to_owned(), &filter.due)}
                        {option("week".into(), t_string!(i18n, queue_due_week).to_owned(), &filter.due)}
                    </select>
                </label>
                <label>
                    <input type="checkbox" name="escalada" value="yes" checked=filter.escalated == "yes" />
                    " " {t!(i18n, queue_escalated_only)}
                </label>
                <button type="submit">{t!(i18n, queue_filter)}</button>
            </form>
            <p>{t_string!(i18n, queue_total, total = queue.total).to_string()}</p>
            <p class="export">{t!(i18n, queue_export)} " "
                <a href=format!("/agencia/solicitudes.csv{export}") download>"CSV"</a> " · "
                <a href=format!("/agencia/solicitudes.json{export}") download>"JSON"</a>
            </p>
            {queue_table(i18n, queue.rows, true)}
        </section>
    }
}

/// Open work by status and age, overdue and escalated, and the workload per staff member.
pub fn workload_section(i18n: I18nContext<Locale>, w: Workload, agency: bool) -> impl IntoView {
    view! {
        <section class="workload" aria-labelledby="workload-title">
            <h2 id="workload-title">{t!(i18n, workload_title)}</h2>
            <p class="hint">{t!(i18n, workload_hint)}</p>
            <p>{t_string!(i18n, workload_summary, overdue = w.overdue, escalated = w.escalated).to_string()}</p>
            <table class="workload">
                <thead><tr>
                    <th scope="col">{t!(i18n, queue_status)}</th>
                    <th scope="col">{t!(i18n, workload_age_0)}</th>
                    <th scope="col">{t!(i18n, workload_age_1)}</th>
                    <th scope="col">{t!(i18n, workload_age_2)}</th>
                    <th scope="col">{t!(i18n, workload_age_3)}</th>
                    <th scope="col">{t!(i18n, workload_total)}</th>
                </tr></thead>
                <tbody>
                    {w.rows.into_iter().map(|r| view! {
                        <tr data-status=r.status.clone()>
                            <th scope="row">{explain::status_name(i18n, &r.status)}</th>
                            {r.ages.iter().map(|n| view! { <td>{*n}</td> }).collect_view()}
                            <td>{r.total}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <h3>{t!(i18n, workload_staff)}</h3>
            <p class="hint">{if agency { t!(i18n, workload_staff_agency_hint).into_any() } else { t!(i18n, workload_staff_office_hint).into_any() }}</p>
            {w.unassigned.map(|n| view! { <p data-unassigned=n.to_string()>{t_string!(i18n, workload_unassigned, count = n).to_string()}</p> })}
            <table class="staff-load">
                <thead><tr>
                    <th scope="col">{t!(i18n, field_display_name)}</th>
                    <th scope="col">{t!(i18n, workload_open)}</th>
                    <th scope="col">{t!(i18n, workload_overdue)}</th>
                </tr></thead>
                <tbody>
                    {w.staff.into_iter().map(|s| view! {
                        <tr data-staff-load=s.staff_id.to_string()>
                            <td>{s.name}</td><td>{s.open}</td><td>{s.overdue}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// The escalations a supervisor or agency head answers for.
pub fn escalations_section(
    i18n: I18nContext<Locale>,
    e: Escalations,
    linked: bool,
) -> impl IntoView {
    view! {
        <section class="escalations" aria-labelledby="escalations-title">
            <h2 id="escalations-title">{t!(i18n, escalations_title)}</h2>
            <p>{t_string!(i18n, escalations_total, total = e.total, level = e.level).to_string()}</p>
            {(!e.rows.is_empty()).then(|| queue_table(i18n, e.rows, linked))}
        </section>
    }
}

fn notes_list(i18n: I18nContext<Locale>, notes: Vec<NoteLine>) -> impl IntoView {
    view! {
        <ul class="notes">
            {notes.into_iter().map(|n| view! {
                <li class=if n.restricted { "note restricted" } else { "note" }>
                    <p class="meta">
                        {n.at.clone()} " · " {n.author.clone()} " · " {n.unit.clone()}
                        {n.folio.clone().map(|f| view! { " · " <code>{f}</code> })}
                        {n.restricted.then(|| view! { " · " <strong>{t!(i18n, note_restricted)}</strong> })}
                    </p>
                    <p class="body">{n.body.clone()}</p>
                </li>
            }).collect_view()}
        </ul>
    }
}

fn error_for(i18n: I18nContext<Locale>, state: &FormState, field: &str) -> Option<AnyView> {
    state.error(field).map(|code| {
        view! { <p class="field-error" id=format!("err-{field}")>{field_message(i18n, &code)}</p> }
            .into_any()
    })
}

/// A note textarea (field `name`: `body` for a note of its own, `note` for one attached to a
/// decision or a referral) with its sensitivity choice and their errors.
fn note_fields(
    i18n: I18nContext<Locale>,
    id: String,
    name: &'static str,
    state: &FormState,
    required: bool,
) -> impl IntoView + use<> {
    let sensitivity = state.value("sensitivity");
    view! {
        <label for=id.clone()>{if required { t!(i18n, note_body).into_any() } else { t!(i18n, note_optional).into_any() }}</label>
        <textarea id=id name=name rows=if required { "3" } else { "2" } maxlength=NOTE_MAX_CHARS.to_string() required=required>{state.value(name)}</textarea>
        {error_for(i18n, state, name)}
        <label>{t!(i18n, note_sensitivity)} " "
            <select name="sensitivity">
                <option value="general" selected=sensitivity != "restricted">{t!(i18n, note_general)}</option>
                <option value="restricted" selected=sensitivity == "restricted">{t!(i18n, note_restricted)}</option>
            </select>
        </label>
        {error_for(i18n, state, "sensitivity")}
    }
}

/// One form per move the agency may make now, each with the reasons that move accepts.
fn move_form(
    i18n: I18nContext<Locale>,
    id: i32,
    version: i32,
    m: Move,
    state: &FormState,
) -> impl IntoView + use<> {
    let action = format!("/agencia/solicitud/{id}");
    let select_id = format!("reason-{}", m.to);
    let note_id = format!("note-{}", m.to);
    // Errors belong to the form the person posted.
    let mine = state.value("to") == m.to;
    let empty = FormState::default();
    let shown = if mine { state } else { &empty };
    let chosen = shown.value("reason");
    view! {
        <form method="post" action=action class="decision" data-to=m.to.clone()>
            <CsrfField />
            <input type="hidden" name="to" value=m.to.clone() />
            <input type="hidden" name="version" value=version.to_string() />
            <h3>{explain::status_name(i18n, &m.to)}</h3>
            {error_for(i18n, shown, "to")}
            <label for=select_id.clone()>{t!(i18n, decision_reason)}</label>
            <select id=select_id name="reason" required>
                <option value="">{t!(i18n, decision_choose)}</option>
                {m.reasons.iter().map(|r| {
                    let selected = *r == chosen;
                    view! { <option value=r.clone() selected=selected>{reason_name(i18n, r)}</option> }
                }).collect_view()}
            </select>
            {error_for(i18n, shown, "reason")}
            {note_fields(i18n, note_id, "note", shown, false)}
            <button type="submit">{t!(i18n, decision_record)}</button>
        </form>
    }
}

/// `/agencia/solicitud/{id}`: the minimum data to decide, the evaluation, the history, notes,
/// and the moves the agency may make.
#[component]
pub fn CasePage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let id = id_param();
    let case = Resource::new(move || id.get(), api::load_case);
    view! {
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    match case.await {
                        Ok(c) => {
                            let name = c.program_name.get(i18n.get_locale()).to_owned();
                            // A refused move that has no form here (not offered from this
                            // status) is reported above the forms.
                            let posted = state.value("to");
                            let orphan = (!c.moves.iter().any(|m| m.to == posted))
                                .then(|| error_for(i18n, &state, "to"))
                                .flatten();
                            view! {
                                <h1><code class="folio">{c.folio.clone()}</code> " " {name}</h1>
                                <dl class="case">
                                    <dt>{t!(i18n, case_person)}</dt><dd>{c.person_name.clone()}</dd>
                                    <dt>{t!(i18n, case_age)}</dt><dd>{c.age}</dd>
                                    <dt>{t!(i18n, queue_borough)}</dt><dd>{c.borough.clone()}</dd>
                                    <dt>{t!(i18n, queue_status)}</dt><dd class="status" data-status=c.status.clone()>{explain::status_name(i18n, &c.status)}</dd>
                                    <dt>{t!(i18n, case_requested)}</dt><dd>{c.requested_on.to_string()}</dd>
                                    <dt>{t!(i18n, queue_due)}</dt><dd>{c.due_on.to_string()}</dd>
                                    {(c.escalation_level > 0).then(|| view! { <dt>{t!(i18n, queue_escalation)}</dt><dd>{level_name(i18n, c.escalation_level)}</dd> })}
                                    <dt>{t!(i18n, queue_assigned)}</dt><dd>{c.assigned_to.clone().unwrap_or_else(|| "—".into())}</dd>
                                </dl>
                                <h2>{t_string!(i18n, case_evaluation, version = c.rule_version).to_string()}</h2>
                                <p class="verdict">{explain::verdict(i18n, c.evaluation.verdict)}</p>
                                <ul class="criteria">
                                    {c.evaluation.criteria.iter().map(|cr| view! {
                                        <li class=explain::outcome_class(cr.outcome)>{explain::sentence(i18n, cr)}</li>
                                    }).collect_view()}
                                </ul>
                                {(!c.moves.is_empty()).then(|| view! { <h2>{t!(i18n, decision_title)}</h2> })}
                                {orphan}
                                <div class="moves">
                                    {c.moves.clone().into_iter().map(|m| move_form(i18n, c.id, c.version, m, &state)).collect_view()}
                                </div>
                                <h2>{t!(i18n, case_history)}</h2>
                                <ol class="history">
                                    {c.history.iter().map(|h| view! {
                                        <li>
                                            {h.at.clone()} " · "
                                            {h.from.as_deref().map(|f| format!("{} → ", explain::status_name(i18n, f)))}
                                            <strong>{explain::status_name(i18n, &h.to)}</strong>
                                            " · " {reason_name(i18n, &h.reason)}
                                            {h.actor.clone().map(|a| format!(" · {a}"))}
                                            {h.unit.clone().map(|u| format!(" ({u})"))}
                                        </li>
                                    }).collect_view()}
                                </ol>
                                <h2>{t!(i18n, notes_title)}</h2>
                                {notes_list(i18n, c.notes.clone())}
                                {(!c.assignable.is_empty()).then(|| assign_form(i18n, c.id, c.assignable.clone(), &state))}
                                {(!c.refer_to.is_empty()).then(|| refer_form(i18n, format!("/agencia/solicitud/{}", c.id), c.refer_to.clone(), &state))}
                                <p><a href="/agencia">{t!(i18n, back_to_queue)}</a></p>
                            }
                            .into_any()
                        }
                        Err(e) => failure(e),
                    }
                })
            }}
        </Suspense>
    }
}

/// An agency head gives the request to a member of the agency's staff (`do=assign`).
fn assign_form(
    i18n: I18nContext<Locale>,
    id: i32,
    staff: Vec<(i32, String)>,
    state: &FormState,
) -> impl IntoView + use<> {
    let empty = FormState::default();
    let shown = if state.value("do") == "assign" {
        state
    } else {
        &empty
    };
    view! {
        <section aria-labelledby="assign-title">
            <h2 id="assign-title">{t!(i18n, assign_title)}</h2>
            <form method="post" action=format!("/agencia/solicitud/{id}") class="assign">
                <CsrfField />
                <input type="hidden" name="do" value="assign" />
                <label for="assign-staff">{t!(i18n, assign_to)}</label>
                <select id="assign-staff" name="staff" required>
                    <option value="">{t!(i18n, referral_choose)}</option>
                    {staff.into_iter().map(|(sid, name)| view! { <option value=sid.to_string()>{name}</option> }).collect_view()}
                </select>
                {error_for(i18n, shown, "staff")}
                <button type="submit">{t!(i18n, assign_button)}</button>
            </form>
        </section>
    }
}

/// The form that refers the person to another agency's program (`do=refer`). Errors show here
/// only when the post was a referral.
fn refer_form(
    i18n: I18nContext<Locale>,
    action: String,
    targets: Vec<ReferTarget>,
    state: &FormState,
) -> impl IntoView + use<> {
    let locale = i18n.get_locale();
    let empty = FormState::default();
    let shown = if state.value("do") == "refer" {
        state
    } else {
        &empty
    };
    let program = shown.value("program");
    let reason = shown.value("reason");
    view! {
        <section aria-labelledby="refer-title" class="refer">
            <h2 id="refer-title">{t!(i18n, referral_title)}</h2>
            <p class="hint">{t!(i18n, referral_hint)}</p>
            <form method="post" action=action class="refer">
                <CsrfField />
                <input type="hidden" name="do" value="refer" />
                <label for="refer-program">{t!(i18n, referral_program)}</label>
                <select id="refer-program" name="program" required>
                    <option value="">{t!(i18n, referral_choose)}</option>
                    {targets.into_iter().map(|t| {
                        let selected = t.code == program;
                        let label = format!("{} · {} — {}", t.code, t.name.get(locale), t.agency);
                        view! { <option value=t.code selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
                {error_for(i18n, shown, "program")}
                <label for="refer-reason">{t!(i18n, referral_reason)}</label>
                <select id="refer-reason" name="reason" required>
                    <option value="">{t!(i18n, referral_choose)}</option>
                    {ReferReason::ALL.into_iter().map(|r| {
                        let selected = r.code() == reason;
                        view! { <option value=r.code() selected=selected>{refer_reason_name(i18n, r.code())}</option> }
                    }).collect_view()}
                </select>
                {error_for(i18n, shown, "reason")}
                {note_fields(i18n, "refer-note".into(), "note", shown, false)}
                <button type="submit">{t!(i18n, referral_send)}</button>
            </form>
        </section>
    }
}

fn referral_table(
    i18n: I18nContext<Locale>,
    rows: Vec<ReferralRow>,
    received: bool,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p>{t!(i18n, referrals_none)}</p> }.into_any();
    }
    view! {
        <table class="referrals">
            <thead><tr>
                <th scope="col">{t!(i18n, referral_date)}</th>
                <th scope="col">{t!(i18n, queue_person)}</th>
                <th scope="col">{t!(i18n, queue_borough)}</th>
                <th scope="col">{t!(i18n, referral_program)}</th>
                <th scope="col">{if received { t!(i18n, referral_from).into_any() } else { t!(i18n, referral_agency).into_any() }}</th>
                <th scope="col">{t!(i18n, referral_reason)}</th>
                <th scope="col">{t!(i18n, referral_status)}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let person = if received {
                        view! { <a href=format!("/agencia/canalizacion/{}", r.id)>{r.person.clone()}</a> }.into_any()
                    } else {
                        view! { <span>{r.person.clone()}</span> }.into_any()
                    };
                    let status = match (&r.decline_reason, &r.folio) {
                        (Some(d), _) => format!("{} · {}", referral_status_name(i18n, &r.status), decline_reason_name(i18n, d)),
                        (None, Some(f)) => format!("{} · {f}", referral_status_name(i18n, &r.status)),
                        (None, None) => referral_status_name(i18n, &r.status),
                    };
                    view! {
                        <tr data-referral=r.id.to_string() data-status=r.status.clone()>
                            <td>{r.created_on.to_string()}</td>
                            <td>{person}</td>
                            <td>{r.borough.clone()}</td>
                            <td><span class="code">{r.program.clone()}</span></td>
                            <td>{if received { r.from.clone() } else { r.agency.clone() }}</td>
                            <td>{refer_reason_name(i18n, &r.reason)}</td>
                            <td>{status}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Referrals received (agencies) and sent (offices and agencies).
pub fn referrals_section(i18n: I18nContext<Locale>, r: Referrals, receives: bool) -> impl IntoView {
    view! {
        {receives.then(|| view! {
            <section class="referrals" aria-labelledby="referrals-received">
                <h2 id="referrals-received">{t!(i18n, referrals_received)}</h2>
                <p>{t_string!(i18n, referrals_received_total, total = r.received_total).to_string()}</p>
                {referral_table(i18n, r.received, true)}
            </section>
        })}
        <section class="referrals" aria-labelledby="referrals-sent">
            <h2 id="referrals-sent">{t!(i18n, referrals_sent)}</h2>
            {referral_table(i18n, r.sent, false)}
        </section>
    }
}

/// `/agencia/canalizacion/{id}`: a referral to the agency, accepted (the request opens) or
/// declined with a reason.
#[component]
pub fn ReferralPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let id = id_param();
    let referral = Resource::new(move || id.get(), api::load_referral);
    view! {
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    match referral.await {
                        Ok(v) => {
                            let r = v.row;
                            let action = format!("/agencia/canalizacion/{}", r.id);
                            let open = r.status == "open";
                            let chosen = state.value("reason");
                            view! {
                                <h1>{t!(i18n, referral_page_title)} " · " <span class="code">{r.program.clone()}</span> " " {v.program_name.get(i18n.get_locale()).to_owned()}</h1>
                                <dl class="case">
                                    <dt>{t!(i18n, case_person)}</dt><dd>{r.person.clone()}</dd>
                                    <dt>{t!(i18n, case_age)}</dt><dd>{v.age}</dd>
                                    <dt>{t!(i18n, queue_borough)}</dt><dd>{r.borough.clone()}</dd>
                                    <dt>{t!(i18n, referral_from)}</dt><dd>{r.from.clone()}</dd>
                                    <dt>{t!(i18n, referral_reason)}</dt><dd>{refer_reason_name(i18n, &r.reason)}</dd>
                                    <dt>{t!(i18n, referral_date)}</dt><dd>{r.created_on.to_string()}</dd>
                                    <dt>{t!(i18n, referral_status)}</dt><dd class="status" data-status=r.status.clone()>{referral_status_name(i18n, &r.status)}
                                        {r.decline_reason.clone().map(|d| format!(" · {}", decline_reason_name(i18n, &d)))}
                                        {r.folio.clone().map(|f| view! { " · " <code class="folio">{f}</code> })}
                                    </dd>
                                </dl>
                                {(!v.notes.is_empty()).then(|| view! { <h2>{t!(i18n, notes_title)}</h2> {notes_list(i18n, v.notes.clone())} })}
                                {error_for(i18n, &state, "decision")}
                                {error_for(i18n, &state, "version")}
                                {open.then(|| view! {
                                    <div class="moves">
                                        <form method="post" action=action.clone() class="decision" data-to="accept">
                                            <CsrfField />
                                            <input type="hidden" name="decision" value="accept" />
                                            <input type="hidden" name="version" value=r.version.to_string() />
                                            <button type="submit">{t!(i18n, referral_accept)}</button>
                                        </form>
                                        <form method="post" action=action.clone() class="decision" data-to="decline">
                                            <CsrfField />
                                            <input type="hidden" name="decision" value="decline" />
                                            <input type="hidden" name="version" value=r.version.to_string() />
                                            <label for="decline-reason">{t!(i18n, referral_decline_reason)}</label>
                                            <select id="decline-reason" name="reason" required>
                                                <option value="">{t!(i18n, referral_choose)}</option>
                                                {DeclineReason::ALL.into_iter().map(|d| {
                                                    let selected = d.code() == chosen;
                                                    view! { <option value=d.code() selected=selected>{decline_reason_name(i18n, d.code())}</option> }
                                                }).collect_view()}
                                            </select>
                                            {error_for(i18n, &state, "reason")}
                                            <button type="submit">{t!(i18n, referral_decline)}</button>
                                        </form>
                                    </div>
                                })}
                                <p><a href="/agencia">{t!(i18n, back_to_queue)}</a></p>
                            }
                            .into_any()
                        }
                        Err(e) => failure(e),
                    }
                })
            }}
        </Suspense>
    }
}

fn entry_text(
    i18n: I18nContext<Locale>,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    reason: Option<&str>,
) -> String {
    match kind {
        "status" => {
            let to = to
                .map(|t| explain::status_name(i18n, t))
                .unwrap_or_default();
            let reason = reason.map(|r| reason_name(i18n, r)).unwrap_or_default();
            match from {
                Some(f) => format!("{} → {to} · {reason}", explain::status_name(i18n, f)),
                None => format!("{to} · {reason}"),
            }
        }
        "escalation" => level_name(i18n, to.and_then(|l| l.parse().ok()).unwrap_or(0)),
        "referral" => format!(
            "{} · {}",
            t_string!(i18n, referral_entry),
            reason
                .map(|r| refer_reason_name(i18n, r))
                .unwrap_or_default()
        ),
        "referral_decided" => {
            let status = to
                .map(|t| referral_status_name(i18n, t))
                .unwrap_or_default();
            match reason {
                Some(r) => format!(
                    "{} · {status} · {}",
                    t_string!(i18n, referral_entry),
                    decline_reason_name(i18n, r)
                ),
                None => format!("{} · {status}", t_string!(i18n, referral_entry)),
            }
        }
        _ => String::new(),
    }
}

fn timeline_view(
    i18n: I18nContext<Locale>,
    t: Timeline,
    agency: String,
    program: String,
    state: FormState,
) -> impl IntoView {
    let id = t.person_id;
    let action = format!("/oficina/persona/{id}/historial");
    // Errors of a referral post belong to the referral form, not to the note form.
    let note_state = if state.value("do") == "refer" {
        FormState::default()
    } else {
        state.clone()
    };
    let awaiting: Vec<_> = t
        .open
        .iter()
        .filter(|r| r.status == "requested" || r.status == "in_review")
        .cloned()
        .collect();
    view! {
        <h1>{t!(i18n, timeline_title)} " · " {t.person_name.clone()}</h1>
        <form method="get" action=action.clone() class="filter">
            <label>{t!(i18n, timeline_agency)} " "
                <select name="agencia">
                    <option value="">{t!(i18n, queue_all)}</option>
                    {t.agencies.iter().map(|(code, name)| view! { <option value=code.clone() selected=*code == agency>{name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>{t!(i18n, queue_program)} " "
                <select name="programa">
                    <option value="">{t!(i18n, queue_all)}</option>
                    {t.programs.iter().map(|code| view! { <option value=code.clone() selected=*code == program>{code.clone()}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit">{t!(i18n, queue_filter)}</button>
        </form>
        <ol class="timeline" reversed>
            {t.entries.into_iter().map(|e| {
                let text = entry_text(i18n, &e.kind, e.from.as_deref(), e.to.as_deref(), e.reason.as_deref());
                view! {
                    <li class=format!("entry {}", e.kind) data-kind=e.kind.clone()>
                        <p class="meta">
                            {e.at.clone()}
                            {e.folio.clone().map(|f| view! { " · " <code>{f}</code> })}
                            {e.program.clone().map(|p| view! { " " <span class="code">{p}</span> })}
                            {e.agency.clone().map(|a| format!(" · {a}"))}
                            {e.who.clone().map(|w| format!(" · {w}"))}
                        </p>
                        {(!text.is_empty()).then(|| view! { <p>{text}</p> })}
                        {e.note.map(|n| notes_list(i18n, vec![n]))}
                    </li>
                }
            }).collect_view()}
        </ol>
        <section aria-labelledby="add-note">
            <h2 id="add-note">{t!(i18n, note_add)}</h2>
            <form method="post" action=action.clone() class="note">
                <CsrfField />
                <input type="hidden" name="do" value="note" />
                {note_fields(i18n, "note-body".into(), "body", &note_state, true)}
                <label>{t!(i18n, note_about)} " "
                    <select name="enrollment">
                        <option value="">{t!(i18n, note_about_person)}</option>
                        {t.open.iter().map(|r| view! { <option value=r.id.to_string()>{format!("{} · {}", r.folio, r.program)}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit">{t!(i18n, note_save)}</button>
            </form>
        </section>
        {(!awaiting.is_empty()).then(|| view! {
            <section aria-labelledby="withdraw">
                <h2 id="withdraw">{t!(i18n, withdraw_title)}</h2>
                <p class="hint">{t!(i18n, withdraw_hint)}</p>
                {awaiting.into_iter().map(|r| view! {
                    <form method="post" action=action.clone() class="withdraw">
                        <CsrfField />
                        <input type="hidden" name="do" value="withdraw" />
                        <input type="hidden" name="enrollment" value=r.id.to_string() />
                        <input type="hidden" name="version" value=r.version.to_string() />
                        <span><code>{r.folio}</code> " " {r.program}</span> " "
                        <select name="reason" required aria-label=t_string!(i18n, decision_reason)>
                            <option value="person_request">{reason_name(i18n, "person_request")}</option>
                            <option value="no_longer_needed">{reason_name(i18n, "no_longer_needed")}</option>
                        </select>
                        <button type="submit">{t!(i18n, withdraw_button)}</button>
                    </form>
                }).collect_view()}
            </section>
        })}
        {(!t.refer_to.is_empty()).then(|| refer_form(i18n, action.clone(), t.refer_to.clone(), &state))}
        <p><a href=format!("/oficina/persona/{id}")>{t!(i18n, back_to_profile)}</a></p>
    }
}

/// `/oficina/persona/{id}/historial`: everything that happened to the person's requests across
/// agencies, newest first, with the notes the caseworker may read.
#[component]
pub fn TimelinePage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let id = id_param();
    let query = use_query_map();
    let key = Memo::new(move |_| {
        let q = query.read();
        (
            id.get(),
            q.get("agencia").unwrap_or_default(),
            q.get("programa").unwrap_or_default(),
        )
    });
    let timeline = Resource::new(
        move || key.get(),
        |(id, agency, program)| api::person_timeline(id, agency, program),
    );
    view! {
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    let (_, agency, program) = key.get_untracked();
                    match timeline.await {
                        Ok(t) => timeline_view(i18n, t, agency, program, state).into_any(),
                        Err(e) => failure(e),
                    }
                })
            }}
        </Suspense>
    }
}
