//! A person's street address and phone, each a vault envelope bound to
//! (`person_contact`, `street`|`phone`, person id, key version).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_contact")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: i32,
    pub street_envelope: Option<Vec<u8>>,
    pub phone_envelope: Option<Vec<u8>>,
    pub key_version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
