//! The HTTP application: Leptos pages and server functions, health probes, the language
//! switch, static files, and the middleware around them.

mod health;
mod language;

use std::{net::SocketAddr, time::Duration};

use angel_app::{App, shell, ssr::AppState};
use axum::{Router, body::Body, routing::get};
use http::Request;
use leptos::prelude::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::config::{Environment, Settings};

/// Leptos options from our settings, so the binary runs without cargo-leptos' variables.
pub fn leptos_options(settings: &Settings) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("angel")
        .site_root(settings.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(settings.bind)
        .env(match settings.env {
            Environment::Production => leptos::config::Env::PROD,
            Environment::Development => leptos::config::Env::DEV,
        })
        .build()
}

/// The whole application as an axum router.
pub fn router(db: DatabaseConnection, settings: &Settings) -> Router {
    let state = AppState {
        db,
        leptos_options: leptos_options(settings),
    };
    let routes = generate_route_list(App);
    let secure_cookies = settings.env == Environment::Production;

    Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route(
            &format!("{}/{{lang}}", angel_app::layout::LANGUAGE_PATH),
            get(move |lang, back| language::switch(lang, back, secure_cookies)),
        )
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CompressionLayer::new()),
        )
        .with_state(state)
}

/// One span per request: id, method and path only (the query string may hold personal data).
fn request_span(request: &Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", id, method = %request.method(), path = request.uri().path())
}

/// Serves until SIGINT or SIGTERM, then lets in-flight requests finish (up to 30 s).
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
    // A hard stop if a request never finishes.
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        tracing::warn!("in-flight requests still running after 30 s; exiting");
        std::process::exit(1);
    });
}
