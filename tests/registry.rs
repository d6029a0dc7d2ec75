//! The registry over HTTP and the vault underneath it, on SQLite and PostgreSQL: one profile per
//! CURP, probable duplicates before a second profile, field errors that write nothing, audited
//! views and reveals, envelopes that do not open elsewhere, no plaintext ID in storage, and key
//! rotation.

use angel_app::ssr::audit::{Verdict, verify};
use angel_entity::{audit_event, person, person_identifier};
use angel_tests::{Anchor, Browser, TestApp, person_form};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};

const PASSWORD: &str = "las jacarandas moradas de marzo";
/// SECURITY.md 6's example with its check digit corrected (…09 fails the check digit).
const CURP: &str = "GODE561231HDFRRN00";

async fn caseworker(app: &TestApp) -> Browser<'_> {
    app.staff(
        "t.trabajo",
        "caseworker",
        Anchor::Office("MOD-09002"),
        PASSWORD,
    )
    .await;
    let mut b = app.browser();
    b.sign_in("t.trabajo", PASSWORD).await;
    b
}

fn with<'a>(
    mut form: Vec<(&'a str, &'a str)>,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    for (k, v) in extra {
        form.retain(|(key, _)| key != k);
        form.push((k, v));
    }
    form
}

async fn actions(app: &TestApp) -> Vec<(String, Option<String>, Option<String>)> {
    audit_event::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.subject_id, e.purpose))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_profile_per_curp_however_it_is_typed() {
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app).await;
    let base = person_form("Ernesto", "Gómez", "Delgado", "1956-12-31");
    let first = b
        .register(&with(base.clone(), &[("curp", " gode561231hdfrrn00 ")]))
        .await;
    // The same CURP typed the canonical way, with other names: the existing profile, not a
    // second one.
    let again = b
        .register(&with(
            person_form("Otro", "Nombre", "Distinto", "1956-12-31"),
            &[("curp", CURP)],
        ))
        .await;
    assert_eq!(again, first);
    assert_eq!(app.test_db.count("person").await, 1);
    assert_eq!(app.test_db.count("person_identifier").await, 1);

    // Found by CURP (POST body) → straight to the profile; by card number; by name + date.
    let page = b
        .submit("/oficina/personas", &[("by", "curp"), ("curp", CURP)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), format!("/oficina/persona/{first}"));
    let card = person::Entity::find_by_id(first)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .card_number;
    let grouped = format!("{} {} {}", &card[..4], &card[4..8], &card[8..]);
    let page = b
        .submit("/oficina/personas", &[("by", "card"), ("card", &grouped)])
        .await;
    assert_eq!(page.header("location"), format!("/oficina/persona/{first}"));
    let page = b
        .submit(
            "/oficina/personas",
            &[
                ("by", "name"),
                ("given_names", "ernesto"),
                ("first_surname", "GOMEZ"),
                ("second_surname", "delgado"),
                ("birth_date", "31/12/1956"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("/oficina/persona/{first}")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("GODE************00"),
        "masked CURP listed"
    );
    assert!(
        !page.body.contains(CURP),
        "search results show the CURP masked"
    );

    // The profile: masked CURP, decrypted contact, the view audited with its purpose.
    let profile = b.get(&format!("/oficina/persona/{first}")).await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(profile.body.contains("Calle Uno 23") && profile.body.contains("5512345678"));
    assert!(!profile.body.contains(CURP), "masked on the profile");
    // Reveal: the full CURP, and an audit event naming the kind (never the value).
    let revealed = b
        .submit(&format!("/oficina/persona/{first}"), &[("kind", "curp")])
        .await;
    assert_eq!(revealed.status, StatusCode::OK);
    assert!(revealed.body.contains(CURP));
    // An ID kind that does not exist, or that the person does not have: 404, nothing audited.
    let before = app.test_db.count("audit_event").await;
    for kind in ["xyz", "passport"] {
        let page = b
            .submit(&format!("/oficina/persona/{first}"), &[("kind", kind)])
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{kind}");
    }
    assert_eq!(app.test_db.count("audit_event").await, before);
    // A malformed CURP search names the rule and audits nothing.
    let page = b
        .submit(
            "/oficina/personas",
            &[("by", "curp"), ("curp", "GODE561231HDFRRN09")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("El dígito verificador no corresponde"));
    assert_eq!(app.test_db.count("audit_event").await, before);
    let events = actions(&app).await;
    let subject = Some(first.to_string());
    for action in ["person.registered", "person.viewed", "person.id_revealed"] {
        assert!(
            events.iter().any(|(a, s, _)| a == action && *s == subject),
            "{action} in {events:?}"
        );
    }
    assert!(
        events
            .iter()
            .any(|(a, _, p)| a == "person.viewed" && p.as_deref() == Some("registry"))
    );
    assert!(
        events
            .iter()
            .filter(|(a, _, _)| a == "person.searched")
            .count()
            >= 3
    );
    assert!(matches!(
        verify(&app.test_db.db).await.unwrap(),
        Verdict::Intact(_)
    ));

    // The QR token opens the profile; an unknown one is a 404.
    let token = person::Entity::find_by_id(first)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .card_token;
    let page = b.get(&format!("/oficina/tarjeta/{token}")).await;
    assert_eq!(page.header("location"), format!("/oficina/persona/{first}"));
    let page = b.get(&format!("/oficina/tarjeta/{}", "0".repeat(32))).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

/// The database itself holds a CURP once, whatever the screens do (the index of migration 29);
/// other ID numbers may repeat, and share bytes with a CURP's blind index without colliding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_a_curp_once_and_lets_other_ids_repeat() {
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app).await;
    let first = b
        .register(&with(
            person_form("Ernesto", "Gómez", "Delgado", "1956-12-31"),
            &[("curp", CURP)],
        ))
        .await;
    let second = b
        .register(&person_form("Lucía", "Ramírez", "Soto", "1990-03-04"))
        .await;
    assert_ne!(first, second);
    let db = &app.test_db.db;
    let copy = |to: i32, kind: &str| {
        format!(
            "INSERT INTO person_identifier \
             (person_id, kind, envelope, blind_index, key_version, created_at) \
             SELECT {to}, '{kind}', envelope, blind_index, key_version, created_at \
             FROM person_identifier WHERE person_id = {first} AND kind = 'curp'"
        )
    };
    let err = db
        .execute_unprepared(&copy(second, "curp"))
        .await
        .expect_err("a second person with the first one's CURP");
    assert!(
        matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ),
        "{err}"
    );
    assert_eq!(app.test_db.count("person_identifier").await, 1);
    for to in [first, second] {
        db.execute_unprepared(&copy(to, "nss"))
            .await
            .expect("another kind's number may repeat, even with those bytes");
    }
    assert_eq!(app.test_db.count("person_identifier").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probable_duplicates_are_shown_before_a_second_profile() {
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app).await;
    let first = b
        .register(&person_form(
            "María Fernanda",
            "López",
            "Hernández",
            "1990-05-10",
        ))
        .await;
    // Accents dropped and the second surname missing: the candidate is shown, nothing written.
    let form = person_form("Maria Fernanda", "Lopez", "", "1990-05-10");
    let page = b.submit("/oficina/personas/nueva", &form).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("/oficina/persona/{first}")));
    assert!(page.body.contains("Es otra persona"));
    assert_eq!(app.test_db.count("person").await, 1);
    // Swapped surnames are found too.
    let page = b
        .submit(
            "/oficina/personas/nueva",
            &person_form("María Fernanda", "Hernández", "López", "1990-05-10"),
        )
        .await;
    assert!(page.body.contains(&format!("/oficina/persona/{first}")));
    // "It's someone else": registered, and the audit event says it was confirmed.
    let second = b.register(&with(form, &[("confirm", "new")])).await;
    assert_ne!(second, first);
    assert_eq!(app.test_db.count("person").await, 2);
    let event = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("person.registered"))
        .filter(audit_event::Column::SubjectId.eq(second.to_string()))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert!(event.detail.unwrap().contains("\"confirmed_new\":true"));
    // Someone else entirely on the same date is not a candidate.
    b.register(&person_form(
        "Juan Carlos",
        "Ramírez",
        "Ortega",
        "1990-05-10",
    ))
    .await;
    assert_eq!(app.test_db.count("person").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_field_errors_in_both_languages_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app).await;
    let long_colonia = "x".repeat(81);
    let bad = with(
        person_form("Ana\u{7}", "López", "Pérez", "1990-02-30"),
        &[
            ("curp", "GODE561231HDFRRN09"),
            ("borough", "09099"),
            ("postal_code", "99999"),
            ("colonia", &long_colonia),
        ],
    );
    let before = app.test_db.count("audit_event").await;
    let page = b.submit("/oficina/personas/nueva", &bad).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "El dígito verificador no corresponde",
        "Esa fecha no existe",
        "Los códigos postales de la Ciudad van de 01000 a 16999.",
    ] {
        assert!(page.body.contains(message), "{message}");
    }
    assert!(page.body.contains("aria-invalid=\"true\""));
    b.get("/idioma/en").await;
    let page = b.submit("/oficina/personas/nueva", &bad).await;
    assert!(
        page.body.contains("The check digit does not match"),
        "{}",
        page.body
    );
    assert_eq!(app.test_db.count("person").await, 0);
    assert_eq!(app.test_db.count("person_identifier").await, 0);
    assert_eq!(app.test_db.count("audit_event").await, before);
    // Unknown fields are refused outright (no mass assignment).
    let page = b
        .submit(
            "/oficina/personas/nueva",
            &with(
                person_form("Ana", "López", "", "1990-01-01"),
                &[("registered_office_id", "3")],
            ),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.test_db.count("person").await, 0);
}

