//! sea-orm entities: one module per table, mirroring `angel-migration`.
//!
//! Entities are the storage shape only. Screens never see them: services map them to DTOs.
//! Relations are resolved in services with explicit queries, so no entity declares joins.

pub mod agency;
pub mod borough;
pub mod life_event;
pub mod life_event_program;
pub mod office;
pub mod program;

pub mod prelude {
    pub use super::agency::Entity as Agency;
    pub use super::borough::Entity as Borough;
    pub use super::life_event::Entity as LifeEvent;
    pub use super::life_event_program::Entity as LifeEventProgram;
    pub use super::office::Entity as Office;
    pub use super::program::Entity as Program;
}
