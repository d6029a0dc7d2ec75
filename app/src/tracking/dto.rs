//! What the tracking screens show.

use serde::{Deserialize, Serialize};

use crate::catalog::dto::Localized;
use crate::domain::curp::Date;
use crate::domain::eligibility::Evaluation;

/// The filters of the agency queue (all optional; from the query string).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueFilter {
    /// A program code of the agency.
    pub program: String,
    /// A status code; empty: every status awaiting a decision.
    pub status: String,
    /// An INEGI borough code.
    pub borough: String,
    /// `overdue` (due date passed), `week` (due in the next 7 days) or empty.
    pub due: String,
    /// `yes`: escalated requests only.
    pub escalated: String,
}

/// One request in a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRow {
    pub id: i32,
    pub folio: String,
    pub program: String,
    pub status: String,
    pub person: String,
    pub borough: String,
    pub requested_on: Date,
    pub due_on: Date,
    /// Business days are not counted here: calendar days until (negative: since) the due date.
    pub days_left: i64,
    pub escalation_level: i32,
    pub assigned_to: Option<String>,
}

/// `/agencia`: the agency's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyQueue {
    pub agency: Localized,
    /// The agency's programs (code, name) for the filter.
    pub programs: Vec<(String, Localized)>,
    /// Boroughs (INEGI code, name) for the filter.
    pub boroughs: Vec<(String, String)>,
    pub rows: Vec<QueueRow>,
    /// Requests matching the filter (the list shows the first [`QUEUE_PAGE`]).
    pub total: u64,
}

/// Rows per queue page.
pub const QUEUE_PAGE: u64 = 50;

/// A status change as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    pub at: String,
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub unit: Option<String>,
}

/// A case note as shown to someone allowed to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteLine {
    pub id: i32,
    pub at: String,
    pub author: String,
    pub unit: String,
    pub restricted: bool,
    pub body: String,
    pub folio: Option<String>,
}

/// A move the signed-in staff member may make now, with the reasons it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub to: String,
    pub reasons: Vec<String>,
}

/// `/agencia/solicitud/{id}`: the minimum the agency needs to decide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub id: i32,
    pub folio: String,
    pub program: String,
    pub program_name: Localized,
    pub status: String,
    pub version: i32,
    pub person_name: String,
    pub age: i32,
    pub borough: String,
    pub requested_on: Date,
    pub due_on: Date,
    pub escalation_level: i32,
    pub assigned_to: Option<String>,
    pub rule_version: i32,
    /// The evaluation under the recorded rule version with today's facts: each criterion names
    /// the fact it used.
    pub evaluation: Evaluation,
    pub history: Vec<EventLine>,
    pub notes: Vec<NoteLine>,
    pub moves: Vec<Move>,
    /// Programs of other agencies the person can be referred to from here.
    pub refer_to: Vec<ReferTarget>,
    /// Agency heads: the staff the request can be given to (id, name).
    pub assignable: Vec<(i32, String)>,
}

/// One entry of a person's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: String,
    /// `status`, `escalation`, `referral`, `referral_decided` or `note`.
    pub kind: String,
    pub folio: Option<String>,
    pub program: Option<String>,
    pub agency: Option<String>,
    /// For `status`: from → to; for `escalation`: the level; for `referral`: the status.
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<String>,
    pub who: Option<String>,
    pub note: Option<NoteLine>,
}

/// The person's timeline, newest first, with the filters' choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub person_id: i32,
    pub person_name: String,
    pub entries: Vec<TimelineEntry>,
    /// Agencies and programs present in the whole timeline (code, name), for the filters.
    pub agencies: Vec<(String, String)>,
    pub programs: Vec<String>,
    /// The person's open requests for the note and withdrawal forms.
    pub open: Vec<OpenRequest>,
    /// Programs the person can be referred to.
    pub refer_to: Vec<ReferTarget>,
}

/// A supervisor's or agency head's escalations: requests at or above their level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalations {
    pub level: i32,
    pub rows: Vec<QueueRow>,
    pub total: u64,
}

/// An open request of the person, for the note and withdrawal forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    pub id: i32,
    pub folio: String,
    pub program: String,
    pub status: String,
    pub version: i32,
}

/// A program a person can be referred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferTarget {
    pub code: String,
    pub name: Localized,
    /// The name of the agency that runs it.
    pub agency: String,
}

/// One referral, as its sender or its receiver sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralRow {
    pub id: i32,
    pub person_id: i32,
    pub person: String,
    pub borough: String,
    pub program: String,
    /// The receiving agency's name.
    pub agency: String,
    /// The office or agency that referred (name).
    pub from: String,
    pub reason: String,
    pub created_on: Date,
    /// `open`, `accepted` or `declined`.
    pub status: String,
    pub decline_reason: Option<String>,
    /// The request created when accepted.
    pub folio: Option<String>,
    pub version: i32,
}

/// The referrals of the caller's unit: received (agencies: open ones, oldest first) and sent
/// (newest first, every status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referrals {
    pub received: Vec<ReferralRow>,
    pub received_total: u64,
    pub sent: Vec<ReferralRow>,
}

/// A referral opened by the receiving agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralView {
    pub row: ReferralRow,
    pub program_name: Localized,
    pub age: i32,
    pub notes: Vec<NoteLine>,
}

/// Upper bounds (days since the request) of the first three age columns; the fourth is older.
pub const AGE_BUCKETS: [i64; 3] = [7, 30, 90];

/// Open requests of one status by age since they were made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRow {
    pub status: String,
    /// 0–7 days, 8–30, 31–90, more than 90.
    pub ages: [u64; 4],
    pub total: u64,
}

/// One staff member's open requests (office: made by them; agency: assigned to them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffLoad {
    pub staff_id: i32,
    pub name: String,
    pub open: u64,
    pub overdue: u64,
}

/// A supervisor's or agency head's view of the open work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    pub rows: Vec<AgeRow>,
    pub overdue: u64,
    pub escalated: u64,
    pub staff: Vec<StaffLoad>,
    /// Agencies: open requests nobody has taken.
    pub unassigned: Option<u64>,
}
