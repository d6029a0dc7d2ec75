//! Life events → programs: the "¿Qué pasó?" conversation, explainable eligibility, and the
//! request of several programs at once with a printable receipt.

pub mod api;
pub mod dto;
pub mod explain;
pub mod forms;
pub mod pages;
