//! Indexes measured at 1.2M people / 2M requests (`make bench`):
//!
//! - the agency queue (an agency's programs, statuses awaiting work, most escalated then
//!   earliest due first, optionally by borough, overdue or escalated) reads its page and its
//!   count from one index holding every column it filters and sorts on, instead of one table
//!   row per request in the queue; the due date comes before the level so that "overdue" is a
//!   range of it; it replaces the (program, status) index, its prefix;
//! - the escalation job looks for requests below a level past a cutoff: by status, level and
//!   due date it reads only those, not every overdue request already at level 3.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_enrollment_program_status")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_enrollment_queue ON enrollment \
             (program_id, status, due_on, escalation_level, person_id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_enrollment_escalation_due ON enrollment \
             (status, escalation_level, due_on)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_enrollment_escalation_due")
            .await?;
        db.execute_unprepared("DROP INDEX idx_enrollment_queue")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_enrollment_program_status ON enrollment (program_id, status)",
        )
        .await?;
        Ok(())
    }
}
