//! Program rules as data, and their evaluation with the reasons.
//!
//! A rule is a tree of `all` / `any` / `not` over typed predicates (`{"age_at_least": 68}`,
//! `"resident"`, `{"is": "disability"}` …), stored as JSON in a versioned program rule. The
//! evaluator is pure and three-valued (Kleene logic): each predicate is met, not met or unknown
//! (a fact is missing), and the verdict is eligible, not eligible or "needs information" with the
//! questions that would settle it. Every criterion keeps the value it used, so the screens can
//! say *why* in Spanish or English; no prose is built here.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::curp::Date;
use super::facts::{EMPLOYMENT, FactKind, SCHOOL_LEVELS, SCHOOL_TYPES, SOCIAL_SECURITY};

/// How deep a rule tree may nest (programs need 3; the limit keeps evaluation bounded).
pub const MAX_DEPTH: usize = 8;
/// How many predicates one rule may hold.
pub const MAX_PREDICATES: usize = 64;

/// A rule tree. Groups hold rules; every other variant is a predicate (a leaf).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Every rule holds (an empty `all` always holds: a program open to everyone).
    All(Vec<Rule>),
    /// At least one rule holds.
    Any(Vec<Rule>),
    Not(Box<Rule>),
    /// Age in whole years at the reference date is at least this.
    AgeAtLeast(u32),
    /// Age in whole years is below this ("up to 67 years 11 months" is below 68).
    AgeBelow(u32),
    /// Whole years living in the city, counted from the residence date on the profile.
    ResidenceYearsAtLeast(u32),
    /// A current address in one of the city's boroughs.
    Resident,
    /// `M` (mujer) or `H` (hombre), as the CURP writes it.
    Sex(String),
    /// INEGI codes of the boroughs.
    BoroughIn(Vec<String>),
    /// Monthly household income divided by its members, in pesos.
    IncomePerPersonAtMost(u32),
    EmploymentIn(Vec<String>),
    MonthsWorkedAtLeast(u32),
    SchoolLevelIn(Vec<String>),
    SchoolType(String),
    GradeAverageAtLeast(f64),
    /// A yes/no fact is `yes` (disability, pregnant, job_loss …).
    Is(FactKind),
    SocialSecurityIn(Vec<String>),
    /// No partner at home and a child (or ward) under this many years.
    SingleParentWithChildUnder(u32),
    /// A child (or ward) under this many months.
    ChildUnderMonths(u32),
    /// The person who provided for the household died or became permanently disabled.
    ProviderLost,
    /// The profile holds a CURP.
    HasCurp,
    /// An open enrollment (requested … suspended) in the program with this code.
    EnrolledIn(String),
}

/// What the evaluator knows about a person (and their household) on the reference date.
/// Missing knowledge is `None` (or absent from `values`), never a guess.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Facts {
    pub birth_date: Option<Date>,
    /// `H`, `M`, `X`.
    pub sex: Option<String>,
    /// INEGI code of the borough of residence; `None` outside the city or not known.
    pub borough: Option<String>,
    /// Known to live in the city (a registered profile always does).
    pub resident: Option<bool>,
    pub residence_since: Option<Date>,
    pub has_curp: Option<bool>,
    /// Sum of the household members' monthly incomes; `None` when one of them is unknown.
    pub household_income: Option<u32>,
    /// Members of the household, the person included.
    pub household_size: Option<u32>,
    /// The current value of each recorded fact, canonical (see [`FactKind::canonical`]).
    pub values: BTreeMap<FactKind, String>,
    /// Birth dates of the person's children and wards; `None` when none are registered.
    pub children: Option<Vec<Date>>,
    /// A parent or guardian on record died or has a certified permanent disability.
    pub provider_recorded_lost: bool,
    /// Codes of the programs with an open enrollment.
    pub enrolled: BTreeSet<String>,
}

impl Facts {
    pub fn value(&self, kind: FactKind) -> Option<&str> {
        self.values.get(&kind).map(String::as_str)
    }

