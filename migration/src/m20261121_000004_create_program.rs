use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_agency::Agency;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Program::Table)
                    .col(pk_auto(Program::Id))
                    .col(string_len_uniq(Program::Code, 16))
                    .col(integer(Program::AgencyId))
                    .col(string(Program::NameEs))
                    .col(string(Program::NameEn))
                    .col(text(Program::EligibilityEs))
                    .col(text(Program::EligibilityEn))
                    .col(text(Program::BenefitEs))
                    .col(text(Program::BenefitEn))
                    .col(boolean(Program::Verified))
                    .col(text(Program::Sources))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_program_agency")
                            .from(Program::Table, Program::AgencyId)
                            .to(Agency::Table, Agency::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_program_agency")
                    .table(Program::Table)
                    .col(Program::AgencyId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Program::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Program {
    Table,
    Id,
    Code,
    AgencyId,
    NameEs,
    NameEn,
    EligibilityEs,
    EligibilityEn,
    BenefitEs,
    BenefitEn,
    Verified,
    Sources,
}
