//! Duplicate search reads, for every birth date of an import's chunk, the id, name key and names
//! of everyone active born that day (`registry::Blocked::read`). Through an index on the birth
//! date alone, each of those people is a row fetched from wherever the table holds it: a page
//! read per person, 19.8 million of them for a million-row import. This index holds what the
//! read needs in birth-date order, so a date's people are read from a few adjacent pages. It
//! replaces the birth-date index, whose leading column it shares (and whose other readers,
//! such as a citizen's activation by birth date, it serves as well).

use sea_orm_migration::prelude::*;

use crate::m20261121_000011_create_person::Person;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "idx_person_birth_date";
const NEW: &str = "idx_person_blocking_date";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table(Person::Table)
                    .col(Person::BirthDate)
                    .col(Person::Status)
                    .col(Person::Id)
                    .col(Person::NameKey)
                    .col(Person::GivenNames)
                    .col(Person::FirstSurname)
                    .col(Person::SecondSurname)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(OLD).table(Person::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(OLD)
                    .table(Person::Table)
                    .col(Person::BirthDate)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(NEW).table(Person::Table).to_owned())
            .await
    }
}
