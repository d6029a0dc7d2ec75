//! Files uploaded at `/admin/importar` (issue 9): kept, sealed, between the preview and the
//! administrator's confirmation, and dropped once imported or discarded. The file (names,
//! CURPs, addresses in clear) and the report (masked IDs) are vault envelopes bound to the row;
//! the mapping (headers and codes only) and the counts are plain.

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
                    .table(LegacyUpload::Table)
                    .col(pk_auto(LegacyUpload::Id))
                    .col(integer(LegacyUpload::AgencyId))
                    .col(integer(LegacyUpload::StaffId))
                    .col(string_len(LegacyUpload::FileSha256, 64))
                    .col(big_integer(LegacyUpload::Bytes).check(Expr::cust("bytes >= 0")))
                    .col(big_integer(LegacyUpload::Rows).check(Expr::cust("rows >= 0")))
                    .col(boolean(LegacyUpload::Fuzzy))
                    .col(text_null(LegacyUpload::Mapping))
                    // Sealed; NULL once imported or discarded.
                    .col(blob_null(LegacyUpload::File))
                    // Sealed report CSV: the preview's, then the import's.
                    .col(blob_null(LegacyUpload::Report))
                    // The counts (JSON), the preview's then the import's.
                    .col(text_null(LegacyUpload::Summary))
                    .col(string_len(LegacyUpload::Status, 16).check(Expr::cust(
                        "status IN ('previewing', 'previewed', 'running', 'done', \
                             'failed', 'discarded')",
                    )))
                    .col(integer_null(LegacyUpload::ImportId))
                    .col(timestamp_with_time_zone(LegacyUpload::CreatedAt))
                    .col(timestamp_with_time_zone_null(LegacyUpload::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(LegacyUpload::FinishedAt))
                    .foreign_key(&mut fk(
                        "fk_legacy_upload_agency",
                        (LegacyUpload::Table, LegacyUpload::AgencyId),
                        (Agency::Table, Agency::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_legacy_upload_staff",
                        (LegacyUpload::Table, LegacyUpload::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LegacyUpload::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LegacyUpload {
    Table,
    Id,
    AgencyId,
    StaffId,
    FileSha256,
    Bytes,
    Rows,
    Fuzzy,
    Mapping,
    File,
    Report,
    Summary,
    Status,
    ImportId,
    CreatedAt,
    ConfirmedAt,
    FinishedAt,
}
