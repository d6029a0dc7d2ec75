//! A city agency (secretaría, instituto, DIF...) that runs programs.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agency")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Short stable code, e.g. `SEDESO`.
    #[sea_orm(unique)]
    pub code: String,
    pub name_es: String,
    pub name_en: String,
    /// The agency this one reports to (IAAM is under SEDESO), if any.
    pub parent_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
