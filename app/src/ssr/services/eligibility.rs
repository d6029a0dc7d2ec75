//! Eligibility: rule versions, the facts the evaluator needs (read in a few batched queries),
//! the life-event bundle, and requesting several programs in one transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use angel_entity::{
    enrollment, enrollment_event, holiday, household_member, life_event, life_event_program,
    office, person, person_fact, person_relationship, program, program_incompatible, program_rule,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

use super::profile::{active_person as applicant, record_fact};
use super::registry::{field, to_date, to_naive, today};
use crate::catalog::dto::Localized;
use crate::domain::access::{Actor, Permission};
use crate::domain::calendar::add_business_days;
use crate::domain::curp::Date;
use crate::domain::eligibility::{Facts, Rule, TestCase, Verdict, evaluate, run_cases};
use crate::domain::facts::FactKind;
use crate::domain::folio;
use crate::domain::lifecycle::{Reason, Status};
use crate::eligibility::dto::{Block, Bundle, BundleRow, LifeEventChoice, Receipt, ReceiptLine};
use crate::eligibility::forms::{AnswerForm, RequestForm};
use crate::registry::facts::ValidFact;
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::{AppState, ServiceError};

/// Codes of the statuses of an enrollment that is still open (one per person and program), from
/// the status machine.
pub const OPEN: [&str; 5] = {
    let mut codes = [""; 5];
    let mut i = 0;
    while i < codes.len() {
        codes[i] = Status::OPEN[i].code();
        i += 1;
    }
    codes
};

/// A rule version as stored, parsed.
#[derive(Debug, Clone)]
pub struct RuleVersion {
    pub id: i32,
    pub program_id: i32,
    pub version: i32,
    pub effective_from: Date,
    /// `draft` or `published`.
    pub status: String,
    pub rule: Rule,
    pub tests: Vec<TestCase>,
    pub note: String,
}

/// Every program's code by id.
///
/// # Errors
/// Database errors.
pub async fn program_codes(
    db: &impl ConnectionTrait,
) -> Result<HashMap<i32, String>, ServiceError> {
    Ok(program::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.code))
        .collect())
}

/// A stored rule version, parsed.
///
/// # Errors
/// `Internal` when its rule or test cases do not parse.
pub(crate) fn parse_version(m: program_rule::Model) -> Result<RuleVersion, ServiceError> {
    let unreadable = |e: serde_json::Error| {
        tracing::error!(rule = m.id, error = %e, "a stored rule version does not parse");
        ServiceError::Internal("a stored rule version does not parse")
    };
    let rule = serde_json::from_str(&m.rules).map_err(unreadable)?;
    let tests = serde_json::from_str(&m.tests).map_err(unreadable)?;
    Ok(RuleVersion {
        id: m.id,
        program_id: m.program_id,
        version: m.version,
        effective_from: to_date(m.effective_from),
        status: m.status,
        rule,
        tests,
        note: m.note,
    })
}

/// Every rule version, by program and version.
///
/// # Errors
/// Database errors; `Internal` when a stored rule does not parse.
pub async fn versions(db: &impl ConnectionTrait) -> Result<Vec<RuleVersion>, ServiceError> {
    program_rule::Entity::find()
        .order_by_asc(program_rule::Column::ProgramId)
        .order_by_asc(program_rule::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(parse_version)
        .collect()
}

/// The version in force on `today` for each program: published, effective on or before today,
/// the latest effective date (then the highest version) winning.
pub fn current(versions: &[RuleVersion], today: Date) -> HashMap<i32, &RuleVersion> {
    let mut out: HashMap<i32, &RuleVersion> = HashMap::new();
    for v in versions
        .iter()
        .filter(|v| v.status == "published" && v.effective_from <= today)
    {
        let better = out
            .get(&v.program_id)
            .is_none_or(|c| (v.effective_from, v.version) > (c.effective_from, c.version));
        if better {
            out.insert(v.program_id, v);
        }
    }
    out
}

/// One line of `angel rules test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestLine {
    pub program: String,
    pub version: i32,
    /// `current`, `pending` (published, effective later) or `draft`.
    pub standing: &'static str,
    pub passed: usize,
    /// Names of the failing cases.
    pub failed: Vec<String>,
}

