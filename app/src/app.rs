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
use crate::citizen::pages::{CitizenAccountPage, CitizenActivatePage};
use crate::coverage::admin::{AdminIndicatorPage, AdminIndicatorsPage};
use crate::eligibility::pages::{BundlePage, OutreachPage, ReceiptPage};
use crate::i18n::*;
use crate::layout::Layout;
use crate::pages::{HomePage, NotFound};
use crate::portal::pages::{ScreenerPage, TrackPage};
use crate::registry::pages::{
    CardPage, DuplicatesPage, EditPersonPage, FactsPage, NewPersonPage, PairPage, PeoplePage,
    PersonPage, RelativesPage,
};
use crate::rules::pages::{RuleEditorPage, RulesPage};
use crate::staff::pages::{
    AccountPage, ActivatePage, AdminApiClientsPage, AdminNewStaffPage, AdminPage,
    AdminSessionsPage, AdminStaffPage, AgencyPage, AgencyProgramPage, OfficePage, OfficeStaffPage,
    PolicyPage, SignInPage,
};
use crate::tracking::pages::{CasePage, ReferralPage, TimelinePage};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::security::set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <meta name="csrf-token" content=crate::staff::form_state::use_csrf_token() />
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
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                        <Route path=path!("/programas") view=ProgramsPage ssr=SsrMode::Async />
                        <Route path=path!("/revisa") view=ScreenerPage ssr=SsrMode::Async />
                        <Route path=path!("/seguimiento") view=TrackPage />
                        <Route path=path!("/seguimiento/opinion") view=TrackPage />
                        <Route path=path!("/mi-cuenta") view=CitizenAccountPage ssr=SsrMode::Async />
                        // Pages answering a post made to their own address (the browser shows
                        // that address, and hydration must find the same page there).
                        <Route path=path!("/mi-cuenta/opinion") view=CitizenAccountPage ssr=SsrMode::Async />
                        <Route path=path!("/mi-cuenta/activar") view=CitizenActivatePage />
                        <Route path=path!("/entrar") view=SignInPage ssr=SsrMode::Async />
                        <Route path=path!("/activar") view=ActivatePage />
                        <Route path=path!("/cuenta") view=AccountPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina") view=OfficePage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/personal/:id") view=OfficeStaffPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/personas") view=PeoplePage />
                        <Route path=path!("/oficina/personas/nueva") view=NewPersonPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/persona/:id") view=PersonPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/persona/:id/codigo") view=PersonPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/persona/:id/editar") view=EditPersonPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/persona/:id/familia") view=RelativesPage />
                        <Route path=path!("/oficina/persona/:id/datos") view=FactsPage />
                        <Route path=path!("/oficina/persona/:id/tarjeta") view=CardPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/persona/:id/que-paso") view=BundlePage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/persona/:id/recibo") view=ReceiptPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/persona/:id/historial") view=TimelinePage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/alcance") view=OutreachPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/duplicados") view=DuplicatesPage ssr=SsrMode::Async />
                        <Route path=path!("/oficina/duplicados/:id") view=PairPage ssr=SsrMode::Async />
                        <Route path=path!("/agencia") view=AgencyPage ssr=SsrMode::Async />
                        <Route path=path!("/agencia/programas/:code") view=AgencyProgramPage ssr=SsrMode::Async />
                        <Route path=path!("/agencia/solicitud/:id") view=CasePage ssr=SsrMode::Async />
                        <Route path=path!("/agencia/canalizacion/:id") view=ReferralPage ssr=SsrMode::Async />
                        <Route path=path!("/politica") view=PolicyPage ssr=SsrMode::Async />
                        <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/personal/nuevo") view=AdminNewStaffPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/personal/:id") view=AdminStaffPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/reglas") view=RulesPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/reglas/:code") view=RuleEditorPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/indicadores") view=AdminIndicatorsPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/indicadores/:code") view=AdminIndicatorPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/sesiones") view=AdminSessionsPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/api") view=AdminApiClientsPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/importar") view=crate::staff::imports::AdminImportsPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/importar/:id") view=crate::staff::imports::AdminImportPage ssr=SsrMode::Async />
                    </Routes>
                </Layout>
            </Router>
        </I18nContextProvider>
    }
}
