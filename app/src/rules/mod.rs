//! The program rule editor at `/admin/reglas`: drafts edited as rows of criteria, their test
//! cases run on every save, publication refused while a case fails, and the impact of a draft on
//! the registered population.

pub mod api;
pub mod dto;
pub mod forms;
pub mod pages;
