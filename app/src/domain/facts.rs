//! The kinds of facts eligibility uses and the shape of their values. Pure: the same code
//! checks a value in the browser, on the server, in the rules and in the anonymous screener.

use serde::{Deserialize, Serialize};

/// A kind of fact, with the shape of its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    /// The person's own monthly income in whole pesos.
    MonthlyIncome,
    /// One of [`EMPLOYMENT`].
    Employment,
    /// Months worked in the current or last formal job.
    MonthsWorked,
    /// One of [`SCHOOL_LEVELS`].
    SchoolLevel,
    /// `public` or `private`.
    SchoolType,
    /// 0.0–10.0, one decimal.
    GradeAverage,
    /// `yes` when a permanent disability is certified, else `no`.
    Disability,
    /// `yes` / `no`.
    Pregnant,
    /// One of [`SOCIAL_SECURITY`].
    SocialSecurity,
    /// `yes` when the last formal job was lost involuntarily (dismissal, closure).
    JobLoss,
    /// `yes` when an institution referred her for family violence.
    ViolenceReferral,
    /// `yes` when the person lives with a partner (spouse or not).
    Partner,
    /// `yes` when the person already receives another scholarship.
    OtherScholarship,
    /// `yes` when the person receives a pension.
    Pension,
    /// `yes` when whoever provided for the household died or became permanently disabled.
    ProviderLost,
}

pub const FACT_KINDS: [FactKind; 15] = [
    FactKind::MonthlyIncome,
    FactKind::Employment,
    FactKind::MonthsWorked,
    FactKind::SchoolLevel,
    FactKind::SchoolType,
    FactKind::GradeAverage,
    FactKind::Disability,
    FactKind::Pregnant,
    FactKind::SocialSecurity,
    FactKind::JobLoss,
    FactKind::ViolenceReferral,
    FactKind::Partner,
    FactKind::OtherScholarship,
    FactKind::Pension,
    FactKind::ProviderLost,
];

pub const EMPLOYMENT: [&str; 6] = [
    "formal",
    "informal",
    "unemployed",
    "student",
    "retired",
    "home",
];
pub const SCHOOL_LEVELS: [&str; 7] = [
    "none",
    "preschool",
    "primary",
    "secondary",
    "upper_secondary",
    "higher",
    "not_studying",
];
pub const SCHOOL_TYPES: [&str; 2] = ["public", "private"];
pub const YES_NO: [&str; 2] = ["yes", "no"];
pub const SOCIAL_SECURITY: [&str; 5] = ["none", "imss", "issste", "pemex_sedena", "other"];
/// Where a fact comes from.
pub const SOURCES: [&str; 4] = ["declared", "document", "agency", "import"];

/// The largest monthly income accepted (a typo guard, pesos).
pub const MAX_INCOME: u32 = 10_000_000;

impl FactKind {
    pub fn code(self) -> &'static str {
        match self {
            FactKind::MonthlyIncome => "monthly_income",
            FactKind::Employment => "employment",
            FactKind::MonthsWorked => "months_worked",
            FactKind::SchoolLevel => "school_level",
            FactKind::SchoolType => "school_type",
            FactKind::GradeAverage => "grade_average",
            FactKind::Disability => "disability",
            FactKind::Pregnant => "pregnant",
            FactKind::SocialSecurity => "social_security",
            FactKind::JobLoss => "job_loss",
            FactKind::ViolenceReferral => "violence_referral",
            FactKind::Partner => "partner",
            FactKind::OtherScholarship => "other_scholarship",
            FactKind::Pension => "pension",
            FactKind::ProviderLost => "provider_lost",
        }
    }

    pub fn from_code(code: &str) -> Option<FactKind> {
        FACT_KINDS.into_iter().find(|k| k.code() == code)
    }

    /// The closed set of values, or `None` for numbers.
    pub fn choices(self) -> Option<&'static [&'static str]> {
        match self {
            FactKind::Employment => Some(&EMPLOYMENT),
            FactKind::SchoolLevel => Some(&SCHOOL_LEVELS),
            FactKind::SchoolType => Some(&SCHOOL_TYPES),
            FactKind::Disability
            | FactKind::Pregnant
            | FactKind::JobLoss
            | FactKind::ViolenceReferral
            | FactKind::Partner
            | FactKind::OtherScholarship
            | FactKind::Pension
            | FactKind::ProviderLost => Some(&YES_NO),
            FactKind::SocialSecurity => Some(&SOCIAL_SECURITY),
            FactKind::MonthlyIncome | FactKind::MonthsWorked | FactKind::GradeAverage => None,
        }
    }

    /// The canonical stored text of a typed value, or the error code.
    ///
    /// # Errors
    /// `required`, `invalid_choice`, `number_format`, `out_of_range`.
    pub fn canonical(self, input: &str) -> Result<String, &'static str> {
        let input = input.trim();
        if input.is_empty() {
            return Err("required");
        }
        if let Some(choices) = self.choices() {
            return choices
                .iter()
                .find(|c| **c == input)
                .map(|c| (*c).to_owned())
                .ok_or("invalid_choice");
        }
        match self {
            FactKind::GradeAverage => {
                let value: f64 = input
                    .replace(',', ".")
                    .parse()
                    .map_err(|_| "number_format")?;
                if !(0.0..=10.0).contains(&value) {
                    return Err("out_of_range");
                }
                Ok(format!("{value:.1}"))
            }
            _ => {
                // Pesos may be typed with thousands separators and a currency sign.
                let digits: String = input
                    .chars()
                    .filter(|c| !matches!(c, ',' | ' ' | '$'))
                    .collect();
                let value: u32 = digits.parse().map_err(|_| "number_format")?;
                let max = if self == FactKind::MonthsWorked {
                    960
                } else {
                    MAX_INCOME
                };
                if value > max {
                    return Err("out_of_range");
                }
                Ok(value.to_string())
            }
        }
    }
}
