//! Reads the public catalog: life events, their programs and the programs' agencies.

use std::collections::HashMap;

use angel_entity::{agency, life_event, life_event_program, program};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::catalog::dto::{Catalog, LifeEventCard, Localized, ProgramCard};
use crate::ssr::ServiceError;

/// The whole catalog in display order. Four small queries; the catalog has tens of rows.
///
/// # Errors
/// `ServiceError::Db` when a query fails.
#[tracing::instrument(skip_all)]
pub async fn load(db: &impl ConnectionTrait) -> Result<Catalog, ServiceError> {
    let agencies: HashMap<i32, agency::Model> = agency::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let programs: HashMap<i32, program::Model> = program::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
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
