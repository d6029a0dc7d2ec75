//! What a signed-in citizen reads about themselves (`/mi-cuenta`), and the ratings citizens give
//! to decided requests, from their account or with the folio and birth date.
//!
//! A citizen reads only their own profile (and the profiles merged into it): every query here
//! starts from the person of their session, and a folio that is not theirs is `NotFound`.

use std::collections::{BTreeSet, HashMap};

use angel_entity::{
    audit_event, borough, enrollment, feedback, person, person_identifier, program,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait as _},
};

use super::catalog::{agencies_by_id, office_names, programs_by_id};
use super::registry::{full_name, masked_id, open_identifier, to_date};
use crate::catalog::dto::Localized;
use crate::citizen::dto::{ACCESS_SHOWN, AccessEntry, MyAccount, MyRequest};
use crate::citizen::forms::Rating;
use crate::domain::card;
use crate::domain::lifecycle::Status;
use crate::error::FieldError;
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::citizen::CitizenSignedIn;
use crate::ssr::vault::Slot;
use crate::ssr::{AppState, ServiceError};

/// The table a feedback comment is sealed under.
pub const FEEDBACK_TABLE: &str = "feedback";

/// Mexico City's time (UTC−6 all year since 2022): how the access log shows times.
fn mexico_city(at: DateTime<Utc>) -> String {
    at.with_timezone(&crate::ssr::clock::mexico_city())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The person and every profile merged into it (a merge keeps the history of both).
pub(crate) async fn own_ids(
    db: &impl ConnectionTrait,
    person_id: i32,
) -> Result<Vec<i32>, ServiceError> {
    let mut ids = vec![person_id];
    let mut frontier = vec![person_id];
    for _ in 0..16 {
        if frontier.is_empty() {
            break;
        }
        let merged: Vec<i32> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .filter(person::Column::MergedInto.is_in(frontier.clone()))
            .into_tuple()
            .all(db)
            .await?;
        frontier = merged.into_iter().filter(|id| !ids.contains(id)).collect();
        ids.extend(&frontier);
    }
    Ok(ids)
}

/// A request counts as decided (and may be rated) once the agency approved or refused it.
pub fn decided(status: &str) -> bool {
    matches!(
        Status::from_code(status),
        Some(
            Status::Approved
                | Status::Active
                | Status::Suspended
                | Status::Exited
                | Status::Rejected
        )
    )
}

/// The account page of the signed-in citizen.
///
/// # Errors
/// `NotFound` when their profile is gone; database errors; `Internal` when an envelope fails.
pub async fn my_account(state: &AppState, me: &CitizenSignedIn) -> Result<MyAccount, ServiceError> {
    let db = &state.db;
    let person = person::Entity::find_by_id(me.person_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let ids = own_ids(db, person.id).await?;
    let masked_curp = match person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.eq(person.id))
        .filter(person_identifier::Column::Kind.eq("curp"))
        .one(db)
        .await?
    {
        Some(row) => Some(masked_id(&row.kind, &open_identifier(state, &row).await?)),
        None => None,
    };
    let borough = borough::Entity::find_by_id(person.borough_id)
        .one(db)
        .await?
        .map(|b| b.name)
        .unwrap_or_default();
    let requests = requests(db, &ids).await?;
    let (access, access_total) = access_log(db, &ids).await?;
    Ok(MyAccount {
        name: full_name(&person),
        masked_curp,
        card: card::grouped(&person.card_number),
        borough,
        requests,
        access,
        access_total,
    })
}

async fn requests(db: &impl ConnectionTrait, ids: &[i32]) -> Result<Vec<MyRequest>, ServiceError> {
    let rows = enrollment::Entity::find()
        .filter(
            enrollment::Column::PersonId
                .is_in(ids.to_vec())
                .or(enrollment::Column::ApplicantId.is_in(ids.to_vec())),
        )
        .order_by_desc(enrollment::Column::RequestedAt)
        .order_by_desc(enrollment::Column::Id)
        .all(db)
        .await?;
    let programs = programs_by_id(db).await?;
    let agencies = agencies_by_id(db).await?;
    let others: BTreeSet<i32> = rows
        .iter()
        .map(|e| e.person_id)
        .filter(|id| !ids.contains(id))
        .collect();
    let names: HashMap<i32, String> = person::Entity::find()
        .filter(person::Column::Id.is_in(others))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.given_names))
        .collect();
    let ratings: HashMap<i32, i32> = feedback::Entity::find()
        .select_only()
        .column(feedback::Column::EnrollmentId)
        .column(feedback::Column::Rating)
        .filter(feedback::Column::EnrollmentId.is_in(rows.iter().map(|e| e.id)))
        .into_tuple::<(i32, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|e| {
            let program = programs.get(&e.program_id)?;
            let runs = agencies.get(&program.agency_id)?;
            let rating = ratings.get(&e.id).and_then(|r| u8::try_from(*r).ok());
            let awaiting = Status::from_code(&e.status).is_some_and(Status::awaits_decision);
            Some(MyRequest {
                folio: e.folio,
                program: Localized {
                    es: program.name_es.clone(),
                    en: program.name_en.clone(),
                },
                agency: Localized {
                    es: runs.name_es.clone(),
                    en: runs.name_en.clone(),
                },
                requested_on: to_date(e.requested_at.date_naive()),
                due_on: to_date(e.due_on),
                supervised: awaiting && e.escalation_level > 0,
                for_whom: names.get(&e.person_id).cloned(),
                can_rate: rating.is_none() && decided(&e.status),
                rating,
                status: e.status,
            })
        })
        .collect())
}

