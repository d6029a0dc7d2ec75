//! The first response to a write sent with an `Idempotency-Key`, replayed when the same client
//! sends the same key and body again (kept 24 hours).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_idempotency")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 (hex) of the method, path and body.
    pub request_sha256: String,
    pub status: i32,
    pub body: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
