//! The registry: find, register and show people. ID numbers are sealed by the vault before they
//! reach a query and found only through their blind index; every search and view appends an
//! audit event; registration writes the person, their sealed data and the event in one
//! transaction.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use angel_entity::{borough, person, person_contact, person_identifier};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::{Rng as _, RngCore as _};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{self, NotSet},
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::super::{
    AppState, ServiceError,
    audit::{AuditTx, NewEvent},
    auth::SignedIn,
    vault::{Slot, Vault},
};
use crate::domain::{
    card,
    curp::{Curp, Date},
    names,
};
use crate::error::FieldError;
use crate::registry::{
    dto::{Candidate, MaskedId, PersonHit, Profile},
    facts::Relation,
    forms::{self, IdKind, PersonForm, Search, ValidPerson},
};

/// Candidates below this name similarity (Jaro-Winkler, 0–1) are not shown.
pub const THRESHOLD: f64 = 0.85;
/// At most this many people are read from one blocking key.
const BLOCK_LIMIT: usize = 500;
/// At most this many candidates are shown.
const SHOWN: usize = 10;

pub(crate) const IDENTIFIER: &str = "person_identifier";
pub(crate) const CONTACT: &str = "person_contact";

/// Today in Mexico City's calendar terms (UTC date; the difference is hours at midnight).
pub fn today(now: DateTime<Utc>) -> Date {
    to_date(now.date_naive())
}

/// A calendar date of the domain from chrono's.
pub fn to_date(d: NaiveDate) -> Date {
    Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    }
}

/// chrono's date from a calendar date of the domain (always a real date).
pub fn to_naive(d: Date) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year, d.month, d.day).expect("a validated date")
}

pub(crate) fn field(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

/// The parts of a name duplicate scoring compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    pub first: String,
    pub second: String,
    pub given: String,
}

impl NameParts {
    pub fn new(given: &str, first: &str, second: &str) -> NameParts {
        let fold = |s: &str| names::match_words(s).join(" ");
        NameParts {
            first: fold(first),
            second: fold(second),
            given: fold(given),
        }
    }

    pub(crate) fn of(p: &person::Model) -> NameParts {
        NameParts::new(
            &p.given_names,
            &p.first_surname,
            p.second_surname.as_deref().unwrap_or(""),
        )
    }

    /// The parts of a validated person's names (an intake form's, an imported row's).
    pub(crate) fn of_valid(v: &ValidPerson) -> NameParts {
        NameParts::new(
            &v.given_names,
            &v.first_surname,
            v.second_surname.as_deref().unwrap_or(""),
        )
    }
}

fn joined(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The strings [`similarity`] compares of a name: the full name in the name key's order (first
/// surname, second surname, given names), the surnames swapped, and the second surname left
/// out.
struct Compared {
    direct: String,
    swapped: String,
    without_second: String,
}

impl Compared {
    fn of(parts: &NameParts) -> Compared {
        Compared {
            direct: joined(&[&parts.first, &parts.second, &parts.given]),
            swapped: joined(&[&parts.second, &parts.first, &parts.given]),
            without_second: joined(&[&parts.first, &parts.given]),
        }
    }
}

/// How alike two names are, 0–1: Jaro-Winkler over the normalized full names, also trying the
/// surnames swapped and the second surname left out (the common ways one person is registered
/// twice).
pub fn similarity(a: &NameParts, b: &NameParts) -> f64 {
    let (ours, theirs) = (Compared::of(a), Compared::of(b));
    let direct = strsim::jaro_winkler(&ours.direct, &theirs.direct);
    let swapped = strsim::jaro_winkler(&ours.swapped, &theirs.direct);
    let without_second = if a.second.is_empty() || b.second.is_empty() {
        strsim::jaro_winkler(&ours.without_second, &theirs.without_second)
    } else {
        0.0
    };
    direct.max(swapped).max(without_second)
}

/// An opened ID as screens show it: a CURP by its own rule (`GODE************00`), anything
/// else with its last three characters.
pub(crate) fn masked_id(kind: &str, value: &str) -> String {
    if kind == IdKind::Curp.code()
        && let Some(curp) = stored_curp(value)
    {
        return curp.masked();
    }
    mask(value)
}

/// A stored CURP, parsed without the "not in the future" rule (it was checked at registration).
fn stored_curp(value: &str) -> Option<Curp> {
    Curp::parse(value, Date::new(9999, 12, 31).expect("a date")).ok()
}

fn mask(value: &str) -> String {
    let n = value.chars().count();
    let shown = 3.min(n);
    let tail: String = value.chars().skip(n - shown).collect();
    format!("{}{tail}", "•".repeat(n - shown))
}

pub(crate) fn full_name(p: &person::Model) -> String {
    joined(&[
        &p.given_names,
        &p.first_surname,
        p.second_surname.as_deref().unwrap_or(""),
    ])
}

/// The CURP of a person, opened from its envelope (for masking or an audited reveal).
pub(crate) async fn open_identifier(
    state: &AppState,
    row: &person_identifier::Model,
) -> Result<zeroize::Zeroizing<String>, ServiceError> {
    let slot = Slot::new(IDENTIFIER, &row.kind, i64::from(row.person_id));
    match state.vault.open_text(slot, &row.envelope) {
        Ok(text) => Ok(text),
        Err(error) => {
            integrity_event(state, row.person_id, &row.kind, error).await;
            Err(ServiceError::Internal("an envelope failed to open"))
        }
    }
}

/// An envelope that does not open (tampered, moved or a wrong key) is audited in a transaction
/// of its own, so the record survives the failed request. Never includes the data.
pub(crate) async fn integrity_event(
    state: &AppState,
    person_id: i32,
    column: &str,
    error: crate::ssr::vault::VaultError,
) {
    tracing::error!(person_id, column, %error, "vault integrity failure");
    let event = NewEvent::new("vault.integrity", state.clock.now())
        .subject("person", person_id)
        .detail(serde_json::json!({ "column": column, "error": error.to_string() }));
    if let Ok(tx) = state.audit.begin(&state.db).await
        && tx.record(event).await.is_ok()
    {
        let _ = tx.commit().await;
    }
}

/// The key version new envelopes are sealed with.
pub(crate) fn key_version(state: &AppState) -> i32 {
    i32::try_from(state.vault.active_version()).expect("small versions")
}

/// A person's contact row: street and phone sealed to their row id.
pub(crate) fn contact_row(
    state: &AppState,
    person_id: i32,
    street: Option<&str>,
    phone: Option<&str>,
) -> person_contact::ActiveModel {
    let seal = |column: &str, text: Option<&str>| {
        text.map(|t| {
            state.vault.seal(
                Slot::new(CONTACT, column, i64::from(person_id)),
                t.as_bytes(),
            )
        })
    };
    person_contact::ActiveModel {
        person_id: Set(person_id),
        street_envelope: Set(seal("street", street)),
        phone_envelope: Set(seal("phone", phone)),
        key_version: Set(key_version(state)),
    }
}

/// A new ID number row: sealed to the person's row id, with its blind index.
pub(crate) fn identifier_row(
    state: &AppState,
    person_id: i32,
    kind: IdKind,
    value: &str,
    now: DateTime<Utc>,
) -> person_identifier::ActiveModel {
    person_identifier::ActiveModel {
        id: NotSet,
        person_id: Set(person_id),
        kind: Set(kind.code().to_owned()),
        envelope: Set(state.vault.seal(
            Slot::new(IDENTIFIER, kind.code(), i64::from(person_id)),
            value.as_bytes(),
        )),
        blind_index: Set(state.vault.blind_index(kind.code(), value)),
        key_version: Set(key_version(state)),
        created_at: Set(now),
    }
}

/// Street and phone in clear. An envelope that does not open is audited and refused.
pub(crate) async fn opened_contact(
    state: &AppState,
    person_id: i32,
    contact: Option<&person_contact::Model>,
) -> Result<(Option<String>, Option<String>), ServiceError> {
    let Some(c) = contact else {
        return Ok((None, None));
    };
    let open = |column: &str, envelope: Option<&Vec<u8>>| {
        envelope
            .map(|e| {
                state
                    .vault
                    .open_text(Slot::new(CONTACT, column, i64::from(person_id)), e)
                    .map(|t| t.to_string())
            })
            .transpose()
    };
    match (
        open("street", c.street_envelope.as_ref()),
        open("phone", c.phone_envelope.as_ref()),
    ) {
        (Ok(street), Ok(phone)) => Ok((street, phone)),
        (Err(e), _) | (_, Err(e)) => {
            integrity_event(state, person_id, "contact", e).await;
            Err(ServiceError::Internal("an envelope failed to open"))
        }
    }
}

async fn borough_names(
    db: &impl ConnectionTrait,
) -> Result<std::collections::HashMap<i32, (String, String)>, ServiceError> {
    Ok(borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, (b.inegi_code, b.name)))
        .collect())
}