/// Runs the test cases of every program's current and pending versions (superseded published
/// versions are history and are not run).
///
/// # Errors
/// Database errors; `Internal` when a stored rule does not parse.
pub async fn test_all(
    db: &impl ConnectionTrait,
    today: Date,
) -> Result<Vec<TestLine>, ServiceError> {
    let all = versions(db).await?;
    let codes = program_codes(db).await?;
    let now = current(&all, today);
    let mut lines = Vec::new();
    for v in &all {
        let standing = if now.get(&v.program_id).is_some_and(|c| c.id == v.id) {
            "current"
        } else if v.status == "draft" {
            "draft"
        } else if v.effective_from > today {
            "pending"
        } else {
            continue;
        };
        let results = run_cases(&v.rule, &v.tests);
        let failed: Vec<String> = results
            .iter()
            .filter(|(_, expected, got)| expected != got)
            .map(|(name, expected, got)| {
                format!("{name} (expected {}, got {})", expected.code(), got.code())
            })
            .collect();
        lines.push(TestLine {
            program: codes.get(&v.program_id).cloned().unwrap_or_default(),
            version: v.version,
            standing,
            passed: results.len() - failed.len(),
            failed,
        });
    }
    lines.sort_by(|a, b| (&a.program, a.version).cmp(&(&b.program, b.version)));
    Ok(lines)
}

/// Active profiles read per batch when every one of them is evaluated (one [`facts_for`] call
/// per batch).
pub const BATCH: u64 = 2_000;

/// Calls `each` with the facts on `day` of every active profile, read in batches of [`BATCH`]
/// in id order; returns how many were read. What the rule editor's impact preview and the gap
/// job go through.
///
/// # Errors
/// Database errors.
pub async fn each_active(
    db: &impl ConnectionTrait,
    day: Date,
    mut each: impl FnMut(&Facts),
) -> Result<u64, ServiceError> {
    let mut read = 0;
    let mut after = 0;
    loop {
        let ids: Vec<i32> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .filter(person::Column::Status.eq("active"))
            .filter(person::Column::Id.gt(after))
            .order_by_asc(person::Column::Id)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = ids.last() else {
            return Ok(read);
        };
        after = *last;
        let facts = facts_for(db, &ids, day).await?;
        for f in facts.values() {
            read += 1;
            each(f);
        }
    }
}

