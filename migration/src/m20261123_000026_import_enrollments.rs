//! The legacy import also brings an agency's program requests (issue 9): each run counts the
//! requests it created, found already in the registry, and found with another status (listed,
//! never overwritten), so a resumed run reports the whole file.

use sea_orm_migration::prelude::*;

const COLUMNS: [&str; 3] = [
    "enrollments_created",
    "enrollments_existing",
    "enrollment_conflicts",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for column in COLUMNS {
            db.execute_unprepared(&format!(
                "ALTER TABLE legacy_import ADD COLUMN {column} BIGINT NOT NULL DEFAULT 0 \
                 CHECK ({column} >= 0)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for column in COLUMNS {
            db.execute_unprepared(&format!("ALTER TABLE legacy_import DROP COLUMN {column}"))
                .await?;
        }
        Ok(())
    }
}
