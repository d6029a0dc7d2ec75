//! Issue 6 on the synthetic population once `synthetic_tracking` has given it two years of
//! request histories (about 1.7 requests a person):
//!
//! - the agency queue (`tracking::queue`, what `/agencia` loads: the page of 50 most urgent
//!   requests with their people, boroughs and assignees, and the total) for the staff of the
//!   agency with the most open requests, through its filters, against the same page written as
//!   one raw joined SELECT plus one raw COUNT;
//! - the person timeline (`tracking::timeline`: requests, status changes, escalations,
//!   referrals, readable notes opened from the vault, one audit event) against one raw SELECT of
//!   the person's status changes, and against that SELECT plus one committed one-row INSERT (the
//!   durable write any audited read pays);
//! - the escalation job (`jobs::escalate`): a run with nothing new (what each five-minute turn
//!   costs) against the raw scan for candidates, and a run three weeks ahead (every open request
//!   overdue) in rows raised per second against one hand-written UPDATE of the same rows (rolled
//!   back).

use std::{collections::BTreeSet, time::Instant};

use angel_app::{
    domain::{access::Role, lifecycle::Status},
    ssr::{
        AppState,
        auth::SignedIn,
        services::{
            jobs::{self, sql},
            tracking,
        },
    },
    tracking::dto::QueueFilter,
};
use angel_server::synthetic_tracking;
use rand::{SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};

use crate::{bench_staff, ms, row, stats};

const QUEUE_LOADS: usize = 300;
const TIMELINES: usize = 1_000;
const QUIET_RUNS: usize = 20;

