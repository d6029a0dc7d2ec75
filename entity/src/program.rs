//! A social program of one agency. Texts are stored in both languages.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "program")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub agency_id: i32,
    pub name_es: String,
    pub name_en: String,
    /// Who it is for, as documented (informative; the rules engine decides).
    pub eligibility_es: String,
    pub eligibility_en: String,
    /// What it gives, as documented.
    pub benefit_es: String,
    pub benefit_en: String,
    /// `false` for programs whose details could not be verified in public sources.
    pub verified: bool,
    /// Where the facts come from.
    pub sources: String,
    /// Business days the agency has to decide a request.
    pub sla_days: i32,
    /// `person` (the applicant) or `child` (the applicant's children and wards: school programs).
    pub beneficiary: String,
    /// `sm` (daily minimum wage), `uma`, `fixed` (pesos), or none (a service, not money).
    pub benefit_base: Option<String>,
    /// Days of the base per month (or pesos when `fixed`).
    pub benefit_factor: Option<f64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
