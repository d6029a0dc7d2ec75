use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One sealed constant per key version, opened at every start: a missing or wrong key refuses
/// to run before anything is read or written (app/src/ssr/vault).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VaultCanary::Table)
                    .col(integer(VaultCanary::KeyVersion).primary_key())
                    .col(blob(VaultCanary::Envelope))
                    // HMAC of a constant under the blind-index key: detects a wrong one.
                    .col(blob(VaultCanary::BlindCheck))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(VaultCanary::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum VaultCanary {
    Table,
    KeyVersion,
    Envelope,
    BlindCheck,
}
