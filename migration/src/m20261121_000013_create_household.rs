use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Around a person: the household they live in, their relationships (parent of, guardian of,
/// spouse of), the facts eligibility uses (each dated, with its source and a verified flag) and
/// the history of changes to their profile.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Household::Table)
                    .col(pk_auto(Household::Id))
                    .col(timestamp_with_time_zone(Household::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // A person lives in at most one household at a time.
        manager
            .create_table(
                Table::create()
                    .table(HouseholdMember::Table)
                    .col(integer(HouseholdMember::PersonId).primary_key())
                    .col(integer(HouseholdMember::HouseholdId))
                    .col(timestamp_with_time_zone(HouseholdMember::Since))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_household_member_person")
                            .from(HouseholdMember::Table, HouseholdMember::PersonId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_household_member_household")
                            .from(HouseholdMember::Table, HouseholdMember::HouseholdId)
                            .to(Household::Table, Household::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_household_member_household",
            HouseholdMember::Table,
            &[HouseholdMember::HouseholdId],
        )
        .await?;

        // `person_id` is the parent / guardian / spouse of `relative_id`.
        manager
            .create_table(
                Table::create()
                    .table(PersonRelationship::Table)
                    .col(pk_auto(PersonRelationship::Id))
                    .col(integer(PersonRelationship::PersonId))
                    .col(integer(PersonRelationship::RelativeId))
                    .col(
                        string_len(PersonRelationship::Kind, 10)
                            .check(Expr::cust("kind IN ('parent', 'guardian', 'spouse')")),
                    )
                    .col(integer_null(PersonRelationship::CreatedBy))
                    .col(timestamp_with_time_zone(PersonRelationship::CreatedAt))
                    .check(Expr::cust("person_id <> relative_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_relationship_person")
                            .from(PersonRelationship::Table, PersonRelationship::PersonId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_relationship_relative")
                            .from(PersonRelationship::Table, PersonRelationship::RelativeId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_relationship_staff")
                            .from(PersonRelationship::Table, PersonRelationship::CreatedBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_person_relationship")
                    .table(PersonRelationship::Table)
                    .col(PersonRelationship::PersonId)
                    .col(PersonRelationship::RelativeId)
                    .col(PersonRelationship::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_person_relationship_relative",
            PersonRelationship::Table,
            &[PersonRelationship::RelativeId],
        )
        .await?;

        // Append-only: a newer fact of the same kind supersedes an older one; nothing is
        // overwritten.
        manager
            .create_table(
                Table::create()
                    .table(PersonFact::Table)
                    .col(pk_auto(PersonFact::Id))
                    .col(integer(PersonFact::PersonId))
                    .col(string_len(PersonFact::Kind, 20).check(Expr::cust(
                        "kind IN ('monthly_income', 'employment', 'months_worked', \
                         'school_level', 'school_type', 'grade_average', 'disability', \
                         'pregnant', 'social_security')",
                    )))
                    .col(string_len(PersonFact::Value, 20))
                    .col(date(PersonFact::AsOf))
                    .col(string_len(PersonFact::Source, 10).check(Expr::cust(
                        "source IN ('declared', 'document', 'agency', 'import')",
                    )))
                    .col(boolean(PersonFact::Verified))
                    .col(integer_null(PersonFact::RecordedBy))
                    .col(timestamp_with_time_zone(PersonFact::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_fact_person")
                            .from(PersonFact::Table, PersonFact::PersonId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_fact_staff")
                            .from(PersonFact::Table, PersonFact::RecordedBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_person_fact_person",
            PersonFact::Table,
            &[PersonFact::PersonId, PersonFact::Kind],
        )
        .await?;

        // One row per saved edit: the version it produced and, per field, the old and new
        // values (identity fields only; ID numbers and contact details are named, not copied).
        manager
            .create_table(
                Table::create()
                    .table(PersonChange::Table)
                    .col(pk_auto(PersonChange::Id))
                    .col(integer(PersonChange::PersonId))
                    .col(integer(PersonChange::Version))
                    .col(text(PersonChange::Changes))
                    .col(integer_null(PersonChange::ChangedBy))
                    .col(timestamp_with_time_zone(PersonChange::ChangedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_change_person")
                            .from(PersonChange::Table, PersonChange::PersonId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_change_staff")
                            .from(PersonChange::Table, PersonChange::ChangedBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_person_change_version")
                    .table(PersonChange::Table)
                    .col(PersonChange::PersonId)
                    .col(PersonChange::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Ground truth of the synthetic population's planted near-duplicates (typos, swapped
        // surnames, missing second surname, accent variants), for measuring dedup quality.
        manager
            .create_table(
                Table::create()
                    .table(SyntheticDuplicate::Table)
                    .col(integer(SyntheticDuplicate::PersonId).primary_key())
                    .col(integer(SyntheticDuplicate::OriginalId))
                    .col(string_len(SyntheticDuplicate::Variant, 20))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_synthetic_duplicate_person")
                            .from(SyntheticDuplicate::Table, SyntheticDuplicate::PersonId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_synthetic_duplicate_original")
                            .from(SyntheticDuplicate::Table, SyntheticDuplicate::OriginalId)
                            .to(Person::Table, Person::Id),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SyntheticDuplicate::Table.into_iden(),
            PersonChange::Table.into_iden(),
            PersonFact::Table.into_iden(),
            PersonRelationship::Table.into_iden(),
            HouseholdMember::Table.into_iden(),
            Household::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Household {
    Table,
    Id,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum HouseholdMember {
    Table,
    PersonId,
    HouseholdId,
    Since,
}

#[derive(DeriveIden, Clone, Copy)]
enum PersonRelationship {
    Table,
    Id,
    PersonId,
    RelativeId,
    Kind,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PersonFact {
    Table,
    Id,
    PersonId,
    Kind,
    Value,
    AsOf,
    Source,
    Verified,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PersonChange {
    Table,
    Id,
    PersonId,
    Version,
    Changes,
    ChangedBy,
    ChangedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SyntheticDuplicate {
    Table,
    PersonId,
    OriginalId,
    Variant,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Staff {
    Table,
    Id,
}
