//! `/admin/indicadores` and `/admin/indicadores/{code}`: the social policy indicators, their
//! names and the programs that serve them. Plain forms that work without JavaScript.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::hooks::use_params_map;

use super::api;
use super::dto::{IndicatorAdmin, IndicatorSettings};
use crate::i18n::*;
use crate::staff::form_state::{CsrfField, Field, FormState, field_message, use_form_state};
use crate::staff::pages::{NoticeBox, failure};

/// `/admin/indicadores`: every indicator with its programs.
#[component]
pub fn AdminIndicatorsPage() -> impl IntoView {
    let i18n = use_i18n();
    let admin = Resource::new(|| (), |_| api::get_indicator_admin());
    view! {
        <h1>{t!(i18n, indicators_title)}</h1>
        <p class="hint">{t!(i18n, indicators_intro)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                match admin.await {
                    Ok(a) => list(i18n, &a).into_any(),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
        <p><a href="/admin">{t!(i18n, back_to_admin)}</a></p>
    }
}

fn list(i18n: I18nContext<Locale>, a: &IndicatorAdmin) -> impl IntoView + use<> {
    let locale = i18n.get_locale_untracked();
    let rows = a
        .indicators
        .iter()
        .map(|i| {
            let href = format!("/admin/indicadores/{}", i.code);
            view! {
                <tr id=i.code.clone()>
                    <th scope="row"><a href=href>{i.name.get(locale).to_owned()}</a></th>
                    <td><code>{i.code.clone()}</code></td>
                    <td>{i.programs.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="indicators">
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, indicators_name)}</th>
                    <th scope="col">{t!(i18n, indicators_code)}</th>
                    <th scope="col">{t!(i18n, indicators_programs)}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// `/admin/indicadores/{code}`: an indicator's names in both languages and its programs.
#[component]
pub fn AdminIndicatorPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let params = use_params_map();
    let code = Memo::new(move |_| params.read().get("code").unwrap_or_default());
    let admin = Resource::new(|| (), |_| api::get_indicator_admin());
    view! {
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    match admin.await {
                        Ok(a) => match a.indicators.iter().find(|i| i.code == code.get_untracked()) {
                            Some(i) => editor(i18n, i, &a, &state).into_any(),
                            None => view! { <p>{t!(i18n, indicators_unknown)}</p> }.into_any(),
                        },
                        Err(e) => failure(e),
                    }
                })
            }}
        </Suspense>
        <p><a href="/admin/indicadores">{t!(i18n, indicators_back)}</a></p>
    }
}

fn editor(
    i18n: I18nContext<Locale>,
    i: &IndicatorSettings,
    a: &IndicatorAdmin,
    state: &FormState,
) -> impl IntoView + use<> {
    let locale = i18n.get_locale_untracked();
    // After a refused post, what was typed; otherwise what is stored.
    let posted = state.values.contains_key("name_es");
    let mut shown = state.clone();
    shown
        .values
        .entry("name_es".into())
        .or_insert(i.name.es.clone());
    shown
        .values
        .entry("name_en".into())
        .or_insert(i.name.en.clone());
    let checked: Vec<String> = if posted {
        state
            .value("programs")
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        i.programs.clone()
    };
    let program_error = state.error("program");
    let invalid = program_error.is_some();
    let boxes = a
        .programs
        .iter()
        .map(|(code, name, agency)| {
            let id = format!("f-program-{code}");
            let on = checked.contains(code);
            view! {
                <li>
                    <input type="checkbox" id=id.clone() name="program" value=code.clone() checked=on />
                    <label for=id>{name.get(locale).to_owned()} " " <code>{code.clone()}</code> " · " {agency.clone()}</label>
                </li>
            }
        })
        .collect_view();
    let action = format!("/admin/indicadores/{}", i.code);
    view! {
        <h1>{i.name.get(locale).to_owned()} " " <code>{i.code.clone()}</code></h1>
        <form method="post" action=action class="stack" novalidate>
            <CsrfField />
            <input type="hidden" name="stamp" value=i.stamp.clone() />
            <Field name="name_es" label=t_string!(i18n, indicators_name_es).to_owned() autocomplete="off" state=shown.clone() />
            <Field name="name_en" label=t_string!(i18n, indicators_name_en).to_owned() autocomplete="off" state=shown />
            <fieldset class="field" class:invalid=invalid aria-describedby=invalid.then_some("f-program-error")>
                <legend>{t!(i18n, indicators_programs)}</legend>
                <p class="hint">{t!(i18n, indicators_programs_hint)}</p>
                <ul class="checks">{boxes}</ul>
                {program_error.map(|code| view! { <p class="field-error" id="f-program-error">{field_message(i18n, &code)}</p> })}
            </fieldset>
            <button type="submit">{t!(i18n, admin_save)}</button>
        </form>
    }
}
