//! The policy dashboard's figures by program (`/politica`, below the coverage map): people
//! reached now and at each month's end, the overlap between programs, decision times, and the
//! registry's data quality — for the whole city or one borough, small cells suppressed.
//!
//! Month-end figures of closed months are computed once from the status history and kept in
//! `coverage_month` (a closed month does not change); the current month's figure is the kept
//! tally of today ([`super::coverage`]). Both count an enrollment of a profile that is active
//! *now*, in the borough the person lives in *now* (the history of addresses is not kept).

use std::collections::{BTreeMap, HashMap};

use angel_entity::{agency, borough, coverage_month, coverage_snapshot, program, program_tally};
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Statement, TransactionTrait, Value, sea_query::OnConflict,
};

use crate::catalog::dto::Localized;
use crate::coverage::dto::{DataQuality, GapReport, GapRow, ProgramFigures, ProgramReport};
use crate::domain::disclosure::{Cell, one, row};
use crate::ssr::ServiceError;
use crate::ssr::clock::mexico_city;
use crate::ssr::services::gap;
use crate::ssr::services::jobs::sql;

/// Months in the trend, the current one included.
pub const MONTHS: u32 = 12;
/// Decision times look at requests decided in the last this many days.
pub const WINDOW_DAYS: u32 = 365;

/// The first day of the month `at` falls in, in Mexico City.
pub fn month_of(at: DateTime<Utc>) -> NaiveDate {
    let day = at.with_timezone(&mexico_city()).date_naive();
    day.with_day(1).expect("every month has a first day")
}

/// The instant month `month` (its first day) ends: the next month's first midnight in Mexico
/// City.
pub fn end_of(month: NaiveDate) -> DateTime<Utc> {
    let next = month + Months::new(1);
    next.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(mexico_city())
        .single()
        .expect("a fixed offset is never ambiguous")
        .with_timezone(&Utc)
}

