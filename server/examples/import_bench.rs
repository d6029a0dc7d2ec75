//! `make bench`, P6: the legacy import (`angel import persons`, everything after reading the
//! file: checks, standardizing, validation, matching, sealing, blind indexes, audited chunks) of
//! a synthetic agency file into a fresh database, against the engine's own bulk path for the
//! same rows measured in the same process: SQLite's `INSERT … SELECT` from a staging table
//! holding the file's rows, PostgreSQL's `COPY … FROM STDIN` of the file's bytes.
//!
//! `import_bench plain` imports without the probable-duplicate search (`--no-fuzzy`),
//! `import_bench fuzzy` with it, one mode per process. The peak memory printed (`VmHWM`: the
//! generated file, the import's chunks, the database's caches) is started again just before
//! each import, so it is that import's; the baseline runs after the import, into new tables of
//! the same database, so that nothing it freed is still resident when the peak starts again.
//! `ANGEL_BENCH_IMPORT_ROWS` rows (default 100,000), on SQLite and, with
//! `ANGEL_BENCH_POSTGRES_URL`, on PostgreSQL (`ANGEL_BENCH_ENGINES` as for database_bench);
//! `ANGEL_BENCH_IMPORT_CHUNK` rows per chunk (default: the import's own).
//!
//! After each run it prints where the time went: the import's `import.*` spans (debug level,
//! see `legacy::Run::decide`), each phase's own time (its nested phases' taken out), so the
//! phases add up to the import's time less what no span covers. With fuzzy matching it then
//! prints how many people the duplicate blocking read (the `blocking` events of
//! `registry::Blocked::read`): through birth dates, through name keys, and whole.

#[path = "common/mod.rs"]
mod common;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use angel_app::ssr::services::legacy::Options;
use angel_migration::{Migrator, MigratorTrait};
use angel_server::synthetic::{Generator, LEGACY_HEADER as HEADER};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Statement, TransactionTrait};

/// A span's clock while it is open.
struct Open {
    started: Instant,
    /// Time spent in spans opened inside it.
    nested: Duration,
}

/// The time of each phase: `(calls, own time)` by span name.
type Times = Arc<Mutex<BTreeMap<&'static str, (u64, Duration)>>>;

/// The duplicate blocking's `blocking` events' fields, summed: people read through birth
/// dates and through name keys, pairs scored, and people read whole as likely duplicates.
type Counts = Arc<Mutex<BTreeMap<&'static str, u64>>>;

/// Sums each `import.*` span's own time (its wall time less its nested spans'), and the
/// `blocking` events' counts.
struct Phases(Times, Counts);

/// Adds an event's integer fields to [`Counts`].
struct Summing<'c>(&'c mut BTreeMap<&'static str, u64>);

impl tracing::field::Visit for Summing<'_> {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        *self.0.entry(field.name()).or_default() += value;
    }

    fn record_i64(&mut self, field: &tracing::field::Field, value: i64) {
        self.record_u64(field, value.unsigned_abs());
    }

    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S> tracing_subscriber::Layer<S> for Phases
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Open {
                started: Instant::now(),
                nested: Duration::ZERO,
            });
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().name() == "blocking" {
            event.record(&mut Summing(&mut self.1.lock().expect("not poisoned")));
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<Open>() else {
            return;
        };
        let wall = open.started.elapsed();
        if let Some(parent) = span.parent()
            && let Some(p) = parent.extensions_mut().get_mut::<Open>()
        {
            p.nested += wall;
        }
        let mut times = self.0.lock().expect("not poisoned");
        let entry = times.entry(span.name()).or_default();
        entry.0 += 1;
        entry.1 += wall.saturating_sub(open.nested);
    }
}

/// Prints the phases of the import, longest first, against its whole time, then what the
/// duplicate blocking read.
fn print_phases(times: &Times, counts: &Counts, total: f64) {
    let mut phases: Vec<(&'static str, (u64, Duration))> =
        std::mem::take(&mut *times.lock().expect("not poisoned"))
            .into_iter()
            .filter(|(name, _)| name.starts_with("import."))
            .collect();
    phases.sort_by(|a, b| b.1.1.cmp(&a.1.1));
    let covered: f64 = phases.iter().map(|(_, (_, d))| d.as_secs_f64()).sum();
    println!("  where the time went (own time of each phase):");
    for (name, (calls, own)) in phases {
        let own = own.as_secs_f64();
        println!(
            "    {name:<28} {own:>8.2} s {:>5.1} %   ({calls} calls)",
            100.0 * own / total
        );
    }
    println!(
        "    {:<28} {:>8.2} s {:>5.1} %",
        "(outside the phases)",
        total - covered,
        100.0 * (total - covered) / total
    );
    let counts = std::mem::take(&mut *counts.lock().expect("not poisoned"));
    if !counts.is_empty() {
        let count = |field: &str| counts.get(field).copied().unwrap_or(0);
        println!(
            "  duplicate blocking read the names of {} people through birth dates and {} through \
             name keys; {} pairs were scored (the others ruled out by the letters of their name \
             keys); {} people were read whole as likely duplicates",
            count("by_date"),
            count("by_key"),
            count("scored"),
            count("likely")
        );
    }
}

/// Rows per second of the engine's own bulk path for the file's rows.
async fn baseline(db: &DatabaseConnection, engine: &str, file: &[u8]) -> anyhow::Result<f64> {
    let columns = HEADER
        .iter()
        .map(|c| format!("{c} TEXT"))
        .collect::<Vec<_>>()
        .join(", ");
    for table in ["bench_staging", "bench_copy"] {
        db.execute_unprepared(&format!("CREATE TABLE {table} ({columns})"))
            .await?;
    }
    let mut reader = csv::Reader::from_reader(file);
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    let rows = records.len() as f64;
    if engine == "postgres" {
        use sea_orm::sqlx::postgres::PgPoolCopyExt;
        let pool = db.get_postgres_connection_pool();
        let started = Instant::now();
        let mut copy = pool
            .copy_in_raw("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)")
            .await?;
        copy.send(file).await?;
        copy.finish().await?;
        return Ok(rows / started.elapsed().as_secs_f64());
    }
    // The staging table holds the file's rows (not timed); SQLite then copies them.
    let backend = db.get_database_backend();
    let tx = db.begin().await?;
    for chunk in records.chunks(500) {
        let marks = vec![format!("({})", vec!["?"; HEADER.len()].join(",")); chunk.len()];
        let values: Vec<sea_orm::Value> = chunk
            .iter()
            .flat_map(|r| r.iter().map(|c| c.to_owned().into()).collect::<Vec<_>>())
            .collect();
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            format!("INSERT INTO bench_staging VALUES {}", marks.join(",")),
            values,
        ))
        .await?;
    }
    tx.commit().await?;
    let started = Instant::now();
    let tx = db.begin().await?;
    tx.execute_unprepared("INSERT INTO bench_copy SELECT * FROM bench_staging")
        .await?;
    tx.commit().await?;
    Ok(rows / started.elapsed().as_secs_f64())
}

