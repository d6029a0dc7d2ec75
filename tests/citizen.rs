//! The citizen's account over HTTP, on SQLite and PostgreSQL: activation with the Ángel card,
//! the birth date and the CURP (or a code a caseworker printed), one neutral answer for any
//! wrong detail and nothing created; sign-in with the card; `/mi-cuenta` shows the person's own
//! profile (CURP masked), their requests across agencies, and every staff access to their data
//! from the audit log; ratings of decided requests from the account or by folio, once each,
//! feeding the policy officers' quality table with small cells suppressed; another person's
//! folio is 404.

use angel_entity::{citizen_account, citizen_session, enrollment, feedback, person};
use angel_tests::{Anchor, Browser, Page, TestApp, person_form};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const PASSWORD: &str = "las jacarandas moradas de marzo";
const CITIZEN_PASSWORD: &str = "mi perro se llama chocolate y come mucho";
const CURP: &str = "GODE561231HDFRRN00";
const REFUSED_ES: &str = "Esos datos no coinciden con ningún registro";

async fn signed_in<'a>(
    app: &'a TestApp,
    username: &str,
    role: &str,
    at: Anchor<'_>,
) -> Browser<'a> {
    app.signed_in(username, role, at, PASSWORD).await
}

/// A rating at the public follow-up, with the pass the follow-up gave.
async fn rate_by_pass(b: &mut Browser<'_>, folio: &str, pass: &str, rating: &str) -> Page {
    b.submit(
        "/seguimiento/opinion",
        &[
            ("folio", folio),
            ("pass", pass),
            ("rating", rating),
            ("comment", ""),
        ],
    )
    .await
}

/// A rating from the account.
async fn rate_own(b: &mut Browser<'_>, folio: &str, rating: &str) -> Page {
    b.submit(
        "/mi-cuenta/opinion",
        &[
            ("folio", folio),
            ("rating", rating),
            ("comment", "Me atendieron rápido"),
        ],
    )
    .await
}

