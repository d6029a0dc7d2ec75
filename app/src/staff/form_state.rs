//! What a form post left for the page that shows it again: the values typed (never a
//! password), the field errors, and a notice. The server puts it in the request's context when
//! it re-renders a page after a post; [`SharedValue`] carries it to the hydrating browser.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::i18n::*;
use leptos_i18n::I18nContext;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FormState {
    pub values: BTreeMap<String, String>,
    pub errors: Vec<FieldError>,
    pub notice: Option<Notice>,
}

/// A message about the whole form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Notice {
    InvalidCredentials,
    Throttled {
        seconds: i64,
    },
    Conflict,
    Saved,
    PasswordChanged,
    /// An account was created or reset: its one-time token, shown once.
    OneTimeToken {
        username: String,
        token: String,
    },
    SessionEnded,
    Failed,
    /// Search results (registry).
    Found(Vec<crate::registry::dto::PersonHit>),
    /// Probable duplicates of the person being registered.
    Candidates(Vec<crate::registry::dto::Candidate>),
    /// A step of the anonymous check (`/revisa`).
    Screened(Box<crate::portal::dto::Screening>),
    /// A request followed by folio and birth date (`/seguimiento`).
    Tracked(Box<crate::portal::dto::TrackedRequest>),
    /// No request with that folio and birth date, or too many tries: one neutral message.
    TrackUnknown,
    /// Opening with the CURP an account that already has a password.
    AccountActive,
    /// A citizen's card and password, or activation details, that do not match: one message
    /// whatever was wrong.
    CitizenRefused {
        activation: bool,
    },
    /// An activation code for a person's account, printed at an office (shown once).
    CitizenCode {
        code: String,
        /// `YYYY-MM-DD`: the last day it works.
        until: String,
    },
    /// An ID number shown in full after an audited reveal.
    Revealed {
        kind: String,
        value: String,
    },
    /// An API client was created: its credential, shown once.
    ApiCredential {
        name: String,
        credential: String,
        expires_at: String,
    },
    /// An API client was revoked.
    ApiRevoked,
    /// An uploaded file refused whole (`/admin/importar`): every problem, in both languages.
    ImportRefused(Vec<crate::staff::dto::ImportProblem>),
}

impl FormState {
    pub fn value(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }

    pub fn error(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.code.clone())
    }
}

/// The form state of this render (empty on a plain GET).
pub fn use_form_state() -> FormState {
    SharedValue::new(|| use_context::<FormState>().unwrap_or_default()).into_inner()
}

/// The CSRF token for forms posted without JavaScript (the server's access layer issues it).
/// The server reads it from the request; the browser from the page's `csrf-token` meta tag (not
/// a shared value: forms inside a `<Suspense>` are rendered again in the browser, where shared
/// values created after an await are not matched up with the server's).
pub fn use_csrf_token() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<CsrfToken>().map(|t| t.0.clone()))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        document()
            .query_selector("meta[name=\"csrf-token\"]")
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
            .unwrap_or_default()
    }
}

/// The token the server's access layer puts in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken(pub String);

/// The hidden field every form that posts carries.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=use_csrf_token() /> }
}

