//! The audit log: append-only (triggers refuse UPDATE and DELETE) and hash-chained, so that an
//! edited or deleted event is found by [`verify`].
//!
//! Every write that must be audited happens inside an [`AuditTx`]: one transaction holding the
//! chain's lock, so the change and its event are stored together or not at all, and two writers
//! never link to the same predecessor.

use std::sync::Arc;

use angel_entity::audit_event;
use chrono::{DateTime, SubsecRound as _, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter as _, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde::Serialize;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::ServiceError;
use super::auth::sha256_hex;
use crate::domain::access::Actor;

/// The predecessor of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to append. Holds no personal data: subjects are ids, details are codes and counts.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub occurred_at: DateTime<Utc>,
    pub action: String,
    pub actor_staff_id: Option<i32>,
    pub actor_role: Option<String>,
    pub agency_id: Option<i32>,
    pub office_id: Option<i32>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub purpose: Option<String>,
    pub request_id: Option<String>,
    pub detail: Option<String>,
}

impl NewEvent {
    pub fn new(action: &str, now: DateTime<Utc>) -> NewEvent {
        NewEvent {
            // Microseconds: what both databases store, so the hash survives the round trip.
            occurred_at: now.trunc_subsecs(6),
            action: action.to_owned(),
            ..NewEvent::default()
        }
    }

    pub fn by(mut self, actor: &Actor) -> NewEvent {
        self.actor_staff_id = Some(actor.staff_id);
        self.actor_role = Some(actor.role.code().to_owned());
        self.agency_id = actor.agency_id;
        self.office_id = actor.office_id;
        self
    }

    pub fn subject(mut self, kind: &str, id: impl ToString) -> NewEvent {
        self.subject_type = Some(kind.to_owned());
        self.subject_id = Some(id.to_string());
        self
    }

    /// Why the data was accessed (`registry`, later `eligibility`, `enrollment`…).
    pub fn purpose(mut self, purpose: &str) -> NewEvent {
        self.purpose = Some(purpose.to_owned());
        self
    }

    pub fn request(mut self, request_id: Option<&str>) -> NewEvent {
        self.request_id = request_id.map(|r| r.chars().take(64).collect());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> NewEvent {
        self.detail = Some(detail.to_string());
        self
    }
}

/// The fields that are hashed, in a fixed order.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    occurred_at: String,
    action: &'a str,
    actor_staff_id: Option<i32>,
    actor_role: Option<&'a str>,
    agency_id: Option<i32>,
    office_id: Option<i32>,
    subject_type: Option<&'a str>,
    subject_id: Option<&'a str>,
    purpose: Option<&'a str>,
    request_id: Option<&'a str>,
    detail: Option<&'a str>,
}

fn chain_hash(prev_hash: &str, row: &audit_event::Model) -> String {
    let canonical = Canonical {
        seq: row.seq,
        occurred_at: row.occurred_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        action: &row.action,
        actor_staff_id: row.actor_staff_id,
        actor_role: row.actor_role.as_deref(),
        agency_id: row.agency_id,
        office_id: row.office_id,
        subject_type: row.subject_type.as_deref(),
        subject_id: row.subject_id.as_deref(),
        purpose: row.purpose.as_deref(),
        request_id: row.request_id.as_deref(),
        detail: row.detail.as_deref(),
    };
    let json = serde_json::to_string(&canonical).expect("canonical event serializes");
    sha256_hex(&format!("{prev_hash}\n{json}"))
}

/// Events written per statement by [`AuditTx::record_all`] (15 columns: far below either
/// engine's limit on bound parameters).
const BATCH: usize = 500;

/// The chain's lock inside this process. Across processes on PostgreSQL, a transaction-level
/// advisory lock serializes writers; SQLite has one writer at a time and a single process.
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    gate: Arc<Mutex<()>>,
}

/// A transaction that may append audit events. Dereferences to the transaction.
pub struct AuditTx {
    txn: DatabaseTransaction,
    _gate: OwnedMutexGuard<()>,
    /// The chain's last (seq, hash) once this transaction has read or appended it: no other
    /// writer can append while the lock is held, so later events skip the read.
    head: std::sync::Mutex<Option<(i64, String)>>,
}

