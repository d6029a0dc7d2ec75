//! What the agency API (`/api/v1`) does beyond the exports: find a person the agency serves,
//! read one request with its history, move it through the status machine, refer its person to
//! another program, record a rating collected on the agency's own channels, read aggregate
//! coverage. Each operation runs as the client's service account (an agency staff member),
//! through the same services, checks and audit events as the screens; objects outside the
//! agency are `NotFound`, whether they exist or not.

use angel_entity::{enrollment, enrollment_event};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::exchange::{EnrollmentRecord, ExportFilter, Reached, reached, records};
use super::registry::{by_card, by_curp, full_name, to_date, today};
use super::tracking::{Units, agency_of, serves};
use crate::citizen::forms::AccountFeedbackForm;
use crate::coverage::dto::CoverageReport;
use crate::domain::access::Permission;
use crate::error::FieldError;
use crate::registry::forms::{Search, SearchForm};
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::{AppState, ServiceError};
use crate::tracking::forms::{DecisionForm, ReferralForm};

/// A person as an agency system needs them: who they are and their requests in the agency's
/// programs. No CURP, no address, no other agency's requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PersonRecord {
    pub card_number: String,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// INEGI code of the borough they live in.
    pub borough: String,
    pub requests: Vec<EnrollmentRecord>,
}

/// One status change in a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HistoryLine {
    /// RFC 3339, UTC.
    pub at: String,
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
    /// The role of who made it (`None` for the system: escalations).
    pub role: Option<String>,
    /// The office or agency it was made from.
    pub unit: Option<String>,
}

/// A request with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EnrollmentDetail {
    pub record: EnrollmentRecord,
    pub history: Vec<HistoryLine>,
}

/// How an agency system looks a person up: exactly one of CURP or card number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Curp(String),
    Card(String),
}

/// A person the actor's agency serves (a request of theirs in one of its programs), by CURP
/// or card number. Audited (`person.searched`, purpose `agency_api`, with the person shown or
/// none; never the CURP).
///
/// # Errors
/// `Invalid` for a malformed CURP (field `curp`) or card number (field `card_number`);
/// `NotFound` when nobody holds it or the agency does not serve them; database errors.
pub async fn find_person(
    state: &AppState,
    actor: &SignedIn,
    lookup: &Lookup,
    request_id: Option<&str>,
) -> Result<PersonRecord, ServiceError> {
    let db = &state.db;
    let agency_id = agency_of(&actor.actor, Permission::ViewAgency)?;
    let form = match lookup {
        Lookup::Curp(curp) => SearchForm {
            by: "curp".into(),
            curp: curp.clone(),
            ..SearchForm::default()
        },
        Lookup::Card(card) => SearchForm {
            by: "card".into(),
            card: card.clone(),
            ..SearchForm::default()
        },
    };
    let search = form.validate(today(state.clock.now())).map_err(|errors| {
        ServiceError::Invalid(
            errors
                .into_iter()
                .map(|e| FieldError {
                    field: if e.field == "card" {
                        "card_number".into()
                    } else {
                        e.field
                    },
                    code: e.code,
                })
                .collect(),
        )
    })?;
    let (by, found) = match &search {
        Search::Curp(curp) => ("curp", by_curp(&state.vault, db, curp).await?),
        Search::Card(number) => ("card", by_card(db, number).await?),
        Search::Name { .. } => return Err(ServiceError::NotFound),
    };
    let served = match found {
        Some(p) if serves(db, agency_id, p.id).await? => Some(p),
        _ => None,
    };
    let tx = state.audit.begin(db).await?;
    let mut event = NewEvent::new("person.searched", state.clock.now())
        .by(&actor.actor)
        .purpose("agency_api")
        .request(request_id);
    if let Some(p) = &served {
        event = event.subject("person", p.id);
    }
    tx.record(event.detail(serde_json::json!({
        "by": by,
        "shown": served.iter().map(|p| p.id).collect::<Vec<_>>(),
    })))
    .await?;
    tx.commit().await?;
    let who = served.ok_or(ServiceError::NotFound)?;

    let reach = reached(db, &actor.actor, &ExportFilter::default()).await?;
    let theirs = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(who.id))
        .filter(enrollment::Column::ProgramId.is_in(reach.programs.keys().copied()))
        .order_by_asc(enrollment::Column::Id)
        .all(db)
        .await?;
    Ok(PersonRecord {
        card_number: who.card_number.clone(),
        name: full_name(&who),
        birth_date: to_date(who.birth_date).to_string(),
        borough: reach.borough_code(who.borough_id),
        requests: records(db, &reach, theirs).await?,
    })
}

