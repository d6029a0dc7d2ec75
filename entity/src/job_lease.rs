//! A background job's lease: the server instance holding it until `expires_at` runs it;
//! the others skip their turn.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_lease")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub holder: Option<String>,
    pub expires_at: Option<DateTimeUtc>,
    pub last_finished_at: Option<DateTimeUtc>,
    /// What the last run did (rows changed).
    pub last_count: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
