//! Errors of the agency API as `application/problem+json` (RFC 9457): a stable `type` per kind
//! of problem, the title and detail in English and Spanish, the request id, and for invalid
//! fields one entry per field with its code and message in both languages — the same codes
//! and messages as the screens (read from the application's locale files).

use std::collections::HashMap;
use std::sync::LazyLock;

use angel_app::error::FieldError;

pub(super) use crate::http::forms::request_id;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`/api/v1/problems/<kind>`); stable, for programs.
    #[serde(rename = "type")]
    #[schema(example = "/api/v1/problems/not-found")]
    pub kind: String,
    /// Short, in English.
    pub title: String,
    /// Short, in Spanish.
    pub title_es: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, in English.
    pub detail: String,
    /// What happened, in Spanish.
    pub detail_es: String,
    /// The `x-request-id` of the call, to quote when asking for help.
    pub request_id: Option<String>,
    /// One entry per invalid field (validation problems only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's name in the request body or query.
    pub field: String,
    /// A stable code (`required`, `curp_check_digit`, `invalid_transition`…).
    pub code: String,
    pub message: String,
    pub message_es: String,
}

/// The kinds of problem the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    MalformedBody,
    MalformedQuery,
    UnsupportedMediaType,
    TooLarge,
    Invalid,
    Conflict,
    KeyReused,
    KeyInFlight,
    RateLimited,
    Internal,
}

impl Kind {
    fn describe(self) -> (StatusCode, &'static str, [&'static str; 4]) {
        use Kind::*;
        match self {
            Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                [
                    "Unauthorized",
                    "No autorizado",
                    "Send a valid, unexpired and unrevoked API credential as `Authorization: Bearer …`.",
                    "Envía una credencial de API válida, vigente y no revocada como `Authorization: Bearer …`.",
                ],
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                [
                    "Not found",
                    "No encontrado",
                    "Nothing here is within your agency's reach.",
                    "No hay nada aquí al alcance de tu dependencia.",
                ],
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                [
                    "Method not allowed",
                    "Método no permitido",
                    "This resource does not accept this method.",
                    "Este recurso no acepta este método.",
                ],
            ),
            MalformedBody => (
                StatusCode::BAD_REQUEST,
                "malformed-body",
                [
                    "Malformed body",
                    "Cuerpo mal formado",
                    "The body is not the JSON object this operation expects.",
                    "El cuerpo no es el objeto JSON que espera esta operación.",
                ],
            ),
            MalformedQuery => (
                StatusCode::BAD_REQUEST,
                "malformed-query",
                [
                    "Malformed query",
                    "Consulta mal formada",
                    "The query string has an unknown or malformed parameter.",
                    "La consulta tiene un parámetro desconocido o mal formado.",
                ],
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                [
                    "Unsupported media type",
                    "Tipo de contenido no admitido",
                    "Send the body as `Content-Type: application/json`.",
                    "Envía el cuerpo como `Content-Type: application/json`.",
                ],
            ),
            TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                [
                    "Body too large",
                    "Cuerpo demasiado grande",
                    "Bodies of the API are at most 16 KiB.",
                    "Los cuerpos de la API miden a lo más 16 KiB.",
                ],
            ),
            Invalid => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                [
                    "Invalid fields",
                    "Campos no válidos",
                    "Some fields are not valid; nothing was written. See `errors`.",
                    "Algunos campos no son válidos; no se guardó nada. Consulta `errors`.",
                ],
            ),
            Conflict => (
                StatusCode::CONFLICT,
                "conflict",
                [
                    "Changed meanwhile",
                    "Cambió mientras tanto",
                    "The request changed since the version you sent; nothing was written. Read it again.",
                    "La solicitud cambió desde la versión que enviaste; no se guardó nada. Vuelve a leerla.",
                ],
            ),
            KeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                [
                    "Idempotency key reused",
                    "Llave de idempotencia reutilizada",
                    "This Idempotency-Key was used with another request; nothing was written.",
                    "Esta Idempotency-Key se usó con otra petición; no se guardó nada.",
                ],
            ),
            KeyInFlight => (
                StatusCode::CONFLICT,
                "idempotency-key-in-flight",
                [
                    "Same request in progress",
                    "La misma petición está en curso",
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    "Una petición con esta Idempotency-Key aún se procesa; reintenta en un momento.",
                ],
            ),
            RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                [
                    "Too many requests",
                    "Demasiadas peticiones",
                    "This client sent too many requests; retry after the seconds in Retry-After.",
                    "Este cliente envió demasiadas peticiones; reintenta tras los segundos de Retry-After.",
                ],
            ),
            Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                [
                    "Internal error",
                    "Error interno",
                    "Something failed on our side; nothing was written. Quote the request id.",
                    "Algo falló de nuestro lado; no se guardó nada. Menciona el identificador de la petición.",
                ],
            ),
        }
    }

    pub fn status(self) -> StatusCode {
        self.describe().0
    }
}

