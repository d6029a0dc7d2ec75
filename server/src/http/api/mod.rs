//! The agency API, `/api/v1`: what agency systems call instead of the screens (README, "The
//! agency API"). JSON in and out, errors as `application/problem+json`, the OpenAPI document
//! at `/api/v1/openapi.json` generated from these handlers.
//!
//! Every call but the document's goes through [`gate`]: the body is read up to 16 KiB (413
//! beyond), the `Authorization: Bearer` credential is checked (401 for a missing, unknown,
//! revoked or expired one, all alike), and the client's rate limit applied (429 with
//! `Retry-After`). The handler then acts as the client's service account, an agency staff
//! member: scope and audit are the screens'. These routes are outside the session, CSRF and
//! same-origin checks of the pages: they are not called by browsers and carry no cookie.

mod handlers;
pub mod idempotency;
pub mod problem;

use std::num::NonZeroU32;
use std::sync::{Arc, LazyLock};

use angel_app::ssr::AppState;
use angel_app::ssr::services::api_clients::{self, Refused};
use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock as _};
use http::{HeaderValue, header};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use problem::{Kind, Problem};

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";
/// The largest request body (JSON documents of a few fields).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ángel — API para dependencias / agency API",
        version = "1.0.0",
        description = "What an agency's own system exchanges with Ángel: the people it serves \
            (minimum data), the requests of its programs with their history, status changes \
            with the same state machine as the screens, referrals, and aggregate coverage. \
            Authenticate with `Authorization: Bearer <credential>` (created by an administrator \
            at /admin/api; shown once). Every call is audited as an action of the client's \
            agency. Errors are `application/problem+json` with English and Spanish messages."
    ),
    paths(
        handlers::find_person,
        handlers::person_by_card,
        handlers::list_enrollments,
        handlers::enrollment,
        handlers::change_status,
        handlers::refer,
        handlers::feedback,
        handlers::coverage,
    ),
    components(schemas(problem::Problem, problem::FieldProblem)),
    modifiers(&Bearer),
    tags(
        (name = "persons", description = "People your agency serves"),
        (name = "enrollments", description = "Requests of your agency's programs"),
        (name = "coverage", description = "Aggregate figures, small cells suppressed"),
    )
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`angel_<key id>_<secret>`, as shown once at creation"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
});

/// The OpenAPI 3 document of this API (also written by `angel api openapi`).
pub fn document() -> &'static str {
    &DOCUMENT
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}

/// The state of the gate: the application's, and one token bucket per client.
#[derive(Clone)]
struct Gate {
    app: AppState,
    limiter: Arc<DefaultKeyedRateLimiter<i32>>,
}

async fn gate(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let headers = &parts.headers;
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return Problem::new(Kind::TooLarge, headers).into_response();
    };
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(credential) = credential else {
        return Problem::new(Kind::Unauthorized, headers).into_response();
    };
    let caller = match api_clients::authenticate(&gate.app, credential).await {
        Ok(Ok(caller)) => caller,
        Ok(Err(why)) => {
            // The key id is public; the secret is never logged.
            let key_id = api_clients::parse_credential(credential).map(|(k, _)| k);
            let why = match why {
                Refused::Malformed => "malformed",
                Refused::Unknown => "unknown",
                Refused::Revoked => "revoked",
                Refused::Expired => "expired",
            };
            tracing::warn!(key_id, why, "api credential refused");
            return Problem::new(Kind::Unauthorized, headers).into_response();
        }
        Err(error) => {
            tracing::error!(%error, "api credential check failed");
            return Problem::new(Kind::Internal, headers).into_response();
        }
    };
    if let Err(not_until) = gate.limiter.check_key(&caller.client.id) {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        let mut response = Problem::new(Kind::RateLimited, headers).into_response();
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&seconds.max(1).to_string()).expect("digits"),
        );
        return response;
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

async fn not_found(request: Request) -> Response {
    Problem::new(Kind::NotFound, request.headers()).into_response()
}

async fn method_not_allowed(request: Request) -> Response {
    Problem::new(Kind::MethodNotAllowed, request.headers()).into_response()
}

/// The API's routes, to be nested at [`PREFIX`]. `burst` calls per client at once, refilled at
/// `per_second`.
///
/// # Panics
/// When `burst` or `per_second` is zero.
pub fn router(state: AppState, burst: u32, per_second: u32) -> Router<AppState> {
    let quota = Quota::per_second(NonZeroU32::new(per_second).expect("non-zero API rate"))
        .allow_burst(NonZeroU32::new(burst).expect("non-zero API burst"));
    let gate_state = Gate {
        app: state,
        limiter: Arc::new(RateLimiter::keyed(quota)),
    };
    let guarded = Router::new()
        .route("/persons/search", post(handlers::find_person))
        .route("/persons/{card_number}", get(handlers::person_by_card))
        .route("/enrollments", get(handlers::list_enrollments))
        .route("/enrollments/{folio}", get(handlers::enrollment))
        .route("/enrollments/{folio}/status", post(handlers::change_status))
        .route("/enrollments/{folio}/referrals", post(handlers::refer))
        .route("/enrollments/{folio}/feedback", post(handlers::feedback))
        .route("/coverage", get(handlers::coverage))
        .route_layer(axum::middleware::from_fn_with_state(gate_state, gate));
    Router::new()
        .route("/openapi.json", get(openapi))
        .merge(guarded)
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}
