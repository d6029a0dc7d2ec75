//! `/admin/importar` on SQLite and PostgreSQL, through the real server: an administrator
//! uploads an agency's file (multipart, no JavaScript), sees the preview (nothing written),
//! confirms, and the import runs in the background; the file is kept sealed and dropped
//! afterwards; a bad file is refused whole and nothing is kept; only administrators may upload,
//! and only with the CSRF token; a preview left unconfirmed expires.

use angel_app::domain::curp::check_digit;
use angel_entity::{audit_event, enrollment, legacy_upload};
use angel_tests::{Anchor, Browser, Page, TestApp};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const PASSWORD: &str = "una contraseña larga de prueba";

fn curp(first17: &str) -> String {
    format!(
        "{first17}{}",
        check_digit(first17).expect("CURP characters")
    )
}

/// A well-formed file uploaded by `browser` for `agency`: its page's answer.
async fn upload_file(browser: &mut Browser<'_>, agency: &str, file: &[u8]) -> Page {
    browser
        .upload(
            "/admin/importar",
            &[("agency", agency)],
            &[("file", "padron.csv", file)],
            true,
        )
        .await
}

/// The upload's id, from the redirect to its page.
fn upload_id(page: &Page) -> i32 {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    page.header("location")
        .strip_prefix("/admin/importar/")
        .and_then(|id| id.parse().ok())
        .expect("a redirect to the upload's page")
}

