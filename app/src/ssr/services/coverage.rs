//! Coverage of the social policy indicators: who each program reaches now, kept current as
//! enrollments and profiles change, so the policy reports read small tallies instead of
//! grouping every enrollment (PERFORMANCE.md P5).
//!
//! *Reached* means an enrollment in status `active` of a profile in status `active` (not merged
//! into another, not deceased), counted in the borough where the person lives now; approved,
//! suspended and finished requests are not counted. A person counts once per program and once
//! per indicator, however many of the indicator's programs they are in.
//!
//! Three tables hold it: `coverage_member` (one row per person and program reached, with the
//! borough), `program_tally` and `indicator_tally` (distinct people per program or indicator
//! and borough). Every write that can change who is reached calls [`refresh_person`] in its own
//! transaction: it compares the person's rows with what the enrollments say now and applies
//! the difference to the tallies. [`rebuild`] recomputes all three from the enrollments (after
//! bulk loads, or when an indicator's programs change); [`reference`] is the plain `GROUP BY`
//! the tests and the benchmark compare the tallies with.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use angel_entity::{
    borough, coverage_member, enrollment, indicator, indicator_tally, person, program,
    program_indicator, target_population,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};

use crate::catalog::dto::Localized;
use crate::coverage::dto::{BoroughCoverage, CoverageReport};
use crate::domain::disclosure::{self, Cell};
use crate::domain::lifecycle::Status;
use crate::ssr::ServiceError;

/// The profile status that counts (merged and deceased profiles do not).
const ACTIVE_PERSON: &str = "active";

/// Brings `person_id`'s coverage rows and the tallies up to date with their enrollments and
/// profile. Call it inside the transaction that changed them; on PostgreSQL it locks the
/// person's row, so two changes to one person apply one after the other.
///
/// # Errors
/// Database errors (a tally driven below zero is one: the check constraint refuses it).
pub async fn refresh_person(db: &impl ConnectionTrait, person_id: i32) -> Result<(), DbErr> {
    refresh_people(db, &[person_id]).await
}

/// People per statement of [`refresh_people`].
const PEOPLE_PER_STATEMENT: usize = 500;

/// [`refresh_person`] for many people at once (a chunk of an import): a few statements per
/// [`PEOPLE_PER_STATEMENT`] people, and one tally update per program or indicator and borough
/// whose count changed. On PostgreSQL the people's rows are locked in id order.
///
/// # Errors
/// As [`refresh_person`].
pub async fn refresh_people(db: &impl ConnectionTrait, people: &[i32]) -> Result<(), DbErr> {
    let ids: Vec<i32> = people
        .iter()
        .copied()
        .collect::<BTreeSet<i32>>()
        .into_iter()
        .collect();
    for part in ids.chunks(PEOPLE_PER_STATEMENT) {
        refresh_part(db, part).await?;
    }
    Ok(())
}

/// Where a person is reached: (program, borough) pairs.
type Pairs = BTreeSet<(i32, i32)>;

/// Who is reached where, by person.
type Reached = HashMap<i32, Pairs>;

