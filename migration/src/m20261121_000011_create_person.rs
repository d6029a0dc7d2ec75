use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The registry: one row per person, their encrypted contact details and their encrypted ID
/// numbers. Identifiers and contacts hold only vault envelopes and blind indexes.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Person::Table)
                    .col(pk_auto(Person::Id))
                    // Ten digits, the last a check digit (app/src/domain/card.rs).
                    .col(
                        char_len_uniq(Person::CardNumber, 10)
                            .check(Expr::cust("length(card_number) = 10")),
                    )
                    // Opaque random token printed in the card's QR code (no personal data).
                    .col(string_len_uniq(Person::CardToken, 32))
                    .col(string_len(Person::GivenNames, 80))
                    .col(string_len(Person::FirstSurname, 60))
                    .col(string_len_null(Person::SecondSurname, 60))
                    // Normalized names for duplicate blocking (no accents, particles removed).
                    .col(string_len(Person::NameKey, 200))
                    .col(date(Person::BirthDate))
                    .col(string_len(Person::Sex, 1).check(Expr::cust("sex IN ('H', 'M', 'X')")))
                    .col(
                        char_len(Person::BirthState, 2)
                            .check(Expr::cust("length(birth_state) = 2")),
                    )
                    .col(integer(Person::BoroughId))
                    .col(string_len(Person::Colonia, 80))
                    .col(
                        char_len(Person::PostalCode, 5)
                            .check(Expr::cust("length(postal_code) = 5")),
                    )
                    .col(date_null(Person::ResidenceSince))
                    .col(boolean(Person::HasCurp))
                    .col(
                        string_len(Person::Status, 10)
                            .default("active")
                            .check(Expr::cust("status IN ('active', 'merged', 'deceased')")),
                    )
                    .col(integer_null(Person::MergedInto))
                    // Rows of the synthetic demo population, labelled wherever they are shown.
                    .col(boolean(Person::Synthetic).default(false))
                    .col(integer_null(Person::RegisteredOfficeId))
                    .col(integer_null(Person::RegisteredBy))
                    .col(timestamp_with_time_zone(Person::CreatedAt))
                    .col(timestamp_with_time_zone(Person::UpdatedAt))
                    .col(integer(Person::Version).default(1))
                    .check(Expr::cust(
                        "(status = 'merged') = (merged_into IS NOT NULL)",
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_borough")
                            .from(Person::Table, Person::BoroughId)
                            .to(Borough::Table, Borough::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_merged_into")
                            .from(Person::Table, Person::MergedInto)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_office")
                            .from(Person::Table, Person::RegisteredOfficeId)
                            .to(Office::Table, Office::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_staff")
                            .from(Person::Table, Person::RegisteredBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_person_birth_date", Person::BirthDate),
            ("idx_person_name_key", Person::NameKey),
            ("idx_person_borough", Person::BoroughId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Person::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(PersonContact::Table)
                    .col(integer(PersonContact::PersonId).primary_key())
                    .col(blob_null(PersonContact::StreetEnvelope))
                    .col(blob_null(PersonContact::PhoneEnvelope))
                    .col(integer(PersonContact::KeyVersion))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_contact_person")
                            .from(PersonContact::Table, PersonContact::PersonId)
                            .to(Person::Table, Person::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PersonIdentifier::Table)
                    .col(pk_auto(PersonIdentifier::Id))
                    .col(integer(PersonIdentifier::PersonId))
                    .col(string_len(PersonIdentifier::Kind, 10).check(Expr::cust(
                        "kind IN ('curp', 'ine', 'nss', 'rfc', 'passport')",
                    )))
                    .col(blob(PersonIdentifier::Envelope))
                    .col(blob(PersonIdentifier::BlindIndex))
                    .col(integer(PersonIdentifier::KeyVersion))
                    .col(timestamp_with_time_zone(PersonIdentifier::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_identifier_person")
                            .from(PersonIdentifier::Table, PersonIdentifier::PersonId)
                            .to(Person::Table, Person::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_person_identifier_person_kind")
                    .table(PersonIdentifier::Table)
                    .col(PersonIdentifier::PersonId)
                    .col(PersonIdentifier::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_person_identifier_blind")
                    .table(PersonIdentifier::Table)
                    .col(PersonIdentifier::Kind)
                    .col(PersonIdentifier::BlindIndex)
                    .to_owned(),
            )
            .await?;
        // One person per CURP: the keyed blind index is unique (a partial index, the same SQL
        // on SQLite and PostgreSQL). Other IDs may repeat until a person reviews them.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_person_identifier_curp \
                 ON person_identifier (blind_index) WHERE kind = 'curp'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersonIdentifier::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PersonContact::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Person::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Person {
    Table,
    Id,
    CardNumber,
    CardToken,
    GivenNames,
    FirstSurname,
    SecondSurname,
    NameKey,
    BirthDate,
    Sex,
    BirthState,
    BoroughId,
    Colonia,
    PostalCode,
    ResidenceSince,
    HasCurp,
    Status,
    MergedInto,
    Synthetic,
    RegisteredOfficeId,
    RegisteredBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum PersonContact {
    Table,
    PersonId,
    StreetEnvelope,
    PhoneEnvelope,
    KeyVersion,
}

#[derive(DeriveIden)]
enum PersonIdentifier {
    Table,
    Id,
    PersonId,
    Kind,
    Envelope,
    BlindIndex,
    KeyVersion,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Borough {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Office {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}
