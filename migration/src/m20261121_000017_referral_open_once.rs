//! At most one open referral of a person to a program, whatever races: the service checks first
//! and answers with a field error; this index is what holds when two caseworkers refer at once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_referral_open ON referral (person_id, program_id) \
                 WHERE status = 'open'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX uq_referral_open")
            .await?;
        Ok(())
    }
}
