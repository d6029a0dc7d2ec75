//! The life of a request: its statuses, the only transitions between them, the reason codes each
//! transition accepts, which side (office or agency) may take it, and how far an unattended
//! request has escalated.
//!
//! ```text
//! requested ─→ in_review ─→ approved ─→ active ⇄ suspended
//!     │  ╲          │  ╲                  │          │
//!     │   withdrawn │   withdrawn         └──→ exited ←┘
//!     └─→ rejected ←┘
//! ```
//!
//! `withdrawn` is the person's decision before approval (recorded at an office on their behalf);
//! `exited` closes an active or suspended benefit (death, moved away, age limit…).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::calendar::{add_business_days, add_days};
use super::curp::Date;

/// A status of an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    Requested,
    InReview,
    Approved,
    Active,
    Suspended,
    Exited,
    Rejected,
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Requested,
        Status::InReview,
        Status::Approved,
        Status::Active,
        Status::Suspended,
        Status::Exited,
        Status::Rejected,
        Status::Withdrawn,
    ];

    /// Statuses in which a request is still open (at most one per person and program).
    pub const OPEN: [Status; 5] = [
        Status::Requested,
        Status::InReview,
        Status::Approved,
        Status::Active,
        Status::Suspended,
    ];

    /// Statuses waiting for the agency's decision: the ones the SLA and escalation apply to.
    pub const AWAITING_DECISION: [Status; 2] = [Status::Requested, Status::InReview];

    /// The code stored in the database (CHECK constraint) and used in forms.
    pub const fn code(self) -> &'static str {
        match self {
            Status::Requested => "requested",
            Status::InReview => "in_review",
            Status::Approved => "approved",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Exited => "exited",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn is_open(self) -> bool {
        Status::OPEN.contains(&self)
    }

    /// No transition leaves it.
    pub fn is_final(self) -> bool {
        next(self).is_empty()
    }

    pub fn awaits_decision(self) -> bool {
        Status::AWAITING_DECISION.contains(&self)
    }
}

/// Every transition of the machine; nothing else exists.
const TRANSITIONS: &[(Status, Status)] = &[
    (Status::Requested, Status::InReview),
    (Status::Requested, Status::Rejected),
    (Status::Requested, Status::Withdrawn),
    (Status::InReview, Status::Approved),
    (Status::InReview, Status::Rejected),
    (Status::InReview, Status::Withdrawn),
    (Status::Approved, Status::Active),
    (Status::Active, Status::Suspended),
    (Status::Active, Status::Exited),
    (Status::Suspended, Status::Active),
    (Status::Suspended, Status::Exited),
];

/// Where a status can go from `from`, in the order screens offer them.
pub fn next(from: Status) -> Vec<Status> {
    TRANSITIONS
        .iter()
        .filter(|(f, _)| *f == from)
        .map(|(_, t)| *t)
        .collect()
}

/// Who takes a transition: the agency that runs the program, or an office on the person's
/// behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    Agency,
    Office,
}

/// The side that records a move to `to`.
pub fn side(to: Status) -> Side {
    match to {
        Status::Withdrawn => Side::Office,
        _ => Side::Agency,
    }
}

/// Why a request changed status. One enum for every status; [`reasons`] says which fit a given
/// transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reason {
    // → requested (the request itself)
    Eligible,
    Override,
    ReferralAccepted,
    // → in_review
    ReviewStarted,
    DocumentsComplete,
    // → approved
    MeetsRequirements,
    ExceptionAuthorized,
    // → rejected
    NotEligible,
    IncompleteDocuments,
    DuplicateRequest,
    IncompatibleProgram,
    NoBudget,
    // → withdrawn
    PersonRequest,
    NoLongerNeeded,
    // → active
    BenefitStarted,
    Reinstated,
    // → suspended
    MissingRecertification,
    UnderInvestigation,
    TemporaryAbsence,
    // → exited
    Death,
    MovedAway,
    AgeLimit,
    FalsifiedDocuments,
    NoLongerEligible,
    VoluntaryExit,
    ProgramCompleted,
}

impl Reason {
    pub const ALL: [Reason; 26] = [
        Reason::Eligible,
        Reason::Override,
        Reason::ReferralAccepted,
        Reason::ReviewStarted,
        Reason::DocumentsComplete,
        Reason::MeetsRequirements,
        Reason::ExceptionAuthorized,
        Reason::NotEligible,
        Reason::IncompleteDocuments,
        Reason::DuplicateRequest,
        Reason::IncompatibleProgram,
        Reason::NoBudget,
        Reason::PersonRequest,
        Reason::NoLongerNeeded,
        Reason::BenefitStarted,
        Reason::Reinstated,
        Reason::MissingRecertification,
        Reason::UnderInvestigation,
        Reason::TemporaryAbsence,
        Reason::Death,
        Reason::MovedAway,
        Reason::AgeLimit,
        Reason::FalsifiedDocuments,
        Reason::NoLongerEligible,
        Reason::VoluntaryExit,
        Reason::ProgramCompleted,
    ];

