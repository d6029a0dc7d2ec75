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
    ActiveModelTrait,
    ActiveValue::NotSet,
    ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait as _},
};
use zeroize::Zeroizing;

use super::legacy::Summary;
use super::tracking::stamp;
use crate::domain::access::{Actor, Permission, authorize};
use crate::error::FieldError;
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

    /// Whether this server is previewing or importing the upload now.
    pub fn busy(&self, id: i32) -> bool {
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

/// An upload as the page and the decisions read it: everything but the file and the report
/// (megabytes each), and whether the file is still kept.
#[derive(Debug, Clone, FromQueryResult)]
struct Upload {
    id: i32,
    agency_id: i32,
    staff_id: i32,
    rows: i64,
    status: String,
    summary: Option<String>,
    has_file: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    confirmed_at: Option<chrono::DateTime<chrono::Utc>>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The uploads (one, or all newest first), without their file and report.
async fn uploads(state: &AppState, id: Option<i32>) -> Result<Vec<Upload>, ServiceError> {
    use legacy_upload::Column as C;
    let mut query = legacy_upload::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::AgencyId,
            C::StaffId,
            C::Rows,
            C::Status,
            C::Summary,
            C::CreatedAt,
            C::ConfirmedAt,
            C::FinishedAt,
        ])
        .column_as(Expr::col(C::File).is_not_null(), "has_file")
        .order_by_desc(C::Id);
    if let Some(id) = id {
        query = query.filter(C::Id.eq(id));
    }
    Ok(query.into_model::<Upload>().all(&state.db).await?)
}

async fn upload(state: &AppState, id: i32) -> Result<Upload, ServiceError> {
    uploads(state, Some(id))
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)
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
/// `NotFound` for other roles; `Invalid` for an unknown agency; database errors.
pub async fn store(
    state: &AppState,
    actor: &Actor,
    new: NewUpload<'_>,
    request_id: Option<&str>,
) -> Result<i32, ServiceError> {
    admin(actor)?;
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    if agency::Entity::find_by_id(new.agency_id)
        .one(&*tx)
        .await?
        .is_none()
    {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "agency",
            "invalid_choice",
        )]));
    }
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
    pub const ALL: [Decision; 3] = [Decision::Confirm, Decision::Resume, Decision::Discard];

    /// The form's value.
    pub fn code(self) -> &'static str {
        match self {
            Decision::Confirm => "confirm",
            Decision::Discard => "discard",
            Decision::Resume => "resume",
        }
    }

    pub fn from_code(code: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|d| d.code() == code)
    }
}

/// What a decision does to an upload as it is now: the status it moves to, the step it starts
/// and its audit action; `None` when it does not apply. The page offers exactly the decisions
/// this allows.
fn plan(
    decision: Decision,
    u: &Upload,
    busy: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<(&'static str, Option<Phase>, &'static str)> {
    // Something to work on: the file, and not a preview left past its time.
    let live = u.has_file && !expired(u, now);
    match (decision, u.status.as_str()) {
        (Decision::Confirm, "previewed") if live => {
            Some(("running", Some(Phase::Import), "legacy.confirmed"))
        }
        (Decision::Discard, "previewing" | "previewed" | "failed") if !busy => {
            Some(("discarded", None, "legacy.discarded"))
        }
        (Decision::Resume, "previewing") if live && !busy => {
            Some(("previewing", Some(Phase::Preview), "legacy.resumed"))
        }
        (Decision::Resume, "running") if live && !busy => {
            Some(("running", Some(Phase::Import), "legacy.resumed"))
        }
        // A failed step goes back to where it was: an import that had been confirmed resumes.
        (Decision::Resume, "failed") if live && !busy => Some(if u.confirmed_at.is_some() {
            ("running", Some(Phase::Import), "legacy.resumed")
        } else {
            ("previewing", Some(Phase::Preview), "legacy.resumed")
        }),
        _ => None,
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
    let upload = upload(state, id).await?;
    let now = state.clock.now();
    let (to, phase, action) =
        plan(decision, &upload, state.uploads.busy(id), now).ok_or(ServiceError::Conflict)?;
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
        .filter(legacy_upload::Column::Status.eq(upload.status.as_str()))
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
fn expired(upload: &Upload, now: chrono::DateTime<chrono::Utc>) -> bool {
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
    u: &Upload,
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

/// The names of the uploads' staff and the agencies' codes.
async fn names_and_codes(
    state: &AppState,
    uploads: &[Upload],
) -> Result<(HashMap<i32, String>, HashMap<i32, String>), ServiceError> {
    let names = staff::Entity::find()
        .filter(staff::Column::Id.is_in(uploads.iter().map(|u| u.staff_id)))
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
    let listed = uploads(state, None).await?;
    let (names, codes) = names_and_codes(state, &listed).await?;
    Ok(listed
        .iter()
        .map(|u| row_of(state, u, &names, &codes))
        .collect())
}

/// The stored report, opened (empty before the first step ends).
async fn report_bytes(
    state: &AppState,
    id: i32,
) -> Result<Option<Zeroizing<Vec<u8>>>, ServiceError> {
    let sealed: Option<Option<Vec<u8>>> = legacy_upload::Entity::find_by_id(id)
        .select_only()
        .column(legacy_upload::Column::Report)
        .into_tuple()
        .one(&state.db)
        .await?;
    sealed
        .flatten()
        .map(|sealed| {
            state
                .vault
                .open(report_slot(id), &sealed)
                .map_err(|_| ServiceError::Internal("an import report did not open"))
        })
        .transpose()
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
    let u = upload(state, id).await?;
    let (names, codes) = names_and_codes(state, std::slice::from_ref(&u)).await?;
    let row = row_of(state, &u, &names, &codes);
    let report = report_bytes(state, id).await?.unwrap_or_default();
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
    let now = state.clock.now();
    let actions = Decision::ALL
        .into_iter()
        .filter(|d| plan(*d, &u, done.is_some(), now).is_some())
        .map(|d| d.code().to_owned())
        .collect();
    Ok(UploadDetail {
        row,
        lines,
        total_lines,
        done,
        interrupted,
        actions,
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
    let report = report_bytes(state, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
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