/// What the evaluator knows about each of `ids` on `today`, in a fixed number of queries.
///
/// Household income is the sum of the members' current monthly incomes; a member under 15 (the
/// minimum working age) without a recorded income counts as earning nothing, anyone else without
/// one makes the household's income unknown.
///
/// # Errors
/// Database errors.
pub async fn facts_for(
    db: &impl ConnectionTrait,
    ids: &[i32],
    today: Date,
) -> Result<HashMap<i32, Facts>, ServiceError> {
    let people = person::Entity::find()
        .filter(person::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let boroughs: HashMap<i32, String> = angel_entity::borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.inegi_code))
        .collect();

    // Households: every member of the households of these people, for income per person.
    let memberships = household_member::Entity::find()
        .filter(household_member::Column::PersonId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let household_ids: BTreeSet<i32> = memberships.iter().map(|m| m.household_id).collect();
    let members = household_member::Entity::find()
        .filter(household_member::Column::HouseholdId.is_in(household_ids.iter().copied()))
        .all(db)
        .await?;

    // Relationships: children and wards (for single parents), providers (for orphans).
    let links = person_relationship::Entity::find()
        .filter(person_relationship::Column::Kind.is_in(["parent", "guardian"]))
        .filter(
            sea_orm::Condition::any()
                .add(person_relationship::Column::PersonId.is_in(ids.iter().copied()))
                .add(person_relationship::Column::RelativeId.is_in(ids.iter().copied())),
        )
        .all(db)
        .await?;

    let mut everyone: BTreeSet<i32> = ids.iter().copied().collect();
    everyone.extend(members.iter().map(|m| m.person_id));
    everyone.extend(links.iter().flat_map(|l| [l.person_id, l.relative_id]));
    let relatives: HashMap<i32, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(everyone.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    // The newest fact of each kind (ties: the later recorded) for everyone involved.
    let mut current_facts: HashMap<i32, HashMap<String, String>> = HashMap::new();
    for f in person_fact::Entity::find()
        .filter(person_fact::Column::PersonId.is_in(everyone.iter().copied()))
        .order_by_desc(person_fact::Column::AsOf)
        .order_by_desc(person_fact::Column::Id)
        .all(db)
        .await?
    {
        current_facts
            .entry(f.person_id)
            .or_default()
            .entry(f.kind)
            .or_insert(f.value);
    }
    let open = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.is_in(ids.iter().copied()))
        .filter(enrollment::Column::Status.is_in(OPEN))
        .all(db)
        .await?;
    let codes = program_codes(db).await?;

    let fact_of = |id: i32, kind: &str| current_facts.get(&id).and_then(|f| f.get(kind));
    // Indexes over the rows read, so that assembling is linear in the batch (the impact preview
    // runs this over the whole registry).
    let mut household_of: HashMap<i32, i32> = HashMap::new();
    for m in &memberships {
        household_of.entry(m.person_id).or_insert(m.household_id);
    }
    let mut households: HashMap<i32, Vec<i32>> = HashMap::new();
    for m in &members {
        households
            .entry(m.household_id)
            .or_default()
            .push(m.person_id);
    }
    let mut children_of: HashMap<i32, Vec<i32>> = HashMap::new();
    let mut providers_of: HashMap<i32, Vec<i32>> = HashMap::new();
    for l in &links {
        children_of
            .entry(l.person_id)
            .or_default()
            .push(l.relative_id);
        providers_of
            .entry(l.relative_id)
            .or_default()
            .push(l.person_id);
    }
    let mut open_of: HashMap<i32, Vec<i32>> = HashMap::new();
    for e in &open {
        open_of.entry(e.person_id).or_default().push(e.program_id);
    }
    let none: Vec<i32> = Vec::new();
    let mut out = HashMap::new();
    for p in &people {
        let mut facts = Facts {
            birth_date: Some(to_date(p.birth_date)),
            sex: Some(p.sex.clone()),
            borough: boroughs.get(&p.borough_id).cloned(),
            resident: Some(true),
            residence_since: p.residence_since.map(to_date),
            has_curp: Some(p.has_curp),
            ..Facts::default()
        };
        if let Some(values) = current_facts.get(&p.id) {
            for (kind, value) in values {
                if let Some(kind) = FactKind::from_code(kind) {
                    facts.values.insert(kind, value.clone());
                }
            }
        }
        if let Some(household) = household_of.get(&p.id).and_then(|h| households.get(h)) {
            facts.household_size = Some(household.len() as u32);
            facts.household_income = household
                .iter()
                .map(|id| {
                    fact_of(*id, "monthly_income")
                        .and_then(|v| v.parse::<u32>().ok())
                        .or_else(|| {
                            let age = relatives
                                .get(id)
                                .and_then(|m| to_date(m.birth_date).years_until(today));
                            age.filter(|a| *a < 15).map(|_| 0)
                        })
                })
                .sum::<Option<u32>>();
        }
        let children: Vec<Date> = children_of
            .get(&p.id)
            .unwrap_or(&none)
            .iter()
            .filter_map(|id| relatives.get(id))
            .filter(|c| c.status != "merged")
            .map(|c| to_date(c.birth_date))
            .collect();
        if !children.is_empty() {
            facts.children = Some(children);
        }
        facts.provider_recorded_lost = providers_of
            .get(&p.id)
            .unwrap_or(&none)
            .iter()
            .filter_map(|id| relatives.get(id))
            .any(|provider| {
                provider.status == "deceased"
                    || fact_of(provider.id, "disability").is_some_and(|v| v == "yes")
            });
        facts.enrolled = open_of
            .get(&p.id)
            .unwrap_or(&none)
            .iter()
            .filter_map(|id| codes.get(id).cloned())
            .collect();
        out.insert(p.id, facts);
    }
    Ok(out)
}

