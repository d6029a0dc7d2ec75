//! Test support: a fresh database per test, on SQLite by default or on PostgreSQL when
//! `ANGEL_TEST_DATABASE_URL` points at a server (`make test` starts a private cluster and runs
//! the suite again with it), and the real application spawned on an ephemeral port.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc};

use angel_app::ssr::clock::ManualClock;
use angel_migration::{Migrator, MigratorTrait};
use angel_server::config::Settings;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tempfile::TempDir;
use tokio::net::TcpListener;

/// The PostgreSQL server to test against (a URL to its `postgres` database), if any.
pub const PG_ENV: &str = "ANGEL_TEST_DATABASE_URL";

/// A database of its own for one test. The temporary directory lives as long as this value.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub dir: TempDir,
}

impl TestDb {
    /// An empty database: no tables.
    pub async fn empty() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut settings = Settings::for_data_dir(dir.path());
        if let Ok(admin_url) = std::env::var(PG_ENV) {
            settings.database_url = fresh_postgres_database(&admin_url).await;
        }
        let db = angel_server::db::connect(&settings)
            .await
            .expect("connect to the test database");
        // A key ring of its own, as `angel keygen` makes it.
        angel_app::ssr::vault::KeyRing::generate()
            .create_file(&settings.key_file)
            .expect("a key file");
        TestDb { db, settings, dir }
    }

    /// A database with every migration applied.
    pub async fn migrated() -> TestDb {
        let t = TestDb::empty().await;
        Migrator::up(&t.db, None).await.expect("migrations apply");
        t
    }

    /// Migrated and seeded with the reference catalog.
    pub async fn seeded() -> TestDb {
        let t = TestDb::migrated().await;
        angel_server::seed::run(&t.db).await.expect("seed runs");
        t
    }

    pub fn is_postgres(&self) -> bool {
        !self.settings.is_sqlite()
    }

    /// Rows in a table (table names come from the tests themselves, never from input).
    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count query")
            .expect("one row");
        row.try_get::<i64>("", "n").expect("count column")
    }

    /// Rows in every table of the schema, by table name.
    pub async fn row_counts(&self) -> BTreeMap<String, i64> {
        let backend = self.db.get_database_backend();
        let list = if self.is_postgres() {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        };
        let tables: Vec<String> = self
            .db
            .query_all_raw(Statement::from_string(backend, list))
            .await
            .expect("list the tables")
            .iter()
            .map(|r| r.try_get::<String>("", "name").expect("a table name"))
            .collect();
        let mut counts = BTreeMap::new();
        for t in tables {
            let n = self.count(&t).await;
            counts.insert(t, n);
        }
        counts
    }
}

/// Creates `angel_test_<random>` on the server and returns its URL. The cluster is private to
/// the test run and removed afterwards, so the databases are not dropped one by one.
async fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("angel_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url)
        .await
        .expect("connect to the PostgreSQL test server");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base)
        .unwrap_or(admin_url);
    format!("{base}/{name}")
}

/// The real application, serving on 127.0.0.1 on a port of its own, with a manual clock.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub test_db: TestDb,
    pub clock: ManualClock,
    /// The state the server runs on (what it is working on, its vault).
    pub state: angel_app::ssr::AppState,
}

/// A fixed start for the manual clock.
pub fn start_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .expect("valid time")
        .to_utc()
}

