//! Server functions of the citizen's account.

use leptos::prelude::*;

use super::dto::MyAccount;
use crate::error::AppError;

/// The signed-in citizen's own account page; `None` when no citizen is signed in (the page
/// then offers to sign in).
///
/// # Errors
/// 500 (an envelope that does not open is audited).
#[server(endpoint = "citizen/account")]
pub async fn get_my_account() -> Result<Option<MyAccount>, AppError> {
    use crate::ssr::guard::{citizen, fail};
    let Some(me) = citizen() else {
        return Ok(None);
    };
    let st = crate::ssr::state()?;
    crate::ssr::services::citizen::my_account(&st, &me)
        .await
        .map(Some)
        .map_err(fail)
}
