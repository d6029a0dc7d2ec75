//! Security requirements 8–19 of SECURITY.md, over HTTP against the real application (SQLite,
//! and PostgreSQL when `ANGEL_TEST_DATABASE_URL` is set): the authorization matrix, CSRF,
//! headers, throttling, sessions and cookies, the audit chain.

use angel_app::domain::access::{Permission, Role};
use angel_app::policy::{Access, ENDPOINTS, Kind, Method};
use angel_app::ssr::audit::{Broken, Verdict, verify};
use angel_tests::{Anchor, Browser, Page, TestApp, TestDb};
use chrono::TimeDelta;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait};

const PASSWORD: &str = "las jacarandas moradas de marzo";

/// A new-account form with a bad username, no name, and an office role without an office.
const INVALID_NEW_STAFF: &[(&str, &str)] = &[
    ("username", "a b"),
    ("display_name", ""),
    ("role", "caseworker"),
    ("agency", ""),
    ("office", ""),
    ("action", ""),
    ("version", ""),
];

/// One account per role: caseworker and supervisor at the first office, agency staff and head
/// at SEDESO.
async fn staff_of_every_role(app: &TestApp) -> Vec<(Role, String)> {
    let mut accounts = Vec::new();
    for role in Role::STAFF {
        let username = format!("t.{}", role.code());
        let anchor = match role {
            Role::Caseworker | Role::OfficeSupervisor => Anchor::Office("MOD-09002"),
            Role::AgencyStaff | Role::AgencyHead => Anchor::Agency("SEDESO"),
            _ => Anchor::None,
        };
        app.staff(&username, role.code(), anchor, PASSWORD).await;
        accounts.push((role, username));
    }
    accounts
}

/// Objects the sampled requests act on.
struct Objects {
    /// A caseworker of MOD-09002 (inside the supervisor's scope).
    staff: i32,
    /// A registered person.
    person: i32,
    /// That person's card token.
    card_token: String,
    /// A pair of probable duplicates waiting for review.
    pair: i32,
    /// The receipt of that person's request (path and query).
    receipt: String,
    /// That request (COMCOM, run by SEDESO: the agency roles' own agency).
    enrollment: i32,
    /// An open referral of that person to SVIOL (SEDESO).
    referral: i32,
    /// A file uploaded at /admin/importar, previewed (it has a report).
    upload: i32,
}

/// A concrete path for a pattern, with objects inside the SEDESO / MOD-09002 scope.
fn sample_path(pattern: &str, objects: &Objects) -> String {
    if pattern == "/oficina/persona/{id}/recibo" {
        return objects.receipt.clone();
    }
    let id = if pattern.starts_with("/oficina/persona/") {
        objects.person
    } else if pattern.starts_with("/agencia/solicitud/") {
        objects.enrollment
    } else if pattern.starts_with("/oficina/duplicados/") {
        objects.pair
    } else if pattern.starts_with("/agencia/canalizacion/") {
        objects.referral
    } else if pattern.starts_with("/admin/importar/") {
        objects.upload
    } else {
        objects.staff
    };
    let code = if pattern.starts_with("/admin/indicadores/") {
        "older_adults_68"
    } else {
        "UTILES"
    };
    pattern
        .replace("{id}", &id.to_string())
        .replace("{token}", &objects.card_token)
        .replace("{code}", code)
        .replace("{lang}", "en")
        .replace("{*rest}", "angel.js")
        .replace("{file}", "programas.csv")
}

/// The arguments a server function needs.
fn sample_args(path: &str, objects: &Objects) -> Vec<(&'static str, String)> {
    match path {
        "/api/office/staff_member" | "/api/admin/staff_member" => {
            vec![("id", objects.staff.to_string())]
        }
        "/api/registry/profile" | "/api/registry/card" => {
            vec![("id", objects.person.to_string())]
        }
        "/api/registry/pair" => vec![("id", objects.pair.to_string())],
        "/api/admin/import" => vec![("id", objects.upload.to_string())],
        "/api/agency/case" => vec![("id", objects.enrollment.to_string())],
        "/api/agency/referral" => vec![("id", objects.referral.to_string())],
        "/api/registry/timeline" => vec![
            ("id", objects.person.to_string()),
            ("agency", String::new()),
            ("program", String::new()),
        ],
        "/api/agency/queue" => ["program", "status", "borough", "due", "escalated"]
            .into_iter()
            .map(|k| (k, String::new()))
            .collect(),
        "/api/eligibility/bundle" => vec![
            ("person", objects.person.to_string()),
            ("events", "MADRE_SOLA,CUMPLI_68".to_owned()),
        ],
        "/api/eligibility/receipt" => vec![
            ("person", objects.person.to_string()),
            (
                "ids",
                objects
                    .receipt
                    .rsplit('=')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ),
        ],
        "/oficina/persona/{id}" => vec![("kind", "curp".to_owned())],
        "/api/agency/program" => vec![("code", "UTILES".to_owned())],
        "/api/policy/coverage" => vec![("indicator", String::new())],
        "/api/policy/figures" => vec![("borough", String::new())],
        "/api/portal/screening" => {
            vec![("evento", "CUMPLI_68".to_owned()), ("para", String::new())]
        }
        "/api/admin/rule" => vec![
            ("code", "UTILES".to_owned()),
            ("impact", "false".to_owned()),
        ],
        _ => vec![],
    }
}

