//! Server-side sessions: the cookie carries a random token, the `session` table its SHA-256.

use angel_entity::{session, staff};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::Expr,
};

use super::{AuthSettings, SignedIn, random_token, sha256_hex};
use crate::domain::access::{Actor, Role};
use crate::ssr::ServiceError;
use crate::ssr::audit::{AuditLog, NewEvent};

/// Activity is written back at most this often (one UPDATE a minute, not one per request).
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

/// Creates a session and returns its token (to put in the cookie).
///
/// # Errors
/// Database errors.
pub async fn create(
    db: &impl ConnectionTrait,
    settings: &AuthSettings,
    staff_id: i32,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(i32, String), ServiceError> {
    let token = random_token();
    let row = session::ActiveModel {
        token_hash: Set(sha256_hex(&token)),
        staff_id: Set(staff_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + settings.absolute),
        user_agent: Set(user_agent.map(|ua| ua.chars().take(200).collect())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row.id, token))
}

/// Why a presented token did not resolve to a signed-in staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Unknown,
    Idle,
    Absolute,
    Disabled,
}

/// Resolves a cookie token. Expired sessions and sessions of disabled accounts are deleted
/// (and the end audited) on the way.
///
/// # Errors
/// Database errors.
pub async fn resolve(
    db: &sea_orm::DatabaseConnection,
    audit: &AuditLog,
    settings: &AuthSettings,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Result<SignedIn, Ended>, ServiceError> {
    let Some(row) = session::Entity::find()
        .filter(session::Column::TokenHash.eq(sha256_hex(token)))
        .one(db)
        .await?
    else {
        return Ok(Err(Ended::Unknown));
    };
    let staff = staff::Entity::find_by_id(row.staff_id).one(db).await?;
    let role = staff.as_ref().and_then(|s| Role::from_code(&s.role));
    let ended = match (&staff, role) {
        (Some(s), Some(_)) if s.disabled_at.is_some() => Some(Ended::Disabled),
        (None, _) | (_, None) => Some(Ended::Disabled),
        _ if now >= row.expires_at => Some(Ended::Absolute),
        _ if now - row.last_seen_at >= settings.idle => Some(Ended::Idle),
        _ => None,
    };
    if let Some(reason) = ended {
        let tx = audit.begin(db).await?;
        session::Entity::delete_by_id(row.id).exec(&*tx).await?;
        let reason = match reason {
            Ended::Idle => "idle",
            Ended::Absolute => "absolute",
            _ => "account_disabled",
        };
        tx.record(
            NewEvent::new("session.expired", now)
                .subject("staff", row.staff_id)
                .detail(serde_json::json!({ "session": row.id, "reason": reason })),
        )
        .await?;
        tx.commit().await?;
        return Ok(Err(ended.unwrap_or(Ended::Unknown)));
    }
    let (Some(staff), Some(role)) = (staff, role) else {
        return Ok(Err(Ended::Unknown));
    };
    if now - row.last_seen_at >= TOUCH_EVERY {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(now))
            .filter(session::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    Ok(Ok(SignedIn {
        actor: Actor {
            staff_id: staff.id,
            role,
            agency_id: staff.agency_id,
            office_id: staff.office_id,
        },
        session_id: row.id,
        username: staff.username,
        display_name: staff.display_name,
    }))
}

/// Deletes one session by its token (signing out, or rotating at sign-in). Returns its id.
///
/// # Errors
/// Database errors.
pub async fn delete_by_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<i32>, ServiceError> {
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(sha256_hex(token)))
        .one(db)
        .await?;
    if let Some(row) = &found {
        session::Entity::delete_by_id(row.id).exec(db).await?;
    }
    Ok(found.map(|r| r.id))
}

/// Ends every session of a staff member, except `keep`. Returns how many ended.
///
/// # Errors
/// Database errors.
pub async fn delete_all_for(
    db: &impl ConnectionTrait,
    staff_id: i32,
    keep: Option<i32>,
) -> Result<u64, ServiceError> {
    let mut query = session::Entity::delete_many().filter(session::Column::StaffId.eq(staff_id));
    if let Some(keep) = keep {
        query = query.filter(session::Column::Id.ne(keep));
    }
    Ok(query.exec(db).await?.rows_affected)
}
