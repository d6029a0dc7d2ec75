//! `/admin/reglas` and `/admin/reglas/{code}`: program rules, their versions and the draft
//! editor. Plain forms that work without JavaScript; every save runs the draft's test cases and
//! the page shows each result.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api;
use super::dto::{CaseLine, Draft, Impact, RuleEditor, RuleSummary};
use super::forms::{PREDICATES, RuleRow, SPARE_ROWS, leaf};
use crate::domain::eligibility::{Criterion, Outcome, Rule, Used};
use crate::eligibility::explain;
use crate::i18n::*;
use crate::staff::form_state::{CsrfField, FormState, field_message, use_form_state};
use crate::staff::pages::{NoticeBox, failure};

/// A criterion as a sentence, for reading a rule without evaluating it.
fn reading(i18n: I18nContext<Locale>, rule: &Rule, negated: bool) -> String {
    explain::requirement(
        i18n,
        &Criterion {
            rule: rule.clone(),
            negated,
            outcome: Outcome::Met,
            used: Used::Unknown,
            question: None,
        },
    )
}

/// The rule as sentences: every line must hold; "one of" lines list alternatives.
fn rule_sentences(i18n: I18nContext<Locale>, rule: &Rule) -> AnyView {
    let children: Vec<Rule> = match rule {
        Rule::All(children) => children.clone(),
        other => vec![other.clone()],
    };
    if children.is_empty() {
        return view! { <p>{t!(i18n, rules_open_to_all)}</p> }.into_any();
    }
    let line = move |r: &Rule| -> String {
        match r {
            Rule::Not(inner) if !inner.is_group() => reading(i18n, inner, true),
            Rule::Any(options) => format!(
                "{} {}",
                t_string!(i18n, rules_one_of),
                options
                    .iter()
                    .map(|o| match o {
                        Rule::Not(inner) => reading(i18n, inner, true),
                        o if !o.is_group() => reading(i18n, o, false),
                        _ => serde_json::to_string(o).unwrap_or_default(),
                    })
                    .collect::<Vec<_>>()
                    .join(" · ")
            ),
            r if !r.is_group() => reading(i18n, r, false),
            r => serde_json::to_string(r).unwrap_or_default(),
        }
    };
    view! { <ul class="criteria">{children.iter().map(|c| view! { <li>{line(c)}</li> }).collect_view()}</ul> }
        .into_any()
}

fn standing_name(i18n: I18nContext<Locale>, standing: &str) -> String {
    match standing {
        "current" => t_string!(i18n, rules_current),
        "pending" => t_string!(i18n, rules_pending),
        "draft" => t_string!(i18n, rules_draft),
        _ => t_string!(i18n, rules_superseded),
    }
    .to_owned()
}

