//! The operations of the agency API. Each runs as the calling client's service account through
//! the application's services (same checks, state machine and audit events as the screens) and
//! answers JSON, or a [`Problem`] on error.

use angel_app::domain::disclosure::shown;
use angel_app::domain::lifecycle::{Reason, Status};
use angel_app::domain::referral::ReferReason;
use angel_app::error::FieldError;
use angel_app::ssr::services::agency_api::{self, EnrollmentDetail, Lookup, PersonRecord};
use angel_app::ssr::services::api_clients::Caller;
use angel_app::ssr::services::exchange::{self, EnrollmentRecord, ExportFilter};
use angel_app::ssr::{AppState, ServiceError};
use angel_app::tracking::forms::{DecisionForm, ReferralForm};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State, rejection::QueryRejection};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{IntoParams, IntoResponses, ToSchema};

use super::idempotency;
use super::problem::{Kind, Problem, request_id};

/// A service error as a problem.
pub fn problem(error: ServiceError, headers: &HeaderMap) -> Response {
    match error {
        ServiceError::NotFound => Problem::new(Kind::NotFound, headers),
        ServiceError::Invalid(fields) => Problem::invalid(&fields, headers),
        ServiceError::Conflict => Problem::new(Kind::Conflict, headers),
        ServiceError::RateLimited => Problem::new(Kind::RateLimited, headers),
        ServiceError::Db(error) => {
            tracing::error!(%error, "api: database error");
            Problem::new(Kind::Internal, headers)
        }
        ServiceError::Internal(what) => {
            tracing::error!(what, "api: internal error");
            Problem::new(Kind::Internal, headers)
        }
    }
    .into_response()
}

/// What any call may answer: no valid credential, or over the client's rate.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum Always {
    /// No valid credential (missing, unknown, revoked or expired)
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// Over the client's rate limit; see `Retry-After`
    #[response(status = 429, content_type = "application/problem+json")]
    RateLimited(Problem),
}

/// What a call with a JSON body may answer about the body itself.
#[derive(IntoResponses)]
#[allow(dead_code)]
enum JsonBody {
    /// Malformed JSON, a missing or mistyped field, or an unknown one
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// Larger than 16 KiB
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// Not `application/json`
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
}

/// A JSON body of type `T`: `application/json`, unknown fields refused (400). The refusal is
/// boxed: a response is large, the parsed body small.
fn body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, Box<Response>> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Box::new(
            Problem::new(Kind::UnsupportedMediaType, headers).into_response(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(
            Problem::new(Kind::MalformedBody, headers)
                .detail(format!("The body is not valid: {e}."))
                .into_response(),
        )
    })
}

/// A write about request `folio` (`what` names the operation): the `Idempotency-Key` honoured
/// over the operation, the folio and the body, the body read as `T`, then `write`.
async fn write_on<T, F, Fut>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    (what, folio): (&str, &str),
    bytes: &Bytes,
    write: F,
) -> Response
where
    T: DeserializeOwned,
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let fingerprint = [
        b"POST ",
        what.as_bytes(),
        b" ",
        folio.as_bytes(),
        b" ",
        &bytes[..],
    ]
    .concat();
    idempotency::once(state, caller.client.id, headers, &fingerprint, || async {
        match body::<T>(headers, bytes) {
            Ok(parsed) => write(parsed).await,
            Err(refused) => *refused,
        }
    })
    .await
}

/// The note's sensitivity code.
fn sensitivity(restricted: bool) -> String {
    if restricted { "restricted" } else { "general" }.to_owned()
}

fn query<T>(headers: &HeaderMap, q: Result<Query<T>, QueryRejection>) -> Result<T, Box<Response>> {
    q.map(|Query(q)| q).map_err(|e| {
        Box::new(
            Problem::new(Kind::MalformedQuery, headers)
                .detail(e.body_text())
                .into_response(),
        )
    })
}

fn ok<T: Serialize>(status: StatusCode, value: &T) -> Response {
    (status, Json(value)).into_response()
}

/// A string that is one of `codes`, for the document.
fn one_of(codes: impl IntoIterator<Item = &'static str>, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .description(Some(description))
        .build()
}

