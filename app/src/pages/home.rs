//! `/`: the public entry point, "¿Qué pasó en tu vida?": the life events as large choices, each
//! leading to the anonymous check of its programs (`/revisa?evento=…`: what they give, who runs
//! them, the documents to bring, the borough's offices). Plain links: no JavaScript needed.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::catalog::api::get_catalog;
use crate::i18n::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let catalog = Resource::new(|| (), |_| get_catalog());
    view! {
        <h1>{t!(i18n, home_title)}</h1>
        <p class="lead">{t!(i18n, home_intro)}</p>
        <Suspense fallback=move || view! { <p>{t!(i18n, loading)}</p> }>
            {move || Suspend::new(async move {
                // Without the catalog the page still offers the list and the follow-up.
                let events = catalog.await.map(|c| c.events).unwrap_or_default();
                let locale = i18n.get_locale_untracked();
                view! {
                    <ul class="life-events">
                        {events.into_iter().filter(|e| !e.programs.is_empty()).map(|e| view! {
                            <li>
                                <a class="choice" href=format!("/revisa?evento={}", e.code) data-event=e.code.clone()>
                                    {e.label.get(locale).to_owned()}
                                </a>
                            </li>
                        }).collect_view()}
                    </ul>
                }
            })}
        </Suspense>
        <p>
            <A href="/programas" attr:class="button">{t!(i18n, home_see_programs)}</A>
            " "
            <A href="/seguimiento" attr:class="button">{t!(i18n, nav_track)}</A>
        </p>
    }
}
