//! The citizen portal: the anonymous eligibility check, and following a request by folio and
//! the beneficiary's birth date.
//!
//! The check reads the catalog and the rules in force and evaluates the visitor's answers with
//! the caseworkers' evaluator; it writes nothing and logs nothing the visitor typed.
//!
//! The answer shows the request's program, agency, dates and status history, never a name or an
//! ID number. An unknown folio and a known folio with another birth date get the same answer,
//! and each counts a failure against the folio (see [`throttle`]): after five, guesses slow
//! down; at twenty the folio is locked for fifteen minutes, whoever asks. Nothing typed is
//! stored (the throttle keeps a hash of the folio) and nothing typed is logged.

use angel_entity::{agency, borough, enrollment, enrollment_event, office, person, program};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::eligibility::RuleVersion;
use super::registry::{to_date, today};
use crate::catalog::dto::Catalog;
use crate::catalog::dto::Localized;
use crate::domain::eligibility::evaluate;
use crate::domain::lifecycle::Status;
use crate::portal::dto::{OfficeInfo, ScreenRow, Screening, TrackedRequest, TrackedStep};
use crate::portal::forms::TrackForm;
use crate::portal::screener::{self, Answers, PER_STEP};
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::throttle;
use crate::ssr::{AppState, ServiceError};

/// The answer to a follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followed {
    Found(Box<TrackedRequest>),
    /// No request with that folio and birth date (the same whichever part was wrong).
    Unknown,
    /// Too many wrong guesses for this folio: wait this long.
    Throttled(chrono::TimeDelta),
}

/// The request of this folio if the birth date is its beneficiary's, counting the guess
/// against the folio either way (see [`throttle`]).
async fn lookup(
    state: &AppState,
    form: &TrackForm,
) -> Result<Result<enrollment::Model, Followed>, ServiceError> {
    let db = &state.db;
    let now = state.clock.now();
    let (folio, birth) = form.validate(today(now)).map_err(ServiceError::Invalid)?;
    let key = throttle::folio_key(&folio);
    if let Err(wait) = throttle::gate(db, &key, now).await? {
        return Ok(Err(Followed::Throttled(wait)));
    }
    let found = enrollment::Entity::find()
        .filter(enrollment::Column::Folio.eq(folio.as_str()))
        .one(db)
        .await?;
    let beneficiary = match &found {
        Some(e) => person::Entity::find_by_id(e.person_id).one(db).await?,
        None => None,
    };
    match (found, beneficiary) {
        (Some(e), Some(p)) if to_date(p.birth_date) == birth => {
            throttle::clear(db, &key).await?;
            Ok(Ok(e))
        }
        _ => {
            throttle::fail(db, &key, now).await?;
            Ok(Err(Followed::Unknown))
        }
    }
}

/// Looks a request up by folio and birth date. A successful look-up is audited
/// (`enrollment.followed`, no actor: the person or someone holding their folio and birth date).
///
/// # Errors
/// `Invalid` with field errors (nothing looked up); database errors.
pub async fn follow(
    state: &AppState,
    form: &TrackForm,
    request_id: Option<&str>,
) -> Result<Followed, ServiceError> {
    let request = match lookup(state, form).await? {
        Ok(request) => request,
        Err(answer) => return Ok(answer),
    };
    let now = state.clock.now();
    let mut tracked = describe(&state.db, request, today(now)).await?;
    if tracked.1.can_rate {
        tracked.1.rating_pass = Some(rating_pass(state, tracked.0, now));
    }
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("enrollment.followed", now)
            .subject("enrollment", tracked.0)
            .request(request_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Followed::Found(Box::new(tracked.1)))
}

/// How long the rating form of a followed request stays valid.
pub const RATING_PASS_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(2);

fn pass_mac(state: &AppState, enrollment_id: i32, expires: i64) -> String {
    hex::encode(
        state
            .vault
            .blind_index("rating-pass", &format!("{enrollment_id}\n{expires}")),
    )
}

