//! The rule editor's form: a rule as rows of criteria (predicate, parameter, "does not hold",
//! group), and back. Rows without a group must all hold; rows sharing a group letter form an
//! "any of" (one of them is enough). That shape covers every program of the catalog; a rule of
//! another shape is edited as JSON in the same form.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::curp::Date;
use crate::domain::eligibility::{Rule, TestCase};
use crate::domain::facts::FactKind;
use crate::error::FieldError;

/// How many criteria one rule may have in the form (the evaluator allows 64 predicates).
pub const MAX_ROWS: usize = 64;
/// Empty rows offered after the rule's own, to add criteria without JavaScript.
pub const SPARE_ROWS: usize = 3;

/// What each predicate takes as its parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    None,
    /// A whole number (years, months, pesos).
    Number,
    /// A grade average, one decimal.
    Grade,
    /// One code (a sex, a school type, a yes/no fact, a program).
    Code,
    /// Codes separated by commas.
    Codes,
}

/// The predicates an editor may choose, in the order of the select, with their parameter.
pub const PREDICATES: [(&str, Param); 19] = [
    ("age_at_least", Param::Number),
    ("age_below", Param::Number),
    ("residence_years_at_least", Param::Number),
    ("resident", Param::None),
    ("sex", Param::Code),
    ("borough_in", Param::Codes),
    ("income_per_person_at_most", Param::Number),
    ("employment_in", Param::Codes),
    ("months_worked_at_least", Param::Number),
    ("school_level_in", Param::Codes),
    ("school_type", Param::Code),
    ("grade_average_at_least", Param::Grade),
    ("is", Param::Code),
    ("social_security_in", Param::Codes),
    ("single_parent_with_child_under", Param::Number),
    ("child_under_months", Param::Number),
    ("provider_lost", Param::None),
    ("has_curp", Param::None),
    ("enrolled_in", Param::Code),
];

pub fn param_of(predicate: &str) -> Option<Param> {
    PREDICATES
        .iter()
        .find(|(p, _)| *p == predicate)
        .map(|(_, k)| *k)
}

/// One criterion as the form shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRow {
    /// Empty: must hold. A letter: one of the rows with that letter must hold.
    pub group: String,
    /// The criterion must *not* hold.
    pub negate: bool,
    /// Empty for an unused row.
    pub predicate: String,
    pub param: String,
}

/// The rows of a rule, or `None` when its shape does not fit rows (nested groups).
pub fn rows_of(rule: &Rule) -> Option<Vec<RuleRow>> {
    let children: Vec<&Rule> = match rule {
        Rule::All(children) => children.iter().collect(),
        other => vec![other],
    };
    let mut rows = Vec::new();
    let mut letters = (b'A'..=b'Z').map(|b| (b as char).to_string());
    for child in children {
        match child {
            Rule::Any(options) => {
                let letter = letters.next()?;
                for option in options {
                    rows.push(leaf_row(option, &letter)?);
                }
            }
            other => rows.push(leaf_row(other, "")?),
        }
    }
    Some(rows)
}

fn leaf_row(rule: &Rule, group: &str) -> Option<RuleRow> {
    let (negate, leaf) = match rule {
        Rule::Not(inner) => (true, inner.as_ref()),
        other => (false, other),
    };
    if leaf.is_group() {
        return None;
    }
    Some(RuleRow {
        group: group.to_owned(),
        negate,
        predicate: leaf.code().to_owned(),
        param: param_text(leaf),
    })
}

/// The parameter of a predicate as typed in the form.
pub fn param_text(leaf: &Rule) -> String {
    match leaf {
        Rule::AgeAtLeast(n)
        | Rule::AgeBelow(n)
        | Rule::ResidenceYearsAtLeast(n)
        | Rule::IncomePerPersonAtMost(n)
        | Rule::MonthsWorkedAtLeast(n)
        | Rule::SingleParentWithChildUnder(n)
        | Rule::ChildUnderMonths(n) => n.to_string(),
        Rule::GradeAverageAtLeast(g) => format!("{g:.1}"),
        Rule::Sex(s) | Rule::SchoolType(s) | Rule::EnrolledIn(s) => s.clone(),
        Rule::Is(kind) => kind.code().to_owned(),
        Rule::BoroughIn(v)
        | Rule::EmploymentIn(v)
        | Rule::SchoolLevelIn(v)
        | Rule::SocialSecurityIn(v) => v.join(", "),
        _ => String::new(),
    }
}

