//! Staff accounts and sessions: the administrator's operations, the scoped views of offices and
//! agencies, and a person's own password. Every query that lists or opens an object is built
//! with the actor's reach as a predicate; nothing is filtered after fetching.

use std::collections::HashMap;

use angel_entity::{agency, office, program, session, staff};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait as _},
};

use crate::domain::access::{Reach, Role};
use crate::error::FieldError;
use crate::ssr::ServiceError;
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::{SignedIn, session as sessions, sign_in::new_one_time_token, throttle};
use crate::ssr::state::AppState;
use crate::staff::dto::{Assignable, Choice, SessionRow, StaffDetail, StaffRow};
use crate::staff::forms::{ChangePasswordForm, StaffForm, ValidStaff};

/// The predicate of a reach over the staff table.
fn staff_in(reach: Reach) -> Condition {
    match reach {
        Reach::City => Condition::all(),
        Reach::Office(id) => Condition::all().add(staff::Column::OfficeId.eq(id)),
        Reach::Agency(id) => Condition::all().add(staff::Column::AgencyId.eq(id)),
        // Ids are positive: matches no row.
        Reach::Nothing => Condition::all().add(staff::Column::Id.lt(0)),
    }
}

async fn names(
    db: &impl ConnectionTrait,
) -> Result<(HashMap<i32, String>, HashMap<i32, String>), ServiceError> {
    let agencies = agency::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    let offices = office::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    Ok((agencies, offices))
}

fn row(
    s: staff::Model,
    agencies: &HashMap<i32, String>,
    offices: &HashMap<i32, String>,
) -> StaffRow {
    StaffRow {
        id: s.id,
        role: Role::from_code(&s.role).unwrap_or(Role::Caseworker),
        agency: s.agency_id.and_then(|id| agencies.get(&id).cloned()),
        office: s.office_id.and_then(|id| offices.get(&id).cloned()),
        disabled: s.disabled_at.is_some(),
        has_password: s.password_hash.is_some(),
        username: s.username,
        display_name: s.display_name,
    }
}

/// The staff within a reach, by username.
///
/// # Errors
/// Database errors.
pub async fn list(db: &DatabaseConnection, reach: Reach) -> Result<Vec<StaffRow>, ServiceError> {
    let (agencies, offices) = names(db).await?;
    Ok(staff::Entity::find()
        .filter(staff_in(reach))
        .filter(super::api_clients::people_only())
        .order_by_asc(staff::Column::Username)
        .all(db)
        .await?
        .into_iter()
        .map(|s| row(s, &agencies, &offices))
        .collect())
}

/// One staff member within a reach; `NotFound` outside it.
///
/// # Errors
/// `NotFound`, database errors.
pub async fn detail(
    db: &DatabaseConnection,
    reach: Reach,
    id: i32,
) -> Result<StaffDetail, ServiceError> {
    let found = staff::Entity::find_by_id(id)
        .filter(staff_in(reach))
        .filter(super::api_clients::people_only())
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let open_sessions = session::Entity::find()
        .filter(session::Column::StaffId.eq(id))
        .count(db)
        .await?;
    let (agencies, offices) = names(db).await?;
    Ok(StaffDetail {
        agency_id: found.agency_id,
        office_id: found.office_id,
        version: found.version,
        open_sessions,
        row: row(found, &agencies, &offices),
    })
}

/// The agencies and offices an account may be assigned to.
///
/// # Errors
/// Database errors.
pub async fn assignable(db: &DatabaseConnection) -> Result<Assignable, ServiceError> {
    let agencies = agency::Entity::find()
        .order_by_asc(agency::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|a| Choice {
            id: a.id,
            code: a.code,
            name: a.name_es,
        })
        .collect();
    let offices = office::Entity::find()
        .order_by_asc(office::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|o| Choice {
            id: o.id,
            code: o.code,
            name: o.name,
        })
        .collect();
    Ok(Assignable { agencies, offices })
}

