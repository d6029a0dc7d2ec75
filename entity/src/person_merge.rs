//! A merge: `merged_id` became a tombstone pointing to `survivor_id`. `moved` records what moved
//! (identifiers, relationships, facts, household) and the survivor's replaced values, so that an
//! unmerge puts everything back; `survivor_version` is the survivor's version right after.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_merge")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub survivor_id: i32,
    pub merged_id: i32,
    pub reason: String,
    pub moved: String,
    pub survivor_version: i32,
    pub merged_by: i32,
    pub merged_at: DateTimeUtc,
    pub undone_by: Option<i32>,
    pub undone_at: Option<DateTimeUtc>,
    pub undo_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