/// A translated message for a field error code.
pub fn field_message(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "required" => t_string!(i18n, field_required),
        "too_long" => t_string!(i18n, field_too_long),
        "invalid_username" => t_string!(i18n, field_invalid_username),
        "control_characters" => t_string!(i18n, field_control_characters),
        "invalid_choice" => t_string!(i18n, field_invalid_choice),
        "programs_required" => t_string!(i18n, field_programs_required),
        "office_required" => t_string!(i18n, field_office_required),
        "agency_required" => t_string!(i18n, field_agency_required),
        "username_taken" => t_string!(i18n, field_username_taken),
        "password_too_short" => t_string!(i18n, field_password_too_short),
        "password_too_long" => t_string!(i18n, field_password_too_long),
        "password_common" => t_string!(i18n, field_password_common),
        "password_repetitive" => t_string!(i18n, field_password_repetitive),
        "password_mismatch" => t_string!(i18n, field_password_mismatch),
        "password_same" => t_string!(i18n, field_password_same),
        "current_password_wrong" => t_string!(i18n, field_current_password_wrong),
        "cannot_disable_self" => t_string!(i18n, field_cannot_disable_self),
        "curp_length" => t_string!(i18n, field_curp_length),
        "curp_pattern" => t_string!(i18n, field_curp_pattern),
        "curp_inconvenient_word" => t_string!(i18n, field_curp_inconvenient_word),
        "curp_invalid_date" => t_string!(i18n, field_curp_invalid_date),
        "curp_future_date" => t_string!(i18n, field_curp_future_date),
        "curp_state_code" => t_string!(i18n, field_curp_state_code),
        "curp_check_digit" => t_string!(i18n, field_curp_check_digit),
        "card_length" => t_string!(i18n, field_card_length),
        "card_check_digit" => t_string!(i18n, field_card_check_digit),
        "name_characters" => t_string!(i18n, field_name_characters),
        "date_invalid" => t_string!(i18n, field_date_invalid),
        "date_future" => t_string!(i18n, field_date_future),
        "date_too_old" => t_string!(i18n, field_date_too_old),
        "before_birth" => t_string!(i18n, field_before_birth),
        "ine_format" => t_string!(i18n, field_ine_format),
        "nss_format" => t_string!(i18n, field_nss_format),
        "rfc_format" => t_string!(i18n, field_rfc_format),
        "passport_format" => t_string!(i18n, field_passport_format),
        "postal_code_format" => t_string!(i18n, field_postal_code_format),
        "phone_format" => t_string!(i18n, field_phone_format),
        "changed_since_merge" => t_string!(i18n, field_changed_since_merge),
        "open_request_clash" => t_string!(i18n, field_open_request_clash),
        "request_closed" => t_string!(i18n, field_request_closed),
        "profile_not_active" => t_string!(i18n, field_profile_not_active),
        "id_already_set" => t_string!(i18n, field_id_already_set),
        "curp_taken" => t_string!(i18n, field_curp_taken),
        "not_offered" => t_string!(i18n, field_not_offered),
        "already_enrolled" => t_string!(i18n, field_already_enrolled),
        "incompatible" => t_string!(i18n, field_incompatible),
        "not_eligible" => t_string!(i18n, field_not_eligible),
        "override_forbidden" => t_string!(i18n, field_override_forbidden),
        "relative_self" => t_string!(i18n, field_relative_self),
        "relative_exists" => t_string!(i18n, field_relative_exists),
        "card_unknown" => t_string!(i18n, field_card_unknown),
        "number_format" => t_string!(i18n, field_number_format),
        "out_of_range" => t_string!(i18n, field_out_of_range),
        "unexpected" => t_string!(i18n, field_unexpected),
        "unknown_value" => t_string!(i18n, field_unknown_value),
        "not_yes_no" => t_string!(i18n, field_not_yes_no),
        "unknown_program" => t_string!(i18n, field_unknown_program),
        "empty_group" => t_string!(i18n, field_empty_group),
        "too_deep" => t_string!(i18n, field_too_deep),
        "too_many" => t_string!(i18n, field_too_many),
        "invalid_json" => t_string!(i18n, field_invalid_json),
        "effective_past" => t_string!(i18n, field_effective_past),
        "tests_failed" => t_string!(i18n, field_tests_failed),
        "no_tests" => t_string!(i18n, field_no_tests),
        "no_such_transition" => t_string!(i18n, field_no_such_transition),
        "reason_not_allowed" => t_string!(i18n, field_reason_not_allowed),
        "not_your_decision" => t_string!(i18n, field_not_your_decision),
        "note_too_long" => t_string!(i18n, field_note_too_long),
        "own_agency" => t_string!(i18n, field_own_agency),
        "already_referred" => t_string!(i18n, field_already_referred),
        "no_rule_in_force" => t_string!(i18n, field_no_rule_in_force),
        "folio_invalid" => t_string!(i18n, field_folio_invalid),
        "curp_or_code" => t_string!(i18n, field_curp_or_code),
        "code_format" => t_string!(i18n, field_code_format),
        "not_decided" => t_string!(i18n, field_not_decided),
        "already_rated" => t_string!(i18n, field_already_rated),
        "curp_disagrees" => t_string!(i18n, warn_curp_disagrees),
        "curp_letters_disagree" => t_string!(i18n, warn_curp_letters_disagree),
        _ => t_string!(i18n, error_validation),
    }
    .to_owned()
}

/// A labelled input with its error next to it (`aria-invalid`, `aria-describedby`).
#[component]
pub fn Field(
    name: &'static str,
    label: String,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] hint: Option<String>,
    state: FormState,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("f-{name}");
    let error = state.error(name);
    let described = match (&hint, &error) {
        (_, Some(_)) => Some(format!("{id}-error")),
        (Some(_), None) => Some(format!("{id}-hint")),
        _ => None,
    };
    // Passwords are never echoed back.
    let value = (kind != "password").then(|| state.value(name));
    let error_id = format!("{id}-error");
    let invalid = error.is_some();
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <input
                id=id
                name=name
                type=kind
                value=value
                autocomplete=autocomplete
                aria-invalid=error.as_ref().map(|_| "true")
                aria-describedby=described
            />
            {error.map(|code| view! { <p class="field-error" id=error_id>{field_message(i18n, &code)}</p> })}
        </div>
    }
}
