//! Tracking a request across agencies: the agency queue and decision screen, status changes
//! with reason codes, case notes, escalations, and the person's timeline.

pub mod api;
pub mod dto;
pub mod forms;
pub mod pages;
