//! Life events → programs over HTTP, on SQLite and PostgreSQL: the bundle with its reasons, a
//! question answered as a fact, several programs requested in one transaction (folios, due dates
//! in business days, rule versions), the refusals (already open, not offered, not eligible,
//! incompatible) that write nothing, the supervisor's audited override, and the rule tests.

use angel_app::domain::folio;
use angel_entity::{audit_event, enrollment, enrollment_event, person_fact, program, program_rule};
use angel_tests::{Anchor, Browser, TestApp, person_form};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

const PASSWORD: &str = "las jacarandas moradas de marzo";

async fn signed_in<'a>(app: &'a TestApp, username: &str, role: &str) -> Browser<'a> {
    app.staff(username, role, Anchor::Office("MOD-09007"), PASSWORD)
        .await;
    let mut b = app.browser();
    b.sign_in(username, PASSWORD).await;
    b
}

async fn program_id(app: &TestApp, code: &str) -> i32 {
    program::Entity::find()
        .filter(program::Column::Code.eq(code))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A single mother (36, Iztapalapa, earns 5,000 a month) and her daughter (9, no facts yet).
async fn family(b: &mut Browser<'_>) -> (i32, i32) {
    let mother = b
        .register(&person_form("Rosa", "Núñez", "Peña", "1990-03-04"))
        .await;
    let mother_id = mother.to_string();
    let mut form = person_form("Lucía", "Núñez", "", "2017-05-05");
    form.push(("relative_of", &mother_id));
    form.push(("relation", "child_of"));
    let daughter = b.register(&form).await;
    let page = b
        .submit(
            &format!("/oficina/persona/{mother}/datos"),
            &[
                ("kind", "monthly_income"),
                ("value", "5000"),
                ("source", "declared"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    (mother, daughter)
}

fn answer<'a>(person: &'a str, kind: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("do", "answer"),
        ("evento", "MADRE_SOLA"),
        ("person", person),
        ("kind", kind),
        ("value", value),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_mother_answers_a_question_and_requests_two_programs_at_once() {
    let app = TestApp::spawn().await;
    let mut b = signed_in(&app, "t.caseworker", "caseworker").await;
    let (mother, daughter) = family(&mut b).await;
    let page_path = format!("/oficina/persona/{mother}/que-paso?evento=MADRE_SOLA");
    let post_path = page_path.clone();

    let page = b.get(&page_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // MADSOL for the mother, UTILES and UNIFOR for the daughter: all missing something.
    for code in ["MADSOL", "UTILES", "UNIFOR"] {
        assert!(
            page.body.contains(&format!(r#"data-program="{code}""#)),
            "{code}"
        );
    }
    assert!(
        page.body
            .contains(&format!(r#"data-beneficiary="{daughter}""#))
    );
    assert!(page.body.contains("Falta información"));
    // The reasons in plain Spanish, with the value used (household 5,000 ÷ 2 members).
    assert!(
        page.body
            .contains("El ingreso mensual de tu hogar por persona debe ser de 4000 pesos o menos; es de 2500 pesos."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("vives con pareja: no se sabe; tu hija o hijo menor tiene 9 años.")
    );
    // Nothing eligible yet: the request boxes are disabled.
    assert!(!page.body.contains("Cumple los requisitos"));

    // A bad answer: a field error in Spanish, nothing written.
    let facts = app.test_db.count("person_fact").await;
    let mother_id = mother.to_string();
    let page = b
        .submit(&post_path, &answer(&mother_id, "partner", "quizá"))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("Elige una opción de la lista"),
        "{}",
        page.body
    );
    assert_eq!(app.test_db.count("person_fact").await, facts);

    // The missing fact answered: recorded as declared today, and the page is evaluated again.
    let page = b
        .submit(&post_path, &answer(&mother_id, "partner", "no"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.header("location"), page_path);
    let daughter_id = daughter.to_string();
    for (kind, value) in [("school_level", "primary"), ("school_type", "public")] {
        let page = b
            .submit(&post_path, &answer(&daughter_id, kind, value))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let partner = person_fact::Entity::find()
        .filter(person_fact::Column::PersonId.eq(mother))
        .filter(person_fact::Column::Kind.eq("partner"))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            partner.value.as_str(),
            partner.source.as_str(),
            partner.verified
        ),
        ("no", "declared", false)
    );
    let page = b.get(&page_path).await;
    assert!(page.body.contains("Cumple los requisitos"));
    assert!(
        page.body
            .contains("Necesitas criar sin pareja a una hija o un hijo menor de 15 años; vives con pareja: no; tu hija o hijo menor tiene 9 años."),
        "{}",
        page.body
    );

    // Someone else's child cannot be answered for.
    let stranger = b
        .register(&person_form("Otra", "Persona", "Ajena", "2016-01-01"))
        .await
        .to_string();
    let page = b
        .submit(&post_path, &answer(&stranger, "school_type", "public"))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // Two programs in one step.
    let madsol = program_id(&app, "MADSOL").await;
    let utiles = program_id(&app, "UTILES").await;
    let pick_mother = format!("{mother}:{madsol}");
    let pick_daughter = format!("{daughter}:{utiles}");
    let page = b
        .submit(
            &post_path,
            &[
                ("do", "request"),
                ("evento", "MADRE_SOLA"),
                ("pick", &pick_mother),
                ("pick", &pick_daughter),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let receipt = page.header("location");
    assert!(receipt.starts_with(&format!("/oficina/persona/{mother}/recibo?ids=")));
    let rows = enrollment::Entity::find()
        .order_by_asc(enrollment::Column::Id)
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(folio::parse(&r.folio).as_deref(), Some(r.folio.as_str()));
        assert_eq!(
            (r.status.as_str(), r.verdict.as_str()),
            ("requested", "eligible")
        );
        assert_eq!(r.applicant_id, mother);
        assert!(r.override_reason.is_none() && r.life_event_id.is_some() && r.office_id.is_some());
    }
    assert_eq!((rows[0].person_id, rows[0].program_id), (mother, madsol));
    assert_eq!((rows[1].person_id, rows[1].program_id), (daughter, utiles));
    assert!(rows[0].folio.starts_with("MADSOL-26-000001-"));
    // Monday 23 November 2026: 20 business days (MADSOL) and 10 (UTILES).
    assert_eq!(rows[0].due_on.to_string(), "2026-12-21");
    assert_eq!(rows[1].due_on.to_string(), "2026-12-07");
    let rule = program_rule::Entity::find_by_id(rows[0].rule_id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rule.program_id, rule.version), (madsol, 1));
    assert_eq!(app.test_db.count("enrollment_event").await, 2);
    let requested = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("enrollment.requested"))
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(requested.len(), 2);

    // The receipt lists both folios and due dates.
    let page = b.get(&receipt).await;
    assert_eq!(page.status, StatusCode::OK);
    for r in &rows {
        assert!(page.body.contains(&r.folio));
    }
    assert!(page.body.contains("2026-12-21") && page.body.contains("Lucía Núñez"));
    // Another applicant's receipt path does not show these.
    let page = b
        .get(&format!(
            "/oficina/persona/{stranger}/recibo?ids={}",
            rows[0].id
        ))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    // The page now shows them as open; asking again is refused and writes nothing.
    let page = b.get(&page_path).await;
    assert!(page.body.contains(&rows[0].folio));
    let page = b
        .submit(
            &post_path,
            &[
                ("do", "request"),
                ("evento", "MADRE_SOLA"),
                ("pick", &pick_mother),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("Ya tiene una solicitud abierta de ese programa")
    );
    assert_eq!(app.test_db.count("enrollment").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_write_nothing_and_a_supervisor_override_is_audited() {
    let app = TestApp::spawn().await;
    let mut caseworker = signed_in(&app, "t.caseworker", "caseworker").await;
    let mut supervisor = signed_in(&app, "t.supervisor", "office_supervisor").await;
    let (mother, _) = family(&mut caseworker).await;
    let paam = program_id(&app, "PAAM").await;
    let discap = program_id(&app, "DISCAP").await;
    let pick = format!("{mother}:{paam}");
    let path = format!("/oficina/persona/{mother}/que-paso?evento=CUMPLI_68");
    let request = |reason: &'static str| {
        let mut form = vec![
            ("do", "request"),
            ("evento", "CUMPLI_68"),
            ("pick", pick.as_str()),
        ];
        if !reason.is_empty() {
            form.push(("override_reason", reason));
        }
        form
    };

    // 36 years old: PAAM is not eligible; the reason says so.
    let page = caseworker.get(&path).await;
    assert!(
        page.body
            .contains("Necesitas tener 68 años o más; tienes 36."),
        "{}",
        page.body
    );
    let page = caseworker.submit(&path, &request("")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("no cumple los requisitos"),
        "{}",
        page.body
    );
    // A caseworker cannot override.
    let page = caseworker.submit(&path, &request("emergency")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Solo supervisión"));
    // A program of another life event, and nonsense picks.
    let other = format!("{mother}:{discap}");
    let page = caseworker
        .submit(
            &path,
            &[("do", "request"), ("evento", "CUMPLI_68"), ("pick", &other)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = caseworker
        .submit(
            &path,
            &[("do", "request"), ("evento", "CUMPLI_68"), ("pick", "x")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = caseworker
        .submit(&path, &[("do", "request"), ("evento", "CUMPLI_68")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.test_db.count("enrollment").await, 0);
    assert_eq!(app.test_db.count("enrollment_event").await, 0);
    assert_eq!(app.test_db.count("folio_counter").await, 0);

    // The supervisor overrides with a reason: requested, verdict kept, audited with the reason.
    let page = supervisor.get(&path).await;
    assert!(page.body.contains(r#"name="override_reason""#));
    let page = supervisor.submit(&path, &request("because")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = supervisor.submit(&path, &request("emergency")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let row = enrollment::Entity::find()
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.verdict.as_str(), row.override_reason.as_deref()),
        ("not_eligible", Some("emergency"))
    );
    let event = enrollment_event::Entity::find()
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            event.from_status,
            event.to_status.as_str(),
            event.reason.as_str()
        ),
        (None, "requested", "override")
    );
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("enrollment.requested_override"))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        audited
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("emergency")
    );

    // PAAM is now open: DISCAP (its incompatible pair) is shown blocked and refused.
    let mut disability = caseworker
        .submit(
            &format!("/oficina/persona/{mother}/datos"),
            &[
                ("kind", "disability"),
                ("value", "yes"),
                ("source", "document"),
                ("verified", "yes"),
            ],
        )
        .await;
    assert_eq!(disability.status, StatusCode::SEE_OTHER);
    let path = format!("/oficina/persona/{mother}/que-paso?evento=DISCAPACIDAD");
    disability = caseworker.get(&path).await;
    assert!(
        disability.body.contains("No es compatible con PAAM"),
        "{}",
        disability.body
    );
    let page = caseworker
        .submit(
            &path,
            &[
                ("do", "request"),
                ("evento", "DISCAPACIDAD"),
                ("pick", &other),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("incompatibles"), "{}", page.body);
    assert_eq!(app.test_db.count("enrollment").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_tests_cover_current_and_pending_versions() {
    let app = TestApp::spawn().await;
    let db = &app.test_db.db;
    let today = angel_app::domain::curp::Date::new(2026, 11, 23).unwrap();
    let lines = angel_app::ssr::services::eligibility::test_all(db, today)
        .await
        .unwrap();
    assert_eq!(lines.len(), 15);
    assert!(
        lines
            .iter()
            .all(|l| l.standing == "current" && l.failed.is_empty())
    );

    // A pending version whose case expects the old age: it fails, and is reported.
    let paam = program_id(&app, "PAAM").await;
    let current = program_rule::Entity::find()
        .filter(program_rule::Column::ProgramId.eq(paam))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    program_rule::ActiveModel {
        program_id: Set(paam),
        version: Set(2),
        effective_from: Set(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()),
        status: Set("published".into()),
        rules: Set(
            r#"{"all":[{"age_at_least":65},"resident",{"residence_years_at_least":3}]}"#.into(),
        ),
        tests: Set(current.tests.clone()),
        note: Set("65 años".into()),
        created_by: Set(None),
        created_at: Set(chrono::Utc::now()),
        published_by: Set(None),
        published_at: Set(Some(chrono::Utc::now())),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let lines = angel_app::ssr::services::eligibility::test_all(db, today)
        .await
        .unwrap();
    let pending: Vec<_> = lines.iter().filter(|l| l.standing == "pending").collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].program.as_str(), pending[0].version),
        ("PAAM", 2)
    );
    // "the day before turning 68" now passes the age test: expected not eligible, got eligible.
    assert_eq!(pending[0].failed.len(), 1, "{:?}", pending[0].failed);
    assert!(pending[0].failed[0].contains("expected not_eligible, got eligible"));
    // On its effective date it becomes the current one.
    let later = angel_app::domain::curp::Date::new(2027, 1, 1).unwrap();
    let lines = angel_app::ssr::services::eligibility::test_all(db, later)
        .await
        .unwrap();
    let paam_lines: Vec<_> = lines.iter().filter(|l| l.program == "PAAM").collect();
    assert_eq!(paam_lines.len(), 1);
    assert_eq!(
        (paam_lines[0].version, paam_lines[0].standing),
        (2, "current")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outreach_lists_who_a_program_should_reach_in_the_offices_borough() {
    // The clock says 2026-11-23.
    let app = TestApp::spawn().await;
    let mut caseworker = signed_in(&app, "t.caseworker", "caseworker").await;
    let mut supervisor = signed_in(&app, "t.supervisor", "office_supervisor").await;
    // Different surnames: none of them is a probable duplicate of another.
    let register = |given: &'static str, birth: &'static str, borough: &'static str| {
        let mut form = person_form(given, given, "Prueba", birth);
        form.retain(|(k, _)| *k != "borough");
        form.push(("borough", borough));
        form
    };
    // Turns 68 in 10 days (listed); in 40 days (not yet); in 5 days but in another borough.
    let soon = caseworker
        .register(&register("Aurora", "1958-12-03", "09007"))
        .await;
    caseworker
        .register(&register("Berta", "1959-01-02", "09007"))
        .await;
    caseworker
        .register(&register("Celia", "1958-11-28", "09003"))
        .await;
    // Turns 68 in 3 days and already has PAAM requested (a supervisor's override): not listed.
    let served = caseworker
        .register(&register("Dora", "1958-11-26", "09007"))
        .await;
    let paam = program_id(&app, "PAAM").await;
    let page = supervisor
        .submit(
            &format!("/oficina/persona/{served}/que-paso?evento=CUMPLI_68"),
            &[
                ("do", "request"),
                ("evento", "CUMPLI_68"),
                ("pick", &format!("{served}:{paam}")),
                ("override_reason", "documents_pending"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // A child turning 6 in 20 days; a boy of 10 whose mother is recorded deceased.
    let six = caseworker
        .register(&register("Elena", "2020-12-13", "09007"))
        .await;
    let parent = caseworker
        .register(&register("Fabiola", "1985-06-01", "09007"))
        .await;
    let mut form = register("Gael", "2016-04-04", "09007");
    let parent_id = parent.to_string();
    form.push(("relative_of", &parent_id));
    form.push(("relation", "child_of"));
    let orphan = caseworker.register(&form).await;
    let mut dead: angel_entity::person::ActiveModel =
        angel_entity::person::Entity::find_by_id(parent)
            .one(&app.test_db.db)
            .await
            .unwrap()
            .unwrap()
            .into();
    dead.status = Set("deceased".to_owned());
    dead.update(&app.test_db.db).await.unwrap();

    let page = caseworker.get("/oficina/alcance").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let section = |kind: &str| {
        let start = page
            .body
            .find(&format!(r#"data-group="{kind}""#))
            .expect(kind);
        let end = page.body[start..].find("</section>").unwrap() + start;
        page.body[start..end].to_owned()
    };
    let older = section("turning_68");
    assert!(older.contains(r#"data-total="1""#), "{older}");
    assert!(older.contains(&format!("/oficina/persona/{soon}\"")));
    assert!(older.contains("2026-12-03"), "the birthday shown");
    assert!(older.contains(&format!(
        "/oficina/persona/{soon}/que-paso?evento=CUMPLI_68"
    )));
    assert!(!older.contains("Berta") && !older.contains("Celia") && !older.contains("Dora"));
    let children = section("turning_6");
    assert!(children.contains(&format!("/oficina/persona/{six}\"")));
    assert!(children.contains(r#"data-total="1""#));
    let orphans = section("provider_lost");
    assert!(orphans.contains(&format!("/oficina/persona/{orphan}\"")));
    assert!(orphans.contains("evento=ORFANDAD"));

    // The list names people: it is audited with the ids shown.
    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("person.outreach_listed"))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .expect("audited");
    let detail = event.detail.unwrap_or_default();
    for id in [soon, six, orphan] {
        assert!(detail.contains(&id.to_string()), "{detail}");
    }
}
