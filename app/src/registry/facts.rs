//! Around a person: the facts eligibility uses (each dated, with its source and a verified flag)
//! and their relatives. Forms and validation, shared by the browser and the server.

use serde::{Deserialize, Serialize};

use super::forms::parse_date;
use crate::domain::curp::Date;
use crate::error::FieldError;

fn error(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

pub use crate::domain::facts::*;

/// The form that records one fact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub value: String,
    /// `YYYY-MM-DD`: when the fact was true (the document's date, or the interview's).
    #[serde(default)]
    pub as_of: String,
    #[serde(default)]
    pub source: String,
    /// `yes` when the caseworker saw a document proving it.
    #[serde(default)]
    pub verified: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidFact {
    pub kind: FactKind,
    pub value: String,
    pub as_of: Date,
    pub source: &'static str,
    pub verified: bool,
}

impl FactForm {
    /// # Errors
    /// Every field error found.
    pub fn validate(&self, today: Date) -> Result<ValidFact, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = FactKind::from_code(self.kind.trim());
        if kind.is_none() {
            errors.push(error("kind", "invalid_choice"));
        }
        let value = kind.and_then(|k| match k.canonical(&self.value) {
            Ok(v) => Some(v),
            Err(code) => {
                errors.push(error("value", code));
                None
            }
        });
        let as_of = match parse_date(&self.as_of) {
            None if self.as_of.trim().is_empty() => Some(today),
            None => {
                errors.push(error("as_of", "date_invalid"));
                None
            }
            Some(d) if d > today => {
                errors.push(error("as_of", "date_future"));
                None
            }
            Some(d) => Some(d),
        };
        let source = SOURCES.into_iter().find(|s| *s == self.source.trim());
        if source.is_none() {
            errors.push(error("source", "invalid_choice"));
        }
        let verified = match self.verified.trim() {
            "yes" => true,
            "" | "no" => false,
            _ => {
                errors.push(error("verified", "invalid_choice"));
                false
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidFact {
            kind: kind.expect("checked"),
            value: value.expect("checked"),
            as_of: as_of.expect("checked"),
            source: source.expect("checked"),
            verified,
        })
    }
}

/// How the person on the profile is related to the relative being added, as the caseworker
/// says it; stored as (parent/guardian/spouse, from, to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Relation {
    /// The profile's person is the relative's parent.
    ParentOf,
    /// The profile's person is the relative's child.
    ChildOf,
    GuardianOf,
    /// The profile's person is under the relative's guardianship.
    WardOf,
    SpouseOf,
}

pub const RELATIONS: [Relation; 5] = [
    Relation::ParentOf,
    Relation::ChildOf,
    Relation::GuardianOf,
    Relation::WardOf,
    Relation::SpouseOf,
];

impl Relation {
    pub fn code(self) -> &'static str {
        match self {
            Relation::ParentOf => "parent_of",
            Relation::ChildOf => "child_of",
            Relation::GuardianOf => "guardian_of",
            Relation::WardOf => "ward_of",
            Relation::SpouseOf => "spouse_of",
        }
    }

    pub fn from_code(code: &str) -> Option<Relation> {
        RELATIONS.into_iter().find(|r| r.code() == code)
    }

    /// The stored kind and whether the profile's person is its subject (`person_id`).
    pub fn stored(self) -> (&'static str, bool) {
        match self {
            Relation::ParentOf => ("parent", true),
            Relation::ChildOf => ("parent", false),
            Relation::GuardianOf => ("guardian", true),
            Relation::WardOf => ("guardian", false),
            Relation::SpouseOf => ("spouse", true),
        }
    }

    /// The relation seen from `subject` for a stored (kind, subject is `person_id`) pair.
    pub fn seen_from(kind: &str, subject: bool) -> Option<Relation> {
        RELATIONS.into_iter().find(|r| {
            r.stored() == (kind, subject) || (kind == "spouse" && *r == Relation::SpouseOf)
        })
    }
}

/// Adds a relative found by card number (the search page gives it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelativeForm {
    #[serde(default)]
    pub relation: String,
    #[serde(default)]
    pub card: String,
    /// `yes`: they live together (same household).
    #[serde(default)]
    pub same_household: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRelative {
    pub relation: Relation,
    pub card: String,
    pub same_household: bool,
}

impl RelativeForm {
    /// # Errors
    /// Every field error found.
    pub fn validate(&self) -> Result<ValidRelative, Vec<FieldError>> {
        let mut errors = Vec::new();
        let relation = Relation::from_code(self.relation.trim());
        if relation.is_none() {
            errors.push(error("relation", "invalid_choice"));
        }
        let card = match crate::domain::card::parse(&self.card) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(error("card", e.code()));
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidRelative {
            relation: relation.expect("checked"),
            card: card.expect("checked"),
            same_household: self.same_household.trim() == "yes",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date {
        year: 2026,
        month: 11,
        day: 21,
    };

    #[test]
    fn values_are_canonical_or_refused() {
        assert_eq!(
            FactKind::MonthlyIncome.canonical("$8,500"),
            Ok("8500".into())
        );
        assert_eq!(
            FactKind::MonthlyIncome.canonical("ocho"),
            Err("number_format")
        );
        assert_eq!(
            FactKind::MonthlyIncome.canonical("-3"),
            Err("number_format")
        );
        assert_eq!(
            FactKind::MonthlyIncome.canonical("20000000"),
            Err("out_of_range")
        );
        assert_eq!(FactKind::GradeAverage.canonical("8,75"), Ok("8.8".into()));
        assert_eq!(
            FactKind::GradeAverage.canonical("10.5"),
            Err("out_of_range")
        );
        assert_eq!(
            FactKind::Employment.canonical("formal"),
            Ok("formal".into())
        );
        assert_eq!(
            FactKind::Employment.canonical("rich"),
            Err("invalid_choice")
        );
        assert_eq!(FactKind::Pregnant.canonical(" "), Err("required"));
    }

    #[test]
    fn a_fact_form_reports_every_field() {
        let form = FactForm {
            kind: "monthly_income".into(),
            value: "mucho".into(),
            as_of: "2030-01-01".into(),
            source: "rumour".into(),
            verified: "maybe".into(),
        };
        let fields: Vec<String> = form
            .validate(TODAY)
            .unwrap_err()
            .into_iter()
            .map(|e| format!("{}:{}", e.field, e.code))
            .collect();
        assert_eq!(
            fields,
            [
                "value:number_format",
                "as_of:date_future",
                "source:invalid_choice",
                "verified:invalid_choice"
            ]
        );
        let ok = FactForm {
            kind: "disability".into(),
            value: "yes".into(),
            as_of: String::new(),
            source: "document".into(),
            verified: "yes".into(),
        }
        .validate(TODAY)
        .unwrap();
        assert_eq!(ok.as_of, TODAY);
        assert!(ok.verified);
    }

    #[test]
    fn relations_round_trip_through_storage() {
        for r in RELATIONS {
            let (kind, subject) = r.stored();
            assert_eq!(Relation::seen_from(kind, subject), Some(r));
        }
        assert_eq!(
            Relation::seen_from("spouse", false),
            Some(Relation::SpouseOf)
        );
    }
}