async fn masked_curps(
    state: &AppState,
    ids: &[i32],
) -> Result<std::collections::HashMap<i32, String>, ServiceError> {
    let rows = person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.is_in(ids.iter().copied()))
        .filter(person_identifier::Column::Kind.eq("curp"))
        .all(&state.db)
        .await?;
    let mut out = std::collections::HashMap::new();
    for row in rows {
        let curp = open_identifier(state, &row).await?;
        out.insert(row.person_id, masked_id(&row.kind, &curp));
    }
    Ok(out)
}

pub(crate) async fn hits(
    state: &AppState,
    people: &[person::Model],
) -> Result<Vec<PersonHit>, ServiceError> {
    let boroughs = borough_names(&state.db).await?;
    let ids: Vec<i32> = people.iter().map(|p| p.id).collect();
    let curps = masked_curps(state, &ids).await?;
    Ok(people
        .iter()
        .map(|p| PersonHit {
            id: p.id,
            card_number: card::grouped(&p.card_number),
            full_name: full_name(p),
            birth_date: p.birth_date.to_string(),
            borough: boroughs
                .get(&p.borough_id)
                .map(|b| b.1.clone())
                .unwrap_or_default(),
            masked_curp: curps.get(&p.id).cloned(),
            synthetic: p.synthetic,
        })
        .collect())
}

/// Follows merge tombstones to the surviving profile.
pub(crate) async fn survivor(
    db: &impl ConnectionTrait,
    mut p: person::Model,
) -> Result<person::Model, ServiceError> {
    for _ in 0..16 {
        match p.merged_into {
            Some(next) => {
                p = person::Entity::find_by_id(next)
                    .one(db)
                    .await?
                    .ok_or(ServiceError::NotFound)?;
            }
            None => return Ok(p),
        }
    }
    Err(ServiceError::Internal("a merge chain longer than 16"))
}

/// The person holding this CURP (through its blind index), if any.
pub async fn by_curp(
    vault: &Vault,
    db: &impl ConnectionTrait,
    curp: &Curp,
) -> Result<Option<person::Model>, ServiceError> {
    let bidx = vault.blind_index(IdKind::Curp.code(), curp.as_str());
    // One round trip: the person whose identifier has this blind index.
    let holder = sea_orm::sea_query::Query::select()
        .column(person_identifier::Column::PersonId)
        .from(person_identifier::Entity)
        .and_where(person_identifier::Column::Kind.eq("curp"))
        .and_where(person_identifier::Column::BlindIndex.eq(bidx))
        .to_owned();
    match person::Entity::find()
        .filter(person::Column::Id.in_subquery(holder))
        .one(db)
        .await?
    {
        Some(p) => Ok(Some(survivor(db, p).await?)),
        None => Ok(None),
    }
}

/// The person holding this card number (the survivor of a merge), if any.
pub async fn by_card(
    db: &impl ConnectionTrait,
    number: &str,
) -> Result<Option<person::Model>, ServiceError> {
    match person::Entity::find()
        .filter(person::Column::CardNumber.eq(number))
        .one(db)
        .await?
    {
        Some(p) => Ok(Some(survivor(db, p).await?)),
        None => Ok(None),
    }
}

/// Birth dates that a typo could turn into each other: two of year, month and day equal, day
/// and month transposed (05/10 for 10/05), or a day apart across a month or year boundary.
fn near_date(a: Date, b: Date) -> bool {
    let two_parts = [a.year == b.year, a.month == b.month, a.day == b.day]
        .iter()
        .filter(|same| **same)
        .count()
        >= 2;
    let transposed = a.year == b.year && a.month == b.day && a.day == b.month;
    let next_door = (to_naive(a) - to_naive(b)).num_days().abs() <= 1;
    two_parts || transposed || next_door
}

/// Probable duplicates of a person about to be registered: blocking on the same birth date, and
/// on the same normalized name with a birth date that differs in one part (a typo), by a day, or
/// has day and month transposed, scored by [`similarity`]. The one-person case of [`Blocked`].
pub async fn probable_duplicates(
    db: &impl ConnectionTrait,
    parts: &NameParts,
    birth_date: Date,
    name_key: &str,
) -> Result<Vec<(person::Model, f64)>, ServiceError> {
    Ok(Blocked::read(db, [(parts, birth_date, name_key)])
        .await?
        .probable(parts, birth_date, name_key))
}

/// Positions of people by birth date and by name key: the registry's blocking, so that a person
/// is compared only with those sharing either. Keys are owned, or borrowed from the text a
/// blocking read returned.
pub(crate) struct Blocks<K = String> {
    by_date: BTreeMap<Date, Vec<usize>>,
    by_key: HashMap<K, Vec<usize>>,
}

