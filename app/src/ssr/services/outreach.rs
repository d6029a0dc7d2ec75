//! Proactive outreach for a neighbourhood office: people of the office's borough whom a program
//! should reach soon and who are not in it yet — Red Ángel's promise that the city comes to you
//! when your life changes, not only when you come to the office.
//!
//! - older adults turning 68 in the next 30 days without an open PAAM enrollment;
//! - children turning 6 in the next 30 days without an open UTILES enrollment;
//! - children of school age (3 to 18) whose parent or guardian is recorded deceased, without an
//!   open EDUGAR enrollment.
//!
//! The list names people, so showing it is audited with the ids shown.

use std::collections::{BTreeSet, HashMap};

use angel_entity::{enrollment, office, person, person_relationship, program};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::eligibility::OPEN;
use super::registry::{to_date, to_naive, today};
use crate::domain::calendar::add_days;
use crate::domain::curp::Date;
use crate::eligibility::dto::{Outreach, OutreachGroup, OutreachPerson};
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::{AppState, ServiceError};

/// How far ahead a birthday is looked for.
pub const WINDOW_DAYS: i64 = 30;
/// At most this many people are listed per group (the count is always whole).
pub const LIST_LIMIT: usize = 200;

/// The same day `years` earlier (28 February for a 29 February in a common year).
fn years_before(d: Date, years: i32) -> Date {
    Date::new(d.year - years, d.month, d.day)
        .or_else(|| Date::new(d.year - years, d.month, d.day - 1))
        .unwrap_or(d)
}

/// Active people of the borough whose `age`th birthday falls in `[from, to]`.
async fn turning(
    db: &impl ConnectionTrait,
    borough: i32,
    age: u32,
    from: Date,
    to: Date,
) -> Result<Vec<(person::Model, Date)>, ServiceError> {
    // A day of slack on each side for leap days; the exact test is done on each birth date.
    let lo = add_days(years_before(from, age as i32), -1);
    let hi = add_days(years_before(to, age as i32), 1);
    let the_day_before = add_days(from, -1);
    Ok(person::Entity::find()
        .filter(person::Column::Status.eq("active"))
        .filter(person::Column::BoroughId.eq(borough))
        .filter(person::Column::BirthDate.between(to_naive(lo), to_naive(hi)))
        .order_by_asc(person::Column::BirthDate)
        .order_by_asc(person::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| {
            let birth = to_date(p.birth_date);
            let turns = birth.years_until(to).is_some_and(|a| a >= age)
                && birth.years_until(the_day_before).is_none_or(|a| a < age);
            turns.then(|| (p, birthday(birth, age)))
        })
        .collect())
}

/// The date of the `age`th birthday (28 February for 29 February births in common years).
fn birthday(birth: Date, age: u32) -> Date {
    years_before(birth, -(age as i32))
}

/// People (among `ids`) with an open enrollment in the program `code`.
async fn enrolled(
    db: &impl ConnectionTrait,
    code: &str,
    ids: &[i32],
) -> Result<BTreeSet<i32>, ServiceError> {
    let Some(p) = program::Entity::find()
        .filter(program::Column::Code.eq(code))
        .one(db)
        .await?
    else {
        return Ok(BTreeSet::new());
    };
    Ok(enrollment::Entity::find()
        .filter(enrollment::Column::ProgramId.eq(p.id))
        .filter(enrollment::Column::Status.is_in(OPEN))
        .filter(enrollment::Column::PersonId.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.person_id)
        .collect())
}

fn shown(p: &person::Model, on: Option<Date>) -> OutreachPerson {
    OutreachPerson {
        id: p.id,
        name: format!("{} {}", p.given_names, p.first_surname),
        birth_date: to_date(p.birth_date),
        on,
    }
}

