//! `angel seed`: the reference catalog (agencies, programs, life events and their links, the
//! 16 boroughs with INEGI codes, one neighbourhood office per borough and the call center).
//!
//! Idempotent and conservative: rows are matched by their code and only missing ones are
//! inserted; an existing row, perhaps edited by an administrator, is never overwritten.

use std::collections::{HashMap, HashSet};

use angel_app::domain::calendar::statutory_holidays;
use angel_app::domain::curp::Date;
use angel_app::domain::eligibility::{Rule, TestCase, run_cases};
use angel_entity::{
    agency, borough, holiday, indicator, life_event, life_event_program, office, program,
    program_incompatible, program_indicator, program_rule, wage_value,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, TransactionTrait, TryInsertResult,
};
use serde::Deserialize;

const CATALOG: &str = include_str!("../seed/catalog.toml");
/// The first published rule version of every program, with its test cases.
const RULES: &str = include_str!("../seed/rules.json");
/// Years whose statutory non-working days are seeded into `holiday`.
pub const HOLIDAY_YEARS: std::ops::RangeInclusive<i32> = 2024..=2032;
/// INEGI AGEEML catalog and Census 2020 (copied from ../shared/domain/alcaldias.tsv).
const BOROUGHS: &str = include_str!("../seed/alcaldias.tsv");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    agency: Vec<AgencySeed>,
    program: Vec<ProgramSeed>,
    life_event: Vec<LifeEventSeed>,
    indicator: Vec<IndicatorSeed>,
    incompatible: Vec<IncompatibleSeed>,
    wage: Vec<WageSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorSeed {
    code: String,
    name_es: String,
    name_en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncompatibleSeed {
    programs: [String; 2],
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WageSeed {
    kind: String,
    year: i32,
    /// Pesos with two decimals, as published.
    daily: String,
    source: String,
}

/// A rule version as bundled (and as `angel rules test` reads them).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSeed {
    pub program: String,
    pub effective_from: Date,
    pub note: String,
    pub rules: Rule,
    pub tests: Vec<TestCase>,
}

/// The bundled rule versions.
///
/// # Errors
/// A description of the problem in `seed/rules.json`.
pub fn bundled_rules() -> Result<Vec<RuleSeed>, String> {
    serde_json::from_str(RULES).map_err(|e| format!("seed/rules.json: {e}"))
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
    sla_days: i32,
    beneficiary: String,
    benefit_base: Option<String>,
    benefit_factor: Option<f64>,
    indicators: Vec<String>,
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
    pub rules: u64,
    pub indicators: u64,
    pub wages: u64,
    pub holidays: u64,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "new rows: {} agencies, {} programs, {} life events, {} links, {} boroughs, {} offices, \
             {} rule versions, {} indicators, {} wage values, {} holidays",
            self.agencies,
            self.programs,
            self.life_events,
            self.links,
            self.boroughs,
            self.offices,
            self.rules,
            self.indicators,
            self.wages,
            self.holidays
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
            sla_days: Set(p.sla_days),
            beneficiary: Set(p.beneficiary.clone()),
            benefit_base: Set(p.benefit_base.clone()),
            benefit_factor: Set(p.benefit_factor),
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
    seed_terms(&txn, &catalog, &program_ids, &mut report).await?;
    report.rules = seed_rules(&txn, &program_ids).await?;

    txn.commit().await?;
    Ok(report)
}

/// Indicators and which programs serve them, incompatible pairs, wage values, holidays.
async fn seed_terms(
    txn: &impl ConnectionTrait,
    catalog: &Catalog,
    program_ids: &HashMap<String, i32>,
    report: &mut SeedReport,
) -> Result<(), DbErr> {
    let program_id = |code: &str| {
        program_ids
            .get(code)
            .copied()
            .ok_or_else(|| DbErr::Custom(format!("seed: unknown program {code}")))
    };
    // An indicator's names and programs are the administrators' once it exists
    // (`/admin/indicadores`): the bundled links are written with the indicator only, so a
    // program an administrator took off an indicator is not put back by the next seed.
    let mut created: HashSet<&str> = HashSet::new();
    for (position, i) in catalog.indicator.iter().enumerate() {
        let row = indicator::ActiveModel {
            code: Set(i.code.clone()),
            name_es: Set(i.name_es.clone()),
            name_en: Set(i.name_en.clone()),
            position: Set(position as i32 + 1),
            ..Default::default()
        };
        let inserted = insert_missing(txn, row, [indicator::Column::Code]).await?;
        if inserted > 0 {
            created.insert(i.code.as_str());
        }
        report.indicators += inserted;
    }
    let indicator_ids: HashMap<String, i32> = indicator::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|i| (i.code, i.id))
        .collect();
    for p in &catalog.program {
        for code in &p.indicators {
            let indicator_id = *indicator_ids
                .get(code)
                .ok_or_else(|| DbErr::Custom(format!("seed: unknown indicator {code}")))?;
            if !created.contains(code.as_str()) {
                continue;
            }
            let link = program_indicator::ActiveModel {
                program_id: Set(program_id(&p.code)?),
                indicator_id: Set(indicator_id),
            };
            let unique = [
                program_indicator::Column::ProgramId,
                program_indicator::Column::IndicatorId,
            ];
            insert_missing(txn, link, unique).await?;
        }
    }
    for pair in &catalog.incompatible {
        let (a, b) = (
            program_id(&pair.programs[0])?,
            program_id(&pair.programs[1])?,
        );
        let row = program_incompatible::ActiveModel {
            program_id: Set(a.min(b)),
            other_id: Set(a.max(b)),
            reason: Set(pair.reason.clone()),
        };
        let unique = [
            program_incompatible::Column::ProgramId,
            program_incompatible::Column::OtherId,
        ];
        insert_missing(txn, row, unique).await?;
    }
    for w in &catalog.wage {
        let row = wage_value::ActiveModel {
            kind: Set(w.kind.clone()),
            year: Set(w.year),
            daily_cents: Set(cents(&w.daily)?),
            source: Set(w.source.clone()),
            ..Default::default()
        };
        let unique = [wage_value::Column::Kind, wage_value::Column::Year];
        report.wages += insert_missing(txn, row, unique).await?;
    }
    for year in HOLIDAY_YEARS {
        for (day, name) in statutory_holidays(year) {
            let row = holiday::ActiveModel {
                day: Set(to_naive(day)),
                name: Set(name.to_owned()),
            };
            report.holidays += insert_missing(txn, row, [holiday::Column::Day]).await?;
        }
    }
    Ok(())
}

