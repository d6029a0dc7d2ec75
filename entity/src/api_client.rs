//! A client of the agency API: an agency system, acting through its own staff row (role
//! `agency_staff`, which can never sign in to the screens). Only the SHA-256 of its secret is
//! kept; revoked or expired, it is refused.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_client")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub agency_id: i32,
    #[sea_orm(unique)]
    pub staff_id: i32,
    pub name: String,
    /// The public half of the credential.
    #[sea_orm(unique)]
    pub key_id: String,
    pub secret_sha256: String,
    /// The administrator who created it (`None`: made with `angel api client`).
    pub created_by: Option<i32>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
