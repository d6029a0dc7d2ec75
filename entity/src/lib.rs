//! sea-orm entities: one module per table, mirroring `angel-migration`.
//!
//! Entities are the storage shape only. Screens never see them: services map them to DTOs.
//! Relations are resolved in services with explicit queries, so no entity declares joins.

pub mod agency;
pub mod api_client;
pub mod api_idempotency;
pub mod audit_event;
pub mod borough;
pub mod case_note;
pub mod citizen_account;
pub mod citizen_session;
pub mod coverage_gap;
pub mod coverage_gap_run;
pub mod coverage_member;
pub mod coverage_month;
pub mod coverage_snapshot;
pub mod demo_account;
pub mod duplicate_review;
pub mod enrollment;
pub mod enrollment_assignment;
pub mod enrollment_escalation;
pub mod enrollment_event;
pub mod feedback;
pub mod folio_counter;
pub mod holiday;
pub mod household;
pub mod household_member;
pub mod indicator;
pub mod indicator_tally;
pub mod job_lease;
pub mod legacy_import;
pub mod legacy_link;
pub mod legacy_upload;
pub mod life_event;
pub mod life_event_program;
pub mod office;
pub mod person;
pub mod person_change;
pub mod person_contact;
pub mod person_fact;
pub mod person_identifier;
pub mod person_merge;
pub mod person_relationship;
pub mod program;
pub mod program_incompatible;
pub mod program_indicator;
pub mod program_rule;
pub mod program_tally;
pub mod referral;
pub mod session;
pub mod sign_in_throttle;
pub mod staff;
pub mod synthetic_duplicate;
pub mod target_population;
pub mod wage_value;

pub mod prelude {
    pub use super::agency::Entity as Agency;
    pub use super::borough::Entity as Borough;
    pub use super::life_event::Entity as LifeEvent;
    pub use super::life_event_program::Entity as LifeEventProgram;
    pub use super::office::Entity as Office;
    pub use super::person::Entity as Person;
    pub use super::person_contact::Entity as PersonContact;
    pub use super::person_identifier::Entity as PersonIdentifier;
    pub use super::program::Entity as Program;
    pub use super::session::Entity as Session;
    pub use super::staff::Entity as Staff;
}
