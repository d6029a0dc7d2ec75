use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agency::Table)
                    .col(pk_auto(Agency::Id))
                    .col(string_len_uniq(Agency::Code, 16))
                    .col(string(Agency::NameEs))
                    .col(string(Agency::NameEn))
                    .col(integer_null(Agency::ParentId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agency_parent")
                            .from(Agency::Table, Agency::ParentId)
                            .to(Agency::Table, Agency::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Agency::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Agency {
    Table,
    Id,
    Code,
    NameEs,
    NameEn,
    ParentId,
}