/// The pass a follow-up gives to rate the request it found: its id, an expiry and a MAC under
/// the vault's keyed hash, so that the rating form carries neither the birth date nor anything
/// a visitor could forge for another request.
fn rating_pass(state: &AppState, enrollment_id: i32, now: chrono::DateTime<chrono::Utc>) -> String {
    let expires = (now + RATING_PASS_FOR).timestamp();
    format!(
        "{enrollment_id}.{expires}.{}",
        pass_mac(state, enrollment_id, expires)
    )
}

/// The request a pass was given for, while it is valid.
fn check_pass(state: &AppState, pass: &str, now: chrono::DateTime<chrono::Utc>) -> Option<i32> {
    let mut parts = pass.trim().splitn(3, '.');
    let id: i32 = parts.next()?.parse().ok()?;
    let expires: i64 = parts.next()?.parse().ok()?;
    let mac = parts.next()?;
    let expected = pass_mac(state, id, expires);
    let same = mac.len() == expected.len()
        && mac
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    (same && now.timestamp() < expires).then_some(id)
}

/// Rates a request at the public follow-up, with the pass the follow-up gave. A pass that does
/// not check out or ran out gets the neutral "unknown" answer (follow the request again).
///
/// # Errors
/// `Invalid` (`not_decided`, `already_rated`); database errors.
pub async fn rate_by_pass(
    state: &AppState,
    pass: &str,
    rating: &crate::citizen::forms::Rating,
    request_id: Option<&str>,
) -> Result<Followed, ServiceError> {
    let now = state.clock.now();
    let Some(id) = check_pass(state, pass, now) else {
        return Ok(Followed::Unknown);
    };
    let Some(request) = enrollment::Entity::find_by_id(id).one(&state.db).await? else {
        return Ok(Followed::Unknown);
    };
    super::citizen::rate(state, &request, rating, ("folio", None), request_id).await?;
    let tracked = describe(&state.db, request, today(now)).await?;
    Ok(Followed::Found(Box::new(tracked.1)))
}

/// The request of a valid pass as the follow-up shows it, with a fresh pass (a rating that was
/// refused is shown again with its errors).
///
/// # Errors
/// Database errors.
pub async fn followed_by_pass(state: &AppState, pass: &str) -> Result<Followed, ServiceError> {
    let now = state.clock.now();
    let Some(id) = check_pass(state, pass, now) else {
        return Ok(Followed::Unknown);
    };
    let Some(request) = enrollment::Entity::find_by_id(id).one(&state.db).await? else {
        return Ok(Followed::Unknown);
    };
    let mut tracked = describe(&state.db, request, today(now)).await?.1;
    if tracked.can_rate {
        tracked.rating_pass = Some(rating_pass(state, id, now));
    }
    Ok(Followed::Found(Box::new(tracked)))
}