impl<K> Default for Blocks<K> {
    fn default() -> Self {
        Blocks {
            by_date: BTreeMap::new(),
            by_key: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Borrow<str>> Blocks<K> {
    pub(crate) fn add(&mut self, position: usize, birth_date: Date, name_key: K) {
        self.by_date.entry(birth_date).or_default().push(position);
        self.by_key.entry(name_key).or_default().push(position);
    }

    /// The positions sharing the birth date or the name key, in order, each once.
    pub(crate) fn sharing(&self, birth_date: Date, name_key: &str) -> BTreeSet<usize> {
        self.by_date
            .get(&birth_date)
            .into_iter()
            .chain(self.by_key.get(name_key))
            .flatten()
            .copied()
            .collect()
    }
}

/// Bound values per blocking statement: far below both engines' limits.
const BLOCK_VALUES: usize = 1_000;

/// Separators of the people of one blocking value, read as one text: between fields, between
/// people. Control characters, which no stored name holds (`forms` refuses them in every name;
/// name keys and dates are made of letters, digits, spaces and dashes).
const FIELD: char = '\u{1f}';
const PERSON: char = '\u{1e}';

/// One blocking value's people as one text, `id, birth date, name key, given names, first
/// surname, second surname` joined by [`FIELD`] and people by [`PERSON`]: a crowded birth date
/// comes back as one row, not dozens.
#[derive(FromQueryResult)]
struct Block {
    people: String,
}

/// What blocking reads of each person first, borrowed from their [`Block`]'s text: enough to
/// decide whether their names may be alike, six of the row's 23 columns.
struct Sketch<'t> {
    id: i32,
    birth_date: Date,
    name_key: &'t str,
    given_names: &'t str,
    first_surname: &'t str,
    second_surname: &'t str,
    letters: Letters,
}

impl<'t> Sketch<'t> {
    fn parse(record: &'t str) -> Option<Sketch<'t>> {
        let mut fields = record.split(FIELD);
        let id = fields.next()?.parse().ok()?;
        let birth_date = to_date(fields.next()?.parse::<NaiveDate>().ok()?);
        let name_key = fields.next()?;
        let given_names = fields.next()?;
        let first_surname = fields.next()?;
        let second_surname = fields.next()?;
        fields.next().is_none().then(|| Sketch {
            id,
            birth_date,
            name_key,
            given_names,
            first_surname,
            second_surname,
            letters: Letters::of(name_key),
        })
    }

    fn parts(&self) -> NameParts {
        NameParts::new(self.given_names, self.first_surname, self.second_surname)
    }
}

/// The characters of a folded name counted (A to Z, the space, anything else together), for
/// [`jaro_winkler_at_most`].
struct Letters {
    count: [u32; 28],
    len: usize,
}

impl Letters {
    fn of(text: &str) -> Letters {
        let mut count = [0u32; 28];
        let mut len = 0;
        for c in text.chars() {
            len += 1;
            let slot = match c {
                'A'..='Z' => c as usize - 'A' as usize,
                ' ' => 26,
                _ => 27,
            };
            count[slot] += 1;
        }
        Letters { count, len }
    }

    /// How many characters the two have in common, counted with repetition: at least the
    /// matches Jaro can find between them (counting every other character as one only adds).
    fn shared(&self, other: &Letters) -> usize {
        self.count
            .iter()
            .zip(&other.count)
            .map(|(a, b)| (*a).min(*b) as usize)
            .sum()
    }
}

/// At least `strsim::jaro_winkler(a, b)`, without comparing them position by position: Jaro
/// finds at most the characters they share as matches, and at best no transpositions; the
/// Winkler boost (0.1 per character of a common prefix of up to 4) grows with Jaro.
fn jaro_winkler_at_most(a: &str, a_letters: &Letters, b: &str, b_letters: &Letters) -> f64 {
    if a_letters.len == 0 || b_letters.len == 0 {
        return 1.0;
    }
    let shared = a_letters.shared(b_letters) as f64;
    let jaro = if shared == 0.0 {
        0.0
    } else {
        (shared / a_letters.len as f64 + shared / b_letters.len as f64 + 1.0) / 3.0
    };
    let prefix = a
        .chars()
        .take(4)
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .count();
    jaro + 0.1 * prefix as f64 * (1.0 - jaro)
}

/// Below this bound, a score cannot reach [`THRESHOLD`] (the margin covers floating-point
/// rounding between the bound and the score).
const OUT_OF_REACH: f64 = THRESHOLD - 1e-9;

/// A person about to be registered, ready to be compared with the many that blocking reads: the
/// strings [`similarity`] compares of theirs, and their letters.
struct Probe<'w> {
    parts: &'w NameParts,
    birth_date: Date,
    name_key: &'w str,
    compared: Compared,
    /// The letters of `compared.direct`, which `compared.swapped` shares (the same words in
    /// another order).
    letters: Letters,
    without_second_letters: Letters,
}

impl<'w> Probe<'w> {
    fn new(parts: &'w NameParts, birth_date: Date, name_key: &'w str) -> Probe<'w> {
        let compared = Compared::of(parts);
        Probe {
            parts,
            birth_date,
            name_key,
            letters: Letters::of(&compared.direct),
            without_second_letters: Letters::of(&compared.without_second),
            compared,
        }
    }

    /// False only when [`likely_same`] is sure to say no, judged without folding their names:
    /// their name key is their names folded and joined as [`similarity`] joins them (first
    /// surname, second surname, given names), so the bounds of [`jaro_winkler_at_most`] on it
    /// hold for the scores.
    fn may_match(&self, theirs: &Sketch) -> bool {
        if self.birth_date != theirs.birth_date {
            // Blocked by the name key alone: `likely_same` needs the same key. Rare; scored.
            return self.name_key == theirs.name_key;
        }
        let reaches = |ours: &str, letters: &Letters| {
            jaro_winkler_at_most(ours, letters, theirs.name_key, &theirs.letters) >= OUT_OF_REACH
        };
        if reaches(&self.compared.direct, &self.letters)
            || reaches(&self.compared.swapped, &self.letters)
        {
            return true;
        }
        // The third score leaves both second surnames out.
        match (
            self.parts.second.is_empty(),
            names::has_match_words(theirs.second_surname),
        ) {
            // Theirs without a second surname is their name key.
            (_, false) => reaches(&self.compared.without_second, &self.without_second_letters),
            // Not bounded from their key: scored.
            (true, true) => true,
            // Not compared by `similarity`.
            (false, true) => false,
        }
    }
}

/// Active people who are probably one of people about to be registered (their names, birth date
/// and name key), read with a few statements whatever their number: an import asks once for a
/// whole chunk of new people.
///
/// Blocking reads, with one statement per blocking column and [`BLOCK_VALUES`] values, the names
/// of those sharing a birth date or a name key, at most [`BLOCK_LIMIT`] per birth date and per name
/// key, the lowest ids first. Only those [`likely_same`] as someone wanted are then read whole:
/// when an import has written a million people, a chunk of 2,000 shares its birth dates with tens
/// of thousands of them, and a few hundred at most are probable duplicates.
pub struct Blocked {
    people: Vec<(person::Model, NameParts)>,
    blocks: Blocks,
}

impl Blocked {
    /// Reads for `wanted`: the names, birth date and name key of each person about to be
    /// registered. [`Blocked::probable`] then answers for any one of them.
    ///
    /// # Errors
    /// Database errors.
    pub async fn read<'k>(
        db: &impl ConnectionTrait,
        wanted: impl IntoIterator<Item = (&'k NameParts, Date, &'k str)>,
    ) -> Result<Blocked, ServiceError> {
        let wanted: Vec<(&NameParts, Date, &str)> = wanted.into_iter().collect();
        let dates: BTreeSet<Date> = wanted.iter().map(|w| w.1).collect();
        let keys: BTreeSet<&str> = wanted.iter().map(|w| w.2).collect();
        let dates: Vec<sea_orm::Value> = dates.into_iter().map(|d| to_naive(d).into()).collect();
        let keys: Vec<sea_orm::Value> = keys.into_iter().map(Into::into).collect();

        let mut texts: Vec<(usize, String)> = Vec::new();
        for (through, (column, values)) in [("birth_date", dates), ("name_key", keys)]
            .into_iter()
            .enumerate()
        {
            for piece in values.chunks(BLOCK_VALUES) {
                let marks = vec!["?"; piece.len()].join(", ");
                // Ranked within each value so that one crowded date or name reads at most
                // BLOCK_LIMIT people, as a per-person LIMIT would. A date cast to text is ISO
                // on both engines (SQLite stores it so; sqlx sets PostgreSQL's DateStyle to
                // ISO); any other form fails `Sketch::parse`, never misreads.
                let text = format!(
                    "SELECT STRING_AGG(CAST(id AS TEXT) || '{FIELD}' || CAST(birth_date AS TEXT) \
                     || '{FIELD}' || name_key || '{FIELD}' || given_names || '{FIELD}' || \
                     first_surname || '{FIELD}' || COALESCE(second_surname, ''), '{PERSON}') \
                     AS people FROM (SELECT id, birth_date, name_key, given_names, \
                     first_surname, second_surname, ROW_NUMBER() OVER (PARTITION BY {column} \
                     ORDER BY id) AS block_rank FROM person WHERE status = 'active' AND \
                     {column} IN ({marks})) AS blocked WHERE block_rank <= {BLOCK_LIMIT} \
                     GROUP BY {column}"
                );
                let statement = super::jobs::sql(db, &text, piece.to_vec());
                for block in Block::find_by_statement(statement).all(db).await? {
                    texts.push((through, block.people));
                }
            }
        }

        let mut sketches: Vec<Sketch> = Vec::new();
        let mut blocks: Blocks<&str> = Blocks::default();
        let mut seen: HashSet<i32> = HashSet::new();
        let mut read_through = [0usize; 2];
        for (through, text) in &texts {
            for record in text.split(PERSON) {
                let sketch = Sketch::parse(record).ok_or(ServiceError::Internal(
                    "a blocked person's row did not parse",
                ))?;
                read_through[*through] += 1;
                // Read through both its birth date and its name key: kept once.
                if !seen.insert(sketch.id) {
                    continue;
                }
                blocks.add(sketches.len(), sketch.birth_date, sketch.name_key);
                sketches.push(sketch);
            }
        }

        let mut likely: BTreeSet<i32> = BTreeSet::new();
        let mut scored = 0usize;
        for probe in wanted
            .iter()
            .map(|&(p, date, key)| Probe::new(p, date, key))
        {
            for i in blocks.sharing(probe.birth_date, probe.name_key) {
                let theirs = &sketches[i];
                if !probe.may_match(theirs) {
                    continue;
                }
                scored += 1;
                let ours = (probe.parts, probe.birth_date, probe.name_key);
                if likely_same(ours, (&theirs.parts(), theirs.birth_date, theirs.name_key))
                    .is_some()
                {
                    likely.insert(theirs.id);
                }
            }
        }
        // How much blocking reads, for `import_bench` (a debug event: nothing is recorded
        // unless a subscriber asks).
        tracing::debug!(
            name: "blocking",
            by_date = read_through[0],
            by_key = read_through[1],
            scored,
            likely = likely.len(),
        );
        let likely: Vec<i32> = likely.into_iter().collect();
        let mut read = Blocked {
            people: Vec::with_capacity(likely.len()),
            blocks: Blocks::default(),
        };
        for piece in likely.chunks(BLOCK_VALUES) {
            let people = person::Entity::find()
                .filter(person::Column::Id.is_in(piece.iter().copied()))
                .filter(person::Column::Status.eq("active"))
                .order_by_asc(person::Column::Id)
                .all(db)
                .await?;
            for p in people {
                read.blocks
                    .add(read.people.len(), to_date(p.birth_date), p.name_key.clone());
                let parts = NameParts::of(&p);
                read.people.push((p, parts));
            }
        }
        Ok(read)
    }

