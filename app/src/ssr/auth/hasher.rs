//! Argon2id password hashing (OWASP: m = 19 MiB, t = 2, p = 1), run on the blocking pool
//! behind a semaphore sized to the cores, so sign-in storms neither stall the async runtime
//! nor exhaust memory (each hash holds 19 MiB).

use std::sync::{Arc, OnceLock};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::SaltString,
};
use rand::RngCore as _;
use tokio::sync::Semaphore;

use crate::ssr::ServiceError;

pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash is weaker than the current parameters: store a new one.
    pub needs_rehash: bool,
}

#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// A hash of a random password: unknown users are checked against it, so that they cost the
/// same time as known ones.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        hash_blocking(&hex::encode(secret)).expect("hash the decoy")
    })
}

fn verify_blocking(password: &str, stored: Option<&str>) -> Verification {
    let known = stored.is_some();
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or_else(|| decoy())) else {
        return Verification {
            matches: false,
            needs_rehash: false,
        };
    };
    // Always run the comparison, so an unknown user costs what a known one does.
    let matches = argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && known;
    let weaker = parsed.algorithm.as_str() != "argon2id"
        || Params::try_from(&parsed).map_or(true, |p| {
            p.m_cost() < M_COST_KIB || p.t_cost() < T_COST || p.p_cost() < P_COST
        });
    Verification {
        matches,
        needs_rehash: matches && weaker,
    }
}

impl PasswordHasher {
    /// At most `permits` hashes at once (the number of cores).
    pub fn new(permits: usize) -> PasswordHasher {
        PasswordHasher {
            permits: Arc::new(Semaphore::new(permits.max(1))),
        }
    }

    /// One permit per core the machine reports.
    pub fn sized_to_cores() -> PasswordHasher {
        PasswordHasher::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// A PHC string for a new password.
    ///
    /// # Errors
    /// `ServiceError::Internal` if the blocking pool or the hasher fails.
    pub async fn hash(&self, password: &str) -> Result<String, ServiceError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ServiceError::Internal("hasher closed"))?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|_| ServiceError::Internal("hashing task failed"))?
            .map_err(|_| ServiceError::Internal("hashing failed"))
    }

    /// Checks a password against a stored PHC string; `None` (unknown user, account without a
    /// password) is checked against a decoy and never matches.
    ///
    /// # Errors
    /// `ServiceError::Internal` if the blocking pool fails.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verification, ServiceError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ServiceError::Internal("hasher closed"))?;
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        tokio::task::spawn_blocking(move || verify_blocking(&password, stored.as_deref()))
            .await
            .map_err(|_| ServiceError::Internal("verification task failed"))
    }
}

/// A hash with explicit (possibly weaker) parameters: tests of the upgrade at sign-in.
pub fn hash_with(password: &str, m_cost_kib: u32, t_cost: u32) -> String {
    let params = Params::new(m_cost_kib, t_cost, 1, None).expect("valid Argon2 parameters");
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("salt");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_owasp_parameters() {
        let hasher = PasswordHasher::new(2);
        let phc = hasher.hash("luz verde del río seco").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let ok = hasher
            .verify("luz verde del río seco", Some(&phc))
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                matches: true,
                needs_rehash: false
            }
        );
        let bad = hasher
            .verify("luz verde del río sec0", Some(&phc))
            .await
            .unwrap();
        assert!(!bad.matches);
        let unknown = hasher.verify("luz verde del río seco", None).await.unwrap();
        assert!(!unknown.matches);
    }

    #[tokio::test]
    async fn weaker_hashes_ask_for_a_rehash_only_when_they_match() {
        let hasher = PasswordHasher::new(1);
        let weak = hash_with("luz verde del río seco", 4096, 1);
        let ok = hasher
            .verify("luz verde del río seco", Some(&weak))
            .await
            .unwrap();
        assert_eq!(
            ok,
            Verification {
                matches: true,
                needs_rehash: true
            }
        );
        let bad = hasher
            .verify("otra cosa muy distinta", Some(&weak))
            .await
            .unwrap();
        assert_eq!(
            bad,
            Verification {
                matches: false,
                needs_rehash: false
            }
        );
    }
}
