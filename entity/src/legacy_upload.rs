//! A file uploaded at `/admin/importar`, kept sealed between its preview and the administrator's
//! confirmation; the file is dropped once imported or discarded.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legacy_upload")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub agency_id: i32,
    /// Who uploaded it (and confirms or discards it: any administrator may).
    pub staff_id: i32,
    pub file_sha256: String,
    pub bytes: i64,
    /// Data rows (the header not counted).
    pub rows: i64,
    pub fuzzy: bool,
    /// The column mapping (TOML), if one was given.
    #[sea_orm(column_type = "Text", nullable)]
    pub mapping: Option<String>,
    /// The file, sealed (`legacy_upload.file`); `None` once imported or discarded.
    pub file: Option<Vec<u8>>,
    /// The report CSV, sealed (`legacy_upload.report`): the preview's, then the import's.
    pub report: Option<Vec<u8>>,
    /// The counts as JSON, the preview's then the import's.
    #[sea_orm(column_type = "Text", nullable)]
    pub summary: Option<String>,
    /// `previewing`, `previewed`, `running`, `done`, `failed`, `discarded`.
    pub status: String,
    pub import_id: Option<i32>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
