//! Month-end snapshots of coverage by program, for the policy trends: the people reached by
//! each program in each borough on the last day of a month that has ended (a closed month
//! never changes, so it is computed once from the status history), and which months have been
//! computed (a month in which nobody was reached has no count rows).

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
                    .table(CoverageSnapshot::Table)
                    // The first day of the month.
                    .col(date(CoverageSnapshot::Month).primary_key())
                    .col(timestamp_with_time_zone(CoverageSnapshot::TakenAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CoverageMonth::Table)
                    .col(date(CoverageMonth::Month))
                    .col(integer(CoverageMonth::ProgramId))
                    .col(integer(CoverageMonth::BoroughId))
                    .col(big_integer(CoverageMonth::People).check(Expr::cust("people >= 0")))
                    .primary_key(
                        Index::create()
                            .col(CoverageMonth::Month)
                            .col(CoverageMonth::ProgramId)
                            .col(CoverageMonth::BoroughId),
                    )
                    .foreign_key(&mut fk(
                        "fk_coverage_month_snapshot",
                        (CoverageMonth::Table, CoverageMonth::Month),
                        (CoverageSnapshot::Table, CoverageSnapshot::Month),
                    ))
                    .foreign_key(&mut fk(
                        "fk_coverage_month_program",
                        (CoverageMonth::Table, CoverageMonth::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_coverage_month_borough",
                        (CoverageMonth::Table, CoverageMonth::BoroughId),
                        (Borough::Table, Borough::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CoverageMonth::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CoverageSnapshot::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CoverageSnapshot {
    Table,
    Month,
    TakenAt,
}

#[derive(DeriveIden)]
enum CoverageMonth {
    Table,
    Month,
    ProgramId,
    BoroughId,
    People,
}
