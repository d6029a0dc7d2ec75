//! The state every request shares. Built once by the server and provided to server functions
//! as Leptos context.

use axum::extract::FromRef;
use leptos::prelude::{LeptosOptions, use_context};
use sea_orm::DatabaseConnection;

use crate::error::AppError;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The application state inside a server function or a server-rendered component.
///
/// # Errors
/// `AppError::Internal` when called outside a request the server set up (a wiring bug).
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}
