//! Server functions of the eligibility screens (reads; requests and answers are form posts).

use leptos::prelude::*;

use super::dto::{Bundle, Receipt};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::access::Permission,
    ssr::{
        guard::{fail, request_id, require},
        services::eligibility,
        state,
    },
};

/// The programs of the chosen life events, evaluated (the view is audited).
///
/// # Errors
/// 401, 403, 404, 422 (a merged profile), 500.
#[server(endpoint = "eligibility/bundle")]
pub async fn life_event_bundle(person: i32, events: Vec<String>) -> Result<Bundle, AppError> {
    let (me, _) = require(Permission::RequestPrograms)?;
    let state = state()?;
    eligibility::bundle(&state, &me, person, &events, request_id().as_deref())
        .await
        .map_err(fail)
}

/// The receipt of requests just made (folios, programs, due dates); the view is audited.
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "eligibility/receipt")]
pub async fn request_receipt(person: i32, ids: Vec<i32>) -> Result<Receipt, AppError> {
    let (me, _) = require(Permission::RequestPrograms)?;
    let state = state()?;
    eligibility::receipt(&state, &me, person, &ids, request_id().as_deref())
        .await
        .map_err(fail)
}