/// A predicate from the form's select and parameter; the error code for the parameter.
///
/// # Errors
/// `invalid_choice` (unknown predicate), `required`, `invalid_number`, `unexpected`.
pub fn leaf(predicate: &str, param: &str) -> Result<Rule, (&'static str, &'static str)> {
    let kind = param_of(predicate).ok_or(("predicate", "invalid_choice"))?;
    let param = param.trim();
    let number = || -> Result<u32, (&'static str, &'static str)> {
        if param.is_empty() {
            return Err(("param", "required"));
        }
        param.parse().map_err(|_| ("param", "number_format"))
    };
    let code = || -> Result<String, (&'static str, &'static str)> {
        if param.is_empty() {
            Err(("param", "required"))
        } else {
            Ok(param.to_owned())
        }
    };
    let codes = || -> Result<Vec<String>, (&'static str, &'static str)> {
        let list: Vec<String> = param
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        if list.is_empty() {
            Err(("param", "required"))
        } else {
            Ok(list)
        }
    };
    if kind == Param::None && !param.is_empty() {
        return Err(("param", "unexpected"));
    }
    Ok(match predicate {
        "age_at_least" => Rule::AgeAtLeast(number()?),
        "age_below" => Rule::AgeBelow(number()?),
        "residence_years_at_least" => Rule::ResidenceYearsAtLeast(number()?),
        "income_per_person_at_most" => Rule::IncomePerPersonAtMost(number()?),
        "months_worked_at_least" => Rule::MonthsWorkedAtLeast(number()?),
        "single_parent_with_child_under" => Rule::SingleParentWithChildUnder(number()?),
        "child_under_months" => Rule::ChildUnderMonths(number()?),
        "grade_average_at_least" => {
            if param.is_empty() {
                return Err(("param", "required"));
            }
            let g: f64 = param.parse().map_err(|_| ("param", "number_format"))?;
            if !g.is_finite() {
                return Err(("param", "number_format"));
            }
            Rule::GradeAverageAtLeast(g)
        }
        "resident" => Rule::Resident,
        "provider_lost" => Rule::ProviderLost,
        "has_curp" => Rule::HasCurp,
        "sex" => Rule::Sex(code()?.to_uppercase()),
        "school_type" => Rule::SchoolType(code()?),
        "enrolled_in" => Rule::EnrolledIn(code()?.to_uppercase()),
        "is" => Rule::Is(FactKind::from_code(&code()?).ok_or(("param", "unknown_value"))?),
        "borough_in" => Rule::BoroughIn(codes()?),
        "employment_in" => Rule::EmploymentIn(codes()?),
        "school_level_in" => Rule::SchoolLevelIn(codes()?),
        "social_security_in" => Rule::SocialSecurityIn(codes()?),
        _ => return Err(("predicate", "invalid_choice")),
    })
}

/// Builds the rule of the rows, each criterion checked where it was typed (`r3.param`).
///
/// # Errors
/// Field errors on the rows (`r{i}.predicate`, `r{i}.param`, `r{i}.group`), or on `rules`
/// for the whole tree (too many criteria).
pub fn rule_of(
    rows: &[RuleRow],
    known_program: &dyn Fn(&str) -> bool,
) -> Result<Rule, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut top: Vec<Rule> = Vec::new();
    // Where each group sits among the top-level criteria.
    let mut groups: BTreeMap<String, usize> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        if row.predicate.trim().is_empty() {
            if !row.param.trim().is_empty() {
                errors.push(FieldError::new(&format!("r{i}.predicate"), "required"));
            }
            continue;
        }
        let group = row.group.trim().to_uppercase();
        if !(group.is_empty() || group.len() == 1 && group.as_bytes()[0].is_ascii_uppercase()) {
            errors.push(FieldError::new(&format!("r{i}.group"), "invalid_choice"));
            continue;
        }
        let rule = match leaf(row.predicate.trim(), &row.param) {
            Ok(rule) => rule,
            Err((field, code)) => {
                errors.push(FieldError::new(&format!("r{i}.{field}"), code));
                continue;
            }
        };
        if let Err(e) = rule.validate(known_program) {
            errors.push(FieldError::new(&format!("r{i}.param"), e.code));
            continue;
        }
        let rule = if row.negate {
            Rule::Not(Box::new(rule))
        } else {
            rule
        };
        if group.is_empty() {
            top.push(rule);
        } else if let Some(at) = groups.get(&group) {
            if let Rule::Any(options) = &mut top[*at] {
                options.push(rule);
            }
        } else {
            groups.insert(group, top.len());
            top.push(Rule::Any(vec![rule]));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let rule = Rule::All(top);
    rule.validate(known_program)
        .map_err(|e| vec![FieldError::new("rules", e.code)])?;
    Ok(rule)
}

/// A rule typed as JSON (for shapes the rows cannot show).
///
/// # Errors
/// `invalid_json` (not a rule), or the first problem [`Rule::validate`] finds, on `rules_json`.
pub fn rule_of_json(
    text: &str,
    known_program: &dyn Fn(&str) -> bool,
) -> Result<Rule, Vec<FieldError>> {
    let rule: Rule = serde_json::from_str(text)
        .map_err(|_| vec![FieldError::new("rules_json", "invalid_json")])?;
    rule.validate(known_program)
        .map_err(|e| vec![FieldError::new("rules_json", e.code)])?;
    Ok(rule)
}

