//! The registry: one profile per person. Finding people (CURP, card, name + birth date),
//! registering them with duplicate checks, and their profile.

pub mod api;
pub mod dto;
pub mod facts;
pub mod forms;
pub mod merge;
pub mod pages;
