//! P5 (issue 8) on the synthetic population with its request histories (run after
//! `tracking.rs` has loaded them and rebuilt the coverage tallies):
//!
//! - the served coverage report (`coverage::by_borough`, what `/politica` loads for one
//!   indicator: tallies, targets, suppression, the map) for each indicator in turn, against the
//!   plain `GROUP BY` over the enrollments that gives the same numerators
//!   (`coverage::reference`);
//! - the figures by program (`figures::by_program`): the first view (it computes the closed
//!   months' month-end figures from the status history) and the views after it;
//! - the extra cost on an enrollment write: a request suspended and reinstated, each a committed
//!   one-row UPDATE, with and without `coverage::refresh_person` in the same transaction;
//! - that the kept tallies still equal the `GROUP BY` afterwards;
//! - last, as it is the longest part, the eligibility gap job (`gap::compute` and `gap::store`:
//!   every active profile through every program's rule in force), against reading the same facts
//!   without evaluating them (`eligibility::each_active`, the floor of any job that looks at
//!   everyone); `ANGEL_BENCH_SKIP_GAP` skips it.

use std::time::Instant;

use angel_app::ssr::{
    AppState,
    services::{coverage, eligibility, figures, gap, jobs::sql, registry::today},
};
use sea_orm::{ConnectionTrait, EntityTrait, TransactionTrait, Value};

use crate::{ms, row, stats};

const REPORT_LOADS: usize = 200;
const GROUP_BY_LOADS: usize = 5;
const FIGURE_LOADS: usize = 20;
const WRITES: usize = 500;

pub async fn run(state: &AppState) -> anyhow::Result<()> {
    let db = &state.db;
    let members = db
        .query_one_raw(sql(db, "SELECT COUNT(*) FROM coverage_member", vec![]))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    println!("P5 coverage: {members} people × programs reached (active requests)");
    let indicators: Vec<String> = angel_entity::indicator::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|i| i.code)
        .collect();

    let mut served = Vec::with_capacity(REPORT_LOADS);
    for k in 0..REPORT_LOADS {
        let code = &indicators[k % indicators.len()];
        let t = Instant::now();
        std::hint::black_box(coverage::by_borough(db, code, None).await?);
        served.push(t.elapsed());
    }
    let served = stats(served);
    row("served report (coverage::by_borough)", &served);
    let mut plain = Vec::with_capacity(GROUP_BY_LOADS);
    for _ in 0..GROUP_BY_LOADS {
        let t = Instant::now();
        std::hint::black_box(coverage::reference(db).await?);
        plain.push(t.elapsed());
    }
    let plain = stats(plain);
    row("baseline: plain GROUP BY over enrollments", &plain);
    println!(
        "  → report p99 is {:.4} of the GROUP BY's p99 ({:.0}× faster)",
        served.p99 / plain.p99,
        plain.p99 / served.p99
    );

    let now = state.clock.now();
    let t = Instant::now();
    std::hint::black_box(figures::by_program(db, "", now).await?);
    println!(
        "  figures by program, first view (computes {} month ends): {:.0} ms",
        figures::MONTHS - 1,
        ms(t.elapsed())
    );
    let mut views = Vec::with_capacity(FIGURE_LOADS);
    for _ in 0..FIGURE_LOADS {
        let t = Instant::now();
        std::hint::black_box(figures::by_program(db, "", now).await?);
        views.push(t.elapsed());
    }
    row(
        "figures by program, later views (whole city)",
        &stats(views),
    );

    // Writes: active requests of distinct people.
    let ids: Vec<(i32, i32)> = db
        .query_all_raw(sql(
            db,
            &format!(
                "SELECT MIN(id), person_id FROM enrollment WHERE status = 'active' \
                 GROUP BY person_id ORDER BY person_id LIMIT {WRITES}"
            ),
            vec![],
        ))
        .await?
        .into_iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect::<Result<_, sea_orm::DbErr>>()?;
    let (mut bare, mut refreshed) = (Vec::new(), Vec::new());
    for &(id, person) in &ids {
        for (status, refresh) in [
            ("suspended", false),
            ("active", false),
            ("suspended", true),
            ("active", true),
        ] {
            let t = Instant::now();
            let tx = db.begin().await?;
            tx.execute_raw(sql(
                &tx,
                "UPDATE enrollment SET status = ?, version = version + 1 WHERE id = ?",
                vec![Value::from(status), Value::from(id)],
            ))
            .await?;
            if refresh {
                coverage::refresh_person(&tx, person).await?;
            }
            tx.commit().await?;
            if refresh {
                refreshed.push(t.elapsed());
            } else {
                bare.push(t.elapsed());
            }
        }
    }
    let (bare, refreshed) = (stats(bare), stats(refreshed));
    row("baseline: status UPDATE, committed", &bare);
    row("status UPDATE + coverage::refresh_person", &refreshed);
    println!(
        "  → extra cost per enrollment write: p50 +{:.3} ms, p99 +{:.3} ms",
        refreshed.p50 - bare.p50,
        refreshed.p99 - bare.p99
    );
    let exact = coverage::kept(db).await? == coverage::reference(db).await?;
    println!("  kept tallies equal the GROUP BY after the writes: {exact}");
    anyhow::ensure!(exact, "the coverage tallies drifted");

    if std::env::var("ANGEL_BENCH_SKIP_GAP").is_ok() {
        println!("  eligibility gap job: skipped (ANGEL_BENCH_SKIP_GAP)");
        return Ok(());
    }
    // The gap job against its floor: the same facts read, nothing evaluated.
    let t = Instant::now();
    let read = eligibility::each_active(db, today(now), |f| {
        std::hint::black_box(f);
    })
    .await?;
    let floor = t.elapsed().as_secs_f64();
    let rate = |n: u64, s: f64| n as f64 / s;
    println!(
        "  baseline: facts of {read} active profiles read, nothing evaluated: {floor:.1} s ({:.0} people/s)",
        rate(read, floor)
    );
    let t = Instant::now();
    let found = gap::compute(db, now).await?;
    let computed = t.elapsed().as_secs_f64();
    let t = Instant::now();
    gap::store(db, &found, now, now).await?;
    let stored = t.elapsed().as_secs_f64();
    println!(
        "  eligibility gap job: {} profiles through every program's rule in {computed:.1} s, {} non-zero program × borough cells stored in {:.0} ms ({:.0} people/s in all)",
        found.people,
        found.cells.len(),
        stored * 1000.0,
        rate(found.people, computed + stored)
    );
    println!(
        "  → the gap job takes {:.2}× the time of reading the facts alone",
        (computed + stored) / floor
    );
    Ok(())
}