    /// The code stored in `enrollment_event.reason` and used in forms.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Eligible => "eligible",
            Reason::Override => "override",
            Reason::ReferralAccepted => "referral_accepted",
            Reason::ReviewStarted => "review_started",
            Reason::DocumentsComplete => "documents_complete",
            Reason::MeetsRequirements => "meets_requirements",
            Reason::ExceptionAuthorized => "exception_authorized",
            Reason::NotEligible => "not_eligible",
            Reason::IncompleteDocuments => "incomplete_documents",
            Reason::DuplicateRequest => "duplicate_request",
            Reason::IncompatibleProgram => "incompatible_program",
            Reason::NoBudget => "no_budget",
            Reason::PersonRequest => "person_request",
            Reason::NoLongerNeeded => "no_longer_needed",
            Reason::BenefitStarted => "benefit_started",
            Reason::Reinstated => "reinstated",
            Reason::MissingRecertification => "missing_recertification",
            Reason::UnderInvestigation => "under_investigation",
            Reason::TemporaryAbsence => "temporary_absence",
            Reason::Death => "death",
            Reason::MovedAway => "moved_away",
            Reason::AgeLimit => "age_limit",
            Reason::FalsifiedDocuments => "falsified_documents",
            Reason::NoLongerEligible => "no_longer_eligible",
            Reason::VoluntaryExit => "voluntary_exit",
            Reason::ProgramCompleted => "program_completed",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The reason codes a transition accepts (empty when the transition does not exist).
pub fn reasons(from: Status, to: Status) -> &'static [Reason] {
    use Reason::*;
    if !TRANSITIONS.contains(&(from, to)) {
        return &[];
    }
    match to {
        Status::InReview => &[ReviewStarted, DocumentsComplete],
        Status::Approved => &[MeetsRequirements, ExceptionAuthorized],
        Status::Rejected => &[
            NotEligible,
            IncompleteDocuments,
            DuplicateRequest,
            IncompatibleProgram,
            NoBudget,
        ],
        Status::Withdrawn => &[PersonRequest, NoLongerNeeded],
        Status::Active if from == Status::Suspended => &[Reinstated],
        Status::Active => &[BenefitStarted],
        Status::Suspended => &[MissingRecertification, UnderInvestigation, TemporaryAbsence],
        Status::Exited => &[
            Death,
            MovedAway,
            AgeLimit,
            FalsifiedDocuments,
            NoLongerEligible,
            VoluntaryExit,
            ProgramCompleted,
        ],
        Status::Requested => &[],
    }
}

/// Why a transition was refused; each maps to a form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `to`: the machine has no such transition from the current status.
    NoSuchTransition,
    /// `reason`: missing, or not one this transition accepts.
    Reason,
    /// `to`: this side may not take it (an agency cannot withdraw for the person, an office
    /// cannot approve).
    WrongSide,
}

impl Refusal {
    /// The form field and the message code.
    pub fn field(self) -> (&'static str, &'static str) {
        match self {
            Refusal::NoSuchTransition => ("to", "no_such_transition"),
            Refusal::Reason => ("reason", "reason_not_allowed"),
            Refusal::WrongSide => ("to", "not_your_decision"),
        }
    }
}

/// Checks one transition taken by `side` with `reason`.
///
/// # Errors
/// The first [`Refusal`] that applies.
pub fn check(from: Status, to: Status, reason: Option<Reason>, by: Side) -> Result<(), Refusal> {
    if !TRANSITIONS.contains(&(from, to)) {
        return Err(Refusal::NoSuchTransition);
    }
    if side(to) != by {
        return Err(Refusal::WrongSide);
    }
    match reason {
        Some(r) if reasons(from, to).contains(&r) => Ok(()),
        _ => Err(Refusal::Reason),
    }
}

/// Escalation levels: 0 none, 1 office supervisor, 2 agency head, 3 central coordination.
pub const MAX_LEVEL: u8 = 3;

/// Business days after the due date at which each level above 1 is reached.
pub const LEVEL_AFTER: [(u8, u32); 3] = [(1, 0), (2, 5), (3, 10)];

/// The level a request awaiting a decision has reached on `today`: 1 on its due date, 2 five
/// business days later, 3 ten business days after the due date.
pub fn escalation_level(due_on: Date, today: Date, holidays: &BTreeSet<Date>) -> u8 {
    LEVEL_AFTER
        .iter()
        .rev()
        .find(|(_, days)| add_business_days(due_on, *days, holidays) <= today)
        .map_or(0, |(level, _)| *level)
}

