//! Response headers set while the page renders: the Content-Security-Policy with this
//! response's nonce (Leptos puts the same nonce on its hydration scripts).

use leptos::nonce::use_nonce;
use leptos::prelude::use_context;

/// The policy for an HTML page with this nonce.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// Sets the CSP header of the page being rendered.
pub fn set_content_security_policy() {
    if let (Some(nonce), Some(response)) =
        (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    {
        if let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce)) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}