fn status_codes() -> Object {
    one_of(
        Status::ALL.map(Status::code),
        "A status: requested, in_review, approved, active, suspended, exited, rejected, withdrawn.",
    )
}

fn reason_codes() -> Object {
    one_of(
        Reason::ALL.map(Reason::code),
        "A reason code; each transition accepts some of them (see the decision screen).",
    )
}

fn referral_reasons() -> Object {
    one_of(
        ReferReason::ALL.map(ReferReason::code),
        "Why the person is referred.",
    )
}

/// Find a person by CURP or card number: exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindPerson {
    /// The person's CURP (18 characters; validated, check digit included).
    #[schema(
        example = "GODE561231HDFRRN00",
        pattern = "^[A-Z]{4}[0-9]{6}[HMX][A-Z]{5}[0-9A-Z][0-9]$"
    )]
    pub curp: Option<String>,
    /// The ten digits of the person's Ángel card.
    #[schema(example = "0012345678", pattern = "^[0-9]{10}$")]
    pub card_number: Option<String>,
}

/// Finds a person your agency serves (who has a request in one of its programs) by CURP — in
/// the body, never in a URL — or card number. A person who exists but is not served by your
/// agency is 404, as one who does not exist.
#[utoipa::path(
    post, path = "/api/v1/persons/search", tag = "persons",
    request_body = FindPerson,
    responses(
        (status = 200, description = "The person and their requests in your agency's programs", body = PersonRecord),
        (status = 404, description = "Nobody your agency serves holds it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed CURP or card number", body = Problem, content_type = "application/problem+json"),
        Always,
        JsonBody,
    ),
    security(("bearer" = []))
)]
pub async fn find_person(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let found: FindPerson = match body(&headers, &bytes) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let lookup = match (found.curp, found.card_number) {
        (Some(curp), None) => Lookup::Curp(curp),
        (None, Some(card)) => Lookup::Card(card),
        (None, None) => {
            return Problem::invalid(&[FieldError::new("curp", "required")], &headers)
                .into_response();
        }
        (Some(_), Some(_)) => {
            return Problem::invalid(&[FieldError::new("card_number", "unexpected")], &headers)
                .into_response();
        }
    };
    let rid = request_id(&headers);
    match agency_api::find_person(&state, &caller.me, &lookup, rid.as_deref()).await {
        Ok(p) => ok(StatusCode::OK, &p),
        Err(e) => problem(e, &headers),
    }
}

/// Reads a person your agency serves by the number on their card.
#[utoipa::path(
    get, path = "/api/v1/persons/{card_number}", tag = "persons",
    params(("card_number" = String, Path, description = "Ten digits", example = "0012345678", pattern = "^[0-9]{10}$")),
    responses(
        (status = 200, description = "The person and their requests in your agency's programs", body = PersonRecord),
        (status = 404, description = "Nobody your agency serves holds it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed card number", body = Problem, content_type = "application/problem+json"),
        Always,
    ),
    security(("bearer" = []))
)]
pub async fn person_by_card(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(card_number): Path<String>,
    headers: HeaderMap,
) -> Response {
    let rid = request_id(&headers);
    match agency_api::find_person(
        &state,
        &caller.me,
        &Lookup::Card(card_number),
        rid.as_deref(),
    )
    .await
    {
        Ok(p) => ok(StatusCode::OK, &p),
        Err(e) => problem(e, &headers),
    }
}

/// Filters and page of the request list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A program code of your agency (every program when absent).
    pub program: Option<String>,
    /// A status code (every status when absent).
    #[param(schema_with = status_codes)]
    pub status: Option<String>,
    /// `next_cursor` of the previous page (the first page when absent). Opaque.
    pub cursor: Option<String>,
    /// Requests per page, 1–500 (100 when absent).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// One page of requests.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrollmentPage {
    pub items: Vec<EnrollmentRecord>,
    /// The cursor of the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 500;

