//! Requests after they are made: the agency queue, the decision screen, status changes through
//! the machine of [`crate::domain::lifecycle`], case notes, escalations seen by supervisors and
//! agency heads, and the person's timeline across agencies.
//!
//! Scope: a request belongs to the agency that runs its program. Agency staff reach only their
//! agency's requests (anything else is 404); office roles reach every person of the city's
//! registry, as they do for profiles. Opening a request or a timeline is audited as a view of the
//! person.

use std::collections::{BTreeSet, HashMap, HashSet};

use angel_entity::{
    agency, borough, case_note, enrollment, enrollment_assignment, enrollment_escalation,
    enrollment_event, office, person, program, program_rule, referral, staff,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, Query},
};

use super::eligibility::{facts_for, is_unique_violation, parse_version};
use super::registry::{
    age_on, field, full_name, integrity_event, key_version, to_date, to_naive, today,
};
use crate::catalog::dto::Localized;
use crate::domain::access::{Actor, Anchor, Denied, Permission, Reach, Scope, authorize};
use crate::domain::calendar::add_days;
use crate::domain::eligibility::evaluate;
use crate::domain::lifecycle::{self, Side, Status};
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::vault::{Slot, note_slot};
use crate::ssr::{AppState, ServiceError};
use crate::tracking::dto::{
    AgencyQueue, CaseView, Escalations, EventLine, Move, NoteLine, OpenRequest, QUEUE_PAGE,
    QueueFilter, QueueRow, Timeline, TimelineEntry,
};
use crate::tracking::forms::{DecisionForm, NoteForm, ValidNote};

const NOTE_TABLE: &str = "case_note";

pub(super) fn denied(d: Denied) -> ServiceError {
    match d {
        // The access layer already refused roles without the permission; a service reached
        // anyway answers as if the object did not exist.
        Denied::Forbidden | Denied::NotFound => ServiceError::NotFound,
    }
}

pub(super) fn codes(statuses: &[Status]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.code()).collect()
}

/// Who may read a note: everyone who reaches the person for a general note; for a restricted
/// one, staff of the author's agency (or, for an author at an office, of that office).
pub fn may_read(actor: &Actor, note: &case_note::Model) -> bool {
    if note.sensitivity != "restricted" {
        return true;
    }
    match (note.agency_id, note.office_id) {
        (Some(agency), _) => actor.agency_id == Some(agency),
        (None, Some(office)) => actor.office_id == Some(office),
        (None, None) => actor.staff_id == note.author_id,
    }
}

/// The request and its program.
pub(super) async fn load(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<(enrollment::Model, program::Model), ServiceError> {
    let e = enrollment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let p = program::Entity::find_by_id(e.program_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok((e, p))
}

/// `SELECT id FROM program WHERE agency_id = ?`: the requests of an agency are those of its
/// programs.
pub(super) fn programs_of(agency_id: i32) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(program::Column::Id)
        .from(program::Entity)
        .and_where(Expr::col(program::Column::AgencyId).eq(agency_id))
        .to_owned()
}

/// Whether an agency serves the person: a request of theirs in one of its programs.
pub(super) async fn serves(
    db: &impl ConnectionTrait,
    agency_id: i32,
    person_id: i32,
) -> Result<bool, ServiceError> {
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(person_id))
        .filter(enrollment::Column::ProgramId.in_subquery(programs_of(agency_id)))
        .count(db)
        .await?
        > 0)
}

/// The agency of an agency-anchored actor with `permission`.
pub(super) fn agency_of(actor: &Actor, permission: Permission) -> Result<i32, ServiceError> {
    match authorize(actor, permission, None).map_err(denied)? {
        Reach::Agency(a) => Ok(a),
        _ => Err(ServiceError::NotFound),
    }
}

pub(super) async fn staff_names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, String>, ServiceError> {
    let ids: BTreeSet<i32> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(staff::Entity::find()
        .filter(staff::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.display_name))
        .collect())
}

/// Offices and agencies by id, named (for "who did it" columns).
pub(super) struct Units {
    pub offices: HashMap<i32, String>,
    pub agencies: HashMap<i32, (String, String)>,
}

impl Units {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Units, ServiceError> {
        Ok(Units {
            offices: office::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect(),
            agencies: agency::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|a| (a.id, (a.code, a.name_es)))
                .collect(),
        })
    }

    pub fn name(&self, office: Option<i32>, agency: Option<i32>) -> Option<String> {
        office
            .and_then(|o| self.offices.get(&o).cloned())
            .or_else(|| agency.and_then(|a| self.agencies.get(&a).map(|(_, n)| n.clone())))
    }
}

