//! The citizen portal over HTTP, on SQLite and PostgreSQL: the anonymous check at `/revisa`
//! asks, a few at a time, only what the chosen life event's rules need, carries the answers in
//! the form, refuses out-of-range values field by field in Spanish and English, and stores
//! nothing (every table's row count unchanged); following a request at
//! `/seguimiento` with its folio and the beneficiary's birth date shows its status history
//! without names or ID numbers; an unknown folio and a wrong birth date get the same neutral
//! answer; a mistyped folio is a field error; guesses on one folio are throttled (429, the same
//! message, even for the right pair) and the per-IP limit covers the form too.

use angel_app::domain::folio;
use angel_entity::{audit_event, sign_in_throttle};
use angel_tests::{Anchor, Page, TestApp, TestDb, person_form};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const PASSWORD: &str = "las jacarandas moradas de marzo";
const UNKNOWN_ES: &str = "No encontramos una solicitud con ese folio y esa fecha de nacimiento";

/// A COMCOM request for Rosa Núñez Peña, born 1990-03-04, made at MOD-09007; its folio.
async fn a_request(app: &TestApp) -> String {
    app.staff(
        "t.rosa",
        "caseworker",
        Anchor::Office("MOD-09007"),
        PASSWORD,
    )
    .await;
    let mut b = app.browser();
    b.sign_in("t.rosa", PASSWORD).await;
    let person = b
        .register(&person_form("Rosa", "Núñez", "Peña", "1990-03-04"))
        .await;
    b.request_comcom(person).await.folio
}

async fn follow(app: &TestApp, folio: &str, birth: &str) -> Page {
    app.browser()
        .submit("/seguimiento", &[("folio", folio), ("birth_date", birth)])
        .await
}

