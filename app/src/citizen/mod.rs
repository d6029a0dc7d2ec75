//! The citizen's account (`/mi-cuenta`): activation with the Ángel card, sign-in, their own
//! profile summary and requests across agencies, who looked at their data, and ratings of
//! decided requests.

pub mod api;
pub mod dto;
pub mod forms;
pub mod pages;
