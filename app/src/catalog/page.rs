//! `/programas`: the public catalog, filterable. Rendered completely on the server (the route
//! is `SsrMode::Async`), so it reads and filters without JavaScript through a GET form; once
//! hydrated, typing filters in place with the same `Catalog::filter`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::get_catalog;
use super::dto::{Catalog, LifeEventCard, ProgramCard};
use crate::i18n::*;
use crate::pages::ErrorMessage;

#[component]
pub fn ProgramsPage() -> impl IntoView {
    let i18n = use_i18n();
    let initial = use_query_map().with_untracked(|q| q.get("q").unwrap_or_default());
    let (query, set_query) = signal(initial);
    let catalog = Resource::new(|| (), |_| get_catalog());

    view! {
        <h1>{t!(i18n, programs_title)}</h1>
        <p class="lead">{t!(i18n, programs_intro)}</p>
        <form method="get" action="/programas" role="search" class="filter">
            <label for="filtro">{t!(i18n, filter_label)}</label>
            <p id="filtro-ayuda" class="hint">{t!(i18n, filter_hint)}</p>
            <div class="filter-row">
                <input
                    id="filtro"
                    name="q"
                    type="search"
                    autocomplete="off"
                    aria-describedby="filtro-ayuda"
                    value=query
                    on:input=move |ev| set_query.set(event_target_value(&ev))
                />
                <button type="submit">{t!(i18n, filter_submit)}</button>
            </div>
        </form>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                match catalog.await {
                    Ok(catalog) => view! { <CatalogList catalog query /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CatalogList(catalog: Catalog, query: ReadSignal<String>) -> impl IntoView {
    let i18n = use_i18n();
    let total = catalog.program_count();
    let catalog = StoredValue::new(catalog);
    let shown = Memo::new(move |_| catalog.with_value(|c| c.filter(&query.read())));
    let shown_count = move || shown.with(Catalog::program_count);

    view! {
        <p class="count" role="status" aria-live="polite">
            {t!(i18n, filter_count, shown = shown_count, total = move || total)}
        </p>
        <Show when=move || shown.with(|c| c.events.is_empty())>
            <p class="empty">{t!(i18n, filter_none)}</p>
        </Show>
        <div class="events">
            {move || {
                shown
                    .get()
                    .events
                    .into_iter()
                    .map(|event| view! { <LifeEventSection event /> })
                    .collect_view()
            }}
        </div>
    }
}

#[component]
fn LifeEventSection(event: LifeEventCard) -> impl IntoView {
    let i18n = use_i18n();
    let heading_id = format!("evento-{}", event.code.to_lowercase());
    let labelled_by = heading_id.clone();
    let label = event.label.clone();
    let empty = event.programs.is_empty();
    view! {
        <section class="event" aria-labelledby=labelled_by data-event=event.code.clone()>
            <h2 id=heading_id>{move || label.get(i18n.get_locale()).to_owned()}</h2>
            {empty.then(|| view! { <p class="hint">{t!(i18n, event_no_programs)}</p> })}
            <ul class="programs">
                {event
                    .programs
                    .into_iter()
                    .map(|program| view! { <ProgramItem program /> })
                    .collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn ProgramItem(program: ProgramCard) -> impl IntoView {
    let i18n = use_i18n();
    let ProgramCard {
        code,
        name,
        agency_code,
        agency_name,
        eligibility,
        benefit,
        verified,
    } = program;
    let text = move |l: &crate::catalog::dto::Localized| l.get(i18n.get_locale()).to_owned();
    view! {
        <li class="program" data-program=code.clone()>
            <h3>
                {move || text(&name)} <span class="code">{code.clone()}</span>
            </h3>
            {(!verified)
                .then(|| view! { <p class="unverified">{t!(i18n, program_not_verified)}</p> })}
            <dl>
                <dt>{t!(i18n, program_agency)}</dt>
                <dd>{move || text(&agency_name)} " (" {agency_code.clone()} ")"</dd>
                <dt>{t!(i18n, program_eligibility)}</dt>
                <dd>{move || text(&eligibility)}</dd>
                <dt>{t!(i18n, program_benefit)}</dt>
                <dd>{move || text(&benefit)}</dd>
            </dl>
        </li>
    }
}
