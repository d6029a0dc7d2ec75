//! Referrals between agencies: why a person is sent to another agency's program, and why the
//! receiving agency may decline. Closed sets of codes, stored as text and shown in words.

/// Why a caseworker or an agency refers a person to a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferReason {
    Employment,
    Income,
    Health,
    Disability,
    Violence,
    Education,
    Care,
    Housing,
    Food,
    Other,
}

impl ReferReason {
    pub const ALL: [ReferReason; 10] = [
        ReferReason::Employment,
        ReferReason::Income,
        ReferReason::Health,
        ReferReason::Disability,
        ReferReason::Violence,
        ReferReason::Education,
        ReferReason::Care,
        ReferReason::Housing,
        ReferReason::Food,
        ReferReason::Other,
    ];

    /// The code stored in `referral.reason` and used in forms.
    pub const fn code(self) -> &'static str {
        match self {
            ReferReason::Employment => "employment",
            ReferReason::Income => "income",
            ReferReason::Health => "health",
            ReferReason::Disability => "disability",
            ReferReason::Violence => "violence",
            ReferReason::Education => "education",
            ReferReason::Care => "care",
            ReferReason::Housing => "housing",
            ReferReason::Food => "food",
            ReferReason::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<ReferReason> {
        ReferReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Why the receiving agency declines a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclineReason {
    NotEligible,
    AlreadyServed,
    OutOfScope,
    PersonDeclined,
    Unreachable,
    NoCapacity,
}

impl DeclineReason {
    pub const ALL: [DeclineReason; 6] = [
        DeclineReason::NotEligible,
        DeclineReason::AlreadyServed,
        DeclineReason::OutOfScope,
        DeclineReason::PersonDeclined,
        DeclineReason::Unreachable,
        DeclineReason::NoCapacity,
    ];

    /// The code stored in `referral.decline_reason` and used in forms.
    pub const fn code(self) -> &'static str {
        match self {
            DeclineReason::NotEligible => "not_eligible",
            DeclineReason::AlreadyServed => "already_served",
            DeclineReason::OutOfScope => "out_of_scope",
            DeclineReason::PersonDeclined => "person_declined",
            DeclineReason::Unreachable => "unreachable",
            DeclineReason::NoCapacity => "no_capacity",
        }
    }

    pub fn from_code(code: &str) -> Option<DeclineReason> {
        DeclineReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The status of a referral: `open` until the receiving agency accepts or declines it.
pub const OPEN: &str = "open";
pub const ACCEPTED: &str = "accepted";
pub const DECLINED: &str = "declined";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        let refer: std::collections::HashSet<_> =
            ReferReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(refer.len(), ReferReason::ALL.len());
        for r in ReferReason::ALL {
            assert_eq!(ReferReason::from_code(r.code()), Some(r));
        }
        let decline: std::collections::HashSet<_> =
            DeclineReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(decline.len(), DeclineReason::ALL.len());
        for r in DeclineReason::ALL {
            assert_eq!(DeclineReason::from_code(r.code()), Some(r));
        }
        assert_eq!(ReferReason::from_code("Employment"), None);
        assert_eq!(DeclineReason::from_code(""), None);
    }
}
