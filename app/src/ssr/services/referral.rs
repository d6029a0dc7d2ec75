//! Referrals between agencies: a caseworker (or an agency's staff) sends a person to another
//! agency's program with a reason; the receiving agency accepts — which opens the request, with
//! the reason `referral_accepted` — or declines with a reason. Both sides see the referral in
//! their lists, and it is on the person's timeline.
//!
//! Scope as for requests: agency staff refer only people they already serve (a request in their
//! agency) and answer only referrals to their agency's programs (anything else is 404).

use std::collections::HashMap;

use angel_entity::{borough, case_note, enrollment, person, program, referral};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};

use super::eligibility::{
    NewRequest, OPEN as OPEN_REQUEST, current, facts_for, holidays, is_unique_violation,
    open_request, versions,
};
use super::registry::{age_on, field, full_name, to_date, to_naive, today};
use super::tracking::{Units, denied, insert_note, load, programs_of, readable_notes, serves};
use crate::catalog::dto::Localized;
use crate::domain::access::{Actor, Anchor, Permission, Reach, Scope, authorize};
use crate::domain::eligibility::evaluate;
use crate::domain::lifecycle::Reason;
use crate::domain::referral::{ACCEPTED, DECLINED, OPEN};
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::{AppState, ServiceError};
use crate::tracking::dto::{QUEUE_PAGE, ReferTarget, ReferralRow, ReferralView, Referrals};
use crate::tracking::forms::{ReferralDecisionForm, ReferralForm};

