//! Ratings collected by an agency's own channels (its call centre, its offices' surveys) and
//! sent through the agency API: `feedback.channel` accepts `agency` besides `account` and
//! `folio`. Reverting refuses while such ratings exist (they would be lost).

use sea_orm_migration::prelude::*;

use crate::helpers::replace_check;

const BEFORE: &str = "'account', 'folio'";
const AFTER: &str = "'account', 'folio', 'agency'";
const INDEXES: [&str; 1] =
    ["CREATE INDEX idx_feedback_program_office ON feedback (program_id, office_id)"];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_check(manager, ("feedback", "channel"), (BEFORE, AFTER), &INDEXES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::sea_orm::Statement;
        let found = manager
            .get_connection()
            .query_one_raw(Statement::from_string(
                manager.get_database_backend(),
                "SELECT COUNT(*) AS n FROM feedback WHERE channel = 'agency'",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if found > 0 {
            return Err(DbErr::Migration(format!(
                "{found} ratings came from agencies: reverting would lose them"
            )));
        }
        replace_check(manager, ("feedback", "channel"), (AFTER, BEFORE), &INDEXES).await
    }
}
