//! Server-only code: application state, authentication, the audit log, services and their
//! errors. Never compiled into the browser bundle.

pub mod audit;
pub mod auth;
pub mod clock;
pub mod guard;
pub mod map;
pub mod security;
pub mod services;
pub mod state;
pub mod vault;

pub use state::{AppState, state};

use crate::error::{AppError, FieldError};

/// What a service can fail with. Mapped to the wire error in one place (`From` below).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("conflict: changed by someone else")]
    Conflict,
    #[error("too many attempts")]
    RateLimited,
    #[error("internal: {0}")]
    Internal(&'static str),
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Invalid(fields) => AppError::Validation(fields),
            ServiceError::Conflict => AppError::Conflict,
            ServiceError::RateLimited => AppError::RateLimited,
            ServiceError::Db(err) => {
                // The request span carries the request id; the detail stays in the log.
                tracing::error!(error = %err, "database error");
                AppError::Internal
            }
            ServiceError::Internal(what) => {
                tracing::error!(what, "internal error");
                AppError::Internal
            }
        }
    }
}
