use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Staff roles stored in `staff.role` (the citizen role lives in its own table, later).
const ROLES: &str = "'caseworker', 'office_supervisor', 'agency_staff', 'agency_head', \
                     'policy_officer', 'administrator'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Staff::Table)
                    .col(pk_auto(Staff::Id))
                    .col(string_len_uniq(Staff::Username, 64))
                    .col(string_len(Staff::DisplayName, 120))
                    .col(string_len(Staff::Role, 24).check(Expr::cust(format!("role IN ({ROLES})"))))
                    .col(integer_null(Staff::AgencyId))
                    .col(integer_null(Staff::OfficeId))
                    .col(text_null(Staff::PasswordHash))
                    .col(string_len_null(Staff::ActivationTokenHash, 64))
                    .col(timestamp_with_time_zone_null(Staff::ActivationExpiresAt))
                    .col(timestamp_with_time_zone_null(Staff::DisabledAt))
                    .col(timestamp_with_time_zone(Staff::CreatedAt))
                    .col(timestamp_with_time_zone(Staff::UpdatedAt))
                    .col(integer(Staff::Version).default(1))
                    // Office roles need an office, agency roles an agency: the scope of every
                    // query they make is built from it.
                    .check(Expr::cust(
                        "(role NOT IN ('caseworker', 'office_supervisor') OR office_id IS NOT NULL) \
                         AND (role NOT IN ('agency_staff', 'agency_head') OR agency_id IS NOT NULL)",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_agency")
                            .from(Staff::Table, Staff::AgencyId)
                            .to(Agency::Table, Agency::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_staff_office")
                            .from(Staff::Table, Staff::OfficeId)
                            .to(Office::Table, Office::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_staff_office")
                    .table(Staff::Table)
                    .col(Staff::OfficeId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_staff_agency")
                    .table(Staff::Table)
                    .col(Staff::AgencyId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Staff::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Staff {
    Table,
    Id,
    Username,
    DisplayName,
    Role,
    AgencyId,
    OfficeId,
    PasswordHash,
    ActivationTokenHash,
    ActivationExpiresAt,
    DisabledAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Agency {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Office {
    Table,
    Id,
}
