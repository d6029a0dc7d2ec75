//! One run of the gap job: when it read the rules and profiles, when it finished, how many
//! active profiles it evaluated.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coverage_gap_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub as_of: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    pub people: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
