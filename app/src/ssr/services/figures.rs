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
    let within = chosen.as_ref().map(|b| b.id);
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

    // People reached today, per program.
    let mut today: HashMap<i32, u64> = HashMap::new();
    for t in program_tally::Entity::find().all(db).await? {
        if within.is_none_or(|b| b == t.borough_id) {
            *today.entry(t.program_id).or_default() += u64::try_from(t.people).unwrap_or(0);
        }
    }

    // Month ends.
    let months = trend_months(now);
    snapshot_months(db, &months, now).await?;
    let mut ends: HashMap<(NaiveDate, i32), u64> = HashMap::new();
    for m in coverage_month::Entity::find()
        .filter(coverage_month::Column::Month.is_in(months.iter().copied()))
        .all(db)
        .await?
    {
        if within.is_none_or(|b| b == m.borough_id) {
            *ends.entry((m.month, m.program_id)).or_default() +=
                u64::try_from(m.people).unwrap_or(0);
        }
    }

    let times = decision_times(db, within, now).await?;
    let (overdue, escalated) = waiting(db, within, now).await?;
    let pairs = overlap(db, within).await?;

    let figures = programs
        .iter()
        .map(|p| {
            let now_count = today.get(&p.id).copied().unwrap_or(0);
            let mut trend: Vec<Cell> = months[..months.len() - 1]
                .iter()
                .map(|&m| one(ends.get(&(m, p.id)).copied().unwrap_or(0)))
                .collect();
            trend.push(one(now_count));
            let change = match (trend.len().checked_sub(2).map(|i| trend[i]), trend.last()) {
                (Some(Cell::Count(before)), Some(Cell::Count(after))) => {
                    Some(i64::try_from(*after).unwrap_or(0) - i64::try_from(before).unwrap_or(0))
                }
                _ => None,
            };
            let days = times.get(&p.id).map(Vec::as_slice).unwrap_or(&[]);
            let decided = u64::try_from(days.len()).unwrap_or(0);
            let shown = decided >= crate::domain::disclosure::SMALL;
            ProgramFigures {
                code: p.code.clone(),
                name: Localized {
                    es: p.name_es.clone(),
                    en: p.name_en.clone(),
                },
                agency: agencies.get(&p.agency_id).cloned().unwrap_or_default(),
                reached: one(now_count),
                trend,
                change,
                decided: one(decided),
                median_days: shown.then(|| percentile(days, 50)),
                p90_days: shown.then(|| percentile(days, 90)),
                overdue: one(overdue.get(&p.id).copied().unwrap_or(0)),
                escalated: one(escalated.get(&p.id).copied().unwrap_or(0)),
            }
        })
        .collect();
    let overlap = programs
        .iter()
        .map(|a| {
            programs
                .iter()
                .map(|b| {
                    let n = if a.id == b.id {
                        today.get(&a.id).copied().unwrap_or(0)
                    } else {
                        pairs
                            .get(&(a.id.min(b.id), a.id.max(b.id)))
                            .copied()
                            .unwrap_or(0)
                    };
                    one(n)
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
        quality: quality(db, within, now).await?,
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

/// `AND p.borough_id = n` when a borough is chosen.
fn borough_filter(within: Option<i32>) -> String {
    within.map_or_else(String::new, |b| format!(" AND p.borough_id = {b}"))
}

/// Whole days from request to decision, sorted, per program, of requests decided in the
/// window.
async fn decision_times(
    db: &DatabaseConnection,
    within: Option<i32>,
    now: DateTime<Utc>,
) -> Result<HashMap<i32, Vec<i64>>, DbErr> {
    let since = now - chrono::Duration::days(i64::from(WINDOW_DAYS));
    let rows = db
        .query_all_raw(sql(
            db,
            &format!(
                "SELECT e.program_id, e.requested_at, e.decided_at FROM enrollment e \
                 JOIN person p ON p.id = e.person_id \
                 WHERE e.decided_at IS NOT NULL AND e.decided_at >= ?{}",
                borough_filter(within)
            ),
            vec![Value::from(since)],
        ))
        .await?;
    let mut out: HashMap<i32, Vec<i64>> = HashMap::new();
    for row in rows {
        let program: i32 = row.try_get_by_index(0)?;
        let asked: DateTime<Utc> = row.try_get_by_index(1)?;
        let decided: DateTime<Utc> = row.try_get_by_index(2)?;
        out.entry(program)
            .or_default()
            .push((decided - asked).num_days().max(0));
    }
    for days in out.values_mut() {
        days.sort_unstable();
    }
    Ok(out)
}

/// Requests awaiting a decision past their due date, and those escalated, per program.
async fn waiting(
    db: &DatabaseConnection,
    within: Option<i32>,
    now: DateTime<Utc>,
) -> Result<(HashMap<i32, u64>, HashMap<i32, u64>), DbErr> {
    let today = now.with_timezone(&mexico_city()).date_naive();
    let rows = db
        .query_all_raw(sql(
            db,
            &format!(
                "SELECT e.program_id, \
                 SUM(CASE WHEN e.due_on < ? THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN e.escalation_level > 0 THEN 1 ELSE 0 END) \
                 FROM enrollment e JOIN person p ON p.id = e.person_id \
                 WHERE e.status IN ('requested', 'in_review'){} \
                 GROUP BY e.program_id",
                borough_filter(within)
            ),
            vec![Value::from(today)],
        ))
        .await?;
    let (mut overdue, mut escalated) = (HashMap::new(), HashMap::new());
    for row in rows {
        let program: i32 = row.try_get_by_index(0)?;
        overdue.insert(program, sum(&row, 1)?);
        escalated.insert(program, sum(&row, 2)?);
    }
    Ok((overdue, escalated))
}

/// A `SUM`/`COUNT` column of integers (`SUM` over no rows is NULL).
fn sum(row: &sea_orm::QueryResult, index: usize) -> Result<u64, DbErr> {
    let n: Option<i64> = row.try_get_by_index(index)?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// People reached by both programs of each pair (lower id first), from the kept coverage rows.
async fn overlap(
    db: &DatabaseConnection,
    within: Option<i32>,
) -> Result<BTreeMap<(i32, i32), u64>, DbErr> {
    let filter = within.map_or_else(String::new, |b| format!(" WHERE a.borough_id = {b}"));
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT a.program_id, b.program_id, COUNT(*) FROM coverage_member a \
                 JOIN coverage_member b ON b.person_id = a.person_id \
                 AND b.program_id > a.program_id{filter} \
                 GROUP BY a.program_id, b.program_id"
            ),
        ))
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok((
                (row.try_get_by_index(0)?, row.try_get_by_index(1)?),
                u64::try_from(row.try_get_by_index::<i64>(2)?).unwrap_or(0),
            ))
        })
        .collect()
}

