//! The access layer every request goes through, and the security headers of every response.
//!
//! For each request: resolve the session cookie into the signed-in staff member (server-side
//! session), find the request's entry in `angel_app::policy` (a path that is not there is not
//! served), refuse cross-origin writes (`Sec-Fetch-Site` / `Origin`) and form posts without the
//! CSRF token, then check the entry's access: anonymous → sign-in (pages) or 401, role without
//! the permission → 403. Handlers check the scope of the objects they touch (404 outside it).

use std::sync::Arc;

use angel_app::{
    policy::{self, Access, Kind, Method},
    ssr::{
        AppState,
        auth::{AuthSettings, SignedIn, citizen, random_token, same_token, session},
    },
    staff::form_state::CsrfToken,
};
use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use cookie::{Cookie, SameSite};
use http::{HeaderMap, HeaderValue, StatusCode, header};

/// Form posts and server function calls are small; anything larger is refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// An upload: the file, the mapping and the form's fields around them.
pub const MAX_UPLOAD_BYTES: usize =
    angel_app::ssr::services::uploads::MAX_UPLOAD_BYTES + 256 * 1024;

/// Whether a signed-in staff member (or anyone) may use an endpoint of this access.
fn may(access: Access, signed_in: Option<&SignedIn>) -> bool {
    match (access, signed_in) {
        (Access::Public, _) => true,
        (Access::SignedIn, Some(_)) => true,
        (Access::Needs(permission), Some(me)) => me.actor.role.has(permission),
        _ => false,
    }
}

/// The CSRF field every no-JS form carries.
pub const CSRF_FIELD: &str = "csrf";

