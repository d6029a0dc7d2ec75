use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::fk;

use crate::m20261121_000001_create_agency::Agency;
use crate::m20261121_000003_create_office::Office;
use crate::m20261121_000004_create_program::Program;
use crate::m20261121_000007_create_staff::Staff;
use crate::m20261121_000011_create_person::Person;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: &[&'static str],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(Alias::new(*column));
    }
    manager.create_index(index.to_owned()).await
}

/// Tracking across agencies: the escalation state of each request and every escalation, who a
/// request is assigned to, the lease that lets one server instance at a time run a job,
/// referrals between agencies, and encrypted append-only case notes.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The escalation level (0 none … 3 central coordination) and when the request was
        // decided. Plain columns: SQLite adds (and drops) them in place.
        for column in [
            integer(EnrollmentTracking::EscalationLevel)
                .default(0)
                .check(Expr::cust("escalation_level BETWEEN 0 AND 3"))
                .to_owned(),
            timestamp_with_time_zone_null(EnrollmentTracking::EscalatedAt).to_owned(),
            timestamp_with_time_zone_null(EnrollmentTracking::DecidedAt).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(EnrollmentTracking::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The escalation job and the queues read requests awaiting a decision by due date.
        index(
            manager,
            "idx_enrollment_status_due",
            EnrollmentTracking::Table,
            &["status", "due_on"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(EnrollmentEscalation::Table)
                    .col(pk_auto(EnrollmentEscalation::Id))
                    .col(integer(EnrollmentEscalation::EnrollmentId))
                    .col(
                        integer(EnrollmentEscalation::Level)
                            .check(Expr::cust("level BETWEEN 1 AND 3")),
                    )
                    .col(date(EnrollmentEscalation::DueOn))
                    .col(timestamp_with_time_zone(EnrollmentEscalation::At))
                    .foreign_key(&mut fk(
                        "fk_enrollment_escalation_enrollment",
                        (
                            EnrollmentEscalation::Table,
                            EnrollmentEscalation::EnrollmentId,
                        ),
                        (EnrollmentTracking::Table, EnrollmentTracking::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // Each level is recorded once per request.
        manager
            .create_index(
                Index::create()
                    .name("uq_enrollment_escalation_level")
                    .table(EnrollmentEscalation::Table)
                    .col(EnrollmentEscalation::EnrollmentId)
                    .col(EnrollmentEscalation::Level)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // Who works a request now (one row per request; reassignment replaces it, audited).
        manager
            .create_table(
                Table::create()
                    .table(EnrollmentAssignment::Table)
                    .col(integer(EnrollmentAssignment::EnrollmentId).primary_key())
                    .col(integer(EnrollmentAssignment::StaffId))
                    .col(integer_null(EnrollmentAssignment::AssignedBy))
                    .col(timestamp_with_time_zone(EnrollmentAssignment::AssignedAt))
                    .foreign_key(&mut fk(
                        "fk_enrollment_assignment_enrollment",
                        (
                            EnrollmentAssignment::Table,
                            EnrollmentAssignment::EnrollmentId,
                        ),
                        (EnrollmentTracking::Table, EnrollmentTracking::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_assignment_staff",
                        (EnrollmentAssignment::Table, EnrollmentAssignment::StaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_assignment_by",
                        (
                            EnrollmentAssignment::Table,
                            EnrollmentAssignment::AssignedBy,
                        ),
                        (Staff::Table, Staff::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_enrollment_assignment_staff",
            EnrollmentAssignment::Table,
            &["staff_id"],
        )
        .await?;

        // One row per background job: the instance holding it until `expires_at`.
        manager
            .create_table(
                Table::create()
                    .table(JobLease::Table)
                    .col(string_len(JobLease::Name, 40).primary_key())
                    .col(string_len_null(JobLease::Holder, 80))
                    .col(timestamp_with_time_zone_null(JobLease::ExpiresAt))
                    .col(timestamp_with_time_zone_null(JobLease::LastFinishedAt))
                    .col(big_integer_null(JobLease::LastCount))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Referral::Table)
                    .col(pk_auto(Referral::Id))
                    .col(integer(Referral::PersonId))
                    .col(integer(Referral::ProgramId))
                    .col(string_len(Referral::Reason, 30))
                    .col(integer(Referral::FromStaffId))
                    .col(integer_null(Referral::FromOfficeId))
                    .col(integer_null(Referral::FromAgencyId))
                    .col(timestamp_with_time_zone(Referral::CreatedAt))
                    .col(
                        string_len(Referral::Status, 10)
                            .default("open")
                            .check(Expr::cust("status IN ('open', 'accepted', 'declined')")),
                    )
                    .col(integer_null(Referral::DecidedBy))
                    .col(timestamp_with_time_zone_null(Referral::DecidedAt))
                    .col(string_len_null(Referral::DeclineReason, 30))
                    .col(integer_null(Referral::EnrollmentId))
                    .col(integer(Referral::Version).default(1))
                    .foreign_key(&mut fk(
                        "fk_referral_person",
                        (Referral::Table, Referral::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_referral_program",
                        (Referral::Table, Referral::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_referral_from_staff",
                        (Referral::Table, Referral::FromStaffId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_referral_from_office",
                        (Referral::Table, Referral::FromOfficeId),
                        (Office::Table, Office::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_referral_from_agency",
                        (Referral::Table, Referral::FromAgencyId),
                        (Agency::Table, Agency::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_referral_decided_by",
                        (Referral::Table, Referral::DecidedBy),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_referral_enrollment",
                        (Referral::Table, Referral::EnrollmentId),
                        (EnrollmentTracking::Table, EnrollmentTracking::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_referral_program_status",
            Referral::Table,
            &["program_id", "status"],
        )
        .await?;
        index(
            manager,
            "idx_referral_person",
            Referral::Table,
            &["person_id"],
        )
        .await?;

        // Append-only: the service never updates a note except to re-seal it under a new key.
        manager
            .create_table(
                Table::create()
                    .table(CaseNote::Table)
                    .col(pk_auto(CaseNote::Id))
                    .col(integer(CaseNote::PersonId))
                    .col(integer_null(CaseNote::EnrollmentId))
                    .col(integer_null(CaseNote::ReferralId))
                    .col(integer(CaseNote::AuthorId))
                    .col(string_len(CaseNote::Role, 20))
                    .col(integer_null(CaseNote::AgencyId))
                    .col(integer_null(CaseNote::OfficeId))
                    .col(
                        string_len(CaseNote::Sensitivity, 10)
                            .check(Expr::cust("sensitivity IN ('general', 'restricted')")),
                    )
                    .col(blob(CaseNote::Body))
                    .col(integer(CaseNote::KeyVersion))
                    .col(timestamp_with_time_zone(CaseNote::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_case_note_person",
                        (CaseNote::Table, CaseNote::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_note_enrollment",
                        (CaseNote::Table, CaseNote::EnrollmentId),
                        (EnrollmentTracking::Table, EnrollmentTracking::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_note_referral",
                        (CaseNote::Table, CaseNote::ReferralId),
                        (Referral::Table, Referral::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_note_author",
                        (CaseNote::Table, CaseNote::AuthorId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_note_agency",
                        (CaseNote::Table, CaseNote::AgencyId),
                        (Agency::Table, Agency::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_note_office",
                        (CaseNote::Table, CaseNote::OfficeId),
                        (Office::Table, Office::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_note_person",
            CaseNote::Table,
            &["person_id"],
        )
        .await?;
        index(
            manager,
            "idx_case_note_enrollment",
            CaseNote::Table,
            &["enrollment_id"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CaseNote::Table.into_iden(),
            Referral::Table.into_iden(),
            JobLease::Table.into_iden(),
            EnrollmentAssignment::Table.into_iden(),
            EnrollmentEscalation::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_enrollment_status_due")
                    .table(EnrollmentTracking::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            EnrollmentTracking::DecidedAt,
            EnrollmentTracking::EscalatedAt,
            EnrollmentTracking::EscalationLevel,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(EnrollmentTracking::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum EnrollmentTracking {
    #[sea_orm(iden = "enrollment")]
    Table,
    Id,
    EscalationLevel,
    EscalatedAt,
    DecidedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum EnrollmentEscalation {
    Table,
    Id,
    EnrollmentId,
    Level,
    DueOn,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum EnrollmentAssignment {
    Table,
    EnrollmentId,
    StaffId,
    AssignedBy,
    AssignedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum JobLease {
    Table,
    Name,
    Holder,
    ExpiresAt,
    LastFinishedAt,
    LastCount,
}

#[derive(DeriveIden, Clone, Copy)]
enum Referral {
    Table,
    Id,
    PersonId,
    ProgramId,
    Reason,
    FromStaffId,
    FromOfficeId,
    FromAgencyId,
    CreatedAt,
    Status,
    DecidedBy,
    DecidedAt,
    DeclineReason,
    EnrollmentId,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseNote {
    Table,
    Id,
    PersonId,
    EnrollmentId,
    ReferralId,
    AuthorId,
    Role,
    AgencyId,
    OfficeId,
    Sensitivity,
    Body,
    KeyVersion,
    CreatedAt,
}