async fn group(
    db: &impl ConnectionTrait,
    kind: &str,
    program: &str,
    event: &str,
    people: Vec<(person::Model, Option<Date>)>,
) -> Result<OutreachGroup, ServiceError> {
    let ids: Vec<i32> = people.iter().map(|(p, _)| p.id).collect();
    let inside = enrolled(db, program, &ids).await?;
    let missing: Vec<OutreachPerson> = people
        .iter()
        .filter(|(p, _)| !inside.contains(&p.id))
        .map(|(p, on)| shown(p, *on))
        .collect();
    Ok(OutreachGroup {
        kind: kind.to_owned(),
        program: program.to_owned(),
        event: event.to_owned(),
        total: missing.len(),
        people: missing.into_iter().take(LIST_LIMIT).collect(),
    })
}

/// The outreach lists of the actor's office (its borough).
///
/// # Errors
/// `NotFound` when the actor has no office or the office no borough; database errors.
pub async fn outreach(
    state: &AppState,
    actor: &SignedIn,
    request_id: Option<&str>,
) -> Result<Outreach, ServiceError> {
    let db = &state.db;
    let now = state.clock.now();
    let day = today(now);
    let until = add_days(day, WINDOW_DAYS);
    let office_id = actor.actor.office_id.ok_or(ServiceError::NotFound)?;
    let office = office::Entity::find_by_id(office_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let borough_id = office.borough_id.ok_or(ServiceError::NotFound)?;
    let borough = angel_entity::borough::Entity::find_by_id(borough_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;

    let older = turning(db, borough_id, 68, day, until).await?;
    let older = older.into_iter().map(|(p, on)| (p, Some(on))).collect();
    let six = turning(db, borough_id, 6, day, until).await?;
    let six = six.into_iter().map(|(p, on)| (p, Some(on))).collect();

    // Children and wards of providers recorded deceased.
    let deceased: Vec<i32> = person::Entity::find()
        .filter(person::Column::Status.eq("deceased"))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let links = person_relationship::Entity::find()
        .filter(person_relationship::Column::Kind.is_in(["parent", "guardian"]))
        .filter(person_relationship::Column::PersonId.is_in(deceased))
        .all(db)
        .await?;
    let children: HashMap<i32, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(links.iter().map(|l| l.relative_id)))
        .filter(person::Column::Status.eq("active"))
        .filter(person::Column::BoroughId.eq(borough_id))
        .order_by_asc(person::Column::BirthDate)
        .all(db)
        .await?
        .into_iter()
        .filter(|c| {
            to_date(c.birth_date)
                .years_until(day)
                .is_some_and(|a| (3..19).contains(&a))
        })
        .map(|c| (c.id, c))
        .collect();
    let mut orphans: Vec<(person::Model, Option<Date>)> =
        children.into_values().map(|c| (c, None)).collect();
    orphans.sort_by_key(|(c, _)| (c.birth_date, c.id));

    let groups = vec![
        group(db, "turning_68", "PAAM", "CUMPLI_68", older).await?,
        group(db, "turning_6", "UTILES", "ESCUELA", six).await?,
        group(db, "provider_lost", "EDUGAR", "ORFANDAD", orphans).await?,
    ];
    let ids: Vec<i32> = groups
        .iter()
        .flat_map(|g| g.people.iter().map(|p| p.id))
        .collect();
    let tx = state.audit.begin(db).await?;
    tx.record(
        NewEvent::new("person.outreach_listed", now)
            .by(&actor.actor)
            .subject("office", office_id)
            .request(request_id)
            .purpose("outreach")
            .detail(serde_json::json!({ "ids": ids })),
    )
    .await?;
    tx.commit().await?;
    Ok(Outreach {
        borough: borough.name,
        today: day,
        until,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birthdays_of_leap_day_births_fall_on_28_february() {
        let leap = Date::new(1960, 2, 29).unwrap();
        assert_eq!(birthday(leap, 68), Date::new(2028, 2, 29).unwrap());
        assert_eq!(birthday(leap, 67), Date::new(2027, 2, 28).unwrap());
        assert_eq!(
            years_before(Date::new(2027, 2, 28).unwrap(), 67),
            Date::new(1960, 2, 28).unwrap()
        );
    }
}