/// Lists the requests of your agency's programs, oldest first, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/enrollments", tag = "enrollments",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of requests", body = EnrollmentPage),
        (status = 400, description = "Unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The program is not one of your agency's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status, bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        Always,
    ),
    security(("bearer" = []))
)]
pub async fn list_enrollments(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let q = match query(&headers, q) {
        Ok(q) => q,
        Err(r) => return *r,
    };
    let mut errors = Vec::new();
    let status = q.status.unwrap_or_default().trim().to_owned();
    if !status.is_empty() && Status::from_code(&status).is_none() {
        errors.push(FieldError::new("status", "unknown_value"));
    }
    let after = match q.cursor.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(c) => c.parse::<i32>().ok().filter(|n| *n > 0).unwrap_or_else(|| {
            errors.push(FieldError::new("cursor", "invalid_choice"));
            0
        }),
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push(FieldError::new("limit", "out_of_range"));
    }
    if !errors.is_empty() {
        return Problem::invalid(&errors, &headers).into_response();
    }
    let filter = ExportFilter {
        program: q.program.unwrap_or_default().trim().to_owned(),
        status,
    };
    let rid = request_id(&headers);
    match exchange::page(
        &state,
        &caller.me,
        &filter,
        after,
        u64::from(limit),
        rid.as_deref(),
    )
    .await
    {
        Ok((items, next)) => ok(
            StatusCode::OK,
            &EnrollmentPage {
                items,
                next_cursor: next.map(|n| n.to_string()),
            },
        ),
        Err(e) => problem(e, &headers),
    }
}

/// Reads one request of your agency with its status history (audited as a view of the person).
#[utoipa::path(
    get, path = "/api/v1/enrollments/{folio}", tag = "enrollments",
    params(("folio" = String, Path, description = "The request's folio", example = "PAAM-2026-000001")),
    responses(
        (status = 200, description = "The request and its history", body = EnrollmentDetail),
        (status = 404, description = "Not a request of your agency", body = Problem, content_type = "application/problem+json"),
        Always,
    ),
    security(("bearer" = []))
)]
pub async fn enrollment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(folio): Path<String>,
    headers: HeaderMap,
) -> Response {
    let rid = request_id(&headers);
    match agency_api::enrollment(&state, &caller.me, &folio, rid.as_deref()).await {
        Ok(d) => ok(StatusCode::OK, &d),
        Err(e) => problem(e, &headers),
    }
}

/// A status change, as the decision screen makes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "in_review", "reason": "review_started", "version": 1}))]
pub struct StatusChange {
    /// The status to move to (the agency's transitions only).
    #[schema(schema_with = status_codes)]
    pub to: String,
    /// A reason code the transition accepts.
    #[schema(schema_with = reason_codes)]
    pub reason: String,
    /// The request's `version` as you last read it; a request changed since is 409.
    pub version: i32,
    /// Optional: kept as an encrypted case note on the request.
    pub note: Option<String>,
    /// The note is restricted to your agency.
    #[serde(default)]
    pub restricted: bool,
}

/// The request after a status change.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChanged {
    pub folio: String,
    pub program: String,
    pub status: String,
    /// Quote this one in the next change.
    pub version: i32,
    pub decided_on: Option<String>,
    pub updated_at: String,
}

/// Moves a request of your agency through the status machine (same transitions, reason codes
/// and checks as the screens). Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post, path = "/api/v1/enrollments/{folio}/status", tag = "enrollments",
    params(
        ("folio" = String, Path, description = "The request's folio"),
        ("Idempotency-Key" = Option<String>, Header, description = "Up to 128 visible ASCII characters; the same key and body within 24 h returns the first result"),
    ),
    request_body = StatusChange,
    responses(
        (status = 200, description = "Changed", body = StatusChanged),
        (status = 404, description = "Not a request of your agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since `version`, or the same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Transition or reason not allowed, or the key was used with another body", body = Problem, content_type = "application/problem+json"),
        Always,
        JsonBody,
    ),
    security(("bearer" = []))
)]
pub async fn change_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(folio): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let (state, caller, headers, folio) = (&state, &caller, &headers, &folio);
    write_on(
        state,
        caller,
        headers,
        ("status", folio),
        &bytes,
        move |change: StatusChange| async move {
            let form = DecisionForm {
                to: change.to,
                reason: change.reason,
                note: change.note.unwrap_or_default(),
                sensitivity: sensitivity(change.restricted),
                version: change.version.to_string(),
            };
            let rid = request_id(headers);
            match agency_api::change_status(state, &caller.me, folio, &form, rid.as_deref()).await {
                Ok(r) => ok(
                    StatusCode::OK,
                    &StatusChanged {
                        folio: r.folio,
                        program: r.program,
                        status: r.status,
                        version: r.version,
                        decided_on: r.decided_on,
                        updated_at: r.updated_at,
                    },
                ),
                Err(e) => problem(e, headers),
            }
        },
    )
    .await
}