/// A bundle with what requesting from it needs: per row, the rule version id and the life event
/// that brought the program; and the incompatible pairs.
struct Built {
    bundle: Bundle,
    sources: Vec<(i32, i32)>,
    incompatible: Vec<program_incompatible::Model>,
}

/// Builds the bundle: the programs of the chosen life events, each evaluated for its
/// beneficiaries under the current rule, with what blocks a request.
async fn build(
    db: &impl ConnectionTrait,
    person_id: i32,
    events: &[String],
    today: Date,
) -> Result<Built, ServiceError> {
    let p = applicant(db, person_id).await?;
    let all_events = life_event::Entity::find()
        .order_by_asc(life_event::Column::Position)
        .all(db)
        .await?;
    let chosen: Vec<&life_event::Model> = all_events
        .iter()
        .filter(|e| events.contains(&e.code))
        .collect();
    let links = life_event_program::Entity::find()
        .filter(life_event_program::Column::LifeEventId.is_in(chosen.iter().map(|e| e.id)))
        .order_by_asc(life_event_program::Column::Position)
        .all(db)
        .await?;
    // Programs in the order of the chosen events, then of their links; each once, with the
    // first life event that brought it.
    let mut program_ids: Vec<(i32, i32)> = Vec::new();
    for e in &chosen {
        for l in links.iter().filter(|l| l.life_event_id == e.id) {
            if !program_ids.iter().any(|(p, _)| *p == l.program_id) {
                program_ids.push((l.program_id, e.id));
            }
        }
    }
    let programs: HashMap<i32, program::Model> = program::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let agencies: HashMap<i32, String> = angel_entity::agency::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    // Children and wards, for programs whose beneficiary is a child.
    let child_ids: Vec<i32> = person_relationship::Entity::find()
        .filter(person_relationship::Column::PersonId.eq(person_id))
        .filter(person_relationship::Column::Kind.is_in(["parent", "guardian"]))
        .order_by_asc(person_relationship::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|l| l.relative_id)
        .collect();
    let children: Vec<person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(child_ids.iter().copied()))
        .filter(person::Column::Status.eq("active"))
        .order_by_asc(person::Column::BirthDate)
        .all(db)
        .await?;
    let mut beneficiaries: Vec<i32> = vec![person_id];
    beneficiaries.extend(children.iter().map(|c| c.id));
    let facts = facts_for(db, &beneficiaries, today).await?;
    let all_versions = versions(db).await?;
    let rules = current(&all_versions, today);
    let open = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.is_in(beneficiaries.iter().copied()))
        .filter(enrollment::Column::Status.is_in(OPEN))
        .all(db)
        .await?;
    let incompatible = program_incompatible::Entity::find().all(db).await?;

    let mut rows = Vec::new();
    let mut sources = Vec::new();
    for (program_id, event_id) in &program_ids {
        let Some(program) = programs.get(program_id) else {
            continue;
        };
        let Some(version) = rules.get(program_id) else {
            continue;
        };
        let targets: Vec<(i32, String, bool)> =
            if program.beneficiary == "child" && !children.is_empty() {
                children
                    .iter()
                    .map(|c| (c.id, c.given_names.clone(), false))
                    .collect()
            } else {
                vec![(person_id, p.given_names.clone(), true)]
            };
        for (beneficiary_id, name, for_applicant) in targets {
            let f = facts.get(&beneficiary_id).cloned().unwrap_or_default();
            let block = open
                .iter()
                .find(|e| e.person_id == beneficiary_id && e.program_id == *program_id)
                .map(|e| Block::AlreadyOpen {
                    folio: e.folio.clone(),
                    status: e.status.clone(),
                })
                .or_else(|| {
                    open.iter()
                        .filter(|e| e.person_id == beneficiary_id)
                        .find(|e| excludes(&incompatible, e.program_id, *program_id))
                        .map(|e| Block::Incompatible {
                            with: programs
                                .get(&e.program_id)
                                .map(|p| p.code.clone())
                                .unwrap_or_default(),
                        })
                });
            rows.push(BundleRow {
                program_id: *program_id,
                code: program.code.clone(),
                name: Localized {
                    es: program.name_es.clone(),
                    en: program.name_en.clone(),
                },
                agency: agencies
                    .get(&program.agency_id)
                    .cloned()
                    .unwrap_or_default(),
                verified: program.verified,
                sla_days: program.sla_days,
                beneficiary_id,
                beneficiary_name: name,
                for_applicant,
                rule_version: version.version,
                evaluation: evaluate(&version.rule, &f, today),
                rule: version.rule.clone(),
                block,
            });
            sources.push((version.id, *event_id));
        }
    }
    let bundle = Bundle {
        person_id,
        person_name: p.given_names.clone(),
        today,
        events: all_events
            .iter()
            .map(|e| LifeEventChoice {
                code: e.code.clone(),
                label: Localized {
                    es: e.label_es.clone(),
                    en: e.label_en.clone(),
                },
                chosen: events.contains(&e.code),
            })
            .collect(),
        rows,
        facts: beneficiaries
            .iter()
            .filter_map(|id| facts.get(id).map(|f| (*id, f.clone())))
            .collect(),
        can_override: false,
    };
    Ok(Built {
        bundle,
        sources,
        incompatible,
    })
}

