//! The HTML shell, the router and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};
use leptos_use::UseLocalesOptions;

use crate::catalog::ProgramsPage;
use crate::i18n::*;
use crate::layout::Layout;
use crate::pages::{Area, AreaPage, HomePage, NotFound};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Spanish unless the person chose English (the `i18n_pref_locale` cookie): the browser's
    // Accept-Language is not consulted, since many phones in the city are set to English.
    let no_header = UseLocalesOptions::default().ssr_lang_header_getter(|| None);

    view! {
        <I18nContextProvider ssr_lang_header_getter=no_header>
            <Stylesheet id="leptos" href="/pkg/angel.css" />
            <Title text="Ángel" />
            <Router>
                <Layout>
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=HomePage />
                        <Route path=path!("/programas") view=ProgramsPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina") view=|| view! { <AreaPage area=Area::Office /> } />
                        <Route path=path!("/agencia") view=|| view! { <AreaPage area=Area::Agency /> } />
                        <Route path=path!("/politica") view=|| view! { <AreaPage area=Area::Policy /> } />
                        <Route path=path!("/admin") view=|| view! { <AreaPage area=Area::Admin /> } />
                    </Routes>
                </Layout>
            </Router>
        </I18nContextProvider>
    }
}
