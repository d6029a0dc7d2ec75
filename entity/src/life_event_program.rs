//! Which programs a life event leads to, in display order.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "life_event_program")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub life_event_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub program_id: i32,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
