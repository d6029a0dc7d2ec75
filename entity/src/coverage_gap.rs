//! People whom the rules in force find eligible for a program they have no open request in,
//! in one borough, as the last run of the gap job found them.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coverage_gap")]
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
