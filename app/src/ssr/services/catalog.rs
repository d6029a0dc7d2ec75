//! Reads the public catalog: life events, their programs and the programs' agencies.

use std::collections::HashMap;

use angel_entity::{agency, life_event, life_event_program, office, program};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::catalog::dto::{Catalog, LifeEventCard, Localized, ProgramCard};
use crate::ssr::ServiceError;

/// The whole catalog in display order. Four small queries; the catalog has tens of rows.
///
/// # Errors
/// `ServiceError::Db` when a query fails.
#[tracing::instrument(skip_all)]
pub async fn load(db: &impl ConnectionTrait) -> Result<Catalog, ServiceError> {
    let agencies = agencies_by_id(db).await?;
    let programs = programs_by_id(db).await?;
    let links = life_event_program::Entity::find()
        .order_by_asc(life_event_program::Column::Position)
        .order_by_asc(life_event_program::Column::ProgramId)
        .all(db)
        .await?;
    let events = life_event::Entity::find()
        .order_by_asc(life_event::Column::Position)
        .order_by_asc(life_event::Column::Code)
        .all(db)
        .await?;

    let events = events
        .into_iter()
        .map(|event| LifeEventCard {
            programs: links
                .iter()
                .filter(|link| link.life_event_id == event.id)
                .filter_map(|link| programs.get(&link.program_id))
                .filter_map(|p| agencies.get(&p.agency_id).map(|a| card(p, a)))
                .collect(),
            code: event.code,
            label: Localized {
                es: event.label_es,
                en: event.label_en,
            },
        })
        .collect();
    Ok(Catalog { events })
}

fn card(p: &program::Model, a: &agency::Model) -> ProgramCard {
    ProgramCard {
        code: p.code.clone(),
        name: Localized {
            es: p.name_es.clone(),
            en: p.name_en.clone(),
        },
        agency_code: a.code.clone(),
        agency_name: Localized {
            es: a.name_es.clone(),
            en: a.name_en.clone(),
        },
        eligibility: Localized {
            es: p.eligibility_es.clone(),
            en: p.eligibility_en.clone(),
        },
        benefit: Localized {
            es: p.benefit_es.clone(),
            en: p.benefit_en.clone(),
        },
        verified: p.verified,
    }
}

/// Every agency by id (a few dozen rows: read whole).
///
/// # Errors
/// Database errors.
pub(crate) async fn agencies_by_id(
    db: &impl ConnectionTrait,
) -> Result<HashMap<i32, agency::Model>, ServiceError> {
    Ok(agency::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// Every program by id (a few dozen rows: read whole).
///
/// # Errors
/// Database errors.
pub(crate) async fn programs_by_id(
    db: &impl ConnectionTrait,
) -> Result<HashMap<i32, program::Model>, ServiceError> {
    Ok(program::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

/// Every office's name by id.
///
/// # Errors
/// Database errors.
pub(crate) async fn office_names(
    db: &impl ConnectionTrait,
) -> Result<HashMap<i32, String>, ServiceError> {
    Ok(office::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}