async fn followed_events(app: &TestApp) -> usize {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("enrollment.followed"))
        .all(&app.test_db.db)
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_followed_by_folio_and_birth_date_without_names() {
    let app = TestApp::spawn().await;
    let folio = a_request(&app).await;

    let (status, body) = app.get("/seguimiento").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"action="/seguimiento""#), "{body}");

    // Typed as people type: lower case, spaces, the day first.
    let typed = format!(" {} ", folio.to_lowercase());
    let page = follow(&app, &typed, "04/03/1990").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!(r#"data-folio="{folio}""#)));
    assert!(page.body.contains(r#"data-status="requested""#));
    assert!(page.body.contains("Comedores Comunitarios"), "the program");
    assert!(
        page.body.contains("Secretaría de Desarrollo Social"),
        "its agency"
    );
    for private in ["Rosa", "Núñez", "Peña", "1990-03-04", "04/03/1990"] {
        assert!(!page.body.contains(private), "{private} shown");
    }
    assert_eq!(followed_events(&app).await, 1, "a look-up is audited");

    // The same neutral answer for a wrong birth date and for a folio that does not exist.
    let wrong = follow(&app, &folio, "1990-03-05").await;
    let unknown = follow(&app, &folio::folio("PAAM", 2026, 999_999), "1990-03-04").await;
    for page in [&wrong, &unknown] {
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(page.body.contains(UNKNOWN_ES), "{}", page.body);
        assert!(!page.body.contains("data-status"));
    }
    assert_eq!(followed_events(&app).await, 1, "failures are not audited");

    // A mistyped folio is caught by its check character before any look-up: a field error,
    // in Spanish and in English, and no failure counted.
    let mut typo = folio.clone();
    let at = typo.len() - 3;
    let wrong_digit = if &typo[at..=at] == "7" { "8" } else { "7" };
    typo.replace_range(at..=at, wrong_digit);
    let throttled_before = sign_in_throttle::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .len();
    let page = follow(&app, &typo, "1990-02-30").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Revisa el folio"), "{}", page.body);
    assert!(page.body.contains(r#"id="f-birth_date-error""#));
    let mut english = app.browser();
    english.get("/idioma/en?volver=/seguimiento").await;
    let page = english
        .submit(
            "/seguimiento",
            &[("folio", typo.as_str()), ("birth_date", "")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Check the folio"), "{}", page.body);
    assert_eq!(
        sign_in_throttle::Entity::find()
            .all(&app.test_db.db)
            .await
            .unwrap()
            .len(),
        throttled_before
    );

    // Unknown form fields are refused.
    let page = app
        .browser()
        .submit(
            "/seguimiento",
            &[("folio", &folio), ("birth_date", "1990-03-04"), ("x", "1")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_on_a_folio_are_throttled_with_the_same_message() {
    // The per-IP limit is tested on its own below; here it must not get in the way.
    let test_db = TestDb::seeded().await;
    let mut settings = test_db.settings.clone();
    settings.sign_in_ip_burst = 1000;
    let app = TestApp::spawn_with(test_db, settings).await;
    let folio = a_request(&app).await;
    // Five failures are free.
    for day in 1..=5 {
        let page = follow(&app, &folio, &format!("1990-01-{day:02}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    }
    let page = follow(&app, &folio, "1990-03-04").await;
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right pair waits"
    );
    assert_eq!(page.header("retry-after"), "1");
    assert!(page.body.contains(UNKNOWN_ES), "the same message");
    assert!(!page.body.contains("data-status"));
    // Another folio is not held back by this one.
    let other = follow(&app, &folio::folio("PAAM", 2026, 999_999), "1990-03-04").await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    app.clock.advance(chrono::TimeDelta::seconds(2));
    let page = follow(&app, &folio, "1990-03-04").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // A success forgets the failures.
    let page = follow(&app, &folio, "1990-01-01").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_ip_limit_covers_the_follow_up() {
    let test_db = TestDb::seeded().await;
    let mut settings = test_db.settings.clone();
    settings.sign_in_ip_burst = 3;
    settings.sign_in_ip_refill_seconds = 600;
    let app = TestApp::spawn_with(test_db, settings).await;
    let mut statuses = Vec::new();
    for n in 1..=5 {
        let folio = folio::folio("PAAM", 2026, n);
        statuses.push(follow(&app, &folio, "1990-03-04").await.status);
    }
    assert_eq!(&statuses[..3], &[StatusCode::NOT_FOUND; 3]);
    assert_eq!(&statuses[3..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
}

/// Posts one step of the check; the answers so far are the form.
async fn step(app: &TestApp, lang: &str, form: &[(&str, &str)]) -> Page {
    let mut b = app.browser();
    b.get(&format!("/idioma/{lang}?volver=/revisa")).await;
    b.submit("/revisa", form).await
}

fn asked(body: &str) -> Vec<String> {
    body.split(r#"data-question=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

fn verdict(body: &str, program: &str) -> String {
    let at = body
        .find(&format!(r#"data-program="{program}""#))
        .unwrap_or_else(|| panic!("{program} not shown"));
    let rest = &body[at..];
    let v = rest.find("data-verdict=\"").expect("a verdict") + "data-verdict=\"".len();
    rest[v..].split('"').next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anonymous_check_asks_only_what_the_rules_need_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let before = app.test_db.row_counts().await;

    // The home page offers the life events as choices leading to the check.
    let (status, body) = app.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(r#"href="/revisa?evento=DESEMPLEO""#),
        "{body}"
    );

    let (status, body) = app.get("/revisa").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(r#"href="/revisa?evento=CUMPLI_68""#),
        "{body}"
    );
    assert!(
        !body.contains(r#"href="/revisa?evento=MUDANZA""#),
        "no programs: not offered"
    );

    // Turning 68 brings PAAM (age, residence for 3 years) and SMMG (resident, no social
    // security): four questions, three at a time.
    let (status, body) = app.get("/revisa?evento=CUMPLI_68").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(asked(&body), ["age", "borough", "residence_years"]);
    assert_eq!(verdict(&body, "PAAM"), "needs_information");

    let page = step(
        &app,
        "es",
        &[
            ("evento", "CUMPLI_68"),
            ("age", "70"),
            ("borough", "09007"),
            ("residence_years", "12"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(asked(&page.body), ["fact_social_security"]);
    assert_eq!(verdict(&page.body, "PAAM"), "eligible");
    assert!(page.body.contains("Probablemente puedes recibirlo"));
    // The answers go on in hidden fields.
    assert!(
        page.body.contains(r#"type="hidden" name="age" value="70""#),
        "{}",
        page.body
    );
    // The offices of the borough are listed.
    assert!(
        page.body.contains("Módulo de atención Iztapalapa"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("aún no publicados"),
        "no address made up"
    );

    let page = step(
        &app,
        "es",
        &[
            ("evento", "CUMPLI_68"),
            ("age", "70"),
            ("borough", "09007"),
            ("residence_years", "12"),
            ("fact_social_security", "imss"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(asked(&page.body).is_empty());
    assert!(page.body.contains(r#"data-done="true""#));
    assert_eq!(verdict(&page.body, "PAAM"), "eligible");
    assert_eq!(verdict(&page.body, "SMMG"), "not_eligible");
    assert!(
        page.body.contains("Comprobante de domicilio"),
        "documents to bring"
    );

    // "I don't know" is not asked again and leaves the verdict open.
    let page = step(
        &app,
        "es",
        &[
            ("evento", "CUMPLI_68"),
            ("age", "70"),
            ("skip", "borough"),
            ("skip", "residence_years"),
            ("skip", "fact_social_security"),
        ],
    )
    .await;
    assert!(asked(&page.body).is_empty());
    assert_eq!(verdict(&page.body, "PAAM"), "needs_information");

    // Out of range: a field error in the chosen language, asked again; the good answers kept.
    for (lang, message) in [
        ("es", "El número está fuera del rango permitido."),
        ("en", "The number is out of the allowed range."),
    ] {
        let page = step(
            &app,
            lang,
            &[
                ("evento", "CUMPLI_68"),
                ("age", "130"),
                ("borough", "09007"),
            ],
        )
        .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.body.contains(message), "{lang}: {}", page.body);
        assert!(page.body.contains(r#"id="q-age-error""#));
        assert_eq!(asked(&page.body)[0], "age");
        assert!(
            page.body
                .contains(r#"type="hidden" name="borough" value="09007""#)
        );
    }

    // Fields the check does not know, and unknown life events, are refused.
    let page = step(&app, "es", &[("evento", "CUMPLI_68"), ("name", "Ana")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = step(&app, "es", &[("evento", "NO_EXISTE")]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // School: the programs are for a child, so the questions are about the child.
    let (_, body) = app.get("/revisa?evento=ESCUELA").await;
    assert!(body.contains("respuestas sobre tu hija o hijo"), "{body}");
    assert!(asked(&body).contains(&"fact_school_level".to_owned()));
    // A single mother: her own program first, her children's by switching.
    let (_, body) = app.get("/revisa?evento=MADRE_SOLA").await;
    assert!(body.contains(r#"data-program="MADSOL""#));
    assert!(!body.contains(r#"data-program="UTILES""#));
    assert!(
        body.contains(r#"href="/revisa?evento=MADRE_SOLA&amp;para=hijo""#),
        "{body}"
    );

    assert_eq!(app.test_db.row_counts().await, before, "nothing stored");
}
