//! The anonymous eligibility check (`/revisa`): the questions the chosen life event's rules
//! need, asked a few at a time, turned into [`Facts`] for the same evaluator the caseworkers
//! use. Answers travel in the posted form (hidden fields), never in the URL, and are never
//! stored. Pure: the browser evaluates again with the same code while answers are typed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::domain::curp::Date;
use crate::domain::eligibility::{Facts, Question, Rule};
use crate::domain::facts::{FactKind, MAX_INCOME};
use crate::eligibility::forms::event_code;
use crate::error::FieldError;

/// Questions shown per step.
pub const PER_STEP: usize = 3;
/// The oldest age accepted.
pub const MAX_AGE: u32 = 120;
/// The most people in a household.
pub const MAX_HOUSEHOLD: u32 = 30;
/// The most children's ages in one answer.
pub const MAX_CHILDREN: usize = 15;
/// A child's age is below this.
pub const CHILD_AGE_LIMIT: u32 = 26;
/// Longest answer accepted in any field.
pub const MAX_ANSWER: usize = 100;
/// The value of `para` when answering about a child.
pub const CHILD: &str = "hijo";
/// The value of the borough field for someone living outside the city.
pub const OUTSIDE: &str = "fuera";

/// The screener's answers as posted: field → text, and the questions the visitor chose not to
/// answer ("no sé").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    pub event: String,
    /// Answering about a child, for the programs whose beneficiary is a child (`para=hijo`).
    pub for_child: bool,
    pub values: BTreeMap<String, String>,
    pub skipped: BTreeSet<String>,
}

/// The form field of a question (residence and borough are one question: where you live).
pub fn field(q: Question) -> String {
    match q {
        Question::BirthDate => "age".into(),
        Question::Sex => "sex".into(),
        Question::Residence | Question::Borough => "borough".into(),
        Question::ResidenceSince => "residence_years".into(),
        Question::Curp => "has_curp".into(),
        Question::HouseholdIncome => "household_income".into(),
        Question::Children => "children".into(),
        Question::Fact(kind) => format!("fact_{}", kind.code()),
    }
}

/// Every field a question posts (household income comes with the household's size).
pub fn fields(q: Question) -> Vec<String> {
    match q {
        Question::HouseholdIncome => vec!["household_income".into(), "household_size".into()],
        other => vec![field(other)],
    }
}

/// Whether a posted field name is one of the screener's answers.
pub fn is_answer_field(name: &str) -> bool {
    matches!(
        name,
        "age"
            | "sex"
            | "borough"
            | "residence_years"
            | "has_curp"
            | "household_income"
            | "household_size"
            | "children"
    ) || name
        .strip_prefix("fact_")
        .is_some_and(|k| FactKind::from_code(k).is_some())
}