    /// Monthly income per household member: the household's when known, else the person's own
    /// when they live alone (or no household is recorded).
    pub fn income_per_person(&self) -> Option<u32> {
        match (self.household_income, self.household_size) {
            (Some(income), Some(size)) if size > 0 => Some(income / size),
            (_, None | Some(1)) => self
                .value(FactKind::MonthlyIncome)
                .and_then(|v| v.parse().ok()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    NotMet,
    Unknown,
}

impl Outcome {
    fn from_bool(b: bool) -> Outcome {
        if b { Outcome::Met } else { Outcome::NotMet }
    }

    fn negate(self) -> Outcome {
        match self {
            Outcome::Met => Outcome::NotMet,
            Outcome::NotMet => Outcome::Met,
            Outcome::Unknown => Outcome::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Eligible,
    NotEligible,
    NeedsInformation,
}

impl Verdict {
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Eligible => "eligible",
            Verdict::NotEligible => "not_eligible",
            Verdict::NeedsInformation => "needs_information",
        }
    }
}

/// The value a criterion used, for the explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Used {
    /// Nothing known.
    Unknown,
    Years(u32),
    Months(u32),
    Pesos(u32),
    Grade(f64),
    /// A code from a closed set (sex, borough, employment, school level …).
    Code(String),
    Yes(bool),
    /// For a single parent: lives with a partner, age of the youngest child.
    Family {
        partner: Option<bool>,
        youngest_years: Option<u32>,
    },
}

/// What would settle an unknown criterion: a fact to record or part of the profile to fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    BirthDate,
    Sex,
    Residence,
    ResidenceSince,
    Borough,
    Curp,
    /// The monthly income of every household member.
    HouseholdIncome,
    /// Register the children (relationships on the profile).
    Children,
    Fact(FactKind),
}

/// One predicate of the tree with its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// The predicate (a leaf of the tree).
    pub rule: Rule,
    /// Under an odd number of `not`: the requirement is that the predicate does *not* hold.
    pub negated: bool,
    /// Whether the requirement (negated or not) is satisfied.
    pub outcome: Outcome,
    pub used: Used,
    pub question: Option<Question>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub verdict: Verdict,
    pub criteria: Vec<Criterion>,
    /// What to ask next (only when the verdict needs information), without repeats.
    pub questions: Vec<Question>,
}

/// Evaluates `rule` over `facts` on the reference date `today`.
pub fn evaluate(rule: &Rule, facts: &Facts, today: Date) -> Evaluation {
    let mut criteria = Vec::new();
    let outcome = walk(rule, facts, today, false, &mut criteria);
    let verdict = match outcome {
        Outcome::Met => Verdict::Eligible,
        Outcome::NotMet => Verdict::NotEligible,
        Outcome::Unknown => Verdict::NeedsInformation,
    };
    let mut questions = Vec::new();
    if verdict == Verdict::NeedsInformation {
        for c in &criteria {
            if let (Outcome::Unknown, Some(q)) = (c.outcome, c.question)
                && !questions.contains(&q)
            {
                questions.push(q);
            }
        }
    }
    Evaluation {
        verdict,
        criteria,
        questions,
    }
}

fn walk(
    rule: &Rule,
    facts: &Facts,
    today: Date,
    negated: bool,
    out: &mut Vec<Criterion>,
) -> Outcome {
    match rule {
        Rule::All(rules) => {
            let outcomes: Vec<Outcome> = rules
                .iter()
                .map(|r| walk(r, facts, today, negated, out))
                .collect();
            all(&outcomes)
        }
        Rule::Any(rules) => {
            let outcomes: Vec<Outcome> = rules
                .iter()
                .map(|r| walk(r, facts, today, negated, out))
                .collect();
            any(&outcomes)
        }
        Rule::Not(inner) => walk(inner, facts, today, !negated, out).negate(),
        leaf => {
            let (outcome, used, question) = predicate(leaf, facts, today);
            out.push(Criterion {
                rule: leaf.clone(),
                negated,
                outcome: if negated { outcome.negate() } else { outcome },
                used,
                question,
            });
            outcome
        }
    }
}

