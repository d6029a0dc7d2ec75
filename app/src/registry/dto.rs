//! What the registry screens receive. Built by the services from the stored rows; ID numbers
//! arrive masked (a full one only through the audited reveal).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// A person in a list of search results or duplicate candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonHit {
    pub id: i32,
    /// Grouped for reading: `1234 5678 90`.
    pub card_number: String,
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    pub borough: String,
    pub masked_curp: Option<String>,
    /// Part of the synthetic demo population.
    pub synthetic: bool,
}

/// A probable duplicate: how alike, and which fields agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub person: PersonHit,
    /// Name similarity, 0–100 (Jaro-Winkler over the normalized names).
    pub score: u8,
    /// Field codes that agree: `birth_date`, `first_surname`, `second_surname`,
    /// `given_names`, `sex`, `borough`.
    pub agreeing: Vec<String>,
}

/// An ID number as the profile shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedId {
    /// `curp`, `ine`, `nss`, `rfc`, `passport`.
    pub kind: String,
    pub masked: String,
}

/// The identity part of a person's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: i32,
    pub version: i32,
    pub card_number: String,
    pub given_names: String,
    pub first_surname: String,
    pub second_surname: Option<String>,
    pub birth_date: String,
    pub age: i32,
    /// `H`, `M`, `X`.
    pub sex: String,
    pub birth_state: String,
    pub borough: String,
    pub borough_code: String,
    pub colonia: String,
    pub postal_code: String,
    pub street: Option<String>,
    pub phone: Option<String>,
    pub residence_since: Option<String>,
    pub ids: Vec<MaskedId>,
    pub has_curp: bool,
    /// `active`, `merged`, `deceased`.
    pub status: String,
    pub merged_into: Option<i32>,
    pub synthetic: bool,
    /// Where the CURP disagrees with the profile (field + code), shown as warnings.
    pub warnings: Vec<FieldError>,
    /// `YYYY-MM-DD HH:MM` UTC.
    pub registered_at: String,
    pub circle: Circle,
}

/// A relative on the profile, as seen from the profile's person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelativeRow {
    pub id: i32,
    pub full_name: String,
    /// `parent_of`, `child_of`, `guardian_of`, `ward_of`, `spouse_of`.
    pub relation: String,
    pub age: i32,
}

/// A fact as recorded. The newest of each kind comes first and is the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactRow {
    pub kind: String,
    pub value: String,
    /// `YYYY-MM-DD`.
    pub as_of: String,
    pub source: String,
    pub verified: bool,
    /// Superseded by a newer fact of the same kind.
    pub superseded: bool,
}

/// One saved edit: when, by whom, and the fields it changed with their old and new values
/// (`None` for ID numbers and contact details, which are named but not copied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub version: i32,
    /// `YYYY-MM-DD HH:MM` UTC.
    pub at: String,
    pub by: String,
    pub fields: Vec<(String, Option<String>, Option<String>)>,
}

/// Everything around a person: household, relatives, facts, history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Circle {
    pub relatives: Vec<RelativeRow>,
    /// Other members of the person's household who are not among the relatives.
    pub household: Vec<PersonHit>,
    pub facts: Vec<FactRow>,
    pub history: Vec<ChangeRow>,
}

/// The printable card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardData {
    pub id: i32,
    pub full_name: String,
    /// Grouped: `1234 5678 90`.
    pub card_number: String,
    /// An SVG QR code of the card's opaque URL (no personal data in it).
    pub qr_svg: String,
    pub synthetic: bool,
}

/// One side of a duplicate pair, as the review screen compares them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairSide {
    pub id: i32,
    pub card_number: String,
    pub masked_curp: Option<String>,
    /// `active`, `merged`, `deceased`.
    pub status: String,
    pub synthetic: bool,
    /// (field code, value) for each of `merge::MERGE_FIELDS`.
    pub fields: Vec<(String, String)>,
    pub relatives: usize,
    pub facts: usize,
}

/// A pair of profiles that may be one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    pub id: i32,
    pub score: u8,
    pub agreeing: Vec<String>,
    /// `pending`, `merged`, `distinct`.
    pub status: String,
    pub reason: Option<String>,
    pub a: PairSide,
    pub b: PairSide,
    /// A merge of this pair that can be undone.
    pub undoable: bool,
}

/// A pending pair in the supervisor's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairRow {
    pub id: i32,
    pub score: u8,
    pub agreeing: Vec<String>,
    pub a: String,
    pub b: String,
    /// `YYYY-MM-DD`.
    pub found: String,
}
