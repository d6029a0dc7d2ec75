//! `/idioma/{lang}?volver=/ruta`: the language switch for browsers without JavaScript.
//! Stores the choice in the same cookie the hydrated app uses, then goes back.

use std::str::FromStr;

use angel_app::i18n::{I18nLocaleTrait as _, Locale};
use axum::{
    extract::{Path, Query},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

/// Cookie leptos_i18n reads on the server and writes in the browser.
pub const LOCALE_COOKIE: &str = "i18n_pref_locale";

#[derive(Deserialize)]
pub struct Back {
    volver: Option<String>,
}

pub async fn switch(Path(lang): Path<String>, Query(back): Query<Back>, secure: bool) -> Response {
    let Ok(locale) = Locale::from_str(&lang) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let target = safe_local_path(back.volver.as_deref());
    let cookie = format!(
        "{LOCALE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
        locale.as_str(),
        if secure { "; Secure" } else { "" }
    );
    let (Ok(cookie), Ok(location)) = (
        HeaderValue::from_str(&cookie),
        HeaderValue::from_str(&target),
    ) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    (
        StatusCode::SEE_OTHER,
        [(header::SET_COOKIE, cookie), (header::LOCATION, location)],
    )
        .into_response()
}

/// Only paths on this site: anything else (another host, `//host`, `/\host`) goes home.
fn safe_local_path(candidate: Option<&str>) -> String {
    match candidate {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_local_path;

    #[test]
    fn keeps_local_paths_with_their_query() {
        assert_eq!(
            safe_local_path(Some("/programas?q=empleo")),
            "/programas?q=empleo"
        );
    }

    #[test]
    fn refuses_to_redirect_off_site() {
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "programas",
            "/a\r\nSet-Cookie: x=1",
        ] {
            assert_eq!(safe_local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_local_path(None), "/");
    }
}