/// Request `folio` when it is in one of the actor's agency's programs (`NotFound` otherwise),
/// with what the agency reaches.
async fn own_request(
    state: &AppState,
    actor: &SignedIn,
    folio: &str,
) -> Result<(enrollment::Model, Reached), ServiceError> {
    let reach = reached(&state.db, &actor.actor, &ExportFilter::default()).await?;
    let e = enrollment::Entity::find()
        .filter(enrollment::Column::Folio.eq(folio))
        .one(&state.db)
        .await?
        .filter(|e| reach.programs.contains_key(&e.program_id))
        .ok_or(ServiceError::NotFound)?;
    Ok((e, reach))
}

/// Request `folio` of the actor's agency with its status history. Audited as a view of the
/// person (`person.viewed`, purpose `agency_api`).
///
/// # Errors
/// `NotFound` outside the agency; database errors.
pub async fn enrollment(
    state: &AppState,
    actor: &SignedIn,
    folio: &str,
    request_id: Option<&str>,
) -> Result<EnrollmentDetail, ServiceError> {
    let db = &state.db;
    let (e, reach) = own_request(state, actor, folio).await?;
    let events = enrollment_event::Entity::find()
        .filter(enrollment_event::Column::EnrollmentId.eq(e.id))
        .order_by_asc(enrollment_event::Column::At)
        .order_by_asc(enrollment_event::Column::Id)
        .all(db)
        .await?;
    let units = Units::load(db).await?;
    let history = events
        .into_iter()
        .map(|ev| HistoryLine {
            at: ev.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            unit: units.name(ev.office_id, ev.agency_id),
            from: ev.from_status,
            to: ev.to_status,
            reason: ev.reason,
            role: ev.role,
        })
        .collect();
    let (id, person_id) = (e.id, e.person_id);
    let record = records(db, &reach, vec![e])
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    let tx = state.audit.begin(db).await?;
    tx.record(
        NewEvent::new("person.viewed", state.clock.now())
            .by(&actor.actor)
            .subject("person", person_id)
            .purpose("agency_api")
            .request(request_id)
            .detail(serde_json::json!({ "enrollment": id, "folio": record.folio })),
    )
    .await?;
    tx.commit().await?;
    Ok(EnrollmentDetail { record, history })
}

/// Moves request `folio` through the machine, as the decision screen does (same transitions,
/// reason codes, version check and audit event). Returns the request as it now is.
///
/// # Errors
/// `Invalid` (field errors), `Conflict` (stale version), `NotFound`, database errors.
pub async fn change_status(
    state: &AppState,
    actor: &SignedIn,
    folio: &str,
    form: &DecisionForm,
    request_id: Option<&str>,
) -> Result<EnrollmentRecord, ServiceError> {
    let (e, reach) = own_request(state, actor, folio).await?;
    super::tracking::transition(state, actor, e.id, form, request_id).await?;
    let now = enrollment::Entity::find_by_id(e.id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    records(&state.db, &reach, vec![now])
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)
}

/// Refers the person of request `folio` to another agency's program, as the decision screen
/// does. Returns the referral's id and the program's code.
///
/// # Errors
/// As [`super::referral::refer`]; `NotFound` outside the agency.
pub async fn refer(
    state: &AppState,
    actor: &SignedIn,
    folio: &str,
    form: &ReferralForm,
    request_id: Option<&str>,
) -> Result<i32, ServiceError> {
    let (e, _) = own_request(state, actor, folio).await?;
    super::referral::refer_from_request(state, actor, e.id, form, request_id).await
}

/// Records a rating (1–5, optional comment) of a decided request of the agency, collected on
/// the agency's own channel (channel `agency`): once per request, as citizens' ratings.
///
/// # Errors
/// `Invalid` (`rating`: required, out of range, `not_decided`, `already_rated`; `comment`: too
/// long), `NotFound` outside the agency, database errors.
pub async fn rate(
    state: &AppState,
    actor: &SignedIn,
    folio: &str,
    rating: &str,
    comment: &str,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let (e, _) = own_request(state, actor, folio).await?;
    let form = AccountFeedbackForm {
        folio: e.folio.clone(),
        rating: rating.to_owned(),
        comment: comment.to_owned(),
    };
    let (_, rating) = form.validate().map_err(ServiceError::Invalid)?;
    super::citizen::rate(
        state,
        &e,
        &rating,
        ("agency", Some(&actor.actor)),
        request_id,
    )
    .await
}

/// Coverage of `indicator` by borough, as the policy dashboard shows it (small cells
/// suppressed). Audited (`coverage.viewed`, purpose `agency_api`).
///
/// # Errors
/// As [`super::coverage::by_borough`]; database errors.
pub async fn coverage(
    state: &AppState,
    actor: &SignedIn,
    indicator: &str,
    year: Option<i32>,
    request_id: Option<&str>,
) -> Result<CoverageReport, ServiceError> {
    let report = super::coverage::by_borough(&state.db, indicator, year).await?;
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("coverage.viewed", state.clock.now())
            .by(&actor.actor)
            .purpose("agency_api")
            .request(request_id)
            .detail(serde_json::json!({ "indicator": report.indicator, "year": report.year })),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}
