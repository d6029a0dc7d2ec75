//! Duplicate review and merges. Pairs enter the queue when a caseworker registers someone as
//! "another person" despite probable duplicates; an office supervisor merges them (identifiers
//! re-sealed to the survivor, relationships, facts and household moved, the surviving values
//! chosen field by field, the other profile left as a tombstone) or marks them distinct; a merge
//! can be undone. Each decision is one transaction with its audit event.

use std::collections::HashMap;

use angel_entity::{
    borough, case_note, duplicate_review, enrollment, household_member, person, person_fact,
    person_identifier, person_merge, person_relationship, referral,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use super::super::{AppState, ServiceError, audit::NewEvent, auth::SignedIn, vault::Slot};
use super::registry::{IDENTIFIER, field, full_name, key_version, masked_id, open_identifier};
use crate::domain::{card, names};
use crate::registry::{
    dto::{Pair, PairRow, PairSide},
    merge::{Decision, DecisionForm, MERGE_FIELDS, Side},
};

/// How many pending pairs the queue shows at once, best scores first.
const QUEUE: u64 = 100;

/// Records pairs for review (lower id first; a pair already known is left as it is).
///
/// # Errors
/// Database errors.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    person: i32,
    candidates: &[(i32, u8, Vec<String>)],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ServiceError> {
    for (other, score, agreeing) in candidates {
        let (a, b) = lower_first(person, *other);
        let known = duplicate_review::Entity::find()
            .filter(duplicate_review::Column::PersonA.eq(a))
            .filter(duplicate_review::Column::PersonB.eq(b))
            .count(db)
            .await?
            > 0;
        if !known {
            pending_pair(person, *other, *score, agreeing, now)
                .insert(db)
                .await?;
        }
    }
    Ok(())
}

fn lower_first(x: i32, y: i32) -> (i32, i32) {
    if x < y { (x, y) } else { (y, x) }
}

/// A pair waiting for review, the lower id first: `person` and `other` probably one person,
/// with the name similarity (0–100) and the fields that agree.
pub fn pending_pair(
    person: i32,
    other: i32,
    score: u8,
    agreeing: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> duplicate_review::ActiveModel {
    let (a, b) = lower_first(person, other);
    duplicate_review::ActiveModel {
        id: NotSet,
        person_a: Set(a),
        person_b: Set(b),
        score: Set(i32::from(score)),
        agreeing: Set(agreeing.join(",")),
        status: Set("pending".to_owned()),
        found_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(None),
        reason: Set(None),
    }
}

/// The pending pairs, best scores first.
///
/// # Errors
/// Database errors.
pub async fn queue(state: &AppState) -> Result<Vec<PairRow>, ServiceError> {
    let pairs = duplicate_review::Entity::find()
        .filter(duplicate_review::Column::Status.eq("pending"))
        .order_by_desc(duplicate_review::Column::Score)
        .order_by_asc(duplicate_review::Column::Id)
        .limit(QUEUE)
        .all(&state.db)
        .await?;
    let ids: Vec<i32> = pairs
        .iter()
        .flat_map(|p| [p.person_a, p.person_b])
        .collect();
    let names: HashMap<i32, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .iter()
        .map(|p| (p.id, full_name(p)))
        .collect();
    Ok(pairs
        .into_iter()
        .map(|p| PairRow {
            id: p.id,
            score: u8::try_from(p.score).unwrap_or(0),
            agreeing: split(&p.agreeing),
            a: names.get(&p.person_a).cloned().unwrap_or_default(),
            b: names.get(&p.person_b).cloned().unwrap_or_default(),
            found: p.found_at.date_naive().to_string(),
        })
        .collect())
}

fn split(agreeing: &str) -> Vec<String> {
    agreeing
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The value of a merge field on a person (the borough by its INEGI code).
fn value_of(p: &person::Model, field: &str, boroughs: &HashMap<i32, String>) -> String {
    match field {
        "given_names" => p.given_names.clone(),
        "first_surname" => p.first_surname.clone(),
        "second_surname" => p.second_surname.clone().unwrap_or_default(),
        "birth_date" => p.birth_date.to_string(),
        "sex" => p.sex.clone(),
        "birth_state" => p.birth_state.clone(),
        "borough" => boroughs.get(&p.borough_id).cloned().unwrap_or_default(),
        "colonia" => p.colonia.clone(),
        _ => p.postal_code.clone(),
    }
}

async fn borough_codes(db: &impl ConnectionTrait) -> Result<HashMap<i32, String>, ServiceError> {
    Ok(borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.inegi_code))
        .collect())
}

async fn side_of(
    state: &AppState,
    p: &person::Model,
    boroughs: &HashMap<i32, String>,
) -> Result<PairSide, ServiceError> {
    let curp = person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.eq(p.id))
        .filter(person_identifier::Column::Kind.eq("curp"))
        .one(&state.db)
        .await?;
    let masked_curp = match curp {
        Some(row) => Some(masked_id("curp", &open_identifier(state, &row).await?)),
        None => None,
    };
    let relatives = person_relationship::Entity::find()
        .filter(
            Condition::any()
                .add(person_relationship::Column::PersonId.eq(p.id))
                .add(person_relationship::Column::RelativeId.eq(p.id)),
        )
        .count(&state.db)
        .await?;
    let facts = person_fact::Entity::find()
        .filter(person_fact::Column::PersonId.eq(p.id))
        .count(&state.db)
        .await?;
    Ok(PairSide {
        id: p.id,
        card_number: card::grouped(&p.card_number),
        masked_curp,
        status: p.status.clone(),
        synthetic: p.synthetic,
        fields: MERGE_FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), value_of(p, f, boroughs)))
            .collect(),
        relatives: usize::try_from(relatives).unwrap_or(usize::MAX),
        facts: usize::try_from(facts).unwrap_or(usize::MAX),
    })
}

