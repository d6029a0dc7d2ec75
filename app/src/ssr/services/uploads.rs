//! Files uploaded at `/admin/importar` (issue 9): the same import as `angel import persons`,
//! from the browser, in two steps. The upload is checked whole and kept; a dry run (the
//! preview) reports what the import would do; an administrator confirms it, and the import
//! runs; or discards it.
//!
//! - The file holds names, CURPs and addresses in clear: it is kept only as a vault envelope
//!   bound to its row (`legacy_upload.file`) and dropped once imported or discarded. A preview
//!   not confirmed within [`KEEP_HOURS`] is dropped when the list is next read.
//! - The report (masked IDs and codes only) is kept sealed too, for the page and its CSV.
//! - Previews and imports run in the server's background; the application state keeps which
//!   uploads this server is working on and how far it got ([`Working`]). One that no server is working on while its
//!   status says it should be (a restart) may be resumed: a preview runs again, an import goes
//!   on after its last committed chunk.
//! - Every upload, confirmation, discard and report download is audited.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use angel_entity::{agency, legacy_upload, staff};
use chrono::TimeDelta;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use zeroize::Zeroizing;

use super::legacy::Summary;
use super::tracking::stamp;
use crate::domain::access::{Actor, Permission, authorize};
use crate::ssr::audit::NewEvent;
use crate::ssr::vault::Slot;
use crate::ssr::{AppState, ServiceError};
use crate::staff::dto::{ImportCounts, ReportLine, UploadDetail, UploadRow};

/// The largest file uploaded from the browser; larger ones go through `angel import persons`.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;
/// How long an upload waits for its confirmation.
pub const KEEP_HOURS: i64 = 24;
/// Report lines shown on the page (the CSV has them all).
pub const SHOWN_LINES: usize = 200;

const TABLE: &str = "legacy_upload";

/// Which step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Preview,
    Import,
}

impl Phase {
    /// The status while it runs, and once it is done.
    fn statuses(self) -> (&'static str, &'static str) {
        match self {
            Phase::Preview => ("previewing", "previewed"),
            Phase::Import => ("running", "done"),
        }
    }
}

/// The uploads this server is working on, with the rows done so far: part of the application
/// state, shared by its clones.
#[derive(Clone, Debug, Default)]
pub struct Working(Arc<Mutex<HashMap<i32, u64>>>);

impl Working {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, u64>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn busy(&self, id: i32) -> bool {
        self.lock().contains_key(&id)
    }

    fn done(&self, id: i32) -> Option<u64> {
        self.lock().get(&id).copied()
    }
}

/// This server works on an upload while the guard lives.
#[derive(Debug)]
pub struct Work {
    working: Working,
    id: i32,
}

impl Work {
    /// Claims an upload; `None` when this server is working on it already.
    pub fn claim(state: &AppState, id: i32) -> Option<Work> {
        let mut w = state.uploads.lock();
        if w.contains_key(&id) {
            return None;
        }
        w.insert(id, 0);
        Some(Work {
            working: state.uploads.clone(),
            id,
        })
    }

    pub fn progress(&self, done: u64) {
        self.working.lock().insert(self.id, done);
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        self.working.lock().remove(&self.id);
    }
}

/// What an upload is, before it is stored.
pub struct NewUpload<'a> {
    pub agency_id: i32,
    pub sha256: &'a str,
    pub rows: u64,
    pub fuzzy: bool,
    pub mapping: Option<&'a str>,
    pub file: &'a [u8],
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn file_slot(id: i32) -> Slot<'static> {
    Slot::new(TABLE, "file", i64::from(id))
}

fn report_slot(id: i32) -> Slot<'static> {
    Slot::new(TABLE, "report", i64::from(id))
}

fn admin(actor: &Actor) -> Result<(), ServiceError> {
    authorize(actor, Permission::ManageStaff, None)
        .map(|_| ())
        .map_err(|_| ServiceError::NotFound)
}

