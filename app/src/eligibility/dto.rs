//! What the eligibility screens show. Evaluations travel with their rule and facts, so the
//! browser can evaluate again while an answer is typed (the same pure evaluator).

use serde::{Deserialize, Serialize};

use crate::catalog::dto::Localized;
use crate::domain::curp::Date;
use crate::domain::eligibility::{Evaluation, Facts, Rule};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifeEventChoice {
    pub code: String,
    pub label: Localized,
    pub chosen: bool,
}

/// Why a program cannot be requested now, whatever the rules say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Block {
    /// An open enrollment exists (its folio and status).
    AlreadyOpen { folio: String, status: String },
    /// An open enrollment in a program that excludes this one.
    Incompatible { with: String },
}

/// One program for one beneficiary (the applicant, or a child for school programs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleRow {
    pub program_id: i32,
    pub code: String,
    pub name: Localized,
    pub agency: String,
    /// `false`: the catalog could not verify this program (shown flagged).
    pub verified: bool,
    pub sla_days: i32,
    pub beneficiary_id: i32,
    /// Given names only: enough to tell the children apart on the screen.
    pub beneficiary_name: String,
    pub for_applicant: bool,
    pub rule_version: i32,
    pub rule: Rule,
    pub evaluation: Evaluation,
    pub block: Option<Block>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub person_id: i32,
    pub person_name: String,
    pub today: Date,
    pub events: Vec<LifeEventChoice>,
    pub rows: Vec<BundleRow>,
    /// The facts of each beneficiary (person id, facts), for evaluating again in the browser.
    pub facts: Vec<(i32, Facts)>,
    /// A supervisor may request a program the rules do not find eligible (reason required).
    pub can_override: bool,
}

/// One line of the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub folio: String,
    pub program: Localized,
    pub agency: String,
    pub beneficiary: String,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub person_id: i32,
    pub applicant: String,
    pub office: Option<String>,
    /// `YYYY-MM-DD HH:MM` UTC.
    pub requested_at: String,
    pub lines: Vec<ReceiptLine>,
}

/// Someone an office should reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutreachPerson {
    pub id: i32,
    /// Given names and first surname.
    pub name: String,
    pub birth_date: Date,
    /// The birthday that brings them into the program, when that is the reason.
    pub on: Option<Date>,
}

/// People of the office's borough a program should reach and does not yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutreachGroup {
    /// `turning_68`, `turning_6` or `provider_lost`.
    pub kind: String,
    pub program: String,
    /// The life event to open for them at the office.
    pub event: String,
    /// Everyone found (the list may be cut).
    pub total: usize,
    pub people: Vec<OutreachPerson>,
}

/// `/oficina/alcance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outreach {
    pub borough: String,
    pub today: Date,
    pub until: Date,
    pub groups: Vec<OutreachGroup>,
}
