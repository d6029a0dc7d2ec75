//! Who may do what, and over which objects: roles, permissions and the one policy,
//! [`authorize`]. Pure, so the browser can use it to decide what to show; the server enforces it.
//!
//! Two questions, two answers. *May this role do this at all?* — no: `Denied::Forbidden` (403).
//! *Is this object inside the actor's reach?* — no: `Denied::NotFound` (404), so that nobody
//! learns that an object they may not see exists. Lists never filter after fetching: services
//! build their query from [`Actor::reach`].

use serde::{Deserialize, Serialize};

/// A role. Staff have exactly one; citizens (later issues) have their own accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Serves people at one neighbourhood office.
    Caseworker,
    /// Leads one office: its caseworkers and their escalations.
    OfficeSupervisor,
    /// Works one agency's programs.
    AgencyStaff,
    /// Heads one agency: its programs, staff and escalations.
    AgencyHead,
    /// Sees aggregates only, never a person.
    PolicyOfficer,
    /// Configuration and accounts; never case content.
    Administrator,
    /// A person with a citizen account (their own data only).
    Citizen,
}

impl Role {
    /// Every staff role, in the order screens list them.
    pub const STAFF: [Role; 6] = [
        Role::Caseworker,
        Role::OfficeSupervisor,
        Role::AgencyStaff,
        Role::AgencyHead,
        Role::PolicyOfficer,
        Role::Administrator,
    ];

    /// The code stored in the database and used in forms.
    pub fn code(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::OfficeSupervisor => "office_supervisor",
            Role::AgencyStaff => "agency_staff",
            Role::AgencyHead => "agency_head",
            Role::PolicyOfficer => "policy_officer",
            Role::Administrator => "administrator",
            Role::Citizen => "citizen",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        Role::STAFF
            .into_iter()
            .chain([Role::Citizen])
            .find(|r| r.code() == code)
    }

    /// What the role's scope hangs on.
    pub fn anchor(self) -> Anchor {
        match self {
            Role::Caseworker | Role::OfficeSupervisor => Anchor::Office,
            Role::AgencyStaff | Role::AgencyHead => Anchor::Agency,
            Role::PolicyOfficer | Role::Administrator => Anchor::City,
            Role::Citizen => Anchor::Own,
        }
    }

    /// The permissions of the role. Deny by default: anything not listed is refused.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Caseworker => &[
                ViewOffice,
                SearchPeople,
                ViewPerson,
                RegisterPerson,
                RevealId,
                EditPerson,
                RequestPrograms,
                WriteNotes,
                WithdrawRequests,
                ReferPeople,
            ],
            Role::OfficeSupervisor => &[
                ViewOffice,
                ViewOfficeStaff,
                SearchPeople,
                ViewPerson,
                RegisterPerson,
                RevealId,
                EditPerson,
                ReviewDuplicates,
                RequestPrograms,
                OverrideEligibility,
                WriteNotes,
                WithdrawRequests,
                ReferPeople,
            ],
            Role::AgencyStaff => &[ViewAgency, DecideRequests, WriteNotes, ReferPeople],
            Role::AgencyHead => &[
                ViewAgency,
                ViewAgencyStaff,
                DecideRequests,
                WriteNotes,
                ReferPeople,
            ],
            Role::PolicyOfficer => &[ViewAggregates],
            Role::Administrator => &[ManageStaff, ManageSessions, ManageRules],
            Role::Citizen => &[],
        }
    }

    pub fn has(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// Where the role lands after signing in.
    pub fn home(self) -> &'static str {
        match self.anchor() {
            Anchor::Office => "/oficina",
            Anchor::Agency => "/agencia",
            Anchor::City if self == Role::Administrator => "/admin",
            Anchor::City => "/politica",
            Anchor::Own => "/",
        }
    }
}

/// What a role's scope is anchored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Office,
    Agency,
    City,
    Own,
}

/// Something a role may do. Every server function and every route names one (or is public),
/// in [`crate::policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// The office's work screen.
    ViewOffice,
    /// The staff of the office.
    ViewOfficeStaff,
    /// The agency's work screen and its programs.
    ViewAgency,
    /// The staff of the agency.
    ViewAgencyStaff,
    /// Aggregate figures; never a person.
    ViewAggregates,
    /// Create, change, disable staff accounts and reset their passwords.
    ManageStaff,
    /// List and end anyone's sessions.
    ManageSessions,
    /// Edit program rule versions (drafts) and publish those whose test cases pass.
    ManageRules,
    /// Find people in the registry (by CURP, card, or name and birth date). The registry is
    /// one for the city: people are served at whichever office they come to.
    SearchPeople,
    /// Open a person's profile (audited).
    ViewPerson,
    /// Register a new person.
    RegisterPerson,
    /// Read an ID number in full (audited); screens otherwise show it masked.
    RevealId,
    /// Edit a profile, record facts, add relatives (each change audited and versioned).
    EditPerson,
    /// Review probable duplicates: merge, mark distinct, undo a merge (office supervisors).
    ReviewDuplicates,
    /// Evaluate a person's life events and request programs for them (audited).
    RequestPrograms,
    /// Request a program the rules do not find eligible, with a reason (office supervisors).
    OverrideEligibility,
    /// Work the agency's queue: open a request (audited), take it, move it through the status
    /// machine with a reason code.
    DecideRequests,
    /// Add case notes (append-only, encrypted; restricted ones stay within the author's agency or
    /// office).
    WriteNotes,
    /// Record that a person withdraws a request before it is approved (at an office).
    WithdrawRequests,
    /// Refer a person to another agency's program with a reason (the receiving agency accepts
    /// or declines it with `DecideRequests`).
    ReferPeople,
}

