//! The forms of request tracking, validated the same way in the browser and on the server.

use serde::{Deserialize, Serialize};

use crate::domain::lifecycle::{Reason, Status};
use crate::domain::referral::{DeclineReason, ReferReason};
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
        let note = optional_note(&self.note, &self.sensitivity, &mut errors);
        let version = self.version.trim().parse::<i32>().ok().filter(|v| *v > 0);
        if version.is_none() {
            errors.push(field("version", "unknown_value"));
        }
        match (to, reason, version) {
            (Some(to), Some(reason), Some(version)) if errors.is_empty() => Ok(Decision {
                to,
                reason,
                note,
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

/// A referral of a person to another agency's program.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralForm {
    /// The program's code.
    #[serde(default)]
    pub program: String,
    #[serde(default)]
    pub reason: String,
    /// Optional: becomes a case note on the referral.
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub sensitivity: String,
}

/// A valid referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReferral {
    pub program: String,
    pub reason: ReferReason,
    pub note: Option<ValidNote>,
}

impl ReferralForm {
    /// # Errors
    /// Every field error (`program`, `reason`, `note`, `sensitivity`).
    pub fn validate(&self) -> Result<ValidReferral, Vec<FieldError>> {
        let mut errors = Vec::new();
        let program = self.program.trim();
        if program.is_empty() {
            errors.push(field("program", "required"));
        }
        let reason = ReferReason::from_code(self.reason.trim());
        if reason.is_none() {
            errors.push(field(
                "reason",
                if self.reason.trim().is_empty() {
                    "required"
                } else {
                    "unknown_value"
                },
            ));
        }
        let note = optional_note(&self.note, &self.sensitivity, &mut errors);
        match reason {
            Some(reason) if errors.is_empty() => Ok(ValidReferral {
                program: program.to_owned(),
                reason,
                note,
            }),
            _ => Err(errors),
        }
    }

    pub fn echo(&self) -> Vec<(&'static str, String)> {
        vec![
            ("program", self.program.clone()),
            ("reason", self.reason.clone()),
            ("note", self.note.clone()),
            ("sensitivity", self.sensitivity.clone()),
        ]
    }
}

/// The receiving agency's answer to a referral.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralDecisionForm {
    /// `accept` or `decline`.
    #[serde(default)]
    pub decision: String,
    /// Required to decline.
    #[serde(default)]
    pub reason: String,
    /// The referral's version the form was filled from.
    #[serde(default)]
    pub version: String,
}

/// A valid answer: `None` accepts, `Some(reason)` declines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferralDecision {
    pub decline: Option<DeclineReason>,
    pub version: i32,
}

impl ReferralDecisionForm {
    /// # Errors
    /// Every field error (`decision`, `reason`, `version`).
    pub fn validate(&self) -> Result<ReferralDecision, Vec<FieldError>> {
        let mut errors = Vec::new();
        let reason = self.reason.trim();
        let decline = match self.decision.trim() {
            "accept" => {
                if !reason.is_empty() {
                    errors.push(field("reason", "reason_not_allowed"));
                }
                None
            }
            "decline" => match DeclineReason::from_code(reason) {
                Some(r) => Some(r),
                None => {
                    errors.push(field(
                        "reason",
                        if reason.is_empty() {
                            "required"
                        } else {
                            "unknown_value"
                        },
                    ));
                    None
                }
            },
            "" => {
                errors.push(field("decision", "required"));
                None
            }
            _ => {
                errors.push(field("decision", "unknown_value"));
                None
            }
        };
        let version = self.version.trim().parse::<i32>().ok().filter(|v| *v > 0);
        if version.is_none() {
            errors.push(field("version", "unknown_value"));
        }
        match version {
            Some(version) if errors.is_empty() => Ok(ReferralDecision { decline, version }),
            _ => Err(errors),
        }
    }

    pub fn echo(&self) -> Vec<(&'static str, String)> {
        vec![
            ("decision", self.decision.clone()),
            ("reason", self.reason.clone()),
            ("version", self.version.clone()),
        ]
    }
}

/// An optional note with its sensitivity; errors under `note` and `sensitivity`.
fn optional_note(
    body: &str,
    sensitivity_code: &str,
    errors: &mut Vec<FieldError>,
) -> Option<ValidNote> {
    let bad_note = (!body.trim().is_empty())
        .then(|| note_error(body))
        .flatten();
    if let Some(code) = bad_note {
        errors.push(field("note", code));
    }
    let restricted = sensitivity(sensitivity_code);
    if restricted.is_none() {
        errors.push(field("sensitivity", "unknown_value"));
    }
    (!body.trim().is_empty() && bad_note.is_none()).then(|| ValidNote {
        body: body.trim().to_owned(),
        restricted: restricted.unwrap_or(false),
    })
}

/// An agency head gives a request to a member of the agency's staff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignForm {
    /// The staff member's id.
    #[serde(default)]
    pub staff: String,
}

impl AssignForm {
    /// # Errors
    /// `staff`: `required` or `unknown_value`.
    pub fn validate(&self) -> Result<i32, Vec<FieldError>> {
        match self.staff.trim() {
            "" => Err(vec![field("staff", "required")]),
            text => text
                .parse::<i32>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| vec![field("staff", "unknown_value")]),
        }
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

    #[test]
    fn referrals_name_each_bad_field() {
        let ok = ReferralForm {
            program: " UTILES ".into(),
            reason: "education".into(),
            note: " Necesita útiles. ".into(),
            sensitivity: "general".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.program, "UTILES");
        assert_eq!(ok.reason, ReferReason::Education);
        assert_eq!(ok.note.unwrap().body, "Necesita útiles.");
        let bad = ReferralForm {
            program: String::new(),
            reason: "because".into(),
            note: "x".repeat(NOTE_MAX_CHARS + 1),
            sensitivity: "secret".into(),
        };
        assert_eq!(
            fields(bad.validate().unwrap_err()),
            vec![
                ("program".into(), "required".into()),
                ("reason".into(), "unknown_value".into()),
                ("note".into(), "note_too_long".into()),
                ("sensitivity".into(), "unknown_value".into()),
            ]
        );
    }

    #[test]
    fn a_decline_needs_a_reason_and_an_accept_none() {
        let form = |decision: &str, reason: &str, version: &str| ReferralDecisionForm {
            decision: decision.into(),
            reason: reason.into(),
            version: version.into(),
        };
        assert_eq!(
            form("accept", "", "2").validate().unwrap(),
            ReferralDecision {
                decline: None,
                version: 2
            }
        );
        assert_eq!(
            form("decline", "no_capacity", "1")
                .validate()
                .unwrap()
                .decline,
            Some(DeclineReason::NoCapacity)
        );
        assert_eq!(
            fields(form("decline", "", "1").validate().unwrap_err()),
            vec![("reason".into(), "required".into())]
        );
        assert_eq!(
            fields(form("accept", "no_capacity", "x").validate().unwrap_err()),
            vec![
                ("reason".into(), "reason_not_allowed".into()),
                ("version".into(), "unknown_value".into())
            ]
        );
        assert_eq!(
            fields(form("maybe", "", "1").validate().unwrap_err()),
            vec![("decision".into(), "unknown_value".into())]
        );
    }
}
