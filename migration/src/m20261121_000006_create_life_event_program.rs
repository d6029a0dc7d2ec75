use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000004_create_program::Program;
use crate::m20261121_000005_create_life_event::LifeEvent;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LifeEventProgram::Table)
                    .col(integer(LifeEventProgram::LifeEventId))
                    .col(integer(LifeEventProgram::ProgramId))
                    .col(integer(LifeEventProgram::Position))
                    .primary_key(
                        Index::create()
                            .col(LifeEventProgram::LifeEventId)
                            .col(LifeEventProgram::ProgramId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_life_event_program_event")
                            .from(LifeEventProgram::Table, LifeEventProgram::LifeEventId)
                            .to(LifeEvent::Table, LifeEvent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_life_event_program_program")
                            .from(LifeEventProgram::Table, LifeEventProgram::ProgramId)
                            .to(Program::Table, Program::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_life_event_program_program")
                    .table(LifeEventProgram::Table)
                    .col(LifeEventProgram::ProgramId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LifeEventProgram::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LifeEventProgram {
    Table,
    LifeEventId,
    ProgramId,
    Position,
}
