//! Logging: `tracing` with `RUST_LOG` filters; JSON lines in production.
//!
//! Spans and events carry ids, methods, paths and statuses, never query strings or bodies:
//! those may hold a CURP, a name or a note.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::Environment;

/// Default filter: the app at info, the database drivers quiet (they could echo SQL).
const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";

/// Installs the global subscriber, writing to stderr (stdout carries command output).
/// Safe to call more than once (later calls do nothing).
pub fn init(env: Environment) {
    install(env, std::io::stderr, std::io::stderr().is_terminal());
}

/// [`init`] writing to `writer`: what a test reads to check what the server logs.
pub fn install<W>(env: Environment, writer: W, ansi: bool)
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let layer = fmt::layer().with_writer(writer);
    let _ = match env {
        Environment::Production => registry.with(layer.json().flatten_event(true)).try_init(),
        Environment::Development => registry
            .with(layer.with_target(false).with_ansi(ansi))
            .try_init(),
    };
}
