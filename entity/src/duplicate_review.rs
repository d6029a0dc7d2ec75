//! A pair of profiles that may be one person, waiting for a supervisor (`pending`), or decided
//! (`merged`, `distinct`). Stored once per pair, lower id first.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "duplicate_review")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub person_a: i32,
    pub person_b: i32,
    /// Name similarity, 0–100.
    pub score: i32,
    /// Comma-separated field codes that agree.
    pub agreeing: String,
    pub status: String,
    pub found_at: DateTimeUtc,
    pub decided_by: Option<i32>,
    pub decided_at: Option<DateTimeUtc>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
