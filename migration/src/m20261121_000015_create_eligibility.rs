use sea_orm_migration::{prelude::*, schema::*, sea_orm::ConnectionTrait};

use crate::helpers::fk;

use crate::m20261121_000001_create_agency::Agency;
use crate::m20261121_000003_create_office::Office;
use crate::m20261121_000004_create_program::Program;
use crate::m20261121_000005_create_life_event::LifeEvent;
use crate::m20261121_000007_create_staff::Staff;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The open statuses of an enrollment: at most one per person and program.
pub const OPEN_STATUSES: &str = "'requested', 'in_review', 'approved', 'active', 'suspended'";

const OLD_FACT_KINDS: &str = "'monthly_income', 'employment', 'months_worked', \
                              'school_level', 'school_type', 'grade_average', 'disability', \
                              'pregnant', 'social_security'";
const NEW_FACT_KINDS: &str = "'monthly_income', 'employment', 'months_worked', \
                              'school_level', 'school_type', 'grade_average', 'disability', \
                              'pregnant', 'social_security', 'job_loss', 'violence_referral', \
                              'partner', 'other_scholarship', 'pension', 'provider_lost'";

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

/// Eligibility and enrollment: program terms (SLA, beneficiary, benefit formula), wage values by
/// year, incompatible programs, indicators, versioned rules, the holiday table, enrollments with
/// their folio counter and status events, and six more fact kinds.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            integer(ProgramTerms::SlaDays).default(20).to_owned(),
            string_len(ProgramTerms::Beneficiary, 10)
                .default("person")
                .check(Expr::cust("beneficiary IN ('person', 'child')"))
                .to_owned(),
            string_len_null(ProgramTerms::BenefitBase, 5)
                .check(Expr::cust("benefit_base IN ('sm', 'uma', 'fixed')"))
                .to_owned(),
            double_null(ProgramTerms::BenefitFactor).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Program::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }

        // Daily minimum wage (SM) and UMA by year, in cents.
        manager
            .create_table(
                Table::create()
                    .table(WageValue::Table)
                    .col(pk_auto(WageValue::Id))
                    .col(string_len(WageValue::Kind, 5).check(Expr::cust("kind IN ('sm', 'uma')")))
                    .col(integer(WageValue::Year))
                    .col(integer(WageValue::DailyCents).check(Expr::cust("daily_cents > 0")))
                    .col(text(WageValue::Source))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_wage_value",
            WageValue::Table,
            &["kind", "year"],
            true,
        )
        .await?;

        // Stored once, lower id first.
        manager
            .create_table(
                Table::create()
                    .table(ProgramIncompatible::Table)
                    .col(integer(ProgramIncompatible::ProgramId))
                    .col(integer(ProgramIncompatible::OtherId))
                    .col(text(ProgramIncompatible::Reason))
                    .primary_key(
                        Index::create()
                            .col(ProgramIncompatible::ProgramId)
                            .col(ProgramIncompatible::OtherId),
                    )
                    .check(Expr::cust("program_id < other_id"))
                    .foreign_key(&mut fk(
                        "fk_incompatible_program",
                        (ProgramIncompatible::Table, ProgramIncompatible::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_incompatible_other",
                        (ProgramIncompatible::Table, ProgramIncompatible::OtherId),
                        (Program::Table, Program::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Indicator::Table)
                    .col(pk_auto(Indicator::Id))
                    .col(string_len_uniq(Indicator::Code, 32))
                    .col(string(Indicator::NameEs))
                    .col(string(Indicator::NameEn))
                    .col(integer(Indicator::Position))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProgramIndicator::Table)
                    .col(integer(ProgramIndicator::ProgramId))
                    .col(integer(ProgramIndicator::IndicatorId))
                    .primary_key(
                        Index::create()
                            .col(ProgramIndicator::ProgramId)
                            .col(ProgramIndicator::IndicatorId),
                    )
                    .foreign_key(&mut fk(
                        "fk_program_indicator_program",
                        (ProgramIndicator::Table, ProgramIndicator::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_program_indicator_indicator",
                        (ProgramIndicator::Table, ProgramIndicator::IndicatorId),
                        (Indicator::Table, Indicator::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        // A rule version: the JSON tree (app/src/domain/eligibility.rs), its test cases, and the
        // date from which it applies once published. Published versions are never edited.
        manager
            .create_table(
                Table::create()
                    .table(ProgramRule::Table)
                    .col(pk_auto(ProgramRule::Id))
                    .col(integer(ProgramRule::ProgramId))
                    .col(integer(ProgramRule::Version))
                    .col(date(ProgramRule::EffectiveFrom))
                    .col(
                        string_len(ProgramRule::Status, 10)
                            .check(Expr::cust("status IN ('draft', 'published')")),
                    )
                    .col(text(ProgramRule::Rules))
                    .col(text(ProgramRule::Tests))
                    .col(text(ProgramRule::Note))
                    .col(integer_null(ProgramRule::CreatedBy))
                    .col(timestamp_with_time_zone(ProgramRule::CreatedAt))
                    .col(integer_null(ProgramRule::PublishedBy))
                    .col(timestamp_with_time_zone_null(ProgramRule::PublishedAt))
                    .foreign_key(&mut fk(
                        "fk_program_rule_program",
                        (ProgramRule::Table, ProgramRule::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_program_rule_created",
                        (ProgramRule::Table, ProgramRule::CreatedBy),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_program_rule_published",
                        (ProgramRule::Table, ProgramRule::PublishedBy),
                        (Staff::Table, Staff::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "uq_program_rule_version",
            ProgramRule::Table,
            &["program_id", "version"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Holiday::Table)
                    .col(date(Holiday::Day).primary_key())
                    .col(string_len(Holiday::Name, 40))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FolioCounter::Table)
                    .col(integer(FolioCounter::ProgramId))
                    .col(integer(FolioCounter::Year))
                    .col(integer(FolioCounter::Last))
                    .primary_key(
                        Index::create()
                            .col(FolioCounter::ProgramId)
                            .col(FolioCounter::Year),
                    )
                    .foreign_key(&mut fk(
                        "fk_folio_counter_program",
                        (FolioCounter::Table, FolioCounter::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        // One request for one program for one person (the beneficiary; the applicant is who came
        // to the office, e.g. the mother of a pupil).
        manager
            .create_table(
                Table::create()
                    .table(Enrollment::Table)
                    .col(pk_auto(Enrollment::Id))
                    .col(string_len_uniq(Enrollment::Folio, 24))
                    .col(integer(Enrollment::PersonId))
                    .col(integer(Enrollment::ApplicantId))
                    .col(integer(Enrollment::ProgramId))
                    .col(string_len(Enrollment::Status, 10).check(Expr::cust(
                        "status IN ('requested', 'in_review', 'approved', 'active', 'suspended', \
                         'exited', 'rejected', 'withdrawn')",
                    )))
                    .col(integer(Enrollment::RuleId))
                    .col(string_len(Enrollment::Verdict, 20).check(Expr::cust(
                        "verdict IN ('eligible', 'not_eligible', 'needs_information')",
                    )))
                    .col(integer_null(Enrollment::LifeEventId))
                    .col(integer_null(Enrollment::OfficeId))
                    .col(integer_null(Enrollment::RequestedBy))
                    .col(timestamp_with_time_zone(Enrollment::RequestedAt))
                    .col(date(Enrollment::DueOn))
                    .col(string_len_null(Enrollment::OverrideReason, 30))
                    .col(integer(Enrollment::Version).default(1))
                    .col(timestamp_with_time_zone(Enrollment::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_enrollment_person",
                        (Enrollment::Table, Enrollment::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_applicant",
                        (Enrollment::Table, Enrollment::ApplicantId),
                        (Person::Table, Person::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_program",
                        (Enrollment::Table, Enrollment::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_rule",
                        (Enrollment::Table, Enrollment::RuleId),
                        (ProgramRule::Table, ProgramRule::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_life_event",
                        (Enrollment::Table, Enrollment::LifeEventId),
                        (LifeEvent::Table, LifeEvent::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_office",
                        (Enrollment::Table, Enrollment::OfficeId),
                        (Office::Table, Office::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_staff",
                        (Enrollment::Table, Enrollment::RequestedBy),
                        (Staff::Table, Staff::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_enrollment_person",
            Enrollment::Table,
            &["person_id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_enrollment_applicant",
            Enrollment::Table,
            &["applicant_id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_enrollment_program_status",
            Enrollment::Table,
            &["program_id", "status"],
            false,
        )
        .await?;
        // At most one open enrollment per person and program, whatever races.
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE UNIQUE INDEX uq_enrollment_open ON enrollment (person_id, program_id) \
                 WHERE status IN ({OPEN_STATUSES})"
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EnrollmentEvent::Table)
                    .col(pk_auto(EnrollmentEvent::Id))
                    .col(integer(EnrollmentEvent::EnrollmentId))
                    .col(string_len_null(EnrollmentEvent::FromStatus, 10))
                    .col(string_len(EnrollmentEvent::ToStatus, 10))
                    .col(string_len(EnrollmentEvent::Reason, 30))
                    .col(integer_null(EnrollmentEvent::ActorId))
                    .col(string_len_null(EnrollmentEvent::Role, 20))
                    .col(integer_null(EnrollmentEvent::OfficeId))
                    .col(integer_null(EnrollmentEvent::AgencyId))
                    .col(timestamp_with_time_zone(EnrollmentEvent::At))
                    .foreign_key(&mut fk(
                        "fk_enrollment_event_enrollment",
                        (EnrollmentEvent::Table, EnrollmentEvent::EnrollmentId),
                        (Enrollment::Table, Enrollment::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_event_staff",
                        (EnrollmentEvent::Table, EnrollmentEvent::ActorId),
                        (Staff::Table, Staff::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_event_office",
                        (EnrollmentEvent::Table, EnrollmentEvent::OfficeId),
                        (Office::Table, Office::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_enrollment_event_agency",
                        (EnrollmentEvent::Table, EnrollmentEvent::AgencyId),
                        (Agency::Table, Agency::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_enrollment_event_enrollment",
            EnrollmentEvent::Table,
            &["enrollment_id"],
            false,
        )
        .await?;

        fact_kinds(manager, OLD_FACT_KINDS, NEW_FACT_KINDS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "DELETE FROM person_fact WHERE kind NOT IN ({OLD_FACT_KINDS})"
            ))
            .await?;
        fact_kinds(manager, NEW_FACT_KINDS, OLD_FACT_KINDS).await?;
        for table in [
            EnrollmentEvent::Table.into_iden(),
            Enrollment::Table.into_iden(),
            FolioCounter::Table.into_iden(),
            Holiday::Table.into_iden(),
            ProgramRule::Table.into_iden(),
            ProgramIndicator::Table.into_iden(),
            Indicator::Table.into_iden(),
            ProgramIncompatible::Table.into_iden(),
            WageValue::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            ProgramTerms::BenefitFactor,
            ProgramTerms::BenefitBase,
            ProgramTerms::Beneficiary,
            ProgramTerms::SlaDays,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Program::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Replaces the CHECK on `person_fact.kind` (see [`crate::helpers::replace_check`]).
async fn fact_kinds(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    crate::helpers::replace_check(
        manager,
        ("person_fact", "kind"),
        (from, to),
        &["CREATE INDEX idx_person_fact_person ON person_fact (person_id, kind)"],
    )
    .await
}

#[derive(DeriveIden, Clone, Copy)]
enum ProgramTerms {
    SlaDays,
    Beneficiary,
    BenefitBase,
    BenefitFactor,
}

#[derive(DeriveIden, Clone, Copy)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum WageValue {
    Table,
    Id,
    Kind,
    Year,
    DailyCents,
    Source,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProgramIncompatible {
    Table,
    ProgramId,
    OtherId,
    Reason,
}

#[derive(DeriveIden, Clone, Copy)]
enum Indicator {
    Table,
    Id,
    Code,
    NameEs,
    NameEn,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProgramIndicator {
    Table,
    ProgramId,
    IndicatorId,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProgramRule {
    Table,
    Id,
    ProgramId,
    Version,
    EffectiveFrom,
    Status,
    Rules,
    Tests,
    Note,
    CreatedBy,
    CreatedAt,
    PublishedBy,
    PublishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Holiday {
    Table,
    Day,
    Name,
}

#[derive(DeriveIden, Clone, Copy)]
enum FolioCounter {
    Table,
    ProgramId,
    Year,
    Last,
}

#[derive(DeriveIden, Clone, Copy)]
enum Enrollment {
    Table,
    Id,
    Folio,
    PersonId,
    ApplicantId,
    ProgramId,
    Status,
    RuleId,
    Verdict,
    LifeEventId,
    OfficeId,
    RequestedBy,
    RequestedAt,
    DueOn,
    OverrideReason,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum EnrollmentEvent {
    Table,
    Id,
    EnrollmentId,
    FromStatus,
    ToStatus,
    Reason,
    ActorId,
    Role,
    OfficeId,
    AgencyId,
    At,
}
