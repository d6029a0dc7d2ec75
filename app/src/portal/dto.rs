//! What the public pages show: the anonymous check's steps, and a request followed by folio
//! (never a name or an ID number).

use serde::{Deserialize, Serialize};

use super::screener::{Answers, Document};
use crate::catalog::dto::Localized;
use crate::domain::curp::Date;
use crate::domain::eligibility::{Evaluation, Facts, Question, Rule};

/// One status change, as the person sees it: the day, the new status and its reason code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedStep {
    pub on: Date,
    pub status: String,
    pub reason: String,
}

/// A request found by its folio and the beneficiary's birth date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedRequest {
    pub folio: String,
    pub program_code: String,
    pub program: Localized,
    pub agency: Localized,
    pub status: String,
    pub requested_on: Date,
    pub due_on: Date,
    /// Awaiting a decision and past its due date.
    pub overdue: bool,
    /// Escalated: a supervisor is looking at it ("en revisión por supervisión").
    pub supervised: bool,
    /// The rating the person gave, if any.
    pub rating: Option<u8>,
    /// Decided and not rated yet: the page offers the rating form.
    pub can_rate: bool,
    /// What the rating form carries instead of the birth date (see the portal service).
    pub rating_pass: Option<String>,
    /// Oldest first.
    pub steps: Vec<TrackedStep>,
}

/// One program of the chosen life event, evaluated on the visitor's answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenRow {
    pub code: String,
    pub name: Localized,
    pub agency: Localized,
    pub benefit: Localized,
    /// `false`: the catalog could not verify this program (shown flagged).
    pub verified: bool,
    /// The rule in force today (the browser evaluates it again while answers are typed).
    pub rule: Rule,
    pub evaluation: Evaluation,
    pub documents: Vec<Document>,
}

/// A neighbourhood office of the visitor's borough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeInfo {
    pub name: String,
    /// `None` until an administrator enters what the city publishes.
    pub address: Option<String>,
    pub hours: Option<String>,
}

/// One step of the anonymous check: the programs evaluated so far, and the next questions
/// (none: the result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    pub event: String,
    pub label: Localized,
    pub today: Date,
    /// Answering for a child (school programs) rather than for oneself.
    pub for_child: bool,
    pub rows: Vec<ScreenRow>,
    /// Programs of the event for the other kind of beneficiary (checked by switching).
    pub others: Vec<(String, Localized)>,
    /// This step's questions (at most [`super::screener::PER_STEP`]).
    pub questions: Vec<Question>,
    /// Questions still open after this step's.
    pub later: usize,
    /// The answers so far, carried to the next step in hidden fields.
    pub answers: Answers,
    pub facts: Facts,
    pub offices: Vec<OfficeInfo>,
    /// The city's boroughs (INEGI code, name), for the "where do you live" question.
    pub boroughs: Vec<(String, String)>,
}

/// What `/revisa` loads: the life events to choose from, and the first step of the chosen one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenStart {
    pub events: Vec<(String, Localized)>,
    pub screening: Option<Screening>,
}
