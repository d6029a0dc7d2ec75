//! Citizen accounts: activation (the Ángel card and the birth date, with the CURP or a code a
//! caseworker printed), sign-in with the card and a password, and their own server-side
//! sessions (a cookie of their own: a staff session and a citizen session never stand for each
//! other).
//!
//! As for staff: unknown cards, wrong passwords, wrong proofs take the same path and get the
//! same answer; failures are counted per card typed (its hash) and per IP at the HTTP layer;
//! only hashes of passwords, codes and tokens are stored; nothing typed is logged.

use angel_entity::{citizen_account, citizen_session, person};
use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng as _;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::Expr,
};

use super::{AuthSettings, random_token, sha256_hex, throttle};
use crate::citizen::forms::{Activation, CODE_ALPHABET, CODE_LEN, Proof, grouped_code};
use crate::domain::access::Actor;
use crate::ssr::audit::{AuditLog, NewEvent};
use crate::ssr::services::registry::{self, to_date};
use crate::ssr::state::AppState;
use crate::ssr::{ServiceError, vault::Vault};

/// How long a printed activation code is valid.
pub const CODE_VALID_FOR: TimeDelta = TimeDelta::days(30);

/// The signed-in citizen of a request, resolved from their session by the server's access layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CitizenSignedIn {
    pub account_id: i32,
    pub person_id: i32,
    pub session_id: i32,
}

/// What a sign-in or an activation produced.
#[derive(Debug)]
pub enum Outcome {
    /// The new session's token, for the cookie.
    SignedIn(String),
    /// Unknown card, wrong password, birth date, CURP or code: one answer for all.
    Invalid,
    /// Opening with the CURP an account that already has a password: sign in, or ask an office
    /// for a code (a code replaces the password; the CURP never does).
    AlreadyActive,
    Throttled(TimeDelta),
}

/// The throttle key of a card number typed at the citizen's sign-in or activation.
pub fn key(card: &str) -> String {
    sha256_hex(&format!("citizen\n{card}"))
}

/// The cookie of citizen sessions (`__Host-` over HTTPS).
pub fn cookie_name(settings: &AuthSettings) -> &'static str {
    if settings.secure {
        "__Host-angel_citizen"
    } else {
        "angel_citizen"
    }
}

async fn create_session(
    db: &impl ConnectionTrait,
    settings: &AuthSettings,
    account_id: i32,
    now: DateTime<Utc>,
) -> Result<(i32, String), ServiceError> {
    let token = random_token();
    let row = citizen_session::ActiveModel {
        token_hash: Set(sha256_hex(&token)),
        account_id: Set(account_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + settings.absolute),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row.id, token))
}