/// Version 1 of every program's rule, published, unless the program has a rule already. The
/// bundled test cases must pass (a failing bundle is a build defect, refused here too).
async fn seed_rules(
    txn: &impl ConnectionTrait,
    program_ids: &HashMap<String, i32>,
) -> Result<u64, DbErr> {
    let mut count = 0;
    for seed in bundled_rules().map_err(DbErr::Custom)? {
        let program_id = *program_ids.get(&seed.program).ok_or_else(|| {
            DbErr::Custom(format!("seed: rules for unknown program {}", seed.program))
        })?;
        seed.rules
            .validate(&|code| program_ids.contains_key(code))
            .map_err(|e| DbErr::Custom(format!("seed: rules of {}: {e}", seed.program)))?;
        if let Some((name, ..)) = run_cases(&seed.rules, &seed.tests)
            .into_iter()
            .find(|(_, expected, got)| expected != got)
        {
            return Err(DbErr::Custom(format!(
                "seed: test case {name:?} of {} fails",
                seed.program
            )));
        }
        let now = chrono::Utc::now();
        let row = program_rule::ActiveModel {
            program_id: Set(program_id),
            version: Set(1),
            effective_from: Set(to_naive(seed.effective_from)),
            status: Set("published".to_owned()),
            rules: Set(
                serde_json::to_string(&seed.rules).map_err(|e| DbErr::Custom(e.to_string()))?
            ),
            tests: Set(
                serde_json::to_string(&seed.tests).map_err(|e| DbErr::Custom(e.to_string()))?
            ),
            note: Set(seed.note.clone()),
            created_by: Set(None),
            created_at: Set(now),
            published_by: Set(None),
            published_at: Set(Some(now)),
            ..Default::default()
        };
        let unique = [
            program_rule::Column::ProgramId,
            program_rule::Column::Version,
        ];
        count += insert_missing(txn, row, unique).await?;
    }
    Ok(count)
}

fn to_naive(d: Date) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(d.year, d.month, d.day).expect("a valid date")
}

/// `"59.82"` → 5982.
fn cents(pesos: &str) -> Result<i32, DbErr> {
    let bad = || DbErr::Custom(format!("seed: not an amount with two decimals: {pesos:?}"));
    let (whole, frac) = pesos.split_once('.').ok_or_else(bad)?;
    if frac.len() != 2 {
        return Err(bad());
    }
    Ok(whole.parse::<i32>().map_err(|_| bad())? * 100 + frac.parse::<i32>().map_err(|_| bad())?)
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

    /// The unit tests of every program's rules: the bundled cases (boundaries included: the day
    /// someone turns 68, 17 years 11 months, an average of exactly 9.0) all give their verdict.
    #[test]
    fn every_program_has_a_rule_whose_cases_pass() {
        let c = catalog().unwrap();
        let rules = bundled_rules().unwrap();
        for p in &c.program {
            let seed = rules
                .iter()
                .find(|r| r.program == p.code)
                .unwrap_or_else(|| panic!("{} has no rule", p.code));
            seed.rules
                .validate(&|code| c.program.iter().any(|p| p.code == code))
                .unwrap();
            assert!(!seed.tests.is_empty(), "{} has no test case", p.code);
            for (name, expected, got) in run_cases(&seed.rules, &seed.tests) {
                assert_eq!(expected, got, "{}: {name}", p.code);
            }
        }
        assert_eq!(rules.len(), c.program.len());
    }

    #[test]
    fn wage_values_reproduce_the_documented_pension() {
        let c = catalog().unwrap();
        let sm2011 = c
            .wage
            .iter()
            .find(|w| w.kind == "sm" && w.year == 2011)
            .unwrap();
        // PAAM: 15 days of SM = 897.30 pesos in 2011 (programs.md).
        assert_eq!(cents(&sm2011.daily).unwrap() * 15, 89_730);
        assert!(cents("59.8").is_err());
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
