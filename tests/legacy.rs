//! The legacy import (issue 9) on SQLite and PostgreSQL: an agency's Latin-1 export with its
//! own headers and values, standardized, matched and imported once; conflicts listed and never
//! written; bad rows refused alone; a bad file refused whole; a run cut off resumes.

use angel_app::domain::curp::check_digit;
use angel_app::registry::forms::PersonForm;
use angel_app::ssr::{
    AppState, ServiceError,
    services::{
        legacy::{self, Layout, Options, Outcome, RowReport, Summary},
        registry::{self, Origin},
    },
};
use angel_entity::{person, person_contact};
use angel_server::legacy as cli;
use sea_orm::EntityTrait;

/// A CURP with its check digit.
fn curp(first17: &str) -> String {
    format!(
        "{first17}{}",
        check_digit(first17).expect("CURP characters")
    )
}

async fn state(test_db: &angel_tests::TestDb) -> AppState {
    angel_server::http::app_state(test_db.db.clone(), &test_db.settings)
        .await
        .expect("app state")
}

const MAPPING: &str = r#"
[columns]
FOLIO = "record_id"
NOMBRE = "given_names"
PATERNO = "first_surname"
MATERNO = "second_surname"
"FEC NAC" = "birth_date"
SEXO = "sex"
CURP = "curp"
ENTIDAD = "birth_state"
"DELEGACIÓN" = "borough"
COLONIA = "colonia"
CP = "postal_code"
TEL = "phone"
OBSERVACIONES = "ignore"

[sex]
1 = "H"
2 = "M"
"#;

/// The file as the agency's Windows program writes it: Latin-1, `;`.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
        .collect()
}

async fn run(
    state: &AppState,
    bytes: &[u8],
    options: Options,
) -> (Summary, Vec<csv::StringRecord>) {
    run_with(state, bytes, MAPPING, options).await
}

async fn run_with(
    state: &AppState,
    bytes: &[u8],
    mapping: &str,
    options: Options,
) -> (Summary, Vec<csv::StringRecord>) {
    let mapping = cli::mapping(mapping).expect("the mapping reads");
    let checked = cli::check(bytes, Some(&mapping))
        .map_err(|p| format!("{p:?}"))
        .expect("the file passes the checks");
    let mut out = csv::Writer::from_writer(Vec::new());
    let summary = cli::import(state, &checked, "sedeso", options, &mut out, |_| {})
        .await
        .expect("the import runs");
    let text = String::from_utf8(out.into_inner().expect("flushed")).expect("UTF-8 report");
    let records = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a report line"))
        .collect();
    (summary, records)
}

/// Each row's outcome by line, in file order (the report follows the import's order, by birth
/// date).
fn outcomes(report: &[csv::StringRecord]) -> Vec<(u64, String)> {
    let mut seen: Vec<(u64, String)> = report
        .iter()
        .map(|r| (r[0].parse().expect("a line number"), r[1].to_owned()))
        .collect();
    seen.sort_by_key(|(line, _)| *line);
    seen.dedup();
    seen
}