pub(super) fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// Queue rows for `found`, with people, boroughs and assignees in a fixed number of queries.
async fn rows(
    db: &impl ConnectionTrait,
    found: Vec<enrollment::Model>,
    codes_by_id: &HashMap<i32, String>,
    day: crate::domain::curp::Date,
) -> Result<Vec<QueueRow>, ServiceError> {
    let ids: Vec<i32> = found.iter().map(|e| e.id).collect();
    let people: HashMap<i32, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(found.iter().map(|e| e.person_id)))
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
    let assignments: HashMap<i32, i32> = enrollment_assignment::Entity::find()
        .filter(enrollment_assignment::Column::EnrollmentId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.enrollment_id, a.staff_id))
        .collect();
    let names = staff_names(db, assignments.values().copied()).await?;
    let today_days = crate::domain::calendar::days_from_civil(day);
    Ok(found
        .into_iter()
        .map(|e| {
            let p = people.get(&e.person_id);
            let due = to_date(e.due_on);
            QueueRow {
                id: e.id,
                folio: e.folio,
                program: codes_by_id.get(&e.program_id).cloned().unwrap_or_default(),
                status: e.status,
                person: p.map(full_name).unwrap_or_default(),
                borough: p
                    .and_then(|p| boroughs.get(&p.borough_id).cloned())
                    .unwrap_or_default(),
                requested_on: to_date(e.requested_at.date_naive()),
                due_on: due,
                days_left: crate::domain::calendar::days_from_civil(due) - today_days,
                escalation_level: e.escalation_level,
                assigned_to: assignments.get(&e.id).and_then(|s| names.get(s).cloned()),
            }
        })
        .collect())
}

/// `/agencia`: the requests of the actor's agency's programs, filtered, most urgent first
/// (highest escalation, then earliest due date).
///
/// # Errors
/// `NotFound` outside an agency; database errors.
pub async fn queue(
    state: &AppState,
    actor: &SignedIn,
    filter: &QueueFilter,
) -> Result<AgencyQueue, ServiceError> {
    let db = &state.db;
    let agency_id = agency_of(&actor.actor, Permission::ViewAgency)?;
    let found_agency = agency::Entity::find_by_id(agency_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let programs = program::Entity::find()
        .filter(program::Column::AgencyId.eq(agency_id))
        .order_by_asc(program::Column::Code)
        .all(db)
        .await?;
    let boroughs = borough::Entity::find()
        .order_by_asc(borough::Column::InegiCode)
        .all(db)
        .await?;
    let day = today(state.clock.now());

    let program_ids: Vec<i32> = programs
        .iter()
        .filter(|p| filter.program.is_empty() || p.code == filter.program)
        .map(|p| p.id)
        .collect();
    let statuses: Vec<&str> = match Status::from_code(&filter.status) {
        Some(s) => vec![s.code()],
        None => codes(&[Status::Requested, Status::InReview, Status::Approved]),
    };
    let mut query = enrollment::Entity::find()
        .filter(enrollment::Column::ProgramId.is_in(program_ids))
        .filter(enrollment::Column::Status.is_in(statuses));
    if let Some(b) = boroughs.iter().find(|b| b.inegi_code == filter.borough) {
        // Correlated, so the queue index drives and each request's person is looked up by
        // key; `person_id IN (people of the borough)` made the planners walk the borough's
        // whole population instead (400 ms at 1.2M people).
        query = query.filter(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(person::Entity)
                .and_where(
                    Expr::col((person::Entity, person::Column::Id))
                        .equals((enrollment::Entity, enrollment::Column::PersonId)),
                )
                .and_where(Expr::col((person::Entity, person::Column::BoroughId)).eq(b.id))
                .to_owned(),
        ));
    }
    match filter.due.as_str() {
        "overdue" => query = query.filter(enrollment::Column::DueOn.lt(to_naive(day))),
        "week" => {
            query = query.filter(
                enrollment::Column::DueOn.between(to_naive(day), to_naive(add_days(day, 7))),
            );
        }
        _ => {}
    }
    if filter.escalated == "yes" {
        query = query.filter(enrollment::Column::EscalationLevel.gt(0));
    }
    let total = query.clone().count(db).await?;
    // The page's ids first, from the queue index alone; then those rows.
    let page: Vec<i32> = query
        .select_only()
        .column(enrollment::Column::Id)
        .order_by_desc(enrollment::Column::EscalationLevel)
        .order_by_asc(enrollment::Column::DueOn)
        .order_by_asc(enrollment::Column::Id)
        .limit(QUEUE_PAGE)
        .into_tuple()
        .all(db)
        .await?;
    let mut found = enrollment::Entity::find()
        .filter(enrollment::Column::Id.is_in(page.iter().copied()))
        .all(db)
        .await?;
    found.sort_by_key(|e| page.iter().position(|id| *id == e.id));
    let codes_by_id: HashMap<i32, String> =
        programs.iter().map(|p| (p.id, p.code.clone())).collect();
    let rows = rows(db, found, &codes_by_id, day).await?;
    Ok(AgencyQueue {
        agency: Localized {
            es: found_agency.name_es,
            en: found_agency.name_en,
        },
        programs: programs
            .into_iter()
            .map(|p| {
                (
                    p.code,
                    Localized {
                        es: p.name_es,
                        en: p.name_en,
                    },
                )
            })
            .collect(),
        boroughs: boroughs
            .into_iter()
            .map(|b| (b.inegi_code, b.name))
            .collect(),
        rows,
        total,
    })
}