/// Kleene conjunction: not met wins, then unknown.
pub fn all(outcomes: &[Outcome]) -> Outcome {
    if outcomes.contains(&Outcome::NotMet) {
        Outcome::NotMet
    } else if outcomes.contains(&Outcome::Unknown) {
        Outcome::Unknown
    } else {
        Outcome::Met
    }
}

/// Kleene disjunction: met wins, then unknown.
pub fn any(outcomes: &[Outcome]) -> Outcome {
    if outcomes.contains(&Outcome::Met) {
        Outcome::Met
    } else if outcomes.contains(&Outcome::Unknown) {
        Outcome::Unknown
    } else {
        Outcome::NotMet
    }
}

fn unknown(question: Question) -> (Outcome, Used, Option<Question>) {
    (Outcome::Unknown, Used::Unknown, Some(question))
}

fn known(met: bool, used: Used) -> (Outcome, Used, Option<Question>) {
    (Outcome::from_bool(met), used, None)
}

/// A closed-set fact compared with a list of accepted values.
fn fact_in(
    facts: &Facts,
    kind: FactKind,
    accepted: &[String],
) -> (Outcome, Used, Option<Question>) {
    match facts.value(kind) {
        Some(v) => known(accepted.iter().any(|a| a == v), Used::Code(v.to_owned())),
        None => unknown(Question::Fact(kind)),
    }
}

fn predicate(rule: &Rule, facts: &Facts, today: Date) -> (Outcome, Used, Option<Question>) {
    let age = facts.birth_date.and_then(|b| b.years_until(today));
    match rule {
        Rule::All(_) | Rule::Any(_) | Rule::Not(_) => unreachable!("groups are walked"),
        Rule::AgeAtLeast(years) => match age {
            Some(a) => known(a >= *years, Used::Years(a)),
            None => unknown(Question::BirthDate),
        },
        Rule::AgeBelow(years) => match age {
            Some(a) => known(a < *years, Used::Years(a)),
            None => unknown(Question::BirthDate),
        },
        Rule::ResidenceYearsAtLeast(years) => match facts.residence_since {
            Some(since) => {
                let lived = since.years_until(today).unwrap_or(0);
                known(lived >= *years, Used::Years(lived))
            }
            None => unknown(Question::ResidenceSince),
        },
        Rule::Resident => match facts.resident {
            Some(r) => known(r, Used::Yes(r)),
            None => unknown(Question::Residence),
        },
        Rule::Sex(sex) => match &facts.sex {
            Some(s) => known(s == sex, Used::Code(s.clone())),
            None => unknown(Question::Sex),
        },
        Rule::BoroughIn(codes) => match &facts.borough {
            Some(b) => known(codes.contains(b), Used::Code(b.clone())),
            None => unknown(Question::Borough),
        },
        Rule::IncomePerPersonAtMost(pesos) => match facts.income_per_person() {
            Some(i) => known(i <= *pesos, Used::Pesos(i)),
            None => unknown(Question::HouseholdIncome),
        },
        Rule::EmploymentIn(values) => fact_in(facts, FactKind::Employment, values),
        Rule::MonthsWorkedAtLeast(months) => {
            match facts
                .value(FactKind::MonthsWorked)
                .and_then(|v| v.parse::<u32>().ok())
            {
                Some(m) => known(m >= *months, Used::Months(m)),
                None => unknown(Question::Fact(FactKind::MonthsWorked)),
            }
        }
        Rule::SchoolLevelIn(levels) => fact_in(facts, FactKind::SchoolLevel, levels),
        Rule::SchoolType(kind) => fact_in(facts, FactKind::SchoolType, std::slice::from_ref(kind)),
        Rule::GradeAverageAtLeast(min) => {
            match facts
                .value(FactKind::GradeAverage)
                .and_then(|v| v.parse::<f64>().ok())
            {
                // Averages are kept to one decimal; compare in tenths to avoid float edges.
                Some(g) => known(tenths(g) >= tenths(*min), Used::Grade(g)),
                None => unknown(Question::Fact(FactKind::GradeAverage)),
            }
        }
        Rule::Is(kind) => match facts.value(*kind) {
            Some(v) => known(v == "yes", Used::Yes(v == "yes")),
            None => unknown(Question::Fact(*kind)),
        },
        Rule::SocialSecurityIn(values) => fact_in(facts, FactKind::SocialSecurity, values),
        Rule::SingleParentWithChildUnder(years) => {
            let partner = facts.value(FactKind::Partner).map(|v| v == "yes");
            let youngest = facts
                .children
                .as_ref()
                .and_then(|children| children.iter().filter_map(|b| b.years_until(today)).min());
            let used = Used::Family {
                partner,
                youngest_years: youngest,
            };
            let child = youngest.map(|y| y < *years);
            match (partner, child) {
                (Some(true), _) | (_, Some(false)) => (Outcome::NotMet, used, None),
                (Some(false), Some(true)) => (Outcome::Met, used, None),
                (None, _) => (
                    Outcome::Unknown,
                    used,
                    Some(Question::Fact(FactKind::Partner)),
                ),
                (Some(false), None) => (Outcome::Unknown, used, Some(Question::Children)),
            }
        }
        Rule::ChildUnderMonths(months) => {
            let youngest = facts
                .children
                .as_ref()
                .and_then(|children| children.iter().filter_map(|b| b.months_until(today)).min());
            match youngest {
                Some(m) => known(m < *months, Used::Months(m)),
                None => unknown(Question::Children),
            }
        }
        Rule::ProviderLost => {
            if facts.provider_recorded_lost {
                return known(true, Used::Yes(true));
            }
            match facts.value(FactKind::ProviderLost) {
                Some(v) => known(v == "yes", Used::Yes(v == "yes")),
                None => unknown(Question::Fact(FactKind::ProviderLost)),
            }
        }
        Rule::HasCurp => match facts.has_curp {
            Some(c) => known(c, Used::Yes(c)),
            None => unknown(Question::Curp),
        },
        Rule::EnrolledIn(code) => {
            let enrolled = facts.enrolled.contains(code);
            known(enrolled, Used::Yes(enrolled))
        }
    }
}