fn reasons(report: &[csv::StringRecord], line: u64) -> Vec<(String, String)> {
    report
        .iter()
        .filter(|r| r[0] == *line.to_string())
        .map(|r| (r[3].to_owned(), r[4].to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_file_is_standardized_matched_and_imported_once() {
    let test_db = angel_tests::TestDb::seeded().await;
    let state = state(&test_db).await;
    let today = registry::today(state.clock.now());

    // Already registered: Ana López, with her CURP, no phone.
    let curp_ana = curp("LOAA600201MDFPNN0");
    let ana = PersonForm {
        given_names: "Ana".into(),
        first_surname: "López".into(),
        birth_date: "1960-02-01".into(),
        sex: "M".into(),
        birth_state: "DF".into(),
        curp: curp_ana.clone(),
        borough: "09007".into(),
        colonia: "Centro".into(),
        postal_code: "09000".into(),
        ..PersonForm::default()
    }
    .validate(today)
    .expect("a valid person");
    let ana_id = registry::insert(
        &state,
        None,
        &ana,
        borough_id(&test_db, "09007").await,
        Origin::default(),
        None,
        false,
    )
    .await
    .expect("registered");

    let curp_maria = curp("PERM500305MDFXZR0");
    let curp_rosa = curp("DILR751212MDFZNS0");
    let luis = "GOML800101HDFMMS0";
    let bad_curp = format!("{luis}{}", (check_digit(luis).unwrap() + 1) % 10);
    let text = format!(
        "FOLIO;NOMBRE;PATERNO;MATERNO;FEC NAC;SEXO;CURP;ENTIDAD;DELEGACIÓN;COLONIA;CP;TEL;OBSERVACIONES\n\
         A1;María;Peña;Ruiz;05/03/1950;2;{curp_maria};;Iztapalapa;Santa Cruz;09000;;nota\n\
         A2;Ana;López;;01-02-60;2;{curp_ana};;09007;CENTRO;09000;55 1234 5678;\n\
         A3;Juan;Pérez;;31/02/1970;1;;DF;GAM;Centro;07000;;\n\
         A4;=HYPERLINK(\"http://x\");Gómez;;01/01/1980;1;;DF;Tlalpan;Centro;14000;;\n\
         A5;Luis;Gómez;;01/01/1980;1;{bad_curp};;Tlalpan;Centro;14000;;\n\
         A6;Rosa;Díaz;Luna;12/12/1975;2;{curp_rosa};;Coyoacán;Del Carmen;04100;;\n\
         A7;ROSA;DIAZ;LUNA;1975-12-12;2;{curp_rosa};;coyoacan;Del Carmen;04100;;\n\
         A8;Ana;Lopez;;01/02/1960;2;;DF;Alcaldía Iztapalapa;Centro;09000;;\n\
         A9;Ana;López;;01/02/1960;2;{curp_ana};;9007;Otra Colonia;09000;5599999999;\n"
    );
    let bytes = latin1(&text);
    let before = test_db.row_counts().await;

    // A dry run reports what the import will do and writes nothing.
    let dry = Options {
        dry_run: true,
        ..Options::default()
    };
    let (planned, dry_report) = run(&state, &bytes, dry).await;
    assert_eq!(
        test_db.row_counts().await,
        before,
        "a dry run writes nothing"
    );
    assert_eq!(planned.import, None);

    let (done, report) = run(&state, &bytes, Options::default()).await;
    let expected = [
        (2, "created"),
        (3, "updated"),
        (4, "refused"),
        (5, "refused"),
        (6, "refused"),
        (7, "created"),
        (8, "matched"),
        (9, "created_review"),
        (10, "conflict"),
    ]
    .map(|(l, o)| (l, o.to_owned()));
    assert_eq!(outcomes(&report), expected);
    assert_eq!(outcomes(&dry_report), expected, "the dry run foretold it");
    assert_eq!(
        (
            done.rows,
            done.new_people(),
            done.for_review,
            done.updated,
            done.matched
        ),
        (9, 3, 1, 1, 1)
    );
    assert_eq!(
        (done.conflicts, done.refused, done.already_imported),
        (1, 3, 0)
    );
    assert_eq!(
        Summary {
            import: None,
            ..done.clone()
        },
        planned,
        "same counts as the dry run"
    );

    // Reasons, field by field, in both languages; no name and no clear CURP in the report.
    assert_eq!(
        reasons(&report, 4),
        [("birth_date".into(), "date_impossible".into())]
    );
    assert_eq!(
        reasons(&report, 5),
        [("given_names".into(), "formula".into())]
    );
    assert_eq!(
        reasons(&report, 6),
        [("curp".into(), "curp_check_digit".into())]
    );
    assert_eq!(
        reasons(&report, 10),
        [
            ("colonia".into(), "conflict".into()),
            ("phone".into(), "conflict".into())
        ]
    );
    let all: String = report
        .iter()
        .map(|r| r.iter().collect::<Vec<_>>().join(","))
        .collect();
    for secret in [
        &curp_ana,
        &curp_maria,
        &curp_rosa,
        "PEÑA",
        "Peña",
        "López",
        "LÓPEZ",
    ] {
        assert!(!all.contains(secret), "the report shows {secret}");
    }
    assert!(all.contains(&format!(
        "{}************{}",
        &curp_maria[..4],
        &curp_maria[16..]
    )));
    assert!(
        report
            .iter()
            .all(|r| (!r[5].is_empty() && !r[6].is_empty()) || r[3].is_empty()),
        "a message in both languages per reason"
    );

    // The people: three new (standardized), Ana's phone filled, her colonia kept.
    assert_eq!(test_db.count("person").await, 4);
    let people = person::Entity::find().all(&test_db.db).await.unwrap();
    let maria = people
        .iter()
        .find(|p| p.first_surname == "PEÑA")
        .expect("María");
    assert_eq!(maria.given_names, "MARÍA");
    assert_eq!(maria.birth_date.to_string(), "1950-03-05");
    assert_eq!(maria.sex, "M");
    assert!(maria.has_curp);
    let ana_now = people.iter().find(|p| p.id == ana_id).unwrap();
    assert_eq!(ana_now.colonia, "Centro", "never overwritten");
    assert_eq!(ana_now.version, 2, "one edit: the phone");
    let contact = person_contact::Entity::find_by_id(ana_id)
        .one(&test_db.db)
        .await
        .unwrap();
    assert!(
        contact.is_some_and(|c| c.phone_envelope.is_some()),
        "phone filled, sealed"
    );
    assert_eq!(test_db.count("person_change").await, 1);
    assert_eq!(
        test_db.count("duplicate_review").await,
        1,
        "the second Ana, for review"
    );
    assert_eq!(test_db.count("legacy_link").await, 6);

    // The same file again: nobody new, every imported record known.
    let (again, report) = run(&state, &bytes, Options::default()).await;
    assert_eq!(again.new_people(), 0);
    assert_eq!((again.already_imported, again.refused), (6, 3));
    assert_eq!(test_db.count("person").await, 4);
    assert_eq!(
        outcomes(&report)
            .iter()
            .filter(|(_, o)| o == "already_imported")
            .count(),
        6
    );
    assert_eq!(
        test_db.count("legacy_import").await,
        2,
        "two runs, both finished"
    );

    // Every registration by the import is audited, and the chain holds.
    let verdict = angel_app::ssr::audit::verify(&test_db.db).await.unwrap();
    assert!(
        matches!(verdict, angel_app::ssr::audit::Verdict::Intact(_)),
        "{verdict}"
    );
}

/// Rows of one chunk about the same people are decided in file order against what the rows
/// before them wrote: an existing person filled twice (each fill a new version), a person
/// created and then matched, and a probable duplicate of someone created two rows earlier.
/// Eva Sánchez Gómez, registered at the intake form before the import.
async fn register_eva(state: &AppState, test_db: &angel_tests::TestDb, curp: &str) -> i32 {
    register_eva_born(state, test_db, curp, "1970-07-07").await
}

/// Eva Sánchez Gómez, born on `birth_date` (as her CURP says).
async fn register_eva_born(
    state: &AppState,
    test_db: &angel_tests::TestDb,
    curp: &str,
    birth_date: &str,
) -> i32 {
    let eva = PersonForm {
        given_names: "Eva".into(),
        first_surname: "Sánchez".into(),
        second_surname: "Gómez".into(),
        birth_date: birth_date.into(),
        sex: "M".into(),
        birth_state: "DF".into(),
        curp: curp.to_owned(),
        borough: "09007".into(),
        colonia: "Centro".into(),
        postal_code: "09000".into(),
        ..PersonForm::default()
    }
    .validate(registry::today(state.clock.now()))
    .expect("a valid person");
    registry::insert(
        state,
        None,
        &eva,
        borough_id(test_db, "09007").await,
        Origin::default(),
        None,
        false,
    )
    .await
    .expect("registered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_of_one_chunk_see_what_the_rows_before_them_did() {
    let test_db = angel_tests::TestDb::seeded().await;
    let state = state(&test_db).await;
    let curp_eva = curp("SAGE700707MDFNRV0");
    let eva_id = register_eva(&state, &test_db, &curp_eva).await;
    let curp_leo = curp("MOLL850505HDFRRN0");
    let mapping = MAPPING.replace(
        "OBSERVACIONES = \"ignore\"",
        "OBSERVACIONES = \"ignore\"\nCALLE = \"street\"",
    );
    let text = format!(
        "FOLIO;NOMBRE;PATERNO;MATERNO;FEC NAC;SEXO;CURP;ENTIDAD;DELEGACIÓN;COLONIA;CP;TEL;CALLE;OBSERVACIONES\n\
         B1;Eva;Sánchez;Gómez;07/07/1970;2;{curp_eva};;09007;Centro;09000;5511112222;;\n\
         B2;Eva;Sánchez;Gómez;07/07/1970;2;{curp_eva};;09007;Centro;09000;;Calle Dos 4;\n\
         B3;Pedro;Ramírez;Soto;03/03/1990;1;;DF;Tlalpan;Centro;14000;;;\n\
         B4;Pedro;Ramires;Soto;03/03/1990;1;;DF;Tlalpan;Centro;14000;;;\n\
         B5;Leo;Moreno;Luna;05/05/1985;1;{curp_leo};;Coyoacán;Del Carmen;04100;;;\n\
         B6;Leo;Moreno;Luna;05/05/1985;1;{curp_leo};;Coyoacán;Del Carmen;04100;5533334444;;\n"
    );
    let (done, report) = run_with(&state, &latin1(&text), &mapping, Options::default()).await;
    assert_eq!(
        outcomes(&report),
        [
            (2, "updated"),
            (3, "updated"),
            (4, "created"),
            (5, "created_review"),
            (6, "created"),
            (7, "updated"),
        ]
        .map(|(l, o)| (l, o.to_owned()))
    );
    assert_eq!(
        (done.new_people(), done.for_review, done.updated),
        (3, 1, 3)
    );
    let eva_now = person::Entity::find_by_id(eva_id)
        .one(&test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(eva_now.version, 3, "two edits, one after the other");
    assert_eq!(test_db.count("person_change").await, 3);
    assert_eq!(
        test_db.count("duplicate_review").await,
        1,
        "the two Pedros, created in the same chunk"
    );
    assert_eq!(test_db.count("legacy_link").await, 6);
    let verdict = angel_app::ssr::audit::verify(&test_db.db).await.unwrap();
    assert!(matches!(verdict, angel_app::ssr::audit::Verdict::Intact(_)));
}

/// The registry's probable duplicates are read once per chunk: a new person is still compared
/// with the registry (by birth date and by name), with the chunk's new people written before a
/// repeated CURP made the chunk write them, and with the ones not written yet. In chunks of two
/// the pairs cross chunks; the result is the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_people_are_compared_with_the_registry_and_everyone_new_before_them() {
    use angel_entity::duplicate_review;
    let curp_eva = curp("SAGE700707MDFNRV0");
    let curp_leo = curp("MOLL850505HDFRRN0");
    let text = format!(
        "FOLIO;NOMBRE;PATERNO;MATERNO;FEC NAC;SEXO;CURP;ENTIDAD;DELEGACIÓN;COLONIA;CP;TEL;OBSERVACIONES\n\
         C1;Leo;Moreno;Luna;05/05/1985;1;{curp_leo};;Coyoacán;Del Carmen;04100;;\n\
         C2;Leo;Moreno;Luna;05/05/1985;1;{curp_leo};;Coyoacán;Del Carmen;04100;;\n\
         C3;Leo;Morenno;Luna;05/05/1985;1;;DF;Coyoacán;Del Carmen;04100;;\n\
         C4;Ana;Ruiz;Paz;01/02/2000;2;;DF;Tlalpan;Centro;14000;;\n\
         C5;Eva;Sánchez;Gomes;07/07/1970;2;;DF;09007;Centro;09000;;\n\
         C6;Ana;Ruiz;Paz;01/02/2001;2;;DF;Tlalpan;Centro;14000;;\n"
    );
    for chunk in [2_000, 2] {
        let test_db = angel_tests::TestDb::seeded().await;
        let state = state(&test_db).await;
        register_eva(&state, &test_db, &curp_eva).await;
        let options = Options {
            chunk,
            ..Options::default()
        };
        let (done, report) = run(&state, &latin1(&text), options).await;
        assert_eq!(
            outcomes(&report),
            [
                (2, "created"),
                (3, "matched"),
                (4, "created_review"),
                (5, "created"),
                (6, "created_review"),
                (7, "created_review"),
            ]
            .map(|(l, o)| (l, o.to_owned())),
            "chunks of {chunk}"
        );
        assert_eq!((done.new_people(), done.for_review), (5, 3));
        let names: std::collections::HashMap<i32, String> = person::Entity::find()
            .all(&test_db.db)
            .await
            .unwrap()
            .into_iter()
            .map(|p| {
                let born = p.birth_date.format("%Y");
                let second = p.second_surname.unwrap_or_default();
                (p.id, format!("{} {second} {born}", p.first_surname))
            })
            .collect();
        let mut pairs: Vec<(String, String)> = duplicate_review::Entity::find()
            .all(&test_db.db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                let (a, b) = (names[&r.person_a].clone(), names[&r.person_b].clone());
                if a < b { (a, b) } else { (b, a) }
            })
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("MORENNO LUNA 1985", "MORENO LUNA 1985"),
                ("RUIZ PAZ 2000", "RUIZ PAZ 2001"),
                // Registered at the intake form, which keeps the names as typed.
                ("SÁNCHEZ GOMES 1970", "Sánchez Gómez 1970"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned())),
            "chunks of {chunk}"
        );
    }
}

async fn borough_id(test_db: &angel_tests::TestDb, code: &str) -> i32 {
    use angel_entity::borough;
    use sea_orm::{ColumnTrait, QueryFilter};
    borough::Entity::find()
        .filter(borough::Column::InegiCode.eq(code))
        .one(&test_db.db)
        .await
        .unwrap()
        .expect("a borough")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_off_resumes_after_its_last_committed_chunk() {
    let test_db = angel_tests::TestDb::seeded().await;
    let state = state(&test_db).await;
    let headers: Vec<String> = [
        "record_id",
        "given_names",
        "first_surname",
        "birth_date",
        "sex",
        "birth_state",
        "borough",
        "colonia",
        "postal_code",
    ]
    .map(str::to_owned)
    .to_vec();
    let layout = Layout::new(&headers, None).expect("our own field codes");
    let names = ["ANA", "BEATRIZ", "CARMEN", "DIANA", "ELENA"];
    let rows = |fail_at: Option<usize>| {
        names.iter().enumerate().map(move |(k, name)| {
            if Some(k) == fail_at {
                return Err(ServiceError::Internal("the disk went away"));
            }
            let mut cells = vec![format!("R{k}"), (*name).to_owned(), "TORRES".to_owned()];
            cells.push(format!("19{}0-01-0{}", k + 4, k + 1));
            cells.extend(["F", "DF", "09003", "CENTRO", "04000"].map(str::to_owned));
            Ok((k as u64 + 2, cells))
        })
    };
    let options = Options {
        chunk: 2,
        fuzzy: false,
        ..Options::default()
    };
    let import = |fail_at| {
        let state = &state;
        let layout = &layout;
        let mut lines = Vec::new();
        async move {
            let result = legacy::import_persons(
                state,
                "SEDESO",
                "sha-of-the-file",
                names.len() as u64,
                layout,
                rows(fail_at),
                options,
                |r: &RowReport| lines.push((r.line, r.outcome)),
                |_| {},
            )
            .await;
            (result, lines)
        }
    };

    // The fourth row fails to read: the first chunk (rows 1–2) is committed, the second
    // (rows 3–4) is not.
    let (result, lines) = import(Some(3)).await;
    assert!(result.is_err());
    assert_eq!(lines, [(2, Outcome::Created), (3, Outcome::Created)]);
    assert_eq!(test_db.count("person").await, 2);
    let run = angel_entity::legacy_import::Entity::find()
        .one(&test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((run.rows_done, run.created, run.finished_at), (2, 2, None));

    // The same file again resumes after row 2.
    let (result, lines) = import(None).await;
    let summary = result.expect("resumed");
    assert_eq!(summary.resumed_after, 2);
    assert_eq!(summary.created, 5, "counts include the first run's");
    assert_eq!(
        lines,
        [
            (4, Outcome::Created),
            (5, Outcome::Created),
            (6, Outcome::Created)
        ]
    );
    assert_eq!(test_db.count("person").await, 5);
    assert_eq!(
        test_db.count("legacy_import").await,
        1,
        "the same run, finished"
    );

    // Once finished, a new run finds every record imported.
    let (result, _) = import(None).await;
    let summary = result.unwrap();
    assert_eq!((summary.already_imported, summary.new_people()), (5, 0));
    assert_eq!(test_db.count("person").await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_or_an_unknown_agency_writes_nothing() {
    let test_db = angel_tests::TestDb::seeded().await;
    let state = state(&test_db).await;
    let before = test_db.row_counts().await;

    // Unknown headers without a mapping: every one named, the whole file refused.
    let problems = cli::check(b"nombre;apellido\nANA;LOPEZ\n", None)
        .err()
        .expect("refused");
    assert!(
        problems
            .iter()
            .any(|p| p.column == "nombre" && p.code == "header_unknown")
    );
    // A line that is not the header's shape.
    let text = "given_names,first_surname,birth_date,sex,birth_state,borough,colonia,postal_code\n\
                ANA,LOPEZ,1950-01-01,F,DF,09007,CENTRO,09000\n\
                \"ANA,LOPEZ,1950-01-01,F,DF,09007,CENTRO,09000\n";
    assert!(
        cli::check(text.as_bytes(), None).is_err(),
        "an unclosed quote"
    );
    // A file over the limit is refused before it is read (a sparse 1 GiB file).
    let big = test_db.dir.path().join("grande.csv");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let Err(refused) = cli::read(&big).unwrap() else {
        panic!("too large")
    };
    assert_eq!(refused[0].code, "file_too_large");
    // An agency that does not exist.
    let Ok(checked) = cli::check(
        text.lines()
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
        None,
    ) else {
        panic!("a good file")
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let result = cli::import(
        &state,
        &checked,
        "NOPE",
        Options::default(),
        &mut out,
        |_| {},
    )
    .await;
    assert!(matches!(result, Err(ServiceError::Invalid(_))));
    assert_eq!(test_db.row_counts().await, before, "nothing written");
}

/// What the server logs, kept in memory for the test to read.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Logs {
    type Writer = Logs;
    fn make_writer(&'w self) -> Logs {
        self.clone()
    }
}

/// SECURITY.md 5: after creating 200 synthetic people (by the legacy import), searching for
/// them by CURP and exporting their requests, none of their CURPs is in clear in the database
/// (SQLite's file and WAL, PostgreSQL's rows), the server's logs (production format and
/// filter), the import report or the agency's exports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_curp_in_clear_after_importing_searching_and_exporting_200_people() {
    let logs = Logs::default();
    angel_server::telemetry::install(
        angel_server::config::Environment::Production,
        logs.clone(),
        false,
    );
    let app = angel_tests::TestApp::spawn().await;
    let state = state(&app.test_db).await;
    let boroughs: Vec<(String, u64)> = angel_entity::borough::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.inegi_code, u64::try_from(b.population_2020).unwrap()))
        .collect();
    let file = angel_server::synthetic::Generator::new(
        11,
        boroughs,
        angel_tests::start_time().date_naive(),
    )
    .legacy_file(230)
    .unwrap();
    let curps: Vec<String> = csv::Reader::from_reader(file.as_slice())
        .records()
        .map(|r| r.unwrap()[6].to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    assert!(curps.len() >= 200, "{} CURPs", curps.len());

    let Ok(checked) = cli::check(&file, None) else {
        panic!("the file passes the checks")
    };
    let mut report = csv::Writer::from_writer(Vec::new());
    let summary = cli::import(
        &state,
        &checked,
        "SEDESO",
        Options::default(),
        &mut report,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(summary.refused, 0, "{summary}");
    assert_eq!(summary.created + summary.for_review, 230, "{summary}");
    let report = String::from_utf8(report.into_inner().unwrap()).unwrap();

    let mut caseworker = app
        .signed_in(
            "c.trabajo",
            "caseworker",
            angel_tests::Anchor::Office("MOD-09007"),
            "las jacarandas moradas de marzo",
        )
        .await;
    for curp in curps.iter().take(20) {
        let page = caseworker
            .submit("/oficina/personas", &[("by", "curp"), ("curp", curp)])
            .await;
        // One person found: straight to the profile, which shows the CURP masked.
        assert_eq!(page.status, reqwest::StatusCode::SEE_OTHER);
        let profile = caseworker.get(&page.header("location")).await;
        assert_eq!(profile.status, reqwest::StatusCode::OK);
        assert!(
            profile.body.contains(&curp[..4]),
            "the masked CURP is shown"
        );
    }
    let people: Vec<person::Model> = person::Entity::find().all(&app.test_db.db).await.unwrap();
    for p in people.iter().take(5) {
        caseworker.request_comcom(p.id).await;
    }
    let mut sedeso = app
        .signed_in(
            "s.sedeso",
            "agency_staff",
            angel_tests::Anchor::Agency("SEDESO"),
            "las jacarandas moradas de marzo",
        )
        .await;
    let csv_export = sedeso.get("/agencia/solicitudes.csv").await;
    // The file's school supplies requests and the five asked for just now.
    assert!(summary.requests_created > 0, "{summary}");
    assert_eq!(
        csv_export.body.lines().count() as u64,
        1 + summary.requests_created + 5
    );
    let json_export = sedeso.get("/agencia/solicitudes.json").await;
    assert_eq!(json_export.status, reqwest::StatusCode::OK);

    let stored = app.test_db.stored_text().await;
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("/oficina/personas"),
        "the requests were logged"
    );
    for curp in &curps {
        for (place, text) in [
            ("the database", &stored),
            ("the logs", &logged),
            ("the import report", &report),
            ("the CSV export", &csv_export.body),
            ("the JSON export", &json_export.body),
        ] {
            assert!(!text.contains(curp.as_str()), "a CURP in clear in {place}");
        }
    }
}

const REQUESTS_MAPPING: &str = r#"
[columns]
FOLIO = "record_id"
NOMBRE = "given_names"
PATERNO = "first_surname"
"FEC NAC" = "birth_date"
SEXO = "sex"
CURP = "curp"
"DELEGACIÓN" = "borough"
COLONIA = "colonia"
CP = "postal_code"
PROGRAMA = "program"
ESTATUS = "status"
"FECHA SOLICITUD" = "requested_on"

[sex]
1 = "H"
2 = "M"

[program]
"UNIFORMES 2025" = "UNIFOR"

[status]
B = "exited"
"#;

fn request_of(report: &[csv::StringRecord], line: u64) -> (String, String) {
    let r = report
        .iter()
        .find(|r| r[0] == *line.to_string())
        .expect("a report line");
    (r[7].to_owned(), r[8].to_owned())
}

/// Rows that are also program requests: each person's requests for the agency's programs are
/// created in the file's status with a folio, its first event and audit event, and counted in
/// coverage; a status unlike the registry's open request is listed, never applied; a program
/// of another agency, an unknown status or a future date refuses the row; the same file again
/// creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn program_requests_are_imported_with_their_people_once() {
    use angel_entity::{enrollment, enrollment_event, program};
    use sea_orm::{ColumnTrait, QueryFilter};

    let test_db = angel_tests::TestDb::seeded().await;
    let state = state(&test_db).await;
    let curp_maria = curp("PERM500305MDFXZR0");
    let curp_rosa = curp("DILR751212MDFZNS0");
    let curp_luis = curp("GOML800101HDFMMS0");
    let header = "FOLIO;NOMBRE;PATERNO;FEC NAC;SEXO;CURP;DELEGACIÓN;COLONIA;CP;PROGRAMA;ESTATUS;FECHA SOLICITUD\n";
    let text = format!(
        "{header}\
         A1;María;Peña;05/03/1950;2;{curp_maria};Iztapalapa;Centro;09000;UTILES;Activo;15/01/2025\n\
         A2;María;Peña;05/03/1950;2;{curp_maria};Iztapalapa;Centro;09000;Uniformes 2025;B;2024-02-01\n\
         A3;Rosa;Díaz;12/12/1975;2;{curp_rosa};Coyoacán;Centro;04100;UTILES;En trámite;\n\
         A4;Rosa;Díaz;12/12/1975;2;{curp_rosa};Coyoacán;Centro;04100;SMMG;Activo;\n\
         A5;Rosa;Díaz;12/12/1975;2;{curp_rosa};Coyoacán;Centro;04100;UTILES;Raro;\n\
         A6;Rosa;Díaz;12/12/1975;2;{curp_rosa};Coyoacán;Centro;04100;UTILES;Activo;01/01/2030\n\
         A7;Rosa;Díaz;12/12/1975;2;{curp_rosa};Coyoacán;Centro;04100;;Activo;\n\
         A8;Luis;Gómez;01/01/1980;1;{curp_luis};Tlalpan;Centro;14000;;;\n"
    );
    let bytes = latin1(&text);
    let before = test_db.row_counts().await;

    let dry = Options {
        dry_run: true,
        ..Options::default()
    };
    let (planned, dry_report) = run_with(&state, &bytes, REQUESTS_MAPPING, dry).await;
    assert_eq!(
        test_db.row_counts().await,
        before,
        "a dry run writes nothing"
    );

    let (done, report) = run_with(&state, &bytes, REQUESTS_MAPPING, Options::default()).await;
    let expected = [
        (2, "created"),
        (3, "matched"),
        (4, "created"),
        (5, "refused"),
        (6, "refused"),
        (7, "refused"),
        (8, "refused"),
        (9, "created"),
    ]
    .map(|(l, o)| (l, o.to_owned()));
    assert_eq!(outcomes(&report), expected);
    assert_eq!(outcomes(&dry_report), expected, "the dry run foretold it");
    assert_eq!(
        (
            done.requests_created,
            done.requests_existing,
            done.request_conflicts
        ),
        (3, 0, 0)
    );
    assert_eq!(
        (
            planned.requests_created,
            planned.requests_existing,
            planned.request_conflicts
        ),
        (3, 0, 0),
        "the dry run counted the same requests"
    );
    assert_eq!(
        reasons(&report, 5),
        [("program".into(), "program_unknown".into())]
    );
    assert_eq!(
        reasons(&report, 6),
        [("status".into(), "status_unknown".into())]
    );
    assert_eq!(
        reasons(&report, 7),
        [("requested_on".into(), "date_future".into())]
    );
    assert_eq!(reasons(&report, 8), [("program".into(), "required".into())]);
    assert_eq!(
        request_of(&report, 9),
        (String::new(), String::new()),
        "no program, no request"
    );
    assert_eq!(
        request_of(&dry_report, 2),
        ("request_created".into(), String::new())
    );

    // The requests as written: the file's status and date, a folio of the year asked for, no
    // decision date, Ángel's verdict not claimed, one first event "imported", one audit event.
    let codes: std::collections::HashMap<i32, String> = program::Entity::find()
        .all(&test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p.code))
        .collect();
    let mut requests: Vec<(String, String, String, String)> = enrollment::Entity::find()
        .all(&test_db.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            assert_eq!(e.verdict, "needs_information");
            assert_eq!(e.decided_at, None);
            assert_eq!(e.requested_by, None);
            (
                codes[&e.program_id].clone(),
                e.status,
                e.requested_at.date_naive().to_string(),
                e.folio,
            )
        })
        .collect();
    requests.sort();
    assert_eq!(requests.len(), 3);
    let (utiles_maria, unifor_maria, utiles_rosa) = (&requests[1], &requests[0], &requests[2]);
    assert_eq!(
        (&utiles_maria.1[..], &utiles_maria.2[..]),
        ("active", "2025-01-15")
    );
    assert!(
        utiles_maria.3.starts_with("UTILES-25-"),
        "{}",
        utiles_maria.3
    );
    assert_eq!(
        (
            &unifor_maria.0[..],
            &unifor_maria.1[..],
            &unifor_maria.2[..]
        ),
        ("UNIFOR", "exited", "2024-02-01")
    );
    assert!(unifor_maria.3.starts_with("UNIFOR-24-"));
    assert_eq!(
        (&utiles_rosa.1[..], &utiles_rosa.2[..]),
        ("requested", &*state.clock.now().date_naive().to_string()),
        "no date: asked for the day it was imported"
    );
    assert_eq!(
        request_of(&report, 2),
        ("request_created".into(), utiles_maria.3.clone())
    );
    let events = enrollment_event::Entity::find()
        .all(&test_db.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 3);
    assert!(
        events
            .iter()
            .all(|e| e.reason == legacy::IMPORTED && e.from_status.is_none())
    );
    let audited = angel_entity::audit_event::Entity::find()
        .filter(angel_entity::audit_event::Column::Action.eq("enrollment.imported"))
        .all(&test_db.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 3);
    // Coverage counts the active one only.
    assert_eq!(test_db.count("coverage_member").await, 1);

    // A newer extract: Rosa's request is active there, still requested here: listed, not
    // applied; everything else already there.
    let newer = latin1(&text.replace("UTILES;En trámite;", "UTILES;Vigente;"));
    let (later, report) = run_with(&state, &newer, REQUESTS_MAPPING, Options::default()).await;
    assert_eq!(later.new_people(), 0);
    assert_eq!(
        (
            later.requests_created,
            later.requests_existing,
            later.request_conflicts
        ),
        (0, 2, 1)
    );
    assert_eq!(reasons(&report, 4), [("status".into(), "conflict".into())]);
    assert_eq!(
        request_of(&report, 4),
        ("request_conflict".into(), utiles_rosa.3.clone())
    );
    let rosa_request = enrollment::Entity::find()
        .filter(enrollment::Column::Folio.eq(&utiles_rosa.3))
        .one(&test_db.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rosa_request.status, "requested", "never overwritten");

    // The first file again: nothing new at all.
    let (again, _) = run_with(&state, &bytes, REQUESTS_MAPPING, Options::default()).await;
    assert_eq!(
        (
            again.new_people(),
            again.requests_created,
            again.requests_existing
        ),
        (0, 0, 3)
    );
    assert_eq!(test_db.count("enrollment").await, 3);

    let verdict = angel_app::ssr::audit::verify(&test_db.db).await.unwrap();
    assert!(
        matches!(verdict, angel_app::ssr::audit::Verdict::Intact(_)),
        "{verdict}"
    );
}

