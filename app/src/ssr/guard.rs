//! The check at the top of every server function: who is asking (from the session the access
//! layer resolved), whether their role may do this, and the reach their queries are built with.
//! Errors set the response status (401, 403, 404, 409, 422, 429, 500).

use leptos::prelude::use_context;

use crate::domain::access::{Denied, Permission, Reach, Scope, authorize};
use crate::error::AppError;
use crate::ssr::auth::SignedIn;

/// The signed-in staff member of the current request, if any.
pub fn signed_in() -> Option<SignedIn> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SignedIn>().cloned())
}

/// The signed-in citizen of the current request, if any (their own session cookie).
pub fn citizen() -> Option<crate::ssr::auth::citizen::CitizenSignedIn> {
    use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .extensions
            .get::<crate::ssr::auth::citizen::CitizenSignedIn>()
            .copied()
    })
}

/// The request id of the current request (for audit events).
pub fn request_id() -> Option<String> {
    use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// The HTTP status of an error.
pub fn status_of(error: &AppError) -> http::StatusCode {
    http::StatusCode::from_u16(error.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
}

/// Sets the response status for an error and returns it (`.map_err(fail)`).
pub fn fail(error: impl Into<AppError>) -> AppError {
    let error = error.into();
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status_of(&error));
    }
    error
}

/// Requires a signed-in staff member whose role has `permission`; returns them and their reach.
///
/// # Errors
/// `Unauthenticated` (401) or `Forbidden` (403), with the status set.
pub fn require(permission: Permission) -> Result<(SignedIn, Reach), AppError> {
    let me = signed_in().ok_or_else(|| fail(AppError::Unauthenticated))?;
    let reach = authorize(&me.actor, permission, None).map_err(|d| fail(denied(d)))?;
    Ok((me, reach))
}

/// Checks one object's scope for the current actor: `NotFound` (404) when out of reach.
///
/// # Errors
/// As [`authorize`], with the status set.
pub fn require_scope(
    me: &SignedIn,
    permission: Permission,
    scope: Scope,
) -> Result<Reach, AppError> {
    authorize(&me.actor, permission, Some(scope)).map_err(|d| fail(denied(d)))
}

pub fn denied(denied: Denied) -> AppError {
    match denied {
        Denied::Forbidden => AppError::Forbidden,
        Denied::NotFound => AppError::NotFound,
    }
}
