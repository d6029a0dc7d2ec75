//! `Idempotency-Key` on the API's writes: the first response to a key is kept (24 hours) and
//! replayed when the same client sends the same key with the same method, path and body; the
//! same key with anything else is 422 and writes nothing. The key is reserved before the write
//! runs, so two concurrent calls with one key cannot both write: the second is 409 until the
//! first has answered. A call that failed on our side (5xx) frees its key for a retry.

use std::future::Future;

use angel_app::error::FieldError;
use angel_app::ssr::{AppState, auth::sha256_hex};
use angel_entity::api_idempotency;
use axum::body::{Body, to_bytes};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, OnConflict},
};

use super::problem::{Kind, PROBLEM_JSON, Problem};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long a key is remembered.
pub const KEPT: TimeDelta = TimeDelta::hours(24);
const MAX_KEY: usize = 128;
/// Responses kept are the API's small JSON documents.
const MAX_KEPT_BODY: usize = 256 * 1024;

fn internal(headers: &HeaderMap, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "idempotency store");
    Problem::new(Kind::Internal, headers).into_response()
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let kind = if status.is_success() {
        "application/json"
    } else {
        PROBLEM_JSON
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED, HeaderValue::from_static("true"));
    }
    response
}

/// Runs `write` at most once per (client, key): see the module documentation. Without the
/// header, `write` simply runs.
pub async fn once<F, Fut>(
    state: &AppState,
    client_id: i32,
    headers: &HeaderMap,
    fingerprint: &[u8],
    write: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(raw) = headers.get(HEADER) else {
        return write().await;
    };
    let key = match raw.to_str() {
        Ok(k)
            if !k.trim().is_empty()
                && k.len() <= MAX_KEY
                && k.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            k.to_owned()
        }
        _ => {
            let code = if raw.len() > MAX_KEY {
                "too_long"
            } else {
                "invalid_idempotency_key"
            };
            return Problem::invalid(&[FieldError::new("Idempotency-Key", code)], headers)
                .into_response();
        }
    };
    let digest = sha256_hex(&String::from_utf8_lossy(fingerprint));
    let now = state.clock.now();
    let db = &state.db;
    if let Err(e) = api_idempotency::Entity::delete_many()
        .filter(api_idempotency::Column::CreatedAt.lt(now - KEPT))
        .exec(db)
        .await
    {
        return internal(headers, &e);
    }
    let reserved = api_idempotency::Entity::insert(api_idempotency::ActiveModel {
        client_id: Set(client_id),
        key: Set(key.clone()),
        request_sha256: Set(digest.clone()),
        status: Set(0),
        body: Set(String::new()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            api_idempotency::Column::ClientId,
            api_idempotency::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await;
    match reserved {
        Ok(1) => {}
        Ok(_) => {
            let kept = api_idempotency::Entity::find_by_id((client_id, key.clone()))
                .one(db)
                .await;
            return match kept {
                Ok(Some(k)) if k.request_sha256 != digest => {
                    Problem::new(Kind::KeyReused, headers).into_response()
                }
                Ok(Some(k)) if k.status == 0 => {
                    Problem::new(Kind::KeyInFlight, headers).into_response()
                }
                Ok(Some(k)) => json_response(
                    StatusCode::from_u16(u16::try_from(k.status).unwrap_or(500))
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    k.body,
                    true,
                ),
                // Purged between the two statements: answer as in flight; a retry runs it.
                Ok(None) => Problem::new(Kind::KeyInFlight, headers).into_response(),
                Err(e) => internal(headers, &e),
            };
        }
        Err(e) => return internal(headers, &e),
    }

    let response = write().await;
    let (parts, body) = response.into_parts();
    let free = || {
        api_idempotency::Entity::delete_many()
            .filter(api_idempotency::Column::ClientId.eq(client_id))
            .filter(api_idempotency::Column::Key.eq(key.as_str()))
            .exec(db)
    };
    let Ok(bytes) = to_bytes(body, MAX_KEPT_BODY).await else {
        let _ = free().await;
        return Problem::new(Kind::Internal, headers).into_response();
    };
    if parts.status.is_server_error() {
        if let Err(e) = free().await {
            tracing::error!(error = %e, "idempotency key not freed");
        }
        return Response::from_parts(parts, Body::from(bytes));
    }
    let kept = api_idempotency::Entity::update_many()
        .col_expr(
            api_idempotency::Column::Status,
            Expr::value(i32::from(parts.status.as_u16())),
        )
        .col_expr(
            api_idempotency::Column::Body,
            Expr::value(String::from_utf8_lossy(&bytes).into_owned()),
        )
        .filter(api_idempotency::Column::ClientId.eq(client_id))
        .filter(api_idempotency::Column::Key.eq(key.as_str()))
        .exec(db)
        .await;
    if let Err(e) = kept {
        // The write happened: answer it; a retry with this key would then be 409, not a
        // second write.
        tracing::error!(error = %e, "idempotent response not kept");
    }
    Response::from_parts(parts, Body::from(bytes))
}
