//! Distinct people reached by a program in a borough (from `coverage_member`, kept current).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program_tally")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub program_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub borough_id: i32,
    pub people: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
