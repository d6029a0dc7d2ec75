//! A place where people are served: a neighbourhood office (módulo), a call center or a kiosk.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "office")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// `modulo`, `call_center` or `kiosk` (CHECK constraint in the schema).
    pub kind: String,
    pub borough_id: Option<i32>,
    /// Street address as published by the city; `None` until an administrator enters it.
    pub address: Option<String>,
    /// Opening hours as published; `None` until an administrator enters them.
    pub hours: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