/// Audits a view of a person's data made for eligibility.
async fn viewed(
    state: &AppState,
    actor: &SignedIn,
    action: &str,
    person_id: i32,
    detail: serde_json::Value,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new(action, state.clock.now())
            .by(&actor.actor)
            .subject("person", person_id)
            .request(request_id)
            .purpose("eligibility")
            .detail(detail),
    )
    .await?;
    tx.commit().await
}

fn excludes(pairs: &[program_incompatible::Model], a: i32, b: i32) -> bool {
    pairs
        .iter()
        .any(|p| (p.program_id, p.other_id) == (a.min(b), a.max(b)))
}

/// The "¿Qué pasó?" bundle for a person; the view of their facts is audited.
///
/// # Errors
/// `NotFound`, `Invalid` (a merged profile), database errors.
pub async fn bundle(
    state: &AppState,
    actor: &SignedIn,
    person_id: i32,
    events: &[String],
    request_id: Option<&str>,
) -> Result<Bundle, ServiceError> {
    let now = state.clock.now();
    let mut bundle = build(&state.db, person_id, events, today(now))
        .await?
        .bundle;
    bundle.can_override = actor.actor.role.has(Permission::OverrideEligibility);
    if !bundle.rows.is_empty() {
        let detail = serde_json::json!({ "events": events });
        viewed(
            state,
            actor,
            "person.eligibility_viewed",
            person_id,
            detail,
            request_id,
        )
        .await?;
    }
    Ok(bundle)
}

