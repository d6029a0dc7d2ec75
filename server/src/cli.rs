//! The `angel` command line. Every command loads and validates the configuration first and
//! exits non-zero with a plain message when something is wrong.

use std::process::ExitCode;

use angel_migration::{Migrator, MigratorTrait};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{ConfigArgs, Settings};

/// Ángel: life-event social services case management for Mexico City.
#[derive(Debug, Parser)]
#[command(name = "angel", version)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application (apply migrations first with `angel migrate`).
    Serve,
    /// Apply, revert or list schema migrations.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Insert the missing rows of the reference catalog; never overwrites existing rows.
    Seed,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Revert the last N applied migrations.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match cli.config.load() {
        Ok(s) => s,
        Err(err) => {
            eprintln!("angel: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(settings.env);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("angel: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("angel: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command with validated settings.
///
/// # Errors
/// Database, I/O and migration errors, with context.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    use anyhow::Context;
    let db = crate::db::connect(&settings)
        .await
        .context("cannot open the database")?;
    match command {
        Command::Migrate { action } => match action.unwrap_or(MigrateAction::Up) {
            MigrateAction::Up => {
                Migrator::up(&db, None).await.context("migration failed")?;
                println!("migrations: schema is current");
            }
            MigrateAction::Down { steps } => {
                Migrator::down(&db, Some(steps))
                    .await
                    .context("rollback failed")?;
                println!("migrations: reverted {steps}");
            }
            MigrateAction::Status => {
                for m in Migrator::get_migration_with_status(&db).await? {
                    println!("{:?}\t{}", m.status(), m.name());
                }
            }
        },
        Command::Seed => {
            let pending = crate::db::pending_migrations(&db).await?;
            anyhow::ensure!(
                pending.is_empty(),
                "run `angel migrate` first: {} pending",
                pending.len()
            );
            let report = crate::seed::run(&db).await.context("seed failed")?;
            println!("seed: {report}");
        }
        Command::Serve => {
            let pending = crate::db::pending_migrations(&db).await?;
            anyhow::ensure!(
                pending.is_empty(),
                "run `angel migrate` first: {} pending",
                pending.len()
            );
            let listener = TcpListener::bind(settings.bind)
                .await
                .with_context(|| format!("cannot listen on {}", settings.bind))?;
            let addr = listener.local_addr()?;
            let app = crate::http::router(db, &settings);
            println!("Ángel está listo en http://{addr}/  (Ctrl+C para detener)");
            tracing::info!(%addr, "listening");
            crate::http::serve(listener, app).await?;
            tracing::info!("stopped");
        }
    }
    Ok(())
}
