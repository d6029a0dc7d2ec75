//! A person in the registry: one row per person, keyed by the CURP through
//! `person_identifier`'s unique blind index. Names are stored as entered (accents kept for
//! display); `name_key` is their normalized form for duplicate blocking.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub card_number: String,
    #[sea_orm(unique)]
    pub card_token: String,
    pub given_names: String,
    pub first_surname: String,
    pub second_surname: Option<String>,
    pub name_key: String,
    pub birth_date: Date,
    /// `H`, `M` or `X` (as in the CURP).
    pub sex: String,
    /// Two-letter state code of the CURP catalogue (`NE` born abroad).
    pub birth_state: String,
    pub borough_id: i32,
    pub colonia: String,
    pub postal_code: String,
    pub residence_since: Option<Date>,
    pub has_curp: bool,
    /// `active`, `merged` (a tombstone pointing to `merged_into`) or `deceased`.
    pub status: String,
    pub merged_into: Option<i32>,
    pub synthetic: bool,
    pub registered_office_id: Option<i32>,
    pub registered_by: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
