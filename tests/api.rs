//! The agency API (`/api/v1`) over HTTP, on SQLite and PostgreSQL: clients created and revoked
//! at /admin/api; every endpoint called as an agency system would; scope (another agency's
//! person or request is 404 and nothing is written); problem+json errors with field-level
//! messages in English and Spanish; `Idempotency-Key` (the same key and body replays the first
//! result, another body is 422); optimistic concurrency; rate and body limits; every call in the
//! audit log under the client's service account; the OpenAPI document.

use angel_app::domain::lifecycle::Status;
use angel_entity::{
    api_client, audit_event, enrollment, enrollment_event, feedback, person, referral, staff,
};
use angel_tests::{Anchor, Browser, TestApp, person_form};
use chrono::TimeDelta;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const PASSWORD: &str = "las jacarandas moradas de marzo";
const CURP: &str = "GODE561231HDFRRN00";

/// An agency system: a credential and an HTTP client.
struct System<'a> {
    app: &'a TestApp,
    credential: String,
}

/// A response of the API.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// A problem+json answer with this status and problem type.
    fn problem(&self, status: StatusCode, kind: &str) {
        assert_eq!(self.status, status, "{:#}", self.body);
        assert_eq!(self.header("content-type"), "application/problem+json");
        assert_eq!(self.body["type"], format!("/api/v1/problems/{kind}"));
        assert_eq!(self.body["status"], status.as_u16());
        for field in ["title", "title_es", "detail", "detail_es"] {
            assert!(
                !self.body[field].as_str().unwrap_or_default().is_empty(),
                "{field}: {:#}",
                self.body
            );
        }
    }
}

impl System<'_> {
    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request
            .bearer_auth(&self.credential)
            .send()
            .await
            .expect("API call");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.app.client.get(self.app.url(path))).await
    }

    async fn post(&self, path: &str, body: &Value, key: Option<&str>) -> Answer {
        let mut request = self
            .app
            .client
            .post(self.app.url(path))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        self.send(request).await
    }
}

