//! Changes to a profile over HTTP, on SQLite and PostgreSQL: edits with optimistic concurrency
//! (a stale save is a conflict that loses nothing), the history of changes, facts, relatives
//! and households, and the printable card.

use angel_entity::{household_member, person, person_change, person_fact, person_relationship};
use angel_tests::{Anchor, Browser, TestApp, person_form};
use reqwest::StatusCode;
use sea_orm::EntityTrait;

const PASSWORD: &str = "las jacarandas moradas de marzo";

async fn caseworker<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    app.staff(
        username,
        "caseworker",
        Anchor::Office("MOD-09002"),
        PASSWORD,
    )
    .await;
    let mut b = app.browser();
    b.sign_in(username, PASSWORD).await;
    b
}

/// The edit form as the page fills it from the stored profile, with some fields changed.
fn edit_form<'a>(version: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = person_form("Ernesto", "Gómez", "Delgado", "1956-12-31");
    form.retain(|(k, _)| !["curp"].contains(k));
    form.push(("version", version));
    for (k, v) in changes {
        form.retain(|(key, _)| key != k);
        form.push((k, v));
    }
    form
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_save_is_a_conflict_that_loses_nothing() {
    let app = TestApp::spawn().await;
    let mut ana = caseworker(&app, "t.ana").await;
    let mut beto = caseworker(&app, "t.beto").await;
    let id = ana
        .register(&person_form("Ernesto", "Gómez", "Delgado", "1956-12-31"))
        .await;
    let path = format!("/oficina/persona/{id}/editar");
    let page = ana.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"name="version" value="1""#),
        "{}",
        page.body
    );

    // Ana saves a new colonia from version 1: version 2, one history row.
    let page = ana
        .submit(&path, &edit_form("1", &[("colonia", "Santa Catarina")]))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // Beto, who also opened version 1, saves another phone: a conflict, nothing written.
    let before = app.test_db.count("person_change").await;
    let page = beto
        .submit(&path, &edit_form("1", &[("phone", "5587654321")]))
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(
        page.body.contains("Alguien guardó este perfil"),
        "{}",
        page.body
    );
    // Both versions on the page: his input kept in the form, and the saved colonia shown.
    assert!(page.body.contains("5587654321"));
    assert!(page.body.contains("Santa Catarina"));
    // The form now carries the saved version: saving again is deliberate.
    assert!(page.body.contains(r#"name="version" value="2""#));
    assert_eq!(app.test_db.count("person_change").await, before);
    let stored = person::Entity::find_by_id(id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.version, stored.colonia.as_str()),
        (2, "Santa Catarina")
    );

    // Saving with the version shown: version 3; the history names each field, the phone by
    // name only (contact details are encrypted and not copied).
    let page = beto
        .submit(
            &path,
            &edit_form(
                "2",
                &[("colonia", "Santa Catarina"), ("phone", "5587654321")],
            ),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let changes = person_change::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(
        changes[0].changes,
        r#"{"colonia":["Santa Cruz Meyehualco","Santa Catarina"]}"#
    );
    assert_eq!(changes[1].version, 3);
    assert_eq!(changes[1].changes, r#"{"contact":[null,null]}"#);
    let profile = ana.get(&format!("/oficina/persona/{id}")).await;
    assert!(profile.body.contains("5587654321"));
    assert!(profile.body.contains("Historial de cambios"));

    // Saving unchanged values writes nothing and keeps the version.
    let page = ana
        .submit(
            &path,
            &edit_form(
                "3",
                &[("colonia", "Santa Catarina"), ("phone", "5587654321")],
            ),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(app.test_db.count("person_change").await, 2);

    // Bad input: field errors, the input kept, nothing written.
    let page = ana
        .submit(
            &path,
            &edit_form(
                "3",
                &[("birth_date", "2099-01-01"), ("postal_code", "99999")],
            ),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("2099-01-01"));
    assert_eq!(app.test_db.count("person_change").await, 2);
    // Adding a CURP that belongs to someone else is refused.
    let mut other = person_form("Ana", "Ruiz", "Paz", "1956-12-31");
    other.push(("curp", "GODE561231HDFRRN00"));
    ana.register(&other).await;
    let page = ana
        .submit(&path, &edit_form("3", &[("curp", "GODE561231HDFRRN00")]))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Esta CURP pertenece a otro perfil"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relatives_households_and_facts() {
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app, "t.ana").await;
    let mother = b
        .register(&person_form("Rosa", "Núñez", "Peña", "1990-03-04"))
        .await;
    let daughter = b
        .register(&person_form("Lucía", "Núñez", "", "2015-06-07"))
        .await;
    let card = person::Entity::find_by_id(daughter)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .card_number;
    let path = format!("/oficina/persona/{mother}/familia");
    // A wrong check digit and an unknown card: field errors, nothing linked.
    let mut wrong = card.clone().into_bytes();
    wrong[9] = if wrong[9] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let page = b
        .submit(
            &path,
            &[
                ("relation", "parent_of"),
                ("card", &wrong),
                ("same_household", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.test_db.count("person_relationship").await, 0);
    let page = b
        .submit(
            &path,
            &[
                ("relation", "parent_of"),
                ("card", &card),
                ("same_household", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // Twice: refused, still one link.
    let page = b
        .submit(&path, &[("relation", "parent_of"), ("card", &card)])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("ya están ligadas"));
    let links = person_relationship::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        (
            links[0].person_id,
            links[0].relative_id,
            links[0].kind.as_str()
        ),
        (mother, daughter, "parent")
    );

    // A second child registered from the mother's profile: linked, same household.
    let mother_id = mother.to_string();
    let mut form = person_form("Mateo", "Núñez", "", "2019-01-02");
    form.push(("relative_of", &mother_id));
    form.push(("relation", "child_of"));
    let son = b.register(&form).await;
    let members = household_member::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(members.len(), 3);
    assert!(
        members
            .iter()
            .all(|m| m.household_id == members[0].household_id)
    );
    let profile = b.get(&format!("/oficina/persona/{son}")).await;
    assert!(profile.body.contains("Hija o hijo de"), "{}", profile.body);
    assert!(profile.body.contains("Rosa Núñez Peña"));
    let profile = b.get(&format!("/oficina/persona/{mother}")).await;
    assert!(profile.body.contains("Lucía Núñez") && profile.body.contains("Mateo Núñez"));

    // Facts: append-only, the newer one current; bad values refused with the field named.
    let facts = format!("/oficina/persona/{mother}/datos");
    let page = b
        .submit(
            &facts,
            &[
                ("kind", "monthly_income"),
                ("value", "$4,200"),
                ("as_of", "2026-10-01"),
                ("source", "declared"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = b
        .submit(
            &facts,
            &[
                ("kind", "monthly_income"),
                ("value", "6100"),
                ("as_of", "2026-11-01"),
                ("source", "document"),
                ("verified", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = b
        .submit(
            &facts,
            &[
                ("kind", "monthly_income"),
                ("value", "mucho"),
                ("source", "declared"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Escribe solo un número"));
    let page = b
        .submit(
            &facts,
            &[
                ("kind", "monthly_income"),
                ("value", "1"),
                ("source", "declared"),
                ("extra", "x"),
            ],
        )
        .await;
    assert!(page.status.is_client_error());
    let stored = person_fact::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(
        stored.iter().map(|f| f.value.as_str()).collect::<Vec<_>>(),
        ["4200", "6100"]
    );
    let profile = b.get(&format!("/oficina/persona/{mother}")).await;
    assert!(profile.body.contains("$ 6100") && profile.body.contains("(anterior)"));
    // The audit names the fact's kind, never its value.
    let audit: Vec<String> = angel_entity::audit_event::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "person.fact_recorded")
        .map(|e| e.detail.unwrap_or_default())
        .collect();
    assert_eq!(audit.len(), 2);
    assert!(
        audit
            .iter()
            .all(|d| d.contains("monthly_income") && !d.contains("6100"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_prints_a_qr_code_of_an_opaque_token() {
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app, "t.ana").await;
    let mut form = person_form("Ernesto", "Gómez", "Delgado", "1956-12-31");
    form.push(("curp", "GODE561231HDFRRN00"));
    let id = b.register(&form).await;
    let p = person::Entity::find_by_id(id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    let page = b.get(&format!("/oficina/persona/{id}/tarjeta")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("person-card") && page.body.contains("<svg"));
    let grouped = format!(
        "{} {} {}",
        &p.card_number[..4],
        &p.card_number[4..8],
        &p.card_number[8..]
    );
    assert!(page.body.contains(&grouped));
    assert!(!page.body.contains("GODE561231HDFRRN00"));
    // The QR's content is a URL with the token: the same qrcode rendering of it appears.
    let expected = angel_app::ssr::services::registry::qr_svg(&format!(
        "{}/oficina/tarjeta/{}",
        app.base, p.card_token
    ))
    .unwrap();
    assert!(
        page.body
            .contains(&expected[expected.find("<path").unwrap()..][..200])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_merges_a_duplicate_and_can_undo_it() {
    use angel_entity::{duplicate_review, person_identifier};
    use sea_orm::{ColumnTrait, QueryFilter};
    let app = TestApp::spawn().await;
    let mut b = caseworker(&app, "t.ana").await;
    app.staff(
        "t.supervisa",
        "office_supervisor",
        Anchor::Office("MOD-09002"),
        PASSWORD,
    )
    .await;
    let mut sup = app.browser();
    sup.sign_in("t.supervisa", PASSWORD).await;

    // The first profile has a CURP, a fact and a child.
    let mut form = person_form("Ernesto", "Gómez", "Delgado", "1956-12-31");
    form.push(("curp", "GODE561231HDFRRN00"));
    let first = b.register(&form).await;
    let facts = format!("/oficina/persona/{first}/datos");
    let page = b
        .submit(
            &facts,
            &[
                ("kind", "employment"),
                ("value", "retired"),
                ("source", "declared"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let child = b
        .register(&person_form("Lucía", "Gómez", "Ruiz", "1990-01-01"))
        .await;
    let card = person::Entity::find_by_id(child)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .card_number;
    let page = b
        .submit(
            &format!("/oficina/persona/{first}/familia"),
            &[("relation", "parent_of"), ("card", &card)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    // Registered again with a typo in the given name, without accents nor CURP, as "someone
    // else": the pair is queued.
    let mut again = person_form("Ernsto", "Gomez", "Delgado", "1956-12-31");
    again.retain(|(k, _)| *k != "colonia");
    again.push(("colonia", "Santa Catarina"));
    again.push(("confirm", "new"));
    let second = b.register(&again).await;
    assert_ne!(first, second);
    let pairs = duplicate_review::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(pairs.len(), 1);
    let pair = pairs[0].id;
    assert_eq!((pairs[0].person_a, pairs[0].person_b), (first, second));

    // Only supervisors see the queue.
    assert_eq!(
        b.get("/oficina/duplicados").await.status,
        StatusCode::FORBIDDEN
    );
    let queue = sup.get("/oficina/duplicados").await;
    assert!(
        queue.body.contains(&format!("/oficina/duplicados/{pair}")),
        "{}",
        queue.body
    );
    let page = sup.get(&format!("/oficina/duplicados/{pair}")).await;
    assert!(page.body.contains("GODE************00") && page.body.contains("Santa Catarina"));

    // A merge without a reason: field error, nothing changes.
    let path = format!("/oficina/duplicados/{pair}");
    let page = sup
        .submit(&path, &[("decision", "merge"), ("survivor", "b")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Merge into the second profile, keeping the first one's colonia.
    let page = sup
        .submit(
            &path,
            &[
                ("decision", "merge"),
                ("survivor", "b"),
                ("reason", "registered_twice"),
                ("pick_colonia", "a"),
                ("pick_given_names", "a"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let gone = person::Entity::find_by_id(first)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    let kept = person::Entity::find_by_id(second)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (gone.status.as_str(), gone.merged_into),
        ("merged", Some(second))
    );
    assert!(kept.has_curp && !gone.has_curp);
    assert_eq!(kept.colonia, "Santa Cruz Meyehualco");
    // The kept given names are the first profile's, and so is the name key duplicate search
    // blocks and scores on.
    assert_eq!(
        (kept.given_names.as_str(), kept.name_key.as_str()),
        ("Ernesto", "GOMEZ DELGADO ERNESTO")
    );
    let curp_row = person_identifier::Entity::find()
        .filter(person_identifier::Column::Kind.eq("curp"))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(curp_row.person_id, second);
    // The re-sealed CURP opens under its new owner, and a CURP search lands there.
    let found = b
        .submit(
            "/oficina/personas",
            &[("by", "curp"), ("curp", "GODE561231HDFRRN00")],
        )
        .await;
    assert_eq!(
        found.header("location"),
        format!("/oficina/persona/{second}")
    );
    let profile = b.get(&format!("/oficina/persona/{second}")).await;
    assert!(profile.body.contains("GODE************00"));
    assert!(profile.body.contains("Lucía Gómez Ruiz") && profile.body.contains("Jubilación"));
    // The tombstone points to the survivor and cannot be edited.
    let tomb = b.get(&format!("/oficina/persona/{first}")).await;
    assert!(tomb.body.contains(&format!("/oficina/persona/{second}")));
    let page = b
        .submit(
            &format!("/oficina/persona/{first}/datos"),
            &[
                ("kind", "pregnant"),
                ("value", "no"),
                ("source", "declared"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Undo: everything back where it was, the pair pending again.
    let page = sup
        .submit(&path, &[("decision", "unmerge"), ("reason", "wrong_merge")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let gone = person::Entity::find_by_id(first)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    let kept = person::Entity::find_by_id(second)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (gone.status.as_str(), gone.merged_into, gone.has_curp),
        ("active", None, true)
    );
    assert_eq!(
        (kept.colonia.as_str(), kept.has_curp),
        ("Santa Catarina", false)
    );
    assert_eq!(
        (kept.given_names.as_str(), kept.name_key.as_str()),
        ("Ernsto", "GOMEZ DELGADO ERNSTO")
    );
    let found = b
        .submit(
            "/oficina/personas",
            &[("by", "curp"), ("curp", "GODE561231HDFRRN00")],
        )
        .await;
    assert_eq!(
        found.header("location"),
        format!("/oficina/persona/{first}")
    );
    let profile = b.get(&format!("/oficina/persona/{first}")).await;
    assert!(profile.body.contains("Lucía Gómez Ruiz") && profile.body.contains("Jubilación"));
    let pairs = duplicate_review::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(pairs[0].status, "pending");
    // Marked distinct instead: out of the queue.
    let page = sup
        .submit(&path, &[("decision", "distinct"), ("reason", "homonym")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let queue = sup.get("/oficina/duplicados").await;
    assert!(
        !queue
            .body
            .contains(&format!("/oficina/duplicados/{pair}\""))
    );
    let actions: Vec<String> = angel_entity::audit_event::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "person.merged",
        "person.unmerged",
        "person.duplicate_dismissed",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}");
    }
}
