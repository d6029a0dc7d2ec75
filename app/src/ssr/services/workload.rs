//! Supervisors' views of the work: an office supervisor sees the open requests made at the
//! office, an agency head those of the agency's programs — by status and age, overdue and
//! escalated — and the workload of each staff member; an agency head reassigns requests.
//!
//! Counts are grouped in the database (one `GROUP BY` per table): the screens stay as fast with
//! two million requests as with twenty.

use std::collections::HashMap;

use angel_entity::{enrollment, enrollment_assignment, staff};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
    sea_query::{Expr, ExprTrait, Func, SimpleExpr},
};

use super::eligibility::OPEN;
use super::registry::{field, to_naive, today};
use super::tracking::{codes, denied, load, programs_of};
use crate::domain::access::{Permission, Reach, Role, Scope, authorize};
use crate::domain::lifecycle::Status;
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::{AppState, ServiceError};
use crate::tracking::dto::{AGE_BUCKETS, AgeRow, StaffLoad, Workload};
use crate::tracking::forms::AssignForm;

/// A count read from the database (`SUM` and `COUNT` come back as signed integers).
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// `SUM(CASE WHEN cond THEN 1 ELSE 0 END)`.
fn count_if(cond: SimpleExpr) -> SimpleExpr {
    Func::sum(Expr::case(cond, 1).finally(0)).into()
}

/// Which open requests a supervisor answers for, and which staff work them.
enum Unit {
    Office(i32),
    Agency(i32),
}

fn unit_of(actor: &SignedIn) -> Result<Unit, ServiceError> {
    if actor.actor.role.has(Permission::ViewOfficeStaff) {
        match authorize(&actor.actor, Permission::ViewOfficeStaff, None).map_err(denied)? {
            Reach::Office(o) => Ok(Unit::Office(o)),
            _ => Err(ServiceError::NotFound),
        }
    } else {
        match authorize(&actor.actor, Permission::ViewAgencyStaff, None).map_err(denied)? {
            Reach::Agency(a) => Ok(Unit::Agency(a)),
            _ => Err(ServiceError::NotFound),
        }
    }
}

/// The unit's open requests.
fn scoped(unit: &Unit) -> sea_orm::Select<enrollment::Entity> {
    let q = enrollment::Entity::find().filter(enrollment::Column::Status.is_in(OPEN));
    match unit {
        Unit::Office(o) => q.filter(enrollment::Column::OfficeId.eq(*o)),
        Unit::Agency(a) => q.filter(enrollment::Column::ProgramId.in_subquery(programs_of(*a))),
    }
}

