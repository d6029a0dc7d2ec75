//! What an agency's own system receives from Ángel: the requests of the agency's programs with
//! the minimum data of their people — folio, program, status, dates, escalation level and
//! version; the person's card number, name and borough. No CURP, no address, no notes: the
//! card number is the key an agency system keeps (it is printed on the person's card and
//! `/oficina/tarjeta` resolves it).
//!
//! Scope is the agency staff's: their own agency's programs only, whatever the filter says.
//! One export is one audit event (who, which agency, which filter, how many rows), as opening
//! the queue is; the person-level views stay audited where a case is opened.

use std::collections::HashMap;

use angel_entity::{agency, borough, enrollment, person, program};
use chrono::SecondsFormat;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::registry::full_name;
use super::tracking::agency_of;
use crate::domain::access::{Actor, Permission};
use crate::domain::lifecycle::Status;
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::{AppState, ServiceError};

/// Requests read per query (and people looked up per query).
const BATCH: u64 = 5_000;

/// Which requests to export; empty fields mean every program of the agency, every status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// A program code of the agency.
    pub program: String,
    /// A status code.
    pub status: String,
}

/// One request as an agency system receives it. Dates are `YYYY-MM-DD`, times RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EnrollmentRecord {
    pub folio: String,
    /// Program code.
    pub program: String,
    /// Status code (`requested`, `in_review`, `approved`, `active`, `suspended`, `rejected`,
    /// `exited`, `withdrawn`).
    pub status: String,
    pub requested_on: String,
    pub due_on: String,
    pub decided_on: Option<String>,
    /// 0 none, 1 office supervisor, 2 agency head, 3 central coordination.
    pub escalation_level: i32,
    /// What a status change must quote (optimistic concurrency).
    pub version: i32,
    pub updated_at: String,
    /// The person's card number (ten digits).
    pub card_number: String,
    pub person_name: String,
    /// INEGI code of the person's borough.
    pub borough: String,
}

/// The export of one agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyExport {
    /// The agency's code, for the file name.
    pub agency: String,
    pub records: Vec<EnrollmentRecord>,
}

/// What one agency's export reaches: the agency, its programs (by id, with their codes) under
/// the filter, the status asked for, and the boroughs' INEGI codes.
pub(super) struct Reached {
    pub agency_id: i32,
    pub agency_code: String,
    pub programs: HashMap<i32, String>,
    status: Option<&'static str>,
    boroughs: HashMap<i32, String>,
}

impl Reached {
    /// The INEGI code of borough `id` (empty if unknown).
    pub(super) fn borough_code(&self, id: i32) -> String {
        self.boroughs.get(&id).cloned().unwrap_or_default()
    }
}

/// The reach of an agency actor under `filter`.
///
/// # Errors
/// `NotFound` outside an agency, for a program of another agency or an unknown status code;
/// database errors.
pub(super) async fn reached(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &ExportFilter,
) -> Result<Reached, ServiceError> {
    let agency_id = agency_of(actor, Permission::ViewAgency)?;
    let found_agency = agency::Entity::find_by_id(agency_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let programs: HashMap<i32, String> = program::Entity::find()
        .filter(program::Column::AgencyId.eq(agency_id))
        .all(db)
        .await?
        .into_iter()
        .filter(|p| filter.program.is_empty() || p.code == filter.program)
        .map(|p| (p.id, p.code))
        .collect();
    if programs.is_empty() {
        return Err(ServiceError::NotFound);
    }
    let status = if filter.status.is_empty() {
        None
    } else {
        Some(
            Status::from_code(&filter.status)
                .ok_or(ServiceError::NotFound)?
                .code(),
        )
    };
    let boroughs = borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.inegi_code))
        .collect();
    Ok(Reached {
        agency_id,
        agency_code: found_agency.code,
        programs,
        status,
        boroughs,
    })
}

