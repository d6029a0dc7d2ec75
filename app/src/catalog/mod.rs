//! The public catalog: life events and the programs of every agency they lead to.

pub mod api;
pub mod dto;
pub mod page;

pub use page::ProgramsPage;
