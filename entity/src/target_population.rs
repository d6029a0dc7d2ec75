//! How many people an indicator targets in a borough in a year (the coverage denominator),
//! with its source; synthetic counts (the demo) are labelled wherever they appear.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "target_population")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub indicator_id: i32,
    pub borough_id: i32,
    pub year: i32,
    pub people: i64,
    pub source: String,
    pub synthetic: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
