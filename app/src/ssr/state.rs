//! The state every request shares. Built once by the server and provided to server functions
//! and pages as Leptos context.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::{LeptosOptions, use_context};
use sea_orm::DatabaseConnection;

use crate::error::AppError;
use crate::ssr::audit::AuditLog;
use crate::ssr::auth::{AuthSettings, PasswordHasher};
use crate::ssr::clock::{Clock, SystemClock};
use crate::ssr::services::portal::PortalCache;
use crate::ssr::services::uploads::Working;
use crate::ssr::vault::Vault;

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub leptos_options: LeptosOptions,
    pub auth: AuthSettings,
    pub hasher: PasswordHasher,
    pub audit: AuditLog,
    pub clock: Arc<dyn Clock>,
    /// Seals and opens ID numbers and contact details; its canary was checked at start.
    pub vault: Vault,
    /// What the anonymous check reads (catalog, rules, offices), kept in memory.
    pub portal: PortalCache,
    /// The uploads (`/admin/importar`) this server is previewing or importing.
    pub uploads: Working,
}

impl AppState {
    /// State with the system clock and a hasher sized to the cores.
    pub fn new(
        db: DatabaseConnection,
        leptos_options: LeptosOptions,
        auth: AuthSettings,
        vault: Vault,
    ) -> AppState {
        AppState {
            db,
            leptos_options,
            auth,
            hasher: PasswordHasher::sized_to_cores(),
            audit: AuditLog::default(),
            clock: Arc::new(SystemClock),
            vault,
            portal: PortalCache::default(),
            uploads: Working::default(),
        }
    }
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
