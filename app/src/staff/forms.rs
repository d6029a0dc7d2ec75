//! The staff forms as they arrive (from a no-JS form post or the hydrated page) and their
//! validation. Unknown fields are refused; nothing here names the actor, who comes from the
//! session.

use serde::{Deserialize, Serialize};

use crate::domain::access::{Anchor, Role};
use crate::domain::password;
use crate::error::FieldError;

pub const MAX_USERNAME: usize = 64;
pub const MAX_NAME: usize = 120;

fn error(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

impl SignInForm {
    /// Presence and size only: whether the pair is right is the sign-in's question.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.username.trim().is_empty() {
            errors.push(error("username", "required"));
        } else if self.username.chars().count() > MAX_USERNAME {
            errors.push(error("username", "too_long"));
        }
        if self.password.is_empty() {
            errors.push(error("password", "required"));
        } else if self.password.chars().count() > password::MAX_CHARS {
            errors.push(error("password", "password_too_long"));
        }
        errors
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivateForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

impl ActivateForm {
    pub fn validate(&self, context: &[&str]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.username.trim().is_empty() {
            errors.push(error("username", "required"));
        }
        if self.token.trim().is_empty() {
            errors.push(error("token", "required"));
        } else if self.token.trim().len() > 64 {
            errors.push(error("token", "too_long"));
        }
        let mut context = context.to_vec();
        context.push(self.username.as_str());
        errors.extend(new_password_errors(&self.password, &self.confirm, &context));
        errors
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordForm {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

impl ChangePasswordForm {
    pub fn validate(&self, context: &[&str]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.current.is_empty() {
            errors.push(error("current", "required"));
        }
        errors.extend(new_password_errors(&self.password, &self.confirm, context));
        if errors.is_empty() && self.password == self.current {
            errors.push(error("password", "password_same"));
        }
        errors
    }
}

/// The rules for a new password, and the confirmation.
pub fn new_password_errors(password: &str, confirm: &str, context: &[&str]) -> Vec<FieldError> {
    if let Err(e) = password::check(password, context) {
        return vec![error("password", e.code())];
    }
    if password != confirm {
        return vec![error("confirm", "password_mismatch")];
    }
    Vec::new()
}

/// An account as the administrator fills it in.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub office: String,
    /// What the administrator does on an existing account: `save`, `disable`, `enable`, `reset`.
    #[serde(default)]
    pub action: String,
    /// The version the administrator saw (optimistic concurrency), for `save`.
    #[serde(default)]
    pub version: String,
}

/// A validated account: the role and exactly the anchor it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidStaff {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub agency_id: Option<i32>,
    pub office_id: Option<i32>,
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// What is wrong with a required one-line text (a name shown on screens), if anything.
fn label_error(text: &str, max: usize) -> Option<&'static str> {
    if text.is_empty() {
        Some("required")
    } else if text.chars().count() > max {
        Some("too_long")
    } else if has_control(text) {
        Some("control_characters")
    } else {
        None
    }
}

impl StaffForm {
    /// Validates the fields of an account. `with_username` is false on edits (the username
    /// never changes).
    ///
    /// # Errors
    /// One error per invalid field.
    pub fn validate(&self, with_username: bool) -> Result<ValidStaff, Vec<FieldError>> {
        let mut errors = Vec::new();
        let username = self.username.trim().to_lowercase();
        if with_username {
            if username.is_empty() {
                errors.push(error("username", "required"));
            } else if username.chars().count() > MAX_USERNAME {
                errors.push(error("username", "too_long"));
            } else if username.chars().count() < 3
                || !username
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            {
                errors.push(error("username", "invalid_username"));
            }
        }
        let display_name = self.display_name.trim().to_owned();
        if let Some(code) = label_error(&display_name, MAX_NAME) {
            errors.push(error("display_name", code));
        }
        let role = Role::from_code(self.role.trim()).filter(|r| Role::STAFF.contains(r));
        if role.is_none() {
            errors.push(error("role", "invalid_choice"));
        }
        let parse_id = |field: &str, value: &str, errors: &mut Vec<FieldError>| -> Option<i32> {
            let value = value.trim();
            if value.is_empty() {
                return None;
            }
            match value.parse::<i32>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    errors.push(error(field, "invalid_choice"));
                    None
                }
            }
        };
        let agency_id = parse_id("agency", &self.agency, &mut errors);
        let office_id = parse_id("office", &self.office, &mut errors);
        let (agency_id, office_id) = match role.map(Role::anchor) {
            Some(Anchor::Office) => {
                if office_id.is_none() && !errors.iter().any(|e| e.field == "office") {
                    errors.push(error("office", "office_required"));
                }
                (None, office_id)
            }
            Some(Anchor::Agency) => {
                if agency_id.is_none() && !errors.iter().any(|e| e.field == "agency") {
                    errors.push(error("agency", "agency_required"));
                }
                (agency_id, None)
            }
            _ => (None, None),
        };
        match role {
            Some(role) if errors.is_empty() => Ok(ValidStaff {
                username,
                display_name,
                role,
                agency_id,
                office_id,
            }),
            _ => Err(errors),
        }
    }
}

