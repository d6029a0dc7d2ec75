//! Server functions of the registry screens (read-only; every change is a form post). Each is
//! listed in `crate::policy` and checks its permission again with [`require`].

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::dto::Profile;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::access::Permission,
    ssr::{
        guard::{fail, request_id, require},
        services::registry,
        state,
    },
};

/// What the intake form needs: the alcaldías and today's date (the CURP's "not in the future"
/// rule runs in the browser too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeData {
    /// (INEGI code, name), by name.
    pub boroughs: Vec<(String, String)>,
    /// `YYYY-MM-DD`, from the server's clock.
    pub today: String,
}

/// # Errors
/// 401, 403, 500.
#[server(endpoint = "registry/intake")]
pub async fn intake_choices() -> Result<IntakeData, AppError> {
    use angel_entity::borough;
    use sea_orm::{EntityTrait, QueryOrder};
    require(Permission::RegisterPerson)?;
    let state = state()?;
    let boroughs = borough::Entity::find()
        .order_by_asc(borough::Column::Name)
        .all(&state.db)
        .await
        .map_err(|e| fail(crate::ssr::ServiceError::from(e)))?
        .into_iter()
        .map(|b| (b.inegi_code, b.name))
        .collect();
    Ok(IntakeData {
        boroughs,
        today: state.clock.now().date_naive().to_string(),
    })
}

/// A person's profile; the view is audited.
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "registry/profile")]
pub async fn person_profile(id: i32) -> Result<Profile, AppError> {
    let (me, _) = require(Permission::ViewPerson)?;
    let state = state()?;
    registry::profile(&state, &me, id, "registry", request_id().as_deref())
        .await
        .map_err(fail)
}

/// The printable card of a person (audited as a view with purpose `card`).
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "registry/card")]
pub async fn person_card(id: i32) -> Result<super::dto::CardData, AppError> {
    let (me, _) = require(Permission::ViewPerson)?;
    let state = state()?;
    // The QR code holds an absolute URL so that a phone camera opens it; the host is the one
    // this page was requested from (plain http only on loopback).
    let host = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::HOST)?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let loopback =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    let origin = format!("{}://{host}", if loopback { "http" } else { "https" });
    registry::card(&state, &me, id, &origin, request_id().as_deref())
        .await
        .map_err(fail)
}

/// The duplicate review queue (office supervisors).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "registry/duplicates")]
pub async fn duplicate_queue() -> Result<Vec<super::dto::PairRow>, AppError> {
    require(Permission::ReviewDuplicates)?;
    let state = state()?;
    crate::ssr::services::merge::queue(&state)
        .await
        .map_err(fail)
}

/// A pair side by side (both views audited).
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "registry/pair")]
pub async fn duplicate_pair(id: i32) -> Result<super::dto::Pair, AppError> {
    let (me, _) = require(Permission::ReviewDuplicates)?;
    let state = state()?;
    crate::ssr::services::merge::pair(&state, &me, id, request_id().as_deref())
        .await
        .map_err(fail)
}
