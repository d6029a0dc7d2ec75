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
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::registry::full_name;
use super::tracking::agency_of;
use crate::domain::access::Permission;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    let db = &state.db;
    let agency_id = agency_of(&actor.actor, Permission::ViewAgency)?;
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
    let boroughs: HashMap<i32, String> = borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.inegi_code))
        .collect();

    let mut records = Vec::new();
    let mut after = 0;
    loop {
        let mut query = enrollment::Entity::find()
            .filter(enrollment::Column::ProgramId.is_in(programs.keys().copied()))
            .filter(enrollment::Column::Id.gt(after));
        if let Some(s) = status {
            query = query.filter(enrollment::Column::Status.eq(s));
        }
        let batch = query
            .order_by_asc(enrollment::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let people: HashMap<i32, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(batch.iter().map(|e| e.person_id)))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        records.extend(batch.into_iter().map(|e| {
            let who = people.get(&e.person_id);
            EnrollmentRecord {
                program: programs.get(&e.program_id).cloned().unwrap_or_default(),
                requested_on: e.requested_at.date_naive().to_string(),
                due_on: e.due_on.to_string(),
                decided_on: e.decided_at.map(|d| d.date_naive().to_string()),
                updated_at: e.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                card_number: who.map(|p| p.card_number.clone()).unwrap_or_default(),
                person_name: who.map(full_name).unwrap_or_default(),
                borough: who
                    .and_then(|p| boroughs.get(&p.borough_id).cloned())
                    .unwrap_or_default(),
                folio: e.folio,
                status: e.status,
                escalation_level: e.escalation_level,
                version: e.version,
            }
        }));
    }

    let tx = state.audit.begin(db).await?;
    tx.record(
        NewEvent::new("enrollment.exported", state.clock.now())
            .by(&actor.actor)
            .subject("agency", agency_id)
            .purpose("agency_export")
            .request(request_id)
            .detail(serde_json::json!({
                "program": filter.program,
                "status": filter.status,
                "rows": records.len(),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(AgencyExport {
        agency: found_agency.code,
        records,
    })
}
