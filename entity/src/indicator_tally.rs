//! Distinct people reached by any program of an indicator in a borough (the coverage
//! numerator, kept current).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "indicator_tally")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub indicator_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub borough_id: i32,
    pub people: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