/// Records the answer to a question (a fact declared today by the applicant) for the person or
/// one of the children on the bundle.
///
/// # Errors
/// `Invalid` (field errors, nothing written), `NotFound`, database errors.
pub async fn answer(
    state: &AppState,
    actor: &SignedIn,
    person_id: i32,
    form: &AnswerForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let (kind, value) = form.validate().map_err(ServiceError::Invalid)?;
    applicant(&state.db, person_id).await?;
    if form.person != person_id {
        // Only the applicant's children and wards may be answered for.
        let linked = person_relationship::Entity::find()
            .filter(person_relationship::Column::PersonId.eq(person_id))
            .filter(person_relationship::Column::RelativeId.eq(form.person))
            .filter(person_relationship::Column::Kind.is_in(["parent", "guardian"]))
            .one(&state.db)
            .await?;
        if linked.is_none() {
            return Err(ServiceError::NotFound);
        }
    }
    let now = state.clock.now();
    let fact = ValidFact {
        kind,
        value,
        as_of: today(now),
        source: "declared",
        verified: false,
    };
    let tx = state.audit.begin(&state.db).await?;
    record_fact(
        &tx,
        &actor.actor,
        form.person,
        &fact,
        now,
        "eligibility",
        request_id,
    )
    .await?;
    tx.commit().await
}

/// The next folio of a program for a year: one upsert, serialized by the counter's row.
pub(crate) async fn next_folio(
    db: &impl ConnectionTrait,
    program_id: i32,
    code: &str,
    year: i32,
) -> Result<String, ServiceError> {
    reserve_folios(db, program_id, code, year, 1)
        .await?
        .pop()
        .ok_or(ServiceError::Internal("no folio was reserved"))
}

/// The next `count` folios of a program for a year, in order: one upsert that moves the
/// counter by `count`, serialized by the counter's row (an import's chunk takes its folios at
/// once).
pub(crate) async fn reserve_folios(
    db: &impl ConnectionTrait,
    program_id: i32,
    code: &str,
    year: i32,
    count: u32,
) -> Result<Vec<String>, ServiceError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO folio_counter (program_id, year, last) VALUES ($1, $2, $3) \
             ON CONFLICT (program_id, year) DO UPDATE SET last = folio_counter.last + EXCLUDED.last \
             RETURNING last"
        }
        _ => {
            "INSERT INTO folio_counter (program_id, year, last) VALUES (?, ?, ?) \
             ON CONFLICT (program_id, year) DO UPDATE SET last = folio_counter.last + excluded.last \
             RETURNING last"
        }
    };
    let taken = i32::try_from(count)
        .map_err(|_| ServiceError::Internal("too many folios asked for at once"))?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [program_id.into(), year.into(), taken.into()],
        ))
        .await?
        .ok_or_else(|| ServiceError::Internal("the folio counter returned nothing"))?;
    let last: i32 = row.try_get("", "last")?;
    Ok((last - taken + 1..=last)
        .map(|n| folio::folio(code, year, n as u32))
        .collect())
}

pub async fn holidays(db: &impl ConnectionTrait) -> Result<BTreeSet<Date>, ServiceError> {
    Ok(holiday::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|h| to_date(h.day))
        .collect())
}

