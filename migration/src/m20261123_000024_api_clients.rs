//! The agency API (issue 9): the clients agency systems call it with, and the responses kept
//! for `Idempotency-Key` replays.
//!
//! A client belongs to one agency and acts through its own staff row (role `agency_staff`, no
//! password, no activation token: it can never sign in to the screens), so every call is
//! scoped and audited exactly as that agency's staff. The secret is shown once; only its
//! SHA-256 is kept (256 random bits: a slow hash adds nothing and would cost every call).

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::fk;
use crate::m20261121_000001_create_agency::Agency;
use crate::m20261121_000007_create_staff::Staff;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiClient::Table)
                    .col(pk_auto(ApiClient::Id))
                    .col(integer(ApiClient::AgencyId))
                    .col(integer_uniq(ApiClient::StaffId))
                    .col(string_len(ApiClient::Name, 80))
                    // The public half of the credential (`angel_<key_id>_<secret>`).
                    .col(string_len_uniq(ApiClient::KeyId, 16))
                    .col(string_len(ApiClient::SecretSha256, 64))
                    // The administrator; empty when made with `angel api client`.
                    .col(integer_null(ApiClient::CreatedBy))
                    .col(timestamp_with_time_zone(ApiClient::CreatedAt))
                    .col(timestamp_with_time_zone(ApiClient::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiClient::RevokedAt))
                    .col(timestamp_with_time_zone_null(ApiClient::LastUsedAt))
                    .foreign_key(&mut fk(
                        "fk_api_client_agency",
                        (ApiClient::Table, ApiClient::AgencyId),
                        (Agency::Table, Agency::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_api_client_staff",
                        (ApiClient::Table, ApiClient::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_api_client_created_by",
                        (ApiClient::Table, ApiClient::CreatedBy),
                        (Staff::Table, Staff::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiIdempotency::Table)
                    .col(integer(ApiIdempotency::ClientId))
                    .col(string_len(ApiIdempotency::Key, 128))
                    // SHA-256 of method, path and body: the same key with another body is 422.
                    .col(string_len(ApiIdempotency::RequestSha256, 64))
                    .col(integer(ApiIdempotency::Status))
                    .col(text(ApiIdempotency::Body))
                    .col(timestamp_with_time_zone(ApiIdempotency::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ApiIdempotency::ClientId)
                            .col(ApiIdempotency::Key),
                    )
                    .foreign_key(&mut fk(
                        "fk_api_idempotency_client",
                        (ApiIdempotency::Table, ApiIdempotency::ClientId),
                        (ApiClient::Table, ApiClient::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_idempotency_created")
                    .table(ApiIdempotency::Table)
                    .col(ApiIdempotency::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiIdempotency::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ApiClient::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ApiClient {
    Table,
    Id,
    AgencyId,
    StaffId,
    Name,
    KeyId,
    SecretSha256,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum ApiIdempotency {
    Table,
    ClientId,
    Key,
    RequestSha256,
    Status,
    Body,
    CreatedAt,
}
