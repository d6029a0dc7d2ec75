//! Signing in with a username and a password, and opening an account with a one-time token.
//! Unknown usernames, wrong passwords and disabled accounts take the same path and the same
//! time, and produce the same outcome.

use angel_entity::staff;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};

use super::{normalize_username, session, sha256_hex, throttle};
use crate::domain::access::Role;
use crate::ssr::ServiceError;
use crate::ssr::audit::NewEvent;
use crate::ssr::state::AppState;

/// What a sign-in attempt produced.
#[derive(Debug)]
pub enum Outcome {
    /// Signed in: the new session's token for the cookie, and where to go.
    SignedIn { token: String, home: &'static str },
    /// Unknown user, wrong password or disabled account: one answer for all.
    Invalid,
    /// Too many failures for this username: try again after this long.
    Throttled(TimeDelta),
}

/// The request around an attempt (never its password).
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    pub user_agent: Option<&'a str>,
    pub request_id: Option<&'a str>,
    /// The session token the browser still carried: deleted, so the id rotates.
    pub previous_token: Option<&'a str>,
}

async fn active_staff(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<staff::Model>, ServiceError> {
    Ok(staff::Entity::find()
        .filter(staff::Column::Username.eq(normalize_username(username)))
        .one(db)
        .await?
        .filter(|s| s.disabled_at.is_none()))
}

/// Checks the password and, when it matches, opens a session (rotating any previous one).
///
/// # Errors
/// Database and hashing errors.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    cx: Context<'_>,
) -> Result<Outcome, ServiceError> {
    let now = state.clock.now();
    let key = throttle::key(username);
    if let Err(wait) = throttle::gate(&state.db, &key, now).await? {
        return Ok(Outcome::Throttled(wait));
    }
    let found = active_staff(&state.db, username).await?;
    let stored = found.as_ref().and_then(|s| s.password_hash.as_deref());
    let verification = state.hasher.verify(password, stored).await?;
    let tx = state.audit.begin(&state.db).await?;
    let Some(staff) = found.filter(|_| verification.matches) else {
        let locked = throttle::fail(&*tx, &key, now).await?;
        tx.record(NewEvent::new("sign_in.failed", now).request(cx.request_id))
            .await?;
        if locked {
            tx.record(
                NewEvent::new("sign_in.locked", now)
                    .request(cx.request_id)
                    .detail(serde_json::json!({ "minutes": throttle::LOCK_FOR.num_minutes() })),
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(Outcome::Invalid);
    };
    let Some(role) = Role::from_code(&staff.role) else {
        return Err(ServiceError::Internal("unknown role in the database"));
    };
    throttle::clear(&*tx, &key).await?;
    if let Some(previous) = cx.previous_token {
        session::delete_by_token(&*tx, previous).await?;
    }
    if verification.needs_rehash {
        let upgraded = state.hasher.hash(password).await?;
        staff::Entity::update_many()
            .col_expr(staff::Column::PasswordHash, Expr::value(upgraded))
            .filter(staff::Column::Id.eq(staff.id))
            .exec(&*tx)
            .await?;
    }
    let (session_id, token) =
        session::create(&*tx, &state.auth, staff.id, cx.user_agent, now).await?;
    tx.record(
        NewEvent::new("sign_in.succeeded", now)
            .subject("staff", staff.id)
            .request(cx.request_id)
            .detail(
                serde_json::json!({ "session": session_id, "rehashed": verification.needs_rehash }),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::SignedIn {
        token,
        home: role.home(),
    })
}

/// How long a one-time token is valid.
pub const TOKEN_VALID_FOR: TimeDelta = TimeDelta::hours(72);

/// Opens an account (or a reset one) with its one-time token and a new password that already
/// passed the rules. Wrong username, wrong or expired token: `Invalid`, counted by the throttle.
///
/// # Errors
/// Database and hashing errors.
pub async fn activate(
    state: &AppState,
    username: &str,
    one_time_token: &str,
    new_password: &str,
    cx: Context<'_>,
) -> Result<Outcome, ServiceError> {
    let now = state.clock.now();
    let key = throttle::key(username);
    if let Err(wait) = throttle::gate(&state.db, &key, now).await? {
        return Ok(Outcome::Throttled(wait));
    }
    let found = active_staff(&state.db, username).await?.filter(|s| {
        s.activation_token_hash.as_deref() == Some(sha256_hex(one_time_token.trim()).as_str())
            && s.activation_expires_at.is_some_and(|at| now < at)
    });
    let tx = state.audit.begin(&state.db).await?;
    let Some(staff) = found else {
        throttle::fail(&*tx, &key, now).await?;
        tx.record(NewEvent::new("account.activation_failed", now).request(cx.request_id))
            .await?;
        tx.commit().await?;
        return Ok(Outcome::Invalid);
    };
    let role = Role::from_code(&staff.role)
        .ok_or(ServiceError::Internal("unknown role in the database"))?;
    let hash = state.hasher.hash(new_password).await?;
    staff::Entity::update_many()
        .col_expr(staff::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            staff::Column::ActivationTokenHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            staff::Column::ActivationExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(staff::Column::UpdatedAt, Expr::value(now))
        .filter(staff::Column::Id.eq(staff.id))
        .exec(&*tx)
        .await?;
    throttle::clear(&*tx, &key).await?;
    if let Some(previous) = cx.previous_token {
        session::delete_by_token(&*tx, previous).await?;
    }
    let (session_id, token) =
        session::create(&*tx, &state.auth, staff.id, cx.user_agent, now).await?;
    tx.record(
        NewEvent::new("account.activated", now)
            .subject("staff", staff.id)
            .request(cx.request_id)
            .detail(serde_json::json!({ "session": session_id })),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::SignedIn {
        token,
        home: role.home(),
    })
}

/// A fresh one-time token for an account: returns the token (shown once) and the columns to set.
pub fn new_one_time_token(now: DateTime<Utc>) -> (String, String, DateTime<Utc>) {
    let token = super::random_token();
    let hash = sha256_hex(&token);
    (token, hash, now + TOKEN_VALID_FOR)
}
