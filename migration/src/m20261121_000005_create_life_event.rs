use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LifeEvent::Table)
                    .col(pk_auto(LifeEvent::Id))
                    .col(string_len_uniq(LifeEvent::Code, 32))
                    .col(string(LifeEvent::LabelEs))
                    .col(string(LifeEvent::LabelEn))
                    .col(integer(LifeEvent::Position))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LifeEvent::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum LifeEvent {
    Table,
    Id,
    Code,
    LabelEs,
    LabelEn,
    Position,
}
