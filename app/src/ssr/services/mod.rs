//! Services: the operations screens and commands call. Each takes a connection explicitly.

pub mod agency_api;
pub mod api_clients;
pub mod catalog;
pub mod citizen;
pub mod coverage;
pub mod eligibility;
pub mod exchange;
pub mod figures;
pub mod gap;
pub mod indicators;
pub mod jobs;
pub mod legacy;
pub mod merge;
pub mod outreach;
pub mod portal;
pub mod profile;
pub mod referral;
pub mod registry;
pub mod rules;
pub mod staff;
pub mod tracking;
pub mod uploads;
pub mod work;
pub mod workload;