/// What the editor posts: `do` is `new`, `save`, `publish` or `discard`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleForm {
    pub action: String,
    pub rows: Vec<RuleRow>,
    /// Present when the rule was typed as JSON (then the rows are ignored).
    pub rules_json: Option<String>,
    pub tests: String,
    pub effective_from: String,
    pub note: String,
    /// The fingerprint of the draft the form was filled from (a save never overwrites a draft
    /// someone else changed since).
    pub stamp: String,
}

/// A draft as the editor saved it, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidDraft {
    pub rule: Rule,
    pub tests: Vec<TestCase>,
    pub effective_from: Date,
    pub note: String,
}

/// The longest test case list accepted in one draft (bytes of JSON).
pub const MAX_TESTS_BYTES: usize = 256 * 1024;

impl RuleForm {
    /// # Errors
    /// `None` for an unknown field or a row index out of range (answered 422).
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<RuleForm> {
        let mut form = RuleForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => {}
                "do" => form.action = v.clone(),
                "rules_json" => form.rules_json = Some(v.clone()),
                "tests" => form.tests = v.clone(),
                "effective_from" => form.effective_from = v.trim().to_owned(),
                "note" => form.note = v.trim().to_owned(),
                "stamp" => form.stamp = v.trim().to_owned(),
                row => {
                    let (index, field) = row.strip_prefix('r')?.split_once('.')?;
                    let index: usize = index.parse().ok()?;
                    if index >= MAX_ROWS + SPARE_ROWS {
                        return None;
                    }
                    if form.rows.len() <= index {
                        form.rows.resize(index + 1, RuleRow::default());
                    }
                    let r = &mut form.rows[index];
                    match field {
                        "group" => r.group = v.trim().to_owned(),
                        "negate" => r.negate = v == "yes",
                        "predicate" => r.predicate = v.trim().to_owned(),
                        "param" => r.param = v.trim().to_owned(),
                        _ => return None,
                    }
                }
            }
        }
        Some(form)
    }

    /// The values typed, for a page shown again with errors.
    pub fn echo(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("tests".to_owned(), self.tests.clone()),
            ("effective_from".to_owned(), self.effective_from.clone()),
            ("note".to_owned(), self.note.clone()),
            ("typed".to_owned(), "yes".to_owned()),
        ];
        if let Some(json) = &self.rules_json {
            out.push(("rules_json".to_owned(), json.clone()));
        }
        for (i, r) in self.rows.iter().enumerate() {
            out.push((format!("r{i}.group"), r.group.clone()));
            out.push((
                format!("r{i}.negate"),
                if r.negate { "yes" } else { "no" }.to_owned(),
            ));
            out.push((format!("r{i}.predicate"), r.predicate.clone()));
            out.push((format!("r{i}.param"), r.param.clone()));
        }
        out
    }

    /// Checks the whole draft: the rule (rows or JSON), the test cases, the effective date (not
    /// before `today`: a version never rewrites the past), the note.
    ///
    /// # Errors
    /// Every field error found.
    pub fn validate(
        &self,
        today: Date,
        known_program: &dyn Fn(&str) -> bool,
    ) -> Result<ValidDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.rows.len() > MAX_ROWS + SPARE_ROWS {
            errors.push(FieldError::new("rules", "too_many"));
        }
        let rule = match &self.rules_json {
            Some(json) => rule_of_json(json, known_program),
            None => rule_of(&self.rows, known_program),
        };
        let rule = rule.map_err(|e| errors.extend(e)).ok();
        let tests = if self.tests.len() > MAX_TESTS_BYTES {
            errors.push(FieldError::new("tests", "too_long"));
            None
        } else {
            match serde_json::from_str::<Vec<TestCase>>(&self.tests) {
                Ok(tests) => Some(tests),
                Err(_) => {
                    errors.push(FieldError::new("tests", "invalid_json"));
                    None
                }
            }
        };
        let effective_from = match Date::parse_iso(&self.effective_from) {
            None if self.effective_from.is_empty() => {
                errors.push(FieldError::new("effective_from", "required"));
                None
            }
            None => {
                errors.push(FieldError::new("effective_from", "date_invalid"));
                None
            }
            Some(d) if d < today => {
                errors.push(FieldError::new("effective_from", "effective_past"));
                None
            }
            Some(d) => Some(d),
        };
        if self.note.chars().count() > 500 {
            errors.push(FieldError::new("note", "too_long"));
        }
        match (rule, tests, effective_from) {
            (Some(rule), Some(tests), Some(effective_from)) if errors.is_empty() => {
                Ok(ValidDraft {
                    rule,
                    tests,
                    effective_from,
                    note: self.note.clone(),
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any_program(_: &str) -> bool {
        true
    }

    fn row(group: &str, negate: bool, predicate: &str, param: &str) -> RuleRow {
        RuleRow {
            group: group.into(),
            negate,
            predicate: predicate.into(),
            param: param.into(),
        }
    }

    #[test]
    fn every_bundled_rule_round_trips_through_rows() {
        let seeds: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../../server/seed/rules.json")).unwrap();
        assert_eq!(seeds.len(), 15);
        for seed in seeds {
            let rule: Rule = serde_json::from_value(seed["rules"].clone()).unwrap();
            let rows = rows_of(&rule).expect("every catalog rule fits rows");
            assert_eq!(rule_of(&rows, &any_program), Ok(rule.clone()), "{seed}");
        }
    }

    #[test]
    fn groups_become_any_and_negation_not() {
        let rows = [
            row("", false, "resident", ""),
            row("A", false, "age_at_least", "68"),
            row("", true, "is", "pension"),
            row("a", false, "is", "disability"),
            row("", false, "", ""),
        ];
        let rule = rule_of(&rows, &any_program).unwrap();
        assert_eq!(
            rule,
            Rule::All(vec![
                Rule::Resident,
                Rule::Any(vec![Rule::AgeAtLeast(68), Rule::Is(FactKind::Disability)]),
                Rule::Not(Box::new(Rule::Is(FactKind::Pension))),
            ])
        );
        let back = rows_of(&rule).unwrap();
        assert_eq!(back[1].group, "A");
        assert_eq!(back[2].group, "A");
        assert!(back[3].negate);
    }

    #[test]
    fn nested_groups_do_not_fit_rows() {
        let rule = Rule::All(vec![Rule::Any(vec![Rule::All(vec![Rule::Resident])])]);
        assert_eq!(rows_of(&rule), None);
        assert_eq!(
            rows_of(&Rule::AgeAtLeast(3)),
            Some(vec![row("", false, "age_at_least", "3")])
        );
    }

    #[test]
    fn each_row_is_checked_where_it_was_typed() {
        let rows = [
            row("", false, "age_at_least", "sesenta"),
            row("", false, "sex", "Q"),
            row("", false, "resident", "yes"),
            row("", false, "is", "employment"),
            row("", false, "enrolled_in", "NOPE"),
            row("", false, "salary", "1"),
            row("AB", false, "resident", ""),
            row("", false, "age_below", ""),
            row("", false, "grade_average_at_least", "11"),
        ];
        let known = |code: &str| code == "PAAM";
        let errors = rule_of(&rows, &known).unwrap_err();
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("r0.param", "number_format"),
                ("r1.param", "unknown_value"),
                ("r2.param", "unexpected"),
                ("r3.param", "not_yes_no"),
                ("r4.param", "unknown_program"),
                ("r5.predicate", "invalid_choice"),
                ("r6.group", "invalid_choice"),
                ("r7.param", "required"),
                ("r8.param", "out_of_range"),
            ]
        );
    }

    #[test]
    fn forms_parse_indexed_rows_and_refuse_strangers() {
        let pairs: Vec<(String, String)> = [
            ("do", "save"),
            ("r1.predicate", "age_at_least"),
            ("r1.param", "68"),
            ("r1.negate", "yes"),
            ("r0.predicate", "resident"),
            ("tests", "[]"),
            ("effective_from", "2026-12-01"),
            ("stamp", "abc"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let form = RuleForm::from_pairs(&pairs).unwrap();
        assert_eq!(form.rows.len(), 2);
        assert!(form.rows[1].negate);
        let today = Date::new(2026, 11, 21).unwrap();
        let draft = form.validate(today, &any_program).unwrap();
        assert_eq!(
            draft.rule,
            Rule::All(vec![
                Rule::Resident,
                Rule::Not(Box::new(Rule::AgeAtLeast(68)))
            ])
        );
        for bad in ["r0.colour", "rx.param", "r999.param", "owner", "r.param"] {
            let pairs = vec![(bad.to_owned(), "1".to_owned())];
            assert!(RuleForm::from_pairs(&pairs).is_none(), "{bad}");
        }
        let mut past = form.clone();
        past.effective_from = "2026-11-20".into();
        past.tests = "{".into();
        past.rules_json = Some("{\"age_over\": 3}".into());
        let codes: Vec<String> = past
            .validate(today, &any_program)
            .unwrap_err()
            .into_iter()
            .map(|e| format!("{}:{}", e.field, e.code))
            .collect();
        assert_eq!(
            codes,
            [
                "rules_json:invalid_json",
                "tests:invalid_json",
                "effective_from:effective_past"
            ]
        );
    }
}
