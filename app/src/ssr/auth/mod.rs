//! Staff authentication: password hashing, server-side sessions, sign-in throttling, and the
//! one-time tokens that open an account.

pub mod citizen;
pub mod hasher;
pub mod session;
pub mod sign_in;
pub mod throttle;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::domain::access::Actor;

pub use hasher::PasswordHasher;

/// Session and cookie settings (from the server's configuration).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Inactivity after which a staff session ends (15 min).
    pub idle: TimeDelta,
    /// Age at which a staff session ends whatever the activity (10 h).
    pub absolute: TimeDelta,
    /// Served over HTTPS: cookies are `Secure` and `__Host-` prefixed.
    pub secure: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            idle: TimeDelta::minutes(15),
            absolute: TimeDelta::hours(10),
            secure: false,
        }
    }
}

impl AuthSettings {
    /// `__Host-` requires `Secure`, so the plain name is used over http://localhost.
    pub fn session_cookie(&self) -> &'static str {
        if self.secure {
            "__Host-angel_session"
        } else {
            "angel_session"
        }
    }

    pub fn csrf_cookie(&self) -> &'static str {
        if self.secure {
            "__Host-angel_csrf"
        } else {
            "angel_csrf"
        }
    }
}

/// The signed-in staff member of a request, resolved from the session by the server's access
/// layer and put in the request's extensions. Never built from anything the client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub actor: Actor,
    pub session_id: i32,
    pub username: String,
    pub display_name: String,
}

impl From<SignedIn> for crate::staff::dto::Me {
    fn from(s: SignedIn) -> Self {
        crate::staff::dto::Me {
            display_name: s.display_name,
            username: s.username,
            role: s.actor.role,
            permissions: s.actor.role.permissions().to_vec(),
        }
    }
}

/// 256 random bits, URL-safe base64: a session token, a CSRF token or a one-time token.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256, hex: how tokens are stored (a stolen table does not sign anyone in).
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Compares two secrets (tokens, hashes) in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Usernames are compared in lower case without surrounding spaces.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}
