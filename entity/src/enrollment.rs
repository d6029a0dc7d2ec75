//! A request for a program for one person (the beneficiary), with its folio, the rule version
//! and verdict it was requested under, and its due date.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrollment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub folio: String,
    pub person_id: i32,
    pub applicant_id: i32,
    pub program_id: i32,
    pub status: String,
    pub rule_id: i32,
    pub verdict: String,
    pub life_event_id: Option<i32>,
    pub office_id: Option<i32>,
    pub requested_by: Option<i32>,
    pub requested_at: DateTimeUtc,
    pub due_on: Date,
    pub override_reason: Option<String>,
    /// 0 none, 1 office supervisor, 2 agency head, 3 central coordination.
    pub escalation_level: i32,
    pub escalated_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
