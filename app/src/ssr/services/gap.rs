//! The eligibility gap: registered people whom the rules in force find eligible for a program
//! they have no open request in, by program and borough — the gap a program has left to close.
//!
//! Finding it means evaluating every active profile under every program's rule (about 70 s for
//! a million people), so it is a background job, not a page's query: the job runs when the last
//! run is from an earlier day (ages and facts change daily) or a rule version was published
//! after it, takes the job lease like the escalation job (one server at a time), and replaces
//! the stored figures in one transaction. The dashboard shows the last run's figures with the
//! time they describe.

use std::collections::{BTreeMap, HashMap};

use angel_entity::{borough, coverage_gap, coverage_gap_run, program_rule};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::eligibility::{current, each_active, program_codes, versions};
use super::jobs::{release, take_lease};
use super::registry::today;
use crate::domain::eligibility::{Verdict, evaluate};
use crate::ssr::ServiceError;

/// The gap job's name in `job_lease`.
pub const GAP: &str = "gap";

/// What one run found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Gap {
    /// Active profiles evaluated.
    pub people: u64,
    /// People eligible and not in the program, by (program id, borough id); only non-zero cells.
    pub cells: BTreeMap<(i32, i32), u64>,
}

/// Evaluates every active profile on `now`'s day under the rule in force of each program and
/// counts, by program and the borough the person lives in, those found eligible without an
/// open request in the program. Profiles without a borough in the city are not counted.
///
/// # Errors
/// Database errors; `Internal` when a stored rule does not parse.
pub async fn compute(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Gap, ServiceError> {
    let day = today(now);
    let versions = versions(db).await?;
    let codes = program_codes(db).await?;
    let rules: Vec<(i32, &str, _)> = current(&versions, day)
        .into_iter()
        .filter_map(|(id, v)| Some((id, codes.get(&id)?.as_str(), &v.rule)))
        .collect();
    let boroughs: HashMap<String, i32> = borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.inegi_code, b.id))
        .collect();
    let mut cells: BTreeMap<(i32, i32), u64> = BTreeMap::new();
    let people = each_active(db, day, |f| {
        let Some(&borough) = f.borough.as_ref().and_then(|c| boroughs.get(c)) else {
            return;
        };
        for &(program, code, rule) in &rules {
            if !f.enrolled.contains(code) && evaluate(rule, f, day).verdict == Verdict::Eligible {
                *cells.entry((program, borough)).or_default() += 1;
            }
        }
    })
    .await?;
    Ok(Gap { people, cells })
}

/// Replaces the stored gap with `gap`, found as of `as_of`, in one transaction.
///
/// # Errors
/// Database errors (nothing is replaced).
pub async fn store(
    db: &DatabaseConnection,
    gap: &Gap,
    as_of: DateTime<Utc>,
    finished_at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let tx = db.begin().await?;
    tx.execute_unprepared("DELETE FROM coverage_gap").await?;
    let rows: Vec<coverage_gap::ActiveModel> = gap
        .cells
        .iter()
        .map(
            |(&(program_id, borough_id), &people)| coverage_gap::ActiveModel {
                program_id: Set(program_id),
                borough_id: Set(borough_id),
                people: Set(i64::try_from(people).unwrap_or(i64::MAX)),
            },
        )
        .collect();
    // A few hundred cells at most (programs × boroughs): well under any bind-parameter limit.
    if !rows.is_empty() {
        coverage_gap::Entity::insert_many(rows)
            .exec_without_returning(&tx)
            .await?;
    }
    coverage_gap_run::Entity::insert(coverage_gap_run::ActiveModel {
        id: NotSet,
        as_of: Set(as_of),
        finished_at: Set(finished_at),
        people: Set(i64::try_from(gap.people).unwrap_or(i64::MAX)),
    })
    .exec_without_returning(&tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The last run, if any.
///
/// # Errors
/// Database errors.
pub async fn last_run(
    db: &impl ConnectionTrait,
) -> Result<Option<coverage_gap_run::Model>, ServiceError> {
    Ok(coverage_gap_run::Entity::find()
        .order_by_desc(coverage_gap_run::Column::Id)
        .limit(1)
        .one(db)
        .await?)
}

/// The stored figures: people by (program id, borough id).
///
/// # Errors
/// Database errors.
pub async fn stored(db: &impl ConnectionTrait) -> Result<HashMap<(i32, i32), u64>, ServiceError> {
    Ok(coverage_gap::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            (
                (c.program_id, c.borough_id),
                u64::try_from(c.people).unwrap_or(0),
            )
        })
        .collect())
}

/// Whether the stored figures are out of date at `now`: never computed, computed on an earlier
/// day, or a rule version was published after them.
///
/// # Errors
/// Database errors.
pub async fn due(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<bool, ServiceError> {
    let Some(last) = last_run(db).await? else {
        return Ok(true);
    };
    if today(last.as_of) < today(now) {
        return Ok(true);
    }
    let published = program_rule::Entity::find()
        .filter(program_rule::Column::PublishedAt.gt(last.as_of))
        .one(db)
        .await?;
    Ok(published.is_some())
}

/// Runs the gap job at `now` when [`due`] and this holder gets the lease; `None` otherwise.
///
/// # Errors
/// Database errors (the stored figures stay as they were).
pub async fn run_if_due(
    db: &DatabaseConnection,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Option<Gap>, ServiceError> {
    if !due(db, now).await? {
        return Ok(None);
    }
    run(db, holder, now).await
}

/// Runs the gap job at `now` if this holder gets the lease (`None` when another instance holds
/// it), due or not.
///
/// # Errors
/// Database errors (the stored figures stay as they were).
pub async fn run(
    db: &DatabaseConnection,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Option<Gap>, ServiceError> {
    if !take_lease(db, GAP, holder, now).await? {
        return Ok(None);
    }
    let started = std::time::Instant::now();
    let outcome = compute(db, now).await;
    let finished = now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default();
    let stored = match &outcome {
        Ok(gap) => store(db, gap, now, finished).await,
        Err(_) => Ok(()),
    };
    let count = outcome.as_ref().map_or(0, |g| g.people);
    release(db, GAP, holder, finished, count).await?;
    stored?;
    outcome.map(Some)
}