/// A referral of the request's person to another agency's program.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"program": "COMCOM", "reason": "food", "note": "Vive sola."}))]
pub struct NewReferral {
    /// The receiving program's code.
    #[schema(example = "SEGURO")]
    pub program: String,
    /// A referral reason code.
    #[schema(schema_with = referral_reasons)]
    pub reason: String,
    /// Optional: kept as an encrypted case note on the referral.
    pub note: Option<String>,
    #[serde(default)]
    pub restricted: bool,
}

/// The referral made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralMade {
    pub id: i32,
    pub program: String,
    /// Always `open`: the receiving agency accepts or declines it.
    pub status: String,
}

/// Refers the person of one of your agency's requests to another agency's program (the
/// receiving agency accepts or declines it on its screens). Send an `Idempotency-Key` to retry
/// safely.
#[utoipa::path(
    post, path = "/api/v1/enrollments/{folio}/referrals", tag = "enrollments",
    params(
        ("folio" = String, Path, description = "The request's folio"),
        ("Idempotency-Key" = Option<String>, Header, description = "Up to 128 visible ASCII characters; the same key and body within 24 h returns the first result"),
    ),
    request_body = NewReferral,
    responses(
        (status = 201, description = "Referred", body = ReferralMade),
        (status = 404, description = "Not a request of your agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown program or reason, already referred, or the key was used with another body", body = Problem, content_type = "application/problem+json"),
        Always,
        JsonBody,
    ),
    security(("bearer" = []))
)]
pub async fn refer(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(folio): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let (state, caller, headers, folio) = (&state, &caller, &headers, &folio);
    write_on(
        state,
        caller,
        headers,
        ("referral", folio),
        &bytes,
        move |made: NewReferral| async move {
            let program = made.program.trim().to_uppercase();
            let form = ReferralForm {
                program: program.clone(),
                reason: made.reason,
                note: made.note.unwrap_or_default(),
                sensitivity: sensitivity(made.restricted),
            };
            let rid = request_id(headers);
            match agency_api::refer(state, &caller.me, folio, &form, rid.as_deref()).await {
                Ok(id) => ok(
                    StatusCode::CREATED,
                    &ReferralMade {
                        id,
                        program,
                        status: "open".into(),
                    },
                ),
                Err(e) => problem(e, headers),
            }
        },
    )
    .await
}

/// A rating of a decided request collected by your agency (its call centre, its surveys).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": 5, "comment": "Me atendieron rápido."}))]
pub struct NewFeedback {
    /// 1 (bad) to 5 (very good).
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i64,
    /// What the person said, up to 1,000 characters; kept encrypted.
    pub comment: Option<String>,
}

/// The rating recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackRecorded {
    pub folio: String,
    pub rating: i64,
    /// Always `agency`: the channel the rating came through.
    pub channel: String,
}

