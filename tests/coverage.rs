//! The coverage numerators, on SQLite and PostgreSQL: after random status changes made through
//! the screens (requests activated, suspended, reinstated, ended) and people moving to another
//! borough, the kept tallies (people reached per indicator and per program in each borough)
//! equal a plain `GROUP BY` over the enrollments, cell for cell; a rebuild gives the same; a
//! person in two programs of one indicator counts once.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_tallies_equal_a_plain_group_by_after_random_changes() {
    let app = TestApp::spawn().await;
    let db = &app.test_db.db;
    let mut office = app
        .signed_in(
            "t.supervisor",
            "office_supervisor",
            Anchor::Office("MOD-09007"),
            PASSWORD,
        )
        .await;
    let mut iaam = app
        .signed_in("t.iaam", "agency_staff", Anchor::Agency("IAAM"), PASSWORD)
        .await;
    let mut sedeso = app
        .signed_in(
            "t.sedeso",
            "agency_staff",
            Anchor::Agency("SEDESO"),
            PASSWORD,
        )
        .await;

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
        let pick = format!("{person}:{paam}");
        let page = office
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
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let e = enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.eq(person))
            .filter(enrollment::Column::ProgramId.eq(paam))
            .one(db)
            .await
            .unwrap()
            .unwrap();
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
    let mut moved = vec![false; PEOPLE];
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
