//! The real application over HTTP: pages, server functions, probes and the language switch.

use angel_tests::{TestApp, TestDb};
use reqwest::StatusCode;

const PROGRAM_CODES: [&str; 15] = [
    "PAAM", "PREPASI", "SEGDES", "EDUGAR", "NNTAL", "UTILES", "UNIFOR", "MADSOL", "DISCAP", "SMMG",
    "SVIOL", "COMCOM", "JOVIMP", "MUJSAL", "BEBSEG",
];

#[tokio::test]
async fn the_catalog_page_lists_every_program_in_the_server_html() {
    let app = TestApp::spawn().await;
    let (status, html) = app.get("/programas").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("lang=\"es-MX\""), "Spanish by default");
    assert!(html.contains("Programas por situación de vida"));
    assert!(html.contains("Pensión Alimentaria para Adultos Mayores de 68 años"));
    for code in PROGRAM_CODES {
        assert!(
            html.contains(&format!("data-program=\"{code}\"")),
            "{code} missing"
        );
    }
    // Hydration markers (`<!>`) sit between the interpolated numbers.
    assert!(html.replace("<!>", "").contains("15 de 15 programas"));
    assert!(
        html.contains("Información no verificada"),
        "unverified programs are flagged"
    );
}

#[tokio::test]
async fn the_catalog_filters_on_the_server_without_javascript() {
    let app = TestApp::spawn().await;
    let (status, html) = app.get("/programas?q=empleo").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-program=\"SEGDES\""));
    assert!(!html.contains("data-program=\"PAAM\""));
    assert!(
        html.contains("value=\"empleo\""),
        "the box keeps what was searched"
    );

    let (_, html) = app.get("/programas?q=zzzz").await;
    assert!(html.contains("Ningún programa coincide"));
}

#[tokio::test]
async fn the_catalog_server_function_answers_json() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .post(app.url("/api/catalog"))
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let events = body["events"].as_array().expect("events");
    assert_eq!(events.len(), 15);
    assert_eq!(events[0]["code"], "EMBARAZO");
}

#[tokio::test]
async fn the_english_preference_cookie_renders_english() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/programas"))
        .header("cookie", "i18n_pref_locale=en")
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(html.contains("lang=\"en\""));
    assert!(html.contains("Programs by life event"));
    assert!(html.contains("Food Pension for Adults Aged 68 and Over"));
}

#[tokio::test]
async fn the_browser_language_does_not_override_the_spanish_default() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("¿Qué pasó en tu vida?")
    );
}

#[tokio::test]
async fn the_language_switch_sets_the_cookie_and_goes_back() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/idioma/en?volver=%2Fprogramas%3Fq%3Dempleo"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/programas?q=empleo");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("i18n_pref_locale=en;"), "{cookie}");
    assert!(cookie.contains("Path=/") && cookie.contains("SameSite=Lax"));
}

#[tokio::test]
async fn the_language_switch_refuses_unknown_languages_and_foreign_redirects() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/idioma/fr")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .client
        .get(app.url("/idioma/en?volver=https://evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/");
}

#[tokio::test]
async fn health_and_readiness_answer_when_the_schema_is_current() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await, (StatusCode::OK, "ok".to_owned()));
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["pending_migrations"], 0);
}

#[tokio::test]
async fn readiness_fails_while_migrations_are_pending() {
    let app = TestApp::spawn_on(TestDb::empty().await).await;
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["pending_migrations"],
        <angel_migration::Migrator as angel_migration::MigratorTrait>::migrations().len()
    );
    assert_eq!(
        app.get("/healthz").await.0,
        StatusCode::OK,
        "the process itself is alive"
    );
}

#[tokio::test]
async fn an_unknown_page_is_a_404_in_the_layout() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/no-existe")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains("Página no encontrada"));
    assert!(
        html.contains(&format!("<code>{request_id}</code>")),
        "the request id is in the error page"
    );
    assert!(
        html.contains("Saltar al contenido"),
        "inside the layout, with the skip link"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[tokio::test]
async fn the_layout_has_landmarks_and_the_five_areas() {
    let app = TestApp::spawn().await;
    let (_, html) = app.get("/").await;
    for needle in [
        "<header",
        "<nav",
        "<main id=\"contenido\"",
        "<footer",
        "href=\"#contenido\"",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    for area in ["/oficina", "/agencia", "/politica", "/admin", "/programas"] {
        assert!(html.contains(&format!("href=\"{area}\"")), "{area}");
    }
}
