//! The frame of every page: skip link, header with the five areas, language switch, footer.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::i18n::*;
use crate::staff::pages::{SignOutButton, use_me};

/// Where the no-JavaScript language switch sends the browser (see the server's `/idioma`).
pub const LANGUAGE_PATH: &str = "/idioma";

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <a class="skip-link" href="#contenido">
            {t!(i18n, skip_to_content)}
        </a>
        <header class="site-header">
            <div class="bar">
                <a class="brand" href="/">
                    <span class="brand-name">{t!(i18n, site_name)}</span>
                    <span class="brand-tagline">{t!(i18n, site_tagline)}</span>
                </a>
                <div class="tools">
                    <SignedInAs />
                    <LanguageSwitch />
                </div>
            </div>
            <nav aria-label=move || t_string!(i18n, nav_label)>
                <ul>
                    <li><A href="/" exact=true>{t!(i18n, nav_home)}</A></li>
                    <li><A href="/revisa">{t!(i18n, nav_check)}</A></li>
                    <li><A href="/programas">{t!(i18n, nav_programs)}</A></li>
                    <li><A href="/seguimiento">{t!(i18n, nav_track)}</A></li>
                    <li><A href="/mi-cuenta">{t!(i18n, nav_my_account)}</A></li>
                    <li><A href="/oficina">{t!(i18n, nav_office)}</A></li>
                    <li><A href="/agencia">{t!(i18n, nav_agency)}</A></li>
                    <li><A href="/politica">{t!(i18n, nav_policy)}</A></li>
                    <li><A href="/admin">{t!(i18n, nav_admin)}</A></li>
                </ul>
            </nav>
        </header>
        <main id="contenido" tabindex="-1">
            {children()}
        </main>
        <footer class="site-footer">
            <p>{t!(i18n, footer_text)}</p>
        </footer>
    }
}

/// The signed-in staff member's name, their account and the sign-out button; or the sign-in
/// link. Read from the request, not loaded: no resource, so no second `<Suspense>` on every page.
#[component]
fn SignedInAs() -> impl IntoView {
    let i18n = use_i18n();
    match use_me() {
        Some(me) => view! {
            <span class="who">
                <a href="/cuenta">{me.display_name}</a>
                " "
                <SignOutButton />
            </span>
        }
        .into_any(),
        None => view! { <a href="/entrar">{t!(i18n, signin_link)}</a> }.into_any(),
    }
}

/// A link to the other language. Without JavaScript it goes through the server, which sets the
/// preference cookie and sends the browser back; once hydrated it switches in place.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let other = move || match i18n.get_locale() {
        Locale::es_MX => Locale::en,
        Locale::en => Locale::es_MX,
    };
    // Back to this very page, query included (`search` comes without its `?`).
    let href = move || {
        let (path, search) = (location.pathname.get(), location.search.get());
        let back = if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        };
        let back = utf8_percent_encode(&back, NON_ALPHANUMERIC);
        format!("{LANGUAGE_PATH}/{}?volver={back}", other().as_str())
    };
    let on_click = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        i18n.set_locale(other());
    };
    view! {
        <a
            class="lang-switch"
            href=href
            rel="external"
            hreflang=move || other().as_str()
            lang=move || other().as_str()
            title=move || t_string!(i18n, lang_switch_title)
            on:click=on_click
        >
            {t!(i18n, lang_switch)}
        </a>
    }
}