async fn refresh_part(db: &impl ConnectionTrait, ids: &[i32]) -> Result<(), DbErr> {
    let people = person::Entity::find()
        .filter(person::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(person::Column::Id)
        .lock_exclusive()
        .all(db)
        .await?;
    let mut before: Reached = HashMap::new();
    for m in coverage_member::Entity::find()
        .filter(coverage_member::Column::PersonId.is_in(people.iter().map(|p| p.id)))
        .all(db)
        .await?
    {
        before
            .entry(m.person_id)
            .or_default()
            .insert((m.program_id, m.borough_id));
    }
    let borough_of: HashMap<i32, i32> = people
        .iter()
        .filter(|p| p.status == ACTIVE_PERSON)
        .map(|p| (p.id, p.borough_id))
        .collect();
    let mut after: Reached = HashMap::new();
    for (person, program) in enrollment::Entity::find()
        .select_only()
        .column(enrollment::Column::PersonId)
        .column(enrollment::Column::ProgramId)
        .filter(enrollment::Column::PersonId.is_in(borough_of.keys().copied()))
        .filter(enrollment::Column::Status.eq(Status::Active.code()))
        .into_tuple::<(i32, i32)>()
        .all(db)
        .await?
    {
        after
            .entry(person)
            .or_default()
            .insert((program, borough_of[&person]));
    }
    let none = BTreeSet::new();
    let changed: Vec<(i32, &Pairs, &Pairs)> = people
        .iter()
        .map(|p| {
            (
                p.id,
                before.get(&p.id).unwrap_or(&none),
                after.get(&p.id).unwrap_or(&none),
            )
        })
        .filter(|(_, was, is)| was != is)
        .collect();
    if changed.is_empty() {
        return Ok(());
    }

    let programs: Vec<i32> = changed
        .iter()
        .flat_map(|(_, was, is)| was.iter().chain(is.iter()).map(|&(p, _)| p))
        .collect::<BTreeSet<i32>>()
        .into_iter()
        .collect();
    let served = indicators_of(db, &programs).await?;
    let reach = |pairs: &BTreeSet<(i32, i32)>| -> BTreeSet<(i32, i32)> {
        pairs
            .iter()
            .flat_map(|(program, borough)| {
                served
                    .get(program)
                    .into_iter()
                    .flatten()
                    .map(move |&indicator| (indicator, *borough))
            })
            .collect()
    };
    // Net changes per tally row: a person counts once per program (indicator) and borough.
    let mut deltas: BTreeMap<(Tally, i32, i32), i64> = BTreeMap::new();
    for (_, was, is) in &changed {
        let (reached_was, reached_is) = (reach(was), reach(is));
        for (tally, gone, came) in [
            (Tally::Program, *was, *is),
            (Tally::Indicator, &reached_was, &reached_is),
        ] {
            for &(key, borough) in gone.difference(came) {
                *deltas.entry((tally, key, borough)).or_default() -= 1;
            }
            for &(key, borough) in came.difference(gone) {
                *deltas.entry((tally, key, borough)).or_default() += 1;
            }
        }
    }
    for ((tally, key, borough), delta) in deltas {
        if delta != 0 {
            bump(db, tally, key, borough, delta).await?;
        }
    }

    coverage_member::Entity::delete_many()
        .filter(coverage_member::Column::PersonId.is_in(changed.iter().map(|c| c.0)))
        .exec(db)
        .await?;
    let rows: Vec<coverage_member::ActiveModel> = changed
        .iter()
        .flat_map(|(person, _, is)| {
            is.iter()
                .map(move |&(program, borough)| coverage_member::ActiveModel {
                    person_id: Set(*person),
                    program_id: Set(program),
                    borough_id: Set(borough),
                })
        })
        .collect();
    if !rows.is_empty() {
        coverage_member::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The indicators each of `programs` serves.
async fn indicators_of(
    db: &impl ConnectionTrait,
    programs: &[i32],
) -> Result<HashMap<i32, Vec<i32>>, DbErr> {
    let mut out: HashMap<i32, Vec<i32>> = HashMap::new();
    for link in program_indicator::Entity::find()
        .filter(program_indicator::Column::ProgramId.is_in(programs.iter().copied()))
        .all(db)
        .await?
    {
        out.entry(link.program_id)
            .or_default()
            .push(link.indicator_id);
    }
    Ok(out)
}

/// One of the two tallies: its table and the column of what it counts people for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tally {
    Program,
    Indicator,
}

impl Tally {
    fn table(self) -> &'static str {
        match self {
            Tally::Program => "program_tally",
            Tally::Indicator => "indicator_tally",
        }
    }

    fn key(self) -> Alias {
        Alias::new(match self {
            Tally::Program => "program_id",
            Tally::Indicator => "indicator_id",
        })
    }
}

/// Adds `delta` (a net change in people) to the people of `key` (a program or an indicator) in a borough. A
/// decrement updates the row in place (an insert of a negative count would break the check
/// constraint before the upsert applies); a missing row to decrement means the tallies
/// drifted, and the write fails.
async fn bump(
    db: &impl ConnectionTrait,
    tally: Tally,
    key: i32,
    borough: i32,
    delta: i64,
) -> Result<(), DbErr> {
    let people = || Alias::new("people");
    let borough_id = || Alias::new("borough_id");
    if delta < 0 {
        let done = db
            .execute(
                Query::update()
                    .table(Alias::new(tally.table()))
                    .value(people(), Expr::col(people()).add(delta))
                    .and_where(Expr::col(tally.key()).eq(key))
                    .and_where(Expr::col(borough_id()).eq(borough)),
            )
            .await?;
        return drifted(done.rows_affected(), tally);
    }
    db.execute(
        Query::insert()
            .into_table(Alias::new(tally.table()))
            .columns([tally.key(), borough_id(), people()])
            .values_panic([key.into(), borough.into(), delta.into()])
            .on_conflict(
                OnConflict::columns([tally.key(), borough_id()])
                    .value(
                        people(),
                        Expr::col((Alias::new(tally.table()), people())).add(delta),
                    )
                    .to_owned(),
            ),
    )
    .await?;
    Ok(())
}

fn drifted(rows: u64, tally: Tally) -> Result<(), DbErr> {
    if rows == 1 {
        Ok(())
    } else {
        Err(DbErr::Custom(format!(
            "{}: no row to take a person from (run `coverage::rebuild`)",
            tally.table()
        )))
    }
}

/// Who is reached, straight from the enrollments: the selection every figure here derives
/// from (also the benchmark's baseline).
const REACHED: &str = "SELECT DISTINCT e.person_id, e.program_id, p.borough_id \
     FROM enrollment e JOIN person p ON p.id = e.person_id \
     WHERE e.status = 'active' AND p.status = 'active'";

/// Recomputes the coverage rows and both tallies from the enrollments, in one transaction
/// (after a bulk load, or when an indicator's programs change). Returns the people reached by
/// at least one program.
///
/// # Errors
/// Database errors (nothing changed).
pub async fn rebuild(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let tx = db.begin().await?;
    // Month-end figures follow the status history, which a bulk load rewrites.
    super::figures::forget_months(&tx).await?;
    for table in ["indicator_tally", "program_tally", "coverage_member"] {
        tx.execute_unprepared(&format!("DELETE FROM {table}"))
            .await?;
    }
    tx.execute_unprepared(&format!(
        "INSERT INTO coverage_member (person_id, program_id, borough_id) {REACHED}"
    ))
    .await?;
    tx.execute_unprepared(
        "INSERT INTO program_tally (program_id, borough_id, people) \
         SELECT program_id, borough_id, COUNT(*) FROM coverage_member \
         GROUP BY program_id, borough_id",
    )
    .await?;
    tx.execute_unprepared(
        "INSERT INTO indicator_tally (indicator_id, borough_id, people) \
         SELECT pi.indicator_id, m.borough_id, COUNT(DISTINCT m.person_id) \
         FROM coverage_member m JOIN program_indicator pi ON pi.program_id = m.program_id \
         GROUP BY pi.indicator_id, m.borough_id",
    )
    .await?;
    let people = count(&tx, "SELECT COUNT(DISTINCT person_id) FROM coverage_member").await?;
    tx.commit().await?;
    Ok(people)
}

async fn count(db: &impl ConnectionTrait, sql: &str) -> Result<u64, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| DbErr::Custom("COUNT returned no row".into()))?;
    let n: i64 = row.try_get_by_index(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Distinct people reached per (indicator, borough) and per (program, borough).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tallies {
    pub indicators: BTreeSet<(i32, i32, i64)>,
    pub programs: BTreeSet<(i32, i32, i64)>,
}

/// The tallies as kept (rows of zero people left out).
///
/// # Errors
/// Database errors.
pub async fn kept(db: &impl ConnectionTrait) -> Result<Tallies, DbErr> {
    Ok(Tallies {
        indicators: triples(
            db,
            "SELECT indicator_id, borough_id, people FROM indicator_tally WHERE people > 0",
        )
        .await?,
        programs: triples(
            db,
            "SELECT program_id, borough_id, people FROM program_tally WHERE people > 0",
        )
        .await?,
    })
}

/// The tallies by a plain `GROUP BY` over the enrollments, nothing kept.
///
/// # Errors
/// Database errors.
pub async fn reference(db: &impl ConnectionTrait) -> Result<Tallies, DbErr> {
    Ok(Tallies {
        indicators: triples(
            db,
            &format!(
                "SELECT pi.indicator_id, r.borough_id, COUNT(DISTINCT r.person_id) \
                 FROM ({REACHED}) r JOIN program_indicator pi ON pi.program_id = r.program_id \
                 GROUP BY pi.indicator_id, r.borough_id"
            ),
        )
        .await?,
        programs: triples(
            db,
            &format!(
                "SELECT r.program_id, r.borough_id, COUNT(*) FROM ({REACHED}) r \
                 GROUP BY r.program_id, r.borough_id"
            ),
        )
        .await?,
    })
}

async fn triples(db: &impl ConnectionTrait, sql: &str) -> Result<BTreeSet<(i32, i32, i64)>, DbErr> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .into_iter()
        .map(|row| {
            Ok((
                row.try_get_by_index::<i32>(0)?,
                row.try_get_by_index::<i32>(1)?,
                row.try_get_by_index::<i64>(2)?,
            ))
        })
        .collect()
}

