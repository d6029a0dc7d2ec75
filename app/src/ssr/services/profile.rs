//! Changes to a profile after registration: edits under optimistic concurrency with a history
//! of changes, facts, relatives and households. Every change writes its rows and its audit event
//! in one transaction; nothing stored is overwritten without a newer version recorded.

use std::collections::{BTreeMap, HashMap};

use angel_entity::{
    borough, household, household_member, person, person_change, person_contact, person_fact,
    person_identifier, person_relationship, staff,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, Set, sea_query::Expr,
};

use super::super::{AppState, ServiceError, audit::NewEvent, auth::SignedIn};
use super::registry::{
    age_on, by_curp, contact_row, field, full_name, hits, identifier_row, open_identifier,
    opened_contact, to_naive, today,
};
use crate::registry::{
    dto::{ChangeRow, Circle, FactRow, RelativeRow},
    facts::{FactForm, Relation, RelativeForm},
    forms::{self, IdKind, PersonForm},
};

fn invalid(name: &str, code: &str) -> ServiceError {
    ServiceError::Invalid(vec![field(name, code)])
}

pub(crate) async fn active_person(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<person::Model, ServiceError> {
    let p = person::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if p.status != "active" {
        return Err(invalid("status", "profile_not_active"));
    }
    Ok(p)
}

/// Household, relatives, facts and history of a person, for the profile page.
///
/// # Errors
/// Database errors; `Internal` when an envelope does not open.
pub async fn circle(state: &AppState, p: &person::Model) -> Result<Circle, ServiceError> {
    let db = &state.db;
    let today = state.clock.now().date_naive();
    let links = person_relationship::Entity::find()
        .filter(
            Condition::any()
                .add(person_relationship::Column::PersonId.eq(p.id))
                .add(person_relationship::Column::RelativeId.eq(p.id)),
        )
        .order_by_asc(person_relationship::Column::Id)
        .all(db)
        .await?;
    let related: Vec<(i32, Relation)> = links
        .iter()
        .filter_map(|l| {
            let subject = l.person_id == p.id;
            let other = if subject { l.relative_id } else { l.person_id };
            Relation::seen_from(&l.kind, subject).map(|r| (other, r))
        })
        .collect();
    let household_id = household_member::Entity::find_by_id(p.id)
        .one(db)
        .await?
        .map(|m| m.household_id);
    let housemates: Vec<i32> = match household_id {
        Some(h) => household_member::Entity::find()
            .filter(household_member::Column::HouseholdId.eq(h))
            .filter(household_member::Column::PersonId.ne(p.id))
            .all(db)
            .await?
            .into_iter()
            .map(|m| m.person_id)
            .collect(),
        None => Vec::new(),
    };
    let ids: Vec<i32> = related
        .iter()
        .map(|(id, _)| *id)
        .chain(housemates.iter().copied())
        .collect();
    let people: HashMap<i32, person::Model> = person::Entity::find()
        .filter(person::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let relatives = related
        .iter()
        .filter_map(|(id, relation)| {
            people.get(id).map(|r| RelativeRow {
                id: *id,
                full_name: full_name(r),
                relation: relation.code().to_owned(),
                age: age_on(r.birth_date, today),
            })
        })
        .collect();
    let others: Vec<person::Model> = housemates
        .iter()
        .filter(|id| !related.iter().any(|(r, _)| r == *id))
        .filter_map(|id| people.get(id).cloned())
        .collect();
    let household = hits(state, &others).await?;

    let rows = person_fact::Entity::find()
        .filter(person_fact::Column::PersonId.eq(p.id))
        .order_by_asc(person_fact::Column::Kind)
        .order_by_desc(person_fact::Column::AsOf)
        .order_by_desc(person_fact::Column::Id)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    let facts = rows
        .into_iter()
        .map(|f| FactRow {
            superseded: !seen.insert(f.kind.clone()),
            kind: f.kind,
            value: f.value,
            as_of: f.as_of.to_string(),
            source: f.source,
            verified: f.verified,
        })
        .collect();

    let changes = person_change::Entity::find()
        .filter(person_change::Column::PersonId.eq(p.id))
        .order_by_desc(person_change::Column::Version)
        .all(db)
        .await?;
    let authors: HashMap<i32, String> = staff::Entity::find()
        .filter(staff::Column::Id.is_in(changes.iter().filter_map(|c| c.changed_by)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.display_name))
        .collect();
    let history = changes
        .into_iter()
        .map(|c| ChangeRow {
            version: c.version,
            at: c.changed_at.format("%Y-%m-%d %H:%M").to_string(),
            by: c
                .changed_by
                .and_then(|id| authors.get(&id).cloned())
                .unwrap_or_default(),
            fields: serde_json::from_str::<BTreeMap<String, (Option<String>, Option<String>)>>(
                &c.changes,
            )
            .unwrap_or_default()
            .into_iter()
            .map(|(k, (old, new))| (k, old, new))
            .collect(),
        })
        .collect();
    Ok(Circle {
        relatives,
        household,
        facts,
        history,
    })
}

/// What an edit changes, field by field: `(old, new)` for identity and address fields, `(None,
/// None)` for contact details and ID numbers (named, never copied into the history).
type Changes = BTreeMap<&'static str, (Option<String>, Option<String>)>;

fn compare(changes: &mut Changes, name: &'static str, old: Option<String>, new: Option<String>) {
    if old != new {
        changes.insert(name, (old, new));
    }
}

/// Saves an edited profile if nobody saved it since the form was filled (`form.version`).
/// Returns the new version (the same one when nothing changed: no write at all).
///
/// # Errors
/// `Invalid` (field errors; nothing written), `Conflict` when the stored version moved on (the
/// caller shows both), `NotFound`, database errors.
pub async fn update(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    form: &PersonForm,
    request_id: Option<&str>,
) -> Result<i32, ServiceError> {
    let now = state.clock.now();
    let expected: i32 = form
        .version
        .trim()
        .parse()
        .map_err(|_| invalid("version", "required"))?;
    let valid = form.validate(today(now)).map_err(ServiceError::Invalid)?;
    let p = active_person(&state.db, id).await?;
    if p.version != expected {
        return Err(ServiceError::Conflict);
    }
    let b = borough::Entity::find()
        .filter(borough::Column::InegiCode.eq(valid.borough.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| invalid("borough", "invalid_choice"))?;
    let old_borough = borough::Entity::find_by_id(p.borough_id)
        .one(&state.db)
        .await?
        .map(|b| b.inegi_code);

    let mut changes = Changes::new();
    compare(
        &mut changes,
        "given_names",
        Some(p.given_names.clone()),
        Some(valid.given_names.clone()),
    );
    compare(
        &mut changes,
        "first_surname",
        Some(p.first_surname.clone()),
        Some(valid.first_surname.clone()),
    );
    compare(
        &mut changes,
        "second_surname",
        p.second_surname.clone(),
        valid.second_surname.clone(),
    );
    compare(
        &mut changes,
        "birth_date",
        Some(p.birth_date.to_string()),
        Some(to_naive(valid.birth_date).to_string()),
    );
    compare(
        &mut changes,
        "sex",
        Some(p.sex.clone()),
        Some(forms::sex_code(valid.sex).to_owned()),
    );
    compare(
        &mut changes,
        "birth_state",
        Some(p.birth_state.clone()),
        Some(valid.birth_state.clone()),
    );
    compare(
        &mut changes,
        "borough",
        old_borough,
        Some(valid.borough.clone()),
    );
    compare(
        &mut changes,
        "colonia",
        Some(p.colonia.clone()),
        Some(valid.colonia.clone()),
    );
    compare(
        &mut changes,
        "postal_code",
        Some(p.postal_code.clone()),
        Some(valid.postal_code.clone()),
    );
    compare(
        &mut changes,
        "residence_since",
        p.residence_since.map(|d| d.to_string()),
        valid.residence_since.map(|d| to_naive(d).to_string()),
    );

    // Contact details: compared in clear, recorded by name only.
    let contact = person_contact::Entity::find_by_id(id)
        .one(&state.db)
        .await?;
    let (street, phone) = opened_contact(state, id, contact.as_ref()).await?;
    let contact_changed = street != valid.street || phone != valid.phone;
    if contact_changed {
        changes.insert("contact", (None, None));
    }

    // ID numbers: an edit adds the missing ones; a stored one is never replaced here.
    let stored: Vec<person_identifier::Model> = person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.eq(id))
        .all(&state.db)
        .await?;
    let mut added = Vec::new();
    let posted = valid
        .curp
        .iter()
        .map(|c| (IdKind::Curp, c.as_str().to_owned()))
        .chain(valid.other_ids.iter().cloned());
    for (kind, value) in posted {
        if let Some(row) = stored.iter().find(|r| r.kind == kind.code()) {
            if open_identifier(state, row).await?.as_str() != value {
                return Err(invalid(kind.code(), "id_already_set"));
            }
            continue;
        }
        if kind == IdKind::Curp
            && let Some(curp) = &valid.curp
            && let Some(other) = by_curp(&state.vault, &state.db, curp).await?
            && other.id != id
        {
            return Err(invalid("curp", "curp_taken"));
        }
        changes.insert(kind.code(), (None, None));
        added.push((kind, value));
    }
    if changes.is_empty() {
        return Ok(p.version);
    }

    let next = p.version + 1;
    let tx = state.audit.begin(&state.db).await?;
    // The version check and the write are one statement: of two saves from the same version,
    // exactly one matches.
    let updated = person::Entity::update_many()
        .col_expr(
            person::Column::GivenNames,
            Expr::value(valid.given_names.clone()),
        )
        .col_expr(
            person::Column::FirstSurname,
            Expr::value(valid.first_surname.clone()),
        )
        .col_expr(
            person::Column::SecondSurname,
            Expr::value(valid.second_surname.clone()),
        )
        .col_expr(person::Column::NameKey, Expr::value(valid.name_key()))
        .col_expr(
            person::Column::BirthDate,
            Expr::value(to_naive(valid.birth_date)),
        )
        .col_expr(person::Column::Sex, Expr::value(forms::sex_code(valid.sex)))
        .col_expr(
            person::Column::BirthState,
            Expr::value(valid.birth_state.clone()),
        )
        .col_expr(person::Column::BoroughId, Expr::value(b.id))
        .col_expr(person::Column::Colonia, Expr::value(valid.colonia.clone()))
        .col_expr(
            person::Column::PostalCode,
            Expr::value(valid.postal_code.clone()),
        )
        .col_expr(
            person::Column::ResidenceSince,
            Expr::value(valid.residence_since.map(to_naive)),
        )
        .col_expr(
            person::Column::HasCurp,
            Expr::value(p.has_curp || valid.curp.is_some()),
        )
        .col_expr(person::Column::UpdatedAt, Expr::value(now))
        .col_expr(person::Column::Version, Expr::value(next))
        .filter(person::Column::Id.eq(id))
        .filter(person::Column::Version.eq(expected))
        .exec(&*tx)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ServiceError::Conflict);
    }
    if contact_changed {
        let row = contact_row(state, id, valid.street.as_deref(), valid.phone.as_deref());
        if contact.is_some() {
            row.update(&*tx).await?;
        } else {
            row.insert(&*tx).await?;
        }
    }
    for (kind, value) in &added {
        identifier_row(state, id, *kind, value, now)
            .insert(&*tx)
            .await?;
    }
    person_change::ActiveModel {
        id: NotSet,
        person_id: Set(id),
        version: Set(next),
        changes: Set(serde_json::to_string(&changes).expect("plain strings")),
        changed_by: Set(Some(actor.actor.staff_id)),
        changed_at: Set(now),
    }
    .insert(&*tx)
    .await?;
    let names: Vec<&str> = changes.keys().copied().collect();
    tx.record(
        NewEvent::new("person.updated", now)
            .by(&actor.actor)
            .subject("person", id)
            .request(request_id)
            .purpose("registry")
            .detail(serde_json::json!({ "fields": names, "version": next })),
    )
    .await?;
    // A move to another borough moves the person in the coverage figures.
    super::coverage::refresh_person(&*tx, id).await?;
    tx.commit().await?;
    Ok(next)
}

