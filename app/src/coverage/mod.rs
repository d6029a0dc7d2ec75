//! Coverage of the social policy indicators for policy officers (`/politica`): the share of
//! each indicator's target population reached, by borough. Aggregates only, small cells
//! suppressed (see [`crate::domain::disclosure`]).

pub mod admin;
pub mod api;
pub mod dto;
pub mod figures;
pub mod forms;
pub mod pages;