async fn engine(
    name: &str,
    rows: u64,
    fuzzy: bool,
    times: &Times,
    counts: &Counts,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let settings = common::settings_for(name, dir.path(), "angel_import_bench").await?;
    let db = angel_server::db::connect(&settings).await?;
    Migrator::up(&db, None).await?;
    angel_server::seed::run(&db).await?;
    let boroughs: Vec<(String, u64)> = angel_entity::borough::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .map(|b| (b.inegi_code, u64::try_from(b.population_2020).unwrap_or(0)))
        .collect();
    let file = Generator::new(7, boroughs, Utc::now().date_naive()).legacy_file(rows)?;
    let state = angel_server::http::app_state(db, &settings).await?;

    let mode = if fuzzy {
        "with fuzzy matching"
    } else {
        "without fuzzy matching"
    };
    println!(
        "== P6 legacy import {mode}, {name}: {rows} rows ({:.1} MiB synthetic agency file) ==",
        file.len() as f64 / 1_048_576.0
    );
    times.lock().expect("not poisoned").clear();
    counts.lock().expect("not poisoned").clear();
    // The peak printed is the import's: the baseline runs after it, since an allocator may
    // keep what the baseline freed resident for a while, counted at the reset.
    let reset = common::reset_peak_memory();
    let started = Instant::now();
    let checked = angel_server::legacy::check(&file, None)
        .map_err(|p| anyhow::anyhow!("the file was refused: {p:?}"))?;
    let mut options = Options {
        fuzzy,
        ..Options::default()
    };
    if let Some(chunk) = std::env::var("ANGEL_BENCH_IMPORT_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options.chunk = chunk;
    }
    let mut report = csv::Writer::from_writer(std::io::sink());
    let summary =
        angel_server::legacy::import(&state, &checked, "SEDESO", options, &mut report, |_| {})
            .await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = common::peak_memory_mib().unwrap_or(f64::NAN);
    let rate = rows as f64 / seconds;
    let bulk = baseline(&state.db, name, &file).await?;
    let bulk_name = if name == "postgres" {
        "PostgreSQL COPY of the same file"
    } else {
        "SQLite INSERT … SELECT of the same rows"
    };
    println!("  import: {summary}");
    println!("  import {mode:<45} {rate:>10.0} rows/s   ({seconds:.1} s)");
    println!("  {bulk_name:<52} {bulk:>10.0} rows/s");
    println!(
        "  ratio {:.4} (goal ≥ {}); rows/s goal ≥ {}; peak memory {:.0} MiB {} (goal ≤ 1024)",
        rate / bulk,
        if name == "postgres" { "0.40" } else { "0.125" },
        if fuzzy { "20,000" } else { "200,000" },
        peak,
        if reset {
            "during the import, the file's bytes included"
        } else {
            "in the whole process so far"
        }
    );
    print_phases(times, counts, seconds);
    let _ = state.db.clone().close().await;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let fuzzy = match std::env::args().nth(1).as_deref() {
        Some("plain") => false,
        Some("fuzzy") => true,
        _ => anyhow::bail!("usage: import_bench plain|fuzzy"),
    };
    let rows: u64 = std::env::var("ANGEL_BENCH_IMPORT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let engines = std::env::var("ANGEL_BENCH_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    let times = Times::default();
    let counts = Counts::default();
    {
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry()
            .with(
                tracing_subscriber::filter::Targets::new()
                    .with_target("angel_app::ssr::services::legacy", tracing::Level::DEBUG)
                    .with_target("angel_app::ssr::services::registry", tracing::Level::DEBUG),
            )
            .with(Phases(times.clone(), counts.clone()));
        tracing::subscriber::set_global_default(subscriber)?;
    }
    tokio::runtime::Runtime::new()?.block_on(async {
        if engines.contains("sqlite") {
            engine("sqlite", rows, fuzzy, &times, &counts).await?;
        }
        if engines.contains("postgres") {
            if std::env::var("ANGEL_BENCH_POSTGRES_URL").is_ok() {
                engine("postgres", rows, fuzzy, &times, &counts).await?;
            } else {
                println!("(PostgreSQL skipped: ANGEL_BENCH_POSTGRES_URL not set)");
            }
        }
        Ok(())
    })
}