/// "Take next": assigns the most urgent unassigned request awaiting a decision in the actor's
/// agency to the actor and returns its id (`None` when the queue is empty). Two people taking at
/// once get different requests (the assignment's primary key decides).
///
/// # Errors
/// `NotFound` outside an agency; database errors.
pub async fn take_next(
    state: &AppState,
    actor: &SignedIn,
    request_id: Option<&str>,
) -> Result<Option<i32>, ServiceError> {
    let db = &state.db;
    let agency_id = agency_of(&actor.actor, Permission::DecideRequests)?;
    let now = state.clock.now();
    for _ in 0..5 {
        let candidate = enrollment::Entity::find()
            .filter(enrollment::Column::ProgramId.in_subquery(programs_of(agency_id)))
            .filter(enrollment::Column::Status.is_in(codes(&Status::AWAITING_DECISION)))
            .filter(
                enrollment::Column::Id.not_in_subquery(
                    Query::select()
                        .column(enrollment_assignment::Column::EnrollmentId)
                        .from(enrollment_assignment::Entity)
                        .to_owned(),
                ),
            )
            .order_by_desc(enrollment::Column::EscalationLevel)
            .order_by_asc(enrollment::Column::DueOn)
            .order_by_asc(enrollment::Column::Id)
            .one(db)
            .await?;
        let Some(e) = candidate else {
            return Ok(None);
        };
        let tx = state.audit.begin(db).await?;
        let inserted = enrollment_assignment::ActiveModel {
            enrollment_id: Set(e.id),
            staff_id: Set(actor.actor.staff_id),
            assigned_by: Set(Some(actor.actor.staff_id)),
            assigned_at: Set(now),
        }
        .insert(&*tx)
        .await;
        match inserted {
            Ok(_) => {}
            // Someone else took it a moment ago: try the next one.
            Err(err) if is_unique_violation(&err) => continue,
            Err(err) => return Err(err.into()),
        }
        tx.record(
            NewEvent::new("enrollment.assigned", now)
                .by(&actor.actor)
                .subject("enrollment", e.id)
                .request(request_id)
                .detail(serde_json::json!({ "folio": e.folio, "staff": actor.actor.staff_id })),
        )
        .await?;
        tx.commit().await?;
        return Ok(Some(e.id));
    }
    Err(ServiceError::Conflict)
}

/// Notes on a request (or on a person) that `actor` may read, opened. A note that does not open
/// is audited as a vault integrity failure and refused.
pub(super) async fn readable_notes(
    state: &AppState,
    actor: &Actor,
    notes: Vec<case_note::Model>,
    folios: &HashMap<i32, String>,
    units: &Units,
) -> Result<Vec<NoteLine>, ServiceError> {
    let authors = staff_names(&state.db, notes.iter().map(|n| n.author_id)).await?;
    let mut out = Vec::new();
    for n in notes.into_iter().filter(|n| may_read(actor, n)) {
        let slot = Slot::new(NOTE_TABLE, note_slot(&n.sensitivity), i64::from(n.id));
        let body = match state.vault.open_text(slot, &n.body) {
            Ok(text) => text.to_string(),
            Err(error) => {
                tracing::error!(note = n.id, "case note envelope did not open");
                integrity_event(state, n.person_id, "case_note", error).await;
                return Err(ServiceError::Internal("an envelope failed to open"));
            }
        };
        out.push(NoteLine {
            id: n.id,
            at: stamp(n.created_at),
            author: authors.get(&n.author_id).cloned().unwrap_or_default(),
            unit: units.name(n.office_id, n.agency_id).unwrap_or_default(),
            restricted: n.sensitivity == "restricted",
            body,
            folio: n.enrollment_id.and_then(|e| folios.get(&e).cloned()),
        });
    }
    Ok(out)
}

