//! A status change of an enrollment (the first one is the request itself).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrollment_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub enrollment_id: i32,
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub actor_id: Option<i32>,
    pub role: Option<String>,
    pub office_id: Option<i32>,
    pub agency_id: Option<i32>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