/// Requests the picked programs in one transaction: one enrollment per pick with its folio,
/// status `requested`, the rule version and verdict, life event, office, caseworker and due
/// date; refused as a whole (nothing written) when one pick is not eligible (unless a
/// supervisor gives a reason), already open, or incompatible. Returns the enrollment ids.
///
/// # Errors
/// `Invalid` with field errors, `NotFound`, database errors.
pub async fn request(
    state: &AppState,
    actor: &SignedIn,
    person_id: i32,
    form: &RequestForm,
    request_id: Option<&str>,
) -> Result<Vec<i32>, ServiceError> {
    form.validate().map_err(ServiceError::Invalid)?;
    let now = state.clock.now();
    let day = today(now);
    let Built {
        bundle,
        sources,
        incompatible,
    } = build(&state.db, person_id, &form.events, day).await?;
    let overriding = !form.override_reason.is_empty();
    if overriding && !actor.actor.role.has(Permission::OverrideEligibility) {
        return Err(ServiceError::Invalid(vec![field(
            "override_reason",
            "override_forbidden",
        )]));
    }
    let mut picked: Vec<(&BundleRow, (i32, i32))> = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for pick in &form.picks {
        if !seen.insert(*pick) {
            continue;
        }
        let found = bundle
            .rows
            .iter()
            .zip(&sources)
            .find(|(r, _)| (r.beneficiary_id, r.program_id) == *pick);
        let Some((row, source)) = found else {
            errors.push(field("pick", "not_offered"));
            continue;
        };
        match &row.block {
            Some(Block::AlreadyOpen { .. }) => errors.push(field("pick", "already_enrolled")),
            Some(Block::Incompatible { .. }) => errors.push(field("pick", "incompatible")),
            None => {}
        }
        if row.evaluation.verdict != Verdict::Eligible && !overriding {
            errors.push(field("pick", "not_eligible"));
        }
        picked.push((row, *source));
    }
    // Two picks for one person that exclude each other.
    for (i, (a, _)) in picked.iter().enumerate() {
        for (b, _) in &picked[i + 1..] {
            if a.beneficiary_id == b.beneficiary_id
                && excludes(&incompatible, a.program_id, b.program_id)
            {
                errors.push(field("pick", "incompatible"));
            }
        }
    }
    if !errors.is_empty() {
        errors.dedup();
        return Err(ServiceError::Invalid(errors));
    }
    let holidays = holidays(&state.db).await?;
    let tx = state.audit.begin(&state.db).await?;
    let mut ids = Vec::new();
    for (row, (rule_id, life_event_id)) in &picked {
        let overridden = row.evaluation.verdict != Verdict::Eligible;
        let inserted = open_request(
            &*tx,
            NewRequest {
                program_id: row.program_id,
                program_code: &row.code,
                sla_days: row.sla_days,
                person_id: row.beneficiary_id,
                applicant_id: person_id,
                rule_id: *rule_id,
                verdict: row.evaluation.verdict,
                life_event_id: Some(*life_event_id),
                override_reason: overridden.then(|| form.override_reason.clone()),
                reason: if overridden {
                    Reason::Override
                } else {
                    Reason::Eligible
                },
            },
            &actor.actor,
            &holidays,
            now,
        )
        .await?;
        let folio = inserted.folio.clone();
        let mut detail = serde_json::json!({
            "folio": folio,
            "program": row.code,
            "rule_version": row.rule_version,
            "verdict": row.evaluation.verdict.code(),
        });
        if overridden {
            detail["override_reason"] = serde_json::json!(form.override_reason);
        }
        tx.record(
            NewEvent::new(
                if overridden {
                    "enrollment.requested_override"
                } else {
                    "enrollment.requested"
                },
                now,
            )
            .by(&actor.actor)
            .subject("enrollment", inserted.id)
            .request(request_id)
            .purpose("eligibility")
            .detail(detail),
        )
        .await?;
        ids.push(inserted.id);
    }
    tx.commit().await?;
    Ok(ids)
}

/// What a new request needs besides who makes it and when.
pub(crate) struct NewRequest<'a> {
    pub program_id: i32,
    pub program_code: &'a str,
    pub sla_days: i32,
    pub person_id: i32,
    pub applicant_id: i32,
    pub rule_id: i32,
    pub verdict: Verdict,
    pub life_event_id: Option<i32>,
    pub override_reason: Option<String>,
    /// The reason of the first event (`eligible`, `override` or `referral_accepted`).
    pub reason: Reason,
}