async fn both(
    db: &impl ConnectionTrait,
    pair: &duplicate_review::Model,
) -> Result<(person::Model, person::Model), ServiceError> {
    let a = person::Entity::find_by_id(pair.person_a)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let b = person::Entity::find_by_id(pair.person_b)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok((a, b))
}

async fn open_merge(
    db: &impl ConnectionTrait,
    pair: &duplicate_review::Model,
) -> Result<Option<person_merge::Model>, ServiceError> {
    Ok(person_merge::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(person_merge::Column::SurvivorId.eq(pair.person_a))
                        .add(person_merge::Column::MergedId.eq(pair.person_b)),
                )
                .add(
                    Condition::all()
                        .add(person_merge::Column::SurvivorId.eq(pair.person_b))
                        .add(person_merge::Column::MergedId.eq(pair.person_a)),
                ),
        )
        .filter(person_merge::Column::UndoneAt.is_null())
        .one(db)
        .await?)
}

/// A pair side by side; both views are audited (purpose `duplicate_review`).
///
/// # Errors
/// `NotFound`, database errors.
pub async fn pair(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    request_id: Option<&str>,
) -> Result<Pair, ServiceError> {
    let review = duplicate_review::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (a, b) = both(&state.db, &review).await?;
    let boroughs = borough_codes(&state.db).await?;
    let undoable = review.status == "merged" && open_merge(&state.db, &review).await?.is_some();
    let view = Pair {
        id,
        score: u8::try_from(review.score).unwrap_or(0),
        agreeing: split(&review.agreeing),
        status: review.status.clone(),
        reason: review.reason.clone(),
        a: side_of(state, &a, &boroughs).await?,
        b: side_of(state, &b, &boroughs).await?,
        undoable,
    };
    let tx = state.audit.begin(&state.db).await?;
    for person in [a.id, b.id] {
        tx.record(
            NewEvent::new("person.viewed", state.clock.now())
                .by(&actor.actor)
                .subject("person", person)
                .request(request_id)
                .purpose("duplicate_review"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(view)
}

async fn holds_curp(db: &impl ConnectionTrait, person: i32) -> Result<bool, ServiceError> {
    Ok(person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.eq(person))
        .filter(person_identifier::Column::Kind.eq("curp"))
        .count(db)
        .await?
        > 0)
}

/// What a merge moved, read back by the unmerge.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Moved {
    /// Identifier row ids re-sealed to the survivor.
    identifiers: Vec<i32>,
    /// Relationship row ids and which column pointed at the merged profile.
    relationships: Vec<(i32, String)>,
    facts: Vec<i32>,
    /// The merged profile's household, and whether the survivor took its place in it.
    household: Option<(i32, bool)>,
    /// The survivor's values before the merge, for the fields that changed.
    survivor_before: Vec<(String, String)>,
    /// Requests of which the merged profile was the beneficiary, and of which it was the
    /// applicant (absent in merges made before requests followed the person).
    #[serde(default)]
    enrollments: Vec<i32>,
    #[serde(default)]
    applications: Vec<i32>,
    #[serde(default)]
    referrals: Vec<i32>,
    #[serde(default)]
    notes: Vec<i32>,
}

/// Points the requests, referrals and notes of `moved` at person `to` (the survivor on a merge,
/// the merged profile again on its undoing).
async fn follow(db: &impl ConnectionTrait, moved: &Moved, to: i32) -> Result<(), ServiceError> {
    use enrollment::Column as E;
    repoint::<enrollment::Entity>(db, E::PersonId, E::Id, &moved.enrollments, to).await?;
    repoint::<enrollment::Entity>(db, E::ApplicantId, E::Id, &moved.applications, to).await?;
    use referral::Column as R;
    repoint::<referral::Entity>(db, R::PersonId, R::Id, &moved.referrals, to).await?;
    use case_note::Column as N;
    repoint::<case_note::Entity>(db, N::PersonId, N::Id, &moved.notes, to).await
}

/// Points `column` of the rows `ids` (by `id_column`) at person `to`.
async fn repoint<E: EntityTrait>(
    db: &impl ConnectionTrait,
    column: E::Column,
    id_column: E::Column,
    ids: &[i32],
    to: i32,
) -> Result<(), ServiceError> {
    if !ids.is_empty() {
        E::update_many()
            .col_expr(column, sea_orm::sea_query::Expr::value(to))
            .filter(id_column.is_in(ids.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The programs for which `person` has an open request or an open referral.
async fn open_programs(
    db: &impl ConnectionTrait,
    person: i32,
) -> Result<(Vec<i32>, Vec<i32>), ServiceError> {
    let requests = enrollment::Entity::find()
        .filter(enrollment::Column::PersonId.eq(person))
        .filter(enrollment::Column::Status.is_in(super::eligibility::OPEN))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.program_id)
        .collect();
    let referrals = referral::Entity::find()
        .filter(referral::Column::PersonId.eq(person))
        .filter(referral::Column::Status.eq(crate::domain::referral::OPEN))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.program_id)
        .collect();
    Ok((requests, referrals))
}

/// Ids (`id_column`) of the rows of `E` whose `column` is `person`.
async fn ids_of<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id_column: E::Column,
    column: E::Column,
    person: i32,
) -> Result<Vec<i32>, ServiceError> {
    Ok(E::find()
        .select_only()
        .column(id_column)
        .filter(column.eq(person))
        .into_tuple()
        .all(db)
        .await?)
}

/// Moves an identifier row to another person: opened under its old slot, sealed under the new.
async fn reseal(
    state: &AppState,
    db: &impl ConnectionTrait,
    row: &person_identifier::Model,
    to: i32,
) -> Result<(), ServiceError> {
    let value = open_identifier(state, row).await?;
    person_identifier::ActiveModel {
        id: Set(row.id),
        person_id: Set(to),
        envelope: Set(state.vault.seal(
            Slot::new(IDENTIFIER, &row.kind, i64::from(to)),
            value.as_bytes(),
        )),
        key_version: Set(key_version(state)),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

fn apply(p: &mut person::ActiveModel, field: &str, value: &str, boroughs: &HashMap<i32, String>) {
    match field {
        "given_names" => p.given_names = Set(value.to_owned()),
        "first_surname" => p.first_surname = Set(value.to_owned()),
        "second_surname" => {
            p.second_surname = Set((!value.is_empty()).then(|| value.to_owned()));
        }
        "birth_date" => {
            if let Ok(d) = value.parse() {
                p.birth_date = Set(d);
            }
        }
        "sex" => p.sex = Set(value.to_owned()),
        "birth_state" => p.birth_state = Set(value.to_owned()),
        "borough" => {
            if let Some((id, _)) = boroughs.iter().find(|(_, code)| *code == value) {
                p.borough_id = Set(*id);
            }
        }
        "colonia" => p.colonia = Set(value.to_owned()),
        _ => p.postal_code = Set(value.to_owned()),
    }
}

/// The name key follows the names: a merge, and its undo, may take either profile's (duplicate
/// search blocks and scores on the key).
fn rekey(p: &mut person::ActiveModel) {
    let text = |v: &sea_orm::ActiveValue<String>| v.try_as_ref().cloned().unwrap_or_default();
    let second = p.second_surname.try_as_ref().cloned().flatten();
    p.name_key = Set(names::name_key(
        &text(&p.given_names),
        &text(&p.first_surname),
        second.as_deref().unwrap_or(""),
    ));
}

/// Decides a pair: merge, distinct, or undo its merge.
///
/// # Errors
/// `Invalid` (nothing written), `Conflict` (the pair or a profile changed meanwhile),
/// `NotFound`, database errors.
pub async fn decide(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    form: &DecisionForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let decision = form.validate().map_err(ServiceError::Invalid)?;
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    let review = duplicate_review::Entity::find_by_id(id)
        .one(&*tx)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (a, b) = both(&*tx, &review).await?;
    let boroughs = borough_codes(&*tx).await?;
    let decided = |status: &str, reason: &str| duplicate_review::ActiveModel {
        id: Set(review.id),
        status: Set(status.to_owned()),
        decided_by: Set(Some(actor.actor.staff_id)),
        decided_at: Set(Some(now)),
        reason: Set(Some(reason.to_owned())),
        ..Default::default()
    };
    match decision {
        Decision::Distinct { reason } => {
            if review.status != "pending" {
                return Err(ServiceError::Conflict);
            }
            decided("distinct", reason).update(&*tx).await?;
            tx.record(
                NewEvent::new("person.duplicate_dismissed", now)
                    .by(&actor.actor)
                    .subject("person", a.id)
                    .request(request_id)
                    .purpose("duplicate_review")
                    .detail(serde_json::json!({ "pair": id, "other": b.id, "reason": reason })),
            )
            .await?;
        }
        Decision::Merge {
            survivor,
            reason,
            picks,
        } => {
            if review.status != "pending" || a.status != "active" || b.status != "active" {
                return Err(ServiceError::Conflict);
            }
            let (keep, gone) = match survivor {
                Side::A => (&a, &b),
                Side::B => (&b, &a),
            };
            let mut moved = Moved::default();
            // Identifiers: re-sealed to the survivor unless it already has one of that kind
            // (then the merged profile's stays with the tombstone).
            let kept_kinds: Vec<String> = person_identifier::Entity::find()
                .filter(person_identifier::Column::PersonId.eq(keep.id))
                .all(&*tx)
                .await?
                .into_iter()
                .map(|r| r.kind)
                .collect();
            for row in person_identifier::Entity::find()
                .filter(person_identifier::Column::PersonId.eq(gone.id))
                .all(&*tx)
                .await?
            {
                if !kept_kinds.contains(&row.kind) {
                    reseal(state, &*tx, &row, keep.id).await?;
                    moved.identifiers.push(row.id);
                }
            }
            // Relationships: repointed unless that would link the survivor to itself or repeat
            // a link it already has.
            let links = person_relationship::Entity::find()
                .filter(
                    Condition::any()
                        .add(person_relationship::Column::PersonId.eq(gone.id))
                        .add(person_relationship::Column::RelativeId.eq(gone.id)),
                )
                .all(&*tx)
                .await?;
            for link in links {
                let column = if link.person_id == gone.id {
                    "person_id"
                } else {
                    "relative_id"
                };
                let (from, to) = if column == "person_id" {
                    (keep.id, link.relative_id)
                } else {
                    (link.person_id, keep.id)
                };
                let clash = from == to
                    || person_relationship::Entity::find()
                        .filter(person_relationship::Column::PersonId.eq(from))
                        .filter(person_relationship::Column::RelativeId.eq(to))
                        .filter(person_relationship::Column::Kind.eq(link.kind.as_str()))
                        .count(&*tx)
                        .await?
                        > 0;
                if clash {
                    continue;
                }
                person_relationship::ActiveModel {
                    id: Set(link.id),
                    person_id: Set(from),
                    relative_id: Set(to),
                    ..Default::default()
                }
                .update(&*tx)
                .await?;
                moved.relationships.push((link.id, column.to_owned()));
            }
            // Facts: all of them (append-only history; the newest stays current).
            for fact in person_fact::Entity::find()
                .filter(person_fact::Column::PersonId.eq(gone.id))
                .all(&*tx)
                .await?
            {
                person_fact::ActiveModel {
                    id: Set(fact.id),
                    person_id: Set(keep.id),
                    ..Default::default()
                }
                .update(&*tx)
                .await?;
                moved.facts.push(fact.id);
            }
            // Household: a tombstone lives nowhere; the survivor takes its place when it has
            // no household of its own.
            if let Some(m) = household_member::Entity::find_by_id(gone.id)
                .one(&*tx)
                .await?
            {
                household_member::Entity::delete_by_id(gone.id)
                    .exec(&*tx)
                    .await?;
                let survivor_has = household_member::Entity::find_by_id(keep.id)
                    .one(&*tx)
                    .await?
                    .is_some();
                if !survivor_has {
                    household_member::ActiveModel {
                        person_id: Set(keep.id),
                        household_id: Set(m.household_id),
                        since: Set(now),
                    }
                    .insert(&*tx)
                    .await?;
                }
                moved.household = Some((m.household_id, !survivor_has));
            }
            // Requests, referrals and case notes follow the person (a note's envelope is bound
            // to its own id, not the person's). Two open requests, or two open referrals, for
            // one program cannot both survive: the merge is refused until the agency rejects one
            // (reason `duplicate_request`) or answers one.
            let (keep_requests, keep_referrals) = open_programs(&*tx, keep.id).await?;
            let (gone_requests, gone_referrals) = open_programs(&*tx, gone.id).await?;
            if gone_requests.iter().any(|p| keep_requests.contains(p))
                || gone_referrals.iter().any(|p| keep_referrals.contains(p))
            {
                return Err(ServiceError::Invalid(vec![field(
                    "decision",
                    "open_request_clash",
                )]));
            }
            {
                use enrollment::Column as E;
                moved.enrollments =
                    ids_of::<enrollment::Entity>(&*tx, E::Id, E::PersonId, gone.id).await?;
                moved.applications =
                    ids_of::<enrollment::Entity>(&*tx, E::Id, E::ApplicantId, gone.id).await?;
                use referral::Column as R;
                moved.referrals =
                    ids_of::<referral::Entity>(&*tx, R::Id, R::PersonId, gone.id).await?;
                use case_note::Column as N;
                moved.notes =
                    ids_of::<case_note::Entity>(&*tx, N::Id, N::PersonId, gone.id).await?;
            }
            follow(&*tx, &moved, keep.id).await?;
            // The surviving values, field by field.
            let mut update: person::ActiveModel = keep.clone().into();
            for (field, from) in &picks {
                let source = match from {
                    Side::A => &a,
                    Side::B => &b,
                };
                let before = value_of(keep, field, &boroughs);
                let after = value_of(source, field, &boroughs);
                if before != after {
                    moved.survivor_before.push(((*field).to_owned(), before));
                    apply(&mut update, field, &after, &boroughs);
                }
            }
            rekey(&mut update);
            let merged_has_curp = gone.has_curp && !kept_kinds.iter().any(|k| k == "curp");
            update.has_curp = Set(keep.has_curp || merged_has_curp);
            let survivor_version = keep.version + 1;
            update.version = Set(survivor_version);
            update.updated_at = Set(now);
            // Optimistic: the survivor must still be the version read above.
            let done = person::Entity::update_many()
                .set(update)
                .filter(person::Column::Id.eq(keep.id))
                .filter(person::Column::Version.eq(keep.version))
                .exec(&*tx)
                .await?;
            if done.rows_affected != 1 {
                return Err(ServiceError::Conflict);
            }
            let tombstone = person::Entity::update_many()
                .set(person::ActiveModel {
                    status: Set("merged".to_owned()),
                    merged_into: Set(Some(keep.id)),
                    has_curp: Set(gone.has_curp && !merged_has_curp),
                    version: Set(gone.version + 1),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .filter(person::Column::Id.eq(gone.id))
                .filter(person::Column::Version.eq(gone.version))
                .exec(&*tx)
                .await?;
            if tombstone.rows_affected != 1 {
                return Err(ServiceError::Conflict);
            }
            person_merge::ActiveModel {
                id: NotSet,
                survivor_id: Set(keep.id),
                merged_id: Set(gone.id),
                reason: Set(reason.to_owned()),
                moved: Set(serde_json::to_string(&moved).expect("plain data")),
                survivor_version: Set(survivor_version),
                merged_by: Set(actor.actor.staff_id),
                merged_at: Set(now),
                undone_by: Set(None),
                undone_at: Set(None),
                undo_reason: Set(None),
            }
            .insert(&*tx)
            .await?;
            decided("merged", reason).update(&*tx).await?;
            tx.record(
                NewEvent::new("person.merged", now)
                    .by(&actor.actor)
                    .subject("person", keep.id)
                    .request(request_id)
                    .purpose("duplicate_review")
                    .detail(serde_json::json!({
                        "merged": gone.id, "pair": id, "reason": reason,
                        "identifiers": moved.identifiers.len(),
                        "relationships": moved.relationships.len(), "facts": moved.facts.len(),
                        "requests": moved.enrollments.len(), "referrals": moved.referrals.len(),
                        "notes": moved.notes.len(),
                    })),
            )
            .await?;
        }
        Decision::Unmerge { reason } => {
            let merge = open_merge(&*tx, &review)
                .await?
                .ok_or(ServiceError::Conflict)?;
            let moved: Moved = serde_json::from_str(&merge.moved)
                .map_err(|_| ServiceError::Internal("an unreadable merge record"))?;
            let keep = if merge.survivor_id == a.id { &a } else { &b };
            let gone = if merge.survivor_id == a.id { &b } else { &a };
            // Anything saved on the survivor since the merge would be overwritten: refuse.
            if keep.version != merge.survivor_version || gone.status != "merged" {
                return Err(ServiceError::Invalid(vec![field(
                    "decision",
                    "changed_since_merge",
                )]));
            }
            for row in person_identifier::Entity::find()
                .filter(person_identifier::Column::Id.is_in(moved.identifiers.clone()))
                .all(&*tx)
                .await?
            {
                reseal(state, &*tx, &row, gone.id).await?;
            }
            for (link, column) in &moved.relationships {
                let mut row = person_relationship::ActiveModel {
                    id: Set(*link),
                    ..Default::default()
                };
                if column == "person_id" {
                    row.person_id = Set(gone.id);
                } else {
                    row.relative_id = Set(gone.id);
                }
                row.update(&*tx).await?;
            }
            if !moved.facts.is_empty() {
                person_fact::Entity::update_many()
                    .col_expr(
                        person_fact::Column::PersonId,
                        sea_orm::sea_query::Expr::value(gone.id),
                    )
                    .filter(person_fact::Column::Id.is_in(moved.facts.clone()))
                    .exec(&*tx)
                    .await?;
            }
            if let Some((household, taken)) = moved.household {
                if taken {
                    household_member::Entity::delete_by_id(keep.id)
                        .exec(&*tx)
                        .await?;
                }
                household_member::ActiveModel {
                    person_id: Set(gone.id),
                    household_id: Set(household),
                    since: Set(now),
                }
                .insert(&*tx)
                .await?;
            }
            follow(&*tx, &moved, gone.id).await?;
            let mut restore: person::ActiveModel = keep.clone().into();
            for (field, value) in &moved.survivor_before {
                apply(&mut restore, field, value, &boroughs);
            }
            rekey(&mut restore);
            let keep_curp = holds_curp(&*tx, keep.id).await?;
            let gone_curp = holds_curp(&*tx, gone.id).await?;
            restore.has_curp = Set(keep_curp);
            restore.version = Set(keep.version + 1);
            restore.updated_at = Set(now);
            restore.update(&*tx).await?;
            person::ActiveModel {
                id: Set(gone.id),
                status: Set("active".to_owned()),
                merged_into: Set(None),
                has_curp: Set(gone_curp),
                version: Set(gone.version + 1),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&*tx)
            .await?;
            person_merge::ActiveModel {
                id: Set(merge.id),
                undone_by: Set(Some(actor.actor.staff_id)),
                undone_at: Set(Some(now)),
                undo_reason: Set(Some(reason.to_owned())),
                ..Default::default()
            }
            .update(&*tx)
            .await?;
            // Back in the queue: the pair is undecided again.
            duplicate_review::ActiveModel {
                id: Set(review.id),
                status: Set("pending".to_owned()),
                decided_by: Set(None),
                decided_at: Set(None),
                reason: Set(None),
                ..Default::default()
            }
            .update(&*tx)
            .await?;
            tx.record(
                NewEvent::new("person.unmerged", now)
                    .by(&actor.actor)
                    .subject("person", keep.id)
                    .request(request_id)
                    .purpose("duplicate_review")
                    .detail(serde_json::json!({
                        "restored": gone.id, "pair": id, "reason": reason,
                    })),
            )
            .await?;
        }
    }
    // Requests moved between the two profiles, and one of them is (or is no longer) merged.
    super::coverage::refresh_person(&*tx, a.id).await?;
    super::coverage::refresh_person(&*tx, b.id).await?;
    tx.commit().await
}
