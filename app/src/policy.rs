//! The access table: every route, form and server function of the application, and what it
//! needs. The server's access layer reads it for every request (a path that is not here is not
//! served), a test fails when a route or a server function is added without an entry, and the
//! authorization matrix test walks it for every role.

use crate::domain::access::Permission;

/// What a request needs before it reaches its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in staff member.
    SignedIn,
    /// A citizen signed in to their own account (`/mi-cuenta`); staff sessions do not count.
    Citizen,
    /// A signed-in staff member whose role has the permission. The handler still checks the
    /// scope of the object it acts on.
    Needs(Permission),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Leptos page (GET).
    Page,
    /// An HTML form post that works without JavaScript (carries the CSRF token).
    Form,
    /// A server function (POST, called by the hydrated app).
    ServerFn,
    /// A multipart form post with a file, working without JavaScript: the CSRF token is one of
    /// its fields, the permission is checked before the body is read, and the body may be as
    /// large as an upload allows.
    Upload,
    /// Anything else: probes, the language switch, static files.
    Other,
}

#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: Method,
    /// Axum syntax: `{id}` matches one segment, `{*rest}` the rest of the path.
    pub path: &'static str,
    pub kind: Kind,
    pub access: Access,
}

const fn e(method: Method, path: &'static str, kind: Kind, access: Access) -> Endpoint {
    Endpoint {
        method,
        path,
        kind,
        access,
    }
}

use Access::{Citizen, Needs, Public, SignedIn};
use Kind::{Form, Other, Page, ServerFn, Upload};
use Method::{Get, Post};
use Permission::*;