/// Coverage of `indicator` (code; the first indicator when empty) by borough against the
/// target population of `year` (the newest loaded when `None`), small cells suppressed.
///
/// # Errors
/// `NotFound` for an unknown indicator or a year without targets; database errors.
pub async fn by_borough(
    db: &impl ConnectionTrait,
    indicator: &str,
    year: Option<i32>,
) -> Result<CoverageReport, ServiceError> {
    let indicators = indicator::Entity::find()
        .order_by_asc(indicator::Column::Position)
        .all(db)
        .await?;
    let chosen = if indicator.is_empty() {
        indicators.first()
    } else {
        indicators.iter().find(|i| i.code == indicator)
    }
    .ok_or(ServiceError::NotFound)?
    .clone();
    let links: Vec<i32> = program_indicator::Entity::find()
        .filter(program_indicator::Column::IndicatorId.eq(chosen.id))
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.program_id)
        .collect();
    let programs = program::Entity::find()
        .filter(program::Column::Id.is_in(links))
        .order_by_asc(program::Column::Code)
        .all(db)
        .await?
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
        .collect();
    let targets = target_population::Entity::find()
        .filter(target_population::Column::IndicatorId.eq(chosen.id))
        .all(db)
        .await?;
    let years: Vec<i32> = targets
        .iter()
        .map(|t| t.year)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .rev()
        .collect();
    let year = match year {
        Some(y) if years.contains(&y) => Some(y),
        Some(_) => return Err(ServiceError::NotFound),
        None => years.first().copied(),
    };
    let targets: Vec<&target_population::Model> =
        targets.iter().filter(|t| Some(t.year) == year).collect();
    let reached: HashMap<i32, i64> = indicator_tally::Entity::find()
        .filter(indicator_tally::Column::IndicatorId.eq(chosen.id))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.borough_id, t.people))
        .collect();
    let boroughs = borough::Entity::find()
        .order_by_asc(borough::Column::InegiCode)
        .all(db)
        .await?;
    let counts: Vec<u64> = boroughs
        .iter()
        .map(|b| u64::try_from(reached.get(&b.id).copied().unwrap_or(0)).unwrap_or(0))
        .collect();
    let (cells, total_cell) = disclosure::row(&counts);
    let target_of = |b: i32| targets.iter().find(|t| t.borough_id == b).map(|t| t.people);
    let complete = boroughs.iter().all(|b| target_of(b.id).is_some());
    let rows = boroughs
        .iter()
        .zip(cells)
        .map(|(b, reached)| coverage_row(&b.inegi_code, &b.name, reached, target_of(b.id)))
        .collect();
    // The city's target is only the sum when every borough has one.
    let city_target = complete.then(|| targets.iter().map(|t| t.people).sum());
    let mut sources: Vec<String> = targets.iter().map(|t| t.source.clone()).collect();
    sources.sort();
    sources.dedup();
    Ok(CoverageReport {
        indicators: indicators
            .iter()
            .map(|i| (i.code.clone(), name_of(i)))
            .collect(),
        name: name_of(&chosen),
        indicator: chosen.code,
        programs,
        years,
        year,
        boroughs: rows,
        total: coverage_row("", "", total_cell, city_target),
        synthetic: targets.iter().any(|t| t.synthetic),
        sources,
        map: crate::ssr::map::boroughs().clone(),
    })
}

fn name_of(i: &indicator::Model) -> Localized {
    Localized {
        es: i.name_es.clone(),
        en: i.name_en.clone(),
    }
}

fn coverage_row(code: &str, name: &str, reached: Cell, target: Option<i64>) -> BoroughCoverage {
    let per_thousand = match (reached.count(), target) {
        (Some(n), Some(t)) if t > 0 => {
            let t = u64::try_from(t).unwrap_or(0);
            Some((n * 1000 + t / 2) / t)
        }
        _ => None,
    };
    BoroughCoverage {
        code: code.to_owned(),
        name: name.to_owned(),
        reached,
        target,
        per_thousand,
    }
}
