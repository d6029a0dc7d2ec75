//! `angel seed`: the reference catalog (agencies, programs, life events and their links, the
//! 16 boroughs with INEGI codes, one neighbourhood office per borough and the call center).
//!
//! Idempotent and conservative: rows are matched by their code and only missing ones are
//! inserted; an existing row, perhaps edited by an administrator, is never overwritten.

use std::collections::HashMap;

use angel_entity::{agency, borough, life_event, life_event_program, office, program};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, TransactionTrait, TryInsertResult,
};
use serde::Deserialize;

const CATALOG: &str = include_str!("../seed/catalog.toml");
/// INEGI AGEEML catalog and Census 2020 (copied from ../shared/domain/alcaldias.tsv).
const BOROUGHS: &str = include_str!("../seed/alcaldias.tsv");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    agency: Vec<AgencySeed>,
    program: Vec<ProgramSeed>,
    life_event: Vec<LifeEventSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencySeed {
    code: String,
    name_es: String,
    name_en: String,
    parent: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramSeed {
    code: String,
    agency: String,
    name_es: String,
    name_en: String,
    eligibility_es: String,
    eligibility_en: String,
    benefit_es: String,
    benefit_en: String,
    verified: bool,
    sources: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LifeEventSeed {
    code: String,
    label_es: String,
    label_en: String,
    programs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoroughSeed {
    pub inegi_code: String,
    pub name: String,
    pub population_2020: i64,
}

/// How many rows of each table the seed inserted (0 everywhere on a second run).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub agencies: u64,
    pub programs: u64,
    pub life_events: u64,
    pub links: u64,
    pub boroughs: u64,
    pub offices: u64,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "new rows: {} agencies, {} programs, {} life events, {} links, {} boroughs, {} offices",
            self.agencies, self.programs, self.life_events, self.links, self.boroughs, self.offices
        )
    }
}

/// The boroughs of the bundled INEGI table.
///
/// # Errors
/// A description of the first malformed line.
pub fn boroughs() -> Result<Vec<BoroughSeed>, String> {
    let mut lines = BOROUGHS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let header = lines.next().ok_or("alcaldias.tsv is empty")?;
    if !header.starts_with("inegi_code\talcaldia\tpopulation_2020") {
        return Err(format!("alcaldias.tsv: unexpected header {header:?}"));
    }
    lines
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                [code, name, population, ..] => Ok(BoroughSeed {
                    inegi_code: (*code).to_owned(),
                    name: (*name).to_owned(),
                    population_2020: population
                        .parse()
                        .map_err(|_| format!("alcaldias.tsv: bad population in {line:?}"))?,
                }),
                _ => Err(format!("alcaldias.tsv: too few columns in {line:?}")),
            }
        })
        .collect()
}

fn catalog() -> Result<Catalog, DbErr> {
    toml::from_str(CATALOG).map_err(|e| DbErr::Custom(format!("seed/catalog.toml: {e}")))
}

/// Inserts `row` unless a row with the same `unique` columns exists; returns rows inserted.
async fn insert_missing<A: ActiveModelTrait>(
    db: &impl ConnectionTrait,
    row: A,
    unique: impl IntoIterator<Item = <A::Entity as EntityTrait>::Column>,
) -> Result<u64, DbErr> {
    let result = <A::Entity as EntityTrait>::insert(row)
        .on_conflict_do_nothing_on(unique)
        .exec_without_returning(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(n) => n,
        _ => 0,
    })
}

