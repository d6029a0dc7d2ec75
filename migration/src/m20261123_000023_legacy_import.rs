//! The legacy import (issue 9): each run of `angel import persons` for an agency — its file's
//! digest, its checkpoint (rows committed so far: a run cut off resumes after them) and its
//! counts — and the link from an agency's record to the registry's person, keyed by a blind
//! index of the agency's record identity, so importing the same file again creates no one.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::fk;
use crate::m20261121_000001_create_agency::Agency;
use crate::m20261121_000011_create_person::Person;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let count = |c: LegacyImport| big_integer(c).default(0).to_owned();
        manager
            .create_table(
                Table::create()
                    .table(LegacyImport::Table)
                    .col(pk_auto(LegacyImport::Id))
                    .col(integer(LegacyImport::AgencyId))
                    // SHA-256 of the file's bytes, hex: a run of the same file resumes.
                    .col(string_len(LegacyImport::FileSha256, 64))
                    .col(big_integer(LegacyImport::RowsTotal).check(Expr::cust("rows_total >= 0")))
                    // The checkpoint: data rows committed, in file order.
                    .col(count(LegacyImport::RowsDone))
                    .col(count(LegacyImport::Created))
                    .col(count(LegacyImport::Queued))
                    .col(count(LegacyImport::Matched))
                    .col(count(LegacyImport::Updated))
                    .col(count(LegacyImport::Conflicts))
                    .col(count(LegacyImport::AlreadyImported))
                    .col(count(LegacyImport::Refused))
                    .col(timestamp_with_time_zone(LegacyImport::StartedAt))
                    .col(timestamp_with_time_zone_null(LegacyImport::FinishedAt))
                    .foreign_key(&mut fk(
                        "fk_legacy_import_agency",
                        (LegacyImport::Table, LegacyImport::AgencyId),
                        (Agency::Table, Agency::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_legacy_import_file")
                    .table(LegacyImport::Table)
                    .col(LegacyImport::AgencyId)
                    .col(LegacyImport::FileSha256)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LegacyLink::Table)
                    .col(integer(LegacyLink::AgencyId))
                    // Blind index (keyed HMAC) of the agency's record identity: its own record
                    // number, or the standardized CURP / name and birth date when it has none.
                    .col(blob(LegacyLink::RecordKey))
                    .col(integer(LegacyLink::PersonId))
                    .col(integer(LegacyLink::ImportId))
                    .primary_key(
                        Index::create()
                            .col(LegacyLink::AgencyId)
                            .col(LegacyLink::RecordKey),
                    )
                    .foreign_key(&mut fk(
                        "fk_legacy_link_agency",
                        (LegacyLink::Table, LegacyLink::AgencyId),
                        (Agency::Table, Agency::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_legacy_link_person",
                        (LegacyLink::Table, LegacyLink::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_legacy_link_import",
                        (LegacyLink::Table, LegacyLink::ImportId),
                        (LegacyImport::Table, LegacyImport::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LegacyLink::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LegacyImport::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LegacyImport {
    Table,
    Id,
    AgencyId,
    FileSha256,
    RowsTotal,
    RowsDone,
    Created,
    Queued,
    Matched,
    Updated,
    Conflicts,
    AlreadyImported,
    Refused,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum LegacyLink {
    Table,
    AgencyId,
    RecordKey,
    PersonId,
    ImportId,
}
