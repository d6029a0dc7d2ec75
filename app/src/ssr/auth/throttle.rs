//! Throttling of guesses, per username typed at sign-in and per folio typed at the public
//! follow-up, known or not (so the answers cannot tell them apart): after 5 failures each attempt
//! waits 1, 2, 4… up to 60 seconds after the previous failure; at 20 failures the key is locked
//! for 15 minutes. Per-IP limits are the HTTP layer's.

use angel_entity::sign_in_throttle as row;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};

use super::{normalize_username, sha256_hex};
use crate::ssr::ServiceError;

/// Failures allowed before the delay starts.
pub const FREE_FAILURES: i32 = 5;
/// Failures that lock the username.
pub const LOCK_AT: i32 = 20;
pub const LOCK_FOR: TimeDelta = TimeDelta::minutes(15);
const MAX_DELAY_SECS: i64 = 60;

/// The throttle key of a username: its SHA-256, so nothing typed there is stored.
pub fn key(username: &str) -> String {
    sha256_hex(&format!("sign-in\n{}", normalize_username(username)))
}

/// The throttle key of a folio (canonical form) at the public follow-up.
pub fn folio_key(folio: &str) -> String {
    sha256_hex(&format!("folio\n{folio}"))
}

/// The wait after `failures` failures (zero for the first five).
pub fn delay_after(failures: i32) -> TimeDelta {
    if failures < FREE_FAILURES {
        return TimeDelta::zero();
    }
    let exponent = u32::try_from(failures - FREE_FAILURES).unwrap_or(0).min(6);
    TimeDelta::seconds((1i64 << exponent).min(MAX_DELAY_SECS))
}

/// May an attempt be made now? `Err(retry_after)` when not.
///
/// # Errors
/// Database errors.
pub async fn gate(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), TimeDelta>, ServiceError> {
    let Some(found) = row::Entity::find_by_id(key.to_owned()).one(db).await? else {
        return Ok(Ok(()));
    };
    if let Some(until) = found.locked_until {
        return Ok(if now < until {
            Err(until - now)
        } else {
            Ok(())
        });
    }
    let ready_at = found.last_failure_at + delay_after(found.failures);
    Ok(if now < ready_at {
        Err(ready_at - now)
    } else {
        Ok(())
    })
}

/// Counts a failure. Returns true when this failure locked the username.
///
/// # Errors
/// Database errors.
pub async fn fail(
    db: &impl ConnectionTrait,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let previous = row::Entity::find_by_id(key.to_owned()).one(db).await?;
    // A lock that ran out starts the count again.
    let failures = match &previous {
        Some(p) if p.locked_until.is_some_and(|u| now >= u) => 1,
        Some(p) => p.failures + 1,
        None => 1,
    };
    let locked = failures >= LOCK_AT;
    let model = row::ActiveModel {
        key: Set(key.to_owned()),
        failures: Set(failures),
        last_failure_at: Set(now),
        locked_until: Set(locked.then(|| now + LOCK_FOR)),
    };
    row::Entity::insert(model)
        .on_conflict(
            OnConflict::column(row::Column::Key)
                .update_columns([
                    row::Column::Failures,
                    row::Column::LastFailureAt,
                    row::Column::LockedUntil,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(locked)
}

/// Forgets the failures (a successful sign-in, or an administrator's reset).
///
/// # Errors
/// Database errors.
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), ServiceError> {
    row::Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_after_five_failures_and_is_capped() {
        let secs: Vec<i64> = (0..=20).map(|n| delay_after(n).num_seconds()).collect();
        assert_eq!(&secs[..5], &[0, 0, 0, 0, 0]);
        assert_eq!(&secs[5..12], &[1, 2, 4, 8, 16, 32, 60]);
        assert!(secs[12..].iter().all(|s| *s == 60));
    }

    #[test]
    fn keys_ignore_case_and_spaces_and_hide_the_name() {
        assert_eq!(key(" Ana.Lopez "), key("ana.lopez"));
        assert!(!key("ana.lopez").contains("ana"));
    }
}