/// Reads the upload's page until its status is `want` (the step runs in the background; at
/// most 20 s).
async fn wait_for(browser: &mut Browser<'_>, id: i32, want: &str) -> Page {
    let marker = format!(r#"data-status="{want}""#);
    for _ in 0..200 {
        let page = browser.get(&format!("/admin/importar/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if page.body.contains(&marker) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("upload {id} never reached {want}");
}

/// A well-formed file of one person, in our own headers.
const ONE_ROW: &str = "given_names,first_surname,birth_date,sex,birth_state,borough,colonia,postal_code\n\
                       Luis,Gómez,01/01/1980,H,DF,Tlalpan,Centro,14000\n";

/// An administrator signed in, and SEDESO's id (the agency the tests upload for).
async fn administrator(app: &TestApp) -> (Browser<'_>, String) {
    let admin = app
        .signed_in("i.admin", "administrator", Anchor::None, PASSWORD)
        .await;
    (admin, app.agency_id("SEDESO").await.to_string())
}

/// An administrator's upload of a one-row file for SEDESO, previewed: the administrator, the
/// upload's id and its previewed page.
async fn previewed_one_row(app: &TestApp) -> (Browser<'_>, i32, Page) {
    let (mut admin, sedeso) = administrator(app).await;
    let id = upload_id(&upload_file(&mut admin, &sedeso, ONE_ROW.as_bytes()).await);
    let page = wait_for(&mut admin, id, "previewed").await;
    (admin, id, page)
}

fn count(page: &Page, key: &str) -> u64 {
    let marker = format!(r#"data-count="{key}">"#);
    let start = page.body.find(&marker).expect(key) + marker.len();
    let end = start + page.body[start..].find('<').unwrap();
    page.body[start..end].parse().expect("a count")
}

async fn upload_row(app: &TestApp, id: i32) -> legacy_upload::Model {
    legacy_upload::Entity::find_by_id(id)
        .one(&app.test_db.db)
        .await
        .unwrap()
        .unwrap()
}

async fn actions(app: &TestApp, action: &str) -> usize {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .all(&app.test_db.db)
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_uploads_previews_then_imports_a_file() {
    let app = TestApp::spawn().await;
    let (mut admin, sedeso) = administrator(&app).await;
    let curp_maria = curp("PERM500305MDFXZR0");
    let file = format!(
        "given_names,first_surname,birth_date,sex,curp,birth_state,borough,colonia,postal_code,program,status\n\
         María,Peña,05/03/1950,mujer,{curp_maria},,Iztapalapa,Centro,09000,UTILES,activo\n\
         Luis,Gómez,01/01/1980,hombre,,DF,Tlalpan,Centro,14000,,\n\
         Rosa,Díaz,31/02/1975,mujer,,DF,Coyoacán,Centro,04100,,\n"
    );

    let page = admin.get("/admin/importar").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(r#"enctype="multipart/form-data""#));
    let people = app.test_db.count("person").await;

    let posted = admin
        .upload(
            "/admin/importar",
            &[("agency", &sedeso), ("fuzzy", "on")],
            &[("file", "padron.csv", file.as_bytes())],
            true,
        )
        .await;
    let id = upload_id(&posted);
    // Kept sealed: no CURP or name in clear in the row.
    let row = upload_row(&app, id).await;
    let stored = row.file.expect("the file is kept until it is imported");
    for clear in [curp_maria.as_bytes(), "Peña".as_bytes(), b"Tlalpan"] {
        assert!(
            !stored.windows(clear.len()).any(|w| w == clear),
            "the stored file shows {}",
            String::from_utf8_lossy(clear)
        );
    }

    // The preview: what the import will do, nothing written.
    let preview = wait_for(&mut admin, id, "previewed").await;
    assert_eq!(
        app.test_db.count("person").await,
        people,
        "a preview writes nothing"
    );
    assert_eq!(app.test_db.count("enrollment").await, 0);
    assert_eq!(
        (
            count(&preview, "rows"),
            count(&preview, "created"),
            count(&preview, "refused"),
            count(&preview, "requests_created")
        ),
        (3, 2, 1, 1)
    );
    assert!(preview.body.contains(r#"data-outcome="refused""#));
    assert!(preview.body.contains("date_impossible") || preview.body.contains("no existe"));
    assert!(preview.body.contains(&format!(
        "{}************{}",
        &curp_maria[..4],
        &curp_maria[16..]
    )));
    for secret in [curp_maria.as_str(), "PEÑA", "Peña", "GÓMEZ"] {
        assert!(!preview.body.contains(secret), "the page shows {secret}");
    }
    assert!(preview.body.contains(r#"data-action="confirm""#));

    // Confirmed: imported in the background, the file dropped, the report kept.
    let confirmed = admin
        .submit(&format!("/admin/importar/{id}"), &[("action", "confirm")])
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
    let done = wait_for(&mut admin, id, "done").await;
    assert_eq!(count(&done, "created"), 2);
    assert_eq!(app.test_db.count("person").await, people + 2);
    let requests = enrollment::Entity::find()
        .all(&app.test_db.db)
        .await
        .unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, "active");
    assert!(
        done.body.contains(&requests[0].folio),
        "the new folio is on the page"
    );
    let row = upload_row(&app, id).await;
    assert_eq!(row.file, None, "the file is dropped once imported");
    assert!(row.import_id.is_some());
    assert!(row.confirmed_at.is_some() && row.finished_at.is_some());

    // A second confirmation finds it imported.
    let again = admin
        .submit(&format!("/admin/importar/{id}"), &[("action", "confirm")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // The whole report as CSV: codes, masked IDs and folios, no names.
    let csv = admin
        .get(&format!("/admin/importar/{id}/informe.csv"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.body.starts_with("linea_line,resultado_outcome"));
    assert!(csv.body.contains("request_created"));
    assert!(csv.body.contains(&requests[0].folio));
    for secret in [curp_maria.as_str(), "PEÑA", "Peña", "LUIS"] {
        assert!(!csv.body.contains(secret), "the report shows {secret}");
    }

    // The list shows it; every step is audited under the administrator.
    let list = admin.get("/admin/importar").await;
    assert!(list.body.contains(&format!(r#"data-upload="{id}""#)));
    for action in [
        "legacy.uploaded",
        "legacy.confirmed",
        "legacy.report_downloaded",
        "legacy.imported",
    ] {
        assert_eq!(actions(&app, action).await, 1, "{action}");
    }
    let verdict = angel_app::ssr::audit::verify(&app.test_db.db)
        .await
        .unwrap();
    assert!(
        matches!(verdict, angel_app::ssr::audit::Verdict::Intact(_)),
        "{verdict}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_keep_nothing_and_only_administrators_upload() {
    let app = TestApp::spawn().await;
    let (mut admin, sedeso) = administrator(&app).await;
    let good = ONE_ROW;

    // A header that is not ours and no mapping: refused whole, every problem listed.
    let page = upload_file(&mut admin, &sedeso, b"NOMBRE,PATERNO\nLuis,G\xf3mez\n").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains(r#"data-code="header_unknown""#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"data-code="column_missing""#));
    // A mapping that is not TOML.
    let page = admin
        .upload(
            "/admin/importar",
            &[("agency", &sedeso), ("mapping", "[columns\nNOMBRE =")],
            &[("file", "x.csv", good.as_bytes())],
            true,
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(r#"data-code="mapping_syntax""#));
    // No agency, no file: both fields named.
    let page = admin.upload("/admin/importar", &[], &[], true).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("#f-agency") && page.body.contains("#f-file"));
    // An agency that does not exist.
    let page = upload_file(&mut admin, "99999", good.as_bytes()).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("#f-agency"));
    // Too large for the browser: 413 before anything is read into the application.
    let big = vec![b'a'; angel_app::ssr::services::uploads::MAX_UPLOAD_BYTES + 300 * 1024];
    let page = upload_file(&mut admin, &sedeso, &big).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Without the CSRF field.
    let page = admin
        .upload(
            "/admin/importar",
            &[("agency", &sedeso)],
            &[("file", "x.csv", good.as_bytes())],
            false,
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // Another role, or nobody.
    let mut head = app
        .signed_in("i.jefa", "agency_head", Anchor::Agency("SEDESO"), PASSWORD)
        .await;
    let page = upload_file(&mut head, &sedeso, good.as_bytes()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let mut nobody = app.browser();
    let page = upload_file(&mut nobody, &sedeso, good.as_bytes()).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.test_db.count("legacy_upload").await, 0, "nothing kept");

    // Discarded: the file dropped, nothing imported, no confirming it afterwards.
    let people = app.test_db.count("person").await;
    let id = upload_id(&upload_file(&mut admin, &sedeso, good.as_bytes()).await);
    wait_for(&mut admin, id, "previewed").await;
    let page = admin
        .submit(&format!("/admin/importar/{id}"), &[("action", "discard")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    wait_for(&mut admin, id, "discarded").await;
    assert_eq!(upload_row(&app, id).await.file, None);
    let page = admin
        .submit(&format!("/admin/importar/{id}"), &[("action", "confirm")])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    let page = admin
        .submit(&format!("/admin/importar/{id}"), &[("action", "explode")])
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A preview left a day unconfirmed expires: its file is dropped when the list is read, and
    // it can no longer be confirmed.
    let id = upload_id(&upload_file(&mut admin, &sedeso, good.as_bytes()).await);
    wait_for(&mut admin, id, "previewed").await;
    app.clock.advance(chrono::TimeDelta::hours(25));
    // A day later the session is over too.
    admin.sign_in("i.admin", PASSWORD).await;
    let list = admin.get("/admin/importar").await;
    assert!(
        list.body
            .contains(&format!(r#"data-upload="{id}" data-status="expired""#))
    );
    assert_eq!(upload_row(&app, id).await.file, None);
    let page = admin
        .submit(&format!("/admin/importar/{id}"), &[("action", "confirm")])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert_eq!(
        app.test_db.count("person").await,
        people,
        "nothing imported"
    );
}

/// A step no server is working on any more (the server restarted mid-way) shows "resume": a
/// preview runs again, a confirmed import goes on and finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_step_is_resumed_from_the_page() {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

    let app = TestApp::spawn().await;
    let (mut admin, id, _) = previewed_one_row(&app).await;
    let people = app.test_db.count("person").await;

    // As if the server had stopped during the preview: the status says previewing, no one works.
    let set_status = |status: &'static str, confirmed: bool| {
        let db = app.test_db.db.clone();
        async move {
            let mut row = legacy_upload::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .into_active_model();
            row.status = Set(status.to_owned());
            if confirmed {
                row.confirmed_at = Set(Some(angel_tests::start_time()));
            }
            row.update(&db).await.unwrap();
        }
    };
    set_status("previewing", false).await;
    let page = wait_for(&mut admin, id, "previewing").await;
    assert!(
        page.body.contains(r#"data-action="resume""#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"data-action="confirm""#));
    let resumed = admin
        .submit(&format!("/admin/importar/{id}"), &[("action", "resume")])
        .await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER, "{}", resumed.body);
    wait_for(&mut admin, id, "previewed").await;
    assert_eq!(app.test_db.count("person").await, people, "still a preview");

    // As if it had stopped during the confirmed import.
    set_status("running", true).await;
    let page = wait_for(&mut admin, id, "running").await;
    assert!(page.body.contains(r#"data-action="resume""#));
    let resumed = admin
        .submit(&format!("/admin/importar/{id}"), &[("action", "resume")])
        .await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER);
    wait_for(&mut admin, id, "done").await;
    assert_eq!(app.test_db.count("person").await, people + 1);
    assert_eq!(upload_row(&app, id).await.file, None);
    assert_eq!(actions(&app, "legacy.resumed").await, 2);
}

/// An upload of several megabytes (beyond multipart's own 2 MB default) is read whole: its
/// CSRF field is found and its file kept and previewed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_of_several_megabytes_is_read_whole() {
    let app = TestApp::spawn().await;
    let (mut admin, sedeso) = administrator(&app).await;
    let file = format!(
        "given_names,first_surname,birth_date,sex,birth_state,borough,colonia,postal_code,street\n\
         Luis,Gómez,01/01/1980,H,DF,Tlalpan,Centro,14000,{}\n",
        "Calle ".repeat(600_000)
    );
    assert!(file.len() > 3_000_000);
    let id = upload_id(&upload_file(&mut admin, &sedeso, file.as_bytes()).await);
    assert_eq!(upload_row(&app, id).await.bytes, file.len() as i64);
    let preview = wait_for(&mut admin, id, "previewed").await;
    assert_eq!(
        (count(&preview, "rows"), count(&preview, "refused")),
        (1, 1)
    );
}

/// While the server works on an upload its page asks the browser to read it again in 2 s, in
/// the HTTP answer itself (no JavaScript, nothing streamed); once the work is over it does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_of_an_upload_being_worked_on_refreshes_itself() {
    use angel_app::ssr::services::uploads::Work;

    let app = TestApp::spawn().await;
    let (mut admin, id, _) = previewed_one_row(&app).await;
    // The page that first showed "previewed" may have been rendered as the work ended (one last
    // refresh); the work was over before the status was written, so this one is not.
    let done = admin.get(&format!("/admin/importar/{id}")).await;
    assert_eq!(done.header("refresh"), "", "nothing left to wait for");

    // As while a preview or an import runs: this server holds the upload.
    let work = Work::claim(&app.state, id).expect("no one works on it now");
    let working = admin.get(&format!("/admin/importar/{id}")).await;
    assert_eq!(working.status, StatusCode::OK);
    assert_eq!(working.header("refresh"), "2");
    assert!(working.body.contains("<progress"), "{}", working.body);
    // Another upload's page, or the list, does not refresh.
    assert_eq!(admin.get("/admin/importar").await.header("refresh"), "");
    drop(work);
    assert_eq!(
        admin
            .get(&format!("/admin/importar/{id}"))
            .await
            .header("refresh"),
        ""
    );
}
