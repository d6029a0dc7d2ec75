//! Server functions of the public catalog.

use leptos::prelude::*;

use super::dto::Catalog;
use crate::error::AppError;

/// The life events with their programs, in display order. Public: no sign-in needed.
///
/// # Errors
/// `AppError::Internal` when the database cannot be read.
#[server(endpoint = "catalog")]
pub async fn get_catalog() -> Result<Catalog, AppError> {
    let st = crate::ssr::state()?;
    Ok(crate::ssr::services::catalog::load(&st.db).await?)
}