/// Staff actions on the person's profiles and requests, newest first: every audit event with
/// an actor whose subject is one of them.
async fn access_log(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> Result<(Vec<AccessEntry>, u64), ServiceError> {
    let requests: Vec<i32> = enrollment::Entity::find()
        .select_only()
        .column(enrollment::Column::Id)
        .filter(enrollment::Column::PersonId.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    let about_person = audit_event::Column::SubjectType
        .eq("person")
        .and(audit_event::Column::SubjectId.is_in(ids.iter().map(ToString::to_string)));
    let about_requests = audit_event::Column::SubjectType
        .eq("enrollment")
        .and(audit_event::Column::SubjectId.is_in(requests.iter().map(ToString::to_string)));
    let query = audit_event::Entity::find()
        .filter(audit_event::Column::ActorStaffId.is_not_null())
        .filter(about_person.or(about_requests));
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(audit_event::Column::Seq)
        .limit(ACCESS_SHOWN)
        .all(db)
        .await?;
    let agencies = agencies_by_id(db).await?;
    let offices = office_names(db).await?;
    let entries = rows
        .into_iter()
        .map(|ev| AccessEntry {
            at: mexico_city(ev.occurred_at),
            action: ev.action,
            agency: ev
                .agency_id
                .and_then(|id| agencies.get(&id).map(|a| a.name_es.clone())),
            office: ev.office_id.and_then(|id| offices.get(&id).cloned()),
            role: ev.actor_role,
            purpose: ev.purpose,
        })
        .collect();
    Ok((entries, total))
}

/// Records a rating of a decided request. Once per request: a second one is a field error and
/// the first stays as given. The comment is sealed to the row. `by` is the agency staff member
/// (an API client) who sent a rating collected on the agency's own channel.
///
/// # Errors
/// `Invalid` (`not_decided`, `already_rated`), database errors.
pub(crate) async fn rate(
    state: &AppState,
    request: &enrollment::Model,
    rating: &Rating,
    (channel, by): (&str, Option<&crate::domain::access::Actor>),
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let refuse = |code: &str| Err(ServiceError::Invalid(vec![FieldError::new("rating", code)]));
    if !decided(&request.status) {
        return refuse("not_decided");
    }
    let db = &state.db;
    let program = program::Entity::find_by_id(request.program_id)
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let now = state.clock.now();
    let tx = state.audit.begin(db).await?;
    let given = feedback::Entity::find()
        .filter(feedback::Column::EnrollmentId.eq(request.id))
        .count(&*tx)
        .await?;
    if given > 0 {
        return refuse("already_rated");
    }
    let row = feedback::ActiveModel {
        enrollment_id: Set(request.id),
        program_id: Set(program.id),
        agency_id: Set(program.agency_id),
        office_id: Set(request.office_id),
        rating: Set(i32::from(rating.stars)),
        comment: Set(None),
        key_version: Set(super::registry::key_version(state)),
        channel: Set(channel.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&*tx)
    .await?;
    if let Some(comment) = &rating.comment {
        let sealed = state.vault.seal(
            Slot::new(FEEDBACK_TABLE, "comment", i64::from(row.id)),
            comment.as_bytes(),
        );
        feedback::Entity::update_many()
            .col_expr(feedback::Column::Comment, Expr::value(sealed))
            .filter(feedback::Column::Id.eq(row.id))
            .exec(&*tx)
            .await?;
    }
    let mut event = NewEvent::new("feedback.given", now)
        .subject("enrollment", request.id)
        .request(request_id)
        .detail(serde_json::json!({ "channel": channel }));
    if let Some(actor) = by {
        event = event.by(actor);
    }
    tx.record(event).await?;
    tx.commit().await?;
    Ok(())
}

/// A rating from the account: the folio must be one of the citizen's requests (as beneficiary
/// or applicant), otherwise `NotFound`, as for a folio that does not exist.
///
/// # Errors
/// `NotFound`, `Invalid`, database errors.
pub async fn rate_own(
    state: &AppState,
    me: &CitizenSignedIn,
    folio: &str,
    rating: &Rating,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let ids = own_ids(&state.db, me.person_id).await?;
    let request = enrollment::Entity::find()
        .filter(enrollment::Column::Folio.eq(folio))
        .one(&state.db)
        .await?
        .filter(|e| ids.contains(&e.person_id) || ids.contains(&e.applicant_id))
        .ok_or(ServiceError::NotFound)?;
    rate(state, &request, rating, ("account", None), request_id).await
}

/// The rating of a request, if given (the public follow-up shows it).
///
/// # Errors
/// Database errors.
pub(crate) async fn rating_of(
    db: &impl ConnectionTrait,
    enrollment_id: i32,
) -> Result<Option<u8>, ServiceError> {
    Ok(feedback::Entity::find()
        .filter(feedback::Column::EnrollmentId.eq(enrollment_id))
        .one(db)
        .await?
        .and_then(|f| u8::try_from(f.rating).ok()))
}
