//! One run of the legacy import for an agency: the run's digest, the checkpoint (data rows
//! committed, in the run's order) and what the committed rows did.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legacy_import")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub agency_id: i32,
    /// SHA-256, hex, of the file's digest and the order its rows are imported in (by birth
    /// date): a run resumes only with the same file in the same order.
    pub file_sha256: String,
    pub rows_total: i64,
    pub rows_done: i64,
    pub created: i64,
    pub queued: i64,
    pub matched: i64,
    pub updated: i64,
    pub conflicts: i64,
    pub already_imported: i64,
    pub refused: i64,
    /// Program requests the file's rows created.
    pub enrollments_created: i64,
    /// Requests the registry already had with the file's status.
    pub enrollments_existing: i64,
    /// Requests the registry has with another status than the file's: listed, not changed.
    pub enrollment_conflicts: i64,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