    /// The people read who are probably the one described (one of those wanted), best score
    /// first.
    pub fn probable(
        &self,
        parts: &NameParts,
        birth_date: Date,
        name_key: &str,
    ) -> Vec<(person::Model, f64)> {
        let mut scored: Vec<(person::Model, f64)> = self
            .blocks
            .sharing(birth_date, name_key)
            .into_iter()
            .filter_map(|i| {
                let (p, theirs) = &self.people[i];
                let score = likely_same(
                    (parts, birth_date, name_key),
                    (theirs, to_date(p.birth_date), &p.name_key),
                )?;
                Some((p.clone(), score))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
        scored
    }
}

/// The registry's duplicate rule for two people (names, birth date, name key): the same birth
/// date or name key (the blocking), a birth date equal or a typo apart, and names at least
/// [`THRESHOLD`] alike. The score when they are probably one person.
pub(crate) fn likely_same(a: (&NameParts, Date, &str), b: (&NameParts, Date, &str)) -> Option<f64> {
    let same_date = a.1 == b.1;
    if !same_date && a.2 != b.2 {
        return None;
    }
    let score = similarity(a.0, b.0);
    (score >= THRESHOLD && (same_date || near_date(a.1, b.1))).then_some(score)
}

pub(crate) fn agreeing(valid: &ValidPerson, borough_id: i32, p: &person::Model) -> Vec<String> {
    let a = NameParts::of_valid(valid);
    let b = NameParts::of(p);
    let mut out = Vec::new();
    if to_date(p.birth_date) == valid.birth_date {
        out.push("birth_date");
    }
    if !a.first.is_empty() && a.first == b.first {
        out.push("first_surname");
    }
    if !a.second.is_empty() && a.second == b.second {
        out.push("second_surname");
    }
    if a.given == b.given {
        out.push("given_names");
    }
    if p.sex == forms::sex_code(valid.sex) {
        out.push("sex");
    }
    if p.borough_id == borough_id {
        out.push("borough");
    }
    out.into_iter().map(str::to_owned).collect()
}

/// What registering did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new profile.
    Created(i32),
    /// The CURP is already registered: this is that person's profile (never a second one).
    Existing(i32),
    /// People who may be the same: the caseworker decides ("it's this person" opens theirs,
    /// "it's someone else" posts again with `confirm=new`).
    Candidates(Vec<Candidate>),
}

pub(crate) fn card_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn new_card_number() -> String {
    // A leading 9 is reserved for the synthetic population (`angel seed --synthetic`).
    let body: [u8; card::LEN - 1] =
        std::array::from_fn(|i| rand::rng().random_range(0..if i == 0 { 9 } else { 10 }));
    card::from_body(body)
}

/// A random card number is taken already (one chance in ~10⁸ per registered person): the
/// UNIQUE constraint refuses the insert and the registration is tried again with another.
pub(crate) fn card_number_taken(error: &ServiceError) -> bool {
    matches!(error, ServiceError::Db(e) if e.to_string().contains("card_number"))
}

/// Card numbers per statement of [`free_card_numbers`].
const CARD_LOOKUP: usize = 1_000;

/// Gives every new person in `rows` a card number that no one has, in the registry or among
/// `rows`, by drawing again those taken. Random numbers collide like birthdays: about
/// n²/1.8·10⁹ times among n people, so six times in 100,000 and hundreds in 1,000,000. Many
/// people written in one statement (a chunk of an import) would then fail together, over and
/// over; they are checked with one read per [`CARD_LOOKUP`] numbers instead. A number taken
/// between this read and the insert (another registration at that moment) still fails the
/// insert ([`card_number_taken`]).
///
/// # Errors
/// Database errors; `Internal` if numbers are still taken after 16 draws (a nearly full range).
pub async fn free_card_numbers(
    db: &impl ConnectionTrait,
    rows: &mut [person::ActiveModel],
) -> Result<(), ServiceError> {
    let number = |row: &person::ActiveModel| match &row.card_number {
        ActiveValue::Set(n) | ActiveValue::Unchanged(n) => n.clone(),
        ActiveValue::NotSet => String::new(),
    };
    let mut drawn: HashSet<String> = HashSet::with_capacity(rows.len());
    let mut check: Vec<usize> = (0..rows.len()).collect();
    for _ in 0..16 {
        for &i in &check {
            while !drawn.insert(number(&rows[i])) {
                rows[i].card_number = Set(new_card_number());
            }
        }
        let numbers: Vec<String> = check.iter().map(|&i| number(&rows[i])).collect();
        let mut taken: HashSet<String> = HashSet::new();
        for part in numbers.chunks(CARD_LOOKUP) {
            taken.extend(
                person::Entity::find()
                    .select_only()
                    .column(person::Column::CardNumber)
                    .filter(person::Column::CardNumber.is_in(part.iter().cloned()))
                    .into_tuple::<String>()
                    .all(db)
                    .await?,
            );
        }
        if taken.is_empty() {
            return Ok(());
        }
        // The taken numbers stay in `drawn`: they are not drawn again.
        check.retain(|&i| taken.contains(&number(&rows[i])));
        for &i in &check {
            rows[i].card_number = Set(new_card_number());
        }
    }
    Err(ServiceError::Internal("no free card numbers were drawn"))
}

/// Where a new profile comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin {
    pub synthetic: bool,
    /// The legacy import run (`legacy_import.id`) that created the profile.
    pub import: Option<i32>,
}

