//! What the staff screens see: accounts, sessions, the office's and the agency's views.

use serde::{Deserialize, Serialize};

use crate::catalog::dto::Localized;
use crate::domain::access::{Permission, Role};

/// The signed-in person, for the header and for deciding what to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub display_name: String,
    pub username: String,
    pub role: Role,
    pub permissions: Vec<Permission>,
}

/// One staff account in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRow {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub agency: Option<String>,
    pub office: Option<String>,
    pub disabled: bool,
    /// `false` until the person chose a password with their one-time token.
    pub has_password: bool,
}

/// One account with what the edit form needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffDetail {
    pub row: StaffRow,
    pub agency_id: Option<i32>,
    pub office_id: Option<i32>,
    pub version: i32,
    pub open_sessions: u64,
}

/// A choice in a select: id, code and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: i32,
    pub code: String,
    pub name: String,
}

/// The agencies and offices an account can be assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignable {
    pub agencies: Vec<Choice>,
    pub offices: Vec<Choice>,
}

/// An open session, for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: i32,
    pub staff_id: i32,
    pub username: String,
    pub role: Role,
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub started: String,
    pub last_seen: String,
    pub user_agent: Option<String>,
}

/// The office screen's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeView {
    pub code: String,
    pub name: String,
    pub borough: Option<String>,
}

/// A program of the signed-in person's agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyProgram {
    pub code: String,
    pub name: Localized,
    pub eligibility: Localized,
    pub benefit: Localized,
    pub verified: bool,
}

/// The agency screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyView {
    pub code: String,
    pub name: Localized,
    pub programs: Vec<AgencyProgram>,
}

/// Aggregates for policy officers: counts only, never a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyOverview {
    /// Agency code and how many programs it runs.
    pub programs_by_agency: Vec<(String, u64)>,
    /// Active staff accounts per role.
    pub staff_by_role: Vec<(Role, u64)>,
    /// Citizens' ratings of decided requests, per program and office.
    pub service_quality: Vec<QualityRow>,
}

/// The fewest ratings a cell shows figures for: 1–4 are shown as "<5" without their mean (so a
/// rating cannot be traced to the person who gave it).
pub const SMALL_CELL: u64 = 5;

/// Ratings of one program at one office (`None`: requests made without an office).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityRow {
    pub program_code: String,
    pub program: Localized,
    pub office: Option<String>,
    /// `None` when 1–4 ratings (suppressed).
    pub ratings: Option<u64>,
    /// The mean rating in tenths (43 = 4.3), `None` when suppressed.
    pub mean_tenths: Option<u64>,
}

/// A client as the administration screen lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRow {
    pub id: i32,
    pub agency: String,
    pub name: String,
    pub key_id: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked: bool,
    pub expired: bool,
    pub last_used_at: Option<String>,
}

/// The counts of an import or of its preview, as `/admin/importar` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub rows: u64,
    pub created: u64,
    pub for_review: u64,
    pub matched: u64,
    pub updated: u64,
    pub conflicts: u64,
    pub already_imported: u64,
    pub refused: u64,
    pub requests_created: u64,
    pub requests_existing: u64,
    pub request_conflicts: u64,
}

/// A file uploaded at `/admin/importar`, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRow {
    pub id: i32,
    /// The agency's code.
    pub agency: String,
    /// Who uploaded it (display name).
    pub by: String,
    pub rows: u64,
    /// `previewing`, `previewed`, `running`, `done`, `failed`, `discarded`, or `expired` (a
    /// preview not confirmed in time).
    pub status: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// The preview's counts, then the import's.
    pub counts: Option<ImportCounts>,
}

/// One line of an import's report (masked IDs and codes only; the message in both languages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLine {
    pub line: String,
    pub outcome: String,
    pub masked_id: String,
    pub field: String,
    pub code: String,
    pub message_es: String,
    pub message_en: String,
    pub request: String,
    pub folio: String,
}

/// One upload with its report's first lines and, while it is worked on, its progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadDetail {
    pub row: UploadRow,
    /// The first report lines (all of them are in the CSV download).
    pub lines: Vec<ReportLine>,
    /// Report lines in all.
    pub total_lines: u64,
    /// Rows done so far while this server works on it.
    pub done: Option<u64>,
    /// Previewing or importing, but no server is working on it (stopped by a restart): it may
    /// be resumed.
    pub interrupted: bool,
    /// The decisions that apply now (`confirm`, `resume`, `discard`): the page's buttons.
    pub actions: Vec<String>,
}

/// A problem that refuses a whole uploaded file (its header, its mapping, a malformed line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    /// Line number, 0 for the file or the mapping as a whole.
    pub line: u64,
    /// Their header or our field code; empty when about the whole file.
    pub column: String,
    pub code: String,
    pub message_es: String,
    pub message_en: String,
}