impl TestApp {
    /// The app over a migrated and seeded database.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_on(TestDb::seeded().await).await
    }

    /// The app over the given database, in whatever state it is.
    pub async fn spawn_on(test_db: TestDb) -> TestApp {
        let settings = test_db.settings.clone();
        TestApp::spawn_with(test_db, settings).await
    }

    /// The app with adjusted settings (production cookies, rate limits).
    pub async fn spawn_with(test_db: TestDb, mut settings: Settings) -> TestApp {
        settings.site_root = test_db.dir.path().join("site");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("local address");
        let clock = ManualClock::new(start_time());
        let mut state = angel_server::http::app_state(test_db.db.clone(), &settings)
            .await
            .expect("the application starts");
        state.clock = Arc::new(clock.clone());
        let app = angel_server::http::router_for(state.clone(), &settings);
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("test server");
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        TestApp {
            base: format!("http://{addr}"),
            client,
            test_db,
            clock,
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET a path and return status and body.
    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// An agency's id, by its code.
    pub async fn agency_id(&self, code: &str) -> i32 {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        angel_entity::agency::Entity::find()
            .filter(angel_entity::agency::Column::Code.eq(code))
            .one(&self.test_db.db)
            .await
            .expect("agency lookup")
            .expect("a seeded agency")
            .id
    }

    /// A browser of its own: a cookie jar and same-origin posts.
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            cookies: BTreeMap::new(),
        }
    }

    /// A browser signed in as a new staff account.
    pub async fn signed_in(
        &self,
        username: &str,
        role: &str,
        anchor: Anchor<'_>,
        password: &str,
    ) -> Browser<'_> {
        self.staff(username, role, anchor, password).await;
        let mut b = self.browser();
        b.sign_in(username, password).await;
        b
    }

    /// Creates a staff account with a password (directly in the database).
    pub async fn staff(
        &self,
        username: &str,
        role: &str,
        anchor: Anchor<'_>,
        password: &str,
    ) -> i32 {
        self.staff_with_hash(username, role, anchor, &hash(password))
            .await
    }

    pub async fn staff_with_hash(
        &self,
        username: &str,
        role: &str,
        anchor: Anchor<'_>,
        hash: &str,
    ) -> i32 {
        use angel_entity::{agency, office};
        use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
        let db = &self.test_db.db;
        let (agency_id, office_id) = match anchor {
            Anchor::None => (None, None),
            Anchor::Office(code) => {
                let o = office::Entity::find()
                    .filter(office::Column::Code.eq(code))
                    .one(db)
                    .await
                    .unwrap()
                    .expect("office");
                (None, Some(o.id))
            }
            Anchor::Agency(code) => {
                let a = agency::Entity::find()
                    .filter(agency::Column::Code.eq(code))
                    .one(db)
                    .await
                    .unwrap()
                    .expect("agency");
                (Some(a.id), None)
            }
        };
        let valid = angel_app::staff::forms::ValidStaff {
            username: username.to_owned(),
            display_name: format!("Persona {username}"),
            role: angel_app::domain::access::Role::from_code(role).expect("a role code"),
            agency_id,
            office_id,
        };
        use angel_app::ssr::services::staff::{Credential, new_account};
        new_account(&valid, Credential::Password(hash.to_owned()), start_time())
            .insert(db)
            .await
            .expect("insert staff")
            .id
    }
}

/// Where a test account is anchored.
#[derive(Debug, Clone, Copy)]
pub enum Anchor<'a> {
    None,
    Office(&'a str),
    Agency(&'a str),
}

/// An Argon2id hash with the production parameters.
pub fn hash(password: &str) -> String {
    angel_app::ssr::auth::hasher::hash_with(password, 19 * 1024, 2)
}

/// A response read whole.
#[derive(Debug)]
pub struct Page {
    pub status: reqwest::StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
}

/// A browser: keeps cookies, sends `Origin` on posts as browsers do.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: BTreeMap<String, String>,
}

impl Browser<'_> {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        for line in headers.get_all("set-cookie") {
            let line = line.to_str().unwrap_or_default();
            let pair = line.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                let expired = line.to_ascii_lowercase().contains("max-age=0");
                if value.is_empty() || expired {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
        Page {
            status,
            headers,
            body: response.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.read(response).await
    }

    /// A post from a page of this origin, with the given extra headers.
    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Page {
        let mut request = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("form"));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.expect("POST");
        self.read(response).await
    }

    /// A no-JS form post: same origin and the CSRF token (fetched from a page when missing).
    pub async fn submit(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.csrf().await;
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend_from_slice(form);
        let origin = self.app.base.clone();
        self.post_with(path, &fields, Some(&origin)).await
    }

    /// A no-JS multipart form post (a file upload): same origin, the CSRF token as a field
    /// unless `csrf` is false, then the fields and the files `(field, file name, bytes)`.
    pub async fn upload(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
        csrf: bool,
    ) -> Page {
        const BOUNDARY: &str = "angel-test-boundary-7MA4YWxkTrZu0gW";
        let token = self.csrf().await;
        let mut body: Vec<u8> = Vec::new();
        let mut part = |headers: String, value: &[u8]| {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        };
        if csrf {
            part(
                "Content-Disposition: form-data; name=\"csrf\"".to_owned(),
                token.as_bytes(),
            );
        }
        for (name, value) in fields {
            part(
                format!("Content-Disposition: form-data; name=\"{name}\""),
                value.as_bytes(),
            );
        }
        for (name, file_name, bytes) in files {
            part(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: text/csv"
                ),
                bytes,
            );
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", self.cookie_header())
            .header("origin", self.app.base.clone())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .expect("POST");
        self.read(response).await
    }

    /// A server function call from the hydrated app.
    pub async fn call(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let origin = self.app.base.clone();
        self.post_with(path, form, Some(&origin)).await
    }

    /// The CSRF token, from the cookie (a GET of the sign-in page issues it).
    pub async fn csrf(&mut self) -> String {
        if !self.cookies.contains_key("angel_csrf") {
            self.get("/entrar").await;
        }
        self.cookies
            .get("angel_csrf")
            .cloned()
            .expect("CSRF cookie issued")
    }

    /// Signs in through the form; panics unless it redirects.
    pub async fn sign_in(&mut self, username: &str, password: &str) -> Page {
        let page = self
            .submit("/entrar", &[("username", username), ("password", password)])
            .await;
        assert_eq!(
            page.status,
            reqwest::StatusCode::SEE_OTHER,
            "sign-in of {username}: {}",
            page.body
        );
        page
    }
}