pub const ENDPOINTS: &[Endpoint] = &[
    // Public pages and probes.
    e(Get, "/", Page, Public),
    e(Get, "/programas", Page, Public),
    e(Get, "/revisa", Page, Public),
    e(Post, "/revisa", Form, Public),
    e(Post, "/api/portal/screening", ServerFn, Public),
    e(Get, "/seguimiento", Page, Public),
    e(Post, "/seguimiento", Form, Public),
    e(Get, "/seguimiento/opinion", Page, Public),
    e(Post, "/seguimiento/opinion", Form, Public),
    // The citizen's account: the page shows the sign-in form to anyone else; the handlers and
    // the server function act only for the citizen of the session (their own cookie), never on
    // an id from the request.
    e(Get, "/mi-cuenta", Page, Public),
    e(Post, "/mi-cuenta", Form, Public),
    e(Get, "/mi-cuenta/activar", Page, Public),
    e(Post, "/mi-cuenta/activar", Form, Public),
    e(Post, "/mi-cuenta/salir", Form, Public),
    e(Get, "/mi-cuenta/opinion", Page, Public),
    e(Post, "/mi-cuenta/opinion", Form, Citizen),
    e(Post, "/api/citizen/account", ServerFn, Public),
    e(Get, "/entrar", Page, Public),
    e(Post, "/entrar", Form, Public),
    e(Get, "/activar", Page, Public),
    e(Post, "/activar", Form, Public),
    e(Get, "/idioma/{lang}", Other, Public),
    e(Get, "/healthz", Other, Public),
    e(Get, "/readyz", Other, Public),
    e(Get, "/favicon.svg", Other, Public),
    e(Get, "/pkg/{*rest}", Other, Public),
    e(Post, "/api/catalog", ServerFn, Public),
    e(Post, "/api/me", ServerFn, Public),
    e(Post, "/api/demo_accounts", ServerFn, Public),
    // Any signed-in staff member: their own account.
    e(Get, "/cuenta", Page, SignedIn),
    e(Post, "/cuenta", Form, SignedIn),
    e(Post, "/salir", Form, SignedIn),
    // Office.
    e(Get, "/oficina", Page, Needs(ViewOffice)),
    e(Post, "/api/office", ServerFn, Needs(ViewOffice)),
    e(Get, "/oficina/personal/{id}", Page, Needs(ViewOfficeStaff)),
    e(Post, "/api/office/staff", ServerFn, Needs(ViewOfficeStaff)),
    e(
        Post,
        "/api/office/staff_member",
        ServerFn,
        Needs(ViewOfficeStaff),
    ),
    // Registry (office roles; one registry for the city, every view audited).
    e(Get, "/oficina/personas", Page, Needs(SearchPeople)),
    e(Post, "/oficina/personas", Form, Needs(SearchPeople)),
    e(Get, "/oficina/personas/nueva", Page, Needs(RegisterPerson)),
    e(
        Post,
        "/api/registry/intake",
        ServerFn,
        Needs(RegisterPerson),
    ),
    e(Post, "/oficina/personas/nueva", Form, Needs(RegisterPerson)),
    e(Get, "/oficina/persona/{id}", Page, Needs(ViewPerson)),
    e(Post, "/api/registry/profile", ServerFn, Needs(ViewPerson)),
    e(Post, "/oficina/persona/{id}", Form, Needs(RevealId)),
    e(Get, "/oficina/persona/{id}/codigo", Page, Needs(ViewPerson)),
    e(
        Post,
        "/oficina/persona/{id}/codigo",
        Form,
        Needs(EditPerson),
    ),
    e(Get, "/oficina/tarjeta/{token}", Other, Needs(ViewPerson)),
    e(
        Get,
        "/oficina/persona/{id}/tarjeta",
        Page,
        Needs(ViewPerson),
    ),
    e(Post, "/api/registry/card", ServerFn, Needs(ViewPerson)),
    e(Get, "/oficina/persona/{id}/editar", Page, Needs(EditPerson)),
    e(
        Post,
        "/oficina/persona/{id}/editar",
        Form,
        Needs(EditPerson),
    ),
    e(
        Get,
        "/oficina/persona/{id}/familia",
        Page,
        Needs(EditPerson),
    ),
    e(
        Post,
        "/oficina/persona/{id}/familia",
        Form,
        Needs(EditPerson),
    ),
    e(Get, "/oficina/persona/{id}/datos", Page, Needs(EditPerson)),
    e(Post, "/oficina/persona/{id}/datos", Form, Needs(EditPerson)),
    e(
        Get,
        "/oficina/persona/{id}/que-paso",
        Page,
        Needs(RequestPrograms),
    ),
    e(
        Post,
        "/oficina/persona/{id}/que-paso",
        Form,
        Needs(RequestPrograms),
    ),
    e(
        Post,
        "/api/eligibility/bundle",
        ServerFn,
        Needs(RequestPrograms),
    ),
    e(
        Get,
        "/oficina/persona/{id}/recibo",
        Page,
        Needs(RequestPrograms),
    ),
    e(
        Post,
        "/api/eligibility/receipt",
        ServerFn,
        Needs(RequestPrograms),
    ),
    e(Get, "/oficina/alcance", Page, Needs(RequestPrograms)),
    e(
        Post,
        "/api/office/outreach",
        ServerFn,
        Needs(RequestPrograms),
    ),
    e(
        Get,
        "/oficina/persona/{id}/historial",
        Page,
        Needs(ViewPerson),
    ),
    e(
        Post,
        "/oficina/persona/{id}/historial",
        Form,
        Needs(WriteNotes),
    ),
    e(Post, "/api/registry/timeline", ServerFn, Needs(ViewPerson)),
    e(
        Post,
        "/api/office/escalations",
        ServerFn,
        Needs(ViewOfficeStaff),
    ),
    e(Get, "/oficina/duplicados", Page, Needs(ReviewDuplicates)),
    e(
        Post,
        "/api/registry/duplicates",
        ServerFn,
        Needs(ReviewDuplicates),
    ),
    e(
        Get,
        "/oficina/duplicados/{id}",
        Page,
        Needs(ReviewDuplicates),
    ),
    e(
        Post,
        "/api/registry/pair",
        ServerFn,
        Needs(ReviewDuplicates),
    ),
    e(
        Post,
        "/oficina/duplicados/{id}",
        Form,
        Needs(ReviewDuplicates),
    ),
    // Agency.
    e(Get, "/agencia", Page, Needs(ViewAgency)),
    e(Post, "/api/agency/programs", ServerFn, Needs(ViewAgency)),
    e(Get, "/agencia/programas/{code}", Page, Needs(ViewAgency)),
    e(Post, "/api/agency/program", ServerFn, Needs(ViewAgency)),
    e(Post, "/api/agency/staff", ServerFn, Needs(ViewAgencyStaff)),
    e(Post, "/agencia", Form, Needs(DecideRequests)),
    e(Post, "/api/agency/queue", ServerFn, Needs(ViewAgency)),
    e(Get, "/agencia/solicitud/{id}", Page, Needs(DecideRequests)),
    e(Post, "/agencia/solicitud/{id}", Form, Needs(DecideRequests)),
    // Every request of the agency's programs for its own system: CSV or JSON.
    e(Get, "/agencia/solicitudes.csv", Other, Needs(ViewAgency)),
    e(Get, "/agencia/solicitudes.json", Other, Needs(ViewAgency)),
    e(Post, "/api/agency/case", ServerFn, Needs(DecideRequests)),
    e(
        Post,
        "/api/agency/escalations",
        ServerFn,
        Needs(ViewAgencyStaff),
    ),
    e(Post, "/api/work/referrals", ServerFn, Needs(ReferPeople)),
    e(
        Post,
        "/api/office/workload",
        ServerFn,
        Needs(ViewOfficeStaff),
    ),
    e(
        Post,
        "/api/agency/workload",
        ServerFn,
        Needs(ViewAgencyStaff),
    ),
    e(
        Get,
        "/agencia/canalizacion/{id}",
        Page,
        Needs(DecideRequests),
    ),
    e(
        Post,
        "/agencia/canalizacion/{id}",
        Form,
        Needs(DecideRequests),
    ),
    e(
        Post,
        "/api/agency/referral",
        ServerFn,
        Needs(DecideRequests),
    ),
    // Policy: aggregates only.
    e(Get, "/politica", Page, Needs(ViewAggregates)),
    e(
        Post,
        "/api/policy/overview",
        ServerFn,
        Needs(ViewAggregates),
    ),
    e(
        Post,
        "/api/policy/coverage",
        ServerFn,
        Needs(ViewAggregates),
    ),
    e(Post, "/api/policy/figures", ServerFn, Needs(ViewAggregates)),
    // The numbers of every chart as CSV or JSON: /politica/cobertura.csv, programas.json…
    e(Get, "/politica/{file}", Other, Needs(ViewAggregates)),
    // Administration: configuration and accounts, never case content.
    e(Get, "/admin", Page, Needs(ManageStaff)),
    e(Post, "/api/admin/staff", ServerFn, Needs(ManageStaff)),
    e(Get, "/admin/personal/nuevo", Page, Needs(ManageStaff)),
    e(Post, "/admin/personal/nuevo", Form, Needs(ManageStaff)),
    e(Get, "/admin/personal/{id}", Page, Needs(ManageStaff)),
    e(Post, "/admin/personal/{id}", Form, Needs(ManageStaff)),
    e(
        Post,
        "/api/admin/staff_member",
        ServerFn,
        Needs(ManageStaff),
    ),
    e(Post, "/api/admin/options", ServerFn, Needs(ManageStaff)),
    e(Get, "/admin/reglas", Page, Needs(ManageRules)),
    e(Post, "/api/admin/rules", ServerFn, Needs(ManageRules)),
    e(Get, "/admin/reglas/{code}", Page, Needs(ManageRules)),
    e(Post, "/admin/reglas/{code}", Form, Needs(ManageRules)),
    e(Post, "/api/admin/rule", ServerFn, Needs(ManageRules)),
    e(Get, "/admin/indicadores", Page, Needs(ManageRules)),
    e(Get, "/admin/indicadores/{code}", Page, Needs(ManageRules)),
    e(Post, "/admin/indicadores/{code}", Form, Needs(ManageRules)),
    e(Post, "/api/admin/indicators", ServerFn, Needs(ManageRules)),
    e(Get, "/admin/api", Page, Needs(ManageStaff)),
    e(Post, "/admin/api", Form, Needs(ManageStaff)),
    e(Post, "/api/admin/api_clients", ServerFn, Needs(ManageStaff)),
    e(Get, "/admin/importar", Page, Needs(ManageStaff)),
    e(Post, "/admin/importar", Upload, Needs(ManageStaff)),
    e(Post, "/api/admin/imports", ServerFn, Needs(ManageStaff)),
    e(Get, "/admin/importar/{id}", Page, Needs(ManageStaff)),
    e(Post, "/admin/importar/{id}", Form, Needs(ManageStaff)),
    e(Post, "/api/admin/import", ServerFn, Needs(ManageStaff)),
    e(
        Get,
        "/admin/importar/{id}/informe.csv",
        Other,
        Needs(ManageStaff),
    ),
    e(Get, "/admin/sesiones", Page, Needs(ManageSessions)),
    e(Post, "/admin/sesiones", Form, Needs(ManageSessions)),
    e(Post, "/api/admin/sessions", ServerFn, Needs(ManageSessions)),
];