/// Inserts the missing part of the reference catalog, in one transaction.
///
/// # Errors
/// `DbErr` on a database error or a malformed bundled seed file (nothing is written then).
pub async fn run(db: &DatabaseConnection) -> Result<SeedReport, DbErr> {
    let catalog = catalog()?;
    let boroughs = boroughs().map_err(DbErr::Custom)?;
    let txn = db.begin().await?;
    let mut report = SeedReport::default();

    for a in &catalog.agency {
        let parent_id = match &a.parent {
            Some(code) => Some(id_of_agency(&txn, code).await?),
            None => None,
        };
        let row = agency::ActiveModel {
            code: Set(a.code.clone()),
            name_es: Set(a.name_es.clone()),
            name_en: Set(a.name_en.clone()),
            parent_id: Set(parent_id),
            ..Default::default()
        };
        report.agencies += insert_missing(&txn, row, [agency::Column::Code]).await?;
    }

    let agency_ids: HashMap<String, i32> = agency::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| (a.code, a.id))
        .collect();
    for p in &catalog.program {
        let agency_id = *agency_ids
            .get(&p.agency)
            .ok_or_else(|| DbErr::Custom(format!("seed: unknown agency {}", p.agency)))?;
        let row = program::ActiveModel {
            code: Set(p.code.clone()),
            agency_id: Set(agency_id),
            name_es: Set(p.name_es.clone()),
            name_en: Set(p.name_en.clone()),
            eligibility_es: Set(p.eligibility_es.clone()),
            eligibility_en: Set(p.eligibility_en.clone()),
            benefit_es: Set(p.benefit_es.clone()),
            benefit_en: Set(p.benefit_en.clone()),
            verified: Set(p.verified),
            sources: Set(p.sources.clone()),
            ..Default::default()
        };
        report.programs += insert_missing(&txn, row, [program::Column::Code]).await?;
    }

    let program_ids: HashMap<String, i32> = program::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.code, p.id))
        .collect();
    for (position, e) in catalog.life_event.iter().enumerate() {
        let row = life_event::ActiveModel {
            code: Set(e.code.clone()),
            label_es: Set(e.label_es.clone()),
            label_en: Set(e.label_en.clone()),
            position: Set(position as i32 + 1),
            ..Default::default()
        };
        report.life_events += insert_missing(&txn, row, [life_event::Column::Code]).await?;
        let event_id = life_event::Entity::find()
            .filter(life_event::Column::Code.eq(&e.code))
            .one(&txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("life event {}", e.code)))?
            .id;
        for (position, code) in e.programs.iter().enumerate() {
            let program_id = *program_ids.get(code).ok_or_else(|| {
                DbErr::Custom(format!(
                    "seed: life event {} names unknown program {code}",
                    e.code
                ))
            })?;
            let link = life_event_program::ActiveModel {
                life_event_id: Set(event_id),
                program_id: Set(program_id),
                position: Set(position as i32 + 1),
            };
            let unique = [
                life_event_program::Column::LifeEventId,
                life_event_program::Column::ProgramId,
            ];
            report.links += insert_missing(&txn, link, unique).await?;
        }
    }

    for b in &boroughs {
        let row = borough::ActiveModel {
            inegi_code: Set(b.inegi_code.clone()),
            name: Set(b.name.clone()),
            population_2020: Set(b.population_2020),
            ..Default::default()
        };
        report.boroughs += insert_missing(&txn, row, [borough::Column::InegiCode]).await?;
    }
    report.offices = seed_offices(&txn).await?;

    txn.commit().await?;
    Ok(report)
}

/// One neighbourhood office per borough and the city's call center. Their street addresses
/// and hours are not in any verified source we hold, so they stay empty for administrators to
/// enter rather than being made up.
async fn seed_offices(txn: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let mut count = 0;
    for b in borough::Entity::find().all(txn).await? {
        let row = office::ActiveModel {
            code: Set(format!("MOD-{}", b.inegi_code)),
            name: Set(format!("Módulo de atención {}", b.name)),
            kind: Set("modulo".to_owned()),
            borough_id: Set(Some(b.id)),
            address: Set(None),
            hours: Set(None),
            ..Default::default()
        };
        count += insert_missing(txn, row, [office::Column::Code]).await?;
    }
    let call_center = office::ActiveModel {
        code: Set("CC-CDMX".to_owned()),
        name: Set("Centro de atención telefónica".to_owned()),
        kind: Set("call_center".to_owned()),
        borough_id: Set(None),
        address: Set(None),
        hours: Set(None),
        ..Default::default()
    };
    count += insert_missing(txn, call_center, [office::Column::Code]).await?;
    Ok(count)
}

async fn id_of_agency(txn: &impl ConnectionTrait, code: &str) -> Result<i32, DbErr> {
    agency::Entity::find()
        .filter(agency::Column::Code.eq(code))
        .one(txn)
        .await?
        .map(|a| a.id)
        .ok_or_else(|| DbErr::Custom(format!("seed: unknown agency {code}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalog_has_the_programs_and_life_events_of_the_domain() {
        let c = catalog().unwrap();
        assert_eq!(c.agency.len(), 9);
        assert_eq!(c.program.len(), 15);
        assert_eq!(c.life_event.len(), 15);
        let unverified: Vec<_> = c
            .program
            .iter()
            .filter(|p| !p.verified)
            .map(|p| p.code.as_str())
            .collect();
        assert_eq!(unverified, ["MUJSAL", "BEBSEG"]);
    }

    #[test]
    fn every_program_of_a_life_event_exists_and_has_a_known_agency() {
        let c = catalog().unwrap();
        for e in &c.life_event {
            for code in &e.programs {
                assert!(
                    c.program.iter().any(|p| &p.code == code),
                    "{} → {code}",
                    e.code
                );
            }
        }
        for p in &c.program {
            assert!(
                c.agency.iter().any(|a| a.code == p.agency),
                "{} → {}",
                p.code,
                p.agency
            );
        }
    }

    #[test]
    fn the_sixteen_boroughs_add_up_to_the_census_total() {
        let b = boroughs().unwrap();
        assert_eq!(b.len(), 16);
        assert_eq!(b.iter().map(|b| b.population_2020).sum::<i64>(), 9_209_944);
        assert_eq!(b.first().unwrap().inegi_code, "09002");
        assert_eq!(b.last().unwrap().inegi_code, "09017");
    }
}
