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

/// The programs of the chosen life events (codes separated by commas), evaluated; the view is
/// audited.
///
/// # Errors
/// 401, 403, 404, 422 (a merged profile), 500.
#[server(endpoint = "eligibility/bundle")]
pub async fn life_event_bundle(person: i32, events: String) -> Result<Bundle, AppError> {
    let (me, _) = require(Permission::RequestPrograms)?;
    let state = state()?;
    let events: Vec<String> = events
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    eligibility::bundle(&state, &me, person, &events, request_id().as_deref())
        .await
        .map_err(fail)
}

/// The receipt of requests just made (enrollment ids separated by commas): folios, programs, due
/// dates; the view is audited.
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "eligibility/receipt")]
pub async fn request_receipt(person: i32, ids: String) -> Result<Receipt, AppError> {
    let (me, _) = require(Permission::RequestPrograms)?;
    let state = state()?;
    let ids: Vec<i32> = ids
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .take(64)
        .collect();
    eligibility::receipt(&state, &me, person, &ids, request_id().as_deref())
        .await
        .map_err(fail)
}

/// People of the office's borough whom a program should reach soon and who are not in it; the
/// view is audited.
///
/// # Errors
/// 401, 403, 404 (no office), 500.
#[server(endpoint = "office/outreach")]
pub async fn office_outreach() -> Result<super::dto::Outreach, AppError> {
    let (me, _) = require(Permission::RequestPrograms)?;
    let state = state()?;
    crate::ssr::services::outreach::outreach(&state, &me, request_id().as_deref())
        .await
        .map_err(fail)
}
