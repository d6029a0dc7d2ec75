//! The work screens' data: the office, the agency and its programs, the policy aggregates.
//! Each query is built with the actor's reach.

use std::collections::HashMap;

use angel_entity::{agency, borough, feedback, office, program, staff};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use crate::catalog::dto::Localized;
use crate::domain::access::{Reach, Role};
use crate::ssr::ServiceError;
use crate::staff::dto::{
    AgencyProgram, AgencyView, OfficeView, PolicyOverview, QualityRow, SMALL_CELL,
};

/// The office of an office-anchored reach.
///
/// # Errors
/// `NotFound` for any other reach, database errors.
pub async fn office_view(
    db: &DatabaseConnection,
    reach: Reach,
) -> Result<OfficeView, ServiceError> {
    let Reach::Office(id) = reach else {
        return Err(ServiceError::NotFound);
    };
    let found = office::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let borough = match found.borough_id {
        Some(b) => borough::Entity::find_by_id(b)
            .one(db)
            .await?
            .map(|b| b.name),
        None => None,
    };
    Ok(OfficeView {
        code: found.code,
        name: found.name,
        borough,
    })
}

fn agency_program(p: program::Model) -> AgencyProgram {
    AgencyProgram {
        code: p.code,
        name: Localized {
            es: p.name_es,
            en: p.name_en,
        },
        eligibility: Localized {
            es: p.eligibility_es,
            en: p.eligibility_en,
        },
        benefit: Localized {
            es: p.benefit_es,
            en: p.benefit_en,
        },
        verified: p.verified,
    }
}

/// The agency of an agency-anchored reach with its programs.
///
/// # Errors
/// `NotFound` for any other reach, database errors.
pub async fn agency_view(
    db: &DatabaseConnection,
    reach: Reach,
) -> Result<AgencyView, ServiceError> {
    let Reach::Agency(id) = reach else {
        return Err(ServiceError::NotFound);
    };
    let found = agency::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let programs = program::Entity::find()
        .filter(program::Column::AgencyId.eq(id))
        .order_by_asc(program::Column::Code)
        .all(db)
        .await?;
    Ok(AgencyView {
        code: found.code,
        name: Localized {
            es: found.name_es,
            en: found.name_en,
        },
        programs: programs.into_iter().map(agency_program).collect(),
    })
}

/// One program, when it belongs to the reach's agency; `NotFound` otherwise.
///
/// # Errors
/// `NotFound`, database errors.
pub async fn agency_program_in(
    db: &DatabaseConnection,
    reach: Reach,
    code: &str,
) -> Result<AgencyProgram, ServiceError> {
    let mut query = program::Entity::find().filter(program::Column::Code.eq(code));
    query = match reach {
        Reach::City => query,
        Reach::Agency(id) => query.filter(program::Column::AgencyId.eq(id)),
        Reach::Office(_) | Reach::Nothing => return Err(ServiceError::NotFound),
    };
    query
        .one(db)
        .await?
        .map(agency_program)
        .ok_or(ServiceError::NotFound)
}

/// Counts for policy officers: programs per agency, active staff per role.
///
/// # Errors
/// Database errors.
pub async fn policy_overview(db: &DatabaseConnection) -> Result<PolicyOverview, ServiceError> {
    let agencies: HashMap<i32, String> = agency::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    let mut by_agency: HashMap<String, u64> = HashMap::new();
    for p in program::Entity::find().all(db).await? {
        if let Some(code) = agencies.get(&p.agency_id) {
            *by_agency.entry(code.clone()).or_default() += 1;
        }
    }
    let mut programs_by_agency: Vec<(String, u64)> = by_agency.into_iter().collect();
    programs_by_agency.sort();
    let active = staff::Entity::find()
        .filter(staff::Column::DisabledAt.is_null())
        .filter(super::api_clients::people_only())
        .all(db)
        .await?;
    let staff_by_role = Role::STAFF
        .into_iter()
        .map(|role| {
            (
                role,
                active.iter().filter(|s| s.role == role.code()).count() as u64,
            )
        })
        .collect();
    Ok(PolicyOverview {
        programs_by_agency,
        staff_by_role,
        service_quality: service_quality(db).await?,
    })
}

/// Ratings per program and office, small cells suppressed (see [`SMALL_CELL`]).
///
/// # Errors
/// Database errors.
pub async fn service_quality(db: &DatabaseConnection) -> Result<Vec<QualityRow>, ServiceError> {
    use sea_orm::{
        QuerySelect,
        sea_query::{Expr, ExprTrait as _},
    };
    let cells: Vec<(i32, Option<i32>, i64, i64)> = feedback::Entity::find()
        .select_only()
        .column(feedback::Column::ProgramId)
        .column(feedback::Column::OfficeId)
        .column_as(Expr::col(feedback::Column::Id).count(), "n")
        .column_as(Expr::col(feedback::Column::Rating).sum(), "total")
        .group_by(feedback::Column::ProgramId)
        .group_by(feedback::Column::OfficeId)
        .order_by_asc(feedback::Column::ProgramId)
        .order_by_asc(feedback::Column::OfficeId)
        .into_tuple()
        .all(db)
        .await?;
    let programs = super::catalog::programs_by_id(db).await?;
    let offices = super::catalog::office_names(db).await?;
    Ok(cells
        .into_iter()
        .filter_map(|(program_id, office_id, n, total)| {
            let p = programs.get(&program_id)?;
            let n = u64::try_from(n).ok()?;
            let total = u64::try_from(total).ok()?;
            let shown = n >= SMALL_CELL;
            Some(QualityRow {
                program_code: p.code.clone(),
                program: Localized {
                    es: p.name_es.clone(),
                    en: p.name_en.clone(),
                },
                office: office_id.and_then(|id| offices.get(&id).cloned()),
                ratings: shown.then_some(n),
                // Rounded to the nearest tenth.
                mean_tenths: shown.then(|| (total * 20 + n) / (2 * n)),
            })
        })
        .collect())
}
