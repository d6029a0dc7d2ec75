//! An ID number (CURP, INE voter key, NSS, RFC, passport): never stored in clear. The envelope
//! is bound to (`person_identifier`, kind, person id, key version); the blind index is
//! HMAC-SHA256 of the normalized value, unique for CURPs.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_identifier")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub person_id: i32,
    /// `curp`, `ine`, `nss`, `rfc` or `passport`.
    pub kind: String,
    pub envelope: Vec<u8>,
    pub blind_index: Vec<u8>,
    pub key_version: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
