//! The social policy indicators as administrators edit them (`/admin/indicadores`): their
//! names and the programs that serve them.
//!
//! A change of programs changes who the indicator reaches, so the indicator's tallies are
//! recomputed from the kept coverage rows in the same transaction. That transaction is an
//! audited one, like every enrollment write that moves the tallies: the audit log's lock
//! (an advisory lock on PostgreSQL, one writer on SQLite) puts them one after the other, so no
//! write counts under links that have changed. A save made from other settings than the stored
//! ones (another administrator saved in between) is refused, never applied over them.

use std::collections::{BTreeSet, HashMap};

use angel_entity::{agency, indicator, program, program_indicator};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

use super::jobs::sql;
use crate::catalog::dto::Localized;
use crate::coverage::dto::{IndicatorAdmin, IndicatorSettings};
use crate::coverage::forms::IndicatorForm;
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::{AppState, ServiceError};

/// The stamp of an indicator's stored settings.
fn stamp(i: &indicator::Model, programs: &[String]) -> String {
    let mut h = Sha256::new();
    for part in [i.name_es.as_str(), i.name_en.as_str()]
        .into_iter()
        .chain(programs.iter().map(String::as_str))
    {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..12])
}

/// Program codes by id.
async fn program_codes(db: &impl ConnectionTrait) -> Result<HashMap<i32, String>, ServiceError> {
    super::eligibility::program_codes(db).await
}

/// The codes of the programs serving indicator `id`, sorted.
async fn served_by(
    db: &impl ConnectionTrait,
    id: i32,
    codes: &HashMap<i32, String>,
) -> Result<Vec<String>, ServiceError> {
    let mut served: Vec<String> = program_indicator::Entity::find()
        .filter(program_indicator::Column::IndicatorId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|l| codes.get(&l.program_id).cloned())
        .collect();
    served.sort();
    Ok(served)
}

/// Every indicator with its settings, and every program to choose from.
///
/// # Errors
/// Database errors.
pub async fn admin(db: &impl ConnectionTrait) -> Result<IndicatorAdmin, ServiceError> {
    let codes = program_codes(db).await?;
    let mut indicators = Vec::new();
    for i in indicator::Entity::find()
        .order_by_asc(indicator::Column::Position)
        .all(db)
        .await?
    {
        let programs = served_by(db, i.id, &codes).await?;
        indicators.push(IndicatorSettings {
            code: i.code.clone(),
            name: Localized {
                es: i.name_es.clone(),
                en: i.name_en.clone(),
            },
            stamp: stamp(&i, &programs),
            programs,
        });
    }
    let agencies: HashMap<i32, String> = agency::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    let mut programs: Vec<(String, Localized, String)> = program::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let agency = agencies.get(&p.agency_id).cloned().unwrap_or_default();
            (
                p.code,
                Localized {
                    es: p.name_es,
                    en: p.name_en,
                },
                agency,
            )
        })
        .collect();
    programs.sort_by(|a, b| (&a.2, &a.0).cmp(&(&b.2, &b.0)));
    Ok(IndicatorAdmin {
        indicators,
        programs,
    })
}

/// Saves indicator `code`'s names and programs; returns where to go next. When its programs
/// change, its tallies are recomputed in the same transaction.
///
/// # Errors
/// `NotFound` (unknown indicator), `Invalid` (field errors, nothing written), `Conflict` (the
/// stored settings are not the ones the form was filled from), database errors.
pub async fn save(
    state: &AppState,
    actor: &SignedIn,
    code: &str,
    form: &IndicatorForm,
    request_id: Option<&str>,
) -> Result<String, ServiceError> {
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    let stored = indicator::Entity::find()
        .filter(indicator::Column::Code.eq(code))
        .one(&*tx)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let codes = program_codes(&*tx).await?;
    let ids: HashMap<&str, i32> = codes.iter().map(|(id, c)| (c.as_str(), *id)).collect();
    let errors = form.validate(&|c| ids.contains_key(c));
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let before = served_by(&*tx, stored.id, &codes).await?;
    if form.stamp != stamp(&stored, &before) {
        return Err(ServiceError::Conflict);
    }
    let mut after = form.programs.clone();
    after.sort();
    let (name_es, name_en) = (
        form.name_es.trim().to_owned(),
        form.name_en.trim().to_owned(),
    );
    let renamed = name_es != stored.name_es || name_en != stored.name_en;
    let id = stored.id;
    if renamed {
        let mut m = stored.into_active_model();
        m.name_es = Set(name_es.clone());
        m.name_en = Set(name_en.clone());
        m.update(&*tx).await?;
    }
    if after != before {
        program_indicator::Entity::delete_many()
            .filter(program_indicator::Column::IndicatorId.eq(id))
            .exec(&*tx)
            .await?;
        program_indicator::Entity::insert_many(after.iter().map(|c| {
            program_indicator::ActiveModel {
                program_id: Set(ids[c.as_str()]),
                indicator_id: Set(id),
            }
        }))
        .exec_without_returning(&*tx)
        .await?;
        // Who the indicator reaches now: distinct people of its programs, from the kept rows.
        tx.execute_raw(sql(
            &*tx,
            "DELETE FROM indicator_tally WHERE indicator_id = ?",
            vec![id.into()],
        ))
        .await?;
        tx.execute_raw(sql(
            &*tx,
            "INSERT INTO indicator_tally (indicator_id, borough_id, people) \
             SELECT ?, m.borough_id, COUNT(DISTINCT m.person_id) FROM coverage_member m \
             JOIN program_indicator pi ON pi.program_id = m.program_id \
             WHERE pi.indicator_id = ? GROUP BY m.borough_id",
            vec![id.into(), id.into()],
        ))
        .await?;
    }
    if renamed || after != before {
        let removed: BTreeSet<&String> = before.iter().filter(|c| !after.contains(c)).collect();
        let added: BTreeSet<&String> = after.iter().filter(|c| !before.contains(c)).collect();
        tx.record(
            NewEvent::new("indicator.changed", now)
                .by(&actor.actor)
                .subject("indicator", id)
                .request(request_id)
                .purpose("indicators")
                .detail(serde_json::json!({
                    "indicator": code,
                    "renamed": renamed,
                    "programs_added": added,
                    "programs_removed": removed,
                })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(format!("/admin/indicadores#{code}"))
}
