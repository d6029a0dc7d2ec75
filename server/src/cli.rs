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
    Seed {
        /// Also create demo staff for every role and print their passwords (demo databases
        /// only: the sign-in page then lists them).
        #[arg(long)]
        demo: bool,
        /// Also generate N synthetic people (deterministic; labelled synthetic everywhere).
        #[arg(long, value_name = "N")]
        synthetic: Option<u64>,
        /// Seed of the synthetic population: the same seed gives the same people.
        #[arg(long, default_value_t = 42, requires = "synthetic")]
        seed: u64,
        /// Generate the synthetic population only when the database has none yet.
        #[arg(long, requires = "synthetic")]
        if_empty: bool,
    },
    /// Staff accounts.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// The agency API: clients and the OpenAPI document.
    Api {
        #[command(subcommand)]
        action: ApiAction,
    },
    /// Program eligibility rules.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// CURP tools for data officers.
    Curp {
        #[command(subcommand)]
        action: CurpAction,
    },
    /// Create the vault's key file (mode 0600) in the data directory.
    ///
    /// Never overwrites one, and never creates keys for a database that already holds
    /// encrypted data.
    Keygen {
        /// Succeed without doing anything when the key file exists or ANGEL_KEYS is set.
        #[arg(long)]
        if_missing: bool,
    },
    /// The vault's key ring: rotation, retirement of old versions, status.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Background jobs (`serve` runs them every five minutes on whichever instance holds the
    /// job's lease).
    Jobs {
        #[command(subcommand)]
        action: JobsAction,
    },
    /// Load data from files.
    Import {
        #[command(subcommand)]
        what: ImportAction,
    },
    /// Write data to files.
    Export {
        #[command(subcommand)]
        what: ExportAction,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum ExportAction {
    /// Every policy aggregate (coverage of each indicator by borough, figures by program for
    /// the city and each borough, data quality) as CSV and JSON in DIR, with a data dictionary
    /// (diccionario.csv). Small cells suppressed as on screen; no person-level data.
    OpenData { dir: std::path::PathBuf },
}

#[derive(Debug, Clone, Subcommand)]
pub enum ImportAction {
    /// Target populations of the indicators per borough and year: INEGI's ITER census table
    /// (aggregated to boroughs) or a CSV with the columns indicator,borough,year,count,source.
    /// The whole file or nothing: every problem is listed by line and column.
    Census {
        file: std::path::PathBuf,
        /// The census year of an ITER table.
        #[arg(long, default_value_t = 2020)]
        year: i32,
        /// Replace counts already stored with other values (otherwise listed and refused).
        #[arg(long)]
        replace: bool,
    },
    /// People as an agency's own system exports them (CSV: UTF-8 with or without BOM or
    /// Latin-1, `,` or `;`): standardized, validated like the intake form, matched against the
    /// registry (CURP, then the duplicate rules) and written in checkpointed chunks; running the
    /// same file again resumes an interrupted run or finds every record imported. A malformed
    /// line or an unknown header refuses the whole file; a bad row is refused alone. The report
    /// (one CSV line per row: outcome, masked ID, reasons in Spanish and English) goes to
    /// standard output or --report; the counts to standard error.
    Persons {
        file: std::path::PathBuf,
        /// The agency whose records these are (its code, e.g. SIBISO).
        #[arg(long)]
        agency: String,
        /// Their headers → our fields, their sex values → H/M/X (TOML; README "Legacy import").
        /// Without it the headers must be our field codes.
        #[arg(long)]
        mapping: Option<std::path::PathBuf>,
        /// Read, standardize and match, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Skip the probable-duplicate search for new people (exact CURP matching only).
        #[arg(long)]
        no_fuzzy: bool,
        /// Rows per committed chunk (100 to 10,000). Larger chunks import faster on SQLite and
        /// make other writes (caseworkers saving a form) wait longer while each one is written:
        /// up to about 3 s at 10,000 against a million people. For loads outside office hours.
        #[arg(long, default_value_t = angel_app::ssr::services::legacy::CHUNK,
              value_parser = chunk_rows)]
        chunk: usize,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        report: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum JobsAction {
    /// Run the background jobs once. Escalation: requests awaiting a decision past their due
    /// date rise to level 1 (office supervisor) on the due date, 2 (agency head) five business
    /// days later, 3 (central coordination) ten business days after it. Eligibility gap: every
    /// active profile evaluated under the rules in force, for the policy dashboard.
    RunOnce {
        /// The moment to run at, RFC 3339 (`2026-12-01T09:00:00Z`) or a date (09:00 UTC that
        /// day) [default: now]. For tests and for catching up.
        #[arg(long, value_name = "WHEN")]
        now: Option<String>,
    },
}

/// `--now` of `jobs run-once`.
fn parse_now(text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        anyhow::anyhow!("--now must be RFC 3339 (2026-12-01T09:00:00Z) or a date (2026-12-01)")
    })?;
    Ok(day.and_hms_opt(9, 0, 0).expect("09:00 exists").and_utc())
}

