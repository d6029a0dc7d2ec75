//! One of the 16 alcaldías of Mexico City, keyed by its INEGI code.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "borough")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// INEGI state + municipality code, `09002`..`09017`.
    #[sea_orm(unique)]
    pub inegi_code: String,
    pub name: String,
    /// Census 2020 total population (INEGI).
    pub population_2020: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
