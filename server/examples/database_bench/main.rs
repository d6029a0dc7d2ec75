//! `make bench`: the database-backed goals on a synthetic population (1,200,000 people unless
//! ANGEL_BENCH_PERSONS says otherwise, which with their request histories gives about 2M
//! requests), on a SQLite file (WAL, synchronous=FULL) and, when ANGEL_BENCH_POSTGRES_URL names
//! an admin URL, on PostgreSQL too. Each figure is printed next to a baseline measured in the
//! same run on the same database:
//!
//! - P1–P3 (registry: find by CURP, register, probable duplicates), see `registry.rs`;
//! - issue 6 (tracking: the agency queue, the person timeline, the escalation job), see
//!   `tracking.rs`;
//! - P5 (coverage reports: the served report against the plain GROUP BY, the extra cost on an
//!   enrollment write), see `coverage.rs`.
//!
//! `ANGEL_BENCH_ENGINES=postgres` measures one engine only; `ANGEL_BENCH_SKIP_REGISTRY` skips
//! P1–P3; `ANGEL_BENCH_SKIP_TRACKING` loads the request histories but skips issue 6's
//! measurements; `ANGEL_BENCH_SKIP_GAP` skips P5's eligibility gap job.

#[path = "../common/mod.rs"]
mod common;
mod coverage;
mod registry;
mod tracking;

use std::time::Duration;

use angel_app::{
    domain::{
        access::{Actor, Role},
        curp::Date,
    },
    ssr::auth::SignedIn,
};
use angel_entity::staff;
use angel_migration::{Migrator, MigratorTrait};
use angel_server::synthetic;
use chrono::{Datelike, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryOrder,
};

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    ms(sorted[i])
}

pub struct Stats {
    pub p50: f64,
    pub p99: f64,
    pub per_second: f64,
}

pub fn stats(mut times: Vec<Duration>) -> Stats {
    let total: Duration = times.iter().sum();
    times.sort();
    Stats {
        p50: quantile(&times, 0.5),
        p99: quantile(&times, 0.99),
        per_second: times.len() as f64 / total.as_secs_f64(),
    }
}

pub fn row(what: &str, s: &Stats) {
    println!(
        "  {what:<58} p50 {:>8.3} ms   p99 {:>8.3} ms   {:>9.0}/s",
        s.p50, s.p99, s.per_second
    );
}

pub fn to_date(d: NaiveDate) -> Date {
    Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    }
}

/// A staff account of the bench (no password: it never signs in) and its signed-in form.
pub async fn bench_staff(
    db: &DatabaseConnection,
    username: &str,
    role: Role,
    office_id: Option<i32>,
    agency_id: Option<i32>,
) -> anyhow::Result<SignedIn> {
    let now = chrono::Utc::now();
    let s = staff::ActiveModel {
        username: Set(username.to_owned()),
        display_name: Set("Bench".to_owned()),
        role: Set(role.code().to_owned()),
        office_id: Set(office_id),
        agency_id: Set(agency_id),
        password_hash: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(SignedIn {
        actor: Actor {
            staff_id: s.id,
            role,
            agency_id,
            office_id,
        },
        session_id: 0,
        username: s.username,
        display_name: s.display_name,
    })
}

async fn engine(name: &str, persons: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let settings = common::settings_for(name, dir.path(), "angel_bench").await?;
    let db = angel_server::db::connect(&settings).await?;
    Migrator::up(&db, None).await?;
    angel_server::seed::run(&db).await?;
    let state = angel_server::http::app_state(db, &settings).await?;
    println!("== {name}: {persons} synthetic people ==");
    let report = synthetic::seed(
        &state,
        synthetic::Options {
            count: persons,
            seed: 42,
        },
        true,
    )
    .await?;
    println!(
        "seed: {report} → {:.0} people/s",
        report.persons as f64 / report.seconds
    );
    if name == "postgres" {
        state.db.execute_unprepared("ANALYZE").await?;
    }
    let office = angel_entity::office::Entity::find()
        .order_by_asc(angel_entity::office::Column::Code)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no office"))?;
    let caseworker = bench_staff(
        &state.db,
        "bench.trabajo",
        Role::Caseworker,
        Some(office.id),
        None,
    )
    .await?;
    if std::env::var("ANGEL_BENCH_SKIP_REGISTRY").is_err() {
        registry::p1(&state).await?;
        registry::p2(&state, &caseworker).await?;
        registry::p3(&state).await?;
    }
    tracking::run(&state, &caseworker, name == "postgres").await?;
    coverage::run(&state).await?;
    let _ = state.db.clone().close().await;
    if name == "sqlite" {
        let size: u64 = std::fs::read_dir(dir.path())?
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        println!("  database files: {:.0} MiB", size as f64 / 1048576.0);
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let persons: u64 = std::env::var("ANGEL_BENCH_PERSONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_200_000);
    let runtime = tokio::runtime::Runtime::new()?;
    // `postgres` alone skips SQLite (to measure one engine again).
    let engines = std::env::var("ANGEL_BENCH_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    runtime.block_on(async {
        if engines.contains("sqlite") {
            engine("sqlite", persons).await?;
        }
        if !engines.contains("postgres") {
            return Ok(());
        }
        if std::env::var("ANGEL_BENCH_POSTGRES_URL").is_ok() {
            engine("postgres", persons).await?;
        } else {
            println!("(PostgreSQL skipped: ANGEL_BENCH_POSTGRES_URL not set)");
        }
        Ok(())
    })
}
