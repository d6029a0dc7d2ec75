//! A closed month whose month-end coverage by program has been computed (`coverage_month`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coverage_snapshot")]
pub struct Model {
    /// The first day of the month.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    pub taken_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