/// A complete intake form for a person, without CURP unless one is added.
pub fn person_form<'a>(
    given: &'a str,
    first: &'a str,
    second: &'a str,
    birth: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("given_names", given),
        ("first_surname", first),
        ("second_surname", second),
        ("birth_date", birth),
        ("sex", "M"),
        ("birth_state", "DF"),
        ("borough", "09007"),
        ("colonia", "Santa Cruz Meyehualco"),
        ("postal_code", "09290"),
        ("street", "Calle Uno 23"),
        ("phone", "55 1234 5678"),
    ]
}

impl Browser<'_> {
    /// Registers a person through the intake form and returns their id (follows the 303 to the
    /// profile, new or existing).
    pub async fn register(&mut self, form: &[(&str, &str)]) -> i32 {
        let page = self.submit("/oficina/personas/nueva", form).await;
        assert_eq!(page.status, reqwest::StatusCode::SEE_OTHER, "{}", page.body);
        page.header("location")
            .strip_prefix("/oficina/persona/")
            .and_then(|id| id.parse().ok())
            .expect("redirect to the profile")
    }
}

impl TestDb {
    /// Everything stored about people, as text: on SQLite the database file and its WAL, byte
    /// for byte; on PostgreSQL every row of the tables that hold personal data or secrets. A
    /// value found in it is stored in clear.
    pub async fn stored_text(&self) -> String {
        if self.is_postgres() {
            let mut all = String::new();
            for table in [
                "person",
                "person_contact",
                "person_identifier",
                "audit_event",
                "vault_canary",
                "legacy_link",
                "legacy_import",
                "api_client",
                "api_idempotency",
                "feedback",
                "case_note",
            ] {
                let rows = self
                    .db
                    .query_all_raw(Statement::from_string(
                        self.db.get_database_backend(),
                        format!("SELECT t::text AS row FROM {table} t"),
                    ))
                    .await
                    .expect("read a table");
                for row in rows {
                    all.push_str(&row.try_get::<String>("", "row").expect("a text row"));
                }
            }
            all
        } else {
            let dir = self.dir.path();
            let mut bytes = std::fs::read(dir.join("angel.db")).expect("the database file");
            bytes.extend(std::fs::read(dir.join("angel.db-wal")).unwrap_or_default());
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }

    /// The id of the program with this code.
    pub async fn program_id(&self, code: &str) -> i32 {
        use angel_entity::program;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        program::Entity::find()
            .filter(program::Column::Code.eq(code))
            .one(&self.db)
            .await
            .expect("read programs")
            .expect("a seeded program")
            .id
    }
}

impl TestApp {
    /// The id of the program with this code.
    pub async fn program_id(&self, code: &str) -> i32 {
        self.test_db.program_id(code).await
    }
}

impl Browser<'_> {
    /// COMCOM (open to everyone) requested for `person` through the ALIMENTACION life event at
    /// the signed-in caseworker's office; the new request.
    pub async fn request_comcom(&mut self, person: i32) -> angel_entity::enrollment::Model {
        use angel_entity::enrollment;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let pick = format!("{person}:{}", self.app.program_id("COMCOM").await);
        let page = self
            .submit(
                &format!("/oficina/persona/{person}/que-paso"),
                &[
                    ("do", "request"),
                    ("evento", "ALIMENTACION"),
                    ("pick", &pick),
                ],
            )
            .await;
        assert_eq!(page.status, reqwest::StatusCode::SEE_OTHER, "{}", page.body);
        enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.eq(person))
            .order_by_desc(enrollment::Column::Id)
            .one(&self.app.test_db.db)
            .await
            .expect("read requests")
            .expect("the new request")
    }
}

impl Browser<'_> {
    /// PAAM requested for `person` through the CUMPLI_68 life event with the signed-in
    /// supervisor's override (whatever the person's age); the new request.
    pub async fn request_paam_override(&mut self, person: i32) -> angel_entity::enrollment::Model {
        use angel_entity::enrollment;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let paam = self.app.program_id("PAAM").await;
        let pick = format!("{person}:{paam}");
        let page = self
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
        assert_eq!(page.status, reqwest::StatusCode::SEE_OTHER, "{}", page.body);
        enrollment::Entity::find()
            .filter(enrollment::Column::PersonId.eq(person))
            .filter(enrollment::Column::ProgramId.eq(paam))
            .order_by_desc(enrollment::Column::Id)
            .one(&self.app.test_db.db)
            .await
            .expect("read requests")
            .expect("the new request")
    }
}
