//! `/`: the public entry point.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h1>{t!(i18n, home_title)}</h1>
        <p class="lead">{t!(i18n, home_intro)}</p>
        <p>
            <A href="/programas" attr:class="button">
                {t!(i18n, home_see_programs)}
            </A>
        </p>
    }
}
