//! What a signed-in citizen sees on `/mi-cuenta`: their own profile summary (the CURP masked),
//! every request they are the beneficiary or the applicant of, and who looked at their data.

use serde::{Deserialize, Serialize};

use crate::catalog::dto::Localized;
use crate::domain::curp::Date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccount {
    pub name: String,
    /// `GODE************00`; `None` for a person registered without a CURP.
    pub masked_curp: Option<String>,
    /// As printed on the card (`1234 5678 90`).
    pub card: String,
    pub borough: String,
    pub requests: Vec<MyRequest>,
    /// Newest first, at most [`ACCESS_SHOWN`].
    pub access: Vec<AccessEntry>,
    /// Every staff access recorded (may exceed what is listed).
    pub access_total: u64,
}

/// The most access log entries listed on the page.
pub const ACCESS_SHOWN: u64 = 200;

/// One request of the person (as beneficiary, or as the applicant for a child).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRequest {
    pub folio: String,
    pub program: Localized,
    pub agency: Localized,
    pub status: String,
    pub requested_on: Date,
    pub due_on: Date,
    pub supervised: bool,
    /// The beneficiary's given names when it is someone else (a child the person applied for).
    pub for_whom: Option<String>,
    /// The rating given, if any.
    pub rating: Option<u8>,
    /// Decided and not rated yet: the page offers the rating form.
    pub can_rate: bool,
}

/// One time a staff member read or changed the person's data, from the audit log: when, the
/// agency and office, the role, what was done and why. Never the staff member's name (as
/// Estonia's Data Tracker, the institution answers for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// `YYYY-MM-DD HH:MM` in Mexico City time.
    pub at: String,
    /// The audit action (`person.viewed`, `person.updated`, `enrollment.status_changed`…).
    pub action: String,
    pub agency: Option<String>,
    pub office: Option<String>,
    /// Role code (`caseworker`, `agency_staff`…).
    pub role: Option<String>,
    /// Purpose code (`registry`, `eligibility`, `decision`…).
    pub purpose: Option<String>,
}