/// Requests of one chunk are written together: a later row for the same person and program is
/// the request an earlier row created (same folio), folios follow each other per program and
/// year in the order the rows are imported (by birth date: here the file's), and coverage
/// counts each person once. Chunks of two rows, which split the same person's rows, give the
/// same report and the same tallies.
#[tokio::test]
async fn requests_written_together_take_their_folios_in_the_order_imported() {
    use angel_app::domain::folio::folio;
    use angel_app::ssr::services::coverage;

    let curp_maria = curp("PERM500305MDFXZR0");
    let curp_rosa = curp("DILR751212MDFZNS0");
    let curp_luis = curp("GOML800101HDFMMS0");
    let text = format!(
        "FOLIO;NOMBRE;PATERNO;FEC NAC;SEXO;CURP;DELEGACIÓN;COLONIA;CP;PROGRAMA;ESTATUS;FECHA SOLICITUD\n\
         A1;María;Peña;05/03/1950;2;{curp_maria};Iztapalapa;Centro;09000;UTILES;Activo;15/01/2025\n\
         A2;María;Peña;05/03/1950;2;{curp_maria};Iztapalapa;Centro;09000;UTILES;Activo;15/01/2025\n\
         A3;Rosa;Díaz;12/12/1975;2;{curp_rosa};Coyoacán;Centro;04100;UTILES;Activo;20/01/2025\n\
         A4;Luis;Gómez;01/01/1980;1;{curp_luis};Tlalpan;Centro;14000;UTILES;Baja;01/02/2024\n\
         A5;Luis;Gómez;01/01/1980;1;{curp_luis};Tlalpan;Centro;14000;UNIFOR;Activo;01/02/2025\n"
    );
    let bytes = latin1(&text);
    let mut seen = Vec::new();
    for chunk in [500, 2] {
        let test_db = angel_tests::TestDb::seeded().await;
        let state = state(&test_db).await;
        let options = Options {
            chunk,
            ..Options::default()
        };
        let (done, report) = run_with(&state, &bytes, REQUESTS_MAPPING, options).await;
        assert_eq!(
            (
                done.requests_created,
                done.requests_existing,
                done.request_conflicts
            ),
            (4, 1, 0),
            "chunks of {chunk}"
        );
        let requests: Vec<(String, String)> = (2..=6).map(|l| request_of(&report, l)).collect();
        let created = |f: String| ("request_created".to_owned(), f);
        assert_eq!(
            requests,
            [
                created(folio("UTILES", 2025, 1)),
                ("request_existing".to_owned(), folio("UTILES", 2025, 1)),
                created(folio("UTILES", 2025, 2)),
                created(folio("UTILES", 2024, 1)),
                created(folio("UNIFOR", 2025, 1)),
            ],
            "chunks of {chunk}"
        );
        assert_eq!(test_db.count("enrollment").await, 4);
        assert_eq!(test_db.count("enrollment_event").await, 4);
        let kept = coverage::kept(&test_db.db).await.unwrap();
        assert_eq!(
            kept,
            coverage::reference(&test_db.db).await.unwrap(),
            "chunks of {chunk}: kept tallies differ from the GROUP BY"
        );
        // María and Rosa in UTILES, Luis in UNIFOR (his UTILES request ended).
        assert_eq!(test_db.count("coverage_member").await, 3);
        seen.push(outcomes(&report));
    }
    assert_eq!(seen[0], seen[1], "the same outcomes whatever the chunk");
}

