//! A version of a program's eligibility rule: the JSON tree, its test cases, the date from
//! which it applies. `draft` versions are edited; `published` ones never change.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "program_rule")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub program_id: i32,
    pub version: i32,
    pub effective_from: Date,
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub rules: String,
    #[sea_orm(column_type = "Text")]
    pub tests: String,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub created_by: Option<i32>,
    pub created_at: DateTimeUtc,
    pub published_by: Option<i32>,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
