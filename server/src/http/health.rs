//! Probes for load balancers and orchestrators.

use angel_app::ssr::AppState;
use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;

/// `/healthz`: the process answers.
pub async fn live() -> &'static str {
    "ok"
}

#[derive(Serialize)]
pub struct Readiness {
    database: &'static str,
    pending_migrations: usize,
}

/// `/readyz`: the database answers and every migration is applied; 503 otherwise.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    if let Err(err) = state.db.ping().await {
        tracing::warn!(error = %err, "readiness: database unreachable");
        let body = Readiness {
            database: "unreachable",
            pending_migrations: 0,
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
    match crate::db::pending_migrations(&state.db).await {
        Ok(pending) if pending.is_empty() => (
            StatusCode::OK,
            Json(Readiness {
                database: "ok",
                pending_migrations: 0,
            }),
        ),
        Ok(pending) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Readiness {
                database: "ok",
                pending_migrations: pending.len(),
            }),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness: cannot read migrations");
            let body = Readiness {
                database: "error",
                pending_migrations: 0,
            };
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
    }
}