fn event_lines(
    events: Vec<enrollment_event::Model>,
    names: &HashMap<i32, String>,
    units: &Units,
) -> Vec<EventLine> {
    events
        .into_iter()
        .map(|ev| EventLine {
            at: stamp(ev.at),
            from: ev.from_status,
            to: ev.to_status,
            reason: ev.reason,
            actor: ev.actor_id.and_then(|a| names.get(&a).cloned()),
            role: ev.role,
            unit: units.name(ev.office_id, ev.agency_id),
        })
        .collect()
}

/// `/agencia/solicitud/{id}`: what the agency needs to decide and nothing more — name, age,
/// borough, the evaluation under the recorded rule version with today's facts, the history and
/// the notes it may read. Audited as a view of the person (purpose `decision`).
///
/// # Errors
/// `NotFound` for another agency's request; database errors.
pub async fn case(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    request_id: Option<&str>,
) -> Result<CaseView, ServiceError> {
    let db = &state.db;
    let (e, p) = load(db, id).await?;
    authorize(
        &actor.actor,
        Permission::DecideRequests,
        Some(Scope::Agency(p.agency_id)),
    )
    .map_err(denied)?;
    let now = state.clock.now();
    let day = today(now);
    let who = person::Entity::find_by_id(e.person_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let borough = borough::Entity::find_by_id(who.borough_id)
        .one(db)
        .await?
        .map(|b| b.name)
        .unwrap_or_default();
    let rule = program_rule::Entity::find_by_id(e.rule_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let version = parse_version(rule)?;
    let facts = facts_for(db, &[e.person_id], day)
        .await?
        .remove(&e.person_id)
        .unwrap_or_default();
    let evaluation = evaluate(&version.rule, &facts, day);

    let events = enrollment_event::Entity::find()
        .filter(enrollment_event::Column::EnrollmentId.eq(id))
        .order_by_asc(enrollment_event::Column::At)
        .order_by_asc(enrollment_event::Column::Id)
        .all(db)
        .await?;
    let assignment = enrollment_assignment::Entity::find_by_id(id)
        .one(db)
        .await?;
    let names = staff_names(
        db,
        events
            .iter()
            .filter_map(|ev| ev.actor_id)
            .chain(assignment.iter().map(|a| a.staff_id)),
    )
    .await?;
    let units = Units::load(db).await?;
    let notes = case_note::Entity::find()
        .filter(case_note::Column::EnrollmentId.eq(id))
        .order_by_desc(case_note::Column::CreatedAt)
        .order_by_desc(case_note::Column::Id)
        .all(db)
        .await?;
    let folios = HashMap::from([(e.id, e.folio.clone())]);
    let notes = readable_notes(state, &actor.actor, notes, &folios, &units).await?;
    let status = Status::from_code(&e.status).ok_or(ServiceError::Internal("unknown status"))?;
    let moves = lifecycle::next(status)
        .into_iter()
        .filter(|to| lifecycle::side(*to) == Side::Agency)
        .map(|to| Move {
            to: to.code().to_owned(),
            reasons: lifecycle::reasons(status, to)
                .iter()
                .map(|r| r.code().to_owned())
                .collect(),
        })
        .collect();

    let tx = state.audit.begin(db).await?;
    tx.record(
        NewEvent::new("person.viewed", now)
            .by(&actor.actor)
            .subject("person", e.person_id)
            .purpose("decision")
            .request(request_id)
            .detail(serde_json::json!({ "enrollment": e.id, "folio": e.folio })),
    )
    .await?;
    tx.commit().await?;

    Ok(CaseView {
        id: e.id,
        folio: e.folio,
        program: p.code,
        program_name: Localized {
            es: p.name_es,
            en: p.name_en,
        },
        status: e.status,
        version: e.version,
        person_name: full_name(&who),
        age: age_on(who.birth_date, to_naive(day)),
        borough,
        requested_on: to_date(e.requested_at.date_naive()),
        due_on: to_date(e.due_on),
        escalation_level: e.escalation_level,
        assigned_to: assignment.and_then(|a| names.get(&a.staff_id).cloned()),
        rule_version: version.version,
        evaluation,
        history: event_lines(events, &names, &units),
        notes,
        moves,
        refer_to: super::referral::targets(db, &actor.actor).await?,
        assignable: if actor.actor.role.has(Permission::ViewAgencyStaff) {
            super::workload::assignable(db, p.agency_id).await?
        } else {
            Vec::new()
        },
    })
}

/// Inserts a note sealed to its own row id and sensitivity (inside the caller's transaction),
/// about the person, or one of their requests or referrals (`about`: enrollment, referral).
pub(super) async fn insert_note(
    state: &AppState,
    db: &impl ConnectionTrait,
    actor: &Actor,
    person_id: i32,
    about: (Option<i32>, Option<i32>),
    note: &ValidNote,
    now: DateTime<Utc>,
) -> Result<i32, ServiceError> {
    let (enrollment_id, referral_id) = about;
    let sensitivity = if note.restricted {
        "restricted"
    } else {
        "general"
    };
    // The envelope is bound to the row id, known only after the insert.
    let row = case_note::ActiveModel {
        id: NotSet,
        person_id: Set(person_id),
        enrollment_id: Set(enrollment_id),
        referral_id: Set(referral_id),
        author_id: Set(actor.staff_id),
        role: Set(actor.role.code().to_owned()),
        agency_id: Set(actor.agency_id),
        office_id: Set(actor.office_id),
        sensitivity: Set(sensitivity.to_owned()),
        body: Set(Vec::new()),
        key_version: Set(key_version(state)),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let sealed = state.vault.seal(
        Slot::new(NOTE_TABLE, note_slot(sensitivity), i64::from(row.id)),
        note.body.as_bytes(),
    );
    case_note::Entity::update_many()
        .col_expr(case_note::Column::Body, Expr::value(sealed))
        .filter(case_note::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(row.id)
}

/// Moves request `id` through the machine. Agency staff take the agency's transitions on their
/// agency's requests; office staff record a withdrawal. The form's version must be the stored
/// one: a request changed meanwhile (decided by someone else) is a conflict and nothing is
/// written. The optional note becomes a case note on the request.
///
/// # Errors
/// `Invalid` (field errors), `Conflict`, `NotFound`, database errors.
pub async fn transition(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    form: &DecisionForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let db = &state.db;
    let (e, p) = load(db, id).await?;
    let side = match actor.actor.role.anchor() {
        Anchor::Agency => {
            authorize(
                &actor.actor,
                Permission::DecideRequests,
                Some(Scope::Agency(p.agency_id)),
            )
            .map_err(denied)?;
            Side::Agency
        }
        Anchor::Office => {
            authorize(&actor.actor, Permission::WithdrawRequests, None).map_err(denied)?;
            Side::Office
        }
        _ => return Err(ServiceError::NotFound),
    };
    let decision = form.validate().map_err(ServiceError::Invalid)?;
    let from = Status::from_code(&e.status).ok_or(ServiceError::Internal("unknown status"))?;
    if decision.version != e.version {
        return Err(ServiceError::Conflict);
    }
    lifecycle::check(from, decision.to, Some(decision.reason), side).map_err(|refusal| {
        let (name, code) = refusal.field();
        ServiceError::Invalid(vec![field(name, code)])
    })?;
    let now = state.clock.now();
    let decided = matches!(
        decision.to,
        Status::Approved | Status::Rejected | Status::Withdrawn
    );
    let tx = state.audit.begin(db).await?;
    let mut update = enrollment::Entity::update_many()
        .col_expr(
            enrollment::Column::Status,
            Expr::value(decision.to.code().to_owned()),
        )
        .col_expr(
            enrollment::Column::Version,
            Expr::col(enrollment::Column::Version).add(1),
        )
        .col_expr(enrollment::Column::UpdatedAt, Expr::value(now));
    if decided {
        update = update.col_expr(enrollment::Column::DecidedAt, Expr::value(now));
    }
    let changed = update
        .filter(enrollment::Column::Id.eq(id))
        .filter(enrollment::Column::Version.eq(e.version))
        .filter(enrollment::Column::Status.eq(from.code()))
        .exec(&*tx)
        .await?;
    if changed.rows_affected != 1 {
        return Err(ServiceError::Conflict);
    }
    enrollment_event::ActiveModel {
        id: NotSet,
        enrollment_id: Set(id),
        from_status: Set(Some(from.code().to_owned())),
        to_status: Set(decision.to.code().to_owned()),
        reason: Set(decision.reason.code().to_owned()),
        actor_id: Set(Some(actor.actor.staff_id)),
        role: Set(Some(actor.actor.role.code().to_owned())),
        office_id: Set(actor.actor.office_id),
        agency_id: Set(actor.actor.agency_id),
        at: Set(now),
    }
    .insert(&*tx)
    .await?;
    let note = match &decision.note {
        Some(note) => Some(
            insert_note(
                state,
                &*tx,
                &actor.actor,
                e.person_id,
                (Some(id), None),
                note,
                now,
            )
            .await?,
        ),
        None => None,
    };
    tx.record(
        NewEvent::new("enrollment.status_changed", now)
            .by(&actor.actor)
            .subject("enrollment", id)
            .request(request_id)
            .detail(serde_json::json!({
                "folio": e.folio,
                "from": from.code(),
                "to": decision.to.code(),
                "reason": decision.reason.code(),
                "note": note,
            })),
    )
    .await?;
    super::coverage::refresh_person(&*tx, e.person_id).await?;
    tx.commit().await?;
    Ok(())
}

/// A withdrawal recorded at an office: request `enrollment_id` must be person `person_id`'s.
///
/// # Errors
/// As [`transition`].
pub async fn withdraw(
    state: &AppState,
    actor: &SignedIn,
    person_id: i32,
    enrollment_id: i32,
    form: &DecisionForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let (e, _) = load(&state.db, enrollment_id).await?;
    if e.person_id != person_id || actor.actor.role.anchor() != Anchor::Office {
        return Err(ServiceError::NotFound);
    }
    transition(state, actor, enrollment_id, form, request_id).await
}

/// Appends a case note on a person (optionally on one of their requests). Agency staff write
/// only on people with a request in their agency, and only on their agency's requests.
///
/// # Errors
/// `Invalid` (field errors), `NotFound`, database errors.
pub async fn add_note(
    state: &AppState,
    actor: &SignedIn,
    person_id: i32,
    form: &NoteForm,
    request_id: Option<&str>,
) -> Result<i32, ServiceError> {
    let db = &state.db;
    let reach = authorize(&actor.actor, Permission::WriteNotes, None).map_err(denied)?;
    person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .filter(|p| p.status != "merged")
        .ok_or(ServiceError::NotFound)?;
    let (note, enrollment_id) = form.validate().map_err(ServiceError::Invalid)?;
    // The request named must be this person's, and inside an agency's reach.
    let agency_programs = match reach {
        Reach::Agency(a) => Some(
            program::Entity::find()
                .filter(program::Column::AgencyId.eq(a))
                .all(db)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect::<HashSet<i32>>(),
        ),
        _ => None,
    };
    if let Some(eid) = enrollment_id {
        let found = enrollment::Entity::find_by_id(eid)
            .one(db)
            .await?
            .filter(|e| e.person_id == person_id)
            .filter(|e| {
                agency_programs
                    .as_ref()
                    .is_none_or(|ps| ps.contains(&e.program_id))
            });
        if found.is_none() {
            return Err(ServiceError::Invalid(vec![field(
                "enrollment",
                "unknown_value",
            )]));
        }
    } else if let Reach::Agency(a) = reach
        && !serves(db, a, person_id).await?
    {
        return Err(ServiceError::NotFound);
    }
    let now = state.clock.now();
    let tx = state.audit.begin(db).await?;
    let id = insert_note(
        state,
        &*tx,
        &actor.actor,
        person_id,
        (enrollment_id, None),
        &note,
        now,
    )
    .await?;
    tx.record(
        NewEvent::new("case_note.added", now)
            .by(&actor.actor)
            .subject("person", person_id)
            .request(request_id)
            .detail(serde_json::json!({
                "note": id,
                "enrollment": enrollment_id,
                "sensitivity": if note.restricted { "restricted" } else { "general" },
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The person's timeline across agencies, newest first: every request's status changes and
/// escalations, and the notes the actor may read; filtered by agency code and program code.
/// Audited as a view of the person (purpose `timeline`).
///
/// # Errors
/// `NotFound`; database errors.
pub async fn timeline(
    state: &AppState,
    actor: &SignedIn,
    person_id: i32,
    agency_filter: &str,
    program_filter: &str,
    request_id: Option<&str>,
) -> Result<Timeline, ServiceError> {
    let db = &state.db;
    authorize(&actor.actor, Permission::ViewPerson, None).map_err(denied)?;
    let who = person::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let requests = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(person_id))
        .all(db)
        .await?;
    let programs: HashMap<i32, program::Model> = program::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let units = Units::load(db).await?;
    let agency_code = |program_id: i32| {
        programs
            .get(&program_id)
            .and_then(|p| units.agencies.get(&p.agency_id))
            .map(|(code, _)| code.clone())
    };
    let mut agencies: BTreeSet<(String, String)> = BTreeSet::new();
    let mut program_codes: BTreeSet<String> = BTreeSet::new();
    for r in &requests {
        if let Some(p) = programs.get(&r.program_id) {
            program_codes.insert(p.code.clone());
            if let Some((code, name)) = units.agencies.get(&p.agency_id) {
                agencies.insert((code.clone(), name.clone()));
            }
        }
    }
    let shown: Vec<&enrollment::Model> = requests
        .iter()
        .filter(|r| {
            let p = programs.get(&r.program_id);
            (program_filter.is_empty() || p.is_some_and(|p| p.code == program_filter))
                && (agency_filter.is_empty()
                    || agency_code(r.program_id).as_deref() == Some(agency_filter))
        })
        .collect();
    let by_id: HashMap<i32, &enrollment::Model> = shown.iter().map(|r| (r.id, *r)).collect();
    let ids: Vec<i32> = by_id.keys().copied().collect();
    let events = enrollment_event::Entity::find()
        .filter(enrollment_event::Column::EnrollmentId.is_in(ids.clone()))
        .all(db)
        .await?;
    let escalations = enrollment_escalation::Entity::find()
        .filter(enrollment_escalation::Column::EnrollmentId.is_in(ids))
        .all(db)
        .await?;
    let notes = case_note::Entity::find()
        .filter(case_note::Column::PersonId.eq(person_id))
        .all(db)
        .await?
        .into_iter()
        // A note on a request filtered out goes with it; a note on the person stays unless a
        // filter is set.
        .filter(|n| match n.enrollment_id {
            Some(e) => by_id.contains_key(&e),
            None => agency_filter.is_empty() && program_filter.is_empty(),
        })
        .collect::<Vec<_>>();
    let referrals: Vec<referral::Model> = referral::Entity::find()
        .filter(referral::Column::PersonId.eq(person_id))
        .all(db)
        .await?
        .into_iter()
        .filter(|r| {
            let p = programs.get(&r.program_id);
            (program_filter.is_empty() || p.is_some_and(|p| p.code == program_filter))
                && (agency_filter.is_empty()
                    || agency_code(r.program_id).as_deref() == Some(agency_filter))
        })
        .collect();
    let names = staff_names(
        db,
        events
            .iter()
            .filter_map(|e| e.actor_id)
            .chain(referrals.iter().map(|r| r.from_staff_id))
            .chain(referrals.iter().filter_map(|r| r.decided_by)),
    )
    .await?;
    let folios: HashMap<i32, String> = requests.iter().map(|r| (r.id, r.folio.clone())).collect();
    let note_times: HashMap<i32, (DateTime<Utc>, Option<i32>)> = notes
        .iter()
        .map(|n| (n.id, (n.created_at, n.enrollment_id)))
        .collect();
    let notes = readable_notes(state, &actor.actor, notes, &folios, &units).await?;

    let about = |enrollment_id: i32| {
        let r = by_id.get(&enrollment_id);
        let p = r.and_then(|r| programs.get(&r.program_id));
        (
            r.map(|r| r.folio.clone()),
            p.map(|p| p.code.clone()),
            p.and_then(|p| units.agencies.get(&p.agency_id).map(|(_, n)| n.clone())),
        )
    };
    let mut entries: Vec<(DateTime<Utc>, i32, TimelineEntry)> = Vec::new();
    for ev in events {
        let (folio, program, agency) = about(ev.enrollment_id);
        entries.push((
            ev.at,
            ev.id,
            TimelineEntry {
                at: stamp(ev.at),
                kind: "status".into(),
                folio,
                program,
                agency,
                from: ev.from_status,
                to: Some(ev.to_status),
                reason: Some(ev.reason),
                who: ev
                    .actor_id
                    .and_then(|a| names.get(&a).cloned())
                    .or_else(|| units.name(ev.office_id, ev.agency_id)),
                note: None,
            },
        ));
    }
    for esc in escalations {
        let (folio, program, agency) = about(esc.enrollment_id);
        entries.push((
            esc.at,
            esc.id,
            TimelineEntry {
                at: stamp(esc.at),
                kind: "escalation".into(),
                folio,
                program,
                agency,
                from: None,
                to: Some(esc.level.to_string()),
                reason: None,
                who: None,
                note: None,
            },
        ));
    }
    for r in referrals {
        let p = programs.get(&r.program_id);
        let program = p.map(|p| p.code.clone());
        let agency = p.and_then(|p| units.agencies.get(&p.agency_id).map(|(_, n)| n.clone()));
        let by = |staff: Option<i32>, office: Option<i32>, agency: Option<i32>| {
            let unit = units.name(office, agency);
            match (staff.and_then(|s| names.get(&s).cloned()), unit) {
                (Some(name), Some(unit)) => Some(format!("{name} ({unit})")),
                (name, unit) => name.or(unit),
            }
        };
        if let Some(at) = r.decided_at {
            entries.push((
                at,
                r.id,
                TimelineEntry {
                    at: stamp(at),
                    kind: "referral_decided".into(),
                    folio: r.enrollment_id.and_then(|e| folios.get(&e).cloned()),
                    program: program.clone(),
                    agency: agency.clone(),
                    from: None,
                    to: Some(r.status.clone()),
                    reason: r.decline_reason.clone(),
                    who: r.decided_by.and_then(|s| names.get(&s).cloned()),
                    note: None,
                },
            ));
        }
        entries.push((
            r.created_at,
            r.id,
            TimelineEntry {
                at: stamp(r.created_at),
                kind: "referral".into(),
                folio: None,
                program,
                agency,
                from: None,
                to: None,
                reason: Some(r.reason.clone()),
                who: by(Some(r.from_staff_id), r.from_office_id, r.from_agency_id),
                note: None,
            },
        ));
    }
    for n in notes {
        let Some((at, enrollment_id)) = note_times.get(&n.id).copied() else {
            continue;
        };
        let (folio, program, agency) = enrollment_id.map(about).unwrap_or_default();
        entries.push((
            at,
            n.id,
            TimelineEntry {
                at: n.at.clone(),
                kind: "note".into(),
                folio,
                program,
                agency,
                from: None,
                to: None,
                reason: None,
                who: Some(n.author.clone()),
                note: Some(n),
            },
        ));
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));

    let now = state.clock.now();
    let tx = state.audit.begin(db).await?;
    tx.record(
        NewEvent::new("person.viewed", now)
            .by(&actor.actor)
            .subject("person", person_id)
            .purpose("timeline")
            .request(request_id)
            .detail(serde_json::json!({ "agency": agency_filter, "program": program_filter })),
    )
    .await?;
    tx.commit().await?;

    Ok(Timeline {
        person_id,
        person_name: full_name(&who),
        entries: entries.into_iter().map(|(_, _, e)| e).collect(),
        agencies: agencies.into_iter().collect(),
        programs: program_codes.into_iter().collect(),
        open: requests
            .iter()
            .filter(|r| Status::from_code(&r.status).is_some_and(Status::is_open))
            .map(|r| OpenRequest {
                id: r.id,
                folio: r.folio.clone(),
                program: programs
                    .get(&r.program_id)
                    .map(|p| p.code.clone())
                    .unwrap_or_default(),
                status: r.status.clone(),
                version: r.version,
            })
            .collect(),
        refer_to: super::referral::targets(db, &actor.actor).await?,
    })
}

/// The escalations a supervisor or agency head answers for: an office supervisor sees requests
/// made at their office at level 1 or above; an agency head, their agency's requests at level 2
/// or above. Most urgent first, up to a page.
///
/// # Errors
/// `NotFound` for other roles; database errors.
pub async fn escalations(state: &AppState, actor: &SignedIn) -> Result<Escalations, ServiceError> {
    let db = &state.db;
    let day = today(state.clock.now());
    let awaiting = codes(&Status::AWAITING_DECISION);
    let (level, query) = if actor.actor.role.has(Permission::ViewOfficeStaff) {
        let Reach::Office(office_id) =
            authorize(&actor.actor, Permission::ViewOfficeStaff, None).map_err(denied)?
        else {
            return Err(ServiceError::NotFound);
        };
        (
            1,
            enrollment::Entity::find()
                .filter(enrollment::Column::OfficeId.eq(office_id))
                .filter(enrollment::Column::EscalationLevel.gte(1)),
        )
    } else if actor.actor.role.has(Permission::ViewAgencyStaff) {
        let agency_id = agency_of(&actor.actor, Permission::ViewAgencyStaff)?;
        (
            2,
            enrollment::Entity::find()
                .filter(enrollment::Column::ProgramId.in_subquery(programs_of(agency_id)))
                .filter(enrollment::Column::EscalationLevel.gte(2)),
        )
    } else {
        return Err(ServiceError::NotFound);
    };
    let query = query.filter(enrollment::Column::Status.is_in(awaiting));
    let total = query.clone().count(db).await?;
    let found = query
        .order_by_desc(enrollment::Column::EscalationLevel)
        .order_by_asc(enrollment::Column::DueOn)
        .order_by_asc(enrollment::Column::Id)
        .limit(QUEUE_PAGE)
        .all(db)
        .await?;
    let codes_by_id = super::eligibility::program_codes(db).await?;
    Ok(Escalations {
        level,
        rows: rows(db, found, &codes_by_id, day).await?,
        total,
    })
}