/// The records of these requests (all of the reached programs), people read in one query.
pub(super) async fn records(
    db: &impl ConnectionTrait,
    reached: &Reached,
    found: Vec<enrollment::Model>,
) -> Result<Vec<EnrollmentRecord>, ServiceError> {
    let people: HashMap<i32, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(found.iter().map(|e| e.person_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(found
        .into_iter()
        .map(|e| {
            let who = people.get(&e.person_id);
            EnrollmentRecord {
                program: reached
                    .programs
                    .get(&e.program_id)
                    .cloned()
                    .unwrap_or_default(),
                requested_on: e.requested_at.date_naive().to_string(),
                due_on: e.due_on.to_string(),
                decided_on: e.decided_at.map(|d| d.date_naive().to_string()),
                updated_at: e.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                card_number: who.map(|p| p.card_number.clone()).unwrap_or_default(),
                person_name: who.map(full_name).unwrap_or_default(),
                borough: who
                    .map(|p| reached.borough_code(p.borough_id))
                    .unwrap_or_default(),
                folio: e.folio,
                status: e.status,
                escalation_level: e.escalation_level,
                version: e.version,
            }
        })
        .collect())
}

/// Up to `limit` records after request id `after`, by id, and the id of the last one read.
async fn batch(
    db: &impl ConnectionTrait,
    reached: &Reached,
    after: i32,
    limit: u64,
) -> Result<(Vec<EnrollmentRecord>, Option<i32>), ServiceError> {
    let mut query = enrollment::Entity::find()
        .filter(enrollment::Column::ProgramId.is_in(reached.programs.keys().copied()))
        .filter(enrollment::Column::Id.gt(after));
    if let Some(s) = reached.status {
        query = query.filter(enrollment::Column::Status.eq(s));
    }
    let found = query
        .order_by_asc(enrollment::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let last = found.last().map(|e| e.id);
    Ok((records(db, reached, found).await?, last))
}

/// One audit event for a list or an export of an agency's requests.
async fn audit_listing(
    state: &AppState,
    actor: &Actor,
    reached: &Reached,
    filter: &ExportFilter,
    purpose: &str,
    rows: usize,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("enrollment.exported", state.clock.now())
            .by(actor)
            .subject("agency", reached.agency_id)
            .purpose(purpose)
            .request(request_id)
            .detail(serde_json::json!({
                "program": filter.program,
                "status": filter.status,
                "rows": rows,
            })),
    )
    .await?;
    tx.commit().await
}

/// The requests of the actor's agency's programs matching `filter`, oldest first (by id).
///
/// # Errors
/// `NotFound` outside an agency, for a program of another agency or an unknown status code;
/// database errors.
pub async fn enrollments(
    state: &AppState,
    actor: &SignedIn,
    filter: &ExportFilter,
    request_id: Option<&str>,
) -> Result<AgencyExport, ServiceError> {
    let reached = reached(&state.db, &actor.actor, filter).await?;
    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let (batch, last) = batch(&state.db, &reached, after, BATCH).await?;
        let Some(last) = last else { break };
        after = last;
        records.extend(batch);
    }
    audit_listing(
        state,
        &actor.actor,
        &reached,
        filter,
        "agency_export",
        records.len(),
        request_id,
    )
    .await?;
    Ok(AgencyExport {
        agency: reached.agency_code,
        records,
    })
}

/// One page of the agency's requests (the API's list): up to `limit` after request id `after`,
/// and the cursor of the next page when there may be one. Audited as an export (purpose
/// `agency_api`).
///
/// # Errors
/// As [`enrollments`].
pub async fn page(
    state: &AppState,
    actor: &SignedIn,
    filter: &ExportFilter,
    after: i32,
    limit: u64,
    request_id: Option<&str>,
) -> Result<(Vec<EnrollmentRecord>, Option<i32>), ServiceError> {
    let reached = reached(&state.db, &actor.actor, filter).await?;
    let (records, last) = batch(&state.db, &reached, after, limit).await?;
    let next = last.filter(|_| records.len() as u64 == limit);
    audit_listing(
        state,
        &actor.actor,
        &reached,
        filter,
        "agency_api",
        records.len(),
        request_id,
    )
    .await?;
    Ok((records, next))
}
