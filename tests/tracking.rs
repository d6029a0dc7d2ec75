//! Requests across agencies over HTTP, on SQLite and PostgreSQL: a request made at an office
//! goes requested → in_review → approved → active through the agency's queue ("take next", the
//! decision screen); bad transitions, missing reasons, long notes and stale forms are refused
//! and write nothing; another agency gets 404; restricted notes stay within the author's agency;
//! the person's timeline shows everything; and the escalation job, run with an injected clock,
//! raises overdue requests level by level exactly once, under a database lease.

use std::collections::BTreeSet;

use angel_app::domain::calendar::add_business_days;
use angel_app::domain::curp::Date;
use angel_app::ssr::audit::AuditLog;
use angel_app::ssr::services::jobs;
use angel_entity::{
    audit_event, case_note, enrollment, enrollment_escalation, enrollment_event, holiday, referral,
};
use angel_tests::{Anchor, Browser, TestApp, person_form};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

const PASSWORD: &str = "las jacarandas moradas de marzo";

async fn signed_in<'a>(
    app: &'a TestApp,
    username: &str,
    role: &str,
    at: Anchor<'_>,
) -> Browser<'a> {
    app.signed_in(username, role, at, PASSWORD).await
}

/// A 36-year-old registered at MOD-09007 and a PAAM request made for her by a supervisor's
/// override (PAAM is run by IAAM). Returns (person, enrollment).
async fn requested(supervisor: &mut Browser<'_>) -> (i32, enrollment::Model) {
    let person = supervisor
        .register(&person_form("Rosa", "Núñez", "Peña", "1990-03-04"))
        .await;
    let e = supervisor.request_paam_override(person).await;
    (person, e)
}