/// Every byte of the database's storage (SQLite file and WAL) or every row as text (PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_stored_only_as_envelopes_that_open_nowhere_else() {
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app).await;
    let a = b
        .register(&with(
            person_form("Ernesto", "Gómez", "Delgado", "1956-12-31"),
            &[("curp", CURP), ("nss", "12345678901")],
        ))
        .await;
    let other = b
        .register(&person_form(
            "Juan Carlos",
            "Ramírez",
            "Ortega",
            "1980-03-03",
        ))
        .await;
    b.submit("/oficina/personas", &[("by", "curp"), ("curp", CURP)])
        .await;
    let text = app.test_db.stored_text().await;
    for secret in [CURP, "12345678901", "Calle Uno 23", "5512345678"] {
        assert!(!text.contains(secret), "{secret} stored in clear");
    }
    // An envelope copied to another person's row does not open: a generic error, and an
    // integrity event in the audit log.
    let curp_row = person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.eq(a))
        .filter(person_identifier::Column::Kind.eq("curp"))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    let db = &app.test_db.db;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO person_identifier (person_id, kind, envelope, blind_index, key_version, created_at) VALUES ($1, 'curp', $2, $3, $4, $5)"
        }
        _ => {
            "INSERT INTO person_identifier (person_id, kind, envelope, blind_index, key_version, created_at) VALUES (?, 'curp', ?, ?, ?, ?)"
        }
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [
            other.into(),
            curp_row.envelope.clone().into(),
            vec![0u8; 32].into(),
            curp_row.key_version.into(),
            curp_row.created_at.into(),
        ],
    ))
    .await
    .unwrap();
    let page = b.get(&format!("/oficina/persona/{other}")).await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!page.body.contains(CURP));
    let integrity = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("vault.integrity"))
        .filter(audit_event::Column::SubjectId.eq(other.to_string()))
        .count(db)
        .await
        .unwrap();
    assert_eq!(integrity, 1);
    // The original still opens.
    assert_eq!(
        b.get(&format!("/oficina/persona/{a}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_resumably_and_fail_closed_when_missing_or_wrong() {
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app).await;
    let mut ids = Vec::new();
    for (i, (given, first)) in [("Ana", "López"), ("Luis", "Pérez"), ("Eva", "Ruiz")]
        .iter()
        .enumerate()
    {
        let date = format!("198{i}-01-0{}", i + 1);
        ids.push(b.register(&person_form(given, first, "Soto", &date)).await);
    }
    let settings = app.test_db.settings.clone();
    let db = &app.test_db.db;
    let report = angel_server::keys::rotate(db, &settings).await.unwrap();
    assert!(
        report.contains("version 2 added") && report.contains("3 re-sealed"),
        "{report}"
    );
    assert_eq!(
        angel_app::ssr::vault::versions_in_use(db).await.unwrap(),
        vec![2]
    );
    // Nothing left on version 1: retire it; the profiles still open with the new ring.
    let report = angel_server::keys::retire(db, &settings, 1).await.unwrap();
    assert!(report.contains("ring: [2]"), "{report}");
    let status = angel_server::keys::status(db, &settings).await.unwrap();
    assert!(status.contains("0 rows on older versions"), "{status}");
    let vault = angel_server::keys::open_vault(db, &settings).await.unwrap();
    let progress = angel_app::ssr::vault::rotate::reencrypt(&vault, db, |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (progress.total, progress.resealed),
        (0, 0),
        "running again changes nothing"
    );
    let app2 = TestApp::spawn_on(angel_tests::TestDb {
        db: db.clone(),
        settings: settings.clone(),
        dir: tempfile::tempdir().unwrap(),
    })
    .await;
    let mut b2 = app2.browser();
    b2.sign_in("t.trabajo", PASSWORD).await;
    for id in &ids {
        assert_eq!(
            b2.get(&format!("/oficina/persona/{id}")).await.status,
            StatusCode::OK
        );
    }

    // A wrong key or a missing key file: refused before anything runs.
    let mut wrong = settings.clone();
    wrong.key_file = app.test_db.dir.path().join("other.keys");
    assert!(
        angel_server::keys::open_vault(db, &wrong).await.is_err(),
        "missing"
    );
    angel_app::ssr::vault::KeyRing::generate()
        .create_file(&wrong.key_file)
        .unwrap();
    let error = angel_server::keys::open_vault(db, &wrong)
        .await
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("refusing to start"),
        "{error:#}"
    );
    // keygen never creates keys for a database that holds encrypted data.
    std::fs::remove_file(&wrong.key_file).unwrap();
    let error = angel_server::keys::keygen(db, &wrong, true)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("already holds encrypted data"),
        "{error}"
    );
    assert!(!wrong.key_file.exists());
}