fn in_list(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn count(state: &AppState, query: &str) -> anyhow::Result<i64> {
    let found = state
        .db
        .query_one_raw(sql(&state.db, query, vec![]))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(found.try_get_by_index(0)?)
}

pub async fn run(state: &AppState, caseworker: &SignedIn, postgres: bool) -> anyhow::Result<()> {
    let report = synthetic_tracking::seed(state, 42, true).await?;
    println!("tracking seed: {report}");
    if postgres {
        // Statistics and the visibility map, as autovacuum leaves a table in steady state (a
        // freshly bulk-loaded one is read from the heap even for index-only plans).
        state.db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    let persons = count(state, "SELECT COUNT(*) FROM person").await?;
    let requests = count(state, "SELECT COUNT(*) FROM enrollment").await?;
    let events = count(state, "SELECT COUNT(*) FROM enrollment_event").await?;
    println!(
        "Tracking over {persons} people, {requests} requests (enrollments), {events} status changes"
    );
    if std::env::var("ANGEL_BENCH_SKIP_TRACKING").is_ok() {
        return Ok(());
    }
    queue(state).await?;
    timeline(state, caseworker).await?;
    escalation(state, requests).await?;
    Ok(())
}

/// One filter of the queue, as the service takes it and as raw SQL conditions.
struct Variant {
    filter: QueueFilter,
    conditions: String,
    values: Vec<Value>,
}

async fn queue(state: &AppState) -> anyhow::Result<()> {
    let db = &state.db;
    let shown = in_list(&[Status::Requested, Status::InReview, Status::Approved]);
    // The agency with the most requests in its queue, and its programs.
    let busiest = db
        .query_one_raw(sql(db,
            &format!(
                "SELECT g.agency_id, COUNT(*) FROM enrollment e JOIN program g ON g.id = e.program_id \
                 WHERE e.status IN ({shown}) GROUP BY g.agency_id ORDER BY 2 DESC LIMIT 1"
            ),
            vec![],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no open requests"))?;
    let agency_id: i32 = busiest.try_get_by_index(0)?;
    let open: i64 = busiest.try_get_by_index(1)?;
    let staff = bench_staff(
        db,
        "bench.dependencia",
        Role::AgencyStaff,
        None,
        Some(agency_id),
    )
    .await?;
    let programs: Vec<(i32, String)> = db
        .query_all_raw(sql(
            db,
            "SELECT id, code FROM program WHERE agency_id = ? ORDER BY code",
            vec![agency_id.into()],
        ))
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect::<Result<_, sea_orm::DbErr>>()?;
    // The baseline names the agency's programs as the service does (the planner then uses the
    // (program, status) index instead of starting from the program table).
    let program_ids = programs
        .iter()
        .map(|(id, _)| id.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let boroughs: Vec<(i32, String)> = db
        .query_all_raw(sql(
            db,
            "SELECT id, inegi_code FROM borough ORDER BY inegi_code",
            vec![],
        ))
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect::<Result<_, sea_orm::DbErr>>()?;
    let today = chrono::Utc::now().date_naive();

    // Every filter the page offers, in turn: none, a program, a borough, overdue, escalated.
    let variant = |i: usize| -> Variant {
        let mut v = Variant {
            filter: QueueFilter::default(),
            conditions: String::new(),
            values: vec![],
        };
        match i % 5 {
            1 => {
                let (id, code) = &programs[(i / 5) % programs.len()];
                v.filter.program = code.clone();
                v.conditions = " AND e.program_id = ?".into();
                v.values.push((*id).into());
            }
            2 => {
                let (id, code) = &boroughs[(i / 5) % boroughs.len()];
                v.filter.borough = code.clone();
                v.conditions = " AND EXISTS (SELECT 1 FROM person b2 WHERE b2.id = e.person_id \
                                AND b2.borough_id = ?)"
                    .into();
                v.values.push((*id).into());
            }
            3 => {
                v.filter.due = "overdue".into();
                v.conditions = " AND e.due_on < ?".into();
                v.values.push(today.into());
            }
            4 => {
                v.filter.escalated = "yes".into();
                v.conditions = " AND e.escalation_level > 0".into();
            }
            _ => {}
        }
        v
    };

    const FILTERS: [&str; 5] = ["no filter", "program", "borough", "overdue", "escalated"];
    let (mut service, mut baseline) = (Vec::new(), Vec::new());
    // Per filter: (baseline, service).
    let mut by_filter: Vec<(Vec<_>, Vec<_>)> = vec![(Vec::new(), Vec::new()); FILTERS.len()];
    for round in 0..2 {
        for i in 0..QUEUE_LOADS {
            let v = variant(i);
            let values = v.values.clone();
            let start = Instant::now();
            let page = db
                .query_all_raw(sql(
                    db,
                    &format!(
                        "SELECT e.id, e.folio, g.code, e.status, p.given_names, p.first_surname, \
                         p.second_surname, b.name, e.requested_at, e.due_on, e.escalation_level, \
                         s.display_name \
                         FROM enrollment e JOIN program g ON g.id = e.program_id \
                         JOIN person p ON p.id = e.person_id JOIN borough b ON b.id = p.borough_id \
                         LEFT JOIN enrollment_assignment a ON a.enrollment_id = e.id \
                         LEFT JOIN staff s ON s.id = a.staff_id \
                         WHERE e.program_id IN ({program_ids}) AND e.status IN ({shown}){} \
                         ORDER BY e.escalation_level DESC, e.due_on, e.id LIMIT 50",
                        v.conditions
                    ),
                    values.clone(),
                ))
                .await?;
            let total = db
                .query_one_raw(sql(db,
                    &format!(
                        "SELECT COUNT(*) FROM enrollment e WHERE e.program_id IN ({program_ids}) AND e.status IN ({shown}){}",
                        v.conditions
                    ),
                    values,
                ))
                .await?
                .ok_or_else(|| anyhow::anyhow!("no count"))?;
            let raw_time = start.elapsed();
            let raw_total: i64 = total.try_get_by_index(0)?;

            let start = Instant::now();
            let served = tracking::queue(state, &staff, &v.filter).await?;
            let service_time = start.elapsed();
            assert_eq!(served.rows.len(), page.len(), "same page as the raw SQL");
            assert_eq!(served.total, u64::try_from(raw_total)?, "same total");
            // The first round warms the page cache; the second is reported.
            if round == 1 {
                baseline.push(raw_time);
                service.push(service_time);
                by_filter[i % 5].0.push(raw_time);
                by_filter[i % 5].1.push(service_time);
            }
        }
    }
    println!(
        "Agency queue ({} loads: no filter, program, borough, overdue, escalated in turn; agency with {open} requests in its queue)",
        service.len()
    );
    for (name, (raw_times, service_times)) in FILTERS.iter().zip(by_filter) {
        let (raw_stats, service_stats) = (stats(raw_times), stats(service_times));
        row(
            &format!("baseline, {name}: raw joined SELECT + COUNT"),
            &raw_stats,
        );
        row(&format!("tracking::queue, {name}"), &service_stats);
        println!(
            "  ratio p99 service / raw ({name}): {:.2}×",
            service_stats.p99 / raw_stats.p99
        );
    }
    let (baseline, service) = (stats(baseline), stats(service));
    row("baseline, all filters together", &baseline);
    row("tracking::queue, all filters together", &service);
    println!(
        "  ratio p99 service / raw over all filters: {:.2}×",
        service.p99 / baseline.p99
    );
    Ok(())
}

async fn timeline(state: &AppState, caseworker: &SignedIn) -> anyhow::Result<()> {
    let db = &state.db;
    let with_requests: BTreeSet<i32> = db
        .query_all_raw(sql(db, "SELECT person_id FROM enrollment", vec![]))
        .await?
        .iter()
        .map(|r| r.try_get_by_index(0))
        .collect::<Result<_, _>>()?;
    let with_requests: Vec<i32> = with_requests.into_iter().collect();
    let mut rng = StdRng::seed_from_u64(6);
    let people: Vec<i32> = with_requests
        .choose_multiple(&mut rng, TIMELINES)
        .copied()
        .collect();
    db.execute_unprepared(
        "CREATE TABLE bench_write_floor (id BIGINT PRIMARY KEY, at TEXT NOT NULL, detail TEXT NOT NULL)",
    )
    .await?;
    let select = "SELECT ev.id, ev.at, ev.from_status, ev.to_status, ev.reason, ev.actor_id, \
                  e.folio, g.code FROM enrollment_event ev \
                  JOIN enrollment e ON e.id = ev.enrollment_id JOIN program g ON g.id = e.program_id \
                  WHERE e.person_id = ? ORDER BY ev.at DESC, ev.id DESC";
    let (mut service, mut baseline, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    let mut entries = 0usize;
    for round in 0..2 {
        for (i, &person) in people.iter().enumerate() {
            let start = Instant::now();
            let found = db
                .query_all_raw(sql(db, select, vec![person.into()]))
                .await?;
            let raw_time = start.elapsed();
            assert!(!found.is_empty(), "every sampled person has a request");

            let start = Instant::now();
            let _ = db
                .query_all_raw(sql(db, select, vec![person.into()]))
                .await?;
            let tx = db.begin().await?;
            tx.execute_raw(sql(
                db,
                "INSERT INTO bench_write_floor (id, at, detail) VALUES (?, ?, ?)",
                vec![
                    i64::try_from(round * TIMELINES + i)?.into(),
                    chrono::Utc::now().to_rfc3339().into(),
                    format!("{{\"person\":{person}}}").into(),
                ],
            ))
            .await?;
            tx.commit().await?;
            let floor_time = start.elapsed();

            let start = Instant::now();
            let shown = tracking::timeline(state, caseworker, person, "", "", None).await?;
            let service_time = start.elapsed();
            assert!(
                shown.entries.len() >= found.len(),
                "every status change shown"
            );
            if round == 1 {
                entries += shown.entries.len();
                baseline.push(raw_time);
                floor.push(floor_time);
                service.push(service_time);
            }
        }
    }
    println!(
        "Person timeline ({} people with requests, {:.1} entries each on average)",
        service.len(),
        entries as f64 / service.len().max(1) as f64
    );
    let (baseline, floor, service) = (stats(baseline), stats(floor), stats(service));
    row("baseline: raw SELECT of the status changes", &baseline);
    row("baseline + one committed one-row INSERT", &floor);
    row(
        "tracking::timeline (all sources, notes opened, audited)",
        &service,
    );
    println!(
        "  ratio p99 service / raw SELECT: {:.2}×; / SELECT + durable write: {:.2}×",
        service.p99 / baseline.p99,
        service.p99 / floor.p99
    );
    Ok(())
}

async fn escalation(state: &AppState, requests: i64) -> anyhow::Result<()> {
    let db = &state.db;
    let awaiting = in_list(&Status::AWAITING_DECISION);
    let now = chrono::Utc::now();
    let candidates = format!(
        "SELECT COUNT(*) FROM enrollment WHERE status IN ({awaiting}) AND escalation_level IN (0, 1, 2) AND due_on <= ?"
    );

    // A turn with nothing new: the synthetic seed already ran the job today.
    let (mut scan, mut quiet) = (Vec::new(), Vec::new());
    for _ in 0..QUIET_RUNS {
        let start = Instant::now();
        db.query_one_raw(sql(db, &candidates, vec![now.date_naive().into()]))
            .await?;
        scan.push(start.elapsed());
        let start = Instant::now();
        let done = jobs::escalate(db, &state.audit, "bench", now)
            .await?
            .ok_or_else(|| anyhow::anyhow!("lease held"))?;
        quiet.push(start.elapsed());
        assert_eq!(done.total(), 0, "nothing new on the same day");
    }
    println!("Escalation job over {requests} requests");
    let (scan, quiet) = (stats(scan), stats(quiet));
    row("baseline: raw COUNT of the candidates", &scan);
    row("jobs::escalate, nothing new (each 5-minute turn)", &quiet);

    // Three weeks ahead every request awaiting a decision is overdue.
    let later = now + chrono::Duration::days(21);
    let cutoff = later.date_naive();
    let tx = db.begin().await?;
    let start = Instant::now();
    let updated = tx
        .execute_raw(sql(
            db,
            &format!(
                "UPDATE enrollment SET escalation_level = 3, escalated_at = ? \
                 WHERE status IN ({awaiting}) AND escalation_level IN (0, 1, 2) AND due_on <= ?"
            ),
            vec![later.into(), cutoff.into()],
        ))
        .await?
        .rows_affected();
    let update_time = start.elapsed();
    tx.rollback().await?;
    let start = Instant::now();
    let done = jobs::escalate(db, &state.audit, "bench", later)
        .await?
        .ok_or_else(|| anyhow::anyhow!("lease held"))?;
    let job_time = start.elapsed();
    println!(
        "  baseline: one raw UPDATE of the {updated} overdue rows (rolled back)   {:>9.1} ms   {:>9.0} rows/s",
        ms(update_time),
        updated as f64 / update_time.as_secs_f64()
    );
    println!(
        "  jobs::escalate three weeks ahead: raised {}/{}/{} to levels 1/2/3   {:>9.1} ms   {:>9.0} escalations/s, {:.0} requests covered/s",
        done.raised[0],
        done.raised[1],
        done.raised[2],
        ms(job_time),
        done.total() as f64 / job_time.as_secs_f64(),
        requests as f64 / job_time.as_secs_f64()
    );
    Ok(())
}
