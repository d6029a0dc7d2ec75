use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000002_create_borough::Borough;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Office::Table)
                    .col(pk_auto(Office::Id))
                    .col(string_len_uniq(Office::Code, 32))
                    .col(string(Office::Name))
                    .col(
                        string_len(Office::Kind, 16)
                            .check(Expr::cust("kind IN ('modulo', 'call_center', 'kiosk')")),
                    )
                    .col(integer_null(Office::BoroughId))
                    .col(text_null(Office::Address))
                    .col(text_null(Office::Hours))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_office_borough")
                            .from(Office::Table, Office::BoroughId)
                            .to(Borough::Table, Borough::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_office_borough")
                    .table(Office::Table)
                    .col(Office::BoroughId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Office::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Office {
    Table,
    Id,
    Code,
    Name,
    Kind,
    BoroughId,
    Address,
    Hours,
}