impl std::ops::Deref for AuditTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl AuditLog {
    /// Starts a transaction that holds the chain's lock until it commits or is dropped.
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<AuditTx, ServiceError> {
        let gate = Arc::clone(&self.gate).lock_owned().await;
        let txn = db.begin().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock(7340001)",
            ))
            .await?;
        }
        Ok(AuditTx {
            txn,
            _gate: gate,
            head: std::sync::Mutex::new(None),
        })
    }
}

impl AuditTx {
    /// Appends one event after the last one.
    ///
    /// # Errors
    /// Database errors.
    pub async fn record(&self, event: NewEvent) -> Result<(), ServiceError> {
        self.record_all(vec![event]).await
    }

    /// Appends events in their order, chained as one by one, written with one statement per
    /// [`BATCH`] events (the legacy import registers hundreds of people per transaction).
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_all(&self, events: Vec<NewEvent>) -> Result<(), ServiceError> {
        if events.is_empty() {
            return Ok(());
        }
        let known = self.head.lock().expect("not poisoned").clone();
        let (mut seq, mut prev_hash) = match known {
            Some(head) => head,
            None => audit_event::Entity::find()
                .order_by_desc(audit_event::Column::Seq)
                .limit(1)
                .one(&self.txn)
                .await?
                .map_or((0, GENESIS.to_owned()), |l| (l.seq, l.hash)),
        };
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            seq += 1;
            let mut row = audit_event::Model {
                id: 0,
                seq,
                occurred_at: event.occurred_at,
                action: event.action,
                actor_staff_id: event.actor_staff_id,
                actor_role: event.actor_role,
                agency_id: event.agency_id,
                office_id: event.office_id,
                subject_type: event.subject_type,
                subject_id: event.subject_id,
                purpose: event.purpose,
                request_id: event.request_id,
                detail: event.detail,
                prev_hash: prev_hash.clone(),
                hash: String::new(),
            };
            row.hash = chain_hash(&prev_hash, &row);
            prev_hash.clone_from(&row.hash);
            let mut active: audit_event::ActiveModel = row.into();
            active.id = sea_orm::ActiveValue::NotSet;
            rows.push(active);
        }
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            audit_event::Entity::insert_many(rows.by_ref().take(BATCH))
                .exec_without_returning(&self.txn)
                .await?;
        }
        *self.head.lock().expect("not poisoned") = Some((seq, prev_hash));
        Ok(())
    }

    /// Commits the change and its events together.
    ///
    /// # Errors
    /// Database errors.
    pub async fn commit(self) -> Result<(), ServiceError> {
        self.txn.commit().await?;
        Ok(())
    }
}

/// What `angel audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every link holds; this many events.
    Intact(u64),
    /// The first broken sequence number and why.
    Broken { seq: i64, reason: Broken },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// The event's content does not match its hash (edited).
    Altered,
    /// Events before this one are missing (deleted).
    Missing,
    /// The event does not link to its predecessor.
    Unlinked,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Intact(n) => write!(f, "OK: {n} events, chain intact"),
            Verdict::Broken { seq, reason } => {
                let why = match reason {
                    Broken::Altered => "event altered (its hash does not match its content)",
                    Broken::Missing => "events missing before this one (deleted)",
                    Broken::Unlinked => "event does not link to the previous one",
                };
                write!(f, "BROKEN at sequence {seq}: {why}")
            }
        }
    }
}

/// Walks the whole chain in order, a page at a time.
///
/// # Errors
/// Database errors.
pub async fn verify(db: &impl ConnectionTrait) -> Result<Verdict, ServiceError> {
    const PAGE: u64 = 1000;
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_owned();
    let mut count = 0u64;
    loop {
        let rows = audit_event::Entity::find()
            .filter(sea_orm::ColumnTrait::gte(
                &audit_event::Column::Seq,
                expected_seq,
            ))
            .order_by_asc(audit_event::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let done = (rows.len() as u64) < PAGE;
        for row in rows {
            if row.seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: row.seq,
                    reason: Broken::Missing,
                });
            }
            if chain_hash(&row.prev_hash, &row) != row.hash {
                return Ok(Verdict::Broken {
                    seq: row.seq,
                    reason: Broken::Altered,
                });
            }
            if row.prev_hash != prev_hash {
                return Ok(Verdict::Broken {
                    seq: row.seq,
                    reason: Broken::Unlinked,
                });
            }
            prev_hash = row.hash;
            expected_seq += 1;
            count += 1;
        }
        if done {
            return Ok(Verdict::Intact(count));
        }
    }
}
