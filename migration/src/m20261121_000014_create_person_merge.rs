use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Duplicate review: candidate pairs waiting for a supervisor, and merges (with everything they
/// moved, so that an unmerge puts it back).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A pair is stored once, lower id first.
        manager
            .create_table(
                Table::create()
                    .table(DuplicateReview::Table)
                    .col(pk_auto(DuplicateReview::Id))
                    .col(integer(DuplicateReview::PersonA))
                    .col(integer(DuplicateReview::PersonB))
                    .col(integer(DuplicateReview::Score))
                    .col(string_len(DuplicateReview::Agreeing, 200))
                    .col(
                        string_len(DuplicateReview::Status, 10)
                            .default("pending")
                            .check(Expr::cust("status IN ('pending', 'merged', 'distinct')")),
                    )
                    .col(timestamp_with_time_zone(DuplicateReview::FoundAt))
                    .col(integer_null(DuplicateReview::DecidedBy))
                    .col(timestamp_with_time_zone_null(DuplicateReview::DecidedAt))
                    .col(string_len_null(DuplicateReview::Reason, 30))
                    .check(Expr::cust("person_a < person_b"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_duplicate_review_a")
                            .from(DuplicateReview::Table, DuplicateReview::PersonA)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_duplicate_review_b")
                            .from(DuplicateReview::Table, DuplicateReview::PersonB)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_duplicate_review_staff")
                            .from(DuplicateReview::Table, DuplicateReview::DecidedBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_duplicate_review_pair")
                    .table(DuplicateReview::Table)
                    .col(DuplicateReview::PersonA)
                    .col(DuplicateReview::PersonB)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_duplicate_review_status")
                    .table(DuplicateReview::Table)
                    .col(DuplicateReview::Status)
                    .to_owned(),
            )
            .await?;
        // `moved`: JSON of what the merge moved or replaced, read back by the unmerge.
        manager
            .create_table(
                Table::create()
                    .table(PersonMerge::Table)
                    .col(pk_auto(PersonMerge::Id))
                    .col(integer(PersonMerge::SurvivorId))
                    .col(integer(PersonMerge::MergedId))
                    .col(string_len(PersonMerge::Reason, 30))
                    .col(text(PersonMerge::Moved))
                    .col(integer(PersonMerge::SurvivorVersion))
                    .col(integer(PersonMerge::MergedBy))
                    .col(timestamp_with_time_zone(PersonMerge::MergedAt))
                    .col(integer_null(PersonMerge::UndoneBy))
                    .col(timestamp_with_time_zone_null(PersonMerge::UndoneAt))
                    .col(string_len_null(PersonMerge::UndoReason, 30))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_merge_survivor")
                            .from(PersonMerge::Table, PersonMerge::SurvivorId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_merge_merged")
                            .from(PersonMerge::Table, PersonMerge::MergedId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_merge_staff")
                            .from(PersonMerge::Table, PersonMerge::MergedBy)
                            .to(Staff::Table, Staff::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_person_merge_merged")
                    .table(PersonMerge::Table)
                    .col(PersonMerge::MergedId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersonMerge::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DuplicateReview::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DuplicateReview {
    Table,
    Id,
    PersonA,
    PersonB,
    Score,
    Agreeing,
    Status,
    FoundAt,
    DecidedBy,
    DecidedAt,
    Reason,
}

#[derive(DeriveIden)]
enum PersonMerge {
    Table,
    Id,
    SurvivorId,
    MergedId,
    Reason,
    Moved,
    SurvivorVersion,
    MergedBy,
    MergedAt,
    UndoneBy,
    UndoneAt,
    UndoReason,
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