impl Answers {
    /// The posted pairs: `evento`, `para`, answers, repeated `skip` with a field name, and the CSRF
    /// token. `None` for an unknown field, a repeated answer or an over-long value (answered
    /// 422, like any malformed body).
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<Answers> {
        let mut answers = Answers::default();
        for (k, v) in pairs {
            if v.chars().count() > MAX_ANSWER {
                return None;
            }
            match k.as_str() {
                "csrf" => {}
                "evento" => answers.event = event_code(v)?,
                "para" if v == CHILD => answers.for_child = true,
                "skip" if is_answer_field(v) => {
                    answers.skipped.insert(v.clone());
                }
                name if is_answer_field(name) => {
                    let trimmed = v.trim();
                    if trimmed.is_empty() {
                        continue;
                    }
                    if answers
                        .values
                        .insert(name.to_owned(), trimmed.to_owned())
                        .is_some()
                    {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        (!answers.event.is_empty()).then_some(answers)
    }

    /// Answered or skipped: not asked again.
    pub fn settled(&self, q: Question) -> bool {
        let f = field(q);
        self.skipped.contains(&f) || self.values.contains_key(&f)
    }

    /// The hidden fields that carry these answers to the next step.
    pub fn hidden(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = vec![("evento".to_owned(), self.event.clone())];
        if self.for_child {
            out.push(("para".to_owned(), CHILD.to_owned()));
        }
        out.extend(self.values.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.extend(self.skipped.iter().map(|s| ("skip".to_owned(), s.clone())));
        out
    }
}

/// A date `years` before `today` (29 February becomes the 28th).
fn years_before(today: Date, years: u32) -> Date {
    let year = today.year - i32::try_from(years).unwrap_or(0);
    Date::new(year, today.month, today.day).unwrap_or(Date {
        year,
        month: today.month,
        day: 28,
    })
}

fn whole(text: &str, max: u32) -> Result<u32, &'static str> {
    let n: u32 = text
        .trim()
        .replace([',', ' ', '$'], "")
        .parse()
        .map_err(|_| "number_format")?;
    if n > max { Err("out_of_range") } else { Ok(n) }
}

fn yes_no(text: &str) -> Result<bool, &'static str> {
    match text {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("invalid_choice"),
    }
}

/// INEGI codes of the city's sixteen boroughs (09002–09017).
pub fn is_borough(code: &str) -> bool {
    code.len() == 5
        && code.starts_with("090")
        && code[3..]
            .parse::<u32>()
            .is_ok_and(|n| (2..=17).contains(&n))
}

/// The facts the answers give. Every answer is checked; a bad one is a field error and is
/// left out of the facts (so its question is asked again).
pub fn facts(answers: &Answers, today: Date) -> (Facts, Vec<FieldError>) {
    let mut f = Facts::default();
    let mut errors = Vec::new();
    let mut fail = |field: &str, code: &str| errors.push(FieldError::new(field, code));
    for (name, value) in &answers.values {
        match name.as_str() {
            "age" => match whole(value, MAX_AGE) {
                Ok(age) => f.birth_date = Some(years_before(today, age)),
                Err(code) => fail(name, code),
            },
            "sex" => match value.as_str() {
                "M" | "H" | "X" => f.sex = Some(value.clone()),
                _ => fail(name, "invalid_choice"),
            },
            "borough" => {
                if value == OUTSIDE {
                    f.resident = Some(false);
                } else if is_borough(value) {
                    f.resident = Some(true);
                    f.borough = Some(value.clone());
                } else {
                    fail(name, "invalid_choice");
                }
            }
            "residence_years" => match whole(value, MAX_AGE) {
                Ok(years) => f.residence_since = Some(years_before(today, years)),
                Err(code) => fail(name, code),
            },
            "has_curp" => match yes_no(value) {
                Ok(b) => f.has_curp = Some(b),
                Err(code) => fail(name, code),
            },
            "household_income" => match whole(value, MAX_INCOME) {
                Ok(pesos) => f.household_income = Some(pesos),
                Err(code) => fail(name, code),
            },
            "household_size" => match whole(value, MAX_HOUSEHOLD) {
                Ok(0) => fail(name, "out_of_range"),
                Ok(n) => f.household_size = Some(n),
                Err(code) => fail(name, code),
            },
            "children" => match children(value, today) {
                Ok(dates) => f.children = Some(dates),
                Err(code) => fail(name, code),
            },
            other => {
                let kind = other.strip_prefix("fact_").and_then(FactKind::from_code);
                match kind.map(|k| (k, k.canonical(value))) {
                    Some((k, Ok(v))) => {
                        f.values.insert(k, v);
                    }
                    Some((_, Err(code))) => fail(name, code),
                    None => fail(name, "unexpected"),
                }
            }
        }
    }
    // Income and household size make sense only together.
    if f.household_income.is_some() != f.household_size.is_some() {
        let missing = if f.household_income.is_some() {
            "household_size"
        } else {
            "household_income"
        };
        if !errors.iter().any(|e| e.field.starts_with("household_")) {
            errors.push(FieldError::new(missing, "required"));
        }
        f.household_income = None;
        f.household_size = None;
    }
    (f, errors)
}

/// Words that answer "no children" in either language.
const NO_CHILDREN: [&str; 4] = ["no", "none", "ninguno", "ninguna"];

/// Children's ages as typed ("4, 12" or "4 y 12"), or a word for none.
fn children(text: &str, today: Date) -> Result<Vec<Date>, &'static str> {
    if NO_CHILDREN.contains(&text.to_lowercase().as_str()) {
        return Ok(Vec::new());
    }
    let ages: Vec<&str> = text
        .split([',', ';', ' '])
        .filter(|s| *s != "y" && *s != "and")
        .filter(|s| !s.trim().is_empty())
        .collect();
    if ages.len() > MAX_CHILDREN {
        return Err("too_many");
    }
    let mut dates = Vec::new();
    for a in ages {
        let age = whole(a, CHILD_AGE_LIMIT - 1)?;
        dates.push(years_before(today, age));
    }
    if dates.is_empty() {
        return Err("number_format");
    }
    Ok(dates)
}

/// The questions still open, in the order they first appear, without the settled ones.
pub fn pending(questions: impl IntoIterator<Item = Question>, answers: &Answers) -> Vec<Question> {
    let mut seen = BTreeSet::new();
    questions
        .into_iter()
        .filter(|q| !answers.settled(*q))
        .filter(|q| seen.insert(field(*q)))
        .collect()
}

/// A document that proves what a rule asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Document {
    /// An official photo ID (INE, passport) and the CURP: always asked.
    Identity,
    ProofOfAddress,
    ResidenceCertificate,
    IncomeStatement,
    ChildrenBirthCertificates,
    SchoolCertificate,
    DisabilityCertificate,
    EmploymentRecord,
    MedicalCertificate,
    SocialSecurityStatement,
    InstitutionReferral,
    ProviderLostRecord,
}

impl Document {
    pub fn code(self) -> &'static str {
        match self {
            Document::Identity => "identity",
            Document::ProofOfAddress => "proof_of_address",
            Document::ResidenceCertificate => "residence_certificate",
            Document::IncomeStatement => "income_statement",
            Document::ChildrenBirthCertificates => "children_birth_certificates",
            Document::SchoolCertificate => "school_certificate",
            Document::DisabilityCertificate => "disability_certificate",
            Document::EmploymentRecord => "employment_record",
            Document::MedicalCertificate => "medical_certificate",
            Document::SocialSecurityStatement => "social_security_statement",
            Document::InstitutionReferral => "institution_referral",
            Document::ProviderLostRecord => "provider_lost_record",
        }
    }
}

