//! Server-only code: application state, services and their errors. Never compiled into the
//! browser bundle.

pub mod services;
mod state;

pub use state::{AppState, state};

use crate::error::AppError;

/// What a service can fail with. Mapped to the wire error in one place (`From` below).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("not found")]
    NotFound,
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Db(err) => {
                // The request span carries the request id; the detail stays in the log.
                tracing::error!(error = %err, "database error");
                AppError::Internal
            }
        }
    }
}
