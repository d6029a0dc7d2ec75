//! The citizen portal: the anonymous eligibility check (`/revisa`) and following a request by
//! folio and birth date (`/seguimiento`).

pub mod api;
pub mod dto;
pub mod forms;
pub mod pages;
pub mod screener;