/// The documents that prove what a rule asks, derived from its predicates (identity always).
/// A program's own list, once published, would replace this.
pub fn documents(rule: &Rule) -> BTreeSet<Document> {
    let mut out = BTreeSet::from([Document::Identity]);
    collect(rule, &mut out);
    out
}

fn collect(rule: &Rule, out: &mut BTreeSet<Document>) {
    let doc = match rule {
        Rule::All(rules) | Rule::Any(rules) => {
            rules.iter().for_each(|r| collect(r, out));
            return;
        }
        Rule::Not(inner) => {
            collect(inner, out);
            return;
        }
        Rule::AgeAtLeast(_)
        | Rule::AgeBelow(_)
        | Rule::Sex(_)
        | Rule::HasCurp
        | Rule::EnrolledIn(_) => return,
        Rule::Resident | Rule::BoroughIn(_) => Document::ProofOfAddress,
        Rule::ResidenceYearsAtLeast(_) => Document::ResidenceCertificate,
        Rule::IncomePerPersonAtMost(_) => Document::IncomeStatement,
        Rule::SingleParentWithChildUnder(_) | Rule::ChildUnderMonths(_) => {
            Document::ChildrenBirthCertificates
        }
        Rule::SchoolLevelIn(_) | Rule::SchoolType(_) | Rule::GradeAverageAtLeast(_) => {
            Document::SchoolCertificate
        }
        Rule::EmploymentIn(_) | Rule::MonthsWorkedAtLeast(_) => Document::EmploymentRecord,
        Rule::SocialSecurityIn(_) => Document::SocialSecurityStatement,
        Rule::ProviderLost => Document::ProviderLostRecord,
        Rule::Is(kind) => match kind {
            FactKind::Disability => Document::DisabilityCertificate,
            FactKind::Pregnant => Document::MedicalCertificate,
            FactKind::JobLoss => Document::EmploymentRecord,
            FactKind::ViolenceReferral => Document::InstitutionReferral,
            FactKind::ProviderLost => Document::ProviderLostRecord,
            _ => return,
        },
    };
    out.insert(doc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::eligibility::{Verdict, evaluate};

    const TODAY: Date = Date {
        year: 2026,
        month: 11,
        day: 23,
    };

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn posted_answers_are_parsed_and_strangers_refused() {
        let a = Answers::from_pairs(&pairs(&[
            ("csrf", "t"),
            ("evento", "CUMPLI_68"),
            ("age", " 70 "),
            ("borough", ""),
            ("skip", "sex"),
        ]))
        .unwrap();
        assert_eq!(a.event, "CUMPLI_68");
        assert_eq!(a.values.get("age").map(String::as_str), Some("70"));
        assert!(
            !a.values.contains_key("borough"),
            "an empty answer is no answer"
        );
        assert!(a.settled(Question::Sex) && a.settled(Question::BirthDate));
        assert!(!a.settled(Question::Borough));
        for bad in [
            vec![("evento", "X"), ("name", "Ana")],
            vec![("evento", "X"), ("skip", "name")],
            vec![("evento", "X"), ("fact_salary", "1")],
            vec![("evento", "X"), ("age", "1"), ("age", "2")],
            vec![("age", "70")],
            vec![("evento", "x<y")],
        ] {
            assert!(Answers::from_pairs(&pairs(&bad)).is_none(), "{bad:?}");
        }
        let long = "9".repeat(MAX_ANSWER + 1);
        assert!(Answers::from_pairs(&pairs(&[("evento", "X"), ("age", &long)])).is_none());
    }

    #[test]
    fn answers_become_facts_and_bad_values_field_errors() {
        let a = Answers::from_pairs(&pairs(&[
            ("evento", "E"),
            ("age", "68"),
            ("sex", "M"),
            ("borough", "09007"),
            ("residence_years", "3"),
            ("has_curp", "yes"),
            ("household_income", "$6,000"),
            ("household_size", "3"),
            ("children", "4, 12"),
            ("fact_disability", "no"),
        ]))
        .unwrap();
        let (f, errors) = facts(&a, TODAY);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(f.birth_date, Date::new(1958, 11, 23));
        assert_eq!(f.resident, Some(true));
        assert_eq!(f.borough.as_deref(), Some("09007"));
        assert_eq!(f.income_per_person(), Some(2000));
        assert_eq!(f.children.as_ref().map(Vec::len), Some(2));
        assert_eq!(f.value(FactKind::Disability), Some("no"));

        let a = Answers::from_pairs(&pairs(&[
            ("evento", "E"),
            ("age", "130"),
            ("sex", "Z"),
            ("borough", "09099"),
            ("household_income", "mucho"),
            ("household_size", "0"),
            ("children", "3, 40"),
            ("fact_months_worked", "99999"),
        ]))
        .unwrap();
        let (f, errors) = facts(&a, TODAY);
        let mut codes: Vec<(String, String)> =
            errors.into_iter().map(|e| (e.field, e.code)).collect();
        codes.sort();
        let pair = |f: &str, c: &str| (f.to_owned(), c.to_owned());
        assert_eq!(
            codes,
            vec![
                pair("age", "out_of_range"),
                pair("borough", "invalid_choice"),
                pair("children", "out_of_range"),
                pair("fact_months_worked", "out_of_range"),
                pair("household_income", "number_format"),
                pair("household_size", "out_of_range"),
                pair("sex", "invalid_choice"),
            ]
        );
        assert_eq!(f, Facts::default(), "nothing from a bad answer");

        // Income without the household's size asks for it.
        let a =
            Answers::from_pairs(&pairs(&[("evento", "E"), ("household_income", "100")])).unwrap();
        let (f, errors) = facts(&a, TODAY);
        assert_eq!(errors, vec![FieldError::new("household_size", "required")]);
        assert_eq!(f.household_income, None);
        // Living outside the city.
        let a = Answers::from_pairs(&pairs(&[("evento", "E"), ("borough", OUTSIDE)])).unwrap();
        assert_eq!(facts(&a, TODAY).0.resident, Some(false));
    }

    #[test]
    fn questions_are_asked_once_until_the_verdicts_settle() {
        // PAAM as published: 68 or older, resident for three years.
        let rule = Rule::All(vec![
            Rule::AgeAtLeast(68),
            Rule::Resident,
            Rule::ResidenceYearsAtLeast(3),
        ]);
        let mut answers = Answers {
            event: "CUMPLI_68".into(),
            ..Answers::default()
        };
        let ask = |answers: &Answers| {
            let (f, _) = facts(answers, TODAY);
            let e = evaluate(&rule, &f, TODAY);
            (e.verdict, pending(e.questions, answers))
        };
        let (verdict, questions) = ask(&answers);
        assert_eq!(verdict, Verdict::NeedsInformation);
        assert_eq!(
            questions,
            vec![
                Question::BirthDate,
                Question::Residence,
                Question::ResidenceSince
            ]
        );
        answers.values.insert("age".into(), "70".into());
        answers.skipped.insert("borough".into());
        let (verdict, questions) = ask(&answers);
        assert_eq!(verdict, Verdict::NeedsInformation);
        assert_eq!(
            questions,
            vec![Question::ResidenceSince],
            "skipped: not asked again"
        );
        answers.values.insert("residence_years".into(), "1".into());
        let (verdict, questions) = ask(&answers);
        assert_eq!(verdict, Verdict::NotEligible, "one year is not three");
        assert!(questions.is_empty());
    }

    #[test]
    fn documents_follow_the_rule() {
        let rule = Rule::All(vec![
            Rule::AgeAtLeast(18),
            Rule::Any(vec![Rule::Is(FactKind::Disability), Rule::Resident]),
            Rule::Not(Box::new(Rule::IncomePerPersonAtMost(1))),
        ]);
        assert_eq!(
            documents(&rule),
            BTreeSet::from([
                Document::Identity,
                Document::ProofOfAddress,
                Document::IncomeStatement,
                Document::DisabilityCertificate
            ])
        );
        assert_eq!(
            documents(&Rule::All(vec![])),
            BTreeSet::from([Document::Identity])
        );
    }
}
