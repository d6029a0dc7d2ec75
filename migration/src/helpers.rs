//! Builders several migrations share (they build the same statements as writing them out).

use sea_orm_migration::prelude::*;

/// A named foreign key from `(table, column)` to `(table, column)`.
pub(crate) fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

/// Replaces the `IN (…)` list of the CHECK on `table.column`, `from` by `to` (both the text
/// inside the parentheses). PostgreSQL alters the constraint (named `<table>_<column>_check`);
/// SQLite cannot, so the table is rebuilt from its own stored definition with the new list, its
/// rows copied, and `indexes` (the table's `CREATE INDEX` statements) made again. Nothing else
/// may reference the table with a foreign key.
pub(crate) async fn replace_check(
    manager: &SchemaManager<'_>,
    (table, column): (&str, &str),
    (from, to): (&str, &str),
    indexes: &[&str],
) -> Result<(), DbErr> {
    use sea_orm_migration::sea_orm::{DatabaseBackend, Statement};
    let db = manager.get_connection();
    let constraint = format!("{table}_{column}_check");
    match manager.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.execute_unprepared(&format!("ALTER TABLE {table} DROP CONSTRAINT {constraint}"))
                .await?;
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {constraint} CHECK ({column} IN ({to}))"
            ))
            .await?;
        }
        backend => {
            let row = db
                .query_one_raw(Statement::from_string(
                    backend,
                    format!(
                        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
                    ),
                ))
                .await?
                .ok_or_else(|| DbErr::Migration(format!("{table} is missing")))?;
            let sql: String = row.try_get("", "sql")?;
            if !sql.contains(from) {
                return Err(DbErr::Migration(format!(
                    "{table}: the {column} check is not the expected one: {sql}"
                )));
            }
            let rebuilt = sql.replacen(from, to, 1).replacen(
                &format!("\"{table}\""),
                &format!("\"{table}_rebuilt\""),
                1,
            );
            // One call, so one connection of the pool runs the whole rebuild.
            db.execute_unprepared(&format!(
                "{rebuilt}; \
                 INSERT INTO {table}_rebuilt SELECT * FROM {table}; \
                 DROP TABLE {table}; \
                 ALTER TABLE {table}_rebuilt RENAME TO {table}; \
                 {}",
                indexes.join("; ")
            ))
            .await?;
        }
    }
    Ok(())
}