/// `/admin/reglas`: every program, its versions and whether its test cases pass.
#[component]
pub fn RulesPage() -> impl IntoView {
    let i18n = use_i18n();
    let programs = Resource::new(|| (), |_| api::rule_programs());
    view! {
        <h1>{t!(i18n, rules_title)}</h1>
        <p>{t!(i18n, rules_intro)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                match programs.await {
                    Ok(rows) => summary_table(i18n, rows).into_any(),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
        <p><a href="/admin">{t!(i18n, back_to_admin)}</a></p>
    }
}

fn summary_table(i18n: I18nContext<Locale>, rows: Vec<RuleSummary>) -> impl IntoView {
    let locale = i18n.get_locale();
    view! {
        <table class="rules">
            <thead><tr>
                <th scope="col">{t!(i18n, rules_program)}</th>
                <th scope="col">{t!(i18n, rules_current)}</th>
                <th scope="col">{t!(i18n, rules_pending)}</th>
                <th scope="col">{t!(i18n, rules_draft)}</th>
                <th scope="col">{t!(i18n, rules_cases)}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let href = format!("/admin/reglas/{}", r.code);
                    let pending = r.pending.iter().map(|(v, d)| format!("v{v} ({d})")).collect::<Vec<_>>().join(", ");
                    let ok = r.passing == r.cases && r.cases > 0;
                    view! {
                        <tr>
                            <th scope="row">
                                <a href=href>{r.code.clone()}</a> " " {r.name.get(locale).to_owned()}
                                {(!r.verified).then(|| view! { " " <span class="badge unverified">{t!(i18n, program_not_verified)}</span> })}
                            </th>
                            <td>{r.current.map(|v| format!("v{v}")).unwrap_or_else(|| "—".into())}</td>
                            <td>{pending}</td>
                            <td>{r.draft.map(|v| format!("v{v}")).unwrap_or_default()}</td>
                            <td class=if ok { "outcome met" } else { "outcome not-met" }>{format!("{}/{}", r.passing, r.cases)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// `/admin/reglas/{code}`: the program's versions, the rule in force, and its draft.
#[component]
pub fn RuleEditorPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let params = use_params_map();
    let query = use_query_map();
    let key = Memo::new(move |_| {
        (
            params.read().get("code").unwrap_or_default(),
            query.read().get("impacto").is_some_and(|v| v == "1"),
        )
    });
    let editor = Resource::new(
        move || key.get(),
        |(code, impact)| api::load_rule_editor(code, impact),
    );
    view! {
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    match editor.await {
                        Ok(e) => editor_view(i18n, e, &state).into_any(),
                        Err(e) => failure(e),
                    }
                })
            }}
        </Suspense>
        <p><a href="/admin/reglas">{t!(i18n, rules_back)}</a></p>
    }
}

fn editor_view(i18n: I18nContext<Locale>, e: RuleEditor, state: &FormState) -> impl IntoView {
    let action = format!("/admin/reglas/{}", e.code);
    let versions = e
        .versions
        .iter()
        .map(|v| {
            view! {
                <tr>
                    <td>{format!("v{}", v.version)}</td>
                    <td>{standing_name(i18n, &v.standing)}</td>
                    <td>{v.effective_from.to_string()}</td>
                    <td>{format!("{}/{}", v.passing, v.cases)}</td>
                    <td>{v.note.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let current = match &e.current {
        Some(rule) => rule_sentences(i18n, rule),
        None => view! { <p>{t!(i18n, rules_none_in_force)}</p> }.into_any(),
    };
    let draft = match e.draft.clone() {
        Some(d) => draft_view(i18n, &e, d, state).into_any(),
        None => view! {
            <form method="post" action=action class="stack">
                <CsrfField />
                <input type="hidden" name="do" value="new" />
                <button type="submit">{t!(i18n, rules_new_draft)}</button>
            </form>
        }
        .into_any(),
    };
    view! {
        <h1>{t!(i18n, rules_title)} ": " {e.code.clone()} " · " {e.name.get(i18n.get_locale()).to_owned()}</h1>
        {(!e.verified).then(|| view! { <p class="badge unverified">{t!(i18n, program_not_verified)}</p> })}
        <h2>{t!(i18n, rules_in_force)}</h2>
        {current}
        <h2>{t!(i18n, rules_versions)}</h2>
        <table>
            <thead><tr>
                <th scope="col">{t!(i18n, rules_version)}</th>
                <th scope="col">{t!(i18n, rules_standing)}</th>
                <th scope="col">{t!(i18n, rules_effective_from)}</th>
                <th scope="col">{t!(i18n, rules_cases)}</th>
                <th scope="col">{t!(i18n, rules_note)}</th>
            </tr></thead>
            <tbody>{versions}</tbody>
        </table>
        {draft}
    }
}

fn case_table(i18n: I18nContext<Locale>, results: Vec<CaseLine>) -> impl IntoView {
    view! {
        <table class="cases">
            <thead><tr>
                <th scope="col">{t!(i18n, rules_case)}</th>
                <th scope="col">{t!(i18n, rules_expected)}</th>
                <th scope="col">{t!(i18n, rules_got)}</th>
                <th scope="col">{t!(i18n, rules_result)}</th>
            </tr></thead>
            <tbody>
                {results.into_iter().map(|c| {
                    let ok = c.expect == c.got;
                    view! {
                        <tr class=if ok { "case pass" } else { "case fail" }>
                            <td>{c.name}</td>
                            <td>{explain::verdict(i18n, c.expect)}</td>
                            <td>{explain::verdict(i18n, c.got)}</td>
                            <td class=if ok { "outcome met" } else { "outcome not-met" }>
                                {if ok { t_string!(i18n, rules_pass) } else { t_string!(i18n, rules_fail) }}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn impact_view(i18n: I18nContext<Locale>, i: Impact) -> impl IntoView {
    view! {
        <section class="impact" aria-labelledby="impact-title">
            <h3 id="impact-title">{t!(i18n, rules_impact)}</h3>
            <dl>
                <dt>{t!(i18n, rules_impact_people)}</dt><dd data-figure="people">{i.people}</dd>
                <dt>{t!(i18n, rules_impact_now)}</dt><dd data-figure="eligible_now">{i.eligible_now}</dd>
                <dt>{t!(i18n, rules_impact_draft)}</dt><dd data-figure="eligible_draft">{i.eligible_draft}</dd>
                <dt>{t!(i18n, rules_impact_gained)}</dt><dd data-figure="gained">{i.gained}</dd>
                <dt>{t!(i18n, rules_impact_lost)}</dt><dd data-figure="lost">{i.lost}</dd>
            </dl>
        </section>
    }
}

/// The rows to show: as typed after a refused save, else the draft's plus spare ones.
fn shown_rows(draft: &Draft, state: &FormState) -> Option<Vec<RuleRow>> {
    if state.value("typed") == "yes" && !state.values.contains_key("rules_json") {
        let mut rows = Vec::new();
        let mut i = 0;
        while state.values.contains_key(&format!("r{i}.predicate")) {
            let get = |f: &str| state.value(&format!("r{i}.{f}"));
            rows.push(RuleRow {
                group: get("group"),
                negate: get("negate") == "yes",
                predicate: get("predicate"),
                param: get("param"),
            });
            i += 1;
        }
        return Some(rows);
    }
    let mut rows = draft.rows.clone()?;
    rows.extend(std::iter::repeat_n(RuleRow::default(), SPARE_ROWS));
    Some(rows)
}

fn row_view(i18n: I18nContext<Locale>, i: usize, row: RuleRow, state: &FormState) -> impl IntoView {
    let name = |f: &str| format!("r{i}.{f}");
    let error = |f: &str| state.error(&format!("r{i}.{f}"));
    let errors: Vec<String> = ["group", "predicate", "param"]
        .iter()
        .filter_map(|f| error(f))
        .map(|code| field_message(i18n, &code))
        .collect();
    let error_id = format!("r{i}-error");
    let described = (!errors.is_empty()).then(|| error_id.clone());
    let invalid = (!errors.is_empty()).then_some("true");
    let sentence = leaf(&row.predicate, &row.param)
        .ok()
        .map(|r| reading(i18n, &r, row.negate))
        .unwrap_or_default();
    let options = PREDICATES
        .iter()
        .map(|(p, _)| view! { <option value=*p selected=*p == row.predicate>{*p}</option> })
        .collect_view();
    view! {
        <tr>
            <td><input name=name("group") value=row.group.clone() size="1" maxlength="1" aria-label=t_string!(i18n, rules_group) aria-invalid=error("group").map(|_| "true") /></td>
            <td><input type="checkbox" name=name("negate") value="yes" checked=row.negate aria-label=t_string!(i18n, rules_negate) /></td>
            <td>
                <select name=name("predicate") aria-label=t_string!(i18n, rules_predicate) aria-invalid=error("predicate").map(|_| "true") aria-describedby=described.clone()>
                    <option value="">"—"</option>
                    {options}
                </select>
            </td>
            <td><input name=name("param") value=row.param.clone() aria-label=t_string!(i18n, rules_param) aria-invalid=invalid aria-describedby=described /></td>
            <td>
                {sentence}
                {(!errors.is_empty()).then(|| view! { <p class="field-error" id=error_id>{errors.join(" ")}</p> })}
            </td>
        </tr>
    }
}

fn draft_view(
    i18n: I18nContext<Locale>,
    e: &RuleEditor,
    d: Draft,
    state: &FormState,
) -> impl IntoView {
    let action = format!("/admin/reglas/{}", e.code);
    let typed = state.value("typed") == "yes";
    let pick = |field: &str, stored: String| if typed { state.value(field) } else { stored };
    let tests = pick("tests", d.tests_json.clone());
    let effective = pick("effective_from", d.effective_from.to_string());
    let note = pick("note", d.note.clone());
    let field_error = |field: &str| {
        state
            .error(field)
            .map(|code| view! { <p class="field-error" id=format!("f-{field}-error")>{field_message(i18n, &code)}</p> })
    };
    let rules_editor = match shown_rows(&d, state) {
        Some(rows) => view! {
            <table class="rule-rows">
                <caption>{t!(i18n, rules_rows_caption)}</caption>
                <thead><tr>
                    <th scope="col">{t!(i18n, rules_group)}</th>
                    <th scope="col">{t!(i18n, rules_negate)}</th>
                    <th scope="col">{t!(i18n, rules_predicate)}</th>
                    <th scope="col">{t!(i18n, rules_param)}</th>
                    <th scope="col">{t!(i18n, rules_reading)}</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().enumerate().map(|(i, r)| row_view(i18n, i, r, state)).collect_view()}
                </tbody>
            </table>
            <p class="hint">{t!(i18n, rules_rows_hint)}</p>
            {field_error("rules")}
        }
        .into_any(),
        None => {
            let json = pick("rules_json", d.rules_json.clone());
            view! {
                <div class="field">
                    <label for="f-rules_json">{t!(i18n, rules_json)}</label>
                    <p class="hint">{t!(i18n, rules_json_hint)}</p>
                    <textarea id="f-rules_json" name="rules_json" rows="12">{json}</textarea>
                    {field_error("rules_json")}
                </div>
            }
            .into_any()
        }
    };
    let passes = d.passes();
    let passing = d.results.iter().filter(|c| c.expect == c.got).count();
    let total = d.results.len();
    let impact_href = format!("/admin/reglas/{}?impacto=1", e.code);
    let stamp = d.stamp.clone();
    view! {
        <section class="draft" aria-labelledby="draft-title">
            <h2 id="draft-title">{t_string!(i18n, rules_draft_title, version = d.version).to_string()}</h2>
            <h3>{t!(i18n, rules_draft_reads)}</h3>
            {rule_sentences(i18n, &d.rule)}
            <h3>{t!(i18n, rules_cases)}</h3>
            <p class=if passes { "verdict eligible" } else { "verdict not-eligible" } role="status" data-cases=format!("{passing}/{total}")>
                {t_string!(i18n, rules_cases_summary, passing = passing, total = total).to_string()}
            </p>
            {case_table(i18n, d.results.clone())}
            <form method="post" action=action.clone() class="stack" novalidate>
                <CsrfField />
                <input type="hidden" name="do" value="save" />
                <input type="hidden" name="stamp" value=stamp.clone() />
                {rules_editor}
                <div class="field">
                    <label for="f-effective_from">{t!(i18n, rules_effective_from)}</label>
                    <input id="f-effective_from" name="effective_from" type="date" value=effective aria-invalid=state.error("effective_from").map(|_| "true") />
                    {field_error("effective_from")}
                </div>
                <div class="field">
                    <label for="f-note">{t!(i18n, rules_note)}</label>
                    <input id="f-note" name="note" value=note maxlength="500" />
                    {field_error("note")}
                </div>
                <div class="field">
                    <label for="f-tests">{t!(i18n, rules_tests_json)}</label>
                    <p class="hint">{t!(i18n, rules_tests_hint)}</p>
                    <textarea id="f-tests" name="tests" rows="14" aria-invalid=state.error("tests").map(|_| "true")>{tests}</textarea>
                    {field_error("tests")}
                </div>
                <button type="submit">{t!(i18n, rules_save)}</button>
            </form>
            <p><a href=impact_href>{t!(i18n, rules_impact_preview)}</a></p>
            {e.impact.map(|i| impact_view(i18n, i))}
            <form method="post" action=action.clone() class="inline">
                <CsrfField />
                <input type="hidden" name="do" value="publish" />
                <input type="hidden" name="stamp" value=stamp.clone() />
                <button type="submit">{t!(i18n, rules_publish)}</button>
            </form>
            {(!passes).then(|| view! { <p class="hint">{t!(i18n, rules_publish_blocked)}</p> })}
            <form method="post" action=action class="inline">
                <CsrfField />
                <input type="hidden" name="do" value="discard" />
                <input type="hidden" name="stamp" value=stamp />
                <button type="submit" class="secondary">{t!(i18n, rules_discard)}</button>
            </form>
        </section>
    }
}
