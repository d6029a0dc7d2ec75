//! Server functions of the public portal (no sign-in).

use leptos::prelude::*;

use super::dto::ScreenStart;
use crate::error::AppError;

/// The life events to choose from and, for `evento`, the first step of the anonymous check
/// (`para=hijo`: answering about a child). Nothing is stored.
///
/// # Errors
/// 404 for an unknown life event; 500.
#[server(endpoint = "portal/screening")]
pub async fn screening_start(evento: String, para: String) -> Result<ScreenStart, AppError> {
    let st = crate::ssr::state()?;
    Ok(
        crate::ssr::services::portal::start(&st, evento.trim(), para == super::screener::CHILD)
            .await?,
    )
}
