//! Downloads for agency staff (the access layer checks `ViewAgency` before these run):
//! `GET /agencia/solicitudes.csv` and `.json` — every request of the agency's programs with
//! the minimum data of its person ([`angel_app::ssr::services::exchange`]). CSV cells a
//! spreadsheet would run as formulas are made inert; JSON keeps types (card numbers are
//! strings, so their leading zeros survive).

use angel_app::ssr::AppState;
use angel_app::ssr::{
    ServiceError,
    services::exchange::{self, EnrollmentRecord, ExportFilter},
};
use axum::{
    extract::{Query, Request, State},
    response::{IntoResponse, Response},
};
use http::{StatusCode, header};
use serde::Deserialize;

use super::forms::{me, request_id};
use super::security::refusal;
use crate::open_data::inert;

/// The filters an export accepts; anything else is refused (400).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// A program code of the agency (every program when empty).
    #[serde(default)]
    programa: String,
    /// A status code (every status when empty).
    #[serde(default)]
    estado: String,
}

/// The CSV header: Spanish and English names, as in the import report.
const HEADER: [&str; 12] = [
    "folio",
    "programa_program",
    "estado_status",
    "solicitada_requested_on",
    "vence_due_on",
    "decidida_decided_on",
    "escalamiento_escalation_level",
    "version",
    "actualizada_updated_at",
    "tarjeta_card_number",
    "nombre_person_name",
    "alcaldia_borough",
];

fn csv_line(r: &EnrollmentRecord) -> [String; 12] {
    [
        r.folio.clone(),
        r.program.clone(),
        r.status.clone(),
        r.requested_on.clone(),
        r.due_on.clone(),
        r.decided_on.clone().unwrap_or_default(),
        r.escalation_level.to_string(),
        r.version.to_string(),
        r.updated_at.clone(),
        r.card_number.clone(),
        r.person_name.clone(),
        r.borough.clone(),
    ]
}

/// The records as CSV (UTF-8, a header row, `,` separated, formula-looking cells inert).
///
/// # Errors
/// Only if writing to memory fails.
pub fn csv(records: &[EnrollmentRecord]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for r in records {
        w.write_record(csv_line(r).iter().map(|c| inert(c)))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// `GET /agencia/solicitudes.csv`.
pub async fn requests_csv(
    state: State<AppState>,
    query: Query<ExportQuery>,
    request: Request,
) -> Response {
    requests(state, query, request, false).await
}

/// `GET /agencia/solicitudes.json`.
pub async fn requests_json(
    state: State<AppState>,
    query: Query<ExportQuery>,
    request: Request,
) -> Response {
    requests(state, query, request, true).await
}

async fn requests(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
    request: Request,
    json: bool,
) -> Response {
    let headers = request.headers();
    let Some(actor) = me(&request) else {
        return refusal(StatusCode::UNAUTHORIZED, headers);
    };
    let filter = ExportFilter {
        program: q.programa.trim().to_owned(),
        status: q.estado.trim().to_owned(),
    };
    let rid = request_id(headers);
    let export = match exchange::enrollments(&state, &actor, &filter, rid.as_deref()).await {
        Ok(e) => e,
        Err(ServiceError::NotFound) => return refusal(StatusCode::NOT_FOUND, headers),
        Err(error) => {
            tracing::error!(%error, "agency export");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, headers);
        }
    };
    let written = if json {
        serde_json::to_vec(&export.records).map_err(|e| e.to_string())
    } else {
        csv(&export.records).map_err(|e| e.to_string())
    };
    let body = match written {
        Ok(b) => b,
        Err(error) => {
            tracing::error!(%error, "agency export encoding");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, headers);
        }
    };
    let (kind, ext) = if json {
        ("application/json", "json")
    } else {
        ("text/csv; charset=utf-8", "csv")
    };
    let program = if filter.program.is_empty() {
        String::new()
    } else {
        format!("-{}", filter.program)
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"solicitudes-{}{program}.{ext}\"",
                    export.agency
                ),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str) -> EnrollmentRecord {
        EnrollmentRecord {
            folio: "PAAM-2026-000001".into(),
            program: "PAAM".into(),
            status: "active".into(),
            requested_on: "2026-11-02".into(),
            due_on: "2026-11-16".into(),
            decided_on: None,
            escalation_level: 0,
            version: 3,
            updated_at: "2026-11-03T10:00:00Z".into(),
            card_number: "0012345678".into(),
            person_name: name.into(),
            borough: "09007".into(),
        }
    }

    #[test]
    fn formulas_are_inert_and_card_numbers_keep_their_zeros() {
        let text = String::from_utf8(csv(&[record("=HYPERLINK(\"x\")")]).unwrap()).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), HEADER.join(","));
        let line = lines.next().unwrap();
        assert!(line.contains(",0012345678,"), "{line}");
        assert!(line.contains(r#","'=HYPERLINK(""x"")","#), "{line}");
        assert!(
            line.contains(",2026-11-16,,0,3,"),
            "no decision date: {line}"
        );
        let json = serde_json::to_value([record("Rosa")]).unwrap();
        assert_eq!(json[0]["card_number"], "0012345678");
        assert_eq!(json[0]["decided_on"], serde_json::Value::Null);
        assert_eq!(json[0]["version"], 3);
    }
}