/// Computes and keeps the month-end figures of every closed month in `months` not kept yet.
/// Several servers may try at once: the one that inserts the month's snapshot row computes it,
/// the others skip it.
///
/// # Errors
/// Database errors (the month stays missing; the next view tries again).
pub async fn snapshot_months(
    db: &DatabaseConnection,
    months: &[NaiveDate],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let current = month_of(now);
    let kept: Vec<NaiveDate> = coverage_snapshot::Entity::find()
        .filter(coverage_snapshot::Column::Month.is_in(months.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.month)
        .collect();
    for &month in months.iter().filter(|m| **m < current && !kept.contains(m)) {
        let tx = db.begin().await?;
        let claimed = coverage_snapshot::Entity::insert(coverage_snapshot::ActiveModel {
            month: Set(month),
            taken_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(coverage_snapshot::Column::Month)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&tx)
        .await?;
        if claimed == 0 {
            continue;
        }
        // The last status of each request before the month ended, when that was `active`.
        tx.execute_raw(sql(
            &tx,
            "INSERT INTO coverage_month (month, program_id, borough_id, people) \
             SELECT ?, e.program_id, p.borough_id, COUNT(DISTINCT e.person_id) \
             FROM enrollment_event ev \
             JOIN enrollment e ON e.id = ev.enrollment_id \
             JOIN person p ON p.id = e.person_id \
             WHERE p.status = 'active' AND ev.to_status = 'active' AND ev.at < ? \
             AND NOT EXISTS (SELECT 1 FROM enrollment_event l \
                 WHERE l.enrollment_id = ev.enrollment_id AND l.at < ? \
                 AND (l.at > ev.at OR (l.at = ev.at AND l.id > ev.id))) \
             GROUP BY e.program_id, p.borough_id",
            vec![
                Value::from(month),
                Value::from(end_of(month)),
                Value::from(end_of(month)),
            ],
        ))
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Forgets every month-end figure (the status history changed under them: a synthetic load).
///
/// # Errors
/// Database errors.
pub async fn forget_months(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("DELETE FROM coverage_month").await?;
    db.execute_unprepared("DELETE FROM coverage_snapshot")
        .await?;
    Ok(())
}

/// The last [`MONTHS`] months up to `now`'s, oldest first.
pub fn trend_months(now: DateTime<Utc>) -> Vec<NaiveDate> {
    let current = month_of(now);
    (0..MONTHS)
        .rev()
        .map(|back| current - Months::new(back))
        .collect()
}

/// The figures by program for borough `borough` (INEGI code; the whole city when empty).
///
/// # Errors
/// `NotFound` for an unknown borough; database errors.
pub async fn by_program(
    db: &DatabaseConnection,
    borough_code: &str,
    now: DateTime<Utc>,
) -> Result<ProgramReport, ServiceError> {
    let boroughs = borough::Entity::find()
        .order_by_asc(borough::Column::InegiCode)
        .all(db)
        .await?;
    let chosen = if borough_code.is_empty() {
        None
    } else {
        Some(
            boroughs
                .iter()
                .find(|b| b.inegi_code == borough_code)
                .ok_or(ServiceError::NotFound)?
                .clone(),
        )
    };
    let places = Places {
        ids: boroughs.iter().map(|b| b.id).collect(),
        within: chosen.as_ref().map(|b| b.id),
    };
    let agencies: HashMap<i32, String> = agency::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    let mut programs = program::Entity::find().all(db).await?;
    programs.sort_by(|a, b| {
        (agencies.get(&a.agency_id), &a.code).cmp(&(agencies.get(&b.agency_id), &b.code))
    });

    // People reached today, per program and borough.
    let mut today: HashMap<i32, ByBorough> = HashMap::new();
    for t in program_tally::Entity::find().all(db).await? {
        today
            .entry(t.program_id)
            .or_default()
            .insert(t.borough_id, u64::try_from(t.people).unwrap_or(0));
    }

    // Month ends.
    let months = trend_months(now);
    snapshot_months(db, &months, now).await?;
    let mut ends: HashMap<(NaiveDate, i32), ByBorough> = HashMap::new();
    for m in coverage_month::Entity::find()
        .filter(coverage_month::Column::Month.is_in(months.iter().copied()))
        .all(db)
        .await?
    {
        ends.entry((m.month, m.program_id))
            .or_default()
            .insert(m.borough_id, u64::try_from(m.people).unwrap_or(0));
    }

    let times = decision_times(db, now).await?;
    let (overdue, escalated) = waiting(db, now).await?;
    let pairs = overlap(db).await?;
    let none = ByBorough::new();
    let of = |map: &HashMap<i32, ByBorough>, id: i32| places.cell(map.get(&id).unwrap_or(&none));

    let figures = programs
        .iter()
        .map(|p| {
            let mut trend: Vec<Cell> = months[..months.len() - 1]
                .iter()
                .map(|&m| places.cell(ends.get(&(m, p.id)).unwrap_or(&none)))
                .collect();
            trend.push(of(&today, p.id));
            let change = match (trend.len().checked_sub(2).map(|i| trend[i]), trend.last()) {
                (Some(Cell::Count(before)), Some(Cell::Count(after))) => {
                    Some(i64::try_from(*after).unwrap_or(0) - i64::try_from(before).unwrap_or(0))
                }
                _ => None,
            };
            let by_borough = times.get(&p.id);
            let decided: ByBorough = by_borough
                .into_iter()
                .flatten()
                .map(|(&b, days)| (b, u64::try_from(days.len()).unwrap_or(0)))
                .collect();
            let mut days: Vec<i64> = by_borough
                .into_iter()
                .flatten()
                .filter(|(b, _)| places.within.is_none_or(|w| w == **b))
                .flat_map(|(_, d)| d.iter().copied())
                .collect();
            days.sort_unstable();
            let days = days.as_slice();
            let shown = u64::try_from(days.len()).unwrap_or(0) >= crate::domain::disclosure::SMALL;
            ProgramFigures {
                code: p.code.clone(),
                name: Localized {
                    es: p.name_es.clone(),
                    en: p.name_en.clone(),
                },
                agency: agencies.get(&p.agency_id).cloned().unwrap_or_default(),
                reached: of(&today, p.id),
                trend,
                change,
                decided: places.cell(&decided),
                median_days: shown.then(|| percentile(days, 50)),
                p90_days: shown.then(|| percentile(days, 90)),
                overdue: of(&overdue, p.id),
                escalated: of(&escalated, p.id),
            }
        })
        .collect();
    let overlap = programs
        .iter()
        .map(|a| {
            programs
                .iter()
                .map(|b| {
                    if a.id == b.id {
                        of(&today, a.id)
                    } else {
                        places.cell(
                            pairs
                                .get(&(a.id.min(b.id), a.id.max(b.id)))
                                .unwrap_or(&none),
                        )
                    }
                })
                .collect()
        })
        .collect();
    Ok(ProgramReport {
        boroughs: boroughs
            .iter()
            .map(|b| (b.inegi_code.clone(), b.name.clone()))
            .collect(),
        borough: chosen.map(|b| b.inegi_code),
        months: months
            .iter()
            .map(|m| m.format("%Y-%m").to_string())
            .collect(),
        programs: figures,
        overlap,
        window_days: WINDOW_DAYS,
        quality: quality(db, &places, now).await?,
        gap: gap_report(db, &programs, &boroughs).await?,
    })
}

/// The gap job's last figures, one row per program of `programs`, one cell per borough.
async fn gap_report(
    db: &DatabaseConnection,
    programs: &[program::Model],
    boroughs: &[borough::Model],
) -> Result<Option<GapReport>, ServiceError> {
    let Some(run) = gap::last_run(db).await? else {
        return Ok(None);
    };
    let counts = gap::stored(db).await?;
    let rows = programs
        .iter()
        .map(|p| {
            let cells: Vec<u64> = boroughs
                .iter()
                .map(|b| counts.get(&(p.id, b.id)).copied().unwrap_or(0))
                .collect();
            let (boroughs, total) = row(&cells);
            GapRow {
                code: p.code.clone(),
                boroughs,
                total,
            }
        })
        .collect();
    Ok(Some(GapReport {
        as_of: run
            .as_of
            .with_timezone(&mexico_city())
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        evaluated: one(u64::try_from(run.people).unwrap_or(0)),
        rows,
    }))
}

/// The `pct`th percentile of `sorted` by the nearest-rank method (`sorted` not empty).
pub fn percentile(sorted: &[i64], pct: usize) -> i64 {
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Counts by borough id.
type ByBorough = HashMap<i32, u64>;

/// Where the figures are shown (a borough, or the city when `within` is `None`) among every
/// borough (`ids`). Each figure is counted per borough and published as a row of the 16
/// boroughs with the city total, suppressed as one row ([`row`]): the city's figure and every
/// borough's are cells of that one row, so no small cell of a borough can be worked out from
/// the city total minus the other boroughs, whichever of those pages or files one reads.
struct Places {
    ids: Vec<i32>,
    within: Option<i32>,
}

impl Places {
    /// The published cell of `counts` here.
    fn cell(&self, counts: &ByBorough) -> Cell {
        let values: Vec<u64> = self
            .ids
            .iter()
            .map(|b| counts.get(b).copied().unwrap_or(0))
            .collect();
        let (cells, total) = row(&values);
        match self.within {
            None => total,
            Some(b) => self
                .ids
                .iter()
                .position(|id| *id == b)
                .map_or(Cell::Count(0), |i| cells[i]),
        }
    }
}

/// Two cells that add up to a published total: when one is not shown, a non-zero other is
/// hidden too (the total minus it would give the first away).
fn pair(a: Cell, b: Cell) -> (Cell, Cell) {
    let hidden = |c: Cell| c.count().is_none();
    let shown_nonzero = |c: Cell| c.count().is_some_and(|n| n > 0);
    match (a, b) {
        (a, b) if shown_nonzero(a) && hidden(b) => (Cell::Hidden, b),
        (a, b) if hidden(a) && shown_nonzero(b) => (a, Cell::Hidden),
        both => both,
    }
}

/// Whole days from request to decision of requests decided in the window, per program and
/// borough.
async fn decision_times(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<HashMap<i32, HashMap<i32, Vec<i64>>>, DbErr> {
    let since = now - chrono::Duration::days(i64::from(WINDOW_DAYS));
    let rows = db
        .query_all_raw(sql(
            db,
            "SELECT e.program_id, p.borough_id, e.requested_at, e.decided_at FROM enrollment e \
             JOIN person p ON p.id = e.person_id \
             WHERE e.decided_at IS NOT NULL AND e.decided_at >= ?",
            vec![Value::from(since)],
        ))
        .await?;
    let mut out: HashMap<i32, HashMap<i32, Vec<i64>>> = HashMap::new();
    for row in rows {
        let program: i32 = row.try_get_by_index(0)?;
        let borough: i32 = row.try_get_by_index(1)?;
        let asked: DateTime<Utc> = row.try_get_by_index(2)?;
        let decided: DateTime<Utc> = row.try_get_by_index(3)?;
        out.entry(program)
            .or_default()
            .entry(borough)
            .or_default()
            .push((decided - asked).num_days().max(0));
    }
    Ok(out)
}

/// Requests awaiting a decision past their due date, and those escalated, per program and
/// borough.
async fn waiting(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<(HashMap<i32, ByBorough>, HashMap<i32, ByBorough>), DbErr> {
    let today = now.with_timezone(&mexico_city()).date_naive();
    let rows = db
        .query_all_raw(sql(
            db,
            "SELECT e.program_id, p.borough_id, \
             SUM(CASE WHEN e.due_on < ? THEN 1 ELSE 0 END), \
             SUM(CASE WHEN e.escalation_level > 0 THEN 1 ELSE 0 END) \
             FROM enrollment e JOIN person p ON p.id = e.person_id \
             WHERE e.status IN ('requested', 'in_review') \
             GROUP BY e.program_id, p.borough_id",
            vec![Value::from(today)],
        ))
        .await?;
    let (mut overdue, mut escalated): (HashMap<i32, ByBorough>, HashMap<i32, ByBorough>) =
        (HashMap::new(), HashMap::new());
    for row in rows {
        let program: i32 = row.try_get_by_index(0)?;
        let borough: i32 = row.try_get_by_index(1)?;
        overdue
            .entry(program)
            .or_default()
            .insert(borough, sum(&row, 2)?);
        escalated
            .entry(program)
            .or_default()
            .insert(borough, sum(&row, 3)?);
    }
    Ok((overdue, escalated))
}

/// A `SUM`/`COUNT` column of integers (`SUM` over no rows is NULL).
fn sum(row: &sea_orm::QueryResult, index: usize) -> Result<u64, DbErr> {
    let n: Option<i64> = row.try_get_by_index(index)?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// People reached by both programs of each pair (lower id first), per borough, from the kept
/// coverage rows.
async fn overlap(db: &DatabaseConnection) -> Result<BTreeMap<(i32, i32), ByBorough>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT a.program_id, b.program_id, a.borough_id, COUNT(*) FROM coverage_member a \
             JOIN coverage_member b ON b.person_id = a.person_id \
             AND b.program_id > a.program_id \
             GROUP BY a.program_id, b.program_id, a.borough_id",
        ))
        .await?;
    let mut out: BTreeMap<(i32, i32), ByBorough> = BTreeMap::new();
    for row in rows {
        let pair: (i32, i32) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        let borough: i32 = row.try_get_by_index(2)?;
        out.entry(pair).or_default().insert(borough, sum(&row, 3)?);
    }
    Ok(out)
}

/// How complete the registry's data is, among active profiles.
async fn quality(
    db: &DatabaseConnection,
    places: &Places,
    now: DateTime<Utc>,
) -> Result<DataQuality, DbErr> {
    let today = now.with_timezone(&mexico_city()).date_naive();
    let years_ago = |n: u32| today - Months::new(12 * n);
    let missing = |kind: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM person_fact f WHERE f.person_id = p.id \
             AND f.kind = '{kind}')"
        )
    };
    let rows = db
        .query_all_raw(sql(
            db,
            &format!(
                "SELECT p.borough_id, COUNT(*), \
                 SUM(CASE WHEN p.has_curp THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN p.birth_date <= ? AND {income} THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN p.birth_date <= ? AND p.birth_date > ? \
                     AND {school} THEN 1 ELSE 0 END) \
                 FROM person p WHERE p.status = 'active' GROUP BY p.borough_id",
                income = missing("monthly_income"),
                school = missing("school_level"),
            ),
            vec![
                Value::from(years_ago(18)),
                Value::from(years_ago(6)),
                Value::from(years_ago(18)),
            ],
        ))
        .await?;
    // registered, with CURP, without CURP, adults without income, minors without school.
    let mut measures: [ByBorough; 5] = Default::default();
    for row in rows {
        let borough: i32 = row.try_get_by_index(0)?;
        let (registered, with_curp) = (sum(&row, 1)?, sum(&row, 2)?);
        let values = [
            registered,
            with_curp,
            registered - with_curp,
            sum(&row, 3)?,
            sum(&row, 4)?,
        ];
        for (measure, value) in measures.iter_mut().zip(values) {
            measure.insert(borough, value);
        }
    }
    let pending: ByBorough = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT p.borough_id, COUNT(*) FROM duplicate_review d \
             JOIN person p ON p.id = d.person_a \
             WHERE d.status = 'pending' GROUP BY p.borough_id",
        ))
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get_by_index(0)?, sum(&row, 1)?)))
        .collect::<Result<_, DbErr>>()?;
    let [registered, with_curp, without_curp, no_income, no_school] =
        measures.map(|m| places.cell(&m));
    // With and without CURP add up to the registered: when one of the two is not shown, the
    // other is hidden too.
    let (with_curp, without_curp) = pair(with_curp, without_curp);
    Ok(DataQuality {
        registered,
        with_curp,
        without_curp,
        duplicates_pending: places.cell(&pending),
        adults_without_income: no_income,
        minors_without_school: no_school,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borough_and_the_city_are_cells_of_one_row() {
        let places = |within| Places {
            ids: vec![1, 2, 3],
            within,
        };
        let counts: ByBorough = [(1, 40), (2, 3), (3, 9)].into_iter().collect();
        // Borough 2 has 3 people: "<5"; borough 3, the smallest other, is hidden with it, or
        // the city's 52 minus 40 and 9 would give it away.
        assert_eq!(places(Some(2)).cell(&counts), Cell::Small);
        assert_eq!(places(Some(3)).cell(&counts), Cell::Hidden);
        assert_eq!(places(Some(1)).cell(&counts), Cell::Count(40));
        assert_eq!(places(None).cell(&counts), Cell::Count(52));
        assert_eq!(places(None).cell(&ByBorough::new()), Cell::Count(0));
        assert_eq!(
            pair(Cell::Count(20), Cell::Small),
            (Cell::Hidden, Cell::Small)
        );
        assert_eq!(
            pair(Cell::Count(0), Cell::Small),
            (Cell::Count(0), Cell::Small)
        );
        assert_eq!(
            pair(Cell::Count(7), Cell::Count(9)),
            (Cell::Count(7), Cell::Count(9))
        );
    }

    #[test]
    fn months_end_at_mexico_city_midnight() {
        let m = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        assert_eq!(end_of(m).to_rfc3339(), "2026-11-01T06:00:00+00:00");
        let late = DateTime::parse_from_rfc3339("2026-11-01T05:59:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(month_of(late), m);
        let months = trend_months(late);
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], NaiveDate::from_ymd_opt(2025, 11, 1).unwrap());
        assert_eq!(months[11], m);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let days = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&days, 50), 5);
        assert_eq!(percentile(&days, 90), 9);
        assert_eq!(percentile(&[7], 90), 7);
    }
}