/// Creates a client at /admin/api and returns its credential (read from the page: shown once).
async fn create_client(admin: &mut Browser<'_>, agency: i32, name: &str, days: &str) -> String {
    let page = admin
        .submit(
            "/admin/api",
            &[
                ("agency", &agency.to_string()),
                ("name", name),
                ("days", days),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let start = page
        .body
        .find(r#"class="api-credential">"#)
        .expect("the credential on the page")
        + r#"class="api-credential">"#.len();
    let end = start + page.body[start..].find('<').unwrap();
    page.body[start..end].to_owned()
}

async fn events_by(app: &TestApp, staff_id: i32) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::ActorStaffId.eq(staff_id))
        .all(&app.test_db.db)
        .await
        .unwrap()
}

async fn service_account(app: &TestApp, credential: &str) -> i32 {
    let key_id = &credential["angel_".len().."angel_".len() + 12];
    api_client::Entity::find()
        .filter(api_client::Column::KeyId.eq(key_id))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .staff_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_system_works_its_requests_through_the_api() {
    let app = TestApp::spawn().await;
    let mut admin = app
        .signed_in("a.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let mut office = app
        .signed_in(
            "a.supervisor",
            "office_supervisor",
            Anchor::Office("MOD-09007"),
            PASSWORD,
        )
        .await;
    // Ernesto: PAAM (IAAM) and COMCOM (SEDESO); Rosa: PAAM only.
    let mut form = person_form("Ernesto", "Gómez", "Delgado", "1956-12-31");
    form.push(("curp", CURP));
    let ernesto = office.register(&form).await;
    let paam = office.request_paam_override(ernesto).await;
    let comcom = office.request_comcom(ernesto).await;
    let rosa = office
        .register(&person_form("Rosa", "Núñez", "Peña", "1990-03-04"))
        .await;
    let paam_rosa = office.request_paam_override(rosa).await;
    let card = person::Entity::find_by_id(ernesto)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .card_number;

    // Clients are made at /admin/api; the page lists them without their secret.
    let iaam = System {
        app: &app,
        credential: create_client(&mut admin, app.agency_id("IAAM").await, "Padrón IAAM", "").await,
    };
    let dif = System {
        app: &app,
        credential: create_client(&mut admin, app.agency_id("DIF").await, "Sistema DIF", "30")
            .await,
    };
    let listed = admin.get("/admin/api").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.body.contains("Padrón IAAM") && listed.body.contains("Sistema DIF"));
    // `angel_`, the 12-character key id, `_`, then the secret (which may hold `_` itself).
    let secret = &iaam.credential["angel_".len() + 13..];
    assert_eq!(secret.len(), 43, "256 bits in URL-safe base64");
    assert!(!listed.body.contains(secret), "the secret is shown once");
    let stored = app.test_db.stored_text().await;
    assert!(!stored.contains(secret), "only the secret's hash is stored");
    // A bad form writes nothing.
    let page = admin
        .submit("/admin/api", &[("agency", ""), ("name", ""), ("days", "0")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.test_db.count("api_client").await, 2);
    // Service accounts are not people: not in the staff list, and they cannot sign in.
    let account = service_account(&app, &iaam.credential).await;
    let username = staff::Entity::find_by_id(account)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .username;
    assert!(username.starts_with("api:"));
    assert!(!admin.get("/admin").await.body.contains(&username));
    let mut nobody = app.browser();
    let page = nobody
        .submit(
            "/entrar",
            &[("username", &username), ("password", PASSWORD)],
        )
        .await;
    assert_ne!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    // Without a valid credential: 401, problem+json, a challenge.
    let anonymous = System {
        app: &app,
        credential: String::new(),
    };
    let answer = anonymous.get("/api/v1/enrollments").await;
    answer.problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(answer.header("www-authenticate").starts_with("Bearer"));
    let forged = System {
        app: &app,
        credential: format!("{}x", iaam.credential),
    };
    forged
        .get("/api/v1/enrollments")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");

    // Calls that reach a service are counted here; refusals before one (bad input) are not.
    let before = events_by(&app, account).await.len();
    let mut calls = 0;

    // Find a person by CURP (in the body) and by card: their IAAM requests only.
    let found = iaam
        .post("/api/v1/persons/search", &json!({ "curp": CURP }), None)
        .await;
    calls += 1;
    assert_eq!(found.status, StatusCode::OK, "{:#}", found.body);
    assert_eq!(found.body["card_number"], card.as_str());
    assert_eq!(found.body["name"], "Ernesto Gómez Delgado");
    assert_eq!(found.body["birth_date"], "1956-12-31");
    assert_eq!(found.body["borough"], "09007");
    let folios: Vec<&str> = found.body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["folio"].as_str().unwrap())
        .collect();
    assert_eq!(folios, [paam.folio.as_str()]);
    assert!(found.body.get("curp").is_none());
    let by_card = iaam.get(&format!("/api/v1/persons/{card}")).await;
    calls += 1;
    assert_eq!(by_card.body, found.body);

    // Bad input: field-level problems in both languages; unknown fields; not JSON.
    let bad = iaam
        .post(
            "/api/v1/persons/search",
            &json!({ "curp": "GODE561231HDFRRN01" }),
            None,
        )
        .await;
    bad.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(bad.body["errors"][0]["field"], "curp");
    assert_eq!(bad.body["errors"][0]["code"], "curp_check_digit");
    let (en, es) = (
        bad.body["errors"][0]["message"].as_str().unwrap(),
        bad.body["errors"][0]["message_es"].as_str().unwrap(),
    );
    assert!(!en.is_empty() && !es.is_empty() && en != es);
    iaam.post("/api/v1/persons/search", &json!({}), None)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    iaam.post(
        "/api/v1/persons/search",
        &json!({ "curp": CURP, "nss": "1" }),
        None,
    )
    .await
    .problem(StatusCode::BAD_REQUEST, "malformed-body");
    let text = iaam
        .send(
            app.client
                .post(app.url("/api/v1/persons/search"))
                .header("content-type", "text/plain")
                .body(format!("curp={CURP}")),
        )
        .await;
    text.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type");
    iaam.get("/api/v1/persons/12")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // Scope: DIF does not serve Ernesto, and IAAM's requests do not exist for it.
    dif.post("/api/v1/persons/search", &json!({ "curp": CURP }), None)
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");
    dif.get(&format!("/api/v1/enrollments/{}", paam.folio))
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");
    let refused = dif
        .post(
            &format!("/api/v1/enrollments/{}/status", paam.folio),
            &json!({ "to": "in_review", "reason": "review_started", "version": 1 }),
            Some("dif-1"),
        )
        .await;
    refused.problem(StatusCode::NOT_FOUND, "not-found");
    assert_eq!(
        enrollment::Entity::find_by_id(paam.id)
            .one(&app.test_db.db)
            .await
            .unwrap()
            .unwrap()
            .status,
        "requested"
    );
    let dif_list = dif.get("/api/v1/enrollments").await;
    assert_eq!(dif_list.status, StatusCode::OK);
    assert_eq!(dif_list.body["items"], json!([]));
    dif.get("/api/v1/enrollments?program=PAAM")
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");

    // The list, a page at a time with the cursor; filters; bad parameters.
    let first = iaam.get("/api/v1/enrollments?limit=1").await;
    assert_eq!(first.status, StatusCode::OK, "{:#}", first.body);
    assert_eq!(first.body["items"][0]["folio"], paam.folio.as_str());
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let second = iaam
        .get(&format!("/api/v1/enrollments?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second.body["items"][0]["folio"], paam_rosa.folio.as_str());
    let last = iaam
        .get(&format!(
            "/api/v1/enrollments?limit=1&cursor={}",
            second.body["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(last.body["items"], json!([]));
    assert_eq!(last.body["next_cursor"], Value::Null);
    let all = iaam
        .get("/api/v1/enrollments?program=PAAM&status=requested")
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(all.body["next_cursor"], Value::Null);
    assert!(!all.body.to_string().contains(&comcom.folio));
    calls += 4;
    for (query, status, kind) in [
        ("status=nope", StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ("cursor=abc", StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        ("limit=x", StatusCode::BAD_REQUEST, "malformed-query"),
        ("persona=1", StatusCode::BAD_REQUEST, "malformed-query"),
        ("program=COMCOM", StatusCode::NOT_FOUND, "not-found"),
    ] {
        iaam.get(&format!("/api/v1/enrollments?{query}"))
            .await
            .problem(status, kind);
    }

    // One request with its history.
    let detail = iaam
        .get(&format!("/api/v1/enrollments/{}", paam.folio))
        .await;
    calls += 1;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["record"]["status"], "requested");
    assert_eq!(detail.body["record"]["version"], paam.version);
    assert_eq!(detail.body["history"].as_array().unwrap().len(), 1);
    assert_eq!(detail.body["history"][0]["to"], "requested");

    // A status change with an Idempotency-Key: done once, replayed after.
    let path = format!("/api/v1/enrollments/{}/status", paam.folio);
    let change = json!({ "to": "in_review", "reason": "review_started", "version": paam.version });
    let events = || async {
        enrollment_event::Entity::find()
            .filter(enrollment_event::Column::EnrollmentId.eq(paam.id))
            .count(&app.test_db.db)
            .await
            .unwrap()
    };
    let done = iaam.post(&path, &change, Some("sync-2026-11-23-001")).await;
    calls += 1;
    assert_eq!(done.status, StatusCode::OK, "{:#}", done.body);
    assert_eq!(done.body["status"], Status::InReview.code());
    assert_eq!(done.body["version"], paam.version + 1);
    assert_eq!(events().await, 2);
    let again = iaam.post(&path, &change, Some("sync-2026-11-23-001")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, done.body);
    assert_eq!(again.header("idempotent-replayed"), "true");
    assert_eq!(events().await, 2, "a replay writes nothing");
    let other = json!({ "to": "approved", "reason": "criteria_met", "version": paam.version + 1 });
    iaam.post(&path, &other, Some("sync-2026-11-23-001"))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused");
    iaam.post(&path, &other, Some(&"k".repeat(129)))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // A stale version: 409; a transition the machine refuses: 422 on `to`.
    iaam.post(&path, &change, None)
        .await
        .problem(StatusCode::CONFLICT, "conflict");
    let wrong = iaam
        .post(
            &path,
            &json!({ "to": "active", "reason": "benefit_started", "version": paam.version + 1 }),
            None,
        )
        .await;
    wrong.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(wrong.body["errors"][0]["field"], "to");
    assert_eq!(events().await, 2);

    // A referral of Rosa to SEDESO's kitchens, once with its key.
    let refer = format!("/api/v1/enrollments/{}/referrals", paam_rosa.folio);
    let body = json!({ "program": "COMCOM", "reason": "food", "note": "Vive sola." });
    let made = iaam.post(&refer, &body, Some("ref-1")).await;
    calls += 1;
    assert_eq!(made.status, StatusCode::CREATED, "{:#}", made.body);
    assert_eq!(made.body["status"], "open");
    let replay = iaam.post(&refer, &body, Some("ref-1")).await;
    assert_eq!(
        (replay.status, &replay.body),
        (StatusCode::CREATED, &made.body)
    );
    assert_eq!(app.test_db.count("referral").await, 1);
    let r = referral::Entity::find()
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.person_id, r.reason.as_str()), (rosa, "food"));
    iaam.post(
        &refer,
        &json!({ "program": "NOPE", "reason": "food" }),
        None,
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // Ratings collected by the agency: only on a decided request, once, replayed with the key.
    let rate = format!("/api/v1/enrollments/{}/feedback", paam.folio);
    let early = iaam.post(&rate, &json!({ "rating": 4 }), None).await;
    early.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(early.body["errors"][0]["code"], "not_decided");
    let approved = iaam
        .post(
            &path,
            &json!({ "to": "approved", "reason": "meets_requirements", "version": paam.version + 1 }),
            None,
        )
        .await;
    calls += 1;
    assert_eq!(approved.status, StatusCode::OK, "{:#}", approved.body);
    for (body, field, code) in [
        (json!({ "rating": 9 }), "rating", "out_of_range"),
        (
            json!({ "rating": 3, "comment": "x".repeat(1001) }),
            "comment",
            "too_long",
        ),
    ] {
        let refused = iaam.post(&rate, &body, None).await;
        refused.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(
            (
                &refused.body["errors"][0]["field"],
                &refused.body["errors"][0]["code"]
            ),
            (&json!(field), &json!(code))
        );
    }
    let rating = json!({ "rating": 5, "comment": "Me atendieron rápido." });
    let given = iaam.post(&rate, &rating, Some("rating-1")).await;
    calls += 1;
    assert_eq!(given.status, StatusCode::CREATED, "{:#}", given.body);
    assert_eq!(given.body["channel"], "agency");
    let replayed = iaam.post(&rate, &rating, Some("rating-1")).await;
    assert_eq!(
        (replayed.status, &replayed.body),
        (StatusCode::CREATED, &given.body)
    );
    let twice = iaam.post(&rate, &json!({ "rating": 1 }), None).await;
    assert_eq!(twice.body["errors"][0]["code"], "already_rated");
    let stored = feedback::Entity::find().all(&app.test_db.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].rating, stored[0].channel.as_str()),
        (5, "agency")
    );
    assert!(
        !app.test_db.stored_text().await.contains("Me atendieron"),
        "the comment is sealed"
    );

    // Aggregate coverage, as the policy dashboard shows it.
    let coverage = iaam.get("/api/v1/coverage").await;
    calls += 1;
    assert_eq!(coverage.status, StatusCode::OK, "{:#}", coverage.body);
    assert_eq!(coverage.body["boroughs"].as_array().unwrap().len(), 16);
    assert_eq!(coverage.body["city"]["code"], "");
    iaam.get("/api/v1/coverage?indicator=NOPE")
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");

    // Every call that reached a service is in the audit log under the client's account.
    let after = events_by(&app, account).await;
    assert!(
        after.len() - before >= calls,
        "{} events for {calls} calls",
        after.len() - before
    );
    for action in [
        "person.searched",
        "person.viewed",
        "enrollment.exported",
        "enrollment.status_changed",
        "referral.created",
        "coverage.viewed",
        "feedback.given",
    ] {
        assert!(
            after.iter().any(|e| e.action == action),
            "{action} not audited: {:?}",
            after.iter().map(|e| &e.action).collect::<Vec<_>>()
        );
    }
    assert!(
        after
            .iter()
            .filter(|e| e.purpose.is_some())
            .all(|e| e.purpose.as_deref() == Some("agency_api")
                || e.action.starts_with("enrollment.status")
                || e.action.starts_with("referral")),
    );

    // Unknown paths and methods are problems too; the document is public.
    iaam.get("/api/v1/nothing-here")
        .await
        .problem(StatusCode::NOT_FOUND, "not-found");
    iaam.send(app.client.delete(app.url(&path)))
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    let (status, document) = app.get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let document: Value = serde_json::from_str(&document).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/persons/search",
        "/api/v1/persons/{card_number}",
        "/api/v1/enrollments",
        "/api/v1/enrollments/{folio}",
        "/api/v1/enrollments/{folio}/status",
        "/api/v1/enrollments/{folio}/referrals",
        "/api/v1/enrollments/{folio}/feedback",
        "/api/v1/coverage",
    ] {
        assert!(document["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());

    // Expired (DIF's client lived 30 days) and revoked clients: 401 from then on.
    app.clock.advance(TimeDelta::days(31));
    dif.get("/api/v1/enrollments")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(iaam.get("/api/v1/enrollments").await.status, StatusCode::OK);
    let id = api_client::Entity::find()
        .filter(api_client::Column::StaffId.eq(account))
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    // (A month later the administrator's session is long over: sign in again.)
    admin.sign_in("a.admin", PASSWORD).await;
    let page = admin
        .submit("/admin/api", &[("revoke", &id.to_string())])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    iaam.get("/api/v1/enrollments")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthorized");
    let revoked = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("api_client.revoked"))
        .count(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(revoked, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_rate_or_sending_too_much_is_refused() {
    let test_db = angel_tests::TestDb::seeded().await;
    let mut settings = test_db.settings.clone();
    settings.api_burst = 3;
    settings.api_per_second = 1;
    let app = TestApp::spawn_with(test_db, settings).await;
    let mut admin = app
        .signed_in("r.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let sedeso = System {
        app: &app,
        credential: create_client(&mut admin, app.agency_id("SEDESO").await, "Cocinas", "").await,
    };
    let dif = System {
        app: &app,
        credential: create_client(&mut admin, app.agency_id("DIF").await, "DIF", "").await,
    };

    // 16 KiB at most: more is 413 before anything runs.
    let big = json!({ "curp": "A".repeat(17 * 1024) });
    sedeso
        .post("/api/v1/persons/search", &big, None)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE, "too-large");

    // A burst of 3 for each client, on its own: the fourth call at once is 429 with Retry-After.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(sedeso.get("/api/v1/enrollments").await.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let limited = sedeso.get("/api/v1/enrollments").await;
    limited.problem(StatusCode::TOO_MANY_REQUESTS, "rate-limited");
    let wait: u64 = limited.header("retry-after").parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert_eq!(dif.get("/api/v1/enrollments").await.status, StatusCode::OK);
}
