//! A citizen's rating (1–5) of a decided request, with the program, agency and office it is
//! about (the quality figures group by them) and an optional comment sealed to the row.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub enrollment_id: i32,
    pub program_id: i32,
    pub agency_id: i32,
    pub office_id: Option<i32>,
    pub rating: i32,
    pub comment: Option<Vec<u8>>,
    pub key_version: i32,
    /// `account`, `folio` or `agency` (collected by the agency, sent through its API).
    pub channel: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
