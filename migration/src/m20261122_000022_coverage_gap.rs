//! The eligibility gap of the policy dashboard: people whom the rules in force find eligible
//! for a program they have no open request in, by program and borough, as the last run of the
//! gap job found them (it evaluates every active profile, too slow to do while a page waits),
//! and when each run was made.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::fk;
use crate::m20261121_000002_create_borough::Borough;
use crate::m20261121_000004_create_program::Program;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CoverageGapRun::Table)
                    .col(pk_auto(CoverageGapRun::Id))
                    // When the run read the rules and the profiles.
                    .col(timestamp_with_time_zone(CoverageGapRun::AsOf))
                    .col(timestamp_with_time_zone(CoverageGapRun::FinishedAt))
                    // Active profiles evaluated.
                    .col(big_integer(CoverageGapRun::People).check(Expr::cust("people >= 0")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CoverageGap::Table)
                    .col(integer(CoverageGap::ProgramId))
                    .col(integer(CoverageGap::BoroughId))
                    .col(big_integer(CoverageGap::People).check(Expr::cust("people >= 0")))
                    .primary_key(
                        Index::create()
                            .col(CoverageGap::ProgramId)
                            .col(CoverageGap::BoroughId),
                    )
                    .foreign_key(&mut fk(
                        "fk_coverage_gap_program",
                        (CoverageGap::Table, CoverageGap::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_coverage_gap_borough",
                        (CoverageGap::Table, CoverageGap::BoroughId),
                        (Borough::Table, Borough::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CoverageGap::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CoverageGapRun::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CoverageGapRun {
    Table,
    Id,
    AsOf,
    FinishedAt,
    People,
}

#[derive(DeriveIden)]
enum CoverageGap {
    Table,
    ProgramId,
    BoroughId,
    People,
}
