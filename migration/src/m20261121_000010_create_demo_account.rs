use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Demo staff credentials, in clear on purpose: only `angel seed --demo` writes rows here, and
/// the sign-in page lists them (and says it is a demo) only when there are any. A production
/// database leaves this table empty.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DemoAccount::Table)
                    .col(string_len(DemoAccount::Username, 64).primary_key())
                    .col(string_len(DemoAccount::Password, 128))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DemoAccount::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DemoAccount {
    Table,
    Username,
    Password,
}
