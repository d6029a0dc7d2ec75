//! A member of staff who signs in: caseworker, supervisor, agency staff, policy officer or
//! administrator. The role and its office or agency decide the scope of everything they see.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Lower-case, unique.
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: String,
    /// A `Role` code (CHECK constraint in the schema).
    pub role: String,
    pub agency_id: Option<i32>,
    pub office_id: Option<i32>,
    /// Argon2id PHC string; `None` until the account is activated with its one-time token.
    pub password_hash: Option<String>,
    /// SHA-256 (hex) of a one-time sign-in token (`angel admin create`, a new account or a
    /// password reset); the person chooses a password with it at /activar.
    pub activation_token_hash: Option<String>,
    pub activation_expires_at: Option<DateTimeUtc>,
    pub disabled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
