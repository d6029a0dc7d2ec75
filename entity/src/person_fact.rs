//! A fact eligibility uses (income, employment, school, disability, pregnancy, social security),
//! dated, with its source and whether a document verified it. Append-only: the newest fact of a
//! kind is the current one.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_fact")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub person_id: i32,
    pub kind: String,
    /// The value in its canonical text form (app/src/registry/facts.rs).
    pub value: String,
    pub as_of: Date,
    /// `declared`, `document`, `agency` or `import`.
    pub source: String,
    pub verified: bool,
    pub recorded_by: Option<i32>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
