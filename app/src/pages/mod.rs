//! Pages that belong to no single feature: home and errors.

mod home;

pub use home::HomePage;

use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::*;

/// Sets the HTTP status of the page being rendered on the server; does nothing in the browser.
pub fn set_http_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(code),
    ) {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// The request id of this response (also in the `x-request-id` header and the logs), carried to
/// the browser with the page so that the hydrated page shows the same.
pub fn use_request_id() -> String {
    SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|p| {
                    p.headers
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                })
                .unwrap_or_default()
        }
        #[cfg(not(feature = "ssr"))]
        {
            String::new()
        }
    })
    .into_inner()
}

/// "Reference: <request id>", for people to quote when they report a problem.
#[component]
pub fn Reference() -> impl IntoView {
    let i18n = use_i18n();
    let id = use_request_id();
    (!id.is_empty())
        .then(|| view! { <p class="hint">{t!(i18n, error_reference)} ": " <code>{id}</code></p> })
}

#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    set_http_status(404);
    view! {
        <h1>{t!(i18n, not_found_title)}</h1>
        <p>{t!(i18n, error_not_found)}</p>
        <Reference />
        <p>
            <a href="/">{t!(i18n, nav_home)}</a>
        </p>
    }
}

/// A translated message for an error returned by a server function.
#[component]
pub fn ErrorMessage(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    let message = move || match error {
        AppError::Validation(_) => t_string!(i18n, error_validation),
        AppError::Unauthenticated => t_string!(i18n, error_unauthenticated),
        AppError::Forbidden => t_string!(i18n, error_forbidden),
        AppError::NotFound => t_string!(i18n, error_not_found),
        AppError::Conflict => t_string!(i18n, error_conflict),
        AppError::RateLimited => t_string!(i18n, error_rate_limited),
        AppError::Internal => t_string!(i18n, error_internal),
    };
    view! {
        <div class="error" role="alert">
            <h2>{t!(i18n, error_title)}</h2>
            <p>{message}</p>
        </div>
    }
}