/// Keeps a checked file, sealed, in status `previewing`; audited. Returns its id.
///
/// # Errors
/// `NotFound` for other roles; database errors.
pub async fn store(
    state: &AppState,
    actor: &Actor,
    new: NewUpload<'_>,
    request_id: Option<&str>,
) -> Result<i32, ServiceError> {
    admin(actor)?;
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    let row = legacy_upload::ActiveModel {
        id: NotSet,
        agency_id: Set(new.agency_id),
        staff_id: Set(actor.staff_id),
        file_sha256: Set(new.sha256.to_owned()),
        bytes: Set(signed(new.file.len() as u64)),
        rows: Set(signed(new.rows)),
        fuzzy: Set(new.fuzzy),
        mapping: Set(new.mapping.map(str::to_owned)),
        file: Set(None),
        report: Set(None),
        summary: Set(None),
        status: Set("previewing".to_owned()),
        import_id: Set(None),
        created_at: Set(now),
        confirmed_at: Set(None),
        finished_at: Set(None),
    }
    .insert(&*tx)
    .await?;
    // The envelope is bound to the row's id: sealed once the row has one.
    legacy_upload::Entity::update_many()
        .col_expr(
            legacy_upload::Column::File,
            Expr::value(Some(state.vault.seal(file_slot(row.id), new.file))),
        )
        .filter(legacy_upload::Column::Id.eq(row.id))
        .exec(&*tx)
        .await?;
    tx.record(
        NewEvent::new("legacy.uploaded", now)
            .by(actor)
            .subject(TABLE, row.id)
            .request(request_id)
            .detail(serde_json::json!({
                "agency_id": new.agency_id,
                "rows": new.rows,
                "bytes": new.file.len(),
                "sha256": new.sha256,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(row.id)
}

/// An upload with its file opened, for the background step.
pub struct Opened {
    pub upload: legacy_upload::Model,
    pub agency_code: String,
    pub file: Zeroizing<Vec<u8>>,
}

/// The upload and its file, opened.
///
/// # Errors
/// `NotFound` when it has no file any more; an envelope that does not open; database errors.
pub async fn open(state: &AppState, id: i32) -> Result<Opened, ServiceError> {
    let upload = legacy_upload::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let sealed = upload.file.as_deref().ok_or(ServiceError::NotFound)?;
    let file = state
        .vault
        .open(file_slot(id), sealed)
        .map_err(|_| ServiceError::Internal("an uploaded file did not open"))?;
    let agency_code = agency::Entity::find_by_id(upload.agency_id)
        .one(&state.db)
        .await?
        .map(|a| a.code)
        .ok_or(ServiceError::NotFound)?;
    Ok(Opened {
        upload,
        agency_code,
        file,
    })
}

impl From<&Summary> for ImportCounts {
    fn from(s: &Summary) -> ImportCounts {
        ImportCounts {
            rows: s.rows,
            created: s.new_people(),
            for_review: s.for_review,
            matched: s.matched,
            updated: s.updated,
            conflicts: s.conflicts,
            already_imported: s.already_imported,
            refused: s.refused,
            requests_created: s.requests_created,
            requests_existing: s.requests_existing,
            request_conflicts: s.request_conflicts,
        }
    }
}

/// Records a step's end: its counts and report (sealed); after the import the file is dropped.
///
/// # Errors
/// Database errors.
pub async fn finished(
    state: &AppState,
    id: i32,
    phase: Phase,
    summary: &Summary,
    report: &[u8],
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let (running, done) = phase.statuses();
    let counts = serde_json::to_string(&ImportCounts::from(summary))
        .map_err(|_| ServiceError::Internal("counts did not serialize"))?;
    let mut update = legacy_upload::Entity::update_many()
        .col_expr(legacy_upload::Column::Status, Expr::value(done))
        .col_expr(legacy_upload::Column::Summary, Expr::value(Some(counts)))
        .col_expr(
            legacy_upload::Column::Report,
            Expr::value(Some(state.vault.seal(report_slot(id), report))),
        );
    if phase == Phase::Import {
        update = update
            .col_expr(legacy_upload::Column::File, Expr::value(None::<Vec<u8>>))
            .col_expr(legacy_upload::Column::ImportId, Expr::value(summary.import))
            .col_expr(legacy_upload::Column::FinishedAt, Expr::value(Some(now)));
    }
    update
        .filter(legacy_upload::Column::Id.eq(id))
        .filter(legacy_upload::Column::Status.eq(running))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Records that a step stopped on an error (the file is kept: the step may be resumed).
///
/// # Errors
/// Database errors.
pub async fn failed(state: &AppState, id: i32) -> Result<(), ServiceError> {
    legacy_upload::Entity::update_many()
        .col_expr(legacy_upload::Column::Status, Expr::value("failed"))
        .filter(legacy_upload::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// What an administrator decides about an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Import a previewed file.
    Confirm,
    /// Drop the file without importing it.
    Discard,
    /// Run again a step no server is working on (after a restart or an error).
    Resume,
}

impl Decision {
    pub fn from_code(code: &str) -> Option<Decision> {
        match code {
            "confirm" => Some(Decision::Confirm),
            "discard" => Some(Decision::Discard),
            "resume" => Some(Decision::Resume),
            _ => None,
        }
    }
}

/// Applies a decision; returns the step to start, if any. Only from the statuses it makes sense
/// in (a second click finds the status changed and is refused as a conflict).
///
/// # Errors
/// `NotFound` for other roles or an unknown upload; `Conflict` when the upload is not in a
/// status the decision applies to (or a server is working on it); database errors.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: i32,
    decision: Decision,
    request_id: Option<&str>,
) -> Result<Option<Phase>, ServiceError> {
    admin(actor)?;
    let upload = legacy_upload::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let now = state.clock.now();
    let busy = state.uploads.busy(id);
    let expired = expired(&upload, now);
    let (from, to, phase, action) = match (decision, upload.status.as_str()) {
        (Decision::Confirm, "previewed") if !expired => (
            "previewed",
            "running",
            Some(Phase::Import),
            "legacy.confirmed",
        ),
        (Decision::Discard, s @ ("previewing" | "previewed" | "failed")) if !busy => {
            (s, "discarded", None, "legacy.discarded")
        }
        (Decision::Resume, s @ ("previewing" | "running")) if !busy => {
            let phase = if s == "running" {
                Phase::Import
            } else {
                Phase::Preview
            };
            (s, s, Some(phase), "legacy.resumed")
        }
        // A failed step goes back to where it was: an import that had been confirmed resumes.
        (Decision::Resume, "failed") if !busy && upload.file.is_some() => {
            let (status, phase) = if upload.confirmed_at.is_some() {
                ("running", Phase::Import)
            } else {
                ("previewing", Phase::Preview)
            };
            ("failed", status, Some(phase), "legacy.resumed")
        }
        _ => return Err(ServiceError::Conflict),
    };
    let tx = state.audit.begin(&state.db).await?;
    let mut update = legacy_upload::Entity::update_many()
        .col_expr(legacy_upload::Column::Status, Expr::value(to));
    if decision == Decision::Confirm {
        update = update.col_expr(legacy_upload::Column::ConfirmedAt, Expr::value(Some(now)));
    }
    if decision == Decision::Discard {
        update = update
            .col_expr(legacy_upload::Column::File, Expr::value(None::<Vec<u8>>))
            .col_expr(legacy_upload::Column::FinishedAt, Expr::value(Some(now)));
    }
    let changed = update
        .filter(legacy_upload::Column::Id.eq(id))
        .filter(legacy_upload::Column::Status.eq(from))
        .exec(&*tx)
        .await?;
    if changed.rows_affected != 1 {
        return Err(ServiceError::Conflict);
    }
    tx.record(
        NewEvent::new(action, now)
            .by(actor)
            .subject(TABLE, id)
            .request(request_id),
    )
    .await?;
    tx.commit().await?;
    Ok(phase)
}

/// A preview left unconfirmed past [`KEEP_HOURS`].
fn expired(upload: &legacy_upload::Model, now: chrono::DateTime<chrono::Utc>) -> bool {
    matches!(
        upload.status.as_str(),
        "previewing" | "previewed" | "failed"
    ) && upload.confirmed_at.is_none()
        && now - upload.created_at > TimeDelta::hours(KEEP_HOURS)
}

/// Drops the files of previews left unconfirmed past [`KEEP_HOURS`].
async fn drop_expired(state: &AppState) -> Result<(), ServiceError> {
    let cutoff = state.clock.now() - TimeDelta::hours(KEEP_HOURS);
    legacy_upload::Entity::update_many()
        .col_expr(legacy_upload::Column::File, Expr::value(None::<Vec<u8>>))
        .filter(legacy_upload::Column::Status.is_in(["previewing", "previewed", "failed"]))
        .filter(legacy_upload::Column::ConfirmedAt.is_null())
        .filter(legacy_upload::Column::CreatedAt.lt(cutoff))
        .filter(legacy_upload::Column::File.is_not_null())
        .exec(&state.db)
        .await?;
    Ok(())
}

fn row_of(
    state: &AppState,
    u: &legacy_upload::Model,
    names: &HashMap<i32, String>,
    codes: &HashMap<i32, String>,
) -> UploadRow {
    let now = state.clock.now();
    let status = if expired(u, now) {
        "expired".to_owned()
    } else {
        u.status.clone()
    };
    UploadRow {
        id: u.id,
        agency: codes.get(&u.agency_id).cloned().unwrap_or_default(),
        by: names.get(&u.staff_id).cloned().unwrap_or_default(),
        rows: unsigned(u.rows),
        status,
        created_at: stamp(u.created_at),
        finished_at: u.finished_at.map(stamp),
        counts: u
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
    }
}

async fn names_and_codes(
    state: &AppState,
) -> Result<(HashMap<i32, String>, HashMap<i32, String>), ServiceError> {
    let names = staff::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.display_name))
        .collect();
    let codes = agency::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    Ok((names, codes))
}

/// The uploads, newest first (administrators). Drops expired previews' files first.
///
/// # Errors
/// `NotFound` for other roles; database errors.
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<UploadRow>, ServiceError> {
    admin(actor)?;
    drop_expired(state).await?;
    let (names, codes) = names_and_codes(state).await?;
    let mut rows = Vec::new();
    for u in legacy_upload::Entity::find()
        .order_by_desc(legacy_upload::Column::Id)
        .all(&state.db)
        .await?
    {
        rows.push(row_of(state, &u, &names, &codes));
    }
    Ok(rows)
}

/// The stored report, opened (empty before the first step ends).
async fn report_bytes(
    state: &AppState,
    u: &legacy_upload::Model,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    match &u.report {
        Some(sealed) => state
            .vault
            .open(report_slot(u.id), sealed)
            .map_err(|_| ServiceError::Internal("an import report did not open")),
        None => Ok(Zeroizing::new(Vec::new())),
    }
}

/// One upload: its counts, its report's first lines, its progress (administrators).
///
/// # Errors
/// `NotFound` for other roles or an unknown upload; database errors.
pub async fn detail(
    state: &AppState,
    actor: &Actor,
    id: i32,
) -> Result<UploadDetail, ServiceError> {
    admin(actor)?;
    let u = legacy_upload::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (names, codes) = names_and_codes(state).await?;
    let row = row_of(state, &u, &names, &codes);
    let report = report_bytes(state, &u).await?;
    let mut lines = Vec::new();
    let mut total_lines = 0u64;
    let mut reader = csv::Reader::from_reader(&report[..]);
    for record in reader.records().flatten() {
        total_lines += 1;
        if lines.len() < SHOWN_LINES && record.len() >= 9 {
            lines.push(ReportLine {
                line: record[0].to_owned(),
                outcome: record[1].to_owned(),
                masked_id: record[2].to_owned(),
                field: record[3].to_owned(),
                code: record[4].to_owned(),
                message_es: record[5].to_owned(),
                message_en: record[6].to_owned(),
                request: record[7].to_owned(),
                folio: record[8].to_owned(),
            });
        }
    }
    let done = state.uploads.done(id);
    let interrupted = matches!(u.status.as_str(), "previewing" | "running") && done.is_none();
    Ok(UploadDetail {
        row,
        lines,
        total_lines,
        done,
        interrupted,
    })
}

/// The whole report as CSV (administrators; audited: it carries masked IDs).
///
/// # Errors
/// `NotFound` for other roles, an unknown upload or one without a report; database errors.
pub async fn report_csv(
    state: &AppState,
    actor: &Actor,
    id: i32,
    request_id: Option<&str>,
) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    admin(actor)?;
    let u = legacy_upload::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if u.report.is_none() {
        return Err(ServiceError::NotFound);
    }
    let report = report_bytes(state, &u).await?;
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("legacy.report_downloaded", state.clock.now())
            .by(actor)
            .subject(TABLE, id)
            .request(request_id),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}
