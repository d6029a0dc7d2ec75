//! Test support: a fresh database per test, on SQLite by default or on PostgreSQL when
//! `ANGEL_TEST_DATABASE_URL` points at a server (`make test` starts a private cluster and runs
//! the suite again with it), and the real application spawned on an ephemeral port.

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
    dir: TempDir,
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

/// The real application, serving on 127.0.0.1 on a port of its own.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub test_db: TestDb,
}

impl TestApp {
    /// The app over a migrated and seeded database.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_on(TestDb::seeded().await).await
    }

    /// The app over the given database, in whatever state it is.
    pub async fn spawn_on(test_db: TestDb) -> TestApp {
        let mut settings = test_db.settings.clone();
        settings.site_root = test_db.dir.path().join("site");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let addr = listener.local_addr().expect("local address");
        let app = angel_server::http::router(test_db.db.clone(), &settings);
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("test server");
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        TestApp {
            base: format!("http://{addr}"),
            client,
            test_db,
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
}
