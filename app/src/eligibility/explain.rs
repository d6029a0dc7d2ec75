//! Evaluations in plain Spanish or English: "Necesitas tener 68 años o más; tienes 66." Built
//! in the page from the evaluation (the server sends data, never prose), so the same sentences
//! appear on the caseworker's screen and, later, in the citizen's screener.

use leptos_i18n::I18nContext;

use crate::domain::eligibility::{Criterion, Outcome, Question, Rule, Used, Verdict};
use crate::i18n::*;
use crate::registry::pages::{fact_name, fact_value};

fn list(i18n: I18nContext<Locale>, kind: &str, values: &[String]) -> String {
    values
        .iter()
        .map(|v| fact_value(i18n, kind, v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sex_name(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "M" => t_string!(i18n, sex_name_m),
        "H" => t_string!(i18n, sex_name_h),
        _ => t_string!(i18n, sex_name_x),
    }
    .to_owned()
}

/// What the criterion requires, as a sentence without its final period.
pub fn requirement(i18n: I18nContext<Locale>, c: &Criterion) -> String {
    let plain = match &c.rule {
        Rule::Is(kind) if c.negated => {
            return t_string!(i18n, why_is_not, fact = fact_name(i18n, kind.code())).to_string();
        }
        Rule::EnrolledIn(code) if c.negated => {
            return t_string!(i18n, why_enrolled_in_not, program = code.clone()).to_string();
        }
        Rule::All(_) | Rule::Any(_) | Rule::Not(_) => String::new(),
        Rule::AgeAtLeast(y) => t_string!(i18n, why_age_at_least, years = *y).to_string(),
        Rule::AgeBelow(y) => t_string!(i18n, why_age_below, years = *y).to_string(),
        Rule::ResidenceYearsAtLeast(y) => {
            t_string!(i18n, why_residence_years_at_least, years = *y).to_string()
        }
        Rule::Resident => t_string!(i18n, why_resident).to_owned(),
        Rule::Sex(s) if s == "M" => t_string!(i18n, why_sex_m).to_owned(),
        Rule::Sex(_) => t_string!(i18n, why_sex_h).to_owned(),
        Rule::BoroughIn(codes) => {
            t_string!(i18n, why_borough_in, list = codes.join(", ")).to_string()
        }
        Rule::IncomePerPersonAtMost(p) => {
            t_string!(i18n, why_income_at_most, pesos = *p).to_string()
        }
        Rule::EmploymentIn(v) => {
            t_string!(i18n, why_employment_in, list = list(i18n, "employment", v)).to_string()
        }
        Rule::MonthsWorkedAtLeast(m) => t_string!(i18n, why_months_worked, months = *m).to_string(),
        Rule::SchoolLevelIn(v) => t_string!(
            i18n,
            why_school_level_in,
            list = list(i18n, "school_level", v)
        )
        .to_string(),
        Rule::SchoolType(k) => t_string!(
            i18n,
            why_school_type,
            kind = fact_value(i18n, "school_type", k).to_lowercase()
        )
        .to_string(),
        Rule::GradeAverageAtLeast(g) => {
            t_string!(i18n, why_grade_at_least, grade = format!("{g:.1}")).to_string()
        }
        Rule::Is(kind) => t_string!(i18n, why_is, fact = fact_name(i18n, kind.code())).to_string(),
        Rule::SocialSecurityIn(v) if v.len() == 1 && v[0] == "none" => {
            t_string!(i18n, why_no_social_security).to_owned()
        }
        Rule::SocialSecurityIn(v) => t_string!(
            i18n,
            why_social_security_in,
            list = list(i18n, "social_security", v)
        )
        .to_string(),
        Rule::SingleParentWithChildUnder(y) => {
            t_string!(i18n, why_single_parent, years = *y).to_string()
        }
        Rule::ChildUnderMonths(m) => {
            t_string!(i18n, why_child_under_months, months = *m).to_string()
        }
        Rule::ProviderLost => t_string!(i18n, why_provider_lost).to_owned(),
        Rule::HasCurp => t_string!(i18n, why_has_curp).to_owned(),
        Rule::EnrolledIn(code) => {
            t_string!(i18n, why_enrolled_in, program = code.clone()).to_string()
        }
    };
    if c.negated {
        t_string!(i18n, why_negated, requirement = plain).to_string()
    } else {
        plain
    }
}

fn yes_no(i18n: I18nContext<Locale>, b: bool) -> String {
    if b {
        t_string!(i18n, why_yes)
    } else {
        t_string!(i18n, why_no)
    }
    .to_owned()
}

/// What the person has, in words (or what is still to find out).
pub fn value(i18n: I18nContext<Locale>, c: &Criterion) -> String {
    match (&c.used, &c.rule) {
        (Used::Unknown, _) => {
            let what = c
                .question
                .map(|q| question(i18n, q))
                .unwrap_or_else(|| t_string!(i18n, why_not_known).to_owned());
            t_string!(i18n, why_unknown, what = what).to_string()
        }
        (Used::Years(y), Rule::ResidenceYearsAtLeast(_)) => {
            t_string!(i18n, why_you_lived, years = *y).to_string()
        }
        (Used::Years(y), _) => t_string!(i18n, why_you_are, years = *y).to_string(),
        (Used::Months(m), Rule::ChildUnderMonths(_)) => {
            t_string!(i18n, why_baby_months, months = *m).to_string()
        }
        (Used::Months(m), _) => t_string!(i18n, why_months, months = *m).to_string(),
        (Used::Pesos(p), _) => t_string!(i18n, why_pesos, pesos = *p).to_string(),
        (Used::Grade(g), _) => t_string!(i18n, why_grade, grade = format!("{g:.1}")).to_string(),
        (Used::Code(code), Rule::Sex(_)) => {
            t_string!(i18n, why_value, value = sex_name(i18n, code)).to_string()
        }
        (Used::Code(code), Rule::BoroughIn(_)) => {
            t_string!(i18n, why_value, value = code.clone()).to_string()
        }
        (Used::Code(code), rule) => {
            let kind = match rule {
                Rule::EmploymentIn(_) => "employment",
                Rule::SchoolLevelIn(_) => "school_level",
                Rule::SchoolType(_) => "school_type",
                _ => "social_security",
            };
            t_string!(i18n, why_value, value = fact_value(i18n, kind, code)).to_string()
        }
        (Used::Yes(b), Rule::EnrolledIn(_)) => if *b {
            t_string!(i18n, why_enrolled_yes)
        } else {
            t_string!(i18n, why_enrolled_no)
        }
        .to_owned(),
        (Used::Yes(b), _) => yes_no(i18n, *b),
        (
            Used::Family {
                partner,
                youngest_years,
            },
            _,
        ) => {
            let partner = partner
                .map(|p| yes_no(i18n, p))
                .unwrap_or_else(|| t_string!(i18n, why_not_known).to_owned());
            let youngest = youngest_years
                .map(|y| t_string!(i18n, why_family_years, years = y).to_string())
                .unwrap_or_else(|| t_string!(i18n, why_family_no_children).to_owned());
            t_string!(i18n, why_family, partner = partner, youngest = youngest).to_string()
        }
    }
}

/// "Necesitas tener 68 años o más; tienes 66."
pub fn sentence(i18n: I18nContext<Locale>, c: &Criterion) -> String {
    format!("{}; {}.", requirement(i18n, c), value(i18n, c))
}

/// What a question asks about, as a noun phrase.
pub fn question(i18n: I18nContext<Locale>, q: Question) -> String {
    match q {
        Question::BirthDate => t_string!(i18n, ask_birth_date).to_owned(),
        Question::Sex => t_string!(i18n, ask_sex).to_owned(),
        Question::Residence => t_string!(i18n, ask_residence).to_owned(),
        Question::ResidenceSince => t_string!(i18n, ask_residence_since).to_owned(),
        Question::Borough => t_string!(i18n, ask_borough).to_owned(),
        Question::Curp => t_string!(i18n, ask_curp).to_owned(),
        Question::HouseholdIncome => t_string!(i18n, ask_household_income).to_owned(),
        Question::Children => t_string!(i18n, ask_children).to_owned(),
        Question::Fact(kind) => fact_name(i18n, kind.code()).to_lowercase(),
    }
}

pub fn verdict(i18n: I18nContext<Locale>, v: Verdict) -> String {
    match v {
        Verdict::Eligible => t_string!(i18n, verdict_eligible),
        Verdict::NotEligible => t_string!(i18n, verdict_not_eligible),
        Verdict::NeedsInformation => t_string!(i18n, verdict_needs_information),
    }
    .to_owned()
}

/// A CSS class for an outcome: `met`, `not-met`, `unknown`.
pub fn outcome_class(o: Outcome) -> &'static str {
    match o {
        Outcome::Met => "met",
        Outcome::NotMet => "not-met",
        Outcome::Unknown => "unknown",
    }
}

pub fn status_name(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "requested" => t_string!(i18n, status_requested),
        "in_review" => t_string!(i18n, status_in_review),
        "approved" => t_string!(i18n, status_approved),
        "active" => t_string!(i18n, status_active),
        "suspended" => t_string!(i18n, status_suspended),
        "exited" => t_string!(i18n, status_exited),
        "rejected" => t_string!(i18n, status_rejected),
        _ => t_string!(i18n, status_withdrawn),
    }
    .to_owned()
}