/// The latest due date that has reached `level` on `today` (requests due on or before it are at
/// that level or above): what the escalation job filters on, one range per level.
pub fn level_cutoff(level: u8, today: Date, holidays: &BTreeSet<Date>) -> Date {
    let days = LEVEL_AFTER
        .iter()
        .find(|(l, _)| *l == level)
        .map_or(0, |(_, d)| *d);
    // `add_business_days` is monotone in its start, so walk back from today to the first start
    // that lands on or before today.
    let mut due = today;
    while add_business_days(due, days, holidays) > today {
        due = add_days(due, -1);
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: i32, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn codes_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        assert_eq!(Status::from_code("closed"), None);
    }

    #[test]
    fn every_transition_has_reasons_and_every_reason_a_transition() {
        for (from, to) in TRANSITIONS {
            assert!(!reasons(*from, *to).is_empty(), "{from:?} → {to:?}");
        }
        for r in Reason::ALL {
            let used = TRANSITIONS
                .iter()
                .any(|(f, t)| reasons(*f, *t).contains(&r))
                || matches!(
                    r,
                    Reason::Eligible | Reason::Override | Reason::ReferralAccepted
                );
            assert!(used, "{r:?} belongs to no transition");
        }
    }

    #[test]
    fn the_machine_refuses_what_it_does_not_list() {
        let ok = check(
            Status::Requested,
            Status::InReview,
            Some(Reason::ReviewStarted),
            Side::Agency,
        );
        assert_eq!(ok, Ok(()));
        // Skipping review.
        assert_eq!(
            check(
                Status::Requested,
                Status::Approved,
                Some(Reason::MeetsRequirements),
                Side::Agency
            ),
            Err(Refusal::NoSuchTransition)
        );
        // A reason of another transition, and none.
        assert_eq!(
            check(
                Status::InReview,
                Status::Rejected,
                Some(Reason::Death),
                Side::Agency
            ),
            Err(Refusal::Reason)
        );
        assert_eq!(
            check(Status::InReview, Status::Rejected, None, Side::Agency),
            Err(Refusal::Reason)
        );
        // Withdrawing is the person's, recorded at an office; approving is the agency's.
        assert_eq!(
            check(
                Status::Requested,
                Status::Withdrawn,
                Some(Reason::PersonRequest),
                Side::Agency
            ),
            Err(Refusal::WrongSide)
        );
        assert_eq!(
            check(
                Status::InReview,
                Status::Approved,
                Some(Reason::MeetsRequirements),
                Side::Office
            ),
            Err(Refusal::WrongSide)
        );
        // Not after approval.
        assert_eq!(
            check(
                Status::Approved,
                Status::Withdrawn,
                Some(Reason::PersonRequest),
                Side::Office
            ),
            Err(Refusal::NoSuchTransition)
        );
        // Reinstating is only from a suspension.
        assert_eq!(
            check(
                Status::Approved,
                Status::Active,
                Some(Reason::Reinstated),
                Side::Agency
            ),
            Err(Refusal::Reason)
        );
        for s in [Status::Exited, Status::Rejected, Status::Withdrawn] {
            assert!(s.is_final() && !s.is_open());
        }
    }

    #[test]
    fn escalation_follows_business_days() {
        // 2026: Monday 16 November is a holiday (Revolution day, third Monday).
        let holidays: BTreeSet<Date> = [d(2026, 11, 16)].into();
        let due = d(2026, 11, 10); // Tuesday
        assert_eq!(escalation_level(due, d(2026, 11, 9), &holidays), 0);
        assert_eq!(escalation_level(due, due, &holidays), 1);
        // Five business days after Tue 10: 11, 12, 13, (14-15 weekend, 16 holiday) 17, 18.
        assert_eq!(escalation_level(due, d(2026, 11, 17), &holidays), 1);
        assert_eq!(escalation_level(due, d(2026, 11, 18), &holidays), 2);
        // Ten: … 19, 20, 23, 24, 25.
        assert_eq!(escalation_level(due, d(2026, 11, 24), &holidays), 2);
        assert_eq!(escalation_level(due, d(2026, 11, 25), &holidays), 3);
        assert_eq!(escalation_level(due, d(2027, 6, 1), &holidays), 3);
    }

    #[test]
    fn cutoffs_agree_with_the_level_of_every_due_date() {
        let holidays: BTreeSet<Date> = [d(2026, 11, 16), d(2026, 12, 25)].into();
        let mut today = d(2026, 11, 1);
        for _ in 0..90 {
            for level in 1..=MAX_LEVEL {
                let cutoff = level_cutoff(level, today, &holidays);
                for back in 0..40 {
                    let due = add_days(today, -back);
                    let reached = escalation_level(due, today, &holidays) >= level;
                    assert_eq!(reached, due <= cutoff, "{due:?} {today:?} level {level}");
                }
            }
            today = add_days(today, 1);
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any sequence of attempted moves, each applied only when `check` accepts it,
            /// stays inside the machine: every status reached is reachable by a listed
            /// transition, and a final status is never left.
            #[test]
            fn random_walks_stay_inside_the_machine(
                steps in proptest::collection::vec((0..Status::ALL.len(), 0..Reason::ALL.len(), any::<bool>()), 0..60)
            ) {
                let mut status = Status::Requested;
                for (to, reason, agency) in steps {
                    let to = Status::ALL[to];
                    let by = if agency { Side::Agency } else { Side::Office };
                    let before = status;
                    if check(status, to, Some(Reason::ALL[reason]), by).is_ok() {
                        prop_assert!(TRANSITIONS.contains(&(status, to)));
                        prop_assert!(!before.is_final());
                        status = to;
                    }
                    prop_assert!(Status::ALL.contains(&status));
                    if before.is_final() {
                        prop_assert_eq!(before, status);
                    }
                }
            }
        }
    }
}
