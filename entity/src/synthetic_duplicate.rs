//! A planted near-duplicate of the synthetic population: `person_id` is a second profile of
//! `original_id`, made by `variant` (`typo`, `swapped`, `no_second`, `accents`, `date_typo`).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "synthetic_duplicate")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: i32,
    pub original_id: i32,
    pub variant: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