/// The entry for a request, if any.
pub fn lookup(method: Method, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.method == method && matches(e.path, path))
}

/// True when `path` matches the pattern (`{x}` one non-empty segment, `{*x}` the rest).
pub fn matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.trim_start_matches('/').split('/');
    let mut have = path.trim_start_matches('/').split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) if w.starts_with("{*") => return !h.is_empty(),
            (Some(w), Some(h)) if w.starts_with('{') => {
                if h.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_segments() {
        assert!(matches("/", "/"));
        assert!(matches("/admin/personal/{id}", "/admin/personal/12"));
        assert!(!matches("/admin/personal/{id}", "/admin/personal/"));
        assert!(!matches("/admin/personal/{id}", "/admin/personal/12/x"));
        assert!(matches("/pkg/{*rest}", "/pkg/angel.wasm"));
        assert!(matches("/pkg/{*rest}", "/pkg/a/b.js"));
        assert!(!matches("/pkg/{*rest}", "/pkg/"));
        assert!(!matches("/admin", "/admin/x"));
    }

    #[test]
    fn every_entry_is_unique() {
        for (i, a) in ENDPOINTS.iter().enumerate() {
            for b in &ENDPOINTS[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} twice",
                    a.path
                );
            }
        }
    }

    #[test]
    fn no_mutation_on_get_and_server_fns_post_only() {
        for e in ENDPOINTS {
            match e.kind {
                Kind::Form | Kind::ServerFn | Kind::Upload => {
                    assert_eq!(e.method, Method::Post, "{}", e.path)
                }
                Kind::Page => assert_eq!(e.method, Method::Get, "{}", e.path),
                Kind::Other => {}
            }
        }
    }
}
