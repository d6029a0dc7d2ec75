//! Background jobs, safe with several server instances: each run first takes the job's lease
//! (one row in `job_lease`, taken by a conditional UPDATE), so only one instance runs a job at a
//! time and a crashed holder's lease simply expires. No in-memory timer decides anything.
//!
//! The escalation job raises the level of requests awaiting a decision past their due date:
//! level 1 (office supervisor) on the due date, 2 (agency head) five business days later, 3
//! (central coordination) ten business days after the due date. Each level is recorded once per
//! request in `enrollment_escalation`; the work is set-based (one INSERT … SELECT and one UPDATE
//! per level), so it does not grow with the number of requests in memory.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};

use super::eligibility::holidays;
use super::registry::{to_naive, today};
use crate::domain::lifecycle::{MAX_LEVEL, Status, level_cutoff};
use crate::ssr::ServiceError;
use crate::ssr::audit::{AuditLog, NewEvent};

/// The escalation job's name in `job_lease`.
pub const ESCALATION: &str = "escalation";

/// How long a lease lasts: longer than any run, short enough that a crashed holder's turn
/// passes quickly.
pub const LEASE: Duration = Duration::minutes(10);

/// What one run of the escalation job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EscalationRun {
    /// Requests that reached level 1, 2 and 3 in this run.
    pub raised: [u64; 3],
}

impl EscalationRun {
    pub fn total(&self) -> u64 {
        self.raised.iter().sum()
    }
}

/// A raw statement for `db`'s engine, written with `?` placeholders (numbered for PostgreSQL).
pub fn sql(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let text = if backend == DbBackend::Postgres {
        let mut n = 0;
        text.chars()
            .map(|c| {
                if c == '?' {
                    n += 1;
                    format!("${n}")
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text.to_owned()
    };
    Statement::from_sql_and_values(backend, text, values)
}

/// Takes the lease of `job` for `holder` until `now + LEASE` if it is free, expired, or already
/// this holder's. True when taken.
///
/// # Errors
/// Database errors.
pub async fn take_lease(
    db: &DatabaseConnection,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    // The row exists once; inserting it twice is harmless (the primary key refuses the second).
    let _ = db
        .execute_raw(sql(
            db,
            "INSERT INTO job_lease (name) VALUES (?)",
            vec![job.into()],
        ))
        .await;
    let taken = db
        .execute_raw(sql(
            db,
            "UPDATE job_lease SET holder = ?, expires_at = ? \
             WHERE name = ? AND (holder IS NULL OR expires_at IS NULL OR expires_at < ? OR holder = ?)",
            vec![
                holder.into(),
                (now + LEASE).into(),
                job.into(),
                now.into(),
                holder.into(),
            ],
        ))
        .await?;
    Ok(taken.rows_affected() == 1)
}

/// Gives the lease back and records what the run did.
pub(crate) async fn release(
    db: &DatabaseConnection,
    job: &str,
    holder: &str,
    now: DateTime<Utc>,
    count: u64,
) -> Result<(), ServiceError> {
    db.execute_raw(sql(
        db,
        "UPDATE job_lease SET holder = NULL, expires_at = NULL, last_finished_at = ?, last_count = ? \
         WHERE name = ? AND holder = ?",
        vec![
            now.into(),
            i64::try_from(count).unwrap_or(i64::MAX).into(),
            job.into(),
            holder.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// One escalation pass at `now`, if this holder gets the lease (`None` when another instance
/// holds it). Idempotent: a second pass on the same day raises nothing.
///
/// # Errors
/// Database errors.
pub async fn escalate(
    db: &DatabaseConnection,
    audit: &AuditLog,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Option<EscalationRun>, ServiceError> {
    if !take_lease(db, ESCALATION, holder, now).await? {
        return Ok(None);
    }
    let result = escalate_now(db, audit, now).await;
    // The lease is released whatever happened; a failed run is retried at the next turn.
    release(
        db,
        ESCALATION,
        holder,
        now,
        result.as_ref().map_or(0, EscalationRun::total),
    )
    .await?;
    result.map(Some)
}

async fn escalate_now(
    db: &DatabaseConnection,
    audit: &AuditLog,
    now: DateTime<Utc>,
) -> Result<EscalationRun, ServiceError> {
    let day = today(now);
    let holidays = holidays(db).await?;
    let awaiting = Status::AWAITING_DECISION
        .iter()
        .map(|s| format!("'{}'", s.code()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut run = EscalationRun::default();
    let tx = db.begin().await?;
    for level in 1..=MAX_LEVEL {
        let cutoff = to_naive(level_cutoff(level, day, &holidays));
        let level_value = i32::from(level);
        // The levels below as a list (not `<`): with the (status, level, due date) index each
        // is one range of due dates, so only the requests to raise are read.
        let below = (0..level_value)
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let recorded = tx
            .execute_raw(sql(
                &tx,
                &format!(
                    "INSERT INTO enrollment_escalation (enrollment_id, level, due_on, at) \
                     SELECT id, ?, due_on, ? FROM enrollment \
                     WHERE status IN ({awaiting}) AND escalation_level IN ({below}) AND due_on <= ?"
                ),
                vec![level_value.into(), now.into(), cutoff.into()],
            ))
            .await?;
        tx.execute_raw(sql(
            &tx,
            &format!(
                "UPDATE enrollment SET escalation_level = ?, escalated_at = ? \
                 WHERE status IN ({awaiting}) AND escalation_level IN ({below}) AND due_on <= ?"
            ),
            vec![level_value.into(), now.into(), cutoff.into()],
        ))
        .await?;
        run.raised[usize::from(level - 1)] = recorded.rows_affected();
    }
    tx.commit().await?;
    if run.total() > 0 {
        let tx = audit.begin(db).await?;
        tx.record(
            NewEvent::new("job.escalation_run", now).detail(serde_json::json!({
                "level_1": run.raised[0],
                "level_2": run.raised[1],
                "level_3": run.raised[2],
            })),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(run)
}