fn tenths(grade: f64) -> i64 {
    (grade * 10.0).round() as i64
}

/// Why a rule cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// `empty_group`, `too_deep`, `too_many`, `not_yes_no`, `unknown_value`, `unknown_program`,
    /// `out_of_range`.
    pub code: &'static str,
    /// Where: `all[1].any[0]`.
    pub path: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {}",
            self.code,
            if self.path.is_empty() {
                "the root"
            } else {
                &self.path
            }
        )
    }
}

impl Rule {
    pub fn is_group(&self) -> bool {
        matches!(self, Rule::All(_) | Rule::Any(_) | Rule::Not(_))
    }

    /// The predicate's name as stored (`age_at_least`), or the group's.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::All(_) => "all",
            Rule::Any(_) => "any",
            Rule::Not(_) => "not",
            Rule::AgeAtLeast(_) => "age_at_least",
            Rule::AgeBelow(_) => "age_below",
            Rule::ResidenceYearsAtLeast(_) => "residence_years_at_least",
            Rule::Resident => "resident",
            Rule::Sex(_) => "sex",
            Rule::BoroughIn(_) => "borough_in",
            Rule::IncomePerPersonAtMost(_) => "income_per_person_at_most",
            Rule::EmploymentIn(_) => "employment_in",
            Rule::MonthsWorkedAtLeast(_) => "months_worked_at_least",
            Rule::SchoolLevelIn(_) => "school_level_in",
            Rule::SchoolType(_) => "school_type",
            Rule::GradeAverageAtLeast(_) => "grade_average_at_least",
            Rule::Is(_) => "is",
            Rule::SocialSecurityIn(_) => "social_security_in",
            Rule::SingleParentWithChildUnder(_) => "single_parent_with_child_under",
            Rule::ChildUnderMonths(_) => "child_under_months",
            Rule::ProviderLost => "provider_lost",
            Rule::HasCurp => "has_curp",
            Rule::EnrolledIn(_) => "enrolled_in",
        }
    }

    /// Program codes this rule refers to (`enrolled_in`).
    pub fn programs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit(&mut |r| {
            if let Rule::EnrolledIn(code) = r {
                out.push(code.as_str());
            }
        });
        out
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Rule)) {
        f(self);
        match self {
            Rule::All(rules) | Rule::Any(rules) => rules.iter().for_each(|r| r.visit(f)),
            Rule::Not(inner) => inner.visit(f),
            _ => {}
        }
    }

    /// Checks the tree: groups not empty (except a top-level `all`), bounded size, values from
    /// their closed sets, thresholds in range, programs known to `known_program`.
    ///
    /// # Errors
    /// The first problem found, with its path.
    pub fn validate(&self, known_program: &dyn Fn(&str) -> bool) -> Result<(), RuleError> {
        let mut count = 0;
        self.check(String::new(), 0, &mut count, known_program)
    }

    fn check(
        &self,
        path: String,
        depth: usize,
        count: &mut usize,
        known_program: &dyn Fn(&str) -> bool,
    ) -> Result<(), RuleError> {
        let fail = |code| {
            Err(RuleError {
                code,
                path: path.clone(),
            })
        };
        if depth > MAX_DEPTH {
            return fail("too_deep");
        }
        let in_set =
            |values: &[String], set: &[&str]| values.iter().all(|v| set.contains(&v.as_str()));
        match self {
            Rule::All(rules) | Rule::Any(rules) => {
                if rules.is_empty() && !(depth == 0 && matches!(self, Rule::All(_))) {
                    return fail("empty_group");
                }
                for (i, r) in rules.iter().enumerate() {
                    let sep = if path.is_empty() { "" } else { "." };
                    r.check(
                        format!("{path}{sep}{}[{i}]", self.code()),
                        depth + 1,
                        count,
                        known_program,
                    )?;
                }
                return Ok(());
            }
            Rule::Not(inner) => {
                let sep = if path.is_empty() { "" } else { "." };
                return inner.check(format!("{path}{sep}not"), depth + 1, count, known_program);
            }
            _ => {}
        }
        *count += 1;
        if *count > MAX_PREDICATES {
            return fail("too_many");
        }
        let ok = match self {
            Rule::AgeAtLeast(y) | Rule::AgeBelow(y) => {
                (1..=130).contains(y) || (*y == 0 && matches!(self, Rule::AgeAtLeast(_)))
            }
            Rule::ResidenceYearsAtLeast(y) => *y <= 130,
            Rule::SingleParentWithChildUnder(y) => (1..=30).contains(y),
            Rule::ChildUnderMonths(m) => (1..=360).contains(m),
            Rule::MonthsWorkedAtLeast(m) => *m <= 960,
            Rule::IncomePerPersonAtMost(p) => *p <= super::facts::MAX_INCOME,
            Rule::GradeAverageAtLeast(g) => (0.0..=10.0).contains(g),
            _ => true,
        };
        if !ok {
            return fail("out_of_range");
        }
        let known = match self {
            Rule::Sex(s) => ["H", "M", "X"].contains(&s.as_str()),
            Rule::BoroughIn(codes) => {
                !codes.is_empty()
                    && codes
                        .iter()
                        .all(|c| crate::registry::forms::is_cdmx_borough_code(c))
            }
            Rule::EmploymentIn(v) => !v.is_empty() && in_set(v, &EMPLOYMENT),
            Rule::SchoolLevelIn(v) => !v.is_empty() && in_set(v, &SCHOOL_LEVELS),
            Rule::SchoolType(v) => SCHOOL_TYPES.contains(&v.as_str()),
            Rule::SocialSecurityIn(v) => !v.is_empty() && in_set(v, &SOCIAL_SECURITY),
            _ => true,
        };
        if !known {
            return fail("unknown_value");
        }
        if let Rule::Is(kind) = self
            && kind.choices() != Some(&super::facts::YES_NO[..])
        {
            return fail("not_yes_no");
        }
        if let Rule::EnrolledIn(code) = self
            && !known_program(code)
        {
            return fail("unknown_program");
        }
        Ok(())
    }
}