/// The programs `actor` may refer people to: every program for an office; other agencies'
/// programs for an agency.
///
/// # Errors
/// Database errors.
pub async fn targets(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> Result<Vec<ReferTarget>, ServiceError> {
    if !actor.role.has(Permission::ReferPeople) {
        return Ok(Vec::new());
    }
    let units = Units::load(db).await?;
    Ok(program::Entity::find()
        .order_by_asc(program::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .filter(|p| actor.agency_id != Some(p.agency_id))
        .map(|p| ReferTarget {
            agency: units
                .agencies
                .get(&p.agency_id)
                .map(|(_, name)| name.clone())
                .unwrap_or_default(),
            code: p.code,
            name: Localized {
                es: p.name_es,
                en: p.name_en,
            },
        })
        .collect())
}

/// Refers person `person_id` to a program with a reason (and an optional note on the
/// referral). Refused with a field error when the program is unknown or the referrer's own
/// agency's, or the person already has an open request or an open referral for it.
///
/// # Errors
/// `Invalid` (field errors), `NotFound`, database errors.
pub async fn refer(
    state: &AppState,
    actor: &SignedIn,
    person_id: i32,
    form: &ReferralForm,
    request_id: Option<&str>,
) -> Result<i32, ServiceError> {
    let db = &state.db;
    let reach = authorize(&actor.actor, Permission::ReferPeople, None).map_err(denied)?;
    person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .filter(|p| p.status != "merged")
        .ok_or(ServiceError::NotFound)?;
    if let Reach::Agency(mine) = reach
        && !serves(db, mine, person_id).await?
    {
        return Err(ServiceError::NotFound);
    }
    let valid = form.validate().map_err(ServiceError::Invalid)?;
    let Some(target) = program::Entity::find()
        .filter(program::Column::Code.eq(valid.program.as_str()))
        .one(db)
        .await?
    else {
        return Err(ServiceError::Invalid(vec![field(
            "program",
            "unknown_program",
        )]));
    };
    if actor.actor.agency_id == Some(target.agency_id) {
        return Err(ServiceError::Invalid(vec![field("program", "own_agency")]));
    }
    let open_request = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(person_id))
        .filter(enrollment::Column::ProgramId.eq(target.id))
        .filter(enrollment::Column::Status.is_in(OPEN_REQUEST))
        .count(db)
        .await?;
    if open_request > 0 {
        return Err(ServiceError::Invalid(vec![field(
            "program",
            "already_enrolled",
        )]));
    }
    let already = || ServiceError::Invalid(vec![field("program", "already_referred")]);
    let open_referral = referral::Entity::find()
        .filter(referral::Column::PersonId.eq(person_id))
        .filter(referral::Column::ProgramId.eq(target.id))
        .filter(referral::Column::Status.eq(OPEN))
        .count(db)
        .await?;
    if open_referral > 0 {
        return Err(already());
    }
    let now = state.clock.now();
    let tx = state.audit.begin(db).await?;
    let inserted = referral::ActiveModel {
        id: NotSet,
        person_id: Set(person_id),
        program_id: Set(target.id),
        reason: Set(valid.reason.code().to_owned()),
        from_staff_id: Set(actor.actor.staff_id),
        from_office_id: Set(actor.actor.office_id),
        from_agency_id: Set(actor.actor.agency_id),
        created_at: Set(now),
        status: Set(OPEN.to_owned()),
        decided_by: Set(None),
        decided_at: Set(None),
        decline_reason: Set(None),
        enrollment_id: Set(None),
        version: Set(1),
    }
    .insert(&*tx)
    .await;
    let inserted = match inserted {
        Ok(r) => r,
        // Another referral of the person to the program won the race.
        Err(e) if is_unique_violation(&e) => return Err(already()),
        Err(e) => return Err(e.into()),
    };
    let note = match &valid.note {
        Some(note) => Some(
            insert_note(
                state,
                &*tx,
                &actor.actor,
                person_id,
                (None, Some(inserted.id)),
                note,
                now,
            )
            .await?,
        ),
        None => None,
    };
    tx.record(
        NewEvent::new("referral.created", now)
            .by(&actor.actor)
            .subject("person", person_id)
            .request(request_id)
            .detail(serde_json::json!({
                "referral": inserted.id,
                "program": target.code,
                "reason": valid.reason.code(),
                "note": note,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(inserted.id)
}

/// A referral made from the decision screen of request `enrollment_id` (agency staff): the
/// request must be the agency's.
///
/// # Errors
/// As [`refer`].
pub async fn refer_from_request(
    state: &AppState,
    actor: &SignedIn,
    enrollment_id: i32,
    form: &ReferralForm,
    request_id: Option<&str>,
) -> Result<i32, ServiceError> {
    let (e, p) = load(&state.db, enrollment_id).await?;
    authorize(
        &actor.actor,
        Permission::ReferPeople,
        Some(Scope::Agency(p.agency_id)),
    )
    .map_err(denied)?;
    refer(state, actor, e.person_id, form, request_id).await
}

/// Referral `id` and its program, when the actor is staff of the agency that runs it (404
/// otherwise).
async fn received(
    db: &impl ConnectionTrait,
    actor: &SignedIn,
    id: i32,
) -> Result<(referral::Model, program::Model), ServiceError> {
    let r = referral::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let target = program::Entity::find_by_id(r.program_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    authorize(
        &actor.actor,
        Permission::DecideRequests,
        Some(Scope::Agency(target.agency_id)),
    )
    .map_err(denied)?;
    Ok((r, target))
}

/// The receiving agency answers referral `id`: accepting opens the request (status
/// `requested`, reason `referral_accepted`, evaluated under the rule version in force, due in the
/// program's business days from today); declining records the reason. A referral answered
/// meanwhile, or changed since the form was filled, is a conflict and nothing is written.
/// Returns the request opened, if any.
///
/// # Errors
/// `Invalid`, `Conflict`, `NotFound`, database errors.
pub async fn decide(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    form: &ReferralDecisionForm,
    request_id: Option<&str>,
) -> Result<Option<i32>, ServiceError> {
    let db = &state.db;
    let (r, target) = received(db, actor, id).await?;
    let decision = form.validate().map_err(ServiceError::Invalid)?;
    if r.status != OPEN || r.version != decision.version {
        return Err(ServiceError::Conflict);
    }
    let now = state.clock.now();
    let day = today(now);
    // What accepting needs, read before the transaction.
    let prepared = match decision.decline {
        Some(_) => None,
        None => {
            let all = versions(db).await?;
            let rule = current(&all, day)
                .get(&target.id)
                .map(|v| (v.id, v.rule.clone()))
                .ok_or_else(|| {
                    ServiceError::Invalid(vec![field("decision", "no_rule_in_force")])
                })?;
            let facts = facts_for(db, &[r.person_id], day)
                .await?
                .remove(&r.person_id)
                .unwrap_or_default();
            Some((rule.0, evaluate(&rule.1, &facts, day).verdict))
        }
    };
    let holidays = holidays(db).await?;
    let tx = state.audit.begin(db).await?;
    let opened = match prepared {
        Some((rule_id, verdict)) => Some(
            open_request(
                &*tx,
                NewRequest {
                    program_id: target.id,
                    program_code: &target.code,
                    sla_days: target.sla_days,
                    person_id: r.person_id,
                    applicant_id: r.person_id,
                    rule_id,
                    verdict,
                    life_event_id: None,
                    override_reason: None,
                    reason: Reason::ReferralAccepted,
                },
                &actor.actor,
                &holidays,
                now,
            )
            .await
            .map_err(|e| match e {
                ServiceError::Invalid(_) => {
                    ServiceError::Invalid(vec![field("decision", "already_enrolled")])
                }
                other => other,
            })?,
        ),
        None => None,
    };
    let status = if opened.is_some() { ACCEPTED } else { DECLINED };
    let changed = referral::Entity::update_many()
        .col_expr(referral::Column::Status, Expr::value(status))
        .col_expr(
            referral::Column::DecidedBy,
            Expr::value(actor.actor.staff_id),
        )
        .col_expr(referral::Column::DecidedAt, Expr::value(now))
        .col_expr(
            referral::Column::DeclineReason,
            Expr::value(decision.decline.map(|d| d.code().to_owned())),
        )
        .col_expr(
            referral::Column::EnrollmentId,
            Expr::value(opened.as_ref().map(|e| e.id)),
        )
        .col_expr(
            referral::Column::Version,
            Expr::col(referral::Column::Version).add(1),
        )
        .filter(referral::Column::Id.eq(id))
        .filter(referral::Column::Version.eq(r.version))
        .filter(referral::Column::Status.eq(OPEN))
        .exec(&*tx)
        .await?;
    if changed.rows_affected != 1 {
        return Err(ServiceError::Conflict);
    }
    tx.record(
        NewEvent::new(
            if opened.is_some() {
                "referral.accepted"
            } else {
                "referral.declined"
            },
            now,
        )
        .by(&actor.actor)
        .subject("person", r.person_id)
        .request(request_id)
        .detail(serde_json::json!({
            "referral": id,
            "program": target.code,
            "decline_reason": decision.decline.map(|d| d.code()),
            "enrollment": opened.as_ref().map(|e| e.id),
            "folio": opened.as_ref().map(|e| e.folio.clone()),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(opened.map(|e| e.id))
}

/// Rows for `found`, with people, boroughs, programs, agencies and folios in a fixed number of
/// queries.
pub(super) async fn referral_rows(
    db: &impl ConnectionTrait,
    found: Vec<referral::Model>,
    units: &Units,
) -> Result<Vec<ReferralRow>, ServiceError> {
    let people: HashMap<i32, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(found.iter().map(|r| r.person_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let boroughs: HashMap<i32, String> = borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    let programs: HashMap<i32, program::Model> = program::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let folios: HashMap<i32, String> = enrollment::Entity::find()
        .filter(enrollment::Column::Id.is_in(found.iter().filter_map(|r| r.enrollment_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e.folio))
        .collect();
    Ok(found
        .into_iter()
        .map(|r| {
            let p = people.get(&r.person_id);
            let prog = programs.get(&r.program_id);
            ReferralRow {
                id: r.id,
                person_id: r.person_id,
                person: p.map(full_name).unwrap_or_default(),
                borough: p
                    .and_then(|p| boroughs.get(&p.borough_id).cloned())
                    .unwrap_or_default(),
                program: prog.map(|p| p.code.clone()).unwrap_or_default(),
                agency: prog
                    .and_then(|p| units.agencies.get(&p.agency_id))
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default(),
                from: units
                    .name(r.from_office_id, r.from_agency_id)
                    .unwrap_or_default(),
                reason: r.reason,
                created_on: to_date(r.created_at.date_naive()),
                status: r.status,
                decline_reason: r.decline_reason,
                folio: r.enrollment_id.and_then(|e| folios.get(&e).cloned()),
                version: r.version,
            }
        })
        .collect())
}

/// The caller's referrals: received (an agency's open ones, oldest first, up to a page) and
/// sent by their office or agency (newest first, up to a page).
///
/// # Errors
/// `NotFound` without an office or agency; database errors.
pub async fn list(state: &AppState, actor: &SignedIn) -> Result<Referrals, ServiceError> {
    let db = &state.db;
    let reach = authorize(&actor.actor, Permission::ReferPeople, None).map_err(denied)?;
    let units = Units::load(db).await?;
    let (received, received_total) = match reach {
        Reach::Agency(mine) => {
            let query = referral::Entity::find()
                .filter(referral::Column::ProgramId.in_subquery(programs_of(mine)))
                .filter(referral::Column::Status.eq(OPEN));
            let total = query.clone().count(db).await?;
            let found = query
                .order_by_asc(referral::Column::CreatedAt)
                .order_by_asc(referral::Column::Id)
                .limit(QUEUE_PAGE)
                .all(db)
                .await?;
            (referral_rows(db, found, &units).await?, total)
        }
        _ => (Vec::new(), 0),
    };
    let sent = match (actor.actor.role.anchor(), reach) {
        (Anchor::Agency, Reach::Agency(mine)) => {
            referral::Entity::find().filter(referral::Column::FromAgencyId.eq(mine))
        }
        (Anchor::Office, Reach::Office(mine)) => {
            referral::Entity::find().filter(referral::Column::FromOfficeId.eq(mine))
        }
        _ => return Err(ServiceError::NotFound),
    }
    .order_by_desc(referral::Column::CreatedAt)
    .order_by_desc(referral::Column::Id)
    .limit(QUEUE_PAGE)
    .all(db)
    .await?;
    Ok(Referrals {
        received,
        received_total,
        sent: referral_rows(db, sent, &units).await?,
    })
}

/// Referral `id` as its receiving agency opens it to decide: the row, the person's age and the
/// notes on the referral the actor may read. Audited as a view of the person (purpose
/// `referral`).
///
/// # Errors
/// `NotFound` for another agency's referral; database errors.
pub async fn view(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    request_id: Option<&str>,
) -> Result<ReferralView, ServiceError> {
    let db = &state.db;
    let (r, target) = received(db, actor, id).await?;
    let who = person::Entity::find_by_id(r.person_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let now = state.clock.now();
    let units = Units::load(db).await?;
    let notes = case_note::Entity::find()
        .filter(case_note::Column::ReferralId.eq(id))
        .order_by_asc(case_note::Column::Id)
        .all(db)
        .await?;
    let notes = readable_notes(state, &actor.actor, notes, &HashMap::new(), &units).await?;
    let person_id = r.person_id;
    let row = referral_rows(db, vec![r], &units)
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    let tx = state.audit.begin(db).await?;
    tx.record(
        NewEvent::new("person.viewed", now)
            .by(&actor.actor)
            .subject("person", person_id)
            .purpose("referral")
            .request(request_id)
            .detail(serde_json::json!({ "referral": id })),
    )
    .await?;
    tx.commit().await?;
    Ok(ReferralView {
        row,
        program_name: Localized {
            es: target.name_es,
            en: target.name_en,
        },
        age: age_on(who.birth_date, to_naive(today(now))),
        notes,
    })
}
