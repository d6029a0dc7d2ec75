//! The HTTP application: Leptos pages and server functions, health probes, the language
//! switch, static files, and the middleware around them.

pub mod api;
mod citizen;
mod exchange;
pub mod forms;
mod health;
pub mod imports;
mod language;
mod reports;
pub mod security;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use angel_app::{
    App, shell,
    ssr::{AppState, auth::AuthSettings},
};
use axum::{
    Router,
    body::Body,
    routing::{get, post},
};
use http::Request;
use leptos::prelude::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_governor::{GovernorLayer, governor::GovernorConfigBuilder};
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
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
///
/// # Errors
/// Missing or wrong vault keys (see [`app_state`]).
///
/// # Panics
/// As [`router_for`].
pub async fn router(db: DatabaseConnection, settings: &Settings) -> anyhow::Result<Router> {
    Ok(router_for(app_state(db, settings).await?, settings))
}

/// The application state for these settings: the vault's keys are loaded and its canary
/// checked first, so nothing runs with a missing or wrong key.
///
/// # Errors
/// Missing or wrong keys, or a database error while checking them.
pub async fn app_state(db: DatabaseConnection, settings: &Settings) -> anyhow::Result<AppState> {
    let vault = crate::keys::open_vault(&db, settings).await?;
    let auth = AuthSettings {
        idle: chrono::TimeDelta::minutes(i64::from(settings.session_idle_minutes)),
        absolute: chrono::TimeDelta::hours(i64::from(settings.session_absolute_hours)),
        secure: settings.served_over_https(),
    };
    Ok(AppState::new(db, leptos_options(settings), auth, vault))
}

/// How often each server instance offers to run the background jobs. Whoever holds the
/// database lease runs them; the others skip that turn.
pub const JOB_INTERVAL: Duration = Duration::from_secs(300);

/// Runs the background jobs every [`JOB_INTERVAL`] for as long as the process lives, sharing the
/// state's audit log (the chain's writers are serialized through it).
pub fn spawn_jobs(state: AppState) {
    let holder = format!(
        "{}-{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "angel".into()),
        std::process::id(),
        angel_app::ssr::auth::random_token()
            .chars()
            .take(8)
            .collect::<String>()
    );
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(JOB_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = state.clock.now();
            match angel_app::ssr::services::jobs::escalate(&state.db, &state.audit, &holder, now)
                .await
            {
                Ok(Some(run)) if run.total() > 0 => tracing::info!(
                    level_1 = run.raised[0],
                    level_2 = run.raised[1],
                    level_3 = run.raised[2],
                    "escalation job"
                ),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "escalation job failed"),
            }
            match angel_app::ssr::services::gap::run_if_due(&state.db, &holder, now).await {
                Ok(Some(gap)) => tracing::info!(
                    people = gap.people,
                    cells = gap.cells.len(),
                    "eligibility gap job"
                ),
                Ok(None) => {}
                Err(error) => tracing::error!(%error, "eligibility gap job failed"),
            }
        }
    });
}