/// `--chunk` of `import persons`: a whole number of rows from 100 to
/// [`MAX_CHUNK`](angel_app::ssr::services::legacy::MAX_CHUNK).
fn chunk_rows(text: &str) -> Result<usize, String> {
    use angel_app::ssr::services::legacy::MAX_CHUNK;
    match text.trim().parse::<usize>() {
        Ok(rows) if (100..=MAX_CHUNK).contains(&rows) => Ok(rows),
        _ => Err(format!(
            "debe ser un número de filas de 100 a {MAX_CHUNK} / \
             must be a number of rows from 100 to {MAX_CHUNK}"
        )),
    }
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum KeysAction {
    /// Add a new active key version and re-seal every envelope with it (resumable: run it
    /// again after an interruption to finish the same rotation).
    Rotate,
    /// Remove an old key version from the ring once no envelope uses it.
    Retire {
        /// The version to remove.
        version: u32,
    },
    /// Versions in the ring and in use, rows waiting for re-encryption.
    Status,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum CurpAction {
    /// Read CURPs one per line on stdin; write `CURP<TAB>valid|invalid<TAB>reason` per line.
    Check,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AdminAction {
    /// Create an administrator and print a one-time sign-in token (there are no default
    /// accounts); the person chooses a password with it at /activar.
    Create {
        #[arg(long)]
        username: String,
        /// The person's name as shown on screens [default: the username].
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum ApiAction {
    /// Create an API client for an agency and print its credential (shown once). Usually done
    /// at /admin/api; this is for automation and first setups.
    Client {
        /// The agency's code (SEDESO, IAAM, DIF…).
        #[arg(long)]
        agency: String,
        /// The name of the agency's system.
        #[arg(long)]
        name: String,
        /// Days until it expires (1–365).
        #[arg(long, default_value_t = 90)]
        days: u16,
    },
    /// Print the OpenAPI document of /api/v1 (also served at /api/v1/openapi.json).
    Openapi,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum RulesAction {
    /// Run the test cases of every program's current and pending rule versions: one line per
    /// program, then `N passed, M failed` (exit 1 on any failure).
    Test,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain: prints `OK …` or the first broken sequence number (exit 1).
    Verify,
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

/// Field errors of a command's input, one `field: code` each.
fn invalid(errors: &[angel_app::error::FieldError]) -> anyhow::Error {
    let list: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.code))
        .collect();
    anyhow::anyhow!("invalid: {}", list.join(", "))
}

/// Runs one command with validated settings.
///
/// # Errors
/// Database, I/O and migration errors, with context.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    use anyhow::Context;
    // Needs no database: answers before connecting.
    if let Command::Curp {
        action: CurpAction::Check,
    } = command
    {
        return curp_check(std::io::stdin().lock(), std::io::stdout().lock());
    }
    if let Command::Api {
        action: ApiAction::Openapi,
    } = command
    {
        println!("{}", crate::http::api::document());
        return Ok(());
    }
    let db = crate::db::connect(&settings)
        .await
        .context("cannot open the database")?;
    // Every command but these refuses to run without the right keys (the canary opens first).
    if !matches!(command, Command::Migrate { .. } | Command::Keygen { .. }) {
        ensure_migrated(&db).await?;
        crate::keys::open_vault(&db, &settings).await?;
    }
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
        Command::Keygen { if_missing } => {
            ensure_migrated(&db).await?;
            println!("{}", crate::keys::keygen(&db, &settings, if_missing).await?);
        }
        Command::Keys { action } => {
            let report = match action {
                KeysAction::Rotate => crate::keys::rotate(&db, &settings).await?,
                KeysAction::Retire { version } => {
                    crate::keys::retire(&db, &settings, version).await?
                }
                KeysAction::Status => crate::keys::status(&db, &settings).await?,
            };
            println!("{report}");
        }
        Command::Seed {
            demo,
            synthetic,
            seed,
            if_empty,
        } => {
            let report = crate::seed::run(&db).await.context("seed failed")?;
            println!("seed: {report}");
            let state = crate::http::app_state(db, &settings).await?;
            if let Some(count) = synthetic {
                if if_empty && crate::synthetic::count(&state.db).await? > 0 {
                    println!(
                        "seed: la población sintética ya existe / synthetic population already present"
                    );
                } else {
                    let options = crate::synthetic::Options { count, seed };
                    let report = crate::synthetic::seed(&state, options, true)
                        .await
                        .context("synthetic seed failed")?;
                    println!("seed: {report}");
                    let report = crate::synthetic_tracking::seed(&state, seed, true)
                        .await
                        .context("synthetic requests failed")?;
                    println!("seed: {report}");
                }
            }
            if demo {
                let accounts = crate::demo::seed(&state)
                    .await
                    .context("demo seed failed")?;
                println!("Cuentas de demostración (solo en esta base de datos) / demo accounts:");
                for (username, password) in accounts {
                    println!("  {username:<18} {password}");
                }
            }
        }
        Command::Import {
            what:
                ImportAction::Census {
                    file,
                    year,
                    replace,
                },
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let state = crate::http::app_state(db, &settings).await?;
            match crate::census::import(&state, &bytes, year, replace).await {
                Ok(done) => println!("census: {done}"),
                Err(crate::census::Refused::File(problems)) => {
                    for p in &problems {
                        eprintln!("{}: {p}", file.display());
                    }
                    anyhow::bail!("{} problems: nothing imported", problems.len());
                }
                Err(crate::census::Refused::Stored(lines)) => {
                    for l in &lines {
                        eprintln!("{l}");
                    }
                    anyhow::bail!(
                        "{} counts already stored with other values: nothing imported \
                         (--replace replaces them)",
                        lines.len()
                    );
                }
                Err(crate::census::Refused::Db(e)) => return Err(anyhow::anyhow!("{e}")),
            }
        }
        Command::Import {
            what:
                ImportAction::Persons {
                    file,
                    agency,
                    mapping,
                    dry_run,
                    no_fuzzy,
                    chunk,
                    report,
                },
        } => {
            let options = angel_app::ssr::services::legacy::Options {
                dry_run,
                fuzzy: !no_fuzzy,
                chunk,
            };
            crate::legacy::run_cli(
                db,
                &settings,
                &file,
                &agency,
                mapping.as_deref(),
                options,
                report.as_deref(),
            )
            .await?;
        }
        Command::Export {
            what: ExportAction::OpenData { dir },
        } => {
            let state = crate::http::app_state(db, &settings).await?;
            let done = crate::open_data::export(&state.db, &dir, state.clock.now())
                .await
                .context("open data export failed")?;
            println!(
                "open data: {} tables, {} rows, in {} (diccionario.csv describes them)",
                done.tables,
                done.rows,
                dir.display()
            );
        }
        Command::Admin {
            action: AdminAction::Create { username, name },
        } => {
            let state = crate::http::app_state(db, &settings).await?;
            let form = angel_app::staff::forms::StaffForm {
                display_name: name.unwrap_or_else(|| username.clone()),
                username,
                role: angel_app::domain::access::Role::Administrator
                    .code()
                    .to_owned(),
                ..Default::default()
            };
            match angel_app::ssr::services::staff::create(&state, None, &form, None).await {
                Ok((_, token)) => {
                    println!(
                        "Administrador creado / administrator created: {}",
                        form.username.trim().to_lowercase()
                    );
                    println!("Código de un solo uso / one-time token (72 h): {token}");
                    println!("Elige la contraseña en / choose the password at: /activar");
                }
                Err(angel_app::ssr::ServiceError::Invalid(errors)) => {
                    return Err(invalid(&errors));
                }
                Err(other) => return Err(anyhow::anyhow!("{other}")),
            }
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let verdict = angel_app::ssr::audit::verify(&db).await?;
            println!("{verdict}");
            if !matches!(verdict, angel_app::ssr::audit::Verdict::Intact(_)) {
                std::process::exit(1);
            }
        }
        Command::Rules {
            action: RulesAction::Test,
        } => {
            let today = angel_app::ssr::services::registry::today(chrono::Utc::now());
            let lines = angel_app::ssr::services::eligibility::test_all(&db, today)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (report, failed) = rules_report(&lines);
            print!("{report}");
            if failed > 0 {
                std::process::exit(1);
            }
        }
        Command::Jobs {
            action: JobsAction::RunOnce { now },
        } => {
            let now = match now {
                Some(text) => parse_now(&text)?,
                None => chrono::Utc::now(),
            };
            let state = crate::http::app_state(db, &settings).await?;
            let holder = format!("cli-{}", std::process::id());
            let run =
                angel_app::ssr::services::jobs::escalate(&state.db, &state.audit, &holder, now)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            match run {
                Some(run) => println!(
                    "escalation: level 1 +{}, level 2 +{}, level 3 +{}",
                    run.raised[0], run.raised[1], run.raised[2]
                ),
                None => {
                    println!("escalation: another instance holds the lease; nothing done");
                }
            }
            match angel_app::ssr::services::gap::run(&state.db, &holder, now)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                Some(gap) => println!(
                    "eligibility gap: {} active profiles evaluated, {} program × borough cells",
                    gap.people,
                    gap.cells.len()
                ),
                None => println!("eligibility gap: another instance holds the lease; nothing done"),
            }
        }
        Command::Curp { .. }
        | Command::Api {
            action: ApiAction::Openapi,
        } => unreachable!("answered before the database is opened"),
        Command::Api {
            action: ApiAction::Client { agency, name, days },
        } => {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            let state = crate::http::app_state(db, &settings).await?;
            let found = angel_entity::agency::Entity::find()
                .filter(angel_entity::agency::Column::Code.eq(agency.trim().to_uppercase()))
                .one(&state.db)
                .await?
                .with_context(|| format!("no agency with the code {agency:?}"))?;
            let form = angel_app::staff::forms::ApiClientForm {
                agency: found.id.to_string(),
                name,
                days: days.to_string(),
                ..Default::default()
            };
            match angel_app::ssr::services::api_clients::create(&state, None, &form, None).await {
                Ok(made) => {
                    eprintln!(
                        "Cliente de la API creado / API client created: {} ({}), vence / expires {}",
                        made.key_id, found.code, made.expires_at
                    );
                    // Alone on standard output, for scripts; not shown again.
                    println!("{}", made.credential);
                }
                Err(angel_app::ssr::ServiceError::Invalid(errors)) => {
                    return Err(invalid(&errors));
                }
                Err(other) => return Err(anyhow::anyhow!("{other}")),
            }
        }
        Command::Serve => {
            let listener = TcpListener::bind(settings.bind)
                .await
                .with_context(|| format!("cannot listen on {}", settings.bind))?;
            let addr = listener.local_addr()?;
            let state = crate::http::app_state(db, &settings).await?;
            crate::http::spawn_jobs(state.clone());
            let app = crate::http::router_for(state, &settings);
            println!("Ángel está listo en http://{addr}/  (Ctrl+C para detener)");
            tracing::info!(%addr, "listening");
            crate::http::serve(listener, app).await?;
            tracing::info!("stopped");
        }
    }
    Ok(())
}

/// One line per program (its current and pending versions with their results), then the
/// totals; returns the text and the number of failed cases.
fn rules_report(lines: &[angel_app::ssr::services::eligibility::TestLine]) -> (String, usize) {
    use std::fmt::Write;
    let mut out = String::new();
    let mut programs: Vec<&str> = lines.iter().map(|l| l.program.as_str()).collect();
    programs.dedup();
    for program in programs {
        let parts: Vec<String> = lines
            .iter()
            .filter(|l| l.program == program)
            .map(|l| {
                let total = l.passed + l.failed.len();
                let mut part = format!("v{} {} {}/{}", l.version, l.standing, l.passed, total);
                if !l.failed.is_empty() {
                    part.push_str(&format!(" FAILED: {}", l.failed.join("; ")));
                }
                part
            })
            .collect();
        let _ = writeln!(out, "{program:<8} {}", parts.join(" · "));
    }
    let passed: usize = lines.iter().map(|l| l.passed).sum();
    let failed: usize = lines.iter().map(|l| l.failed.len()).sum();
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (out, failed)
}

async fn ensure_migrated(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let pending = crate::db::pending_migrations(db).await?;
    anyhow::ensure!(
        pending.is_empty(),
        "run `angel migrate` first: {} pending",
        pending.len()
    );
    Ok(())
}

/// `angel curp check`: one line out per line in, reason empty when valid. Blank lines are kept
/// as `<TAB>invalid<TAB>curp_length` so that the output lines up with the input.
fn curp_check(input: impl std::io::BufRead, mut output: impl std::io::Write) -> anyhow::Result<()> {
    use angel_app::domain::curp::{Curp, Date};
    use chrono::Datelike;
    let now = chrono::Local::now().date_naive();
    let today = Date {
        year: now.year(),
        month: now.month(),
        day: now.day(),
    };
    for line in input.lines() {
        let line = line?;
        let shown = angel_app::domain::curp::normalize(&line);
        match Curp::parse(&line, today) {
            Ok(_) => writeln!(output, "{shown}\tvalid\t")?,
            Err(e) => writeln!(output, "{shown}\tinvalid\t{}", e.code())?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Cli, Command, ImportAction};

    /// The chunk `import persons` would use, or clap's error.
    fn chunk_of(args: &[&str]) -> Result<usize, clap::Error> {
        let base = ["angel", "import", "persons", "f.csv", "--agency", "SIBISO"];
        let cli = Cli::try_parse_from(base.iter().chain(args))?;
        match cli.command {
            Command::Import {
                what: ImportAction::Persons { chunk, .. },
            } => Ok(chunk),
            other => panic!("not an import of persons: {other:?}"),
        }
    }

    #[test]
    fn import_persons_chunk_defaults_to_the_screens_and_stays_in_range() {
        use angel_app::ssr::services::legacy::{CHUNK, MAX_CHUNK};
        assert_eq!(chunk_of(&[]).unwrap(), CHUNK);
        assert_eq!(chunk_of(&["--chunk", "10000"]).unwrap(), MAX_CHUNK);
        assert_eq!(chunk_of(&["--chunk", "100"]).unwrap(), 100);
        for refused in ["99", "10001", "0", "-5", "diez", ""] {
            let error = chunk_of(&[&format!("--chunk={refused}")])
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("must be a number of rows from 100 to 10000")
                    && error.contains("debe ser un número de filas"),
                "--chunk {refused:?}: {error}"
            );
        }
    }

    #[test]
    fn curp_check_writes_one_line_per_input_line() {
        let input = "HEGG560427MVZRRL04\n hegg560427mvzrrl05\n\nPUTO\n";
        let mut out = Vec::new();
        super::curp_check(input.as_bytes(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            "HEGG560427MVZRRL04\tvalid\t\nHEGG560427MVZRRL05\tinvalid\tcurp_check_digit\n\tinvalid\tcurp_length\nPUTO\tinvalid\tcurp_length\n"
        );
    }
}