/// The public view of a request (its id for the audit, and what the page shows).
async fn describe(
    db: &impl ConnectionTrait,
    request: enrollment::Model,
    day: crate::domain::curp::Date,
) -> Result<(i32, TrackedRequest), ServiceError> {
    let program = program::Entity::find_by_id(request.program_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let runs = agency::Entity::find_by_id(program.agency_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let steps = enrollment_event::Entity::find()
        .filter(enrollment_event::Column::EnrollmentId.eq(request.id))
        .order_by_asc(enrollment_event::Column::At)
        .order_by_asc(enrollment_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|ev| TrackedStep {
            on: to_date(ev.at.date_naive()),
            status: ev.to_status,
            reason: ev.reason,
        })
        .collect();
    let awaiting = Status::from_code(&request.status).is_some_and(Status::awaits_decision);
    let due_on = to_date(request.due_on);
    let rating = super::citizen::rating_of(db, request.id).await?;
    let can_rate = rating.is_none() && super::citizen::decided(&request.status);
    Ok((
        request.id,
        TrackedRequest {
            folio: request.folio,
            program_code: program.code,
            program: Localized {
                es: program.name_es,
                en: program.name_en,
            },
            agency: Localized {
                es: runs.name_es,
                en: runs.name_en,
            },
            status: request.status,
            requested_on: to_date(request.requested_at.date_naive()),
            due_on,
            overdue: awaiting && due_on < day,
            supervised: awaiting && request.escalation_level > 0,
            can_rate,
            rating,
            rating_pass: None,
            steps,
        },
    ))
}

/// What the anonymous check reads, loaded once and shared: the catalog of life events, the
/// programs by code, every rule version (the one in force is chosen per answer, by date), the
/// boroughs and their neighbourhood offices.
#[derive(Debug)]
pub struct Reference {
    catalog: Catalog,
    programs: HashMap<String, program::Model>,
    versions: Vec<RuleVersion>,
    boroughs: Vec<(String, String)>,
    offices: HashMap<String, Vec<OfficeInfo>>,
}

impl Reference {
    async fn load(db: &impl ConnectionTrait) -> Result<Reference, ServiceError> {
        let catalog = super::catalog::load(db).await?;
        let programs = program::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.code.clone(), p))
            .collect();
        let versions = super::eligibility::versions(db).await?;
        let boroughs = borough::Entity::find()
            .order_by_asc(borough::Column::Name)
            .all(db)
            .await?;
        let mut offices: HashMap<String, Vec<OfficeInfo>> = HashMap::new();
        for o in office::Entity::find()
            .filter(office::Column::Kind.eq("modulo"))
            .order_by_asc(office::Column::Name)
            .all(db)
            .await?
        {
            if let Some(b) = boroughs.iter().find(|b| Some(b.id) == o.borough_id) {
                offices
                    .entry(b.inegi_code.clone())
                    .or_default()
                    .push(OfficeInfo {
                        name: o.name,
                        address: o.address,
                        hours: o.hours,
                    });
            }
        }
        Ok(Reference {
            catalog,
            programs,
            versions,
            boroughs: boroughs
                .into_iter()
                .map(|b| (b.inegi_code, b.name))
                .collect(),
            offices,
        })
    }
}

/// The anonymous check's [`Reference`] in memory (PERFORMANCE.md P8: rules in memory, no
/// query per answer). Read again after [`PortalCache::TTL`], at once after a rule is published
/// in this process (`invalidate`); another server process over the same database sees an
/// edit within the TTL. A load that started before an invalidation is not kept.
#[derive(Clone, Default)]
pub struct PortalCache(Arc<RwLock<Slot>>);

#[derive(Default)]
struct Slot {
    /// Bumped by every invalidation.
    generation: u64,
    kept: Option<(Instant, Arc<Reference>)>,
}

impl std::fmt::Debug for PortalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PortalCache")
    }
}

impl PortalCache {
    /// How long a loaded reference is used before it is read again.
    pub const TTL: Duration = Duration::from_secs(30);

    /// Forgets the kept reference: the next answer reads the database.
    pub fn invalidate(&self) {
        let mut slot = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.generation += 1;
        slot.kept = None;
    }

    /// The kept reference while fresh, else the generation a new load must match to be kept.
    fn fresh(&self) -> Result<Arc<Reference>, u64> {
        let slot = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &slot.kept {
            Some((at, r)) if at.elapsed() < Self::TTL => Ok(Arc::clone(r)),
            _ => Err(slot.generation),
        }
    }

    fn keep(&self, generation: u64, r: &Arc<Reference>) {
        let mut slot = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.generation == generation {
            slot.kept = Some((Instant::now(), Arc::clone(r)));
        }
    }
}

/// The reference the anonymous check uses now (read from the database when not fresh).
async fn reference(state: &AppState) -> Result<Arc<Reference>, ServiceError> {
    match state.portal.fresh() {
        Ok(r) => Ok(r),
        Err(generation) => {
            let r = Arc::new(Reference::load(&state.db).await?);
            state.portal.keep(generation, &r);
            Ok(r)
        }
    }
}

