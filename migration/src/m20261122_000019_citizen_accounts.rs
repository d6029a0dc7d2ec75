//! The citizen side: accounts (one per person, opened with the card and the CURP and birth date
//! or with a code a caseworker printed), their sessions, the feedback citizens give on a
//! decided request, and the index that lists the audit events about one person (what a citizen
//! reads as "who looked at my data").

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::fk;

use crate::m20261121_000001_create_agency::Agency;
use crate::m20261121_000003_create_office::Office;
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
                    .table(CitizenAccount::Table)
                    .col(pk_auto(CitizenAccount::Id))
                    .col(integer_uniq(CitizenAccount::PersonId))
                    // Argon2id, as staff passwords; empty until the account is activated.
                    .col(text_null(CitizenAccount::PasswordHash))
                    // SHA-256 of the activation code a caseworker printed, and its end.
                    .col(string_len_null(CitizenAccount::CodeHash, 64))
                    .col(timestamp_with_time_zone_null(CitizenAccount::CodeExpiresAt))
                    .col(timestamp_with_time_zone_null(CitizenAccount::ActivatedAt))
                    .col(timestamp_with_time_zone(CitizenAccount::CreatedAt))
                    .col(timestamp_with_time_zone(CitizenAccount::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_citizen_account_person",
                        (CitizenAccount::Table, CitizenAccount::PersonId),
                        (Person::Table, Person::Id),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CitizenSession::Table)
                    .col(pk_auto(CitizenSession::Id))
                    // SHA-256 of the cookie's token: the token itself is never stored.
                    .col(string_len_uniq(CitizenSession::TokenHash, 64))
                    .col(integer(CitizenSession::AccountId))
                    .col(timestamp_with_time_zone(CitizenSession::CreatedAt))
                    .col(timestamp_with_time_zone(CitizenSession::LastSeenAt))
                    .col(timestamp_with_time_zone(CitizenSession::ExpiresAt))
                    .foreign_key(
                        fk(
                            "fk_citizen_session_account",
                            (CitizenSession::Table, CitizenSession::AccountId),
                            (CitizenAccount::Table, CitizenAccount::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_citizen_session_account")
                    .table(CitizenSession::Table)
                    .col(CitizenSession::AccountId)
                    .to_owned(),
            )
            .await?;

        // One rating per request, kept as given (never replaced).
        manager
            .create_table(
                Table::create()
                    .table(Feedback::Table)
                    .col(pk_auto(Feedback::Id))
                    .col(integer_uniq(Feedback::EnrollmentId))
                    .col(integer(Feedback::ProgramId))
                    .col(integer(Feedback::AgencyId))
                    .col(integer_null(Feedback::OfficeId))
                    .col(integer(Feedback::Rating).check(Expr::cust("rating BETWEEN 1 AND 5")))
                    // The comment, sealed to the row (it may name people): empty when none.
                    .col(blob_null(Feedback::Comment))
                    .col(integer(Feedback::KeyVersion))
                    .col(
                        string_len(Feedback::Channel, 8)
                            .check(Expr::cust("channel IN ('account', 'folio')")),
                    )
                    .col(timestamp_with_time_zone(Feedback::CreatedAt))
                    .foreign_key(&mut fk(
                        "fk_feedback_enrollment",
                        (Feedback::Table, Feedback::EnrollmentId),
                        (Alias::new("enrollment"), Alias::new("id")),
                    ))
                    .foreign_key(&mut fk(
                        "fk_feedback_program",
                        (Feedback::Table, Feedback::ProgramId),
                        (Program::Table, Program::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_feedback_agency",
                        (Feedback::Table, Feedback::AgencyId),
                        (Agency::Table, Agency::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_feedback_office",
                        (Feedback::Table, Feedback::OfficeId),
                        (Office::Table, Office::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_feedback_program_office")
                    .table(Feedback::Table)
                    .col(Feedback::ProgramId)
                    .col(Feedback::OfficeId)
                    .to_owned(),
            )
            .await?;

        // The audit events about one person (or one request), newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_event_subject")
                    .table(Alias::new("audit_event"))
                    .col(Alias::new("subject_type"))
                    .col(Alias::new("subject_id"))
                    .col(Alias::new("seq"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_audit_event_subject")
                    .table(Alias::new("audit_event"))
                    .to_owned(),
            )
            .await?;
        for table in [
            Feedback::Table.into_iden(),
            CitizenSession::Table.into_iden(),
            CitizenAccount::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CitizenAccount {
    Table,
    Id,
    PersonId,
    PasswordHash,
    CodeHash,
    CodeExpiresAt,
    ActivatedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CitizenSession {
    Table,
    Id,
    TokenHash,
    AccountId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Feedback {
    Table,
    Id,
    EnrollmentId,
    ProgramId,
    AgencyId,
    OfficeId,
    Rating,
    Comment,
    KeyVersion,
    Channel,
    CreatedAt,
}