/// A chunk's new people get card numbers no one has: numbers taken in the registry, or drawn
/// twice in the chunk, are drawn again before the insert (random numbers collide like
/// birthdays: a 1,000,000-row import would otherwise meet hundreds of collisions, each failing
/// its whole chunk).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_people_get_card_numbers_no_one_has() {
    use sea_orm::{ActiveValue, IntoActiveModel};

    let test_db = angel_tests::TestDb::seeded().await;
    let state = state(&test_db).await;
    let eva = register_eva(&state, &test_db, &curp("SAGE700707MDFNMV0")).await;
    let taken = person::Entity::find_by_id(eva)
        .one(&test_db.db)
        .await
        .unwrap()
        .unwrap();
    let with_number = |n: &str| {
        let mut row = taken.clone().into_active_model();
        row.id = ActiveValue::NotSet;
        row.card_number = ActiveValue::Set(n.to_owned());
        row
    };
    let fresh = angel_app::domain::card::from_body([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let mut rows = vec![
        with_number(&taken.card_number),
        with_number(&fresh),
        with_number(&fresh),
        with_number(&taken.card_number),
    ];
    registry::free_card_numbers(&test_db.db, &mut rows)
        .await
        .expect("numbers drawn");
    let numbers: Vec<String> = rows
        .iter()
        .map(|r| r.card_number.clone().unwrap())
        .collect();
    assert_eq!(numbers[1], fresh, "a free number is kept");
    let distinct: std::collections::HashSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), 4, "{numbers:?}");
    assert!(!numbers.contains(&taken.card_number));
    for n in &numbers {
        assert_eq!(n.len(), 10);
        assert!(
            angel_app::domain::card::parse(n).is_ok(),
            "{n} has its check digit"
        );
    }
}

