//! Staff accounts: sign-in, one's own account, the office, agency, policy and administration
//! screens, and the server functions behind them.

pub mod api;
pub mod dto;
pub mod form_state;
pub mod forms;
pub mod imports;
pub mod pages;