/// Inserts a request in status `requested` with its folio, due date in business days and first
/// event (inside the caller's transaction). A second open request of the person for the program
/// is the field error `pick: already_enrolled`, whatever races.
///
/// # Errors
/// `Invalid`, database errors.
pub(crate) async fn open_request(
    db: &impl ConnectionTrait,
    new: NewRequest<'_>,
    actor: &Actor,
    holidays: &BTreeSet<Date>,
    now: DateTime<Utc>,
) -> Result<enrollment::Model, ServiceError> {
    let day = today(now);
    let folio = next_folio(db, new.program_id, new.program_code, day.year).await?;
    let due = add_business_days(day, new.sla_days.max(0) as u32, holidays);
    let inserted = enrollment::ActiveModel {
        id: NotSet,
        folio: Set(folio),
        person_id: Set(new.person_id),
        applicant_id: Set(new.applicant_id),
        program_id: Set(new.program_id),
        status: Set(Status::Requested.code().to_owned()),
        rule_id: Set(new.rule_id),
        verdict: Set(new.verdict.code().to_owned()),
        life_event_id: Set(new.life_event_id),
        office_id: Set(actor.office_id),
        requested_by: Set(Some(actor.staff_id)),
        requested_at: Set(now),
        due_on: Set(to_naive(due)),
        override_reason: Set(new.override_reason),
        escalation_level: Set(0),
        escalated_at: Set(None),
        decided_at: Set(None),
        version: Set(1),
        updated_at: Set(now),
    }
    .insert(db)
    .await;
    let inserted = match inserted {
        Ok(m) => m,
        // Another request for the same person and program won the race.
        Err(e) if is_unique_violation(&e) => {
            return Err(ServiceError::Invalid(vec![field(
                "pick",
                "already_enrolled",
            )]));
        }
        Err(e) => return Err(e.into()),
    };
    enrollment_event::ActiveModel {
        id: NotSet,
        enrollment_id: Set(inserted.id),
        from_status: Set(None),
        to_status: Set(Status::Requested.code().to_owned()),
        reason: Set(new.reason.code().to_owned()),
        actor_id: Set(Some(actor.staff_id)),
        role: Set(Some(actor.role.code().to_owned())),
        office_id: Set(actor.office_id),
        agency_id: Set(actor.agency_id),
        at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(inserted)
}

pub(crate) fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The receipt of the enrollments `ids` requested for (or by) the applicant `person_id`.
///
/// # Errors
/// `NotFound` when an id is not one of the applicant's requests; database errors.
pub async fn receipt(
    state: &AppState,
    actor: &SignedIn,
    person_id: i32,
    ids: &[i32],
    request_id: Option<&str>,
) -> Result<Receipt, ServiceError> {
    let p = person::Entity::find_by_id(person_id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let rows = enrollment::Entity::find()
        .filter(enrollment::Column::Id.is_in(ids.iter().copied()))
        .filter(enrollment::Column::ApplicantId.eq(person_id))
        .order_by_asc(enrollment::Column::Id)
        .all(&state.db)
        .await?;
    if rows.is_empty() || rows.len() != ids.iter().collect::<BTreeSet<_>>().len() {
        return Err(ServiceError::NotFound);
    }
    let programs: HashMap<i32, program::Model> = program::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let agencies: HashMap<i32, String> = angel_entity::agency::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name_es))
        .collect();
    let names: HashMap<i32, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(rows.iter().map(|r| r.person_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|b| (b.id, super::registry::full_name(&b)))
        .collect();
    let office = match rows[0].office_id {
        Some(id) => office::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .map(|o| o.name),
        None => None,
    };
    let first: DateTime<Utc> = rows[0].requested_at;
    let detail = serde_json::json!({ "enrollments": ids });
    viewed(
        state,
        actor,
        "person.receipt_viewed",
        person_id,
        detail,
        request_id,
    )
    .await?;
    Ok(Receipt {
        person_id,
        applicant: super::registry::full_name(&p),
        office,
        requested_at: first.format("%Y-%m-%d %H:%M").to_string(),
        lines: rows
            .iter()
            .map(|r| {
                let program = programs.get(&r.program_id);
                ReceiptLine {
                    folio: r.folio.clone(),
                    program: Localized {
                        es: program.map(|p| p.name_es.clone()).unwrap_or_default(),
                        en: program.map(|p| p.name_en.clone()).unwrap_or_default(),
                    },
                    agency: program
                        .and_then(|p| agencies.get(&p.agency_id).cloned())
                        .unwrap_or_default(),
                    beneficiary: names.get(&r.person_id).cloned().unwrap_or_default(),
                    due_on: r.due_on.to_string(),
                    status: r.status.clone(),
                }
            })
            .collect(),
    })
}