/// Records a person's rating of a decided request of your agency, collected on your own
/// channels; it counts in the service quality figures as citizens' own ratings do. Once per
/// request, whoever gives it. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    post, path = "/api/v1/enrollments/{folio}/feedback", tag = "enrollments",
    params(
        ("folio" = String, Path, description = "The request's folio"),
        ("Idempotency-Key" = Option<String>, Header, description = "Up to 128 visible ASCII characters; the same key and body within 24 h returns the first result"),
    ),
    request_body = NewFeedback,
    responses(
        (status = 201, description = "Recorded", body = FeedbackRecorded),
        (status = 404, description = "Not a request of your agency", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The same key is in flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rating out of range, comment too long, request not decided or already rated, or the key was used with another body", body = Problem, content_type = "application/problem+json"),
        Always,
        JsonBody,
    ),
    security(("bearer" = []))
)]
pub async fn feedback(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(folio): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let (state, caller, headers, folio) = (&state, &caller, &headers, &folio);
    write_on(
        state,
        caller,
        headers,
        ("feedback", folio),
        &bytes,
        move |given: NewFeedback| async move {
            let rid = request_id(headers);
            let comment = given.comment.unwrap_or_default();
            let rating = given.rating.to_string();
            match agency_api::rate(state, &caller.me, folio, &rating, &comment, rid.as_deref())
                .await
            {
                Ok(()) => ok(
                    StatusCode::CREATED,
                    &FeedbackRecorded {
                        folio: folio.clone(),
                        rating: given.rating,
                        channel: "agency".into(),
                    },
                ),
                Err(e) => problem(e, headers),
            }
        },
    )
    .await
}

/// Which coverage figures.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// An indicator code (the first indicator when absent).
    pub indicator: Option<String>,
    /// The target population's year (the newest loaded when absent).
    pub year: Option<i32>,
}

/// People reached in one borough (or the city), small counts suppressed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageCell {
    /// INEGI code; empty for the city as a whole.
    pub code: String,
    pub name: String,
    /// People reached; absent when suppressed.
    pub reached: Option<u64>,
    /// How to show it: the count, `<5` (1–4 people) or `*` (hidden so a small cell cannot be
    /// worked out from the total), as the policy dashboard shows it.
    pub shown: String,
    /// The target population, when loaded.
    pub target: Option<i64>,
    /// Reached per thousand of the target, when both are known.
    pub per_thousand: Option<u64>,
}

/// Coverage of one social policy indicator by borough, as the policy dashboard shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Coverage {
    pub indicator: String,
    pub name_es: String,
    pub name_en: String,
    /// The programs whose active beneficiaries are the people reached.
    pub programs: Vec<String>,
    pub year: Option<i32>,
    /// Some target counts come from the synthetic demo population.
    pub synthetic: bool,
    pub boroughs: Vec<CoverageCell>,
    pub city: CoverageCell,
}

fn coverage_cell(b: angel_app::coverage::dto::BoroughCoverage) -> CoverageCell {
    CoverageCell {
        code: b.code,
        name: b.name,
        reached: b.reached.count(),
        shown: shown(b.reached),
        target: b.target,
        per_thousand: b.per_thousand,
    }
}

/// Aggregate coverage of an indicator by borough (small cells suppressed, as on the policy
/// dashboard); no person-level data.
#[utoipa::path(
    get, path = "/api/v1/coverage", tag = "coverage",
    params(CoverageQuery),
    responses(
        (status = 200, description = "Coverage by borough", body = Coverage),
        (status = 400, description = "Unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown indicator, or no target population for the year", body = Problem, content_type = "application/problem+json"),
        Always,
    ),
    security(("bearer" = []))
)]
pub async fn coverage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    q: Result<Query<CoverageQuery>, QueryRejection>,
) -> Response {
    let q = match query(&headers, q) {
        Ok(q) => q,
        Err(r) => return *r,
    };
    let indicator = q.indicator.unwrap_or_default().trim().to_owned();
    let rid = request_id(&headers);
    let report =
        match agency_api::coverage(&state, &caller.me, &indicator, q.year, rid.as_deref()).await {
            Ok(r) => r,
            Err(e) => return problem(e, &headers),
        };
    ok(
        StatusCode::OK,
        &Coverage {
            indicator: report.indicator,
            name_es: report.name.es,
            name_en: report.name.en,
            programs: report.programs.into_iter().map(|(code, _)| code).collect(),
            year: report.year,
            synthetic: report.synthetic,
            boroughs: report.boroughs.into_iter().map(coverage_cell).collect(),
            city: coverage_cell(report.total),
        },
    )
}