async fn reload(app: &TestApp, id: i32) -> enrollment::Model {
    enrollment::Entity::find_by_id(id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
}

fn decision<'a>(to: &'a str, reason: &'a str, version: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("to", to), ("reason", reason), ("version", version)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_goes_through_the_agency_queue_to_active_and_shows_on_the_timeline() {
    let app = TestApp::spawn().await;
    let mut supervisor = signed_in(
        &app,
        "t.supervisor",
        "office_supervisor",
        Anchor::Office("MOD-09007"),
    )
    .await;
    let mut iaam = signed_in(&app, "t.iaam", "agency_staff", Anchor::Agency("IAAM")).await;
    let mut dif = signed_in(&app, "t.dif", "agency_staff", Anchor::Agency("DIF")).await;
    let (person, e) = requested(&mut supervisor).await;
    let case = format!("/agencia/solicitud/{}", e.id);

    // The request is in IAAM's queue and nowhere else; DIF gets 404 on it.
    let page = iaam.get("/agencia").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&e.folio), "{}", page.body);
    let page = dif.get("/agencia").await;
    assert!(!page.body.contains(&e.folio));
    assert_eq!(dif.get(&case).await.status, StatusCode::NOT_FOUND);
    let page = dif
        .submit(&case, &decision("in_review", "review_started", "1"))
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // Filtered out by another borough; kept by its own.
    let page = iaam.get("/agencia?alcaldia=09002").await;
    assert!(!page.body.contains(&e.folio));
    let page = iaam.get("/agencia?alcaldia=09007&programa=PAAM").await;
    assert!(page.body.contains(&e.folio));
    let page = iaam.get("/agencia?vence=overdue").await;
    assert!(!page.body.contains(&e.folio), "not overdue yet");

    // "Take next" assigns it and opens the decision screen: name, age, the evaluation.
    let page = iaam.submit("/agencia", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.header("location"), case);
    let page = iaam.get(&case).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Rosa Núñez Peña"));
    assert!(
        page.body
            .contains("Necesitas tener 68 años o más; tienes 36.")
    );
    assert!(page.body.contains("Persona t.iaam"), "assigned");
    // Nothing else left to take.
    let page = iaam.submit("/agencia", &[]).await;
    assert_eq!(page.header("location"), "/agencia?vacia=1");

    // Refusals write nothing: a transition the machine lacks, no reason, a reason of another
    // transition, a note too long, a withdrawal by the agency.
    let events = app.test_db.count("enrollment_event").await;
    for (form, message) in [
        (
            decision("approved", "meets_requirements", "1"),
            "no está permitido",
        ),
        (decision("in_review", "", "1"), "Este dato es obligatorio"),
        (
            decision("in_review", "death", "1"),
            "Elige uno de los motivos",
        ),
        (
            decision("withdrawn", "person_request", "1"),
            "no lo registra tu área",
        ),
    ] {
        let page = iaam.submit(&case, &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(page.body.contains(message), "{message}: {}", page.body);
    }
    let long = "x".repeat(4001);
    let mut form = decision("in_review", "review_started", "1");
    form.push(("note", &long));
    let page = iaam.submit(&case, &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("máximo 4,000"));
    // Unknown fields are refused outright.
    let mut form = decision("in_review", "review_started", "1");
    form.push(("status", "active"));
    assert_eq!(
        iaam.submit(&case, &form).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.test_db.count("enrollment_event").await, events);
    assert_eq!(app.test_db.count("case_note").await, 0);
    assert_eq!(reload(&app, e.id).await.status, "requested");

    // Into review, with a restricted note (encrypted: its words are not in the row).
    let mut form = decision("in_review", "review_started", "1");
    form.push(("note", "Documentos cotejados en ventanilla."));
    form.push(("sensitivity", "restricted"));
    let page = iaam.submit(&case, &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let note = case_note::Entity::find()
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.sensitivity, "restricted");
    assert!(
        !note
            .body
            .windows(b"ventanilla".len())
            .any(|w| w == b"ventanilla")
    );
    assert!(
        iaam.get(&case)
            .await
            .body
            .contains("Documentos cotejados en ventanilla.")
    );

    // A form filled before that change (version 1) is stale: 409, nothing changes.
    let page = iaam
        .submit(&case, &decision("approved", "meets_requirements", "1"))
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(reload(&app, e.id).await.status, "in_review");

    // Approved, then active.
    let page = iaam
        .submit(&case, &decision("approved", "meets_requirements", "2"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let approved = reload(&app, e.id).await;
    assert!(approved.decided_at.is_some());
    let page = iaam
        .submit(&case, &decision("active", "benefit_started", "3"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let active = reload(&app, e.id).await;
    assert_eq!((active.status.as_str(), active.version), ("active", 4));
    let history: Vec<(Option<String>, String, String)> = enrollment_event::Entity::find()
        .filter(enrollment_event::Column::EnrollmentId.eq(e.id))
        .order_by_asc(enrollment_event::Column::Id)
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|ev| (ev.from_status, ev.to_status, ev.reason))
        .collect();
    assert_eq!(
        history,
        vec![
            (None, "requested".into(), "override".into()),
            (
                Some("requested".into()),
                "in_review".into(),
                "review_started".into()
            ),
            (
                Some("in_review".into()),
                "approved".into(),
                "meets_requirements".into()
            ),
            (
                Some("approved".into()),
                "active".into(),
                "benefit_started".into()
            ),
        ]
    );

    // The office cannot withdraw an approved request.
    let timeline = format!("/oficina/persona/{person}/historial");
    let eid = e.id.to_string();
    let page = supervisor
        .submit(
            &timeline,
            &[
                ("do", "withdraw"),
                ("enrollment", &eid),
                ("reason", "person_request"),
                ("version", "4"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The timeline: every status change; IAAM's restricted note hidden from the office.
    let page = supervisor.get(&timeline).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in ["Solicitada", "En revisión", "Aprobada", "Activa", &e.folio] {
        assert!(page.body.contains(text), "{text}");
    }
    assert!(!page.body.contains("ventanilla"));
    // A general note from the office, on the request: both sides read it.
    let page = supervisor
        .submit(
            &timeline,
            &[
                ("do", "note"),
                ("body", "Llamó para preguntar por la tarjeta."),
                ("sensitivity", "general"),
                ("enrollment", &eid),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(
        supervisor
            .get(&timeline)
            .await
            .body
            .contains("Llamó para preguntar")
    );
    assert!(iaam.get(&case).await.body.contains("Llamó para preguntar"));
    // An empty note is refused.
    let page = supervisor
        .submit(&timeline, &[("do", "note"), ("body", "  ")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.test_db.count("case_note").await, 2);
    // Filtered by another agency, the request's entries are gone (IAAM keeps them).
    let page = supervisor.get(&format!("{timeline}?agencia=DIF")).await;
    assert!(!page.body.contains(r#"data-kind="status""#));
    let page = supervisor.get(&format!("{timeline}?agencia=IAAM")).await;
    assert_eq!(page.body.matches(r#"data-kind="status""#).count(), 4);

    // Audited: the decision screen and the timeline as views of the person; each change.
    let actions: Vec<String> = audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Seq)
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| format!("{}:{}", a.action, a.purpose.unwrap_or_default()))
        .collect();
    for wanted in [
        "enrollment.assigned:",
        "person.viewed:decision",
        "enrollment.status_changed:",
        "case_note.added:",
        "person.viewed:timeline",
    ] {
        assert!(actions.iter().any(|a| a == wanted), "{wanted}: {actions:?}");
    }
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "enrollment.status_changed:")
            .count(),
        3
    );
}

async fn holidays(app: &TestApp) -> BTreeSet<Date> {
    holiday::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|h| date(h.day))
        .collect()
}

fn date(d: NaiveDate) -> Date {
    Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    }
}

fn nine_am(d: Date) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(d.year, d.month, d.day)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_requests_escalate_level_by_level_once_under_a_lease() {
    let app = TestApp::spawn().await;
    let db = &app.test_db.db;
    let mut supervisor = signed_in(
        &app,
        "t.supervisor",
        "office_supervisor",
        Anchor::Office("MOD-09007"),
    )
    .await;
    let mut head = signed_in(&app, "t.head", "agency_head", Anchor::Agency("IAAM")).await;
    let (_, e) = requested(&mut supervisor).await;
    let due = date(e.due_on);
    let holidays = holidays(&app).await;
    // The test server is idle while the job runs, so a log of its own keeps the chain whole.
    let run = |at: DateTime<Utc>| async move {
        jobs::escalate(db, &AuditLog::default(), "test", at)
            .await
            .unwrap()
            .expect("the lease is free")
            .raised
    };

    // The day before the due date: nothing.
    let before = angel_app::domain::calendar::add_days(due, -1);
    assert_eq!(run(nine_am(before)).await, [0, 0, 0]);
    // On the due date: level 1, once.
    assert_eq!(run(nine_am(due)).await, [1, 0, 0]);
    assert_eq!(run(nine_am(due)).await, [0, 0, 0]);
    assert_eq!(reload(&app, e.id).await.escalation_level, 1);
    // The supervisor sees it at home; the agency head not yet (level 2 is theirs).
    assert!(supervisor.get("/oficina").await.body.contains(&e.folio));
    let page = head.get("/agencia").await;
    assert!(
        page.body.contains("0 solicitudes sin atender"),
        "{}",
        page.body
    );
    // Five business days later: level 2; ten: level 3.
    let level_2 = add_business_days(due, 5, &holidays);
    assert_eq!(
        run(nine_am(angel_app::domain::calendar::add_days(level_2, -1))).await,
        [0, 0, 0]
    );
    assert_eq!(run(nine_am(level_2)).await, [0, 1, 0]);
    assert!(
        head.get("/agencia")
            .await
            .body
            .contains("1 solicitudes sin atender")
    );
    let level_3 = add_business_days(due, 10, &holidays);
    assert_eq!(run(nine_am(level_3)).await, [0, 0, 1]);
    assert_eq!(run(nine_am(level_3)).await, [0, 0, 0]);
    let levels: Vec<i32> = enrollment_escalation::Entity::find()
        .order_by_asc(enrollment_escalation::Column::Level)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.level)
        .collect();
    assert_eq!(levels, vec![1, 2, 3]);
    assert_eq!(reload(&app, e.id).await.escalation_level, 3);

    // A request decided meanwhile no longer escalates: a new one, rejected before its due date.
    let mut other = signed_in(&app, "t.iaam", "agency_staff", Anchor::Agency("IAAM")).await;
    let person = supervisor
        .register(&person_form("Ana", "Ruiz", "Soto", "1991-07-08"))
        .await;
    let paam = app.program_id("PAAM").await;
    let pick = format!("{person}:{paam}");
    supervisor
        .submit(
            &format!("/oficina/persona/{person}/que-paso?evento=CUMPLI_68"),
            &[
                ("do", "request"),
                ("evento", "CUMPLI_68"),
                ("pick", &pick),
                ("override_reason", "emergency"),
            ],
        )
        .await;
    let second = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(person))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let page = other
        .submit(
            &format!("/agencia/solicitud/{}", second.id),
            &decision("rejected", "not_eligible", "1"),
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let far = add_business_days(date(second.due_on), 30, &holidays);
    assert_eq!(run(nine_am(far)).await, [0, 0, 0]);

    // The lease: while another instance holds it, a run does nothing; once it expires, it runs.
    let now = nine_am(far);
    assert!(
        jobs::take_lease(db, jobs::ESCALATION, "elsewhere", now)
            .await
            .unwrap()
    );
    assert_eq!(
        jobs::escalate(db, &AuditLog::default(), "here", now)
            .await
            .unwrap(),
        None
    );
    let later = now + jobs::LEASE + chrono::Duration::seconds(1);
    assert!(
        jobs::escalate(db, &AuditLog::default(), "here", later)
            .await
            .unwrap()
            .is_some()
    );
    // Each run that raised something is in the audit chain with its counts.
    let runs = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("job.escalation_run"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(runs.len(), 3);
}

fn refer_form<'a>(program: &'a str, reason: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("do", "refer"), ("program", program), ("reason", reason)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_is_accepted_into_a_request_or_declined_and_both_sides_see_it() {
    let app = TestApp::spawn().await;
    let mut supervisor = signed_in(
        &app,
        "r.supervisor",
        "office_supervisor",
        Anchor::Office("MOD-09007"),
    )
    .await;
    let mut iaam = signed_in(&app, "r.iaam", "agency_staff", Anchor::Agency("IAAM")).await;
    let mut sedeso = signed_in(&app, "r.sedeso", "agency_staff", Anchor::Agency("SEDESO")).await;
    let mut dif = signed_in(&app, "r.dif", "agency_staff", Anchor::Agency("DIF")).await;
    let (person, e) = requested(&mut supervisor).await;
    let timeline = format!("/oficina/persona/{person}/historial");

    // Bad referrals are refused field by field and write nothing.
    for (form, message) in [
        (refer_form("COMCOM", ""), "Este dato es obligatorio"),
        (
            refer_form("NOPE", "food"),
            "No hay un programa con esa clave",
        ),
        (refer_form("PAAM", "care"), "Ya tiene una solicitud abierta"),
    ] {
        let page = supervisor.submit(&timeline, &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(page.body.contains(message), "{message}: {}", page.body);
    }
    let mut extra = refer_form("COMCOM", "food");
    extra.push(("priority", "high"));
    assert_eq!(
        supervisor.submit(&timeline, &extra).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.test_db.count("referral").await, 0);

    // The office refers her to SEDESO's community kitchens, with a note on the referral.
    let mut form = refer_form("COMCOM", "food");
    form.push(("note", "Vive sola y no tiene para comer."));
    let page = supervisor.submit(&timeline, &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let r = referral::Entity::find()
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.status.as_str(), r.reason.as_str()), ("open", "food"));
    // Once: a second referral to the same program is refused.
    let page = supervisor
        .submit(&timeline, &refer_form("COMCOM", "income"))
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Ya tiene una canalización abierta"));
    assert_eq!(app.test_db.count("referral").await, 1);

    // Both queues: SEDESO received it; the office sent it; DIF sees nothing and gets 404.
    let link = format!("/agencia/canalizacion/{}", r.id);
    let page = sedeso.get("/agencia").await;
    assert!(page.body.contains(&link), "{}", page.body);
    assert!(page.body.contains("Rosa Núñez Peña"));
    let page = supervisor.get("/oficina").await;
    assert!(
        page.body
            .contains(&format!(r#"data-referral="{}" data-status="open""#, r.id)),
        "{}",
        page.body
    );
    assert!(!dif.get("/agencia").await.body.contains(&link));
    assert_eq!(dif.get(&link).await.status, StatusCode::NOT_FOUND);
    let accept = [("decision", "accept"), ("version", "1")];
    assert_eq!(
        dif.submit(&link, &accept).await.status,
        StatusCode::NOT_FOUND
    );
    // SEDESO opens it: the office's note is there.
    let page = sedeso.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Vive sola y no tiene para comer."));

    // A decline needs a reason; a stale form is a conflict; nothing written.
    let page = sedeso
        .submit(&link, &[("decision", "decline"), ("version", "1")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Este dato es obligatorio"));
    let page = sedeso
        .submit(&link, &[("decision", "accept"), ("version", "7")])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    let requests = app.test_db.count("enrollment").await;
    assert_eq!(requests, 1);

    // Accepted: the request opens with the reason `referral_accepted` and its decision screen
    // follows.
    let page = sedeso.submit(&link, &accept).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let r = referral::Entity::find_by_id(r.id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.status, "accepted");
    let opened = reload(&app, r.enrollment_id.unwrap()).await;
    assert_eq!(
        page.header("location"),
        format!("/agencia/solicitud/{}", opened.id)
    );
    assert_eq!(
        (opened.person_id, opened.status.as_str()),
        (person, "requested")
    );
    assert!(opened.folio.starts_with("COMCOM-"));
    let first = enrollment_event::Entity::find()
        .filter(enrollment_event::Column::EnrollmentId.eq(opened.id))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.reason, "referral_accepted");
    // Answered once: accepting again is a conflict and opens nothing.
    let page = sedeso
        .submit(&link, &[("decision", "accept"), ("version", "2")])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(app.test_db.count("enrollment").await, 2);

    // IAAM refers her from its decision screen: not to its own program; to SEDESA's medical
    // services, which SEDESA declines with a reason.
    let case = format!("/agencia/solicitud/{}", e.id);
    let page = iaam.submit(&case, &refer_form("PAAM", "care")).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("tu propia agencia"), "{}", page.body);
    let page = iaam.submit(&case, &refer_form("SMMG", "health")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    // DIF serves nobody here: it cannot refer her.
    let page = dif
        .submit(
            &format!("/agencia/solicitud/{}", opened.id),
            &refer_form("SMMG", "health"),
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let smmg = referral::Entity::find()
        .filter(referral::Column::Status.eq("open"))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert!(smmg.from_agency_id.is_some());
    let mut sedesa = signed_in(&app, "r.sedesa", "agency_staff", Anchor::Agency("SEDESA")).await;
    let smmg_link = format!("/agencia/canalizacion/{}", smmg.id);
    let page = sedesa
        .submit(
            &smmg_link,
            &[
                ("decision", "decline"),
                ("reason", "already_served"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.header("location"), smmg_link);
    assert!(iaam.get("/agencia").await.body.contains(&format!(
        r#"data-referral="{}" data-status="declined""#,
        smmg.id
    )));

    // The timeline shows both referrals and both answers.
    let page = supervisor.get(&timeline).await;
    assert_eq!(page.body.matches(r#"data-kind="referral""#).count(), 2);
    assert_eq!(
        page.body.matches(r#"data-kind="referral_decided""#).count(),
        2
    );
    assert!(page.body.contains("Ya recibe el servicio"));
    assert!(page.body.contains(&opened.folio));

    let actions: Vec<String> = audit_event::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| format!("{}:{}", a.action, a.purpose.unwrap_or_default()))
        .collect();
    for wanted in [
        "referral.created:",
        "referral.accepted:",
        "referral.declined:",
        "person.viewed:referral",
    ] {
        assert!(actions.iter().any(|a| a == wanted), "{wanted}: {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_referrals_and_notes_follow_a_merge_and_its_undoing() {
    let app = TestApp::spawn().await;
    let mut sup = signed_in(
        &app,
        "m.supervisor",
        "office_supervisor",
        Anchor::Office("MOD-09007"),
    )
    .await;
    let first = sup
        .register(&person_form("Rosa", "Núñez", "Peña", "1990-03-04"))
        .await;
    let request = sup.request_comcom(first).await;
    let history = format!("/oficina/persona/{first}/historial");
    let page = sup
        .submit(
            &history,
            &[("do", "note"), ("body", "Vino con su hermana.")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = sup.submit(&history, &refer_form("SMMG", "health")).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let mut again = person_form("Rosa", "Nunez", "Pena", "1990-03-04");
    again.push(("confirm", "new"));
    let second = sup.register(&again).await;
    let pair = angel_entity::duplicate_review::Entity::find()
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let path = format!("/oficina/duplicados/{pair}");
    let merge = [
        ("decision", "merge"),
        ("survivor", "b"),
        ("reason", "registered_twice"),
    ];
    let owners = |app: &TestApp| {
        let db = app.test_db.db.clone();
        async move {
            let e = enrollment::Entity::find_by_id(request.id)
                .one(&db)
                .await
                .unwrap()
                .unwrap();
            let r = referral::Entity::find().one(&db).await.unwrap().unwrap();
            let n = case_note::Entity::find().one(&db).await.unwrap().unwrap();
            (e.person_id, e.applicant_id, r.person_id, n.person_id)
        }
    };

    // Merged into the second profile: the request, the referral and the note are hers now,
    // and her timeline shows them.
    let page = sup.submit(&path, &merge).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(owners(&app).await, (second, second, second, second));
    let page = sup
        .get(&format!("/oficina/persona/{second}/historial"))
        .await;
    assert!(page.body.contains(&request.folio));
    assert!(page.body.contains("Vino con su hermana."));
    assert_eq!(page.body.matches(r#"data-kind="referral""#).count(), 1);

    // Undone: everything back on the first profile.
    let page = sup
        .submit(&path, &[("decision", "unmerge"), ("reason", "wrong_merge")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(owners(&app).await, (first, first, first, first));

    // Both with an open COMCOM request: the merge is refused and nothing moves.
    sup.request_comcom(second).await;
    let page = sup.submit(&path, &merge).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("rechazar una como duplicada"),
        "{}",
        page.body
    );
    assert_eq!(owners(&app).await, (first, first, first, first));
    let kept = angel_entity::person::Entity::find_by_id(first)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.status, "active");
}

/// The cells of the first table row carrying `marker`, tags and hydration markers removed.
fn row_cells(body: &str, marker: &str) -> Vec<String> {
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker}: {body}"));
    let row = &body[start..];
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("</t")
        .filter_map(|cell| cell.rsplit('>').next())
        .map(|text| text.replace("<!", "").trim().to_owned())
        .filter(|text| !text.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_see_open_work_by_age_and_heads_reassign_it() {
    let app = TestApp::spawn().await;
    let mut supervisor = signed_in(
        &app,
        "w.supervisor",
        "office_supervisor",
        Anchor::Office("MOD-09007"),
    )
    .await;
    let worker = app
        .staff("w.iaam", "agency_staff", Anchor::Agency("IAAM"), PASSWORD)
        .await;
    let mut staff = app.browser();
    staff.sign_in("w.iaam", PASSWORD).await;
    let mut head = signed_in(&app, "w.jefa", "agency_head", Anchor::Agency("IAAM")).await;
    let outsider = app
        .staff("w.dif", "agency_staff", Anchor::Agency("DIF"), PASSWORD)
        .await;
    let (_, e) = requested(&mut supervisor).await;

    // Just made: one request, 0–7 days old, carried by the supervisor who made it.
    let page = supervisor.get("/oficina").await;
    assert_eq!(
        row_cells(&page.body, r#"<tr data-status="requested""#),
        ["Solicitada", "1", "0", "0", "0", "1"]
    );
    assert!(
        page.body.contains("0 vencidas · 0 escaladas"),
        "{}",
        page.body
    );
    let me = angel_entity::staff::Entity::find()
        .filter(angel_entity::staff::Column::Username.eq("w.supervisor"))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row_cells(&page.body, &format!(r#"data-staff-load="{}""#, me.id)),
        ["Persona w.supervisor", "1", "0"]
    );

    // Forty days old, ten days past due, escalated once (on the app's clock).
    let now = angel_app::ssr::clock::Clock::now(&app.clock);
    let mut old: enrollment::ActiveModel = e.clone().into();
    old.requested_at = sea_orm::Set(now - chrono::Duration::days(40));
    old.due_on = sea_orm::Set((now - chrono::Duration::days(10)).date_naive());
    old.escalation_level = sea_orm::Set(1);
    sea_orm::ActiveModelTrait::update(old, &app.test_db.db)
        .await
        .unwrap();
    let page = supervisor.get("/oficina").await;
    assert_eq!(
        row_cells(&page.body, r#"<tr data-status="requested""#),
        ["Solicitada", "0", "0", "1", "0", "1"]
    );
    assert!(page.body.contains("1 vencidas · 1 escaladas"));

    // The head sees it unassigned and gives it to a member of the agency.
    let page = head.get("/agencia").await;
    assert!(
        page.body.contains(r#"data-unassigned="1""#),
        "{}",
        page.body
    );
    let case = format!("/agencia/solicitud/{}", e.id);
    assert!(head.get(&case).await.body.contains("Persona w.iaam"));
    let give = |to: i32| {
        vec![
            ("do".to_owned(), "assign".to_owned()),
            ("staff".to_owned(), to.to_string()),
        ]
    };
    let form = give(outsider);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = head.submit(&case, &form).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Valor desconocido"));
    let form = give(worker);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // Staff who are not heads cannot reassign.
    assert_eq!(
        staff.submit(&case, &form).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.test_db.count("enrollment_assignment").await, 0);
    let page = head.submit(&case, &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = head.get("/agencia").await;
    assert!(page.body.contains(r#"data-unassigned="0""#));
    assert_eq!(
        row_cells(&page.body, &format!(r#"data-staff-load="{worker}""#)),
        ["Persona w.iaam", "1", "1"]
    );
    let actions: Vec<String> = audit_event::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(actions.iter().any(|a| a == "enrollment.reassigned"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_downloads_its_own_requests_as_csv_and_json() {
    let app = TestApp::spawn().await;
    let mut supervisor = signed_in(
        &app,
        "x.supervisor",
        "office_supervisor",
        Anchor::Office("MOD-09007"),
    )
    .await;
    let mut iaam = signed_in(&app, "x.iaam", "agency_staff", Anchor::Agency("IAAM")).await;
    let mut dif = signed_in(&app, "x.dif", "agency_staff", Anchor::Agency("DIF")).await;
    let mut analyst = signed_in(&app, "x.politica", "policy_officer", Anchor::None).await;
    let (person, e) = requested(&mut supervisor).await;
    let comcom = supervisor.request_comcom(person).await;
    let card = angel_entity::person::Entity::find_by_id(person)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .card_number;
    let exports = || async {
        audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("enrollment.exported"))
            .all(&app.test_db.db)
            .await
            .unwrap()
            .len()
    };

    // IAAM's file: its PAAM request, not SEDESO's COMCOM one; formula-safe CSV with the card
    // number kept as text.
    let csv = iaam.get("/agencia/solicitudes.csv").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(
        csv.header("content-disposition")
            .contains("solicitudes-IAAM.csv")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 2, "header and one request: {}", csv.body);
    assert!(lines[0].starts_with("folio,programa_program,estado_status,"));
    assert!(
        lines[1].starts_with(&format!("{},PAAM,requested,", e.folio)),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(&format!(",{card},Rosa Núñez Peña,09007")),
        "{}",
        lines[1]
    );
    assert!(!csv.body.contains(&comcom.folio));

    // JSON: the same request, typed.
    let json = iaam.get("/agencia/solicitudes.json?programa=PAAM").await;
    assert_eq!(json.status, StatusCode::OK);
    let rows: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["folio"], e.folio.as_str());
    assert_eq!(rows[0]["version"], e.version);
    assert_eq!(rows[0]["card_number"], card.as_str());
    assert_eq!(rows[0]["decided_on"], serde_json::Value::Null);
    let none = iaam.get("/agencia/solicitudes.json?estado=active").await;
    assert_eq!(none.body, "[]");

    // Another agency's file does not have it; another agency's program, an unknown status: 404;
    // an unknown parameter: 400; a policy officer: 403. Each export is one audit event.
    let other = dif.get("/agencia/solicitudes.csv").await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(!other.body.contains(&e.folio));
    assert_eq!(exports().await, 4);
    for (path, status) in [
        (
            "/agencia/solicitudes.csv?programa=COMCOM",
            StatusCode::NOT_FOUND,
        ),
        (
            "/agencia/solicitudes.csv?estado=nope",
            StatusCode::NOT_FOUND,
        ),
        (
            "/agencia/solicitudes.csv?persona=1",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        assert_eq!(iaam.get(path).await.status, status, "{path}");
    }
    assert_eq!(
        analyst.get("/agencia/solicitudes.json").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(exports().await, 4, "refusals are not exports");
    // The queue links to both files, with its program filter.
    let page = iaam.get("/agencia?programa=PAAM").await;
    assert!(
        page.body
            .contains(r#"href="/agencia/solicitudes.csv?programa=PAAM""#)
    );
    assert!(
        page.body
            .contains(r#"href="/agencia/solicitudes.json?programa=PAAM""#)
    );
}