/// Ernesto Gómez Delgado (CURP above), registered at MOD-09007 with a COMCOM request.
async fn ernesto(app: &TestApp, office: &mut Browser<'_>) -> (person::Model, enrollment::Model) {
    let mut form = person_form("Ernesto", "Gómez", "Delgado", "1956-12-31");
    form.push(("curp", CURP));
    let id = office.register(&form).await;
    let request = office.request_comcom(id).await;
    let p = person::Entity::find_by_id(id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    (p, request)
}

async fn activate(b: &mut Browser<'_>, card: &str, birth: &str, curp: &str, code: &str) -> Page {
    b.submit(
        "/mi-cuenta/activar",
        &[
            ("card", card),
            ("birth_date", birth),
            ("curp", curp),
            ("code", code),
            ("password", CITIZEN_PASSWORD),
            ("confirm", CITIZEN_PASSWORD),
        ],
    )
    .await
}

/// A valid card number that nobody holds.
fn nobodys_card(taken: &str) -> String {
    (1..)
        .map(|n: u32| {
            let digits: Vec<u8> = format!("{:09}", 123_456_780 + n)
                .bytes()
                .map(|b| b - b'0')
                .collect();
            angel_app::domain::card::from_body(digits.try_into().expect("nine digits"))
        })
        .find(|c| c != taken)
        .expect("a card")
}

/// Moves a request requested → in_review → approved as SEDESO's staff (COMCOM's agency).
async fn approve(sedeso: &mut Browser<'_>, e: &enrollment::Model) {
    let case = format!("/agencia/solicitud/{}", e.id);
    for (to, reason, version) in [
        ("in_review", "review_started", "1"),
        ("approved", "meets_requirements", "2"),
    ] {
        let page = sedeso
            .submit(
                &case,
                &[("to", to), ("reason", reason), ("version", version)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{to}: {}", page.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_opens_an_account_and_sees_who_looked_at_their_data() {
    let app = TestApp::spawn().await;
    let mut office = signed_in(&app, "t.ana", "caseworker", Anchor::Office("MOD-09007")).await;
    let (ernesto, request) = ernesto(&app, &mut office).await;
    let card = angel_app::domain::card::grouped(&ernesto.card_number);

    // Signed out, the page offers the sign-in form and the way to activate.
    let mut citizen = app.browser();
    let page = citizen.get("/mi-cuenta").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"action="/mi-cuenta""#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"href="/mi-cuenta/activar""#));
    assert_eq!(app.get("/mi-cuenta/activar").await.0, StatusCode::OK);

    // Any wrong detail: one answer, nothing created, nothing typed echoed.
    let other = nobodys_card(&ernesto.card_number);
    for (card, birth, curp) in [
        (card.as_str(), "1956-12-30", CURP),
        (card.as_str(), "1956-12-31", "GODE561231MDFRRN00"),
        (other.as_str(), "1956-12-31", CURP),
    ] {
        let page = activate(&mut citizen, card, birth, curp, "").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
        assert!(page.body.contains(REFUSED_ES), "{}", page.body);
        assert!(!page.body.contains(curp), "the CURP is not echoed");
    }
    // Field errors in the chosen language, nothing looked up.
    let page = activate(&mut citizen, "1234", "1956-12-31", "", "").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("Escribe tu CURP o el código de activación impreso.")
    );
    assert_eq!(app.test_db.count("citizen_account").await, 0);

    // The right details open the account and sign in.
    let page = activate(&mut citizen, &card, "31/12/1956", &CURP.to_lowercase(), "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.header("location"), "/mi-cuenta");
    assert!(citizen.cookies.contains_key("angel_citizen"));
    assert!(
        !citizen.cookies.contains_key("angel_session"),
        "not a staff session"
    );

    // The caseworker opens the profile once more, then the citizen looks.
    office
        .get(&format!("/oficina/persona/{}", ernesto.id))
        .await;
    let page = citizen.get("/mi-cuenta").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("cache-control"), "no-store");
    let body = &page.body;
    assert!(body.contains("Ernesto Gómez Delgado"));
    assert!(!body.contains(CURP), "the CURP is masked");
    assert!(body.contains("GODE************00"), "{body}");
    assert!(body.contains(&card));
    assert!(body.contains(&format!(r#"data-folio="{}""#, request.folio)));
    assert!(body.contains("Comedores Comunitarios"));
    // The access log: the registration, the request and the views, by office and role.
    assert!(
        body.contains(r#"data-action="person.registered""#),
        "{body}"
    );
    assert!(body.contains(r#"data-action="enrollment.requested""#));
    let views = body.matches(r#"data-action="person.viewed""#).count();
    assert!(views >= 1, "{body}");
    assert!(body.contains("Trabajo social (módulo)"), "the role");
    assert!(body.contains("Consultó tu perfil"));
    assert!(
        !body.contains("Persona t.ana"),
        "the staff member's name is not shown"
    );
    // Another view shows up at once.
    office
        .get(&format!("/oficina/persona/{}", ernesto.id))
        .await;
    let page = citizen.get("/mi-cuenta").await;
    assert_eq!(
        page.body.matches(r#"data-action="person.viewed""#).count(),
        views + 1
    );

    // The CURP never opens an account that has a password.
    let mut stranger = app.browser();
    let page = activate(&mut stranger, &card, "1956-12-31", CURP, "").await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("Esta cuenta ya está activa"));

    // Signing out ends the session; signing in with the card and the password opens one.
    let page = citizen.submit("/mi-cuenta/salir", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(!citizen.cookies.contains_key("angel_citizen"));
    assert_eq!(app.test_db.count("citizen_session").await, 0);
    let page = citizen
        .submit(
            "/mi-cuenta",
            &[("card", &card), ("password", "otra cosa cualquiera")],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.body
            .contains("El número de tarjeta o la contraseña no son correctos.")
    );
    let page = citizen
        .submit(
            "/mi-cuenta",
            &[("card", &card), ("password", CITIZEN_PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(
        citizen
            .get("/mi-cuenta")
            .await
            .body
            .contains("GODE************00")
    );

    // A staff session is not a citizen session, and the reverse.
    let page = office.get("/mi-cuenta").await;
    assert!(
        page.body.contains(r#"action="/mi-cuenta""#),
        "staff see the sign-in form"
    );
    assert_eq!(citizen.get("/oficina").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_code_opens_an_account_once_and_resets_a_forgotten_password() {
    let app = TestApp::spawn().await;
    let mut office = signed_in(&app, "t.ana", "caseworker", Anchor::Office("MOD-09007")).await;
    // Registered without a CURP: only a printed code opens the account.
    let id = office
        .register(&person_form("Rosa", "Núñez", "Peña", "1990-03-04"))
        .await;
    let rosa = person::Entity::find_by_id(id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    let page = office.get(&format!("/oficina/persona/{id}")).await;
    assert!(
        page.body
            .contains(&format!(r#"action="/oficina/persona/{id}/codigo""#))
    );
    let page = office
        .submit(&format!("/oficina/persona/{id}/codigo"), &[])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let code = between(&page.body, r#"<code class="activation-code">"#, "</code>");
    assert_eq!(code.len(), 11, "{code}");
    let stored = citizen_account::Entity::find()
        .filter(citizen_account::Column::PersonId.eq(id))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .expect("an account waiting for activation");
    assert!(stored.password_hash.is_none());
    assert!(
        !stored.code_hash.clone().unwrap().contains(&code),
        "only a hash"
    );

    let mut rosa_phone = app.browser();
    let page = activate(
        &mut rosa_phone,
        &rosa.card_number,
        "1990-03-04",
        "",
        "ZZZZZ-ZZZZZ",
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let page = activate(
        &mut rosa_phone,
        &rosa.card_number,
        "1990-03-04",
        "",
        &code.to_lowercase(),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // Used once: the same code no longer works.
    let mut again = app.browser();
    let page = activate(&mut again, &rosa.card_number, "1990-03-04", "", &code).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);

    // Forgot the password: a new code replaces it and ends the open sessions.
    let page = office
        .submit(&format!("/oficina/persona/{id}/codigo"), &[])
        .await;
    let second = between(&page.body, r#"<code class="activation-code">"#, "</code>");
    assert_ne!(second, code);
    let page = activate(&mut again, &rosa.card_number, "1990-03-04", "", &second).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        citizen_session::Entity::find()
            .all(&app.test_db.db)
            .await
            .unwrap()
            .len(),
        1,
        "the first phone's session ended"
    );
    let page = rosa_phone.get("/mi-cuenta").await;
    assert!(
        page.body.contains(r#"action="/mi-cuenta""#),
        "signed out there"
    );
    // The printed code is in Rosa's access log, with the office that printed it.
    let page = again.get("/mi-cuenta").await;
    assert!(
        page.body.contains(r#"data-action="citizen.code_issued""#),
        "{}",
        page.body
    );
}

fn between(body: &str, start: &str, end: &str) -> String {
    let from = body.find(start).expect("start marker") + start.len();
    let to = body[from..].find(end).expect("end marker") + from;
    body[from..to].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decided_requests_are_rated_once_from_the_account_or_by_folio() {
    let app = TestApp::spawn().await;
    let mut office = signed_in(&app, "t.ana", "caseworker", Anchor::Office("MOD-09007")).await;
    let mut sedeso = signed_in(&app, "t.sedeso", "agency_staff", Anchor::Agency("SEDESO")).await;
    let (ernesto, request) = ernesto(&app, &mut office).await;
    let rosa = office
        .register(&person_form("Rosa", "Núñez", "Peña", "1990-03-04"))
        .await;
    let rosas = office.request_comcom(rosa).await;

    let mut citizen = app.browser();
    let page = activate(&mut citizen, &ernesto.card_number, "1956-12-31", CURP, "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // Not decided yet: no rating form, and a posted rating is refused.
    let page = citizen.get("/mi-cuenta").await;
    assert!(!page.body.contains(r#"action="/mi-cuenta/opinion""#));
    let page = rate_own(&mut citizen, &request.folio, "5").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("Podrás calificar cuando la solicitud tenga una decisión.")
    );

    approve(&mut sedeso, &request).await;
    approve(&mut sedeso, &rosas).await;
    let page = citizen.get("/mi-cuenta").await;
    assert!(
        page.body.contains(r#"action="/mi-cuenta/opinion""#),
        "{}",
        page.body
    );
    // The agency's decisions are in the access log too.
    assert!(
        page.body
            .contains(r#"data-action="enrollment.status_changed""#)
    );

    // Another person's folio: 404, as one that does not exist; nothing stored.
    assert_eq!(
        rate_own(&mut citizen, &rosas.folio, "1").await.status,
        StatusCode::NOT_FOUND
    );
    // Out of range: a field error in the chosen language.
    let page = rate_own(&mut citizen, &request.folio, "9").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.test_db.count("feedback").await, 0);

    let page = rate_own(&mut citizen, &request.folio, "4").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = citizen.get("/mi-cuenta").await;
    assert!(page.body.contains("Calificaste esta atención con 4 de 5."));
    // Once: a second rating is refused and the first kept as given.
    let page = rate_own(&mut citizen, &request.folio, "1").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let given = feedback::Entity::find().all(&app.test_db.db).await.unwrap();
    assert_eq!(given.len(), 1);
    assert_eq!(given[0].rating, 4);
    assert_eq!(given[0].channel, "account");
    assert_eq!(given[0].office_id, request.office_id, "tied to the office");
    let comment = given[0].comment.clone().expect("a sealed comment");
    assert!(
        !String::from_utf8_lossy(&comment).contains("rápido"),
        "the comment is sealed"
    );

    // By folio: the follow-up offers the form for a decided request, with a pass instead of
    // the birth date.
    let mut anyone = app.browser();
    let page = anyone
        .submit(
            "/seguimiento",
            &[("folio", &rosas.folio), ("birth_date", "1990-03-04")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"action="/seguimiento/opinion""#),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("1990-03-04"),
        "the birth date is not carried"
    );
    let pass = between(&page.body, r#"name="pass" value=""#, "\"");
    // A forged pass (another request's id) gets the neutral answer.
    let forged = format!("{}{}", request.id, &pass[pass.find('.').unwrap()..]);
    for bad in [forged.as_str(), "1.2.3"] {
        let page = rate_by_pass(&mut anyone, &rosas.folio, bad, "2").await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
    }
    let page = rate_by_pass(&mut anyone, &rosas.folio, &pass, "2").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Calificaste esta atención con 2 de 5."));
    assert!(!page.body.contains(r#"action="/seguimiento/opinion""#));
    // The pass expires.
    app.clock.advance(chrono::TimeDelta::hours(3));
    let page = rate_by_pass(&mut anyone, &rosas.folio, &pass, "2").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(app.test_db.count("feedback").await, 2);

    // Comments are re-sealed with the rest when the keys rotate, and still open.
    let db = &app.test_db.db;
    let settings = app.test_db.settings.clone();
    let report = angel_server::keys::rotate(db, &settings).await.unwrap();
    assert!(report.contains("version 2 added"), "{report}");
    let vault = angel_server::keys::open_vault(db, &settings).await.unwrap();
    let row = feedback::Entity::find_by_id(given[0].id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.key_version, 2);
    let slot = angel_app::ssr::vault::Slot::new("feedback", "comment", i64::from(row.id));
    let text = vault.open_text(slot, &row.comment.unwrap()).unwrap();
    assert_eq!(&*text, "Me atendieron rápido");

    // The policy officers' table: two ratings at MOD-09007 for COMCOM, shown as "<5".
    let mut analyst = signed_in(&app, "t.politica", "policy_officer", Anchor::None).await;
    let page = analyst.get("/politica").await;
    assert_eq!(page.status, StatusCode::OK);
    let quality = between(&page.body, r#"class="quality""#, "</table>");
    let row = between(&quality, r#"<tr data-program="COMCOM">"#, "</tr>");
    assert!(row.contains("&lt;5"), "{row}");
    assert!(!row.contains("3.0"), "no mean for a small cell: {row}");
    let csv = analyst.get("/politica/calificaciones.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "program,office,ratings,mean_rating");
    let comcom: Vec<&&str> = lines.iter().filter(|l| l.starts_with("COMCOM,")).collect();
    assert_eq!(comcom.len(), 1, "{lines:?}");
    assert!(
        comcom[0].ends_with(",<5,"),
        "no mean for a small cell: {}",
        comcom[0]
    );
}
