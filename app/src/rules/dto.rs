//! What the rule editor screens show.

use serde::{Deserialize, Serialize};

use super::forms::RuleRow;
use crate::catalog::dto::Localized;
use crate::domain::curp::Date;
use crate::domain::eligibility::{Rule, Verdict};

/// A program on `/admin/reglas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    pub code: String,
    pub name: Localized,
    pub verified: bool,
    /// The version in force today.
    pub current: Option<i32>,
    /// Published versions that take effect later: version and date.
    pub pending: Vec<(i32, Date)>,
    pub draft: Option<i32>,
    /// Test cases of the current version: passing, total.
    pub passing: usize,
    pub cases: usize,
}

/// One version in a program's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionLine {
    pub version: i32,
    /// `current`, `pending`, `superseded` or `draft`.
    pub standing: String,
    pub effective_from: Date,
    pub passing: usize,
    pub cases: usize,
    pub note: String,
}

/// A test case run against a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseLine {
    pub name: String,
    pub expect: Verdict,
    pub got: Verdict,
}

/// The draft being edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub version: i32,
    pub effective_from: Date,
    pub note: String,
    pub rule: Rule,
    /// The rule as rows, when its shape fits them.
    pub rows: Option<Vec<RuleRow>>,
    pub rules_json: String,
    pub tests_json: String,
    /// Fingerprint of the stored draft, posted back with every change.
    pub stamp: String,
    pub results: Vec<CaseLine>,
}

impl Draft {
    pub fn passes(&self) -> bool {
        !self.results.is_empty() && self.results.iter().all(|c| c.expect == c.got)
    }
}

/// How many registered people the draft would make eligible or ineligible, compared with the
/// version in force.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// Active profiles evaluated.
    pub people: u64,
    pub eligible_now: u64,
    pub eligible_draft: u64,
    /// Not eligible (or needing information) today, eligible under the draft.
    pub gained: u64,
    /// Eligible today, not (or needing information) under the draft.
    pub lost: u64,
}

/// `/admin/reglas/{code}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleEditor {
    pub code: String,
    pub name: Localized,
    pub verified: bool,
    pub today: Date,
    pub versions: Vec<VersionLine>,
    /// The rule in force, to read next to the draft.
    pub current: Option<Rule>,
    pub draft: Option<Draft>,
    /// Program codes `enrolled_in` may name.
    pub programs: Vec<String>,
    pub impact: Option<Impact>,
}