/// A value of a request cookie.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A session cookie (staff or citizen): HttpOnly, SameSite=Lax, `Secure` over HTTPS, expiring
/// with the session's absolute lifetime; an empty value with no lifetime removes it.
fn session_like(auth: &AuthSettings, name: &'static str, token: &str) -> HeaderValue {
    let lifetime = if token.is_empty() {
        cookie::time::Duration::ZERO
    } else {
        cookie::time::Duration::seconds(auth.absolute.num_seconds())
    };
    let cookie = Cookie::build((name, token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(auth.secure)
        .max_age(lifetime);
    HeaderValue::from_str(&cookie.to_string()).expect("cookie is ASCII")
}

/// `Set-Cookie` for the staff session (`__Host-` prefixed over HTTPS).
pub fn session_cookie(auth: &AuthSettings, token: &str) -> HeaderValue {
    session_like(auth, auth.session_cookie(), token)
}

/// `Set-Cookie` that removes the staff session cookie.
pub fn clear_session_cookie(auth: &AuthSettings) -> HeaderValue {
    session_like(auth, auth.session_cookie(), "")
}

/// `Set-Cookie` for a citizen's session (as the staff one, under its own name).
pub fn citizen_cookie(auth: &AuthSettings, token: &str) -> HeaderValue {
    session_like(auth, citizen::cookie_name(auth), token)
}

/// `Set-Cookie` that removes a citizen's session cookie.
pub fn clear_citizen_cookie(auth: &AuthSettings) -> HeaderValue {
    session_like(auth, citizen::cookie_name(auth), "")
}

/// `Set-Cookie` for the CSRF token (double submit: the form echoes it): HttpOnly, Strict.
pub fn csrf_cookie(auth: &AuthSettings, token: &str) -> HeaderValue {
    let cookie = Cookie::build((auth.csrf_cookie(), token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(auth.secure);
    HeaderValue::from_str(&cookie.to_string()).expect("cookie is ASCII")
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

/// A short bilingual error with the request id, for refusals made before any page renders.
pub fn refusal(status: StatusCode, headers: &HeaderMap) -> Response {
    let (es, en) = match status {
        StatusCode::UNAUTHORIZED => ("Necesitas iniciar sesión.", "You need to sign in."),
        StatusCode::FORBIDDEN => (
            "No tienes permiso para hacer esto.",
            "You are not allowed to do this.",
        ),
        StatusCode::NOT_FOUND => (
            "No encontramos lo que buscas.",
            "We could not find what you are looking for.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "Lo que enviaste es demasiado grande.",
            "What you sent is too large.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => ("Método no permitido.", "Method not allowed."),
        StatusCode::UNPROCESSABLE_ENTITY => {
            ("El formulario no es válido.", "The form is not valid.")
        }
        StatusCode::TOO_MANY_REQUESTS => (
            "Demasiadas solicitudes. Espera un momento.",
            "Too many requests. Please wait a moment.",
        ),
        _ => ("Ocurrió un error interno.", "An internal error occurred."),
    };
    let body = format!(
        "{es}\n{en}\nReferencia / Reference: {}\n",
        request_id(headers)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// True when the request comes from a page of this same origin. Browsers send
/// `Sec-Fetch-Site`; older ones send `Origin` on every POST; a request with neither is not from
/// a browser page and is refused as well.
fn same_origin(headers: &HeaderMap, secure: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST))
    else {
        return false;
    };
    let scheme = if secure { "https" } else { "http" };
    match (origin.to_str(), host.to_str()) {
        (Ok(origin), Ok(host)) => origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")),
        _ => false,
    }
}

/// Takes the CSRF field out of an urlencoded body: `(token, the rest re-encoded)`.
fn split_csrf(body: &[u8]) -> (Option<String>, String) {
    let mut token = None;
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(body) {
        if key == CSRF_FIELD {
            token = Some(value.into_owned());
        } else {
            rest.append_pair(&key, &value);
        }
    }
    (token, rest.finish())
}

/// Whether a posted CSRF token is the browser's own (its cookie, compared in constant time).
fn csrf_holds(token: Option<String>, headers: &HeaderMap, auth: &AuthSettings) -> bool {
    match (token, cookie_value(headers, auth.csrf_cookie())) {
        (Some(t), Some(e)) => !e.is_empty() && same_token(&t, &e),
        _ => false,
    }
}

/// The access layer (see the module documentation).
pub async fn access(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let auth = state.auth.clone();
    let (mut parts, body) = request.into_parts();
    let method = match parts.method {
        http::Method::GET | http::Method::HEAD => Method::Get,
        http::Method::POST => Method::Post,
        _ => return refusal(StatusCode::METHOD_NOT_ALLOWED, &parts.headers),
    };
    let path = parts.uri.path().to_owned();
    let Some(entry) = policy::lookup(method, &path) else {
        // Unknown GET paths render the not-found page; nothing else is served.
        if method == Method::Get && !path.starts_with("/api/") {
            return next.run(Request::from_parts(parts, body)).await;
        }
        return refusal(StatusCode::NOT_FOUND, &parts.headers);
    };

    // Who is asking. Static files, probes and the language switch are public and render no
    // page: no session lookup (one query saved per asset) and no CSRF cookie for them.
    let renders = entry.kind != Kind::Other || entry.access != Access::Public;
    let mut clear_cookie = false;
    let mut signed_in: Option<SignedIn> = None;
    if let Some(token) = cookie_value(&parts.headers, auth.session_cookie()).filter(|_| renders) {
        match session::resolve(&state.db, &state.audit, &auth, &token, state.clock.now()).await {
            Ok(Ok(me)) => signed_in = Some(me),
            Ok(Err(_)) => clear_cookie = true,
            Err(error) => {
                tracing::error!(%error, "session lookup failed");
                return refusal(StatusCode::INTERNAL_SERVER_ERROR, &parts.headers);
            }
        }
    }

    // A citizen's session (their own cookie; it never stands for a staff member).
    let mut clear_citizen = false;
    let mut citizen_in: Option<citizen::CitizenSignedIn> = None;
    if let Some(token) =
        cookie_value(&parts.headers, citizen::cookie_name(&auth)).filter(|_| renders)
    {
        match citizen::resolve(&state.db, &state.audit, &auth, &token, state.clock.now()).await {
            Ok(Some(me)) => citizen_in = Some(me),
            Ok(None) => clear_citizen = true,
            Err(error) => {
                tracing::error!(%error, "citizen session lookup failed");
                return refusal(StatusCode::INTERNAL_SERVER_ERROR, &parts.headers);
            }
        }
    }

    // Writes: same origin, and the token for no-JS forms.
    let mut body = body;
    if method == Method::Post {
        if !same_origin(&parts.headers, auth.secure) {
            tracing::warn!(path, "cross-origin write refused");
            return refusal(StatusCode::FORBIDDEN, &parts.headers);
        }
        // An upload is read only for someone who may make it (it may be megabytes).
        let limit = if entry.kind == Kind::Upload {
            if !may(entry.access, signed_in.as_ref()) {
                let status = if signed_in.is_some() {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNAUTHORIZED
                };
                return refusal(status, &parts.headers);
            }
            MAX_UPLOAD_BYTES
        } else {
            MAX_BODY_BYTES
        };
        let Ok(bytes) = to_bytes(body, limit).await else {
            return refusal(StatusCode::PAYLOAD_TOO_LARGE, &parts.headers);
        };
        body = if entry.kind == Kind::Upload {
            // Read once: the handler takes the fields from the request (the CSRF field removed).
            let mut fields = super::imports::fields(&parts.headers, bytes)
                .await
                .unwrap_or_default();
            let token = fields
                .iter()
                .position(|(name, _)| name == CSRF_FIELD)
                .map(|at| String::from_utf8_lossy(&fields.remove(at).1).into_owned());
            if !csrf_holds(token, &parts.headers, &auth) {
                tracing::warn!(path, "upload without a valid CSRF token refused");
                return refusal(StatusCode::FORBIDDEN, &parts.headers);
            }
            parts.extensions.insert(super::imports::Uploaded(fields));
            Body::empty()
        } else if entry.kind == Kind::Form {
            let (token, rest) = split_csrf(&bytes);
            if !csrf_holds(token, &parts.headers, &auth) {
                tracing::warn!(path, "form post without a valid CSRF token refused");
                return refusal(StatusCode::FORBIDDEN, &parts.headers);
            }
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(rest.len()));
            Body::from(rest)
        } else {
            Body::from(bytes)
        };
    }

    // May they?
    match (entry.access, &signed_in) {
        (Access::Public, _) => {}
        (Access::Citizen, _) if citizen_in.is_some() => {}
        (Access::Citizen, _) if entry.kind == Kind::Page => {
            return axum::response::Redirect::to("/mi-cuenta").into_response();
        }
        (Access::Citizen, _) => return refusal(StatusCode::UNAUTHORIZED, &parts.headers),
        (_, None) if entry.kind == Kind::Page => {
            let mut response = axum::response::Redirect::to("/entrar").into_response();
            if clear_cookie {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, clear_session_cookie(&auth));
            }
            return response;
        }
        (_, None) => return refusal(StatusCode::UNAUTHORIZED, &parts.headers),
        (Access::SignedIn, Some(_)) => {}
        (Access::Needs(permission), Some(me)) => {
            if !me.actor.role.has(permission) {
                return refusal(StatusCode::FORBIDDEN, &parts.headers);
            }
        }
    }

    // A CSRF token for the forms of every page (issued once per browser, rotated at sign-in).
    let mut new_csrf = None;
    if renders {
        let csrf = match cookie_value(&parts.headers, auth.csrf_cookie()).filter(|t| !t.is_empty())
        {
            Some(token) => token,
            None => {
                let token = random_token();
                new_csrf = Some(token.clone());
                token
            }
        };
        parts.extensions.insert(CsrfToken(csrf));
    }
    if let Some(me) = signed_in {
        parts.extensions.insert(me);
    }
    if let Some(me) = citizen_in {
        parts.extensions.insert(me);
    }

    let mut response = next.run(Request::from_parts(parts, body)).await;
    let headers = response.headers_mut();
    if let Some(token) = new_csrf {
        headers.append(header::SET_COOKIE, csrf_cookie(&auth, &token));
    }
    // An expired session's cookie is removed, unless this response signs in again: a sign-in
    // sets a new session cookie, and a removal after it would win in the browser.
    if clear_cookie && !sets_cookie(headers, auth.session_cookie()) {
        headers.append(header::SET_COOKIE, clear_session_cookie(&auth));
    }
    if clear_citizen && !sets_cookie(headers, citizen::cookie_name(&auth)) {
        headers.append(header::SET_COOKIE, clear_citizen_cookie(&auth));
    }
    response
}

/// Whether `headers` already set cookie `name`.
fn sets_cookie(headers: &http::HeaderMap, name: &str) -> bool {
    headers.get_all(header::SET_COOKIE).iter().any(|v| {
        v.to_str()
            .ok()
            .and_then(|line| line.split_once('='))
            .is_some_and(|(n, _)| n.trim() == name)
    })
}

/// The CSP of responses that are not pages (pages set their own, with the nonce).
const STRICT_CSP: &str =
    "default-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Headers on every response.
pub async fn headers(secure: Arc<bool>, request: Request, next: Next) -> Response {
    // Anything answered to a browser with a session is private, refusals included.
    let session_cookie = AuthSettings {
        secure: *secure,
        ..AuthSettings::default()
    }
    .session_cookie();
    let citizen_cookie = citizen::cookie_name(&AuthSettings {
        secure: *secure,
        ..AuthSettings::default()
    });
    let with_session = cookie_value(request.headers(), session_cookie).is_some()
        || cookie_value(request.headers(), citizen_cookie).is_some();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if with_session {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(STRICT_CSP),
        );
    }
    if *secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_field_is_taken_out_of_the_form() {
        let (token, rest) = split_csrf(b"username=ana&csrf=abc%2Bd&password=p%26q");
        assert_eq!(token.as_deref(), Some("abc+d"));
        assert_eq!(rest, "username=ana&password=p%26q");
    }

    #[test]
    fn same_origin_needs_the_headers_to_agree() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:3000"));
        assert!(!same_origin(&h, false), "no Origin, no Sec-Fetch-Site");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:3000"),
        );
        assert!(same_origin(&h, false));
        assert!(!same_origin(&h, true), "https expected");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h, false));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h, false));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(same_origin(&h, false));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }
}
