//! The rule editor over HTTP, on SQLite and PostgreSQL: an administrator starts a draft of
//! PAAM's rule, edits it in the form (field errors at their rows, nothing written), sees the test
//! cases fail and cannot publish, previews the impact on the registered population, fixes the
//! cases and publishes; a stale form never overwrites a newer draft.

use angel_entity::{audit_event, program, program_rule};
use angel_tests::{Anchor, Browser, TestApp, person_form};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

const PASSWORD: &str = "las jacarandas moradas de marzo";

async fn paam_versions(app: &TestApp) -> Vec<program_rule::Model> {
    let paam = program::Entity::find()
        .filter(program::Column::Code.eq("PAAM"))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    program_rule::Entity::find()
        .filter(program_rule::Column::ProgramId.eq(paam.id))
        .order_by_asc(program_rule::Column::Version)
        .all(&app.test_db.db)
        .await
        .unwrap()
}

/// The value of the first `name="stamp"` field of the page.
fn stamp(body: &str) -> String {
    let at = body.find(r#"name="stamp" value=""#).expect("a stamp field") + 20;
    body[at..].split('"').next().unwrap().to_owned()
}

/// The figure of the impact preview named `name`.
fn figure(body: &str, name: &str) -> u64 {
    let marker = format!(r#"data-figure="{name}">"#);
    let at = body.find(&marker).expect(name) + marker.len();
    body[at..]
        .split('<')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// The rows of PAAM's rule with the age threshold changed.
fn paam_rows(age: &str) -> Vec<(&'static str, String)> {
    vec![
        ("r0.predicate", "age_at_least".into()),
        ("r0.param", age.into()),
        ("r1.predicate", "resident".into()),
        ("r2.predicate", "residence_years_at_least".into()),
        ("r2.param", "3".into()),
        ("r3.predicate", String::new()),
        ("r3.param", String::new()),
    ]
}

/// PAAM's verdict at `/revisa` for someone of `age` living in Iztapalapa for 12 years.
async fn public_paam(app: &TestApp, age: &str) -> String {
    let page = app
        .browser()
        .submit(
            "/revisa",
            &[
                ("evento", "CUMPLI_68"),
                ("age", age),
                ("borough", "09007"),
                ("residence_years", "12"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let at = page
        .body
        .find(r#"data-program="PAAM""#)
        .expect("PAAM shown");
    let rest = &page.body[at..];
    let v = rest.find("data-verdict=\"").expect("a verdict") + "data-verdict=\"".len();
    rest[v..].split('"').next().unwrap_or_default().to_owned()
}

async fn save(
    b: &mut Browser<'_>,
    stamp: &str,
    rows: &[(&'static str, String)],
    tests: &str,
    effective: &str,
) -> angel_tests::Page {
    let mut form: Vec<(&str, &str)> = vec![
        ("do", "save"),
        ("stamp", stamp),
        ("tests", tests),
        ("effective_from", effective),
        ("note", "Edad de 65 años"),
    ];
    form.extend(rows.iter().map(|(k, v)| (*k, v.as_str())));
    b.submit("/admin/reglas/PAAM", &form).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_edits_tests_previews_and_publishes_a_rule_version() {
    let app = TestApp::spawn().await;
    let db = &app.test_db.db;
    // The registered population: 66 and 76 years old, both living in the city since 1990.
    app.staff("t.cw", "caseworker", Anchor::Office("MOD-09007"), PASSWORD)
        .await;
    let mut cw = app.browser();
    cw.sign_in("t.cw", PASSWORD).await;
    for (given, birth) in [("Ana", "1960-01-10"), ("Eva", "1950-02-20")] {
        let mut form = person_form(given, "Ríos", "Luna", birth);
        form.push(("residence_since", "1990-01-01"));
        cw.register(&form).await;
    }

    app.staff("t.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let mut b = app.browser();
    b.sign_in("t.admin", PASSWORD).await;
    let page = b.get("/admin/reglas").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"href="/admin/reglas/PAAM""#));
    assert!(page.body.contains("5/5"), "PAAM's five bundled cases pass");

    // Start a draft: version 2, a copy of the version in force.
    let page = b.submit("/admin/reglas/PAAM", &[("do", "new")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let versions = paam_versions(&app).await;
    assert_eq!(versions.len(), 2);
    let draft = &versions[1];
    assert_eq!((draft.version, draft.status.as_str()), (2, "draft"));
    assert_eq!(draft.rules, versions[0].rules);
    // A second draft is refused while one exists.
    let page = b.submit("/admin/reglas/PAAM", &[("do", "new")]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(paam_versions(&app).await.len(), 2);

    let page = b.get("/admin/reglas/PAAM").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"name="r0.predicate""#),
        "edited as rows"
    );
    assert!(page.body.contains(r#"data-cases="5/5""#));
    let first_stamp = stamp(&page.body);
    let tests = draft.tests.clone();

    // Bad input: errors at their rows in Spanish, the typed values kept, nothing written.
    let mut bad = paam_rows("sesenta y cinco");
    bad.push(("r3.predicate", "enrolled_in".into()));
    bad.push(("r3.param", "NOEXISTE".into()));
    let page = save(&mut b, &first_stamp, &bad, &tests, "2026-11-22").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("Escribe solo un número."),
        "{}",
        page.body
    );
    assert!(page.body.contains("No hay un programa con esa clave."));
    assert!(
        page.body
            .contains("La fecha de vigencia no puede ser anterior a hoy.")
    );
    assert!(page.body.contains(r#"value="sesenta y cinco""#));
    assert_eq!(paam_versions(&app).await[1], *draft, "nothing written");
    // The same refusal in English.
    b.get("/idioma/en").await;
    let page = save(&mut b, &first_stamp, &bad, &tests, "2026-11-22").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Type a number only."));
    assert!(page.body.contains("There is no program with that code."));
    b.get("/idioma/es-MX").await;

    // 65 instead of 68: saved, and the bundled cases about the 68th birthday now fail.
    let page = save(&mut b, &first_stamp, &paam_rows("65"), &tests, "2026-11-23").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = b.get("/admin/reglas/PAAM").await;
    assert!(
        page.body.contains("Necesitas tener 65 años o más"),
        "the draft reads"
    );
    assert!(page.body.contains(r#"class="case fail""#));
    assert!(!page.body.contains(r#"data-cases="5/5""#));
    let second_stamp = stamp(&page.body);
    assert_ne!(first_stamp, second_stamp);

    // A form filled before that save cannot overwrite it.
    let page = save(&mut b, &first_stamp, &paam_rows("70"), &tests, "2026-11-23").await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(paam_versions(&app).await[1].rules.contains(":65"));

    // Publishing is refused while a case fails.
    let page = b
        .submit(
            "/admin/reglas/PAAM",
            &[("do", "publish"), ("stamp", &second_stamp)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("hay casos de prueba que fallan"));
    assert_eq!(paam_versions(&app).await[1].status, "draft");

    // The impact on the registered population: the 66-year-old becomes eligible.
    let page = b.get("/admin/reglas/PAAM?impacto=1").await;
    assert_eq!(page.status, StatusCode::OK);
    let active = app.test_db.count("person").await as u64;
    assert_eq!(figure(&page.body, "people"), active);
    assert_eq!(figure(&page.body, "eligible_now"), 1);
    assert_eq!(figure(&page.body, "eligible_draft"), 2);
    assert_eq!(figure(&page.body, "gained"), 1);
    assert_eq!(figure(&page.body, "lost"), 0);

    // Cases for the new age: the day someone turns 65, and the day before.
    let cases = r#"[
      {"name": "turns 65 today", "today": "2026-11-23", "expect": "eligible",
       "facts": {"birth_date": "1961-11-23", "resident": true, "residence_since": "2000-01-01"}},
      {"name": "turns 65 tomorrow", "today": "2026-11-23", "expect": "not_eligible",
       "facts": {"birth_date": "1961-11-24", "resident": true, "residence_since": "2000-01-01"}}
    ]"#;
    let page = save(&mut b, &second_stamp, &paam_rows("65"), cases, "2026-11-23").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = b.get("/admin/reglas/PAAM").await;
    assert!(page.body.contains(r#"data-cases="2/2""#));
    // The public check (which keeps the rules in memory) still answers under 68 for a
    // 66-year-old ...
    assert_eq!(public_paam(&app, "66").await, "not_eligible");
    let page = b
        .submit(
            "/admin/reglas/PAAM",
            &[("do", "publish"), ("stamp", &stamp(&page.body))],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // ... and under 65 as soon as it is published.
    assert_eq!(public_paam(&app, "66").await, "eligible");
    let v2 = &paam_versions(&app).await[1];
    assert_eq!(v2.status, "published");
    assert!(v2.published_by.is_some() && v2.published_at.is_some());
    let page = b.get("/admin/reglas").await;
    assert!(page.body.contains("v2"));

    // Every step audited, in order.
    let actions: Vec<String> = audit_event::Entity::find()
        .filter(audit_event::Column::Action.starts_with("rule."))
        .order_by_asc(audit_event::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "rule.draft_created",
            "rule.draft_saved",
            "rule.impact_previewed",
            "rule.draft_saved",
            "rule.published"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_can_be_discarded_but_a_published_version_never_changes() {
    let app = TestApp::spawn().await;
    app.staff("t.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let mut b = app.browser();
    b.sign_in("t.admin", PASSWORD).await;
    let before = paam_versions(&app).await;
    // No draft: saving, publishing or discarding has nothing to act on.
    for action in ["save", "publish", "discard"] {
        let page = b
            .submit(
                "/admin/reglas/PAAM",
                &[("do", action), ("stamp", "x"), ("tests", "[]")],
            )
            .await;
        assert!(
            matches!(
                page.status,
                StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{action}: {}",
            page.status
        );
    }
    assert_eq!(paam_versions(&app).await, before);
    b.submit("/admin/reglas/PAAM", &[("do", "new")]).await;
    let page = b.get("/admin/reglas/PAAM").await;
    let page = b
        .submit(
            "/admin/reglas/PAAM",
            &[("do", "discard"), ("stamp", &stamp(&page.body))],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(paam_versions(&app).await, before);
    // Unknown fields and programs.
    let page = b
        .submit("/admin/reglas/PAAM", &[("do", "new"), ("owner", "me")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = b.get("/admin/reglas/NOPE").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(paam_versions(&app).await, before);
}
