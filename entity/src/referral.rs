//! A person referred to another agency's program, with a reason; the receiving agency accepts
//! (creating the request) or declines with a reason.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub person_id: i32,
    pub program_id: i32,
    pub reason: String,
    pub from_staff_id: i32,
    pub from_office_id: Option<i32>,
    pub from_agency_id: Option<i32>,
    pub created_at: DateTimeUtc,
    /// `open`, `accepted` or `declined`.
    pub status: String,
    pub decided_by: Option<i32>,
    pub decided_at: Option<DateTimeUtc>,
    pub decline_reason: Option<String>,
    pub enrollment_id: Option<i32>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
