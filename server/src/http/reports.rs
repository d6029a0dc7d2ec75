//! Downloads of the policy reports (policy officers; the access layer checks `ViewAggregates`
//! before these run): `GET /politica/{table}.csv` or `.json` — the numbers of every chart,
//! with the same suppression as on screen (tables in [`crate::open_data`]).

use angel_app::ssr::{AppState, ServiceError};
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::security::refusal;
use crate::open_data;

/// The filters a table accepts; anything else is refused (400).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableQuery {
    /// Indicator code (coverage; the first indicator when empty).
    #[serde(default)]
    indicador: String,
    /// Target population year (coverage; the newest when absent).
    anio: Option<i32>,
    /// INEGI borough code (figures by program; the city when empty).
    #[serde(default)]
    alcaldia: String,
}

/// `GET /politica/{file}`: `cobertura`, `programas`, `programas-mes`, `traslape`, `calidad`,
/// `brecha` or `calificaciones`, as `.csv` or `.json`.
pub async fn table(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<TableQuery>,
) -> Response {
    let Some((name, json)) = file
        .strip_suffix(".csv")
        .map(|n| (n, false))
        .or_else(|| file.strip_suffix(".json").map(|n| (n, true)))
    else {
        return refusal(StatusCode::NOT_FOUND, &headers);
    };
    let found = open_data::table(
        &state.db,
        name,
        q.indicador.trim(),
        q.anio,
        q.alcaldia.trim(),
        state.clock.now(),
    )
    .await;
    let table = match found {
        Ok(t) => t,
        Err(ServiceError::NotFound) => return refusal(StatusCode::NOT_FOUND, &headers),
        Err(error) => {
            tracing::error!(%error, table = name, "policy table");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, &headers);
        }
    };
    let suffix = [
        (!q.alcaldia.is_empty()).then(|| q.alcaldia.trim().to_owned()),
        q.anio.map(|y| y.to_string()),
    ]
    .into_iter()
    .flatten()
    .map(|s| format!("-{s}"))
    .collect::<String>();
    let (body, kind, ext) = if json {
        match serde_json::to_vec(&table.json()) {
            Ok(b) => (b, "application/json", "json"),
            Err(error) => {
                tracing::error!(%error, "policy table JSON");
                return refusal(StatusCode::INTERNAL_SERVER_ERROR, &headers);
            }
        }
    } else {
        match table.csv() {
            Ok(b) => (b, "text/csv; charset=utf-8", "csv"),
            Err(error) => {
                tracing::error!(%error, "policy table CSV");
                return refusal(StatusCode::INTERNAL_SERVER_ERROR, &headers);
            }
        }
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}{suffix}.{ext}\"", table.name),
            ),
        ],
        body,
    )
        .into_response()
}