/// Who is acting: taken from the server-side session, never from the request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub staff_id: i32,
    pub role: Role,
    pub agency_id: Option<i32>,
    pub office_id: Option<i32>,
}

/// Where an object lives, for the scope check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Belongs to no office or agency (configuration, the catalog).
    City,
    Office(i32),
    Agency(i32),
}

/// The part of the city an actor reaches with a permission: the predicate of every query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    City,
    Office(i32),
    Agency(i32),
    /// Holds the permission but has no anchor (a misconfigured account): sees nothing.
    Nothing,
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The role lacks the permission (403).
    Forbidden,
    /// The object is outside the actor's reach (404: its existence is not revealed).
    NotFound,
}

impl Actor {
    /// The reach of this actor for a permission it holds (the caller checked it holds it).
    pub fn reach(&self) -> Reach {
        match self.role.anchor() {
            Anchor::City => Reach::City,
            Anchor::Office => self.office_id.map_or(Reach::Nothing, Reach::Office),
            Anchor::Agency => self.agency_id.map_or(Reach::Nothing, Reach::Agency),
            Anchor::Own => Reach::Nothing,
        }
    }
}

impl Reach {
    /// True when the object is inside this reach.
    pub fn covers(self, scope: Scope) -> bool {
        match (self, scope) {
            (Reach::City, _) => true,
            (Reach::Office(mine), Scope::Office(its)) => mine == its,
            (Reach::Agency(mine), Scope::Agency(its)) => mine == its,
            _ => false,
        }
    }
}

/// The policy. `object` is `None` for an action on a collection (the query is then built from
/// [`Actor::reach`]), or the scope of the one object acted on.
///
/// # Errors
/// [`Denied::Forbidden`] when the role lacks the permission, [`Denied::NotFound`] when the object
/// is out of reach.
pub fn authorize(
    actor: &Actor,
    permission: Permission,
    object: Option<Scope>,
) -> Result<Reach, Denied> {
    if !actor.role.has(permission) {
        return Err(Denied::Forbidden);
    }
    let reach = actor.reach();
    match object {
        Some(scope) if !reach.covers(scope) => Err(Denied::NotFound),
        _ => Ok(reach),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, office: Option<i32>, agency: Option<i32>) -> Actor {
        Actor {
            staff_id: 1,
            role,
            agency_id: agency,
            office_id: office,
        }
    }

    #[test]
    fn codes_round_trip() {
        for role in Role::STAFF.into_iter().chain([Role::Citizen]) {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        assert_eq!(Role::from_code("root"), None);
    }

    #[test]
    fn a_role_without_the_permission_is_forbidden() {
        let caseworker = actor(Role::Caseworker, Some(1), None);
        assert_eq!(
            authorize(&caseworker, Permission::ManageStaff, None),
            Err(Denied::Forbidden)
        );
        let admin = actor(Role::Administrator, None, None);
        assert_eq!(
            authorize(&admin, Permission::ViewOffice, None),
            Err(Denied::Forbidden)
        );
        let policy = actor(Role::PolicyOfficer, None, None);
        assert_eq!(
            authorize(&policy, Permission::ViewOfficeStaff, None),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn objects_outside_the_reach_are_not_found() {
        let supervisor = actor(Role::OfficeSupervisor, Some(1), None);
        assert_eq!(
            authorize(
                &supervisor,
                Permission::ViewOfficeStaff,
                Some(Scope::Office(1))
            ),
            Ok(Reach::Office(1))
        );
        assert_eq!(
            authorize(
                &supervisor,
                Permission::ViewOfficeStaff,
                Some(Scope::Office(2))
            ),
            Err(Denied::NotFound)
        );
        let head = actor(Role::AgencyHead, None, Some(7));
        assert_eq!(
            authorize(&head, Permission::ViewAgency, Some(Scope::Agency(7))),
            Ok(Reach::Agency(7))
        );
        assert_eq!(
            authorize(&head, Permission::ViewAgency, Some(Scope::Agency(8))),
            Err(Denied::NotFound)
        );
        assert_eq!(
            authorize(&head, Permission::ViewAgency, Some(Scope::City)),
            Err(Denied::NotFound)
        );
    }

    #[test]
    fn an_unanchored_account_reaches_nothing() {
        let broken = actor(Role::Caseworker, None, None);
        assert_eq!(broken.reach(), Reach::Nothing);
        assert_eq!(
            authorize(&broken, Permission::ViewOffice, Some(Scope::Office(1))),
            Err(Denied::NotFound)
        );
    }

    #[test]
    fn every_staff_role_has_a_home_it_may_open() {
        for role in Role::STAFF {
            assert!(role.home().starts_with('/'));
            assert!(!role.permissions().is_empty(), "{role:?} can do nothing");
        }
    }
}
