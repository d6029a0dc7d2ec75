//! The coverage numerators, on SQLite and PostgreSQL: after random status changes made through
//! the screens (requests activated, suspended, reinstated, ended) and people moving to another
//! borough, the kept tallies (people reached per indicator and per program in each borough)
//! equal a plain `GROUP BY` over the enrollments, cell for cell; a rebuild gives the same; a
//! person in two programs of one indicator counts once.

use std::collections::{BTreeSet, HashMap};

use angel_app::domain::disclosure::{self, Cell};
use angel_app::ssr::services::coverage;
use angel_entity::{borough, enrollment, indicator, person, program_indicator};
use angel_tests::{Anchor, Browser, TestApp, person_form};
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

const PASSWORD: &str = "las jacarandas moradas de marzo";
const PEOPLE: usize = 8;

/// A small deterministic generator (xorshift64*): the same run on both engines.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(r % n as u64).expect("small")
    }
}

async fn reload(app: &TestApp, id: i32) -> enrollment::Model {
    enrollment::Entity::find_by_id(id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
}

/// Moves request `id` to `to` for `reason` through the agency's decision screen.
async fn decide(app: &TestApp, agency: &mut Browser<'_>, id: i32, to: &str, reason: &str) {
    let version = reload(app, id).await.version.to_string();
    let page = agency
        .submit(
            &format!("/agencia/solicitud/{id}"),
            &[("to", to), ("reason", reason), ("version", &version)],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{to}: {}", page.body);
}

/// Requested → in review → approved → active.
async fn activate(app: &TestApp, agency: &mut Browser<'_>, id: i32) {
    decide(app, agency, id, "in_review", "review_started").await;
    decide(app, agency, id, "approved", "meets_requirements").await;
    decide(app, agency, id, "active", "benefit_started").await;
}

/// The kept tallies equal the plain `GROUP BY`, and so does every cell of every indicator's
/// report (with the same suppression applied to the plain counts).
async fn assert_exact(app: &TestApp, when: &str) {
    let db = &app.test_db.db;
    let kept = coverage::kept(db).await.unwrap();
    let plain = coverage::reference(db).await.unwrap();
    assert_eq!(kept, plain, "{when}: kept tallies differ from the GROUP BY");
    let boroughs = borough::Entity::find()
        .order_by_asc(borough::Column::InegiCode)
        .all(db)
        .await
        .unwrap();
    for i in indicator::Entity::find().all(db).await.unwrap() {
        let report = coverage::by_borough(db, &i.code, None).await.unwrap();
        let counts: Vec<u64> = boroughs
            .iter()
            .map(|b| {
                plain
                    .indicators
                    .iter()
                    .find(|&&(x, y, _)| x == i.id && y == b.id)
                    .map_or(0, |&(_, _, n)| u64::try_from(n).unwrap())
            })
            .collect();
        let (cells, total) = disclosure::row(&counts);
        let shown: Vec<Cell> = report.boroughs.iter().map(|r| r.reached).collect();
        assert_eq!(shown, cells, "{when}: {}", i.code);
        assert_eq!(report.total.reached, total, "{when}: {}", i.code);
    }
}

/// A supervisor at MOD-09007 (Iztapalapa), and staff of IAAM (PAAM) and SEDESO (COMCOM).
async fn signed_in_staff(app: &TestApp) -> (Browser<'_>, Browser<'_>, Browser<'_>) {
    let office = app
        .signed_in(
            "t.supervisor",
            "office_supervisor",
            Anchor::Office("MOD-09007"),
            PASSWORD,
        )
        .await;
    let iaam = app
        .signed_in("t.iaam", "agency_staff", Anchor::Agency("IAAM"), PASSWORD)
        .await;
    let sedeso = app
        .signed_in(
            "t.sedeso",
            "agency_staff",
            Anchor::Agency("SEDESO"),
            PASSWORD,
        )
        .await;
    (office, iaam, sedeso)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_tallies_equal_a_plain_group_by_after_random_changes() {
    let app = TestApp::spawn().await;
    let db = &app.test_db.db;
    let (mut office, mut iaam, mut sedeso) = signed_in_staff(&app).await;

    // Here COMCOM also serves older adults: two programs of one indicator. Changing what an
    // indicator counts is a rebuild.
    let older = indicator::Entity::find()
        .filter(indicator::Column::Code.eq("older_adults_68"))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let (paam, comcom) = (app.program_id("PAAM").await, app.program_id("COMCOM").await);
    program_indicator::ActiveModel {
        program_id: Set(comcom),
        indicator_id: Set(older),
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(coverage::rebuild(db).await.unwrap(), 0);

    // Eight people at MOD-09007 (Iztapalapa), each with PAAM (by the supervisor's override)
    // and COMCOM, all activated.
    let names = [
        "Rosa", "Elena", "Tomás", "Irene", "Julio", "Marta", "Pablo", "Sara",
    ];
    let mut persons = Vec::new();
    let mut requests: Vec<(i32, &str)> = Vec::new();
    for (i, given) in names.iter().enumerate().take(PEOPLE) {
        let birth = format!("19{}-0{}-1{}", 40 + i, 1 + i, i);
        let person = office
            .register(&person_form(given, "Núñez", "Peña", &birth))
            .await;
        let e = office.request_paam_override(person).await;
        requests.push((e.id, "IAAM"));
        requests.push((office.request_comcom(person).await.id, "SEDESO"));
        persons.push(person);
    }
    assert_eq!(persons.len(), PEOPLE);
    assert_exact(&app, "requested").await;
    for &(id, agency) in &requests {
        let staff = if agency == "IAAM" {
            &mut iaam
        } else {
            &mut sedeso
        };
        activate(&app, staff, id).await;
    }
    assert_exact(&app, "all active").await;
    let kept = coverage::kept(db).await.unwrap();
    let iztapalapa = person::Entity::find_by_id(persons[0])
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .borough_id;
    let people = i64::try_from(PEOPLE).unwrap();
    // Each person is in both programs of the indicator: counted once in it, once per program.
    assert!(
        kept.indicators.contains(&(older, iztapalapa, people)),
        "{kept:?}"
    );
    assert!(kept.programs.contains(&(paam, iztapalapa, people)));
    assert!(kept.programs.contains(&(comcom, iztapalapa, people)));

    // Random moves: each step one legal transition of a random request, or a person moving
    // to Azcapotzalco and back.
    let mut dice = Dice(0x00C0_FFEE_D00D_F00D);
    let mut moved = [false; PEOPLE];
    for step in 0..48 {
        if dice.roll(6) == 0 {
            let i = dice.roll(PEOPLE);
            let id = persons[i];
            let version = person::Entity::find_by_id(id)
                .one(db)
                .await
                .unwrap()
                .unwrap()
                .version
                .to_string();
            let (borough, postal) = if moved[i] {
                ("09007", "09290")
            } else {
                ("09002", "02000")
            };
            let mut form = person_form(names[i], "Núñez", "Peña", "");
            let birth = format!("19{}-0{}-1{}", 40 + i, 1 + i, i);
            form.retain(|(k, _)| !["curp", "borough", "postal_code", "birth_date"].contains(k));
            form.extend([
                ("birth_date", birth.as_str()),
                ("borough", borough),
                ("postal_code", postal),
                ("version", version.as_str()),
            ]);
            let page = office
                .submit(&format!("/oficina/persona/{id}/editar"), &form)
                .await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            moved[i] = !moved[i];
        } else {
            let (id, agency) = requests[dice.roll(requests.len())];
            let staff = if agency == "IAAM" {
                &mut iaam
            } else {
                &mut sedeso
            };
            let status = reload(&app, id).await.status;
            let (to, reason) = match (status.as_str(), dice.roll(4)) {
                ("active", 0) => ("exited", "voluntary_exit"),
                ("active", _) => ("suspended", "temporary_absence"),
                ("suspended", 0) => ("exited", "moved_away"),
                ("suspended", _) => ("active", "reinstated"),
                _ => continue,
            };
            decide(&app, staff, id, to, reason).await;
        }
        if step % 8 == 7 {
            assert_exact(&app, &format!("step {step}")).await;
        }
    }
    assert_exact(&app, "after the random changes").await;
    let before = coverage::kept(db).await.unwrap();
    assert!(
        !before.programs.is_empty(),
        "some requests are still active"
    );
    coverage::rebuild(db).await.unwrap();
    assert_eq!(
        coverage::kept(db).await.unwrap(),
        before,
        "a rebuild agrees"
    );

    // The policy officer's page and CSV carry the same cells as the report.
    let report = coverage::by_borough(db, "older_adults_68", None)
        .await
        .unwrap();
    let row = report.boroughs.iter().find(|b| b.code == "09007").unwrap();
    let shown = match row.reached {
        Cell::Count(n) => n.to_string(),
        Cell::Small => "&lt;5".to_owned(),
        Cell::Hidden => "*".to_owned(),
    };
    let mut analyst = app
        .signed_in("t.politica", "policy_officer", Anchor::None, PASSWORD)
        .await;
    let page = analyst.get("/politica?indicador=older_adults_68").await;
    assert_eq!(page.status, StatusCode::OK);
    let start = page
        .body
        .find(r#"<tr data-code="09007""#)
        .expect("the borough's row");
    let tr = &page.body[start..start + page.body[start..].find("</tr>").unwrap()];
    assert!(tr.contains("Iztapalapa"), "{tr}");
    assert!(
        tr.contains(&format!(r#"<td class="num">{shown}</td>"#)),
        "{tr}"
    );
    assert!(page.body.contains("Aún no hay población objetivo"));
    assert_eq!(page.body.matches(r#"class="area"#).count(), 16, "the map");
    assert!(page.body.contains("Fuente: INEGI"));
    let csv = analyst
        .get("/politica/cobertura.csv?indicador=older_adults_68")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    let line = csv
        .body
        .lines()
        .find(|l| l.contains(",09007,"))
        .expect("Iztapalapa's row");
    assert!(
        line.starts_with(&format!(
            "older_adults_68,,09007,Iztapalapa,{},,",
            shown.replace("&lt;", "<")
        )),
        "{line}"
    );
    assert_eq!(
        csv.body.lines().count(),
        1 + 16 + 1,
        "header, boroughs, city"
    );
    // Unknown indicator or year: 404; an unknown parameter: 400; other roles: 403.
    for (path, status) in [
        (
            "/politica/cobertura.csv?indicador=nope",
            StatusCode::NOT_FOUND,
        ),
        ("/politica/cobertura.csv?anio=2020", StatusCode::NOT_FOUND),
        ("/politica/cobertura.csv?persona=1", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(analyst.get(path).await.status, status, "{path}");
    }
    assert_eq!(
        office.get("/politica/cobertura.csv").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        analyst
            .get(&format!("/oficina/persona/{}", persons[0]))
            .await
            .status,
        StatusCode::FORBIDDEN,
        "a policy officer never opens a person"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_census_file_is_imported_whole_or_not_at_all_and_never_overwrites_silently() {
    use angel_server::census::{self, Refused};
    let test_db = angel_tests::TestDb::seeded().await;
    let state = angel_server::http::app_state(test_db.db.clone(), &test_db.settings)
        .await
        .unwrap();
    let header = "indicator,borough,year,count,source\n";

    // One good row and one bad one: both bad cells reported, nothing stored.
    let bad = format!(
        "{header}older_adults_68,09007,2020,100,Encuesta\nolder_adults_68,09099,2020,abc,Encuesta\n"
    );
    match census::import(&state, bad.as_bytes(), 2020, false).await {
        Err(Refused::File(problems)) => {
            let cells: Vec<&str> = problems.iter().map(|p| p.column.as_str()).collect();
            assert_eq!(cells, ["borough", "count"]);
            assert!(problems.iter().all(|p| p.line == 3));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(test_db.count("target_population").await, 0);

    let good = format!(
        "{header}older_adults_68,09007,2020,100,Encuesta\nolder_adults_68,002,2020,40,Encuesta\n"
    );
    let done = census::import(&state, good.as_bytes(), 2020, false)
        .await
        .unwrap();
    assert_eq!((done.added, done.unchanged, done.replaced), (2, 0, 0));
    // The same file again changes nothing.
    let done = census::import(&state, good.as_bytes(), 2020, false)
        .await
        .unwrap();
    assert_eq!((done.added, done.unchanged), (0, 2));
    // Another count for a stored cell: refused and listed, unless replacing (the old value
    // goes to the audit log).
    let changed = format!("{header}older_adults_68,09007,2020,120,Encuesta 2\n");
    match census::import(&state, changed.as_bytes(), 2020, false).await {
        Err(Refused::Stored(lines)) => {
            assert_eq!(lines.len(), 1);
            assert!(lines[0].contains("stored 100"), "{lines:?}");
        }
        other => panic!("{other:?}"),
    }
    let report = coverage::by_borough(&test_db.db, "older_adults_68", None)
        .await
        .unwrap();
    assert_eq!(report.year, Some(2020));
    let iztapalapa = report.boroughs.iter().find(|b| b.code == "09007").unwrap();
    assert_eq!(iztapalapa.target, Some(100));
    assert_eq!(iztapalapa.per_thousand, Some(0), "nobody reached yet");
    assert_eq!(report.total.target, None, "14 boroughs have no target");
    assert!(!report.synthetic);
    assert_eq!(report.sources, ["Encuesta"]);
    let done = census::import(&state, changed.as_bytes(), 2020, true)
        .await
        .unwrap();
    assert_eq!(done.replaced, 1);
    let event = angel_entity::audit_event::Entity::find()
        .filter(angel_entity::audit_event::Column::Action.eq("census.imported"))
        .all(&test_db.db)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let detail = event.detail.unwrap_or_default();
    assert!(detail.contains(r#""old":100"#), "{detail}");
    // An ITER table: the municipality totals, with the columns named in the source.
    let iter = "ENTIDAD,MUN,LOC,POB65_MAS,PCON_DISC\n09,007,0000,150000,90000\n";
    let done = census::import(&state, iter.as_bytes(), 2020, true)
        .await
        .unwrap();
    assert_eq!(done.added, 1, "disability");
    assert_eq!(done.replaced, 1, "older adults, with --replace");
    let report = coverage::by_borough(&test_db.db, "disability", Some(2020))
        .await
        .unwrap();
    assert!(
        report.sources[0].contains("PCON_DISC"),
        "{:?}",
        report.sources
    );
}

/// People reached by each program at `end`, replayed from the status history in memory (the
/// last event before `end` of each request; profiles active now): the check on the month-end
/// figures, written differently from the service's SQL.
async fn replayed(app: &TestApp, end: chrono::DateTime<chrono::Utc>) -> HashMap<i32, u64> {
    use angel_entity::enrollment_event;
    let db = &app.test_db.db;
    let requests: HashMap<i32, enrollment::Model> = enrollment::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut last: HashMap<i32, enrollment_event::Model> = HashMap::new();
    for ev in enrollment_event::Entity::find().all(db).await.unwrap() {
        if ev.at >= end {
            continue;
        }
        let newer = last
            .get(&ev.enrollment_id)
            .is_none_or(|l| (ev.at, ev.id) > (l.at, l.id));
        if newer {
            last.insert(ev.enrollment_id, ev);
        }
    }
    let mut people: HashMap<i32, BTreeSet<i32>> = HashMap::new();
    for (id, ev) in last {
        let e = &requests[&id];
        let p = person::Entity::find_by_id(e.person_id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        if ev.to_status == "active" && p.status == "active" {
            people.entry(e.program_id).or_default().insert(e.person_id);
        }
    }
    people
        .into_iter()
        .map(|(program, who)| (program, who.len() as u64))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_by_program_match_the_history_and_plain_counts() {
    use angel_app::ssr::{clock::Clock, services::figures};
    let app = TestApp::spawn().await;
    let db = &app.test_db.db;
    let (mut office, mut iaam, mut sedeso) = signed_in_staff(&app).await;
    let comcom = app.program_id("COMCOM").await;

    // November: eight people in Iztapalapa with PAAM, five of them also with COMCOM; a ninth
    // request (COMCOM) waits.
    let mut paam_requests = Vec::new();
    for i in 0..9 {
        let birth = format!("19{}-0{}-1{}", 40 + i, 1 + i, i);
        let person = office
            .register(&person_form("Lucía", "Ortega", "Vidal", &birth))
            .await;
        if i == 8 {
            office.request_comcom(person).await;
            continue;
        }
        let e = office.request_paam_override(person).await;
        activate(&app, &mut iaam, e.id).await;
        paam_requests.push(e.id);
        if i < 5 {
            let c = office.request_comcom(person).await;
            activate(&app, &mut sedeso, c.id).await;
        }
    }
    let now = app.clock.now();
    let city = figures::by_program(db, "", now).await.unwrap();
    let row = |r: &angel_app::coverage::dto::ProgramReport, code: &str| {
        r.programs.iter().find(|p| p.code == code).unwrap().clone()
    };
    assert_eq!(row(&city, "PAAM").reached, Cell::Count(8));
    assert_eq!(row(&city, "COMCOM").reached, Cell::Count(5));
    assert_eq!(row(&city, "PAAM").decided, Cell::Count(8));
    assert_eq!(
        row(&city, "PAAM").median_days,
        Some(0),
        "decided the same day"
    );
    assert_eq!(row(&city, "COMCOM").overdue, Cell::Count(0));
    let (i, j) = (
        city.programs.iter().position(|p| p.code == "PAAM").unwrap(),
        city.programs
            .iter()
            .position(|p| p.code == "COMCOM")
            .unwrap(),
    );
    assert_eq!(city.overlap[i][j], Cell::Count(5));
    assert_eq!(city.overlap[j][i], Cell::Count(5));
    assert_eq!(city.overlap[i][i], Cell::Count(8));
    let registered = person::Entity::find()
        .filter(person::Column::Status.eq("active"))
        .all(db)
        .await
        .unwrap()
        .len() as u64;
    assert_eq!(city.quality.registered, disclosure::one(registered));

    // December: three PAAM requests suspended. November's end is a closed month now: its
    // figure comes from the history (8), today's from the tallies (5).
    app.clock.advance(chrono::TimeDelta::days(10));
    // Ten days on, the sessions have expired: new ones.
    let mut iaam = app.browser();
    iaam.sign_in("t.iaam", PASSWORD).await;
    let mut office = app.browser();
    office.sign_in("t.supervisor", PASSWORD).await;
    for &id in &paam_requests[..3] {
        decide(&app, &mut iaam, id, "suspended", "temporary_absence").await;
    }
    let now = app.clock.now();
    let city = figures::by_program(db, "", now).await.unwrap();
    assert_eq!(city.months.last().map(String::as_str), Some("2026-12"));
    let months = figures::trend_months(now);
    for (k, &month) in months[..months.len() - 1].iter().enumerate() {
        let truth = replayed(&app, figures::end_of(month)).await;
        for p in &city.programs {
            let id = app.program_id(&p.code).await;
            let n = truth.get(&id).copied().unwrap_or(0);
            assert_eq!(p.trend[k], disclosure::one(n), "{} {month}", p.code);
        }
    }
    let paam_row = row(&city, "PAAM");
    assert_eq!(paam_row.trend[10], Cell::Count(8), "November's end");
    assert_eq!(paam_row.trend[11], Cell::Count(5), "today");
    assert_eq!(paam_row.change, Some(-3));
    assert_eq!(row(&city, "COMCOM").change, Some(0));
    // The overdue COMCOM request (due within the program's days, ten days later).
    let waiting = enrollment::Entity::find()
        .filter(enrollment::Column::ProgramId.eq(comcom))
        .filter(enrollment::Column::Status.eq("requested"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let overdue = u64::from(waiting.due_on < now.date_naive());
    assert_eq!(row(&city, "COMCOM").overdue, disclosure::one(overdue));
    // A snapshot is kept once: a second view reads the same month ends.
    assert_eq!(figures::by_program(db, "", now).await.unwrap(), city);

    // By borough: everyone lives in Iztapalapa.
    let iztapalapa = figures::by_program(db, "09007", now).await.unwrap();
    assert_eq!(iztapalapa.programs, city.programs);
    let azcapotzalco = figures::by_program(db, "09002", now).await.unwrap();
    assert_eq!(row(&azcapotzalco, "PAAM").reached, Cell::Count(0));
    assert_eq!(row(&azcapotzalco, "PAAM").trend[10], Cell::Count(0));
    assert!(matches!(
        figures::by_program(db, "09099", now).await,
        Err(angel_app::ssr::ServiceError::NotFound)
    ));

    // The page and the downloads.
    let mut analyst = app
        .signed_in("t.politica", "policy_officer", Anchor::None, PASSWORD)
        .await;
    let page = analyst.get("/politica?alcaldia=09007").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"<tr data-program="PAAM">"#));
    assert!(page.body.contains(r#"<option value="09007" selected"#));
    // The eligibility gap: pending until the job has run, then the program × borough matrix.
    assert!(page.body.contains(r#"id="gap-pending""#));
    let run = angel_app::ssr::services::gap::run(db, "test", now)
        .await
        .unwrap()
        .expect("the lease is free");
    let page = analyst.get("/politica?alcaldia=09007").await;
    assert!(page.body.contains(r#"id="gap-table""#));
    let csv = analyst.get("/politica/brecha.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "program,inegi_code,eligible_not_enrolled,as_of");
    assert_eq!(
        lines.len(),
        1 + city.programs.len() * 17,
        "16 boroughs and the city"
    );
    let paam_id = app.program_id("PAAM").await;
    let paam_city: u64 = run
        .cells
        .iter()
        .filter(|((p, _), _)| *p == paam_id)
        .map(|(_, n)| n)
        .sum();
    let line = lines.iter().find(|l| l.starts_with("PAAM,09,")).unwrap();
    assert!(
        line.starts_with(&format!(
            "PAAM,09,{},",
            disclosure::one(paam_city)
                .count()
                .map_or("<5".to_owned(), |n| n.to_string())
        )),
        "{line}"
    );
    let csv = analyst.get("/politica/programas.csv?alcaldia=09007").await;
    assert_eq!(csv.status, StatusCode::OK);
    let line = csv
        .body
        .lines()
        .find(|l| l.starts_with("09007,PAAM,"))
        .expect("PAAM's row");
    assert!(line.starts_with("09007,PAAM,IAAM,5,-3,8,0,0,"), "{line}");
    let json = analyst.get("/politica/programas-mes.json").await;
    assert_eq!(json.status, StatusCode::OK);
    let rows: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["program"] == "PAAM" && r["month"] == "2026-11" && r["people_reached"] == 8),
        "{rows}"
    );

    // The open-data export: every table as CSV and JSON, each file and its columns in the
    // dictionary, and the same rows as the downloads.
    let dir = tempfile::tempdir().unwrap();
    let done = angel_server::open_data::export(db, dir.path(), now)
        .await
        .unwrap();
    let read = |file: &str| std::fs::read_to_string(dir.path().join(file)).unwrap();
    let described: Vec<(String, String)> =
        csv::Reader::from_path(dir.path().join("diccionario.csv"))
            .unwrap()
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_owned(), r[1].to_owned())
            })
            .collect();
    let files: BTreeSet<String> = described
        .iter()
        .filter(|(file, column)| column.is_empty() && file != "*")
        .map(|(file, _)| file.clone())
        .collect();
    let mut expected: BTreeSet<String> = indicator::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|i| format!("cobertura-{}.csv", i.code))
        .collect();
    for name in [
        "programas",
        "programas-mes",
        "traslape",
        "calidad",
        "brecha",
        "calificaciones",
    ] {
        expected.insert(format!("{name}.csv"));
    }
    assert_eq!(files, expected);
    assert_eq!(done.tables, files.len());
    let mut rows = 0;
    for file in &files {
        let mut reader = csv::Reader::from_path(dir.path().join(file)).unwrap();
        let header: Vec<&str> = reader.headers().unwrap().iter().collect::<Vec<_>>();
        let columns: Vec<&str> = described
            .iter()
            .filter(|(f, c)| f == file && !c.is_empty())
            .map(|(_, c)| c.as_str())
            .collect();
        assert_eq!(header, columns, "{file}");
        let n = reader.records().count();
        let json: serde_json::Value =
            serde_json::from_str(&read(&file.replace(".csv", ".json"))).unwrap();
        assert_eq!(json.as_array().unwrap().len(), n, "{file}");
        rows += n;
    }
    assert_eq!(done.rows, rows);
    for file in ["brecha.csv", "calificaciones.csv"] {
        let served = analyst.get(&format!("/politica/{file}")).await;
        assert_eq!(served.body, read(file), "{file}");
    }
    let programs = read("programas.csv");
    assert_eq!(programs.lines().count(), 1 + 17 * city.programs.len());
    for place in ["", "09007"] {
        let served = analyst
            .get(&format!("/politica/programas.csv?alcaldia={place}"))
            .await;
        for line in served.body.lines().skip(1) {
            assert!(programs.lines().any(|l| l == line), "{line}");
        }
    }

    for (path, status) in [
        ("/politica/nada.csv", StatusCode::NOT_FOUND),
        ("/politica/programas.xml", StatusCode::NOT_FOUND),
        (
            "/politica/programas.csv?alcaldia=09099",
            StatusCode::NOT_FOUND,
        ),
        ("/politica/calidad.csv?persona=1", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(analyst.get(path).await.status, status, "{path}");
    }
    assert_eq!(
        office.get("/politica/traslape.csv").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_targets_count_the_demo_population_and_never_replace_a_census_figure() {
    use angel_server::census;
    use chrono::Datelike;
    let test_db = angel_tests::TestDb::seeded().await;
    let db = &test_db.db;
    let state = angel_server::http::app_state(db.clone(), &test_db.settings)
        .await
        .unwrap();
    let now = state.clock.now();
    let year = now.year();
    // A census figure for one cell of the current year, before the synthetic load.
    let census_row = format!(
        "indicator,borough,year,count,source\nolder_adults_68,09007,{year},123456,Encuesta\n"
    );
    census::import(&state, census_row.as_bytes(), year, false)
        .await
        .unwrap();
    let report = angel_server::synthetic::seed(
        &state,
        angel_server::synthetic::Options {
            count: 400,
            seed: 7,
        },
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        report.targets,
        7 * 16 - 1,
        "seven indicators defined, one cell kept"
    );

    // The older adults, counted here from birth dates.
    let cutoff = now.date_naive() - chrono::Months::new(12 * 68);
    let boroughs: HashMap<i32, String> = borough::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.id, b.inegi_code))
        .collect();
    let mut older: HashMap<String, i64> = HashMap::new();
    for p in person::Entity::find().all(db).await.unwrap() {
        if p.synthetic && p.birth_date <= cutoff {
            *older.entry(boroughs[&p.borough_id].clone()).or_default() += 1;
        }
    }
    let shown = coverage::by_borough(db, "older_adults_68", Some(year))
        .await
        .unwrap();
    for b in &shown.boroughs {
        let expected = if b.code == "09007" {
            123_456
        } else {
            older.get(&b.code).copied().unwrap_or(0)
        };
        assert_eq!(b.target, Some(expected), "{}", b.code);
    }
    assert!(shown.synthetic, "labelled synthetic");
    assert!(shown.sources.iter().any(|s| s.starts_with("Sintético")));
    // Loading again recomputes the synthetic cells and still keeps the census one.
    let again = census::synthetic_targets(db, now).await.unwrap();
    assert_eq!((again.written, again.kept_census), (7 * 16 - 1, 1));
    let violence = coverage::by_borough(db, "violence_women", None)
        .await
        .unwrap();
    assert_eq!(violence.year, None, "no synthetic definition, no target");
}

/// People aged `age` or more who have lived in the city three years or more, with no open
/// request in program `program`, by borough id — PAAM's rule written out by hand from the
/// stored rows.
async fn paam_gap_by_hand(
    db: &sea_orm::DatabaseConnection,
    program: i32,
    age: u32,
    day: chrono::NaiveDate,
) -> HashMap<i32, u64> {
    use angel_app::ssr::services::eligibility::OPEN;
    let open: BTreeSet<i32> = enrollment::Entity::find()
        .filter(enrollment::Column::ProgramId.eq(program))
        .filter(enrollment::Column::Status.is_in(OPEN))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.person_id)
        .collect();
    let born_by = day - chrono::Months::new(12 * age);
    let settled_by = day - chrono::Months::new(12 * 3);
    let mut counts: HashMap<i32, u64> = HashMap::new();
    for p in person::Entity::find()
        .filter(person::Column::Status.eq("active"))
        .all(db)
        .await
        .unwrap()
    {
        let settled = p.residence_since.is_some_and(|since| since <= settled_by);
        if p.birth_date <= born_by && settled && !open.contains(&p.id) {
            *counts.entry(p.borough_id).or_default() += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gap_counts_whom_the_rules_in_force_find_eligible_without_a_request() {
    use angel_app::ssr::services::{figures, gap};
    use angel_entity::program_rule;
    let test_db = angel_tests::TestDb::seeded().await;
    let db = &test_db.db;
    let state = angel_server::http::app_state(db.clone(), &test_db.settings)
        .await
        .unwrap();
    // Before any run: nothing to show, and the job is due.
    let now = state.clock.now();
    assert!(gap::due(db, now).await.unwrap());
    assert_eq!(figures::by_program(db, "", now).await.unwrap().gap, None);

    angel_server::synthetic::seed(
        &state,
        angel_server::synthetic::Options {
            count: 600,
            seed: 11,
        },
        false,
    )
    .await
    .unwrap();
    // The request histories; the seed ends with a run of the gap job.
    angel_server::synthetic_tracking::seed(&state, 11, false)
        .await
        .unwrap();
    let now = state.clock.now();
    let run = gap::last_run(db)
        .await
        .unwrap()
        .expect("the seed ran the job");
    let active = person::Entity::find()
        .filter(person::Column::Status.eq("active"))
        .all(db)
        .await
        .unwrap()
        .len() as i64;
    assert_eq!(run.people, active, "every active profile evaluated");
    assert!(!gap::due(db, now).await.unwrap(), "just computed");
    assert!(
        gap::due(db, now + chrono::TimeDelta::days(1))
            .await
            .unwrap(),
        "a day later, ages and facts have changed"
    );

    // PAAM's cells equal the rule written by hand; every other program's cell is at most the
    // borough's active profiles.
    let paam = test_db.program_id("PAAM").await;
    let day = run.as_of.date_naive();
    let stored = gap::stored(db).await.unwrap();
    let expected = paam_gap_by_hand(db, paam, 68, day).await;
    let boroughs = borough::Entity::find()
        .order_by_asc(borough::Column::InegiCode)
        .all(db)
        .await
        .unwrap();
    for b in &boroughs {
        assert_eq!(
            stored.get(&(paam, b.id)).copied().unwrap_or(0),
            expected.get(&b.id).copied().unwrap_or(0),
            "PAAM in {}",
            b.inegi_code
        );
    }
    assert!(expected.values().sum::<u64>() > 0, "a gap to find");
    assert!(
        stored.keys().any(|&(p, _)| p != paam),
        "other programs have a gap too"
    );

    // The report: one suppressed row per program, the same whatever the borough filter.
    let report = figures::by_program(db, "", now).await.unwrap();
    let shown = report.gap.clone().expect("figures after a run");
    let counts: Vec<u64> = boroughs
        .iter()
        .map(|b| expected.get(&b.id).copied().unwrap_or(0))
        .collect();
    let (cells, total) = disclosure::row(&counts);
    let row = shown.rows.iter().find(|r| r.code == "PAAM").unwrap();
    assert_eq!((row.boroughs.clone(), row.total), (cells, total));
    assert_eq!(shown.evaluated, disclosure::one(active as u64));
    assert_eq!(
        figures::by_program(db, "09007", now).await.unwrap().gap,
        Some(shown)
    );

    // No small cell of a borough can be worked out from the city's figure minus the other
    // boroughs': in every measure of the figures by program, a borough's "<5" never stands
    // alone beside a shown city total.
    let flat = |r: &angel_app::coverage::dto::ProgramReport| -> Vec<Cell> {
        let q = &r.quality;
        let mut out = vec![
            q.registered,
            q.with_curp,
            q.without_curp,
            q.duplicates_pending,
            q.adults_without_income,
            q.minors_without_school,
        ];
        for p in &r.programs {
            out.extend([p.reached, p.decided, p.overdue, p.escalated]);
            out.extend(p.trend.iter().copied());
        }
        out.extend(r.overlap.iter().flatten().copied());
        out
    };
    let city = flat(&report);
    let mut by_borough = Vec::new();
    for b in &boroughs {
        by_borough.push(flat(
            &figures::by_program(db, &b.inegi_code, now).await.unwrap(),
        ));
    }
    let mut small = 0;
    for (k, total) in city.iter().enumerate() {
        let column: Vec<Cell> = by_borough.iter().map(|cells| cells[k]).collect();
        let unshown = column.iter().filter(|c| c.count().is_none()).count();
        small += column.iter().filter(|c| **c == Cell::Small).count();
        if let Some(total) = total.count() {
            assert_ne!(
                unshown, 1,
                "measure {k}: a lone suppressed borough beside {total}"
            );
            let shown: u64 = column.iter().filter_map(|c| c.count()).sum();
            assert!(shown <= total, "measure {k}");
        }
    }
    assert!(small > 0, "the synthetic city has small cells to protect");

    // A new PAAM version (70 and over) published after the run: due at once, and the next run
    // counts under it.
    let in_force = program_rule::Entity::find()
        .filter(program_rule::Column::ProgramId.eq(paam))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        in_force.rules.matches("68").count(),
        1,
        "{}",
        in_force.rules
    );
    let later = now + chrono::TimeDelta::minutes(1);
    program_rule::ActiveModel {
        program_id: Set(paam),
        version: Set(2),
        effective_from: Set(day),
        status: Set("published".to_owned()),
        rules: Set(in_force.rules.replace("68", "70")),
        tests: Set("[]".to_owned()),
        note: Set(String::new()),
        created_by: Set(None),
        created_at: Set(later),
        published_by: Set(None),
        published_at: Set(Some(later)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert!(gap::due(db, later).await.unwrap(), "a rule was published");
    let second = gap::run_if_due(db, "test", later)
        .await
        .unwrap()
        .expect("due, and the lease is free");
    let expected = paam_gap_by_hand(db, paam, 70, day).await;
    for b in &boroughs {
        assert_eq!(
            second.cells.get(&(paam, b.id)).copied().unwrap_or(0),
            expected.get(&b.id).copied().unwrap_or(0),
            "PAAM 70+ in {}",
            b.inegi_code
        );
    }
    assert_eq!(gap::stored(db).await.unwrap(), {
        let mut m = HashMap::new();
        for (&k, &v) in &second.cells {
            m.insert(k, v);
        }
        m
    });
    assert!(!gap::due(db, later).await.unwrap());
    // Another holder of the lease: this instance skips its turn.
    assert!(
        angel_app::ssr::services::jobs::take_lease(db, gap::GAP, "other", later)
            .await
            .unwrap()
    );
    assert_eq!(gap::run(db, "test", later).await.unwrap(), None);
}

/// The stored settings of indicator `code`, as the edit page shows them.
async fn settings(app: &TestApp, code: &str) -> angel_app::coverage::dto::IndicatorSettings {
    angel_app::ssr::services::indicators::admin(&app.test_db.db)
        .await
        .unwrap()
        .indicators
        .into_iter()
        .find(|i| i.code == code)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_edits_an_indicator_and_its_coverage_follows_at_once() {
    let app = TestApp::spawn().await;
    let db = &app.test_db.db;
    let (mut office, mut iaam, mut sedeso) = signed_in_staff(&app).await;
    // Six people with PAAM, three of them also with COMCOM (which serves no indicator of
    // older adults).
    for i in 0..6 {
        let birth = format!("19{}-0{}-2{}", 45 + i, 1 + i, i);
        let person = office
            .register(&person_form("Rosa", "Méndez", "Soto", &birth))
            .await;
        let e = office.request_paam_override(person).await;
        activate(&app, &mut iaam, e.id).await;
        if i < 3 {
            let c = office.request_comcom(person).await;
            activate(&app, &mut sedeso, c.id).await;
        }
    }
    let reached = |r: &angel_app::coverage::dto::CoverageReport| r.total.reached;
    let before = coverage::by_borough(db, "older_adults_68", None)
        .await
        .unwrap();
    assert_eq!(reached(&before), Cell::Count(6));

    app.staff("t.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    let mut admin = app.browser();
    admin.sign_in("t.admin", PASSWORD).await;
    let list = admin.get("/admin/indicadores").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body
            .contains(r#"href="/admin/indicadores/older_adults_68""#)
    );
    let page = admin.get("/admin/indicadores/older_adults_68").await;
    assert_eq!(page.status, StatusCode::OK);
    let stamp = settings(&app, "older_adults_68").await.stamp;
    assert!(page.body.contains(&stamp), "the form carries the stamp");
    let path = "/admin/indicadores/older_adults_68";
    let stored = settings(&app, "older_adults_68").await;
    assert_eq!(stored.programs, vec!["PAAM"]);

    // Bad input: each field says what is wrong, nothing is written.
    let refused = admin
        .submit(
            path,
            &[
                ("name_es", " "),
                ("name_en", "Older adults"),
                ("program", "NOPE"),
                ("stamp", &stamp),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains(r#"id="f-name_es-error""#),
        "name error"
    );
    assert!(
        refused.body.contains(r#"id="f-program-error""#),
        "program error"
    );
    let none = admin
        .submit(
            path,
            &[("name_es", "A"), ("name_en", "B"), ("stamp", &stamp)],
        )
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        none.body.contains("Elige al menos un programa"),
        "{}",
        none.body.len()
    );
    let unknown_field = admin
        .submit(path, &[("name_es", "A"), ("persona", "1")])
        .await;
    assert_eq!(unknown_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(settings(&app, "older_adults_68").await, stored);

    // Renamed, and COMCOM added: the three people in both count once.
    let saved = admin
        .submit(
            path,
            &[
                ("name_es", "Personas de 68 años y más"),
                ("name_en", "People aged 68 and over"),
                ("program", "PAAM"),
                ("program", "COMCOM"),
                ("stamp", &stamp),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let now = settings(&app, "older_adults_68").await;
    assert_eq!(now.programs, vec!["COMCOM", "PAAM"]);
    assert_eq!(now.name.en, "People aged 68 and over");
    assert_exact(&app, "COMCOM added").await;
    let after = coverage::by_borough(db, "older_adults_68", None)
        .await
        .unwrap();
    assert_eq!(reached(&after), Cell::Count(6));
    assert_eq!(after.name.en, "People aged 68 and over");

    // A save from the settings as they were before (another administrator's tab): refused,
    // the stored settings kept.
    let stale = admin
        .submit(
            path,
            &[
                ("name_es", "Otro"),
                ("name_en", "Other"),
                ("program", "PAAM"),
                ("stamp", &stamp),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(settings(&app, "older_adults_68").await, now);

    // COMCOM alone: three people, shown as "<5"; the tallies still equal the GROUP BY.
    let only = admin
        .submit(
            path,
            &[
                ("name_es", "Personas de 68 años y más"),
                ("name_en", "People aged 68 and over"),
                ("program", "COMCOM"),
                ("stamp", &now.stamp),
            ],
        )
        .await;
    assert_eq!(only.status, StatusCode::SEE_OTHER);
    assert_exact(&app, "PAAM removed").await;
    let last = coverage::by_borough(db, "older_adults_68", None)
        .await
        .unwrap();
    assert_eq!(reached(&last), Cell::Small);
    // An enrollment write after the change counts under the new links.
    let person = office
        .register(&person_form("Elena", "Cruz", "Mora", "1941-03-03"))
        .await;
    let c = office.request_comcom(person).await;
    activate(&app, &mut sedeso, c.id).await;
    assert_exact(&app, "a COMCOM request after the change").await;

    // Audited, with what changed.
    let events: Vec<serde_json::Value> = angel_entity::audit_event::Entity::find()
        .filter(angel_entity::audit_event::Column::Action.eq("indicator.changed"))
        .order_by_asc(angel_entity::audit_event::Column::Seq)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str(&e.detail.unwrap()).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["programs_added"], serde_json::json!(["COMCOM"]));
    assert_eq!(events[0]["renamed"], true);
    assert_eq!(events[1]["programs_removed"], serde_json::json!(["PAAM"]));

    // The seed does not put PAAM back.
    angel_server::seed::run(db).await.unwrap();
    assert_eq!(
        settings(&app, "older_adults_68").await.programs,
        vec!["COMCOM"]
    );

    // Only administrators.
    let mut analyst = app
        .signed_in("t.politica", "policy_officer", Anchor::None, PASSWORD)
        .await;
    assert_eq!(
        analyst.get("/admin/indicadores").await.status,
        StatusCode::FORBIDDEN
    );
    let denied = analyst
        .submit(
            path,
            &[("name_es", "A"), ("name_en", "B"), ("program", "PAAM")],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        settings(&app, "older_adults_68").await.programs,
        vec!["COMCOM"]
    );
}