/// The router over an existing state.
///
/// # Panics
/// When a page or a server function has no entry in `angel_app::policy`, or the rate limit
/// settings are zero.
pub fn router_for(state: AppState, settings: &Settings) -> Router {
    let routes = generate_route_list(App);
    let missing = unlisted_endpoints(&routes);
    assert!(
        missing.is_empty(),
        "endpoints without an access policy entry: {missing:?}"
    );
    let secure = settings.served_over_https();

    // Per-IP limit on the peer address for the posts that check a password, a token, or a
    // folio with its birth date.
    let governor = GovernorConfigBuilder::default()
        .per_second(settings.sign_in_ip_refill_seconds)
        .burst_size(settings.sign_in_ip_burst)
        .finish()
        .expect("non-zero rate limit settings");
    let limited = GovernorLayer::new(Arc::new(governor)).error_handler(|_| {
        security::refusal(http::StatusCode::TOO_MANY_REQUESTS, &http::HeaderMap::new())
    });
    let pages = forms::Pages(Arc::new(routes.clone()));

    Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route(
            &format!("{}/{{lang}}", angel_app::layout::LANGUAGE_PATH),
            get(move |lang, back| language::switch(lang, back, secure)),
        )
        .route("/entrar", post(forms::sign_in).layer(limited.clone()))
        .route("/activar", post(forms::activate).layer(limited.clone()))
        .route(
            "/seguimiento",
            post(forms::follow_request).layer(limited.clone()),
        )
        .route(
            "/seguimiento/opinion",
            post(citizen::rate_by_folio).layer(limited.clone()),
        )
        .route("/mi-cuenta", post(citizen::sign_in).layer(limited.clone()))
        .route("/mi-cuenta/activar", post(citizen::activate).layer(limited))
        .route("/mi-cuenta/salir", post(citizen::sign_out))
        .route("/mi-cuenta/opinion", post(citizen::rate_own))
        .route("/oficina/persona/{id}/codigo", post(citizen::issue_code))
        .route("/revisa", post(forms::screen_step))
        .route("/salir", post(forms::sign_out))
        .route("/cuenta", post(forms::change_password))
        .route("/admin/personal/nuevo", post(forms::create_staff))
        .route("/admin/personal/{id}", post(forms::change_staff))
        .route("/admin/sesiones", post(forms::end_session))
        .route("/admin/api", post(forms::api_clients_post))
        .route("/admin/importar", post(imports::upload))
        .route("/admin/importar/{id}", post(imports::decide))
        .route("/admin/importar/{id}/informe.csv", get(imports::report))
        .route("/admin/reglas/{code}", post(forms::rule_post))
        .route("/admin/indicadores/{code}", post(forms::indicator_post))
        .route("/oficina/personas", post(forms::search_people))
        .route("/oficina/personas/nueva", post(forms::register_person))
        .route("/oficina/persona/{id}", post(forms::reveal_id))
        .route("/oficina/persona/{id}/editar", post(forms::edit_person))
        .route("/oficina/persona/{id}/familia", post(forms::add_relative))
        .route("/oficina/persona/{id}/datos", post(forms::add_fact))
        .route(
            "/oficina/persona/{id}/que-paso",
            post(forms::life_event_post),
        )
        .route("/oficina/duplicados/{id}", post(forms::decide_pair))
        .route(
            "/oficina/persona/{id}/historial",
            post(forms::timeline_post),
        )
        .route("/agencia", post(forms::take_next))
        .route("/agencia/solicitud/{id}", post(forms::decide_request))
        .route("/agencia/canalizacion/{id}", post(forms::decide_referral))
        .route("/agencia/solicitudes.csv", get(exchange::requests_csv))
        .route("/agencia/solicitudes.json", get(exchange::requests_json))
        .route("/oficina/tarjeta/{token}", get(forms::open_card))
        .route("/politica/{file}", get(reports::table))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::Extension(pages))
        // Inside the access layer: only those who may read the page learn that work runs.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            imports::refresh,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::access,
        ))
        // After the access layer: the API authenticates its own clients (bearer credentials,
        // no session, no cookies) and answers problem+json.
        .nest(
            api::PREFIX,
            api::router(state.clone(), settings.api_burst, settings.api_per_second),
        )
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn(move |req, next| {
                    security::headers(Arc::new(secure), req, next)
                }))
                .layer(CompressionLayer::new())
                // A response that has not started after 30 s is answered 503 rather than left
                // hanging (see README, "Known issues").
                .layer(TimeoutLayer::with_status_code(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(30),
                )),
        )
        .with_state(state)
}

/// Pages and server functions that have no entry in the access table.
pub fn unlisted_endpoints(routes: &[leptos_axum::AxumRouteListing]) -> Vec<String> {
    use angel_app::policy::{Method, lookup};
    let pages = routes.iter().map(|r| (Method::Get, r.path().to_owned()));
    let server_fns =
        leptos::server_fn::axum::server_fn_paths().map(|(path, _)| (Method::Post, path.to_owned()));
    pages
        .chain(server_fns)
        .filter(|(method, path)| {
            // Leptos lists parameters as `:id` or `{id}`: any segment value matches either.
            let sample = path
                .split('/')
                .map(|seg| {
                    if seg.starts_with(':') || seg.starts_with('{') {
                        "1"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            lookup(*method, &sample).is_none()
        })
        .map(|(_, path)| path)
        .collect()
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