/// Records a fact (append-only: an older fact of the kind stays, superseded).
///
/// # Errors
/// `Invalid` (nothing written), `NotFound`, database errors.
pub async fn add_fact(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    form: &FactForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let fact = form.validate(today(now)).map_err(ServiceError::Invalid)?;
    active_person(&state.db, id).await?;
    let tx = state.audit.begin(&state.db).await?;
    record_fact(&tx, &actor.actor, id, &fact, now, "registry", request_id).await?;
    tx.commit().await
}

/// Appends a fact and its audit event (the kind is recorded, never the value: an income is
/// personal data) inside the caller's transaction.
///
/// # Errors
/// Database errors.
pub(crate) async fn record_fact(
    tx: &crate::ssr::audit::AuditTx,
    actor: &crate::domain::access::Actor,
    person_id: i32,
    fact: &crate::registry::facts::ValidFact,
    now: DateTime<Utc>,
    purpose: &str,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    person_fact::ActiveModel {
        id: NotSet,
        person_id: Set(person_id),
        kind: Set(fact.kind.code().to_owned()),
        value: Set(fact.value.clone()),
        as_of: Set(to_naive(fact.as_of)),
        source: Set(fact.source.to_owned()),
        verified: Set(fact.verified),
        recorded_by: Set(Some(actor.staff_id)),
        recorded_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    tx.record(
        NewEvent::new("person.fact_recorded", now)
            .by(actor)
            .subject("person", person_id)
            .request(request_id)
            .purpose(purpose)
            .detail(serde_json::json!({ "kind": fact.kind.code(), "verified": fact.verified })),
    )
    .await
}

/// Puts two people in one household: the one either already lives in, else a new one. When
/// both live in different households, `other` moves to `person`'s (a person lives in one
/// household at a time).
async fn share_household(
    db: &impl ConnectionTrait,
    person: i32,
    other: i32,
    now: DateTime<Utc>,
) -> Result<i32, ServiceError> {
    let mine = household_member::Entity::find_by_id(person).one(db).await?;
    let theirs = household_member::Entity::find_by_id(other).one(db).await?;
    let member = |person_id, household_id| household_member::ActiveModel {
        person_id: Set(person_id),
        household_id: Set(household_id),
        since: Set(now),
    };
    match (mine, theirs) {
        (Some(a), Some(b)) if a.household_id == b.household_id => Ok(a.household_id),
        (Some(a), Some(_)) => {
            member(other, a.household_id).update(db).await?;
            Ok(a.household_id)
        }
        (Some(a), None) => {
            member(other, a.household_id).insert(db).await?;
            Ok(a.household_id)
        }
        (None, Some(b)) => {
            member(person, b.household_id).insert(db).await?;
            Ok(b.household_id)
        }
        (None, None) => {
            let h = household::ActiveModel {
                id: NotSet,
                created_at: Set(now),
            }
            .insert(db)
            .await?;
            member(person, h.id).insert(db).await?;
            member(other, h.id).insert(db).await?;
            Ok(h.id)
        }
    }
}

/// Links two people (`relation` seen from `person`), optionally in one household, with its
/// audit event, in one transaction. Linking twice is refused with a field error.
///
/// # Errors
/// `Invalid` (`relative_self`, `relative_exists`), database errors.
pub async fn link(
    state: &AppState,
    actor: &SignedIn,
    person: i32,
    relative: i32,
    relation: Relation,
    same_household: bool,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    if person == relative {
        return Err(invalid("card", "relative_self"));
    }
    let now = state.clock.now();
    let (kind, subject) = relation.stored();
    let (from, to) = if subject {
        (person, relative)
    } else {
        (relative, person)
    };
    let exists = person_relationship::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(person_relationship::Column::PersonId.eq(from))
                        .add(person_relationship::Column::RelativeId.eq(to)),
                )
                .add(
                    Condition::all()
                        .add(person_relationship::Column::PersonId.eq(to))
                        .add(person_relationship::Column::RelativeId.eq(from)),
                ),
        )
        .one(&state.db)
        .await?
        .is_some();
    if exists {
        return Err(invalid("card", "relative_exists"));
    }
    let tx = state.audit.begin(&state.db).await?;
    person_relationship::ActiveModel {
        id: NotSet,
        person_id: Set(from),
        relative_id: Set(to),
        kind: Set(kind.to_owned()),
        created_by: Set(Some(actor.actor.staff_id)),
        created_at: Set(now),
    }
    .insert(&*tx)
    .await?;
    if same_household {
        share_household(&*tx, person, relative, now).await?;
    }
    tx.record(
        NewEvent::new("person.related", now)
            .by(&actor.actor)
            .subject("person", person)
            .request(request_id)
            .purpose("registry")
            .detail(serde_json::json!({
                "relative": relative, "relation": relation.code(), "same_household": same_household,
            })),
    )
    .await?;
    tx.commit().await
}

/// Adds a relative found by card number.
///
/// # Errors
/// `Invalid` (bad card, unknown card, self, already related), `NotFound`, database errors.
pub async fn add_relative(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    form: &RelativeForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let valid = form.validate().map_err(ServiceError::Invalid)?;
    active_person(&state.db, id).await?;
    let relative = person::Entity::find()
        .filter(person::Column::CardNumber.eq(valid.card.as_str()))
        .filter(person::Column::Status.eq("active"))
        .one(&state.db)
        .await?
        .ok_or_else(|| invalid("card", "card_unknown"))?;
    link(
        state,
        actor,
        id,
        relative.id,
        valid.relation,
        valid.same_household,
        request_id,
    )
    .await
}
