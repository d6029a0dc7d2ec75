//! Duplicate review: the supervisor's decision on a pair of profiles (merge, with the surviving
//! values chosen field by field, or "different people") and the unmerge. Forms, reason codes and
//! their validation, shared by the browser and the server.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The identity fields whose surviving value the supervisor chooses.
pub const MERGE_FIELDS: [&str; 9] = [
    "given_names",
    "first_surname",
    "second_surname",
    "birth_date",
    "sex",
    "birth_state",
    "borough",
    "colonia",
    "postal_code",
];

/// Why two profiles are one person.
pub const MERGE_REASONS: [&str; 3] = ["documents_match", "registered_twice", "confirmed_by_person"];
/// Why they are not.
pub const DISTINCT_REASONS: [&str; 2] = ["different_documents", "homonym"];
/// Why a merge is undone.
pub const UNMERGE_REASONS: [&str; 2] = ["wrong_merge", "data_error"];

fn error(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

/// The decision form of a pair. `pick_<field>` is `a` or `b` (default: the survivor's value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionForm {
    /// `merge`, `distinct` or `unmerge`.
    #[serde(default)]
    pub decision: String,
    /// `a` or `b`: the profile that survives a merge.
    #[serde(default)]
    pub survivor: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub pick_given_names: String,
    #[serde(default)]
    pub pick_first_surname: String,
    #[serde(default)]
    pub pick_second_surname: String,
    #[serde(default)]
    pub pick_birth_date: String,
    #[serde(default)]
    pub pick_sex: String,
    #[serde(default)]
    pub pick_birth_state: String,
    #[serde(default)]
    pub pick_borough: String,
    #[serde(default)]
    pub pick_colonia: String,
    #[serde(default)]
    pub pick_postal_code: String,
}

/// Which side of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    A,
    B,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Merge {
        survivor: Side,
        reason: &'static str,
        /// For each of [`MERGE_FIELDS`], the side whose value survives.
        picks: Vec<(&'static str, Side)>,
    },
    Distinct {
        reason: &'static str,
    },
    Unmerge {
        reason: &'static str,
    },
}

fn side(text: &str) -> Option<Side> {
    match text.trim() {
        "a" => Some(Side::A),
        "b" => Some(Side::B),
        _ => None,
    }
}

impl DecisionForm {
    fn pick(&self, field: &str) -> &str {
        match field {
            "given_names" => &self.pick_given_names,
            "first_surname" => &self.pick_first_surname,
            "second_surname" => &self.pick_second_surname,
            "birth_date" => &self.pick_birth_date,
            "sex" => &self.pick_sex,
            "birth_state" => &self.pick_birth_state,
            "borough" => &self.pick_borough,
            "colonia" => &self.pick_colonia,
            _ => &self.pick_postal_code,
        }
    }

    /// # Errors
    /// Every field error found.
    pub fn validate(&self) -> Result<Decision, Vec<FieldError>> {
        let reason_in =
            |list: &[&'static str]| list.iter().copied().find(|r| *r == self.reason.trim());
        match self.decision.trim() {
            "merge" => {
                let mut errors = Vec::new();
                let survivor = side(&self.survivor);
                if survivor.is_none() {
                    errors.push(error("survivor", "invalid_choice"));
                }
                let reason = reason_in(&MERGE_REASONS);
                if reason.is_none() {
                    errors.push(error("reason", "invalid_choice"));
                }
                let mut picks = Vec::new();
                for field in MERGE_FIELDS {
                    let text = self.pick(field);
                    match (text.trim(), side(text)) {
                        ("", _) => picks.push((field, survivor.unwrap_or(Side::A))),
                        (_, Some(s)) => picks.push((field, s)),
                        (_, None) => errors.push(error(&format!("pick_{field}"), "invalid_choice")),
                    }
                }
                if !errors.is_empty() {
                    return Err(errors);
                }
                Ok(Decision::Merge {
                    survivor: survivor.expect("checked"),
                    reason: reason.expect("checked"),
                    picks,
                })
            }
            "distinct" => reason_in(&DISTINCT_REASONS)
                .map(|reason| Decision::Distinct { reason })
                .ok_or_else(|| vec![error("reason", "invalid_choice")]),
            "unmerge" => reason_in(&UNMERGE_REASONS)
                .map(|reason| Decision::Unmerge { reason })
                .ok_or_else(|| vec![error("reason", "invalid_choice")]),
            _ => Err(vec![error("decision", "invalid_choice")]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_needs_a_survivor_a_reason_and_valid_picks() {
        let form = DecisionForm {
            decision: "merge".into(),
            survivor: "b".into(),
            reason: "registered_twice".into(),
            pick_colonia: "a".into(),
            ..DecisionForm::default()
        };
        let Ok(Decision::Merge {
            survivor, picks, ..
        }) = form.validate()
        else {
            panic!("valid")
        };
        assert_eq!(survivor, Side::B);
        assert!(picks.contains(&("colonia", Side::A)) && picks.contains(&("sex", Side::B)));
        let bad = DecisionForm {
            decision: "merge".into(),
            pick_sex: "c".into(),
            ..DecisionForm::default()
        };
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["survivor", "reason", "pick_sex"]);
        let distinct = DecisionForm {
            decision: "distinct".into(),
            reason: "registered_twice".into(),
            ..DecisionForm::default()
        };
        assert!(distinct.validate().is_err(), "a merge reason does not fit");
    }
}