/// A small file uploaded at /admin/importar by the administrator, once its preview is done.
async fn previewed_upload(app: &TestApp, accounts: &[(Role, String)]) -> i32 {
    let (_, username) = accounts
        .iter()
        .find(|(r, _)| *r == Role::Administrator)
        .expect("an administrator");
    let mut admin = app.browser();
    admin.sign_in(username, PASSWORD).await;
    let sedeso = app.agency_id("SEDESO").await.to_string();
    let file = "given_names,first_surname,birth_date,sex,birth_state,borough,colonia,postal_code\n\
                Ana,Ruiz,01/01/1990,M,DF,Tlalpan,Centro,14000\n";
    let page = admin
        .upload(
            "/admin/importar",
            &[("agency", &sedeso)],
            &[("file", "x.csv", file.as_bytes())],
            true,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let id: i32 = page
        .header("location")
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the upload's page");
    for _ in 0..200 {
        let row = angel_entity::legacy_upload::Entity::find_by_id(id)
            .one(&app.test_db.db)
            .await
            .unwrap()
            .unwrap();
        if row.status == "previewed" {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the upload was never previewed");
}

async fn request(
    browser: &mut Browser<'_>,
    method: Method,
    kind: Kind,
    path: &str,
    args: &[(&'static str, String)],
) -> Page {
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match (method, kind) {
        (Method::Get, _) => browser.get(path).await,
        (Method::Post, Kind::Form) => browser.submit(path, &args).await,
        (Method::Post, Kind::Upload) => browser.upload(path, &args, &[], true).await,
        (Method::Post, _) => browser.call(path, &args).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_the_policy_allows_on_every_endpoint() {
    let app = TestApp::spawn().await;
    let accounts = staff_of_every_role(&app).await;
    // A caseworker of MOD-09002: inside the supervisor's scope.
    let colleague = app
        .staff(
            "t.colega",
            "caseworker",
            Anchor::Office("MOD-09002"),
            PASSWORD,
        )
        .await;
    let mut browsers: Vec<(Option<Role>, Browser<'_>)> = vec![(None, app.browser())];
    for (role, username) in &accounts {
        let mut b = app.browser();
        b.sign_in(username, PASSWORD).await;
        browsers.push((Some(*role), b));
    }
    let caseworker = browsers
        .iter_mut()
        .find(|(r, _)| *r == Some(Role::Caseworker))
        .map(|(_, b)| b)
        .unwrap();
    let mut form = angel_tests::person_form("Ernesto", "Gómez", "Delgado", "1956-12-31");
    form.push(("curp", "GODE561231HDFRRN00"));
    let person = caseworker.register(&form).await;
    let card_token = angel_entity::person::Entity::find_by_id(person)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .card_token;
    // The same person registered again as "someone else": a pair for the review queue.
    let mut again = angel_tests::person_form("Ernesto", "Gomez", "Delgado", "1956-12-31");
    again.push(("confirm", "new"));
    caseworker.register(&again).await;
    // A request of the open-to-all COMCOM, for its receipt.
    let enrollment = caseworker.request_comcom(person).await.id;
    let receipt = format!("/oficina/persona/{person}/recibo?ids={enrollment}");
    let pair = angel_entity::duplicate_review::Entity::find()
        .one(&app.test_db.db)
        .await
        .unwrap()
        .expect("a queued pair")
        .id;
    // A referral of that person to SEDESO's SVIOL, for the receiving agency's screen.
    let page = caseworker
        .submit(
            &format!("/oficina/persona/{person}/historial"),
            &[
                ("do", "refer"),
                ("program", "SVIOL"),
                ("reason", "violence"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let referral = angel_entity::referral::Entity::find()
        .one(&app.test_db.db)
        .await
        .unwrap()
        .expect("a referral")
        .id;
    let upload = previewed_upload(&app, &accounts).await;
    let objects = Objects {
        staff: colleague,
        person,
        card_token,
        pair,
        receipt,
        enrollment,
        referral,
        upload,
    };
    let mut checked = 0;
    for endpoint in ENDPOINTS {
        // Static files are not built in tests; sign-out and session ends would change the actors.
        if matches!(endpoint.path, "/pkg/{*rest}" | "/favicon.svg" | "/salir") {
            continue;
        }
        let path = sample_path(endpoint.path, &objects);
        let args = sample_args(endpoint.path, &objects);
        for (role, browser) in &mut browsers {
            let page = request(browser, endpoint.method, endpoint.kind, &path, &args).await;
            let allowed = match endpoint.access {
                Access::Public => true,
                // No browser here holds a citizen's session (tests/citizen.rs covers them).
                Access::Citizen => false,
                Access::SignedIn => role.is_some(),
                Access::Needs(p) => role.is_some_and(|r| r.has(p)),
            };
            let context = format!(
                "{:?} {} as {role:?}: {} {}",
                endpoint.method,
                path,
                page.status,
                &page.body.chars().take(200).collect::<String>()
            );
            match (allowed, role) {
                (false, _) if endpoint.access == Access::Citizen => {
                    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{context}");
                }
                (false, None) if endpoint.kind == Kind::Page => {
                    assert_eq!(page.status, StatusCode::SEE_OTHER, "{context}");
                    assert_eq!(page.header("location"), "/entrar", "{context}");
                }
                (false, None) => assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{context}"),
                (false, Some(_)) => assert_eq!(page.status, StatusCode::FORBIDDEN, "{context}"),
                (true, _) => {
                    assert!(
                        !matches!(
                            page.status,
                            StatusCode::UNAUTHORIZED
                                | StatusCode::FORBIDDEN
                                | StatusCode::NOT_FOUND
                        ) && !page.status.is_server_error(),
                        "{context}"
                    );
                    if endpoint.method == Method::Get && endpoint.kind == Kind::Page {
                        assert_eq!(page.status, StatusCode::OK, "{context}");
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} combinations checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_outside_the_actors_scope_answer_404() {
    let app = TestApp::spawn().await;
    let accounts = staff_of_every_role(&app).await;
    let elsewhere = app
        .staff(
            "t.lejos",
            "caseworker",
            Anchor::Office("MOD-09003"),
            PASSWORD,
        )
        .await;
    let other_agency_head = app
        .staff("t.otra", "agency_head", Anchor::Agency("STYFE"), PASSWORD)
        .await;
    let _ = other_agency_head;
    let login = |role: Role| {
        accounts
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, u)| u.clone())
            .unwrap()
    };

    let mut supervisor = app.browser();
    supervisor
        .sign_in(&login(Role::OfficeSupervisor), PASSWORD)
        .await;
    let page = supervisor
        .get(&format!("/oficina/personal/{elsewhere}"))
        .await;
    assert_eq!(
        page.status,
        StatusCode::NOT_FOUND,
        "another office's member"
    );
    assert!(!page.body.contains("t.lejos"));
    let page = supervisor
        .call(
            "/api/office/staff_member",
            &[("id", &elsewhere.to_string())],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = supervisor.call("/api/office/staff", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("t.colega") || page.body.contains("t.caseworker"));
    assert!(
        !page.body.contains("t.lejos"),
        "lists are built with the scope: {}",
        page.body
    );

    let mut head = app.browser();
    head.sign_in(&login(Role::AgencyHead), PASSWORD).await;
    // SEGDES belongs to STyFE, not to SEDESO.
    let page = head.get("/agencia/programas/SEGDES").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = head
        .call("/api/agency/program", &[("code", "SEGDES")])
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = head.get("/agencia/programas/UTILES").await;
    assert_eq!(page.status, StatusCode::OK);
    let page = head.call("/api/agency/staff", &[]).await;
    assert!(
        !page.body.contains("t.otra") && page.body.contains("t.agency_staff"),
        "{}",
        page.body
    );

    let mut admin = app.browser();
    admin.sign_in(&login(Role::Administrator), PASSWORD).await;
    let page = admin.get("/admin/personal/999999").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // Administrators manage accounts, not case content: no office or agency screens.
    assert_eq!(admin.get("/oficina").await.status, StatusCode::FORBIDDEN);

    let mut policy = app.browser();
    policy.sign_in(&login(Role::PolicyOfficer), PASSWORD).await;
    assert_eq!(
        policy
            .get(&format!("/oficina/personal/{elsewhere}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(policy.get("/politica").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_server_function_has_a_policy_entry() {
    let routes = leptos_axum::generate_route_list(angel_app::App);
    let missing = angel_server::http::unlisted_endpoints(&routes);
    assert!(
        missing.is_empty(),
        "add these to angel_app::policy: {missing:?}"
    );
    // And no entry is stale: every listed server function exists.
    let registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(p, _)| p)
        .collect();
    for e in ENDPOINTS.iter().filter(|e| e.kind == Kind::ServerFn) {
        assert!(
            registered.contains(&e.path),
            "{} is listed but not registered",
            e.path
        );
    }
    // Server functions never answer GET.
    let app = TestApp::spawn().await;
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let (status, _) = app.get(path).await;
        assert_ne!(status, StatusCode::OK, "GET {path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_writes_are_refused_and_no_js_forms_need_the_token() {
    let app = TestApp::spawn().await;
    app.staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    let mut browser = app.browser();
    browser.sign_in("t.ana", PASSWORD).await;
    let token = browser.csrf().await;

    // A valid session cookie with a foreign Origin: 403, for a server function and a form.
    let page = browser
        .post_with("/api/me", &[], Some("https://evil.example"))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("Referencia / Reference: "),
        "request id in the error body"
    );
    let page = browser
        .post_with("/salir", &[("csrf", &token)], Some("https://evil.example"))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // No Origin and no Sec-Fetch-Site at all: not from a page, refused.
    let page = browser.post_with("/salir", &[("csrf", &token)], None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Same origin but no token, or a wrong one: refused.
    let origin = app.base.clone();
    let page = browser.post_with("/salir", &[], Some(&origin)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = browser
        .post_with("/salir", &[("csrf", "forged")], Some(&origin))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/oficina").await.status,
        StatusCode::OK,
        "still signed in"
    );

    // The form post with its token works.
    let page = browser.submit("/salir", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        browser.get("/oficina").await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
    assert_eq!(app.test_db.count("session").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_form_fields_and_oversize_bodies_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    app.staff("t.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let mut admin = app.browser();
    admin.sign_in("t.admin", PASSWORD).await;
    let before = app.test_db.count("staff").await;
    // Mass assignment: a field the form does not have.
    let page = admin
        .submit(
            "/admin/personal/nuevo",
            &[
                ("username", "nuevo"),
                ("display_name", "N"),
                ("role", "caseworker"),
                ("office", "1"),
                ("version", "9"),
                ("password_hash", "x"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let big = "x".repeat(70 * 1024);
    let page = admin
        .submit("/admin/personal/nuevo", &[("display_name", &big)])
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Field-level errors in Spanish, and in English with the cookie.
    let page = admin
        .submit("/admin/personal/nuevo", INVALID_NEW_STAFF)
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Usa de 3 a 64 letras"), "{}", page.body);
    assert!(page.body.contains("Este rol necesita un módulo."));
    assert!(page.body.contains("aria-invalid=\"true\""));
    admin.cookies.insert("i18n_pref_locale".into(), "en".into());
    let page = admin
        .submit("/admin/personal/nuevo", INVALID_NEW_STAFF)
        .await;
    assert!(
        page.body.contains("This role needs an office."),
        "{}",
        page.body
    );
    assert_eq!(app.test_db.count("staff").await, before, "nothing written");
}

/// Replaces the values of `attribute="…"` with `N`.
fn mask(body: &str, attribute: &str) -> String {
    let marker = format!("{attribute}=\"");
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find(&marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let end = rest.find('"').unwrap_or(0);
        out.push('N');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The per-response nonce masked (Leptos 0.8 also writes it in the preload links' `crossorigin`).
fn mask_nonce(body: &str) -> String {
    mask(&mask(body, "nonce"), "crossorigin")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_user_and_wrong_password_get_identical_answers() {
    let app = TestApp::spawn().await;
    app.staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    let mut browser = app.browser();
    let wrong = browser
        .submit(
            "/entrar",
            &[
                ("username", "t.ana"),
                ("password", "no es la contraseña de ana"),
            ],
        )
        .await;
    let unknown = browser
        .submit(
            "/entrar",
            &[
                ("username", "t.nadie"),
                ("password", "no es la contraseña de ana"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    assert!(
        wrong
            .body
            .contains("El usuario o la contraseña no son correctos.")
    );
    // Byte-identical but for the per-response CSP nonce.
    assert_eq!(mask_nonce(&unknown.body), mask_nonce(&wrong.body));
    assert!(!wrong.body.contains("t.ana"), "nothing typed is echoed");
    let names = |p: &Page| {
        let mut n: Vec<String> = p.headers.keys().map(|k| k.to_string()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&unknown), names(&wrong));
}

async fn attempt(browser: &mut Browser<'_>, username: &str, password: &str) -> Page {
    browser
        .submit("/entrar", &[("username", username), ("password", password)])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_delay_then_lock_the_username_known_or_not() {
    // The per-IP limit is tested on its own below; here it must not get in the way.
    let test_db = TestDb::seeded().await;
    let mut settings = test_db.settings.clone();
    settings.sign_in_ip_burst = 1000;
    let app = TestApp::spawn_with(test_db, settings).await;
    app.staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    for username in ["t.ana", "t.nadie"] {
        let mut browser = app.browser();
        // Five free failures.
        for _ in 0..5 {
            assert_eq!(
                attempt(&mut browser, username, "otra frase que no es")
                    .await
                    .status,
                StatusCode::UNAUTHORIZED
            );
        }
        // Then each attempt must wait 1, 2, 4… seconds after the previous failure.
        let page = attempt(&mut browser, username, PASSWORD).await;
        assert_eq!(
            page.status,
            StatusCode::TOO_MANY_REQUESTS,
            "even the right password waits"
        );
        assert_eq!(page.header("retry-after"), "1");
        let mut failures = 5;
        let mut locked = None;
        for _ in 0..30 {
            let wait = angel_app::ssr::auth::throttle::delay_after(failures);
            app.clock.advance(wait);
            let page = attempt(&mut browser, username, "otra frase que no es").await;
            if page.status == StatusCode::TOO_MANY_REQUESTS {
                locked = Some(page);
                break;
            }
            assert_eq!(page.status, StatusCode::UNAUTHORIZED);
            failures += 1;
        }
        assert_eq!(failures, 20, "{username}: locked at 20 failures");
        let locked = locked.expect("locked");
        assert!(locked.body.contains("Demasiados intentos"));
        // The lock started at the 20th failure, one delay (60 s) before the refused attempt.
        app.clock.advance(TimeDelta::minutes(13));
        let page = attempt(&mut browser, username, PASSWORD).await;
        assert_eq!(
            page.status,
            StatusCode::TOO_MANY_REQUESTS,
            "still locked after 14 minutes"
        );
        app.clock.advance(TimeDelta::minutes(2));
        let page = attempt(&mut browser, username, PASSWORD).await;
        let expected = if username == "t.ana" {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(page.status, expected, "{username} after the lock");
    }
    let db = &app.test_db.db;
    let events = angel_entity::audit_event::Entity::find()
        .all(db)
        .await
        .unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "sign_in.locked")
            .count(),
        2
    );
    assert!(
        events
            .iter()
            .filter(|e| e.action == "sign_in.failed")
            .count()
            >= 40
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_ip_limit_answers_429() {
    let test_db = TestDb::seeded().await;
    let mut settings = test_db.settings.clone();
    settings.sign_in_ip_burst = 3;
    settings.sign_in_ip_refill_seconds = 600;
    let app = TestApp::spawn_with(test_db, settings).await;
    let mut browser = app.browser();
    let mut statuses = Vec::new();
    for i in 0..5 {
        let name = format!("t.x{i}");
        statuses.push(
            browser
                .submit(
                    "/entrar",
                    &[
                        ("username", &name),
                        ("password", "una frase cualquiera aqui"),
                    ],
                )
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..3], &[StatusCode::UNAUTHORIZED; 3]);
    assert_eq!(&statuses[3..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
}

fn cookie_attributes(line: &str) -> Vec<String> {
    line.split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cookies_are_http_only_same_site_and_rotate_at_sign_in() {
    let app = TestApp::spawn().await;
    app.staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    let mut browser = app.browser();
    let page = browser.sign_in("t.ana", PASSWORD).await;
    let line = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("angel_session="))
        .expect("session cookie");
    let attrs = cookie_attributes(&line);
    assert!(attrs.contains(&"httponly".to_owned()), "{line}");
    assert!(attrs.contains(&"samesite=lax".to_owned()), "{line}");
    assert!(attrs.contains(&"path=/".to_owned()), "{line}");
    assert!(
        !attrs.contains(&"secure".to_owned()),
        "plain http in development: {line}"
    );
    let token = browser.cookies["angel_session"].clone();
    assert!(token.len() >= 43, "at least 256 bits, base64");
    assert_eq!(page.header("location"), "/oficina");

    // Signing in again from the same browser replaces the session.
    browser.sign_in("t.ana", PASSWORD).await;
    let rotated = browser.cookies["angel_session"].clone();
    assert_ne!(rotated, token);
    assert_eq!(
        app.test_db.count("session").await,
        1,
        "the previous session was deleted"
    );
    let stored: Vec<String> = angel_entity::session::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.token_hash)
        .collect();
    assert!(!stored.contains(&rotated), "only the hash is stored");
    // The old token no longer signs anyone in.
    let mut thief = app.browser();
    thief.cookies.insert("angel_session".into(), token);
    assert_eq!(thief.get("/oficina").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_cookies_are_secure_and_host_prefixed() {
    let test_db = TestDb::seeded().await;
    let mut settings = test_db.settings.clone();
    settings.env = angel_server::config::Environment::Production;
    let app = TestApp::spawn_with(test_db, settings).await;
    app.staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    let mut browser = app.browser();
    let page = browser.get("/entrar").await;
    assert!(
        page.header("strict-transport-security")
            .contains("max-age=")
    );
    let csrf = browser
        .cookies
        .get("__Host-angel_csrf")
        .cloned()
        .expect("__Host- CSRF cookie");
    let origin = app.base.replace("http://", "https://");
    let page = browser
        .post_with(
            "/entrar",
            &[
                ("csrf", &csrf),
                ("username", "t.ana"),
                ("password", PASSWORD),
            ],
            Some(&origin),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let line = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-angel_session="))
        .expect("__Host- session cookie");
    let attrs = cookie_attributes(&line);
    assert!(
        attrs.contains(&"secure".to_owned())
            && attrs.contains(&"httponly".to_owned())
            && attrs.contains(&"path=/".to_owned()),
        "{line}"
    );
    assert!(
        !attrs.iter().any(|a| a.starts_with("domain=")),
        "__Host- cookies have no Domain: {line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_after_15_idle_minutes_and_10_hours() {
    let app = TestApp::spawn().await;
    app.staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    let mut browser = app.browser();
    browser.sign_in("t.ana", PASSWORD).await;
    // Activity keeps the session: 14 minutes twice.
    for _ in 0..2 {
        app.clock.advance(TimeDelta::minutes(14));
        assert_eq!(browser.get("/oficina").await.status, StatusCode::OK);
    }
    app.clock.advance(TimeDelta::minutes(15));
    let page = browser.get("/oficina").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "idle for 15 minutes");
    assert!(
        page.set_cookies()
            .iter()
            .any(|c| c.starts_with("angel_session=;") || c.contains("Max-Age=0")),
        "cookie cleared"
    );
    assert_eq!(app.test_db.count("session").await, 0);

    // Signing in again while the browser still holds the expired session's cookie: the new
    // session's cookie is the only one set (a removal after it would sign the person out).
    browser.sign_in("t.ana", PASSWORD).await;
    app.clock.advance(TimeDelta::minutes(16));
    let page = browser.sign_in("t.ana", PASSWORD).await;
    let sessions: Vec<String> = page
        .set_cookies()
        .into_iter()
        .filter(|c| c.starts_with("angel_session="))
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(browser.get("/oficina").await.status, StatusCode::OK);

    // Absolute: active every 10 minutes, the session still ends at 10 hours.
    browser.sign_in("t.ana", PASSWORD).await;
    let mut minutes = 0;
    loop {
        app.clock.advance(TimeDelta::minutes(10));
        minutes += 10;
        let status = browser.get("/oficina").await.status;
        if status != StatusCode::OK {
            assert_eq!(status, StatusCode::SEE_OTHER);
            break;
        }
        assert!(minutes < 700, "never ended");
    }
    assert_eq!(minutes, 600);
    let events = angel_entity::audit_event::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    let reasons: Vec<String> = events
        .iter()
        .filter(|e| e.action == "session.expired")
        .filter_map(|e| e.detail.clone())
        .collect();
    assert!(
        reasons.iter().any(|d| d.contains("idle"))
            && reasons.iter().any(|d| d.contains("absolute")),
        "{reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_an_account_and_resetting_its_password_end_its_sessions() {
    let app = TestApp::spawn().await;
    app.staff("t.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let ana = app
        .staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    let mut ana_browser = app.browser();
    ana_browser.sign_in("t.ana", PASSWORD).await;
    let mut admin = app.browser();
    admin.sign_in("t.admin", PASSWORD).await;

    let page = admin.get("/admin/sesiones").await;
    assert!(page.body.contains("t.ana"), "open sessions listed");
    let page = admin
        .submit(&format!("/admin/personal/{ana}"), &[("action", "disable")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        ana_browser.get("/oficina").await.status,
        StatusCode::SEE_OTHER
    );
    let page = ana_browser
        .submit("/entrar", &[("username", "t.ana"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "disabled accounts cannot sign in"
    );

    admin
        .submit(&format!("/admin/personal/{ana}"), &[("action", "enable")])
        .await;
    ana_browser.sign_in("t.ana", PASSWORD).await;
    let page = admin
        .submit(&format!("/admin/personal/{ana}"), &[("action", "reset")])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let token = page
        .body
        .split("class=\"one-time-token\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("token shown")
        .to_owned();
    assert_eq!(
        ana_browser.get("/oficina").await.status,
        StatusCode::SEE_OTHER,
        "reset ends sessions"
    );
    let page = ana_browser
        .submit("/entrar", &[("username", "t.ana"), ("password", PASSWORD)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    let new_password = "el río de los remedios corre";
    let page = ana_browser
        .submit(
            "/activar",
            &[
                ("username", "t.ana"),
                ("token", &token),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(ana_browser.get("/oficina").await.status, StatusCode::OK);
    let again = ana_browser
        .submit(
            "/activar",
            &[
                ("username", "t.ana"),
                ("token", &token),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "one-time tokens work once"
    );

    // The administrator ends a session from the list.
    let session = angel_entity::session::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.staff_id == ana)
        .unwrap();
    let page = admin
        .submit("/admin/sesiones", &[("session", &session.id.to_string())])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        ana_browser.get("/oficina").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_creates_an_account_that_opens_with_its_token_and_role_changes_are_audited()
 {
    let app = TestApp::spawn().await;
    app.staff("t.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let mut admin = app.browser();
    admin.sign_in("t.admin", PASSWORD).await;
    let office = angel_entity::office::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()[0]
        .id
        .to_string();
    let page = admin
        .submit(
            "/admin/personal/nuevo",
            &[
                ("username", "Luz.Mendez"),
                ("display_name", "Luz Méndez"),
                ("role", "caseworker"),
                ("agency", ""),
                ("office", &office),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let token = page
        .body
        .split("class=\"one-time-token\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    let again = admin
        .submit(
            "/admin/personal/nuevo",
            &[
                ("username", "luz.mendez"),
                ("display_name", "Otra"),
                ("role", "policy_officer"),
            ],
        )
        .await;
    assert!(again.body.contains("Ese usuario ya existe."));

    let mut luz = app.browser();
    // The rules apply: her own name is not a password.
    let page = luz
        .submit(
            "/activar",
            &[
                ("username", "luz.mendez"),
                ("token", &token),
                ("password", "Luz Méndez 1985 Luz"),
                ("confirm", "Luz Méndez 1985 Luz"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("palabras comunes"), "{}", page.body);
    let good = "tres tristes tigres en tlalpan";
    let page = luz
        .submit(
            "/activar",
            &[
                ("username", "luz.mendez"),
                ("token", &token),
                ("password", good),
                ("confirm", good),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);

    // Change her role; the change is audited with both scopes; a stale version is a conflict.
    let id = angel_entity::staff::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.username == "luz.mendez")
        .unwrap()
        .id;
    let sedeso = angel_entity::agency::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.code == "SEDESO")
        .unwrap()
        .id
        .to_string();
    let path = format!("/admin/personal/{id}");
    let fields = [
        ("action", "save"),
        ("display_name", "Luz Méndez"),
        ("role", "agency_staff"),
        ("agency", sedeso.as_str()),
        ("office", ""),
        ("version", "1"),
    ];
    assert_eq!(
        admin.submit(&path, &fields).await.status,
        StatusCode::SEE_OTHER
    );
    let stale = admin.submit(&path, &fields).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(
        luz.get("/agencia").await.status,
        StatusCode::OK,
        "the new role applies at once"
    );
    assert_eq!(luz.get("/oficina").await.status, StatusCode::FORBIDDEN);
    let events = angel_entity::audit_event::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    let change = events
        .iter()
        .find(|e| e.action == "staff.role_changed")
        .expect("audited");
    assert!(
        change
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("agency_staff")
    );
    assert_eq!(change.actor_role.as_deref(), Some("administrator"));
    assert!(change.request_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weaker_hashes_are_upgraded_at_sign_in_and_passwords_change_with_the_current_one() {
    let app = TestApp::spawn().await;
    let weak = angel_app::ssr::auth::hasher::hash_with(PASSWORD, 4096, 1);
    let id = app
        .staff_with_hash("t.ana", "caseworker", Anchor::Office("MOD-09002"), &weak)
        .await;
    let mut browser = app.browser();
    browser.sign_in("t.ana", PASSWORD).await;
    let stored = angel_entity::staff::Entity::find_by_id(id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .password_hash
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );

    let mut other_device = app.browser();
    other_device.sign_in("t.ana", PASSWORD).await;
    let new_password = "la lluvia de junio en coyoacan";
    let page = browser
        .submit(
            "/cuenta",
            &[
                ("current", "no es la actual para nada"),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("La contraseña actual no es correcta."));
    let page = browser
        .submit(
            "/cuenta",
            &[
                ("current", PASSWORD),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Tu contraseña cambió."));
    assert_eq!(
        other_device.get("/oficina").await.status,
        StatusCode::SEE_OTHER,
        "other sessions end"
    );
    assert_eq!(
        browser.get("/oficina").await.status,
        StatusCode::OK,
        "this one stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers_and_pages_a_nonce_csp() {
    let app = TestApp::spawn().await;
    app.staff("t.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let mut anonymous = app.browser();
    let mut admin = app.browser();
    admin.sign_in("t.admin", PASSWORD).await;
    let mut paths: Vec<String> = ENDPOINTS
        .iter()
        .filter(|e| e.method == Method::Get)
        .map(|e| {
            sample_path(
                e.path,
                &Objects {
                    staff: 1,
                    person: 1,
                    card_token: "0".repeat(32),
                    pair: 1,
                    receipt: "/oficina/persona/1/recibo?ids=1".to_owned(),
                    enrollment: 1,
                    referral: 1,
                    upload: 1,
                },
            )
        })
        .collect();
    paths.extend(["/no-existe".to_owned(), "/pkg/angel.wasm".to_owned()]);
    for path in &paths {
        for (signed_in, browser) in [(false, &mut anonymous), (true, &mut admin)] {
            let page = browser.get(path).await;
            let context = format!("{path} signed_in={signed_in} {}", page.status);
            assert_eq!(
                page.header("x-content-type-options"),
                "nosniff",
                "{context}"
            );
            assert_eq!(page.header("referrer-policy"), "no-referrer", "{context}");
            assert!(!page.header("x-request-id").is_empty(), "{context}");
            let csp = page.header("content-security-policy");
            for directive in [
                "object-src 'none'",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            ] {
                assert!(csp.contains(directive), "{context}: {csp}");
            }
            if page.header("content-type").starts_with("text/html") {
                let nonce = csp
                    .split("'nonce-")
                    .nth(1)
                    .and_then(|r| r.split('\'').next())
                    .expect("nonce in the CSP");
                assert!(csp.contains("'wasm-unsafe-eval'"), "{context}");
                assert!(
                    page.body.contains(&format!("nonce=\"{nonce}\"")),
                    "{context}: scripts carry the nonce"
                );
            }
            if signed_in {
                assert_eq!(page.header("cache-control"), "no-store", "{context}");
            }
        }
    }
    // A new nonce per response.
    let a = anonymous.get("/").await.header("content-security-policy");
    let b = anonymous.get("/").await.header("content-security-policy");
    assert_ne!(a, b);
}

/// Runs SQL that bypasses the append-only triggers, as someone with database access would.
async fn tamper(db: &sea_orm::DatabaseConnection, sql: &str) {
    let backend = db.get_database_backend();
    match backend {
        DatabaseBackend::Postgres => {
            db.execute_unprepared("ALTER TABLE audit_event DISABLE TRIGGER USER")
                .await
                .unwrap();
            db.execute_unprepared(sql).await.unwrap();
            db.execute_unprepared("ALTER TABLE audit_event ENABLE TRIGGER USER")
                .await
                .unwrap();
        }
        _ => {
            db.execute_unprepared("DROP TRIGGER audit_event_no_update")
                .await
                .unwrap();
            db.execute_unprepared("DROP TRIGGER audit_event_no_delete")
                .await
                .unwrap();
            db.execute_unprepared(sql).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_reports_edited_and_deleted_events() {
    let app = TestApp::spawn().await;
    app.staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    for _ in 0..3 {
        let mut b = app.browser();
        b.sign_in("t.ana", PASSWORD).await;
        b.submit("/salir", &[]).await;
    }
    let db = &app.test_db.db;
    assert_eq!(verify(db).await.unwrap(), Verdict::Intact(6));

    // The triggers refuse changes.
    assert!(
        db.execute_unprepared("UPDATE audit_event SET action = 'x' WHERE seq = 2")
            .await
            .is_err()
    );
    assert!(
        db.execute_unprepared("DELETE FROM audit_event WHERE seq = 2")
            .await
            .is_err()
    );
    assert_eq!(verify(db).await.unwrap(), Verdict::Intact(6));

    tamper(
        db,
        "UPDATE audit_event SET actor_staff_id = 99 WHERE seq = 3",
    )
    .await;
    assert_eq!(
        verify(db).await.unwrap(),
        Verdict::Broken {
            seq: 3,
            reason: Broken::Altered
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_reports_a_deleted_event() {
    let app = TestApp::spawn().await;
    app.staff("t.ana", "caseworker", Anchor::Office("MOD-09002"), PASSWORD)
        .await;
    for _ in 0..2 {
        let mut b = app.browser();
        b.sign_in("t.ana", PASSWORD).await;
        b.submit("/salir", &[]).await;
    }
    let db = &app.test_db.db;
    tamper(db, "DELETE FROM audit_event WHERE seq = 2").await;
    assert_eq!(
        verify(db).await.unwrap(),
        Verdict::Broken {
            seq: 3,
            reason: Broken::Missing
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_permissions_match_the_issue() {
    use Permission::*;
    assert!(Role::Caseworker.has(ViewOffice) && !Role::Caseworker.has(ViewOfficeStaff));
    assert!(Role::OfficeSupervisor.has(ViewOfficeStaff));
    assert!(Role::AgencyStaff.has(ViewAgency) && !Role::AgencyStaff.has(ViewAgencyStaff));
    assert!(Role::AgencyHead.has(ViewAgencyStaff));
    assert_eq!(Role::PolicyOfficer.permissions(), &[ViewAggregates]);
    assert!(Role::Administrator.has(ManageStaff) && !Role::Administrator.has(ViewOffice));
    assert!(Role::Citizen.permissions().is_empty());
}