/// English and Spanish messages of the screens' field error codes (`field_<code>` in the
/// locale files).
static MESSAGES: LazyLock<[HashMap<String, String>; 2]> = LazyLock::new(|| {
    let read = |text: &str| -> HashMap<String, String> {
        let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        value
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let code = k.strip_prefix("field_")?;
                Some((code.to_owned(), v.as_str()?.to_owned()))
            })
            .collect()
    };
    [
        read(include_str!("../../../../app/locales/en.json")),
        read(include_str!("../../../../app/locales/es-MX.json")),
    ]
});

/// A field problem with its messages (the code itself when no message is known).
pub fn field(error: &FieldError) -> FieldProblem {
    let [en, es] = &*MESSAGES;
    let message = |m: &HashMap<String, String>| {
        m.get(&error.code)
            .cloned()
            .unwrap_or_else(|| error.code.replace('_', " "))
    };
    FieldProblem {
        field: error.field.clone(),
        code: error.code.clone(),
        message: message(en),
        message_es: message(es),
    }
}

impl Problem {
    pub fn new(kind: Kind, headers: &HeaderMap) -> Problem {
        let (status, slug, [title, title_es, detail, detail_es]) = kind.describe();
        Problem {
            kind: format!("/api/v1/problems/{slug}"),
            title: title.into(),
            title_es: title_es.into(),
            status: status.as_u16(),
            detail: detail.into(),
            detail_es: detail_es.into(),
            request_id: request_id(headers),
            errors: Vec::new(),
        }
    }

    /// Invalid fields (422).
    pub fn invalid(errors: &[FieldError], headers: &HeaderMap) -> Problem {
        Problem {
            errors: errors.iter().map(field).collect(),
            ..Problem::new(Kind::Invalid, headers)
        }
    }

    /// A more precise English detail (for malformed bodies and queries: what the parser said).
    pub fn detail(mut self, detail: String) -> Problem {
        self.detail = detail;
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"angel-api\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_problems_carry_the_screens_messages_in_both_languages() {
        let p = field(&FieldError::new("curp", "curp_check_digit"));
        assert_eq!(p.code, "curp_check_digit");
        assert!(!p.message.is_empty() && p.message != p.message_es, "{p:?}");
        assert_ne!(p.message, "curp check digit");
        let unknown = field(&FieldError::new("x", "no_such_code"));
        assert_eq!(unknown.message, "no such code");
    }

    #[test]
    fn problems_are_problem_json_with_a_stable_type() {
        let headers = HeaderMap::new();
        let response = Problem::new(Kind::Unauthorized, &headers).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        let p = Problem::new(Kind::KeyReused, &headers);
        assert_eq!(
            (p.kind.as_str(), p.status),
            ("/api/v1/problems/idempotency-key-reused", 422)
        );
    }
}