/// How complete the registry's data is, among active profiles.
async fn quality(
    db: &DatabaseConnection,
    within: Option<i32>,
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
    let counts = db
        .query_one_raw(sql(
            db,
            &format!(
                "SELECT COUNT(*), \
                 SUM(CASE WHEN p.has_curp THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN p.birth_date <= ? AND {income} THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN p.birth_date <= ? AND p.birth_date > ? \
                     AND {school} THEN 1 ELSE 0 END) \
                 FROM person p WHERE p.status = 'active'{filter}",
                income = missing("monthly_income"),
                school = missing("school_level"),
                filter = borough_filter(within),
            ),
            vec![
                Value::from(years_ago(18)),
                Value::from(years_ago(6)),
                Value::from(years_ago(18)),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("COUNT returned no row".into()))?;
    let registered = sum(&counts, 0)?;
    let with_curp = sum(&counts, 1)?;
    let pending = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*) FROM duplicate_review d JOIN person p ON p.id = d.person_a \
                 WHERE d.status = 'pending'{}",
                borough_filter(within)
            ),
        ))
        .await?
        .map(|row| sum(&row, 0))
        .transpose()?
        .unwrap_or(0);
    // With and without CURP add up to the registered: published as one row with its total.
    let (split, registered) = row(&[with_curp, registered - with_curp]);
    Ok(DataQuality {
        registered,
        with_curp: split[0],
        without_curp: split[1],
        duplicates_pending: one(pending),
        adults_without_income: one(sum(&counts, 2)?),
        minors_without_school: one(sum(&counts, 3)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