/// The same name makes a probable duplicate only with a near birth date (`likely_same`): the
/// same month and day in another year, two parts of the date the same, or a day apart (across
/// the new year too); one part alone is not enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_name_is_a_probable_duplicate_only_with_a_near_birth_date() {
    use angel_app::domain::{curp::Date, names::name_key};

    let test_db = angel_tests::TestDb::seeded().await;
    let state = state(&test_db).await;
    // Eva Sánchez Gómez, born 1970-07-07.
    let eva = register_eva(&state, &test_db, &curp("SAGE700707MDFNMV0")).await;
    let parts = registry::NameParts::new("Eva", "Sánchez", "Gómez");
    let key = name_key("Eva", "Sánchez", "Gómez");
    let found = |y, m, d, who: i32| {
        let (parts, key, db) = (&parts, &key, &test_db.db);
        async move {
            let date = Date::new(y, m, d).expect("a date");
            registry::probable_duplicates(db, parts, date, key)
                .await
                .expect("read")
                .iter()
                .any(|(p, _)| p.id == who)
        }
    };
    for (y, m, d, why) in [
        (1971, 7, 7, "the same month and day, another year"),
        (1960, 7, 7, "the same month and day, ten years apart"),
        (1970, 12, 7, "the same year and day"),
        (1970, 7, 20, "the same year and month"),
        (1970, 7, 8, "a day later"),
    ] {
        assert!(found(y, m, d, eva).await, "{why}: {y}-{m}-{d}");
    }
    for (y, m, d, why) in [
        (1970, 1, 20, "only the year is the same"),
        (1971, 8, 7, "only the day is the same"),
        (1969, 7, 6, "only the month is the same"),
        (1980, 1, 1, "nothing is the same"),
    ] {
        assert!(!found(y, m, d, eva).await, "{why}: {y}-{m}-{d}");
    }
    // A day apart across the new year: no part of the date is the same.
    let eve = register_eva_born(&state, &test_db, &curp("SAGE701231MDFNMV0"), "1970-12-31").await;
    assert!(
        found(1971, 1, 1, eve).await,
        "a day later, in the next year"
    );
    assert!(!found(1971, 1, 2, eve).await, "two days later");
}

