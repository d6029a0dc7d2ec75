//! Clients of the agency API (`/api/v1`): created and revoked by administrators, each bound to
//! one agency and acting through its own staff row, so the API reaches exactly what that
//! agency's staff reach and every call is audited under that row.
//!
//! The credential is `angel_<key id>_<secret>`: the key id (12 characters) finds the client,
//! the secret (256 random bits) proves it. Only the secret's SHA-256 is stored, compared in
//! constant time; the whole credential is shown once, when the client is created. The service
//! account's username is `api:<key id>`: a colon is refused in usernames of people, so it never
//! collides with one, and with no password and no activation token it can never sign in to the
//! screens. Staff screens do not list or change service accounts.

use angel_entity::{agency, api_client, staff};
use chrono::TimeDelta;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, ExprTrait as _},
};
use serde::{Deserialize, Serialize};

use super::tracking::stamp;
use crate::domain::access::{Actor, Permission, Role, authorize};
use crate::error::FieldError;
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::{SignedIn, random_token, same_token, sha256_hex};
use crate::ssr::{AppState, ServiceError};
use crate::staff::dto::ClientRow;
use crate::staff::forms::ApiClientForm;

/// Usernames of service accounts start with this (never valid for a person's account).
pub const SERVICE_PREFIX: &str = "api:";
/// Credentials start with this, so secret scanners and people recognise them.
pub const TOKEN_PREFIX: &str = "angel_";
const KEY_ID_LEN: usize = 12;
/// `last_used_at` is written at most this often per client (not one write per call).
const LAST_USED_EVERY: TimeDelta = TimeDelta::minutes(5);

/// The staff rows of people, not of API clients: what staff screens list, count and assign.
pub fn people_only() -> sea_orm::Condition {
    sea_orm::Condition::all().add(staff::Column::Username.not_like(format!("{SERVICE_PREFIX}%")))
}

/// A client just created: the credential is here once and nowhere else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewClient {
    pub id: i32,
    pub key_id: String,
    pub credential: String,
    pub expires_at: String,
}

/// Every client, newest first. Administrators only.
///
/// # Errors
/// `NotFound` for other roles; database errors.
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<ClientRow>, ServiceError> {
    authorize(actor, Permission::ManageStaff, None).map_err(|_| ServiceError::NotFound)?;
    let codes: std::collections::HashMap<i32, String> = agency::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.code))
        .collect();
    let now = state.clock.now();
    Ok(api_client::Entity::find()
        .order_by_desc(api_client::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| ClientRow {
            id: c.id,
            agency: codes.get(&c.agency_id).cloned().unwrap_or_default(),
            name: c.name,
            key_id: c.key_id,
            created_at: stamp(c.created_at),
            expires_at: stamp(c.expires_at),
            revoked: c.revoked_at.is_some(),
            expired: c.expires_at <= now,
            last_used_at: c.last_used_at.map(stamp),
        })
        .collect())
}

/// A new client of agency `form.agency` (its id) with its service account. Audited
/// (`api_client.created`, never the secret). `actor` is `None` for `angel api client` (whoever
/// runs the server's command line).
///
/// # Errors
/// `Invalid` (an unknown agency among them), `NotFound` for non-administrators, database errors.
pub async fn create(
    state: &AppState,
    actor: Option<&Actor>,
    form: &ApiClientForm,
    request_id: Option<&str>,
) -> Result<NewClient, ServiceError> {
    if let Some(actor) = actor {
        authorize(actor, Permission::ManageStaff, None).map_err(|_| ServiceError::NotFound)?;
    }
    let valid = form.validate().map_err(ServiceError::Invalid)?;
    let found = agency::Entity::find_by_id(valid.agency_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ServiceError::Invalid(vec![FieldError::new("agency", "invalid_choice")]))?;
    let now = state.clock.now();
    let key_id: String = random_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(KEY_ID_LEN)
        .collect();
    let secret = random_token();
    let expires = now + TimeDelta::days(valid.days);
    let tx = state.audit.begin(&state.db).await?;
    let account = staff::ActiveModel {
        username: Set(format!("{SERVICE_PREFIX}{}", key_id.to_lowercase())),
        display_name: Set(format!("API · {} · {}", found.code, valid.name)),
        role: Set(Role::AgencyStaff.code().to_owned()),
        agency_id: Set(Some(found.id)),
        office_id: Set(None),
        password_hash: Set(None),
        activation_token_hash: Set(None),
        activation_expires_at: Set(None),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&*tx)
    .await?;
    let client = api_client::ActiveModel {
        agency_id: Set(found.id),
        staff_id: Set(account.id),
        name: Set(valid.name.clone()),
        key_id: Set(key_id.clone()),
        secret_sha256: Set(sha256_hex(&secret)),
        created_by: Set(actor.map(|a| a.staff_id)),
        created_at: Set(now),
        expires_at: Set(expires),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&*tx)
    .await?;
    let mut event = NewEvent::new("api_client.created", now)
        .subject("api_client", client.id)
        .request(request_id)
        .detail(serde_json::json!({
            "agency": found.code, "key_id": key_id, "service_account": account.id,
            "expires_at": expires.to_rfc3339(),
        }));
    if let Some(actor) = actor {
        event = event.by(actor);
    }
    tx.record(event).await?;
    tx.commit().await?;
    Ok(NewClient {
        id: client.id,
        credential: format!("{TOKEN_PREFIX}{key_id}_{secret}"),
        key_id,
        expires_at: stamp(expires),
    })
}

