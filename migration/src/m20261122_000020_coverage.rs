//! Coverage of the social policy indicators: the target population of each indicator per
//! borough and year (census counts, imported or synthetic), and the numerators kept current as
//! enrollments change — who is reached by which program (one row per person and program with
//! an active enrollment) and the people per program and per indicator in each borough.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::fk;

use crate::m20261121_000002_create_borough::Borough;
use crate::m20261121_000004_create_program::Program;
use crate::m20261121_000011_create_person::Person;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TargetPopulation::Table)
                    .col(pk_auto(TargetPopulation::Id))
                    .col(integer(TargetPopulation::IndicatorId))
                    .col(integer(TargetPopulation::BoroughId))
                    .col(
                        integer(TargetPopulation::Year)
                            .check(Expr::cust("year BETWEEN 1990 AND 2100")),
                    )
                    .col(big_integer(TargetPopulation::People).check(Expr::cust("people >= 0")))
                    // Where the count comes from (e.g. "INEGI, Censo 2020, ITER"), shown with it.
                    .col(string_len(TargetPopulation::Source, 200))
                    // Derived from the synthetic demo population: labelled "sintético" everywhere.
                    .col(boolean(TargetPopulation::Synthetic))
                    .col(timestamp_with_time_zone(TargetPopulation::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_target_population_indicator",
                        (TargetPopulation::Table, TargetPopulation::IndicatorId),
                        (Indicator::Table, Indicator::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_target_population_borough",
                        (TargetPopulation::Table, TargetPopulation::BoroughId),
                        (Borough::Table, Borough::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_target_population_cell")
                    .table(TargetPopulation::Table)
                    .col(TargetPopulation::IndicatorId)
                    .col(TargetPopulation::BoroughId)
                    .col(TargetPopulation::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // A person reached by a program: an active enrollment of a person whose profile is
        // active, with the borough the person lives in now.
        manager
            .create_table(
                Table::create()
                    .table(CoverageMember::Table)
                    .col(integer(CoverageMember::PersonId))
                    .col(integer(CoverageMember::ProgramId))
                    .col(integer(CoverageMember::BoroughId))
                    .primary_key(
                        Index::create()
                            .col(CoverageMember::PersonId)
                            .col(CoverageMember::ProgramId),
                    )
                    .foreign_key(&mut fk(
                        "fk_coverage_member_person",
                        (CoverageMember::Table, CoverageMember::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_coverage_member_program",
                        (CoverageMember::Table, CoverageMember::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_coverage_member_borough",
                        (CoverageMember::Table, CoverageMember::BoroughId),
                        (Borough::Table, Borough::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        // Distinct people reached, per program and per indicator, in each borough.
        for (table, key, target, name) in [
            (
                ProgramTally::Table.into_iden(),
                ProgramTally::ProgramId.into_iden(),
                Program::Table.into_iden(),
                "fk_program_tally_program",
            ),
            (
                IndicatorTally::Table.into_iden(),
                IndicatorTally::IndicatorId.into_iden(),
                Indicator::Table.into_iden(),
                "fk_indicator_tally_indicator",
            ),
        ] {
            manager
                .create_table(
                    Table::create()
                        .table(table.clone())
                        .col(integer(key.clone()))
                        .col(integer(Tally::BoroughId))
                        .col(big_integer(Tally::People).check(Expr::cust("people >= 0")))
                        .primary_key(Index::create().col(key.clone()).col(Tally::BoroughId))
                        .foreign_key(&mut fk(
                            name,
                            (table.clone(), key),
                            (target, Alias::new("id")),
                        ))
                        .foreign_key(&mut fk(
                            &format!("{name}_borough"),
                            (table.clone(), Tally::BoroughId),
                            (Borough::Table, Borough::Id),
                        ))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IndicatorTally::Table.into_iden(),
            ProgramTally::Table.into_iden(),
            CoverageMember::Table.into_iden(),
            TargetPopulation::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Indicator {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TargetPopulation {
    Table,
    Id,
    IndicatorId,
    BoroughId,
    Year,
    People,
    Source,
    Synthetic,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CoverageMember {
    Table,
    PersonId,
    ProgramId,
    BoroughId,
}

#[derive(DeriveIden)]
enum ProgramTally {
    Table,
    ProgramId,
}

#[derive(DeriveIden)]
enum IndicatorTally {
    Table,
    IndicatorId,
}

#[derive(DeriveIden)]
enum Tally {
    BoroughId,
    People,
}