/// Rows are imported by birth date (those whose date does not read first), in file order within
/// a date, so that a chunk holds a few birth dates (the duplicate search's cost, README P6); the
/// report names each row by its line in the file, and the same file again finds it all done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_imported_by_birth_date_and_reported_by_their_lines() {
    use sea_orm::QueryOrder;

    let test_db = angel_tests::TestDb::seeded().await;
    let state = state(&test_db).await;
    let text = "FOLIO;NOMBRE;PATERNO;MATERNO;FEC NAC;SEXO;CURP;ENTIDAD;DELEGACIÓN;COLONIA;CP;TEL;OBSERVACIONES\n\
         B1;Elena;Ruiz;;03/03/1990;2;;DF;Tlalpan;Centro;14000;;\n\
         B2;Diana;Ruiz;;02/02/1980;2;;DF;Tlalpan;Centro;14000;;\n\
         B3;Carmen;Ruiz;;31/02/1970;2;;DF;Tlalpan;Centro;14000;;\n\
         B4;Beatriz;Ruiz;;1980-02-02;2;;DF;Tlalpan;Centro;14000;;\n\
         B5;Ana;Ruiz;;01-01-60;2;;DF;Tlalpan;Centro;14000;;\n";
    let options = Options {
        chunk: 2,
        fuzzy: false,
        ..Options::default()
    };
    let (summary, report) = run(&state, &latin1(text), options).await;
    let mut order: Vec<(u64, String)> = report
        .iter()
        .map(|r| (r[0].parse().expect("a line number"), r[1].to_owned()))
        .collect();
    order.dedup();
    let expected = [
        (4, "refused"),
        (6, "created"),
        (3, "created"),
        (5, "created"),
        (2, "created"),
    ]
    .map(|(l, o)| (l, o.to_owned()));
    assert_eq!(order, expected);
    assert_eq!((summary.created, summary.refused), (4, 1));
    let born: Vec<String> = person::Entity::find()
        .order_by_asc(person::Column::Id)
        .all(&test_db.db)
        .await
        .expect("read")
        .iter()
        .map(|p| p.birth_date.to_string())
        .collect();
    assert_eq!(
        born,
        ["1960-01-01", "1980-02-02", "1980-02-02", "1990-03-03"]
    );

    let (again, _) = run(&state, &latin1(text), options).await;
    assert_eq!(
        (again.already_imported, again.new_people(), again.refused),
        (4, 0, 1)
    );
    assert_eq!(test_db.count("person").await, 4);
}