/// Revokes client `id` and disables its service account, at once and for good. Revoking a
/// revoked client changes nothing.
///
/// # Errors
/// `NotFound` for an unknown client or a non-administrator; database errors.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    id: i32,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    authorize(actor, Permission::ManageStaff, None).map_err(|_| ServiceError::NotFound)?;
    let client = api_client::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if client.revoked_at.is_some() {
        return Ok(());
    }
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    api_client::Entity::update_many()
        .col_expr(api_client::Column::RevokedAt, Expr::value(now))
        .filter(api_client::Column::Id.eq(id))
        .filter(api_client::Column::RevokedAt.is_null())
        .exec(&*tx)
        .await?;
    staff::Entity::update_many()
        .col_expr(staff::Column::DisabledAt, Expr::value(now))
        .col_expr(staff::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            staff::Column::Version,
            Expr::col(staff::Column::Version).add(1),
        )
        .filter(staff::Column::Id.eq(client.staff_id))
        .exec(&*tx)
        .await?;
    tx.record(
        NewEvent::new("api_client.revoked", now)
            .by(actor)
            .subject("api_client", id)
            .request(request_id)
            .detail(serde_json::json!({ "key_id": client.key_id })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A client that authenticated: its row and who it acts as.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client: api_client::Model,
    /// Its service account as a signed-in agency staff member (`session_id` 0: it has no
    /// session; nothing the API calls reads it).
    pub me: SignedIn,
}

/// Why a credential was refused. The caller answers 401 for all of them alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Malformed,
    Unknown,
    Revoked,
    Expired,
}

/// Splits `angel_<key id>_<secret>`.
pub fn parse_credential(credential: &str) -> Option<(&str, &str)> {
    let rest = credential.strip_prefix(TOKEN_PREFIX)?;
    let (key_id, secret) = rest.split_at_checked(KEY_ID_LEN)?;
    let secret = secret.strip_prefix('_')?;
    (key_id.bytes().all(|b| b.is_ascii_alphanumeric()) && !secret.is_empty())
        .then_some((key_id, secret))
}

/// The client a credential belongs to, if it is valid now: known key id, right secret, not
/// revoked, not expired, service account enabled.
///
/// # Errors
/// Database errors.
pub async fn authenticate(
    state: &AppState,
    credential: &str,
) -> Result<Result<Caller, Refused>, ServiceError> {
    let Some((key_id, secret)) = parse_credential(credential) else {
        return Ok(Err(Refused::Malformed));
    };
    let Some(client) = api_client::Entity::find()
        .filter(api_client::Column::KeyId.eq(key_id))
        .one(&state.db)
        .await?
    else {
        return Ok(Err(Refused::Unknown));
    };
    if !same_token(&sha256_hex(secret), &client.secret_sha256) {
        return Ok(Err(Refused::Unknown));
    }
    if client.revoked_at.is_some() {
        return Ok(Err(Refused::Revoked));
    }
    let now = state.clock.now();
    if client.expires_at <= now {
        return Ok(Err(Refused::Expired));
    }
    let Some(account) = staff::Entity::find_by_id(client.staff_id)
        .one(&state.db)
        .await?
        .filter(|s| s.disabled_at.is_none())
    else {
        return Ok(Err(Refused::Revoked));
    };
    if client
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_EVERY)
    {
        api_client::Entity::update_many()
            .col_expr(api_client::Column::LastUsedAt, Expr::value(now))
            .filter(api_client::Column::Id.eq(client.id))
            .exec(&state.db)
            .await?;
    }
    Ok(Ok(Caller {
        me: SignedIn {
            actor: Actor {
                staff_id: account.id,
                role: Role::AgencyStaff,
                agency_id: Some(client.agency_id),
                office_id: None,
            },
            session_id: 0,
            username: account.username,
            display_name: account.display_name,
        },
        client,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_parsed_strictly() {
        assert_eq!(
            parse_credential("angel_abcDEF123456_s3cret-_x"),
            Some(("abcDEF123456", "s3cret-_x"))
        );
        for bad in [
            "",
            "angel_",
            "angel_abcDEF123456",
            "angel_abcDEF123456_",
            "angel_abcDEF12345_secret",
            "angel_abcDEF1234-6_secret",
            "Bearer angel_abcDEF123456_secret",
            "angel_ñbcDEF12345_secret",
        ] {
            assert_eq!(parse_credential(bad), None, "{bad:?}");
        }
    }
}