/// How long a new API client lives when the form does not say (days), and at most.
pub const DEFAULT_CLIENT_DAYS: i64 = 90;
pub const MAX_CLIENT_DAYS: i64 = 365;
pub const MAX_CLIENT_NAME: usize = 80;

/// The administrator's form: which agency, a name, and the lifetime in days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiClientForm {
    /// The agency's id.
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub name: String,
    /// Days until it expires (1–365; 90 when empty).
    #[serde(default)]
    pub days: String,
    /// The id of a client to revoke instead (the list's buttons post it alone).
    #[serde(default)]
    pub revoke: String,
}

/// A valid client form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidClient {
    pub agency_id: i32,
    pub name: String,
    pub days: i64,
}

impl ApiClientForm {
    /// # Errors
    /// Field errors: `agency` required; `name` required, too long or with control characters;
    /// `days` not a number or outside 1–365.
    pub fn validate(&self) -> Result<ValidClient, Vec<FieldError>> {
        let mut errors = Vec::new();
        let agency_id = match self.agency.trim() {
            "" => {
                errors.push(error("agency", "required"));
                0
            }
            text => text.parse().unwrap_or_else(|_| {
                errors.push(error("agency", "invalid_choice"));
                0
            }),
        };
        let name = self.name.trim().to_owned();
        if let Some(code) = label_error(&name, MAX_CLIENT_NAME) {
            errors.push(error("name", code));
        }
        let days = match self.days.trim() {
            "" => DEFAULT_CLIENT_DAYS,
            text => match text.parse::<i64>() {
                Ok(d) if (1..=MAX_CLIENT_DAYS).contains(&d) => d,
                Ok(_) => {
                    errors.push(error("days", "out_of_range"));
                    0
                }
                Err(_) => {
                    errors.push(error("days", "number_format"));
                    0
                }
            },
        };
        if errors.is_empty() {
            Ok(ValidClient {
                agency_id,
                name,
                days,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(role: &str, agency: &str, office: &str) -> StaffForm {
        StaffForm {
            username: "Ana.Lopez".into(),
            display_name: " Ana López ".into(),
            role: role.into(),
            agency: agency.into(),
            office: office.into(),
            ..StaffForm::default()
        }
    }

    #[test]
    fn an_office_role_keeps_only_its_office() {
        let valid = form("caseworker", "3", "7").validate(true).unwrap();
        assert_eq!(valid.username, "ana.lopez");
        assert_eq!(valid.display_name, "Ana López");
        assert_eq!((valid.agency_id, valid.office_id), (None, Some(7)));
    }

    #[test]
    fn the_anchor_a_role_needs_is_required() {
        let errors = form("agency_head", "", "7").validate(true).unwrap_err();
        assert_eq!(errors, vec![error("agency", "agency_required")]);
        let errors = form("office_supervisor", "", "")
            .validate(true)
            .unwrap_err();
        assert_eq!(errors, vec![error("office", "office_required")]);
    }

    #[test]
    fn every_field_is_reported() {
        let bad = StaffForm {
            username: "a b".into(),
            display_name: "x\u{0}".into(),
            role: "root".into(),
            agency: "abc".into(),
            ..StaffForm::default()
        };
        let fields: Vec<String> = bad
            .validate(true)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["username", "display_name", "role", "agency"]);
    }

    #[test]
    fn passwords_must_follow_the_rules_and_match() {
        let form = ChangePasswordForm {
            current: "el viejo camino de tierra".into(),
            password: "las jacarandas moradas de marzo".into(),
            confirm: "las jacarandas moradas de mayo".into(),
        };
        assert_eq!(
            form.validate(&[]),
            vec![error("confirm", "password_mismatch")]
        );
        let same = ChangePasswordForm {
            confirm: form.password.clone(),
            current: form.password.clone(),
            ..form
        };
        assert_eq!(same.validate(&[]), vec![error("password", "password_same")]);
    }

    #[test]
    fn api_client_form_reports_every_bad_field() {
        let form = ApiClientForm {
            agency: " ".into(),
            name: "x".repeat(81),
            days: "400".into(),
            ..ApiClientForm::default()
        };
        let codes: Vec<_> = form
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            codes,
            [
                ("agency".to_owned(), "required".to_owned()),
                ("name".to_owned(), "too_long".to_owned()),
                ("days".to_owned(), "out_of_range".to_owned()),
            ]
        );
        let ok = ApiClientForm {
            agency: "3".into(),
            name: "Padrón".into(),
            ..ApiClientForm::default()
        }
        .validate()
        .unwrap();
        assert_eq!((ok.agency_id, ok.days), (3, DEFAULT_CLIENT_DAYS));
    }
}