/// A test case of a rule version: facts, a reference date and the verdict expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    pub today: Date,
    pub facts: Facts,
    pub expect: Verdict,
}

/// The verdict each case got, in order; the rule passes when every one matches.
pub fn run_cases(rule: &Rule, cases: &[TestCase]) -> Vec<(String, Verdict, Verdict)> {
    cases
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.expect,
                evaluate(rule, &c.facts, c.today).verdict,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::new(y, m, d).unwrap()
    }

    fn paam() -> Rule {
        Rule::All(vec![
            Rule::AgeAtLeast(68),
            Rule::ResidenceYearsAtLeast(3),
            Rule::Resident,
        ])
    }

    fn older(birth: Date) -> Facts {
        Facts {
            birth_date: Some(birth),
            resident: Some(true),
            residence_since: Some(date(1990, 1, 1)),
            ..Facts::default()
        }
    }

    #[test]
    fn the_day_someone_turns_68_they_are_eligible() {
        let today = date(2026, 11, 21);
        let eve = evaluate(&paam(), &older(date(1958, 11, 22)), today);
        assert_eq!(eve.verdict, Verdict::NotEligible);
        assert_eq!(eve.criteria[0].used, Used::Years(67));
        assert_eq!(eve.criteria[0].outcome, Outcome::NotMet);
        let day = evaluate(&paam(), &older(date(1958, 11, 21)), today);
        assert_eq!(day.verdict, Verdict::Eligible);
        assert_eq!(day.criteria[0].used, Used::Years(68));
    }

    #[test]
    fn seventeen_years_eleven_months_is_still_below_18() {
        let rule = Rule::AgeBelow(18);
        let today = date(2026, 11, 21);
        let facts = |b| Facts {
            birth_date: Some(b),
            ..Facts::default()
        };
        // 17 years, 11 months and 30 days.
        assert_eq!(
            evaluate(&rule, &facts(date(2008, 11, 22)), today).verdict,
            Verdict::Eligible
        );
        assert_eq!(
            evaluate(&rule, &facts(date(2008, 11, 21)), today).verdict,
            Verdict::NotEligible
        );
    }

    #[test]
    fn leap_day_birthdays_and_month_ends() {
        let b = date(2008, 2, 29);
        assert_eq!(b.years_until(date(2026, 2, 27)), Some(17));
        assert_eq!(b.years_until(date(2026, 2, 28)), Some(18));
        assert_eq!(b.years_until(date(2028, 2, 28)), Some(19));
        assert_eq!(b.years_until(date(2028, 2, 29)), Some(20));
        assert_eq!(date(2026, 1, 31).months_until(date(2026, 2, 28)), Some(1));
        assert_eq!(date(2026, 1, 31).months_until(date(2026, 2, 27)), Some(0));
        assert_eq!(date(2026, 1, 31).months_until(date(2025, 2, 27)), None);
    }

    #[test]
    fn missing_facts_become_questions_once() {
        let rule = Rule::All(vec![
            Rule::AgeAtLeast(18),
            Rule::AgeBelow(68),
            Rule::Is(FactKind::Disability),
            Rule::Resident,
        ]);
        let e = evaluate(&rule, &Facts::default(), date(2026, 1, 1));
        assert_eq!(e.verdict, Verdict::NeedsInformation);
        assert_eq!(
            e.questions,
            [
                Question::BirthDate,
                Question::Fact(FactKind::Disability),
                Question::Residence
            ]
        );
        // Once something fails, nothing more is asked.
        let facts = Facts {
            values: [(FactKind::Disability, "no".to_owned())].into(),
            ..Facts::default()
        };
        let e = evaluate(&rule, &facts, date(2026, 1, 1));
        assert_eq!(e.verdict, Verdict::NotEligible);
        assert!(e.questions.is_empty());
    }

    #[test]
    fn not_inverts_and_marks_the_criterion() {
        let rule = Rule::All(vec![Rule::Not(Box::new(Rule::EnrolledIn("PAAM".into())))]);
        let mut facts = Facts::default();
        let e = evaluate(&rule, &facts, date(2026, 1, 1));
        assert_eq!(e.verdict, Verdict::Eligible);
        assert!(e.criteria[0].negated);
        assert_eq!(e.criteria[0].outcome, Outcome::Met);
        facts.enrolled.insert("PAAM".into());
        let e = evaluate(&rule, &facts, date(2026, 1, 1));
        assert_eq!(e.verdict, Verdict::NotEligible);
        assert_eq!(e.criteria[0].outcome, Outcome::NotMet);
        assert_eq!(e.criteria[0].used, Used::Yes(true));
    }

    #[test]
    fn single_parent_needs_both_parts() {
        let rule = Rule::SingleParentWithChildUnder(15);
        let today = date(2026, 11, 21);
        let mut f = Facts::default();
        let e = evaluate(&rule, &f, today);
        assert_eq!(e.questions, [Question::Fact(FactKind::Partner)]);
        f.values.insert(FactKind::Partner, "no".into());
        assert_eq!(evaluate(&rule, &f, today).questions, [Question::Children]);
        f.children = Some(vec![date(2010, 1, 1), date(2012, 11, 22)]);
        let e = evaluate(&rule, &f, today);
        assert_eq!(e.verdict, Verdict::Eligible);
        assert_eq!(
            e.criteria[0].used,
            Used::Family {
                partner: Some(false),
                youngest_years: Some(13)
            }
        );
        f.children = Some(vec![date(2010, 1, 1)]);
        assert_eq!(evaluate(&rule, &f, today).verdict, Verdict::NotEligible);
        f.values.insert(FactKind::Partner, "yes".into());
        f.children = None;
        assert_eq!(evaluate(&rule, &f, today).verdict, Verdict::NotEligible);
    }

    #[test]
    fn income_per_person_divides_the_household() {
        let rule = Rule::IncomePerPersonAtMost(3000);
        let today = date(2026, 1, 1);
        let mut f = Facts {
            household_income: Some(10_000),
            household_size: Some(4),
            ..Facts::default()
        };
        let e = evaluate(&rule, &f, today);
        assert_eq!(
            (e.verdict, &e.criteria[0].used),
            (Verdict::Eligible, &Used::Pesos(2500))
        );
        f.household_income = None;
        assert_eq!(
            evaluate(&rule, &f, today).questions,
            [Question::HouseholdIncome]
        );
        f.household_size = None;
        f.values.insert(FactKind::MonthlyIncome, "3500".into());
        assert_eq!(evaluate(&rule, &f, today).verdict, Verdict::NotEligible);
    }

    #[test]
    fn rules_round_trip_as_readable_json() {
        let json = r#"{"all":[{"age_at_least":68},{"residence_years_at_least":3},"resident",{"not":{"enrolled_in":"DISCAP"}},{"is":"disability"}]}"#;
        let rule: Rule = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&rule).unwrap(), json);
        let err = serde_json::from_str::<Rule>(r#"{"all":[{"age_over":3}]}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown variant `age_over`"),
            "{err}"
        );
    }

    #[test]
    fn malformed_trees_are_refused_with_their_path() {
        let known = |c: &str| c == "PAAM";
        let check = |json: &str| serde_json::from_str::<Rule>(json).unwrap().validate(&known);
        assert_eq!(check(r#"{"all":[]}"#), Ok(()));
        assert_eq!(
            check(r#"{"all":[{"any":[]}]}"#).unwrap_err().code,
            "empty_group"
        );
        let e = check(r#"{"all":["resident",{"any":[{"is":"monthly_income"}]}]}"#).unwrap_err();
        assert_eq!((e.code, e.path.as_str()), ("not_yes_no", "all[1].any[0]"));
        assert_eq!(
            check(r#"{"enrolled_in":"NOPE"}"#).unwrap_err().code,
            "unknown_program"
        );
        assert_eq!(check(r#"{"sex":"Q"}"#).unwrap_err().code, "unknown_value");
        assert_eq!(
            check(r#"{"borough_in":["15001"]}"#).unwrap_err().code,
            "unknown_value"
        );
        assert_eq!(
            check(r#"{"grade_average_at_least":11}"#).unwrap_err().code,
            "out_of_range"
        );
        assert_eq!(
            check(r#"{"employment_in":["astronaut"]}"#)
                .unwrap_err()
                .code,
            "unknown_value"
        );
        let mut deep = Rule::Resident;
        for _ in 0..10 {
            deep = Rule::Not(Box::new(deep));
        }
        assert_eq!(deep.validate(&known).unwrap_err().code, "too_deep");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const KINDS: [FactKind; 4] = [
            FactKind::Disability,
            FactKind::Pregnant,
            FactKind::Pension,
            FactKind::JobLoss,
        ];

        fn tree(allow_not: bool) -> impl Strategy<Value = Rule> {
            let leaf = (0..KINDS.len()).prop_map(|i| Rule::Is(KINDS[i]));
            leaf.prop_recursive(4, 24, 4, move |inner| {
                let groups = prop_oneof![
                    prop::collection::vec(inner.clone(), 1..4).prop_map(Rule::All),
                    prop::collection::vec(inner.clone(), 1..4).prop_map(Rule::Any),
                ];
                if allow_not {
                    prop_oneof![groups, inner.prop_map(|r| Rule::Not(Box::new(r)))].boxed()
                } else {
                    groups.boxed()
                }
            })
        }

        /// Each kind: absent, `yes` or `no`.
        fn facts() -> impl Strategy<Value = Facts> {
            prop::collection::vec(0u8..3, KINDS.len()).prop_map(|states| {
                let mut f = Facts::default();
                for (kind, state) in KINDS.iter().zip(states) {
                    match state {
                        1 => f.values.insert(*kind, "yes".into()),
                        2 => f.values.insert(*kind, "no".into()),
                        _ => None,
                    };
                }
                f
            })
        }

        fn today() -> Date {
            Date::new(2026, 11, 21).unwrap()
        }

        proptest! {
            /// Learning a missing fact never changes a verdict already reached (any tree).
            #[test]
            fn a_new_fact_never_reverses_a_verdict(
                rule in tree(true), facts in facts(), which in 0..KINDS.len(), yes in proptest::arbitrary::any::<bool>()
            ) {
                let before = evaluate(&rule, &facts, today()).verdict;
                let kind = KINDS[which];
                prop_assume!(facts.value(kind).is_none());
                let mut more = facts.clone();
                more.values.insert(kind, if yes { "yes" } else { "no" }.into());
                let after = evaluate(&rule, &more, today()).verdict;
                if before != Verdict::NeedsInformation {
                    prop_assert_eq!(before, after);
                }
            }

            /// In a tree without `not`, making a fact hold never turns eligible into not
            /// eligible (nor anything into a worse verdict).
            #[test]
            fn a_met_fact_never_makes_a_monotone_rule_fail(
                rule in tree(false), facts in facts(), which in 0..KINDS.len()
            ) {
                let rank = |v: Verdict| match v {
                    Verdict::NotEligible => 0,
                    Verdict::NeedsInformation => 1,
                    Verdict::Eligible => 2,
                };
                let before = evaluate(&rule, &facts, today()).verdict;
                let mut more = facts.clone();
                more.values.insert(KINDS[which], "yes".into());
                let after = evaluate(&rule, &more, today()).verdict;
                prop_assert!(rank(after) >= rank(before), "{before:?} -> {after:?}");
            }

            /// Ages agree with a count of birthdays.
            #[test]
            fn age_counts_birthdays(y in 1900i32..2020, m in 1u32..13, d in 1u32..29, later in 0u32..40_000) {
                let birth = Date::new(y, m, d).unwrap();
                let mut on = birth;
                for _ in 0..(later / 400) {
                    on = Date::new(on.year + 1, on.month, on.day).unwrap();
                }
                prop_assert_eq!(birth.years_until(on), Some(later / 400));
            }
        }
    }
}
