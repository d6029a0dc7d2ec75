//! Opening the database: SQLite (WAL, foreign keys, durable commits) or PostgreSQL.

use std::time::Duration;

use angel_migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::config::Settings;

/// Connects, creating the data directory and the SQLite file on first use.
///
/// # Errors
/// `DbErr` when the directory cannot be created or the database cannot be reached.
pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(settings.database_url.clone());
    // sea-orm's statement logging would print bound values: personal data. Off.
    options
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10));
    if settings.is_sqlite() {
        std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create data directory {}: {e}",
                settings.data_dir.display()
            ))
        })?;
        options
            .max_connections(8)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    // A system of record: a commit survives a power cut.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
    } else {
        options.max_connections(16);
    }
    Database::connect(options).await
}

/// Names of migrations not yet applied (empty when the schema is current).
///
/// # Errors
/// `DbErr` when the migration table cannot be read.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(Migrator::get_pending_migrations_read_only(db)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect())
}