/// One step of the anonymous check for `answers` (the chosen life event and what was answered
/// so far): every program of the event for the kind of beneficiary asked about, evaluated
/// under the rule in force today, and the next questions. Bad answers come back as field errors
/// and their questions are asked again.
///
/// # Errors
/// `NotFound` for an unknown life event; database errors.
pub async fn screen(
    state: &AppState,
    answers: &Answers,
) -> Result<(Screening, Vec<crate::error::FieldError>), ServiceError> {
    let reference = reference(state).await?;
    screen_in(state, &reference, answers)
}

/// [`screen`] over the reference in memory: no query.
fn screen_in(
    state: &AppState,
    reference: &Reference,
    answers: &Answers,
) -> Result<(Screening, Vec<crate::error::FieldError>), ServiceError> {
    let day = today(state.clock.now());
    let event = reference
        .catalog
        .events
        .iter()
        .find(|e| e.code == answers.event)
        .ok_or(ServiceError::NotFound)?;
    let programs = &reference.programs;
    let is_child = |code: &str| programs.get(code).is_some_and(|p| p.beneficiary == "child");
    // An event whose programs are all for children is answered about a child.
    let mut answers = answers.clone();
    if !event.programs.is_empty() && event.programs.iter().all(|p| is_child(&p.code)) {
        answers.for_child = true;
    }
    let (facts, errors) = screener::facts(&answers, day);
    // A refused answer is asked again.
    for e in &errors {
        answers.values.remove(&e.field);
    }
    let in_force = super::eligibility::current(&reference.versions, day);
    let mut rows = Vec::new();
    let mut others = Vec::new();
    for card in &event.programs {
        let Some(p) = programs.get(&card.code) else {
            continue;
        };
        if is_child(&card.code) != answers.for_child {
            others.push((card.code.clone(), card.name.clone()));
            continue;
        }
        let Some(version) = in_force.get(&p.id) else {
            continue;
        };
        rows.push(ScreenRow {
            code: card.code.clone(),
            name: card.name.clone(),
            agency: card.agency_name.clone(),
            benefit: card.benefit.clone(),
            verified: card.verified,
            evaluation: evaluate(&version.rule, &facts, day),
            documents: screener::documents(&version.rule).into_iter().collect(),
            rule: version.rule.clone(),
        });
    }
    let open = screener::pending(
        rows.iter()
            .flat_map(|r| r.evaluation.questions.iter().copied()),
        &answers,
    );
    let offices = facts
        .borough
        .as_ref()
        .and_then(|code| reference.offices.get(code))
        .cloned()
        .unwrap_or_default();
    Ok((
        Screening {
            event: event.code.clone(),
            label: event.label.clone(),
            today: day,
            for_child: answers.for_child,
            rows,
            others,
            questions: open.iter().copied().take(PER_STEP).collect(),
            later: open.len().saturating_sub(PER_STEP),
            answers,
            facts,
            offices,
            boroughs: reference.boroughs.clone(),
        },
        errors,
    ))
}

/// The life events for `/revisa`, and the first step of `event` when one is chosen.
///
/// # Errors
/// `NotFound` for an unknown life event; database errors.
pub async fn start(
    state: &AppState,
    event: &str,
    for_child: bool,
) -> Result<crate::portal::dto::ScreenStart, ServiceError> {
    let reference = reference(state).await?;
    let events = reference
        .catalog
        .events
        .iter()
        .filter(|e| !e.programs.is_empty())
        .map(|e| (e.code.clone(), e.label.clone()))
        .collect();
    let screening = if event.is_empty() {
        None
    } else {
        let answers = Answers {
            event: crate::eligibility::forms::event_code(event).ok_or(ServiceError::NotFound)?,
            for_child,
            ..Answers::default()
        };
        Some(screen_in(state, &reference, &answers)?.0)
    };
    Ok(crate::portal::dto::ScreenStart { events, screening })
}
