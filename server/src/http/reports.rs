//! Downloads of the policy reports (policy officers; the access layer checks `ViewAggregates`
//! before these run): the numbers of every chart as CSV, with the same suppression as on
//! screen.

use angel_app::{
    coverage::dto::CoverageReport,
    domain::disclosure::Cell,
    ssr::{AppState, ServiceError, services::coverage},
};
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::security::refusal;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageQuery {
    #[serde(default)]
    indicador: String,
    anio: Option<i32>,
}

/// `GET /politica/cobertura.csv?indicador=…&anio=…`: coverage by borough, one row per borough
/// and one for the city.
pub async fn coverage_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CoverageQuery>,
) -> Response {
    match coverage::by_borough(&state.db, q.indicador.trim(), q.anio).await {
        Ok(report) => match coverage_rows(&report) {
            Ok(body) => {
                let name = format!(
                    "cobertura-{}-{}.csv",
                    report.indicator,
                    report
                        .year
                        .map_or_else(|| "sin-poblacion".to_owned(), |y| y.to_string())
                );
                (
                    [
                        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                        (
                            header::CONTENT_DISPOSITION,
                            format!("attachment; filename=\"{name}\""),
                        ),
                    ],
                    body,
                )
                    .into_response()
            }
            Err(error) => {
                tracing::error!(%error, "coverage CSV");
                refusal(StatusCode::INTERNAL_SERVER_ERROR, &headers)
            }
        },
        Err(ServiceError::NotFound) => refusal(StatusCode::NOT_FOUND, &headers),
        Err(error) => {
            tracing::error!(%error, "coverage report");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, &headers)
        }
    }
}

/// How a published count is written: the number, `<5`, or `suppressed` (hidden so that a
/// small cell cannot be worked out from the total).
fn cell(c: Cell) -> String {
    match c {
        Cell::Count(n) => n.to_string(),
        Cell::Small => "<5".to_owned(),
        Cell::Hidden => "suppressed".to_owned(),
    }
}

fn coverage_rows(r: &CoverageReport) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "indicator",
        "year",
        "inegi_code",
        "borough",
        "people_reached",
        "target_population",
        "per_thousand",
        "target_synthetic",
        "target_source",
    ])?;
    let year = r.year.map(|y| y.to_string()).unwrap_or_default();
    let source = r.sources.join("; ");
    let synthetic = if r.synthetic { "true" } else { "false" };
    for row in r.boroughs.iter().chain([&r.total]) {
        let (code, name) = if row.code.is_empty() {
            ("09", "Ciudad de México")
        } else {
            (row.code.as_str(), row.name.as_str())
        };
        w.write_record([
            r.indicator.as_str(),
            &year,
            code,
            name,
            &cell(row.reached),
            &row.target.map(|t| t.to_string()).unwrap_or_default(),
            &row.per_thousand.map(|p| p.to_string()).unwrap_or_default(),
            synthetic,
            &source,
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
