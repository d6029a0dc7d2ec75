//! The indicator form of `/admin/indicadores`, read from the posted pairs (the programs are a
//! repeated field), and its validation.

use crate::error::FieldError;

/// The longest indicator name, in characters.
pub const MAX_NAME: usize = 160;

/// An indicator's names and programs as posted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicatorForm {
    pub name_es: String,
    pub name_en: String,
    /// Program codes, as checked.
    pub programs: Vec<String>,
    /// The stamp of the settings the form was filled from.
    pub stamp: String,
}

impl IndicatorForm {
    /// `None` for an unknown field (answered 422, like any malformed body).
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<IndicatorForm> {
        let mut form = IndicatorForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => {}
                "name_es" => form.name_es.clone_from(v),
                "name_en" => form.name_en.clone_from(v),
                "program" => form.programs.push(v.trim().to_owned()),
                "stamp" => form.stamp.clone_from(v),
                _ => return None,
            }
        }
        Some(form)
    }

    /// Both names present, not too long, without control characters; every program known
    /// (`known`), none twice; at least one.
    pub fn validate(&self, known: &dyn Fn(&str) -> bool) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (field, value) in [("name_es", &self.name_es), ("name_en", &self.name_en)] {
            let value = value.trim();
            if value.is_empty() {
                errors.push(FieldError::new(field, "required"));
            } else if value.chars().count() > MAX_NAME {
                errors.push(FieldError::new(field, "too_long"));
            } else if value.chars().any(char::is_control) {
                errors.push(FieldError::new(field, "control_characters"));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        if self.programs.is_empty() {
            errors.push(FieldError::new("program", "programs_required"));
        } else if self
            .programs
            .iter()
            .any(|p| !known(p) || !seen.insert(p.as_str()))
        {
            errors.push(FieldError::new("program", "invalid_choice"));
        }
        errors
    }

    /// What was typed, for the page shown again.
    pub fn echo(&self) -> Vec<(&'static str, String)> {
        vec![
            ("name_es", self.name_es.clone()),
            ("name_en", self.name_en.clone()),
            ("programs", self.programs.join(",")),
        ]
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
    fn programs_repeat_and_unknown_fields_are_refused() {
        let form = IndicatorForm::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("name_es", "Personas mayores"),
            ("name_en", "Older adults"),
            ("program", "PAAM"),
            ("program", "COMCOM"),
            ("stamp", "abc"),
        ]))
        .unwrap();
        assert_eq!(form.programs, vec!["PAAM", "COMCOM"]);
        assert!(form.validate(&|c| c == "PAAM" || c == "COMCOM").is_empty());
        assert_eq!(IndicatorForm::from_pairs(&pairs(&[("person", "1")])), None);
    }

    #[test]
    fn each_field_says_what_is_wrong() {
        let form = IndicatorForm {
            name_es: "  ".into(),
            name_en: "x".repeat(MAX_NAME + 1),
            programs: vec![],
            stamp: String::new(),
        };
        let codes: Vec<(String, String)> = form
            .validate(&|_| true)
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("name_es".into(), "required".into()),
                ("name_en".into(), "too_long".into()),
                ("program".into(), "programs_required".into()),
            ]
        );
        let unknown = IndicatorForm {
            name_es: "a".into(),
            name_en: "b".into(),
            programs: vec!["PAAM".into(), "PAAM".into()],
            stamp: String::new(),
        };
        assert_eq!(unknown.validate(&|_| true)[0].code, "invalid_choice");
        let tab = IndicatorForm {
            programs: vec!["NOPE".into()],
            name_en: "a\tb".into(),
            ..unknown
        };
        let codes: Vec<String> = tab
            .validate(&|c| c == "PAAM")
            .into_iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(codes, vec!["control_characters", "invalid_choice"]);
    }
}