/// Registers a person: validation, the exact duplicate (same CURP → the existing profile),
/// probable duplicates (unless confirmed), then the person, their sealed contact details and
/// ID numbers and the audit event in one transaction.
///
/// # Errors
/// `Invalid` with field errors (nothing written), database errors.
pub async fn register(
    state: &AppState,
    actor: &SignedIn,
    form: &PersonForm,
    request_id: Option<&str>,
) -> Result<Registered, ServiceError> {
    let now = state.clock.now();
    let valid = form.validate(today(now)).map_err(ServiceError::Invalid)?;
    let name_key = valid.name_key();
    let parts = NameParts::of_valid(&valid);
    // Independent reads, each on its own pooled connection: one round trip of latency instead
    // of four (it matters on PostgreSQL over a network).
    let exact = async {
        match &valid.curp {
            Some(curp) => by_curp(&state.vault, &state.db, curp).await,
            None => Ok(None),
        }
    };
    let (b, requested, exact, found) = tokio::try_join!(
        async {
            Ok::<_, ServiceError>(
                borough::Entity::find()
                    .filter(borough::Column::InegiCode.eq(valid.borough.as_str()))
                    .one(&state.db)
                    .await?,
            )
        },
        requested_relation(&state.db, form),
        exact,
        probable_duplicates(&state.db, &parts, valid.birth_date, &name_key),
    )?;
    let Some(b) = b else {
        return Err(ServiceError::Invalid(vec![field(
            "borough",
            "invalid_choice",
        )]));
    };
    if let Some(existing) = exact {
        relate_new(state, actor, requested, existing.id, request_id).await?;
        return Ok(Registered::Existing(existing.id));
    }
    let scored: Vec<(i32, u8, Vec<String>)> = found
        .iter()
        .take(SHOWN)
        .map(|(p, score)| {
            let score = (score * 100.0).round().clamp(0.0, 100.0) as u8;
            (p.id, score, agreeing(&valid, b.id, p))
        })
        .collect();
    if form.confirm != "new" && !found.is_empty() {
        let people: Vec<person::Model> = found.iter().take(SHOWN).map(|(p, _)| p.clone()).collect();
        let listed = hits(state, &people).await?;
        let candidates = scored
            .into_iter()
            .zip(listed)
            .map(|((_, score, agreeing), hit)| Candidate {
                person: hit,
                score,
                agreeing,
            })
            .collect();
        return Ok(Registered::Candidates(candidates));
    }
    match insert(
        state,
        Some(actor),
        &valid,
        b.id,
        Origin::default(),
        request_id,
        form.confirm == "new",
    )
    .await
    {
        Ok(id) => {
            // "Someone else" despite probable duplicates: a supervisor reviews the pairs.
            super::merge::enqueue(&state.db, id, &scored, state.clock.now()).await?;
            relate_new(state, actor, requested, id, request_id).await?;
            Ok(Registered::Created(id))
        }
        Err(error) => {
            // Two caseworkers registering the same CURP at once: the unique blind index refused
            // the second; it gets the first one's profile.
            if let Some(curp) = &valid.curp
                && let Some(existing) = by_curp(&state.vault, &state.db, curp).await?
            {
                return Ok(Registered::Existing(existing.id));
            }
            Err(error)
        }
    }
}

/// Registering from a relative's profile (`relative_of`, `relation` seen from the new person):
/// which active person, and how. Checked before anything is written.
async fn requested_relation(
    db: &impl ConnectionTrait,
    form: &PersonForm,
) -> Result<Option<(i32, Relation)>, ServiceError> {
    if form.relative_of.trim().is_empty() {
        return Ok(None);
    }
    let refused = || ServiceError::Invalid(vec![field("relation", "invalid_choice")]);
    let relative: i32 = form.relative_of.trim().parse().map_err(|_| refused())?;
    let relation = Relation::from_code(form.relation.trim()).ok_or_else(refused)?;
    person::Entity::find_by_id(relative)
        .filter(person::Column::Status.eq("active"))
        .one(db)
        .await?
        .ok_or_else(refused)?;
    Ok(Some((relative, relation)))
}

