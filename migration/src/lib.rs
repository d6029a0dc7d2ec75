//! The schema, as an ordered list of migrations.
//!
//! Rules: one concern per migration, `down` always written, never edited after landing, and
//! portable between SQLite and PostgreSQL (closed sets are TEXT with a CHECK constraint, no
//! engine-specific types). Seed and demo data are not migrations: see `angel seed`.

pub use sea_orm_migration::prelude::*;

mod helpers;

mod m20261121_000001_create_agency;
mod m20261121_000002_create_borough;
mod m20261121_000003_create_office;
mod m20261121_000004_create_program;
mod m20261121_000005_create_life_event;
mod m20261121_000006_create_life_event_program;
mod m20261121_000007_create_staff;
mod m20261121_000008_create_session;
mod m20261121_000009_create_audit_event;
mod m20261121_000010_create_demo_account;
mod m20261121_000011_create_person;
mod m20261121_000012_create_vault_canary;
mod m20261121_000013_create_household;
mod m20261121_000014_create_person_merge;
pub mod m20261121_000015_create_eligibility;
mod m20261121_000016_create_tracking;
mod m20261121_000017_referral_open_once;
mod m20261122_000018_queue_indexes;
mod m20261122_000019_citizen_accounts;
mod m20261122_000020_coverage;
mod m20261122_000021_coverage_month;
mod m20261122_000022_coverage_gap;
mod m20261123_000023_legacy_import;
mod m20261123_000024_api_clients;
mod m20261123_000025_feedback_from_agencies;
mod m20261123_000026_import_enrollments;
mod m20261123_000027_legacy_upload;
mod m20261207_000028_person_blocking_index;
mod m20261207_000029_one_blind_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_agency::Migration),
            Box::new(m20261121_000002_create_borough::Migration),
            Box::new(m20261121_000003_create_office::Migration),
            Box::new(m20261121_000004_create_program::Migration),
            Box::new(m20261121_000005_create_life_event::Migration),
            Box::new(m20261121_000006_create_life_event_program::Migration),
            Box::new(m20261121_000007_create_staff::Migration),
            Box::new(m20261121_000008_create_session::Migration),
            Box::new(m20261121_000009_create_audit_event::Migration),
            Box::new(m20261121_000010_create_demo_account::Migration),
            Box::new(m20261121_000011_create_person::Migration),
            Box::new(m20261121_000012_create_vault_canary::Migration),
            Box::new(m20261121_000013_create_household::Migration),
            Box::new(m20261121_000014_create_person_merge::Migration),
            Box::new(m20261121_000015_create_eligibility::Migration),
            Box::new(m20261121_000016_create_tracking::Migration),
            Box::new(m20261121_000017_referral_open_once::Migration),
            Box::new(m20261122_000018_queue_indexes::Migration),
            Box::new(m20261122_000019_citizen_accounts::Migration),
            Box::new(m20261122_000020_coverage::Migration),
            Box::new(m20261122_000021_coverage_month::Migration),
            Box::new(m20261122_000022_coverage_gap::Migration),
            Box::new(m20261123_000023_legacy_import::Migration),
            Box::new(m20261123_000024_api_clients::Migration),
            Box::new(m20261123_000025_feedback_from_agencies::Migration),
            Box::new(m20261123_000026_import_enrollments::Migration),
            Box::new(m20261123_000027_legacy_upload::Migration),
            Box::new(m20261207_000028_person_blocking_index::Migration),
            Box::new(m20261207_000029_one_blind_index::Migration),
        ]
    }
}

/// Tables this crate creates, in creation order (tests check that `down` removes them all).
pub const TABLES: &[&str] = &[
    "agency",
    "borough",
    "office",
    "program",
    "life_event",
    "life_event_program",
    "staff",
    "session",
    "sign_in_throttle",
    "audit_event",
    "demo_account",
    "person",
    "person_contact",
    "person_identifier",
    "vault_canary",
    "household",
    "household_member",
    "person_relationship",
    "person_fact",
    "person_change",
    "synthetic_duplicate",
    "duplicate_review",
    "person_merge",
    "wage_value",
    "program_incompatible",
    "indicator",
    "program_indicator",
    "program_rule",
    "holiday",
    "folio_counter",
    "enrollment",
    "enrollment_event",
    "enrollment_escalation",
    "enrollment_assignment",
    "job_lease",
    "referral",
    "case_note",
    "citizen_account",
    "citizen_session",
    "feedback",
    "target_population",
    "coverage_member",
    "program_tally",
    "indicator_tally",
    "coverage_snapshot",
    "coverage_month",
    "legacy_import",
    "legacy_link",
    "api_client",
    "api_idempotency",
    "legacy_upload",
];
