//! Pure rules of the domain: no Leptos, no database, no clock, no environment.
//!
//! Everything here compiles into the browser too, so the same code answers on both sides.

pub mod access;
pub mod calendar;
pub mod card;
pub mod curp;
pub mod disclosure;
pub mod eligibility;
pub mod facts;
pub mod folio;
pub mod lifecycle;
pub mod names;
pub mod password;
pub mod referral;
pub mod standardize;
pub mod text;