/// Links the registered (or found) person to the relative whose profile the registration
/// started from, in one household (the usual case at intake: a parent registering children).
async fn relate_new(
    state: &AppState,
    actor: &SignedIn,
    requested: Option<(i32, Relation)>,
    id: i32,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let Some((relative, relation)) = requested else {
        return Ok(());
    };
    match super::profile::link(state, actor, id, relative, relation, true, request_id).await {
        // Already related (registered twice from the same profile): nothing to add.
        Err(ServiceError::Invalid(errors))
            if errors.iter().any(|e| e.code == "relative_exists") =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Inserts a validated person with their sealed data and the audit event, in one transaction.
///
/// # Errors
/// Database errors (a CURP registered meanwhile violates the unique blind index).
pub async fn insert(
    state: &AppState,
    actor: Option<&SignedIn>,
    valid: &ValidPerson,
    borough_id: i32,
    origin: Origin,
    request_id: Option<&str>,
    confirmed_new: bool,
) -> Result<i32, ServiceError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match insert_once(
            state,
            actor,
            valid,
            borough_id,
            origin,
            request_id,
            confirmed_new,
        )
        .await
        {
            Err(error) if attempt < 4 && card_number_taken(&error) => {}
            other => return other,
        }
    }
}

async fn insert_once(
    state: &AppState,
    actor: Option<&SignedIn>,
    valid: &ValidPerson,
    borough_id: i32,
    origin: Origin,
    request_id: Option<&str>,
    confirmed_new: bool,
) -> Result<i32, ServiceError> {
    let tx = state.audit.begin(&state.db).await?;
    let id = insert_in(
        &tx,
        state,
        actor,
        valid,
        borough_id,
        origin,
        request_id,
        confirmed_new,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// [`insert`] inside the caller's audited transaction (the legacy import commits many people
/// at once). A random card number already taken fails the statement: the caller retries.
///
/// # Errors
/// Database errors.
#[allow(clippy::too_many_arguments)]
pub async fn insert_in(
    tx: &AuditTx,
    state: &AppState,
    actor: Option<&SignedIn>,
    valid: &ValidPerson,
    borough_id: i32,
    origin: Origin,
    request_id: Option<&str>,
    confirmed_new: bool,
) -> Result<i32, ServiceError> {
    let now = state.clock.now();
    let db: &sea_orm::DatabaseTransaction = tx;
    let created = person_row(valid, borough_id, origin, actor, now)
        .insert(db)
        .await?;
    let id = created.id;
    if let Some(contact) = contact_of(state, id, valid) {
        contact.insert(db).await?;
    }
    let (identifiers, kinds) = identifier_rows(state, id, valid, now);
    for row in identifiers {
        row.insert(db).await?;
    }
    tx.record(registration_event(
        id,
        &kinds,
        origin,
        actor,
        (request_id, confirmed_new),
        now,
    ))
    .await?;
    Ok(id)
}

/// The row of a new person (a fresh card number and token; the caller inserts it).
pub(crate) fn person_row(
    valid: &ValidPerson,
    borough_id: i32,
    origin: Origin,
    actor: Option<&SignedIn>,
    now: DateTime<Utc>,
) -> person::ActiveModel {
    person::ActiveModel {
        id: NotSet,
        card_number: Set(new_card_number()),
        card_token: Set(card_token()),
        given_names: Set(valid.given_names.clone()),
        first_surname: Set(valid.first_surname.clone()),
        second_surname: Set(valid.second_surname.clone()),
        name_key: Set(valid.name_key()),
        birth_date: Set(to_naive(valid.birth_date)),
        sex: Set(forms::sex_code(valid.sex).to_owned()),
        birth_state: Set(valid.birth_state.clone()),
        borough_id: Set(borough_id),
        colonia: Set(valid.colonia.clone()),
        postal_code: Set(valid.postal_code.clone()),
        residence_since: Set(valid.residence_since.map(to_naive)),
        has_curp: Set(valid.curp.is_some()),
        status: Set("active".to_owned()),
        merged_into: Set(None),
        synthetic: Set(origin.synthetic),
        registered_office_id: Set(actor.and_then(|a| a.actor.office_id)),
        registered_by: Set(actor.map(|a| a.actor.staff_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
}

/// The sealed contact row of new person `id`, when there is a street or a phone.
pub(crate) fn contact_of(
    state: &AppState,
    id: i32,
    valid: &ValidPerson,
) -> Option<person_contact::ActiveModel> {
    (valid.street.is_some() || valid.phone.is_some())
        .then(|| contact_row(state, id, valid.street.as_deref(), valid.phone.as_deref()))
}

/// The sealed ID number rows of new person `id` (the CURP first) and their kinds.
pub(crate) fn identifier_rows(
    state: &AppState,
    id: i32,
    valid: &ValidPerson,
    now: DateTime<Utc>,
) -> (Vec<person_identifier::ActiveModel>, Vec<&'static str>) {
    valid
        .curp
        .iter()
        .map(|c| (IdKind::Curp, c.as_str().to_owned()))
        .chain(valid.other_ids.iter().cloned())
        .map(|(kind, value)| (identifier_row(state, id, kind, &value, now), kind.code()))
        .unzip()
}

/// The `person.registered` event of new person `id` (`request`: the request id, and whether
/// the caseworker confirmed a new person despite probable duplicates).
pub(crate) fn registration_event(
    id: i32,
    kinds: &[&str],
    origin: Origin,
    actor: Option<&SignedIn>,
    (request_id, confirmed_new): (Option<&str>, bool),
    now: DateTime<Utc>,
) -> NewEvent {
    let mut detail = serde_json::json!({
        "ids": kinds, "confirmed_new": confirmed_new, "synthetic": origin.synthetic,
    });
    if let Some(import) = origin.import {
        detail["import"] = import.into();
    }
    let mut event = NewEvent::new("person.registered", now)
        .subject("person", id)
        .request(request_id)
        .detail(detail);
    if let Some(actor) = actor {
        event = event.by(&actor.actor);
    }
    event
}

/// Finds people: by CURP (blind index) or card number (at most one), or by name and birth date
/// (scored). The search is audited with how many people it showed.
///
/// # Errors
/// `Invalid` with field errors, database errors.
pub async fn find(
    state: &AppState,
    actor: &SignedIn,
    form: &forms::SearchForm,
    request_id: Option<&str>,
) -> Result<Vec<PersonHit>, ServiceError> {
    let search = form
        .validate(today(state.clock.now()))
        .map_err(ServiceError::Invalid)?;
    let (by, people) = match &search {
        Search::Curp(curp) => (
            "curp",
            by_curp(&state.vault, &state.db, curp)
                .await?
                .into_iter()
                .collect(),
        ),
        Search::Card(number) => (
            "card",
            by_card(&state.db, number).await?.into_iter().collect(),
        ),
        Search::Name {
            given_names,
            first_surname,
            second_surname,
            birth_date,
        } => {
            let parts = NameParts::new(given_names, first_surname, second_surname);
            let key = names::name_key(given_names, first_surname, second_surname);
            let found = probable_duplicates(&state.db, &parts, *birth_date, &key).await?;
            (
                "name",
                found
                    .into_iter()
                    .filter(|(p, _)| to_date(p.birth_date) == *birth_date)
                    .take(SHOWN)
                    .map(|(p, _)| p)
                    .collect::<Vec<_>>(),
            )
        }
    };
    let listed = hits(state, &people).await?;
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("person.searched", state.clock.now())
            .by(&actor.actor)
            .request(request_id)
            .detail(serde_json::json!({
                "by": by,
                "shown": listed.iter().map(|h| h.id).collect::<Vec<_>>(),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(listed)
}

/// The person whose card carries this QR token, if any.
///
/// # Errors
/// Database errors.
pub async fn by_card_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<i32>, ServiceError> {
    if token.len() != 32 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let found = person::Entity::find()
        .filter(person::Column::CardToken.eq(token))
        .one(db)
        .await?;
    match found {
        Some(p) => Ok(Some(survivor(db, p).await?.id)),
        None => Ok(None),
    }
}

pub(crate) fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A person's profile. Appends a `person.viewed` audit event (who, role, office, purpose).
///
/// # Errors
/// `NotFound`, database errors, `Internal` when an envelope does not open (audited).
pub async fn profile(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    purpose: &str,
    request_id: Option<&str>,
) -> Result<Profile, ServiceError> {
    let p = person::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let boroughs = borough_names(&state.db).await?;
    let (borough_code, borough_name) = boroughs.get(&p.borough_id).cloned().unwrap_or_default();
    let contact = person_contact::Entity::find_by_id(id)
        .one(&state.db)
        .await?;
    let (street, phone) = opened_contact(state, id, contact.as_ref()).await?;
    let rows = person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.eq(id))
        .order_by_asc(person_identifier::Column::Id)
        .all(&state.db)
        .await?;
    let mut ids = Vec::new();
    let mut curp = None;
    for row in &rows {
        let value = open_identifier(state, row).await?;
        if row.kind == IdKind::Curp.code() {
            curp = stored_curp(&value);
        }
        ids.push(MaskedId {
            kind: row.kind.clone(),
            masked: masked_id(&row.kind, &value),
        });
    }
    let warnings = curp.as_ref().map_or_else(Vec::new, |curp| {
        forms::curp_warnings(
            curp,
            &forms::Declared {
                given_names: &p.given_names,
                first_surname: &p.first_surname,
                second_surname: p.second_surname.as_deref().unwrap_or(""),
                birth_date: to_date(p.birth_date),
                sex: forms::sex_from_code(&p.sex),
                birth_state: &p.birth_state,
            },
        )
    });
    let circle = super::profile::circle(state, &p).await?;
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("person.viewed", now)
            .by(&actor.actor)
            .subject("person", id)
            .request(request_id)
            .purpose(purpose),
    )
    .await?;
    tx.commit().await?;
    Ok(Profile {
        id,
        version: p.version,
        card_number: card::grouped(&p.card_number),
        given_names: p.given_names.clone(),
        first_surname: p.first_surname.clone(),
        second_surname: p.second_surname.clone(),
        birth_date: p.birth_date.to_string(),
        age: age_on(p.birth_date, now.date_naive()),
        sex: p.sex.clone(),
        birth_state: p.birth_state.clone(),
        borough: borough_name,
        borough_code,
        colonia: p.colonia.clone(),
        postal_code: p.postal_code.clone(),
        street,
        phone,
        residence_since: p.residence_since.map(|d| d.to_string()),
        ids,
        has_curp: p.has_curp,
        status: p.status.clone(),
        merged_into: p.merged_into,
        synthetic: p.synthetic,
        warnings,
        registered_at: p.created_at.format("%Y-%m-%d %H:%M").to_string(),
        circle,
    })
}

/// The SVG QR code of a text (dark modules on white, 4-module quiet zone).
pub fn qr_svg(text: &str) -> Result<String, ServiceError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| ServiceError::Internal("QR code too long"))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .build())
}

/// The printable card: name, card number and a QR code of `{origin}/oficina/tarjeta/{token}`.
/// Audited as a view with purpose `card`.
///
/// # Errors
/// `NotFound`, database errors.
pub async fn card(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    origin: &str,
    request_id: Option<&str>,
) -> Result<crate::registry::dto::CardData, ServiceError> {
    let p = person::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|p| p.status != "merged")
        .ok_or(ServiceError::NotFound)?;
    let qr = qr_svg(&format!("{origin}/oficina/tarjeta/{}", p.card_token))?;
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("person.viewed", state.clock.now())
            .by(&actor.actor)
            .subject("person", id)
            .request(request_id)
            .purpose("card"),
    )
    .await?;
    tx.commit().await?;
    Ok(crate::registry::dto::CardData {
        id,
        full_name: full_name(&p),
        card_number: card::grouped(&p.card_number),
        qr_svg: qr,
        synthetic: p.synthetic,
    })
}

/// One ID number in full, for a caseworker who needs to read it out. Audited with its kind.
///
/// # Errors
/// `NotFound` (no such person or no such ID), database errors, `Internal` on integrity failure.
pub async fn reveal(
    state: &AppState,
    actor: &SignedIn,
    id: i32,
    kind: &str,
    request_id: Option<&str>,
) -> Result<String, ServiceError> {
    let kind = IdKind::from_code(kind).ok_or(ServiceError::NotFound)?;
    let row = person_identifier::Entity::find()
        .filter(person_identifier::Column::PersonId.eq(id))
        .filter(person_identifier::Column::Kind.eq(kind.code()))
        .one(&state.db)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let value = open_identifier(state, &row).await?;
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("person.id_revealed", state.clock.now())
            .by(&actor.actor)
            .subject("person", id)
            .request(request_id)
            .purpose("registry")
            .detail(serde_json::json!({ "kind": kind.code() })),
    )
    .await?;
    tx.commit().await?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_forgives_the_usual_variants() {
        let base = NameParts::new("María Fernanda", "López", "Hernández");
        let cases = [
            (
                "accents and case",
                NameParts::new("maria fernanda", "LOPEZ", "HERNANDEZ"),
                0.999,
            ),
            (
                "swapped surnames",
                NameParts::new("María Fernanda", "Hernández", "López"),
                0.999,
            ),
            (
                "no second surname",
                NameParts::new("María Fernanda", "López", ""),
                0.999,
            ),
            (
                "a typo",
                NameParts::new("Maria Fernada", "Lopez", "Hernandez"),
                0.95,
            ),
        ];
        for (what, other, at_least) in cases {
            let s = similarity(&base, &other);
            assert!(s >= at_least, "{what}: {s}");
        }
        let stranger = NameParts::new("Juan Carlos", "Ramírez", "Ortega");
        assert!(similarity(&base, &stranger) < THRESHOLD);
    }

    /// People as registries hold them, and as a second registration types them again: a typo,
    /// the surnames swapped, the second one left out. `(given names, first and second surname)`.
    fn people_and_variants(n: usize) -> Vec<(String, String, String)> {
        use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
        const GIVEN: [&str; 12] = [
            "María Fernanda",
            "José Luis",
            "Juan",
            "Ana",
            "Guadalupe",
            "Ma. del Carmen",
            "Luis Ángel",
            "Sofía",
            "Ximena",
            "Ernesto",
            "Rosa María",
            "Iñaki",
        ];
        const SURNAMES: [&str; 14] = [
            "López",
            "Hernández",
            "García",
            "Martínez",
            "de la Cruz",
            "Pérez",
            "Sánchez",
            "Ramírez",
            "Núñez",
            "Ortega",
            "Del Río",
            "Gómez",
            "Díaz",
            "Ruiz",
        ];
        let mut rng = StdRng::seed_from_u64(7);
        let typo = |text: &str, rng: &mut StdRng| {
            let mut chars: Vec<char> = text.chars().collect();
            let at = rng.random_range(0..chars.len());
            match rng.random_range(0..3) {
                0 => {
                    chars.remove(at);
                }
                1 => chars[at] = *['A', 'E', 'S', 'N', 'R'].choose(rng).expect("letters"),
                _ => chars.insert(at, 'H'),
            }
            chars.into_iter().collect::<String>()
        };
        let mut out = Vec::new();
        for _ in 0..n {
            let given = (*GIVEN.choose(&mut rng).expect("names")).to_owned();
            let first = (*SURNAMES.choose(&mut rng).expect("names")).to_owned();
            let second = if rng.random_bool(0.1) {
                String::new()
            } else {
                (*SURNAMES.choose(&mut rng).expect("names")).to_owned()
            };
            let variant = match rng.random_range(0..4) {
                0 => (typo(&given, &mut rng), first.clone(), second.clone()),
                1 => (given.clone(), second.clone(), first.clone()),
                2 => (given.clone(), first.clone(), String::new()),
                _ => (given.clone(), typo(&first, &mut rng), second.clone()),
            };
            out.push((given, first, second));
            if !variant.1.is_empty() {
                out.push(variant);
            }
        }
        out
    }

    #[test]
    fn the_jaro_winkler_bound_is_never_below_the_score() {
        let people = people_and_variants(150);
        let keys: Vec<String> = people
            .iter()
            .map(|(g, f, s)| names::name_key(g, f, s))
            .collect();
        for a in &keys {
            for b in &keys {
                let bound = jaro_winkler_at_most(a, &Letters::of(a), b, &Letters::of(b));
                let score = strsim::jaro_winkler(a, b);
                assert!(bound >= score - 1e-12, "{a} / {b}: {bound} < {score}");
            }
        }
    }

    #[test]
    fn a_probe_skips_no_likely_pair_and_most_others() {
        let people = people_and_variants(200);
        let date = Date::new(1980, 5, 10).expect("a date");
        let near = Date::new(1980, 10, 5).expect("a date");
        let records: Vec<String> = people
            .iter()
            .enumerate()
            .map(|(id, (g, f, s))| {
                // Every third person a typo away in the birth date: blocked by name key only.
                let born = if id % 3 == 0 { near } else { date };
                let key = names::name_key(g, f, s);
                format!("{id}{FIELD}{born}{FIELD}{key}{FIELD}{g}{FIELD}{f}{FIELD}{s}")
            })
            .collect();
        let sketches: Vec<Sketch> = records
            .iter()
            .map(|r| Sketch::parse(r).expect("a record"))
            .collect();
        let (mut likely, mut skipped, mut unlikely) = (0, 0, 0);
        for (g, f, s) in &people {
            let parts = NameParts::new(g, f, s);
            let key = names::name_key(g, f, s);
            let probe = Probe::new(&parts, date, &key);
            for theirs in &sketches {
                // The key a sketch carries is its names folded and joined as `similarity`
                // joins them: what the bounds rely on.
                let their_parts = theirs.parts();
                assert_eq!(theirs.name_key, Compared::of(&their_parts).direct);
                let same = likely_same(
                    (&parts, date, &key),
                    (&their_parts, theirs.birth_date, theirs.name_key),
                );
                let may = probe.may_match(theirs);
                if same.is_some() {
                    likely += 1;
                    assert!(may, "{key} / {}", theirs.name_key);
                } else {
                    unlikely += 1;
                    skipped += usize::from(!may);
                }
            }
        }
        assert!(likely > 400, "{likely}");
        // Most unlikely pairs are skipped without folding their names nor scoring them.
        assert!(skipped * 4 > unlikely * 3, "{skipped} of {unlikely}");
    }

    #[test]
    fn a_blocked_row_that_does_not_parse_is_refused() {
        assert!(Sketch::parse("12\u{1f}1980-05-10\u{1f}LOPEZ ANA\u{1f}Ana\u{1f}López").is_none());
        assert!(
            Sketch::parse("x\u{1f}1980-05-10\u{1f}LOPEZ ANA\u{1f}Ana\u{1f}López\u{1f}").is_none()
        );
        let s = Sketch::parse("12\u{1f}1980-05-10\u{1f}LOPEZ ANA\u{1f}Ana\u{1f}López\u{1f}")
            .expect("a record");
        assert_eq!((s.id, s.second_surname), (12, ""));
    }

    #[test]
    fn near_dates_are_the_usual_typos() {
        let d = |y, m, day| Date::new(y, m, day).unwrap();
        assert!(near_date(d(1990, 5, 10), d(1990, 5, 11)), "one part");
        assert!(near_date(d(1990, 5, 10), d(1991, 5, 10)), "one part");
        assert!(near_date(d(1990, 5, 10), d(1990, 10, 5)), "transposed");
        assert!(
            near_date(d(1990, 1, 31), d(1990, 2, 1)),
            "a day across a month"
        );
        assert!(
            near_date(d(1989, 12, 31), d(1990, 1, 1)),
            "a day across a year"
        );
        assert!(!near_date(d(1990, 5, 10), d(1991, 6, 10)));
        assert!(!near_date(d(1990, 1, 31), d(1990, 2, 2)));
    }

    #[test]
    fn masks_keep_the_last_three() {
        assert_eq!(mask("12345678901"), "••••••••901");
        assert_eq!(mask("AB"), "AB");
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        let birth = NaiveDate::from_ymd_opt(1958, 11, 21).unwrap();
        assert_eq!(
            age_on(birth, NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()),
            67
        );
        assert_eq!(
            age_on(birth, NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()),
            68
        );
    }
}
