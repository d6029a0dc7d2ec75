//! The append-only, hash-chained audit log. Triggers refuse UPDATE and DELETE.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// 1, 2, 3… without gaps.
    #[sea_orm(unique)]
    pub seq: i64,
    pub occurred_at: DateTimeUtc,
    pub action: String,
    pub actor_staff_id: Option<i32>,
    pub actor_role: Option<String>,
    pub agency_id: Option<i32>,
    pub office_id: Option<i32>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub purpose: Option<String>,
    pub request_id: Option<String>,
    /// Non-personal detail as JSON (never an ID number, a name or a note).
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