/// Resolves a cookie token: `None` for an unknown, idle or expired session (deleted on the way).
///
/// # Errors
/// Database errors.
pub async fn resolve(
    db: &sea_orm::DatabaseConnection,
    audit: &AuditLog,
    settings: &AuthSettings,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<CitizenSignedIn>, ServiceError> {
    let Some(row) = citizen_session::Entity::find()
        .filter(citizen_session::Column::TokenHash.eq(sha256_hex(token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let account = citizen_account::Entity::find_by_id(row.account_id)
        .one(db)
        .await?;
    let ended = match &account {
        None => Some("account_gone"),
        Some(a) if a.password_hash.is_none() => Some("account_reset"),
        Some(_) if now >= row.expires_at => Some("absolute"),
        Some(_) if now - row.last_seen_at >= settings.idle => Some("idle"),
        Some(_) => None,
    };
    if let Some(reason) = ended {
        let tx = audit.begin(db).await?;
        citizen_session::Entity::delete_by_id(row.id)
            .exec(&*tx)
            .await?;
        tx.record(
            NewEvent::new("citizen.session_expired", now)
                .subject("citizen_account", row.account_id)
                .detail(serde_json::json!({ "session": row.id, "reason": reason })),
        )
        .await?;
        tx.commit().await?;
        return Ok(None);
    }
    let Some(account) = account else {
        return Ok(None);
    };
    if now - row.last_seen_at >= TimeDelta::minutes(1) {
        citizen_session::Entity::update_many()
            .col_expr(citizen_session::Column::LastSeenAt, Expr::value(now))
            .filter(citizen_session::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    Ok(Some(CitizenSignedIn {
        account_id: account.id,
        person_id: account.person_id,
        session_id: row.id,
    }))
}

/// Ends the session of this token (signing out), audited.
///
/// # Errors
/// Database errors.
pub async fn sign_out(state: &AppState, token: &str) -> Result<(), ServiceError> {
    let Some(row) = citizen_session::Entity::find()
        .filter(citizen_session::Column::TokenHash.eq(sha256_hex(token)))
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    let tx = state.audit.begin(&state.db).await?;
    citizen_session::Entity::delete_by_id(row.id)
        .exec(&*tx)
        .await?;
    tx.record(
        NewEvent::new("citizen.signed_out", state.clock.now())
            .subject("citizen_account", row.account_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The active profile that holds this card (a merged profile's card leads to the survivor).
async fn holder_of(
    db: &impl ConnectionTrait,
    card: &str,
) -> Result<Option<person::Model>, ServiceError> {
    let Some(found) = person::Entity::find()
        .filter(person::Column::CardNumber.eq(card))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let p = registry::survivor(db, found).await?;
    Ok((p.status == "active").then_some(p))
}

async fn account_of(
    db: &impl ConnectionTrait,
    person_id: i32,
) -> Result<Option<citizen_account::Model>, ServiceError> {
    Ok(citizen_account::Entity::find()
        .filter(citizen_account::Column::PersonId.eq(person_id))
        .one(db)
        .await?)
}

/// Signs a citizen in with their card and password.
///
/// # Errors
/// Database and hashing errors.
pub async fn sign_in(
    state: &AppState,
    card: &str,
    password: &str,
    previous_token: Option<&str>,
    request_id: Option<&str>,
) -> Result<Outcome, ServiceError> {
    let now = state.clock.now();
    let key = key(card);
    if let Err(wait) = throttle::gate(&state.db, &key, now).await? {
        return Ok(Outcome::Throttled(wait));
    }
    let account = match holder_of(&state.db, card).await? {
        Some(p) => account_of(&state.db, p.id).await?,
        None => None,
    };
    let stored = account.as_ref().and_then(|a| a.password_hash.as_deref());
    let verification = state.hasher.verify(password, stored).await?;
    let tx = state.audit.begin(&state.db).await?;
    let Some(account) = account.filter(|_| verification.matches) else {
        throttle::fail(&*tx, &key, now).await?;
        tx.record(NewEvent::new("citizen.sign_in_failed", now).request(request_id))
            .await?;
        tx.commit().await?;
        return Ok(Outcome::Invalid);
    };
    throttle::clear(&*tx, &key).await?;
    if let Some(previous) = previous_token {
        citizen_session::Entity::delete_many()
            .filter(citizen_session::Column::TokenHash.eq(sha256_hex(previous)))
            .exec(&*tx)
            .await?;
    }
    if verification.needs_rehash {
        let upgraded = state.hasher.hash(password).await?;
        citizen_account::Entity::update_many()
            .col_expr(citizen_account::Column::PasswordHash, Expr::value(upgraded))
            .filter(citizen_account::Column::Id.eq(account.id))
            .exec(&*tx)
            .await?;
    }
    let (session, token) = create_session(&*tx, &state.auth, account.id, now).await?;
    tx.record(
        NewEvent::new("citizen.signed_in", now)
            .subject("citizen_account", account.id)
            .request(request_id)
            .detail(serde_json::json!({ "session": session })),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::SignedIn(token))
}

/// Does the proof hold for this person? The CURP through its blind index; a code by its hash
/// on the person's account, before it runs out.
async fn proof_holds(
    vault: &Vault,
    db: &impl ConnectionTrait,
    person: &person::Model,
    account: Option<&citizen_account::Model>,
    proof: &Proof,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    Ok(match proof {
        Proof::Curp(text) => {
            let Ok(curp) = crate::domain::curp::Curp::parse(
                text,
                crate::domain::curp::Date::new(9999, 12, 31).expect("a date"),
            ) else {
                return Ok(false);
            };
            registry::by_curp(vault, db, &curp)
                .await?
                .is_some_and(|holder| holder.id == person.id)
        }
        Proof::Code(code) => account.is_some_and(|a| {
            a.code_hash.as_deref() == Some(sha256_hex(code).as_str())
                && a.code_expires_at.is_some_and(|end| now < end)
        }),
    })
}

/// Opens (or, with a printed code, resets) the account of the person holding the card, with a
/// new password that already passed the rules, and signs them in. Every other session of the
/// account ends.
///
/// # Errors
/// Database and hashing errors.
pub async fn activate(
    state: &AppState,
    activation: &Activation,
    new_password: &str,
    previous_token: Option<&str>,
    request_id: Option<&str>,
) -> Result<Outcome, ServiceError> {
    let now = state.clock.now();
    let key = key(&activation.card);
    if let Err(wait) = throttle::gate(&state.db, &key, now).await? {
        return Ok(Outcome::Throttled(wait));
    }
    let person = holder_of(&state.db, &activation.card)
        .await?
        .filter(|p| to_date(p.birth_date) == activation.birth_date);
    let account = match &person {
        Some(p) => account_of(&state.db, p.id).await?,
        None => None,
    };
    let holds = match &person {
        Some(p) => {
            proof_holds(
                &state.vault,
                &state.db,
                p,
                account.as_ref(),
                &activation.proof,
                now,
            )
            .await?
        }
        None => false,
    };
    let Some(person) = person.filter(|_| holds) else {
        let tx = state.audit.begin(&state.db).await?;
        throttle::fail(&*tx, &key, now).await?;
        tx.record(NewEvent::new("citizen.activation_failed", now).request(request_id))
            .await?;
        tx.commit().await?;
        return Ok(Outcome::Invalid);
    };
    let by_code = matches!(activation.proof, Proof::Code(_));
    if !by_code && account.as_ref().is_some_and(|a| a.password_hash.is_some()) {
        return Ok(Outcome::AlreadyActive);
    }
    let hash = state.hasher.hash(new_password).await?;
    let tx = state.audit.begin(&state.db).await?;
    let account_id = match account {
        Some(a) => {
            // The stored row must still be what was checked (a second activation racing this
            // one, or a new code printed meanwhile, is refused rather than overwritten).
            let changed = citizen_account::Entity::update_many()
                .col_expr(citizen_account::Column::PasswordHash, Expr::value(hash))
                .col_expr(
                    citizen_account::Column::CodeHash,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    citizen_account::Column::CodeExpiresAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(citizen_account::Column::ActivatedAt, Expr::value(now))
                .col_expr(citizen_account::Column::UpdatedAt, Expr::value(now))
                .filter(citizen_account::Column::Id.eq(a.id))
                .filter(citizen_account::Column::UpdatedAt.eq(a.updated_at))
                .exec(&*tx)
                .await?;
            if changed.rows_affected != 1 {
                return Err(ServiceError::Conflict);
            }
            citizen_session::Entity::delete_many()
                .filter(citizen_session::Column::AccountId.eq(a.id))
                .exec(&*tx)
                .await?;
            a.id
        }
        None => {
            citizen_account::ActiveModel {
                person_id: Set(person.id),
                password_hash: Set(Some(hash)),
                activated_at: Set(Some(now)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&*tx)
            .await?
            .id
        }
    };
    throttle::clear(&*tx, &key).await?;
    if let Some(previous) = previous_token {
        citizen_session::Entity::delete_many()
            .filter(citizen_session::Column::TokenHash.eq(sha256_hex(previous)))
            .exec(&*tx)
            .await?;
    }
    let (session, token) = create_session(&*tx, &state.auth, account_id, now).await?;
    tx.record(
        NewEvent::new("citizen.activated", now)
            .subject("person", person.id)
            .request(request_id)
            .detail(serde_json::json!({
                "account": account_id,
                "session": session,
                "proof": if by_code { "code" } else { "curp" },
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::SignedIn(token))
}

/// A new activation code: ten characters of [`CODE_ALPHABET`] (about 50 bits).
fn new_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// Prints a new activation code for a person at an office (their account is opened with it, or
/// its password replaced: how a citizen who forgot it gets back in). Any earlier code stops
/// working. Returns the code as printed (`ABCDE-FGHJK`) and its end; only its hash is stored.
///
/// # Errors
/// `NotFound` (no such active person), database errors.
pub async fn issue_code(
    state: &AppState,
    actor: &Actor,
    person_id: i32,
    request_id: Option<&str>,
) -> Result<(String, DateTime<Utc>), ServiceError> {
    let now = state.clock.now();
    let person = person::Entity::find_by_id(person_id)
        .one(&state.db)
        .await?
        .filter(|p| p.status == "active")
        .ok_or(ServiceError::NotFound)?;
    let code = new_code();
    let expires = now + CODE_VALID_FOR;
    let tx = state.audit.begin(&state.db).await?;
    match account_of(&*tx, person.id).await? {
        Some(a) => {
            citizen_account::Entity::update_many()
                .col_expr(
                    citizen_account::Column::CodeHash,
                    Expr::value(sha256_hex(&code)),
                )
                .col_expr(citizen_account::Column::CodeExpiresAt, Expr::value(expires))
                .col_expr(citizen_account::Column::UpdatedAt, Expr::value(now))
                .filter(citizen_account::Column::Id.eq(a.id))
                .exec(&*tx)
                .await?;
        }
        None => {
            citizen_account::ActiveModel {
                person_id: Set(person.id),
                code_hash: Set(Some(sha256_hex(&code))),
                code_expires_at: Set(Some(expires)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&*tx)
            .await?;
        }
    }
    tx.record(
        NewEvent::new("citizen.code_issued", now)
            .by(actor)
            .subject("person", person.id)
            .purpose("account")
            .request(request_id),
    )
    .await?;
    tx.commit().await?;
    Ok((grouped_code(&code), expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_readable_alphabet() {
        for _ in 0..100 {
            let code = new_code();
            assert_eq!(code.len(), CODE_LEN);
            assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
        }
        assert_ne!(new_code(), new_code());
    }

    #[test]
    fn the_throttle_key_hides_the_card() {
        assert!(!key("1234567890").contains("1234567890"));
        assert_ne!(key("1234567890"), super::throttle::key("1234567890"));
    }
}
