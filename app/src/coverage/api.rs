//! Server functions of the coverage reports (policy officers: `ViewAggregates`).

use leptos::prelude::*;

use super::dto::{CoverageReport, IndicatorAdmin, ProgramReport};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::access::Permission,
    ssr::{
        guard::{fail, require},
        services::{coverage, figures, indicators},
        state,
    },
};

/// Coverage of an indicator (code; the first when empty) by borough, against the target
/// population of `year` (the newest loaded when absent).
///
/// # Errors
/// 401, 403, 404 (unknown indicator or year), 500.
#[server(endpoint = "policy/coverage")]
pub async fn get_coverage(
    indicator: String,
    year: Option<i32>,
) -> Result<CoverageReport, AppError> {
    require(Permission::ViewAggregates)?;
    coverage::by_borough(&state()?.db, indicator.trim(), year)
        .await
        .map_err(fail)
}

/// The figures by program (reached now and by month, overlap, decision times, data quality)
/// for a borough (INEGI code; the whole city when empty).
///
/// # Errors
/// 401, 403, 404 (unknown borough), 500.
#[server(endpoint = "policy/figures")]
pub async fn get_program_figures(borough: String) -> Result<ProgramReport, AppError> {
    require(Permission::ViewAggregates)?;
    let state = state()?;
    figures::by_program(&state.db, borough.trim(), state.clock.now())
        .await
        .map_err(fail)
}

/// Every indicator with its names and programs, for administrators (who may edit the rules).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "admin/indicators")]
pub async fn get_indicator_admin() -> Result<IndicatorAdmin, AppError> {
    require(Permission::ManageRules)?;
    indicators::admin(&state()?.db).await.map_err(fail)
}
