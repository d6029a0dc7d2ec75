//! The `angel` server: configuration, telemetry, the HTTP application, CLI commands and the
//! reference-catalog seed. `main.rs` only calls [`cli::main`].

pub mod census;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod http;
pub mod keys;
pub mod legacy;
pub mod open_data;
pub mod seed;
pub mod synthetic;
pub mod synthetic_tracking;
pub mod tabular;
pub mod telemetry;
