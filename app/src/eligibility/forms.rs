//! The forms of the "¿Qué pasó?" page. Both carry the chosen life events (repeated `evento`
//! fields), so they arrive as a list of pairs; unknown fields are refused.

use crate::domain::facts::FactKind;
use crate::error::FieldError;

fn error(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

/// Life event codes are short upper-case words.
pub fn event_code(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()
        && v.len() <= 32
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()))
    .then(|| v.to_owned())
}

/// The page address for a set of life events.
pub fn bundle_path(person: i32, events: &[String]) -> String {
    let query: Vec<String> = events.iter().map(|e| format!("evento={e}")).collect();
    if query.is_empty() {
        format!("/oficina/persona/{person}/que-paso")
    } else {
        format!("/oficina/persona/{person}/que-paso?{}", query.join("&"))
    }
}

/// "Request these programs": picks are `beneficiary:program` ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestForm {
    pub events: Vec<String>,
    pub picks: Vec<(i32, i32)>,
    /// A supervisor's reason to request a program the rules do not find eligible.
    pub override_reason: String,
}

/// Reasons a supervisor may give to request despite the rules.
pub const OVERRIDE_REASONS: [&str; 4] = [
    "documents_pending",
    "emergency",
    "data_outdated",
    "agency_instruction",
];

/// "Answer a question": one fact for one beneficiary, declared today.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerForm {
    pub events: Vec<String>,
    pub person: i32,
    pub kind: String,
    pub value: String,
}

impl RequestForm {
    /// # Errors
    /// `None` for an unknown field or a malformed pick (answered 422, like any bad body).
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<RequestForm> {
        let mut form = RequestForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => {}
                "evento" => form.events.push(event_code(v)?),
                "pick" => {
                    let (b, p) = v.split_once(':')?;
                    form.picks
                        .push((b.trim().parse().ok()?, p.trim().parse().ok()?));
                }
                "override_reason" => form.override_reason = v.trim().to_owned(),
                _ => return None,
            }
        }
        Some(form)
    }

    /// The echo of the form for a page shown again with errors.
    pub fn echo(&self) -> Vec<(&'static str, String)> {
        vec![("override_reason", self.override_reason.clone())]
    }

    /// # Errors
    /// Field errors: nothing picked, an unknown override reason.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.picks.is_empty() {
            errors.push(error("pick", "required"));
        }
        if !self.override_reason.is_empty()
            && !OVERRIDE_REASONS.contains(&self.override_reason.as_str())
        {
            errors.push(error("override_reason", "invalid_choice"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl AnswerForm {
    /// # Errors
    /// `None` for an unknown field or a malformed person id.
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<AnswerForm> {
        let mut form = AnswerForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => {}
                "evento" => form.events.push(event_code(v)?),
                "person" => form.person = v.trim().parse().ok()?,
                "kind" => form.kind = v.clone(),
                "value" => form.value = v.clone(),
                _ => return None,
            }
        }
        Some(form)
    }

    pub fn echo(&self) -> Vec<(&'static str, String)> {
        vec![
            ("person", self.person.to_string()),
            ("kind", self.kind.clone()),
            ("value", self.value.clone()),
        ]
    }

    /// The fact kind and its canonical value.
    ///
    /// # Errors
    /// Field errors on `kind` and `value`.
    pub fn validate(&self) -> Result<(FactKind, String), Vec<FieldError>> {
        let kind = FactKind::from_code(self.kind.trim())
            .ok_or_else(|| vec![error("kind", "invalid_choice")])?;
        let value = kind
            .canonical(&self.value)
            .map_err(|code| vec![error("value", code)])?;
        Ok((kind, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn request_forms_parse_repeated_fields_and_refuse_strangers() {
        let f = RequestForm::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("evento", "MADRE_SOLA"),
            ("evento", "ESCUELA"),
            ("pick", "5:8"),
            ("pick", "6:1"),
        ]))
        .unwrap();
        assert_eq!(f.events, ["MADRE_SOLA", "ESCUELA"]);
        assert_eq!(f.picks, [(5, 8), (6, 1)]);
        assert!(f.validate().is_ok());
        assert!(RequestForm::from_pairs(&pairs(&[("pick", "5")])).is_none());
        assert!(RequestForm::from_pairs(&pairs(&[("evento", "x<script>")])).is_none());
        assert!(RequestForm::from_pairs(&pairs(&[("admin", "1")])).is_none());
        let none = RequestForm::from_pairs(&pairs(&[("override_reason", "because")])).unwrap();
        let codes: Vec<_> = none
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(codes, ["required", "invalid_choice"]);
    }

    #[test]
    fn answers_are_checked_like_any_fact() {
        let f = AnswerForm::from_pairs(&pairs(&[
            ("person", "3"),
            ("kind", "partner"),
            ("value", "no"),
        ]))
        .unwrap();
        assert_eq!(f.validate(), Ok((FactKind::Partner, "no".to_owned())));
        let f = AnswerForm::from_pairs(&pairs(&[
            ("person", "3"),
            ("kind", "months_worked"),
            ("value", "99999"),
        ]))
        .unwrap();
        assert_eq!(f.validate().unwrap_err()[0].code, "out_of_range");
        let f = AnswerForm::from_pairs(&pairs(&[
            ("person", "3"),
            ("kind", "salary"),
            ("value", "1"),
        ]))
        .unwrap();
        assert_eq!(f.validate().unwrap_err()[0].field, "kind");
    }

    #[test]
    fn the_page_address_keeps_the_events() {
        assert_eq!(bundle_path(4, &[]), "/oficina/persona/4/que-paso");
        assert_eq!(
            bundle_path(4, &["A".into(), "B".into()]),
            "/oficina/persona/4/que-paso?evento=A&evento=B"
        );
    }
}
