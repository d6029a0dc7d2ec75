//! The forms of request tracking, validated the same way in the browser and on the server.

use serde::{Deserialize, Serialize};

use crate::domain::lifecycle::{Reason, Status};
use crate::error::FieldError;

/// The longest case note, in characters (about two printed pages).
pub const NOTE_MAX_CHARS: usize = 4000;

/// A status change of one request (`/agencia/solicitud/{id}`, or a withdrawal at an office).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    /// The status to move to.
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub reason: String,
    /// Optional: becomes a case note on the request.
    #[serde(default)]
    pub note: String,
    /// `general` or `restricted` (of the note).
    #[serde(default)]
    pub sensitivity: String,
    /// The request's version the form was filled from (optimistic concurrency).
    #[serde(default)]
    pub version: String,
}

/// A valid decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub to: Status,
    pub reason: Reason,
    pub note: Option<ValidNote>,
    pub version: i32,
}

/// A case note on a person (optionally on one of their requests).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteForm {
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub sensitivity: String,
    /// The request the note is about, if any (its id).
    #[serde(default)]
    pub enrollment: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNote {
    pub body: String,
    pub restricted: bool,
}

fn field(name: &str, code: &str) -> FieldError {
    FieldError::new(name, code)
}

/// A note body: trimmed, not empty, at most [`NOTE_MAX_CHARS`], no control characters but line
/// breaks and tabs.
fn note_error(body: &str) -> Option<&'static str> {
    let body = body.trim();
    if body.is_empty() {
        Some("required")
    } else if body.chars().count() > NOTE_MAX_CHARS {
        Some("note_too_long")
    } else if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Some("control_characters")
    } else {
        None
    }
}

fn sensitivity(code: &str) -> Option<bool> {
    match code {
        "" | "general" => Some(false),
        "restricted" => Some(true),
        _ => None,
    }
}

impl NoteForm {
    /// # Errors
    /// Every field error (`body`, `sensitivity`, `enrollment`).
    pub fn validate(&self) -> Result<(ValidNote, Option<i32>), Vec<FieldError>> {
        let mut errors = Vec::new();
        if let Some(code) = note_error(&self.body) {
            errors.push(field("body", code));
        }
        let restricted = sensitivity(&self.sensitivity);
        if restricted.is_none() {
            errors.push(field("sensitivity", "unknown_value"));
        }
        let enrollment = match self.enrollment.trim() {
            "" => None,
            text => match text.parse::<i32>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    errors.push(field("enrollment", "unknown_value"));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok((
            ValidNote {
                body: self.body.trim().to_owned(),
                restricted: restricted.unwrap_or(false),
            },
            enrollment,
        ))
    }
}

impl DecisionForm {
    /// Checks the shape of the form (the machine itself is checked against the stored status).
    ///
    /// # Errors
    /// Every field error (`to`, `reason`, `note`, `sensitivity`, `version`).
    pub fn validate(&self) -> Result<Decision, Vec<FieldError>> {
        let mut errors = Vec::new();
        let to = Status::from_code(self.to.trim());
        if to.is_none() {
            errors.push(field(
                "to",
                if self.to.trim().is_empty() {
                    "required"
                } else {
                    "no_such_transition"
                },
            ));
        }
        let reason = Reason::from_code(self.reason.trim());
        if reason.is_none() {
            errors.push(field(
                "reason",
                if self.reason.trim().is_empty() {
                    "required"
                } else {
                    "reason_not_allowed"
                },
            ));
        }
        let note = if self.note.trim().is_empty() {
            None
        } else {
            if let Some(code) = note_error(&self.note) {
                errors.push(field("note", code));
            }
            Some(self.note.trim().to_owned())
        };
        let restricted = sensitivity(&self.sensitivity);
        if restricted.is_none() {
            errors.push(field("sensitivity", "unknown_value"));
        }
        let version = self.version.trim().parse::<i32>().ok().filter(|v| *v > 0);
        if version.is_none() {
            errors.push(field("version", "unknown_value"));
        }
        match (to, reason, version) {
            (Some(to), Some(reason), Some(version)) if errors.is_empty() => Ok(Decision {
                to,
                reason,
                note: note.map(|body| ValidNote {
                    body,
                    restricted: restricted.unwrap_or(false),
                }),
                version,
            }),
            _ => Err(errors),
        }
    }

    pub fn echo(&self) -> Vec<(&'static str, String)> {
        vec![
            ("to", self.to.clone()),
            ("reason", self.reason.clone()),
            ("note", self.note.clone()),
            ("sensitivity", self.sensitivity.clone()),
            ("version", self.version.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(to: &str, reason: &str, note: &str) -> DecisionForm {
        DecisionForm {
            to: to.into(),
            reason: reason.into(),
            note: note.into(),
            sensitivity: String::new(),
            version: "3".into(),
        }
    }

    fn fields(errors: Vec<FieldError>) -> Vec<(String, String)> {
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_decision_parses_with_or_without_a_note() {
        let d = form("approved", "meets_requirements", "")
            .validate()
            .unwrap();
        assert_eq!(
            (d.to, d.reason, d.version),
            (Status::Approved, Reason::MeetsRequirements, 3)
        );
        assert_eq!(d.note, None);
        let d = form("rejected", "not_eligible", "  Ingreso comprobado.  ")
            .validate()
            .unwrap();
        assert_eq!(d.note.unwrap().body, "Ingreso comprobado.");
    }

    #[test]
    fn each_bad_field_is_named() {
        let errors = form("", "", "").validate().unwrap_err();
        assert_eq!(
            fields(errors),
            vec![
                ("to".into(), "required".into()),
                ("reason".into(), "required".into())
            ]
        );
        let mut bad = form("closed", "because", &"x".repeat(NOTE_MAX_CHARS + 1));
        bad.sensitivity = "secret".into();
        bad.version = "zero".into();
        assert_eq!(
            fields(bad.validate().unwrap_err()),
            vec![
                ("to".into(), "no_such_transition".into()),
                ("reason".into(), "reason_not_allowed".into()),
                ("note".into(), "note_too_long".into()),
                ("sensitivity".into(), "unknown_value".into()),
                ("version".into(), "unknown_value".into()),
            ]
        );
    }

    #[test]
    fn notes_are_bounded_and_clean() {
        let ok = NoteForm {
            body: "Trae acta de nacimiento.\nLlamar el lunes.".into(),
            sensitivity: "restricted".into(),
            enrollment: "12".into(),
        };
        let (note, enrollment) = ok.validate().unwrap();
        assert!(note.restricted);
        assert_eq!(enrollment, Some(12));
        let exactly = NoteForm {
            body: "é".repeat(NOTE_MAX_CHARS),
            ..NoteForm::default()
        };
        assert!(exactly.validate().is_ok());
        let bad = NoteForm {
            body: "a\u{7}b".into(),
            sensitivity: "x".into(),
            enrollment: "-1".into(),
        };
        assert_eq!(
            fields(bad.validate().unwrap_err()),
            vec![
                ("body".into(), "control_characters".into()),
                ("sensitivity".into(), "unknown_value".into()),
                ("enrollment".into(), "unknown_value".into()),
            ]
        );
    }
}