/// Checks that the chosen agency or office exists.
async fn anchors_exist(
    db: &impl ConnectionTrait,
    valid: &ValidStaff,
) -> Result<Vec<FieldError>, ServiceError> {
    let mut errors = Vec::new();
    if let Some(id) = valid.agency_id {
        if agency::Entity::find_by_id(id).one(db).await?.is_none() {
            errors.push(FieldError {
                field: "agency".into(),
                code: "invalid_choice".into(),
            });
        }
    }
    if let Some(id) = valid.office_id {
        if office::Entity::find_by_id(id).one(db).await?.is_none() {
            errors.push(FieldError {
                field: "office".into(),
                code: "invalid_choice".into(),
            });
        }
    }
    Ok(errors)
}

/// How a new account will sign in.
pub enum Credential {
    /// A password hash (demo accounts).
    Password(String),
    /// A one-time token's hash: the person chooses a password with it.
    OneTimeToken {
        hash: String,
        expires: DateTime<Utc>,
    },
}

/// The row of a new, enabled account.
pub fn new_account(
    valid: &ValidStaff,
    credential: Credential,
    now: DateTime<Utc>,
) -> staff::ActiveModel {
    let (password_hash, token_hash, expires) = match credential {
        Credential::Password(hash) => (Some(hash), None, None),
        Credential::OneTimeToken { hash, expires } => (None, Some(hash), Some(expires)),
    };
    staff::ActiveModel {
        username: Set(valid.username.clone()),
        display_name: Set(valid.display_name.clone()),
        role: Set(valid.role.code().to_owned()),
        agency_id: Set(valid.agency_id),
        office_id: Set(valid.office_id),
        password_hash: Set(password_hash),
        activation_token_hash: Set(token_hash),
        activation_expires_at: Set(expires),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
}

/// A new account without a password and a one-time token for its first sign-in (shown once).
/// Used by the administration screen and by `angel admin create` (`actor` is `None` there).
///
/// # Errors
/// `Invalid` with field errors (a taken username among them), database errors.
pub async fn create(
    state: &AppState,
    actor: Option<&SignedIn>,
    form: &StaffForm,
    request_id: Option<&str>,
) -> Result<(i32, String), ServiceError> {
    let valid = form.validate(true).map_err(ServiceError::Invalid)?;
    let mut errors = anchors_exist(&state.db, &valid).await?;
    let taken = staff::Entity::find()
        .filter(staff::Column::Username.eq(valid.username.as_str()))
        .one(&state.db)
        .await?;
    if taken.is_some() {
        errors.push(FieldError {
            field: "username".into(),
            code: "username_taken".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let now = state.clock.now();
    let (token, token_hash, expires) = new_one_time_token(now);
    let tx = state.audit.begin(&state.db).await?;
    let created = new_account(
        &valid,
        Credential::OneTimeToken {
            hash: token_hash,
            expires,
        },
        now,
    )
    .insert(&*tx)
    .await?;
    let mut event = NewEvent::new("staff.created", now)
        .subject("staff", created.id)
        .request(request_id)
        .detail(serde_json::json!({
            "role": valid.role.code(), "agency": valid.agency_id, "office": valid.office_id,
        }));
    if let Some(actor) = actor {
        event = event.by(&actor.actor);
    }
    tx.record(event).await?;
    tx.commit().await?;
    Ok((created.id, token))
}

/// What an administrator did to an existing account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    Saved,
    Disabled {
        sessions_ended: u64,
    },
    Enabled,
    /// The password was cleared; the one-time token to choose a new one (shown once).
    Reset {
        token: String,
        username: String,
    },
}

/// Applies an administrator's action on an account (`form.action`).
///
/// # Errors
/// `NotFound`, `Invalid`, `Conflict` (stale version), database errors.
pub async fn change(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    form: &StaffForm,
    request_id: Option<&str>,
) -> Result<Changed, ServiceError> {
    let now = state.clock.now();
    // API clients' service accounts are managed with their client (revoked, never edited).
    let current = staff::Entity::find_by_id(id)
        .filter(super::api_clients::people_only())
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let tx = state.audit.begin(&state.db).await?;
    let event = |action: &str| {
        NewEvent::new(action, now)
            .by(&actor.actor)
            .subject("staff", id)
            .request(request_id)
    };
    let outcome = match form.action.as_str() {
        "save" => {
            let valid = form.validate(false).map_err(ServiceError::Invalid)?;
            let errors = anchors_exist(&*tx, &valid).await?;
            if !errors.is_empty() {
                return Err(ServiceError::Invalid(errors));
            }
            let version: i32 = form.version.trim().parse().map_err(|_| {
                ServiceError::Invalid(vec![FieldError {
                    field: "version".into(),
                    code: "invalid_choice".into(),
                }])
            })?;
            let updated = staff::Entity::update_many()
                .col_expr(staff::Column::DisplayName, Expr::value(valid.display_name))
                .col_expr(staff::Column::Role, Expr::value(valid.role.code()))
                .col_expr(staff::Column::AgencyId, Expr::value(valid.agency_id))
                .col_expr(staff::Column::OfficeId, Expr::value(valid.office_id))
                .col_expr(staff::Column::UpdatedAt, Expr::value(now))
                .col_expr(
                    staff::Column::Version,
                    Expr::col(staff::Column::Version).add(1),
                )
                .filter(staff::Column::Id.eq(id))
                .filter(staff::Column::Version.eq(version))
                .exec(&*tx)
                .await?;
            if updated.rows_affected == 0 {
                return Err(ServiceError::Conflict);
            }
            let changed_scope = current.role != valid.role.code()
                || current.agency_id != valid.agency_id
                || current.office_id != valid.office_id;
            if changed_scope {
                tx.record(event("staff.role_changed").detail(serde_json::json!({
                    "from": { "role": current.role, "agency": current.agency_id, "office": current.office_id },
                    "to": { "role": valid.role.code(), "agency": valid.agency_id, "office": valid.office_id },
                })))
                .await?;
            } else {
                tx.record(event("staff.updated")).await?;
            }
            Changed::Saved
        }
        "disable" => {
            if id == actor.actor.staff_id {
                return Err(ServiceError::Invalid(vec![FieldError {
                    field: "action".into(),
                    code: "cannot_disable_self".into(),
                }]));
            }
            set_disabled(&*tx, id, Some(now)).await?;
            let ended = sessions::delete_all_for(&*tx, id, None).await?;
            tx.record(
                event("staff.disabled").detail(serde_json::json!({ "sessions_ended": ended })),
            )
            .await?;
            Changed::Disabled {
                sessions_ended: ended,
            }
        }
        "enable" => {
            set_disabled(&*tx, id, None).await?;
            tx.record(event("staff.enabled")).await?;
            Changed::Enabled
        }
        "reset" => {
            let (token, token_hash, expires) = new_one_time_token(now);
            staff::Entity::update_many()
                .col_expr(
                    staff::Column::PasswordHash,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(staff::Column::ActivationTokenHash, Expr::value(token_hash))
                .col_expr(staff::Column::ActivationExpiresAt, Expr::value(expires))
                .col_expr(staff::Column::UpdatedAt, Expr::value(now))
                .filter(staff::Column::Id.eq(id))
                .exec(&*tx)
                .await?;
            let ended = sessions::delete_all_for(&*tx, id, None).await?;
            throttle::clear(&*tx, &throttle::key(&current.username)).await?;
            tx.record(
                event("staff.password_reset")
                    .detail(serde_json::json!({ "sessions_ended": ended })),
            )
            .await?;
            Changed::Reset {
                token,
                username: current.username.clone(),
            }
        }
        _ => {
            return Err(ServiceError::Invalid(vec![FieldError {
                field: "action".into(),
                code: "invalid_choice".into(),
            }]));
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

async fn set_disabled(
    db: &impl ConnectionTrait,
    id: i32,
    at: Option<DateTime<Utc>>,
) -> Result<(), ServiceError> {
    staff::Entity::update_many()
        .col_expr(staff::Column::DisabledAt, Expr::value(at))
        .col_expr(
            staff::Column::Version,
            Expr::col(staff::Column::Version).add(1),
        )
        .filter(staff::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Every open session, most recent activity first.
///
/// # Errors
/// Database errors.
pub async fn open_sessions(db: &DatabaseConnection) -> Result<Vec<SessionRow>, ServiceError> {
    let people: HashMap<i32, staff::Model> = staff::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let minute = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    Ok(session::Entity::find()
        .order_by_desc(session::Column::LastSeenAt)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|s| {
            let who = people.get(&s.staff_id)?;
            Some(SessionRow {
                id: s.id,
                staff_id: s.staff_id,
                username: who.username.clone(),
                role: Role::from_code(&who.role)?,
                started: minute(s.created_at),
                last_seen: minute(s.last_seen_at),
                user_agent: s.user_agent,
            })
        })
        .collect())
}

/// Ends one session (administrator). `NotFound` when it already ended.
///
/// # Errors
/// `NotFound`, database errors.
pub async fn end_session(
    state: &AppState,
    actor: &SignedIn,
    session_id: i32,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    let found = session::Entity::find_by_id(session_id)
        .one(&*tx)
        .await?
        .ok_or(ServiceError::NotFound)?;
    session::Entity::delete_by_id(session_id).exec(&*tx).await?;
    tx.record(
        NewEvent::new("session.ended", now)
            .by(&actor.actor)
            .subject("staff", found.staff_id)
            .request(request_id)
            .detail(serde_json::json!({ "session": session_id, "by": "administrator" })),
    )
    .await?;
    tx.commit().await
}

/// Signing out: ends the caller's own session.
///
/// # Errors
/// Database errors.
pub async fn sign_out(
    state: &AppState,
    me: &SignedIn,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    session::Entity::delete_by_id(me.session_id)
        .exec(&*tx)
        .await?;
    tx.record(
        NewEvent::new("sign_out", now)
            .by(&me.actor)
            .subject("staff", me.actor.staff_id)
            .request(request_id)
            .detail(serde_json::json!({ "session": me.session_id })),
    )
    .await?;
    tx.commit().await
}

/// Words a staff member's password may not be made of: their names, their agency and office,
/// and every agency and program name.
///
/// # Errors
/// Database errors.
pub async fn password_context(
    db: &DatabaseConnection,
    username: &str,
) -> Result<Vec<String>, ServiceError> {
    let mut words = vec![username.to_owned()];
    if let Some(s) = staff::Entity::find()
        .filter(staff::Column::Username.eq(username))
        .one(db)
        .await?
    {
        words.push(s.display_name);
    }
    for a in agency::Entity::find().all(db).await? {
        words.extend([a.code, a.name_es, a.name_en]);
    }
    for p in program::Entity::find().all(db).await? {
        words.extend([p.name_es, p.name_en]);
    }
    Ok(words)
}

/// Changes one's own password (the current one is required); other sessions end.
///
/// # Errors
/// `Invalid` (rules, wrong current password), `RateLimited`, database errors.
pub async fn change_own_password(
    state: &AppState,
    me: &SignedIn,
    form: &ChangePasswordForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let context = password_context(&state.db, &me.username).await?;
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let errors = form.validate(&context);
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let now = state.clock.now();
    let key = throttle::key(&me.username);
    if throttle::gate(&state.db, &key, now).await?.is_err() {
        return Err(ServiceError::RateLimited);
    }
    let stored = staff::Entity::find_by_id(me.actor.staff_id)
        .one(&state.db)
        .await?
        .and_then(|s| s.password_hash);
    let verification = state
        .hasher
        .verify(&form.current, stored.as_deref())
        .await?;
    let tx = state.audit.begin(&state.db).await?;
    if !verification.matches {
        throttle::fail(&*tx, &key, now).await?;
        tx.record(
            NewEvent::new("password.change_failed", now)
                .by(&me.actor)
                .request(request_id),
        )
        .await?;
        tx.commit().await?;
        return Err(ServiceError::Invalid(vec![FieldError {
            field: "current".into(),
            code: "current_password_wrong".into(),
        }]));
    }
    let hash = state.hasher.hash(&form.password).await?;
    staff::Entity::update_many()
        .col_expr(staff::Column::PasswordHash, Expr::value(hash))
        .col_expr(staff::Column::UpdatedAt, Expr::value(now))
        .filter(staff::Column::Id.eq(me.actor.staff_id))
        .exec(&*tx)
        .await?;
    let ended = sessions::delete_all_for(&*tx, me.actor.staff_id, Some(me.session_id)).await?;
    tx.record(
        NewEvent::new("password.changed", now)
            .by(&me.actor)
            .subject("staff", me.actor.staff_id)
            .request(request_id)
            .detail(serde_json::json!({ "other_sessions_ended": ended })),
    )
    .await?;
    tx.commit().await
}