/// Counts of the open requests of the supervisor's office or the head's agency by status and
/// age, overdue and escalated; the workload of each staff member (office: open requests each
/// caseworker made; agency: open requests assigned to each member, and the unassigned ones).
///
/// # Errors
/// `NotFound` for other roles or unanchored accounts; database errors.
pub async fn overview(state: &AppState, actor: &SignedIn) -> Result<Workload, ServiceError> {
    let db = &state.db;
    let unit = unit_of(actor)?;
    let now = state.clock.now();
    let day = to_naive(today(now));
    let bounds: Vec<_> = AGE_BUCKETS
        .iter()
        .map(|d| now - Duration::days(*d))
        .collect();
    let requested = || Expr::col(enrollment::Column::RequestedAt);
    let awaiting =
        || Expr::col(enrollment::Column::Status).is_in(codes(&Status::AWAITING_DECISION));
    let overdue = || awaiting().and(Expr::col(enrollment::Column::DueOn).lt(day));
    let grouped: Vec<(String, i64, i64, i64, i64, i64, i64)> = scoped(&unit)
        .select_only()
        .column(enrollment::Column::Status)
        .expr_as(count_if(requested().gte(bounds[0])), "a0")
        .expr_as(
            count_if(requested().lt(bounds[0]).and(requested().gte(bounds[1]))),
            "a1",
        )
        .expr_as(
            count_if(requested().lt(bounds[1]).and(requested().gte(bounds[2]))),
            "a2",
        )
        .expr_as(count_if(requested().lt(bounds[2])), "a3")
        .expr_as(count_if(overdue()), "overdue")
        .expr_as(
            count_if(awaiting().and(Expr::col(enrollment::Column::EscalationLevel).gt(0))),
            "escalated",
        )
        .group_by(enrollment::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let by_status: HashMap<String, [u64; 6]> = grouped
        .into_iter()
        .map(|(s, a0, a1, a2, a3, o, e)| (s, [a0, a1, a2, a3, o, e].map(count)))
        .collect();
    let rows: Vec<AgeRow> = Status::OPEN
        .iter()
        .map(|s| {
            let n = by_status.get(s.code()).copied().unwrap_or_default();
            AgeRow {
                status: s.code().to_owned(),
                ages: [n[0], n[1], n[2], n[3]],
                total: n[..4].iter().sum(),
            }
        })
        .collect();
    let overdue_total = by_status.values().map(|n| n[4]).sum();
    let escalated_total = by_status.values().map(|n| n[5]).sum();

    // Workload: who carries the open requests.
    let (members, loads, unassigned) = match unit {
        Unit::Office(office) => {
            let loads: Vec<(Option<i32>, i64, i64)> = scoped(&unit)
                .select_only()
                .column(enrollment::Column::RequestedBy)
                .expr_as(Expr::col(enrollment::Column::Id).count(), "open")
                .expr_as(count_if(overdue()), "overdue")
                .group_by(enrollment::Column::RequestedBy)
                .into_tuple()
                .all(db)
                .await?;
            let members = staff::Entity::find()
                .filter(staff::Column::OfficeId.eq(office))
                .filter(staff::Column::DisabledAt.is_null())
                .filter(super::api_clients::people_only())
                .order_by_asc(staff::Column::DisplayName)
                .all(db)
                .await?;
            let loads = loads
                .into_iter()
                .filter_map(|(s, n, o)| s.map(|s| (s, (n, o))))
                .collect::<HashMap<_, _>>();
            (members, loads, None)
        }
        Unit::Agency(agency) => {
            let open_ids = scoped(&unit)
                .select_only()
                .column(enrollment::Column::Id)
                .into_query();
            let overdue_ids = scoped(&unit)
                .select_only()
                .column(enrollment::Column::Id)
                .filter(overdue())
                .into_query();
            let loads: Vec<(i32, i64, i64)> = enrollment_assignment::Entity::find()
                .select_only()
                .column(enrollment_assignment::Column::StaffId)
                .expr_as(
                    Expr::col(enrollment_assignment::Column::EnrollmentId).count(),
                    "open",
                )
                .expr_as(
                    count_if(
                        Expr::col(enrollment_assignment::Column::EnrollmentId)
                            .in_subquery(overdue_ids),
                    ),
                    "overdue",
                )
                .filter(enrollment_assignment::Column::EnrollmentId.in_subquery(open_ids.clone()))
                .group_by(enrollment_assignment::Column::StaffId)
                .into_tuple()
                .all(db)
                .await?;
            let assigned: u64 = loads.iter().map(|(_, n, _)| count(*n)).sum();
            let open: u64 = rows.iter().map(|r| r.total).sum();
            let members = staff::Entity::find()
                .filter(staff::Column::AgencyId.eq(agency))
                .filter(staff::Column::DisabledAt.is_null())
                .filter(super::api_clients::people_only())
                .order_by_asc(staff::Column::DisplayName)
                .all(db)
                .await?;
            let loads = loads
                .into_iter()
                .map(|(s, n, o)| (s, (n, o)))
                .collect::<HashMap<_, _>>();
            (members, loads, Some(open.saturating_sub(assigned)))
        }
    };
    let staff = members
        .into_iter()
        .filter(|m| {
            Role::from_code(&m.role).is_some_and(|r| {
                r.has(Permission::RequestPrograms) || r.has(Permission::DecideRequests)
            })
        })
        .map(|m| {
            let (open, overdue) = loads.get(&m.id).copied().unwrap_or_default();
            StaffLoad {
                staff_id: m.id,
                name: m.display_name,
                open: count(open),
                overdue: count(overdue),
            }
        })
        .collect();
    Ok(Workload {
        rows,
        overdue: overdue_total,
        escalated: escalated_total,
        staff,
        unassigned,
    })
}

/// An agency head gives request `id` to a member of the agency's staff (replacing whoever had
/// it); audited. Refused with a field error for anyone else, or a disabled account.
///
/// # Errors
/// `Invalid`, `NotFound` (another agency's request), database errors.
pub async fn reassign(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    form: &AssignForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let db = &state.db;
    let (e, p) = load(db, id).await?;
    authorize(
        &actor.actor,
        Permission::ViewAgencyStaff,
        Some(Scope::Agency(p.agency_id)),
    )
    .map_err(denied)?;
    let to = form.validate().map_err(ServiceError::Invalid)?;
    let unknown = || ServiceError::Invalid(vec![field("staff", "unknown_value")]);
    let member = staff::Entity::find_by_id(to)
        .one(db)
        .await?
        .filter(|s| s.agency_id == Some(p.agency_id) && s.disabled_at.is_none())
        .filter(|s| Role::from_code(&s.role).is_some_and(|r| r.has(Permission::DecideRequests)))
        .ok_or_else(unknown)?;
    if !Status::from_code(&e.status).is_some_and(Status::is_open) {
        return Err(ServiceError::Invalid(vec![field(
            "staff",
            "request_closed",
        )]));
    }
    let before = enrollment_assignment::Entity::find_by_id(id)
        .one(db)
        .await?;
    if before.as_ref().is_some_and(|a| a.staff_id == member.id) {
        return Ok(());
    }
    let now = state.clock.now();
    let tx = state.audit.begin(db).await?;
    enrollment_assignment::Entity::delete_many()
        .filter(enrollment_assignment::Column::EnrollmentId.eq(id))
        .exec(&*tx)
        .await?;
    enrollment_assignment::ActiveModel {
        enrollment_id: Set(id),
        staff_id: Set(member.id),
        assigned_by: Set(Some(actor.actor.staff_id)),
        assigned_at: Set(now),
    }
    .insert(&*tx)
    .await?;
    tx.record(
        NewEvent::new("enrollment.reassigned", now)
            .by(&actor.actor)
            .subject("enrollment", id)
            .request(request_id)
            .detail(serde_json::json!({
                "folio": e.folio,
                "from": before.map(|a| a.staff_id),
                "to": member.id,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The agency's staff who can be given a request (for the reassignment form).
///
/// # Errors
/// Database errors.
pub(super) async fn assignable(
    db: &impl ConnectionTrait,
    agency_id: i32,
) -> Result<Vec<(i32, String)>, ServiceError> {
    Ok(staff::Entity::find()
        .filter(staff::Column::AgencyId.eq(agency_id))
        .filter(staff::Column::DisabledAt.is_null())
        .filter(super::api_clients::people_only())
        .order_by_asc(staff::Column::DisplayName)
        .all(db)
        .await?
        .into_iter()
        .filter(|s| Role::from_code(&s.role).is_some_and(|r| r.has(Permission::DecideRequests)))
        .map(|s| (s.id, s.display_name))
        .collect())
}
