//! A case note: append-only; the body is a vault envelope bound to (`case_note`,
//! `body.{sensitivity}`, note id), so a body moved to another note or relabelled does not open.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_note")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub person_id: i32,
    pub enrollment_id: Option<i32>,
    pub referral_id: Option<i32>,
    pub author_id: i32,
    pub role: String,
    pub agency_id: Option<i32>,
    pub office_id: Option<i32>,
    /// `general` or `restricted` (visible only to the author's agency, or office).
    pub sensitivity: String,
    pub body: Vec<u8>,
    pub key_version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
