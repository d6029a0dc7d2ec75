//! `angel seed --synthetic N [--seed S]`: a deterministic synthetic population of Mexico City
//! for demos and benchmarks. Every row is marked `synthetic`; screens label it.
//!
//! Households first (couples with children, single mothers, older adults alone…), then their
//! members: common Mexican names with accents and Ñ, boroughs weighted by the 2020 census
//! (seed/alcaldias.tsv), an urban age pyramid, facts, CURPs computed by the algorithm (~2%
//! without one), and ~1% planted near-duplicates recorded in `synthetic_duplicate` as ground
//! truth for dedup quality. Rows go in with multi-row INSERTs in large transactions (the hint in
//! PERFORMANCE.md: per-row commits are fsync-bound).

use std::collections::HashMap;

use angel_app::{
    domain::{card, curp::Sex, names},
    ssr::{AppState, audit::NewEvent, services::registry::to_date, vault::Slot},
};
use angel_entity::{
    household, household_member, person, person_contact, person_fact, person_identifier,
    person_relationship, synthetic_duplicate,
};
use chrono::{Datelike, Days, NaiveDate};
use rand::{Rng, RngCore, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DbBackend, EntityTrait, Statement, TransactionTrait,
};

#[rustfmt::skip]
const FEMALE: &[&str] = &[
    "María", "Guadalupe", "María Guadalupe", "Juana", "Margarita", "Verónica", "Rosa María",
    "Leticia", "Patricia", "Alejandra", "Elizabeth", "Gabriela", "Adriana", "Martha", "Sofía",
    "Valentina", "Ximena", "Regina", "Camila", "Fernanda", "María Fernanda", "Lucía", "Ana",
    "Ana Karen", "Itzel", "Citlali", "Xóchitl", "Araceli", "Ivonne", "Mónica", "Nayeli",
    "Guillermina", "Concepción", "Dolores", "Inés", "Begoña", "Maricruz", "Yesenia",
    "Renata", "Paola", "Daniela", "Andrea", "Karla", "Brenda", "Rocío", "Lourdes", "Silvia",
    "Irma", "Carmen", "Teresa", "Josefina", "Esperanza", "Ángeles", "Natalia", "Mariana",
];
#[rustfmt::skip]
const MALE: &[&str] = &[
    "José", "Juan", "José Luis", "Juan Carlos", "Miguel Ángel", "Francisco", "Jesús",
    "Alejandro", "Luis", "Carlos", "Jorge", "Ricardo", "Eduardo", "Fernando", "Roberto",
    "Santiago", "Mateo", "Sebastián", "Leonardo", "Emiliano", "Diego", "Iker", "Ángel",
    "Héctor", "Raúl", "Óscar", "Rubén", "Joaquín", "Martín", "Efraín", "Cuauhtémoc", "Ignacio",
    "Nicolás", "Andrés", "Tomás", "Íñigo", "Patricio", "Ramón", "Pedro", "Pablo", "Gerardo",
    "Alberto", "Arturo", "Sergio", "Manuel", "Rafael", "Enrique", "Hugo", "Daniel", "Gabriel",
    "Adrián", "Marco Antonio", "Víctor", "Salvador", "Armando", "Gustavo", "Rodrigo",
];
#[rustfmt::skip]
const SURNAMES: &[&str] = &[
    "Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
    "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Jiménez", "Reyes", "Díaz",
    "Torres", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo",
    "Romero", "Álvarez", "Méndez", "Chávez", "Rivera", "Juárez", "Ramos", "Domínguez",
    "Herrera", "Medina", "Castro", "Vargas", "Guzmán", "Velázquez", "Muñoz", "Núñez", "Peña",
    "Ibáñez", "Zúñiga", "Patiño", "Briseño", "Nuño", "Cedeño", "Salazar", "Contreras",
    "de la Cruz", "del Ángel", "de los Santos", "Xolalpa", "Tecuatl", "Olvera", "Bautista",
    "Luna", "Navarro", "Rojas", "Campos", "Soto", "Vega", "Cortés", "Sandoval", "Estrada",
    "Cervantes", "Ávila", "Lara", "Ríos", "Solís", "Espinoza", "Fuentes", "Valdez", "Acosta",
    "Cabrera", "Trejo", "Pacheco", "Maldonado", "Carrillo", "Ochoa", "Robles", "Montes",
    "Villanueva", "Cárdenas", "Orozco", "Ponce", "Galván", "Escobar", "Meza", "Osorio",
    "Arellano", "Quiroz",
];
#[rustfmt::skip]
const COLONIAS: &[&str] = &[
    "Centro", "San Miguel", "Santa Cruz", "La Joya", "El Rosario", "San Juan", "Guadalupe",
    "Las Palmas", "Ampliación San Pedro", "Barrio Norte", "San Lorenzo", "Santa María",
    "Pueblo Nuevo", "Los Reyes", "San Andrés", "El Molino",
];
/// States of birth other than Mexico City, for the ~25% born elsewhere.
#[rustfmt::skip]
const OTHER_STATES: &[&str] = &[
    "MC", "PL", "VZ", "OC", "GR", "HG", "MN", "GT", "JC", "TL", "QT", "CS", "NE",
];
/// Postal district of each alcaldía (the first two digits of its postal codes).
#[rustfmt::skip]
const POSTAL: &[(&str, u32)] = &[
    ("09002", 2), ("09003", 4), ("09004", 5), ("09005", 7), ("09006", 8), ("09007", 9),
    ("09008", 10), ("09009", 12), ("09010", 1), ("09011", 13), ("09012", 14), ("09013", 16),
    ("09014", 3), ("09015", 6), ("09016", 11), ("09017", 15),
];

/// Relative weights of ages by five-year band (0–4 … 85–89, 90–99): a generator parameter
/// shaped like an ageing urban pyramid, not a published figure.
#[rustfmt::skip]
const AGE_BANDS: &[u32] = &[
    58, 60, 63, 68, 76, 80, 78, 74, 72, 70, 68, 62, 54, 44, 33, 22, 14, 8, 4,
];

/// The columns of [`Generator::legacy_file`].
pub const LEGACY_HEADER: [&str; 15] = [
    "record_id",
    "given_names",
    "first_surname",
    "second_surname",
    "birth_date",
    "sex",
    "curp",
    "birth_state",
    "borough",
    "colonia",
    "postal_code",
    "street",
    "program",
    "status",
    "requested_on",
];

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub count: u64,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub given: String,
    pub first: String,
    pub second: Option<String>,
    pub birth: NaiveDate,
    pub sex: Sex,
    pub birth_state: &'static str,
    pub curp: Option<String>,
    pub facts: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub borough: usize,
    pub colonia: &'static str,
    pub postal_code: String,
    pub street: String,
    pub members: Vec<Member>,
    /// (subject, relative, kind) by index in `members`.
    pub links: Vec<(usize, usize, &'static str)>,
}

/// A planted near-duplicate: a second profile of `members[original]` of a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub member: Member,
    pub variant: &'static str,
}

/// The deterministic generator: the same seed and boroughs give the same people.
pub struct Generator {
    rng: StdRng,
    boroughs: Vec<(String, u64)>,
    total_weight: u64,
    today: NaiveDate,
    /// Homonym counter per CURP prefix (16 characters): picks the differentiator.
    homonyms: HashMap<String, u8>,
}

impl Generator {
    /// `boroughs`: (INEGI code, population weight).
    pub fn new(seed: u64, boroughs: Vec<(String, u64)>, today: NaiveDate) -> Generator {
        let total_weight = boroughs.iter().map(|b| b.1).sum();
        Generator {
            rng: StdRng::seed_from_u64(seed),
            boroughs,
            total_weight,
            today,
            homonyms: HashMap::new(),
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        *items.choose(&mut self.rng).expect("non-empty")
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn borough(&mut self) -> usize {
        let mut x = self.rng.random_range(0..self.total_weight.max(1));
        for (i, (_, w)) in self.boroughs.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        0
    }

    fn age_from_pyramid(&mut self, min: u32, max: u32) -> u32 {
        loop {
            let total: u32 = AGE_BANDS.iter().sum();
            let mut x = self.rng.random_range(0..total);
            let mut band = 0;
            for (i, w) in AGE_BANDS.iter().enumerate() {
                if x < *w {
                    band = i as u32;
                    break;
                }
                x -= w;
            }
            let width = if band == 18 { 10 } else { 5 };
            let age = band * 5 + self.rng.random_range(0..width);
            if (min..=max).contains(&age) {
                return age;
            }
        }
    }

    fn birth(&mut self, age: u32) -> NaiveDate {
        let year_start = self
            .today
            .with_year(self.today.year() - age as i32)
            .unwrap_or(self.today);
        year_start - Days::new(self.rng.random_range(0..365))
    }

    fn member(&mut self, sex: Sex, age: u32, first: &str, second: Option<&str>) -> Member {
        let names = if sex == Sex::Female { FEMALE } else { MALE };
        // About a third carry two given names (Juan Pablo, María José…), as many do.
        let mut given = self.pick(names).to_owned();
        if !given.contains(' ') && self.chance(0.35) {
            let other = self.pick(names);
            if !other.contains(' ') && other != given {
                given = format!("{given} {other}");
            }
        }
        let birth = self.birth(age);
        let birth_state = if self.chance(0.75) {
            "DF"
        } else {
            self.pick(OTHER_STATES)
        };
        let mut m = Member {
            given,
            first: first.to_owned(),
            second: second.map(str::to_owned),
            birth,
            sex,
            birth_state,
            curp: None,
            facts: Vec::new(),
        };
        m.curp = if self.chance(0.02) {
            None
        } else {
            self.curp(&m)
        };
        m.facts = self.facts(&m, age);
        m
    }

    /// The CURP by the algorithm; `None` when the homonyms of its prefix used up the
    /// differentiators (then the person is registered without one, as happens).
    fn curp(&mut self, m: &Member) -> Option<String> {
        let probe = names::compose_curp(
            &m.given,
            &m.first,
            m.second.as_deref().unwrap_or(""),
            to_date(m.birth),
            m.sex,
            m.birth_state,
            0,
        );
        let n = self.homonyms.entry(probe[..16].to_owned()).or_insert(0);
        let limit = if m.birth.year() < 2000 { 10 } else { 26 };
        if *n >= limit {
            return None;
        }
        let index = *n;
        *n += 1;
        Some(names::compose_curp(
            &m.given,
            &m.first,
            m.second.as_deref().unwrap_or(""),
            to_date(m.birth),
            m.sex,
            m.birth_state,
            index,
        ))
    }

    fn facts(&mut self, m: &Member, age: u32) -> Vec<(&'static str, String)> {
        let mut facts = Vec::new();
        if (6..=17).contains(&age) {
            let level = match age {
                6..=11 => "primary",
                12..=14 => "secondary",
                _ if self.chance(0.8) => "upper_secondary",
                _ => "not_studying",
            };
            facts.push(("school_level", level.to_owned()));
            if level != "not_studying" {
                let kind = if self.chance(0.85) {
                    "public"
                } else {
                    "private"
                };
                facts.push(("school_type", kind.to_owned()));
                let avg = self.rng.random_range(60..=100);
                facts.push(("grade_average", format!("{}.{}", avg / 10, avg % 10)));
            }
        } else if age >= 18 {
            let employment = if age >= 65 && self.chance(0.6) {
                "retired"
            } else if age <= 24 && self.chance(0.4) {
                "student"
            } else {
                let r = self.rng.random_range(0..100);
                match r {
                    0..45 => "formal",
                    45..72 => "informal",
                    72..80 => "unemployed",
                    _ => "home",
                }
            };
            facts.push(("employment", employment.to_owned()));
            let income = match employment {
                "formal" => self.rng.random_range(8_000..35_000),
                "informal" => self.rng.random_range(3_000..12_000),
                "retired" => self.rng.random_range(0..15_000),
                _ => self.rng.random_range(0..2_000),
            };
            facts.push(("monthly_income", (income / 100 * 100).to_string()));
            if matches!(employment, "formal" | "unemployed") {
                facts.push((
                    "months_worked",
                    self.rng.random_range(1..240u32).to_string(),
                ));
            }
            let security = match employment {
                "formal" if self.chance(0.8) => "imss",
                "formal" => "issste",
                "retired" if self.chance(0.7) => "imss",
                _ if self.chance(0.45) => "none",
                _ => "imss",
            };
            facts.push(("social_security", security.to_owned()));
            if m.sex == Sex::Female && (18..=40).contains(&age) && self.chance(0.04) {
                facts.push(("pregnant", "yes".to_owned()));
            }
        }
        if self.chance(0.05) {
            facts.push(("disability", "yes".to_owned()));
        }
        facts
    }

    fn surname(&mut self) -> String {
        self.pick(SURNAMES).to_owned()
    }

    fn sex(&mut self, female: f64) -> Sex {
        if self.chance(female) {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    /// Someone with two surnames of their own.
    fn alone(&mut self, members: &mut Vec<Member>, sex: Sex, age: u32) {
        let (a, b) = (self.surname(), self.surname());
        members.push(self.member(sex, age, &a, Some(&b)));
    }

    /// A man and a woman, spouses (members 0 and 1 of the household).
    fn couple(
        &mut self,
        members: &mut Vec<Member>,
        links: &mut Vec<(usize, usize, &'static str)>,
        man: u32,
        woman: u32,
    ) {
        self.alone(members, Sex::Male, man);
        self.alone(members, Sex::Female, woman);
        links.push((0, 1, "spouse"));
    }

    /// A child with the given surnames; returns their index in the household.
    fn child(&mut self, members: &mut Vec<Member>, age: u32, first: &str, second: &str) -> usize {
        let sex = self.sex(0.5);
        members.push(self.member(sex, age, first, Some(second)));
        members.len() - 1
    }

    /// A synthetic agency file for `angel import persons` (its benchmark and tests): the
    /// members of the next homes, `rows` of them, under [`LEGACY_HEADER`] (our field codes, so
    /// no mapping), dates as `DD/MM/YYYY` and sexes and statuses as words, as agencies write
    /// them; UTF-8 with `,`. Record numbers run `R0000001`, `R0000002`… Children of school age
    /// (6 to 14) receive SEDESO's school supplies (`UTILES`, active, asked for 30 days ago);
    /// the other rows name no program.
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn legacy_file(&mut self, rows: u64) -> csv::Result<Vec<u8>> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(LEGACY_HEADER)?;
        let asked = (self.today - chrono::Days::new(30))
            .format("%d/%m/%Y")
            .to_string();
        let mut written = 0u64;
        while written < rows {
            let home = self.home();
            let borough = self.boroughs[home.borough].0.clone();
            for m in home.members.iter().take((rows - written) as usize) {
                written += 1;
                let sex = match m.sex {
                    Sex::Male => "hombre",
                    Sex::Female => "mujer",
                    Sex::NonBinary => "X",
                };
                let school_age = (6..=14).contains(&self.today.years_since(m.birth).unwrap_or(0));
                let request = if school_age {
                    ["UTILES", "activo", &asked]
                } else {
                    ["", "", ""]
                };
                out.write_record([
                    format!("R{written:07}"),
                    m.given.clone(),
                    m.first.clone(),
                    m.second.clone().unwrap_or_default(),
                    m.birth.format("%d/%m/%Y").to_string(),
                    sex.to_owned(),
                    m.curp.clone().unwrap_or_default(),
                    m.birth_state.to_owned(),
                    borough.clone(),
                    home.colonia.to_owned(),
                    home.postal_code.clone(),
                    home.street.clone(),
                    request[0].to_owned(),
                    request[1].to_owned(),
                    request[2].to_owned(),
                ])?;
            }
        }
        out.into_inner().map_err(|e| e.into_error().into())
    }

    /// One household and its members.
    pub fn home(&mut self) -> Home {
        let borough = self.borough();
        let district = POSTAL
            .iter()
            .find(|(code, _)| *code == self.boroughs[borough].0)
            .map_or(6, |p| p.1);
        let postal_code = format!("{district:02}{:03}", self.rng.random_range(0..1000));
        let colonia = self.pick(COLONIAS);
        let mut members = Vec::new();
        let mut links = Vec::new();
        match self.rng.random_range(0..100) {
            // A couple with children, who carry the father's and the mother's first surnames.
            0..35 => {
                let age = self.age_from_pyramid(22, 60);
                let partner_age = age.saturating_sub(self.rng.random_range(0..6)).max(20);
                self.couple(&mut members, &mut links, age, partner_age);
                let (father, mother) = (members[0].first.clone(), members[1].first.clone());
                for _ in 0..self.rng.random_range(1..=3) {
                    let child_age = self.age_from_pyramid(0, (partner_age - 18).min(25));
                    let i = self.child(&mut members, child_age, &father, &mother);
                    links.push((0, i, "parent"));
                    links.push((1, i, "parent"));
                }
            }
            // A single mother with children under her surnames.
            35..47 => {
                let age = self.age_from_pyramid(18, 50);
                self.alone(&mut members, Sex::Female, age);
                let (first, second) = (
                    members[0].first.clone(),
                    members[0].second.clone().unwrap_or_default(),
                );
                for _ in 0..self.rng.random_range(1..=3) {
                    let child_age = self.age_from_pyramid(0, (age - 16).min(17));
                    let i = self.child(&mut members, child_age, &first, &second);
                    links.push((0, i, "parent"));
                }
            }
            // An older adult living alone (more often a woman).
            47..57 => {
                let age = self.age_from_pyramid(65, 99);
                let sex = self.sex(0.62);
                self.alone(&mut members, sex, age);
            }
            // An older couple.
            57..65 => {
                let age = self.age_from_pyramid(60, 95);
                self.couple(&mut members, &mut links, age, age.saturating_sub(2).max(60));
            }
            // A couple without children.
            65..80 => {
                let age = self.age_from_pyramid(20, 64);
                self.couple(&mut members, &mut links, age, age);
            }
            // An adult living alone (some with one surname only, as born abroad or registered).
            _ => {
                let age = self.age_from_pyramid(18, 64);
                let a = self.surname();
                let b = (!self.chance(0.05)).then(|| self.surname());
                let sex = self.sex(0.5);
                members.push(self.member(sex, age, &a, b.as_deref()));
            }
        }
        let street = format!(
            "Calle {} {}",
            self.pick(SURNAMES),
            self.rng.random_range(1..400)
        );
        Home {
            borough,
            colonia,
            postal_code,
            street,
            members,
            links,
        }
    }

    /// A near-duplicate of `m` as a second registration would type it (no CURP: had it been
    /// captured, the unique blind index would have found the first profile).
    pub fn duplicate(&mut self, m: &Member) -> Duplicate {
        let mut d = m.clone();
        d.curp = None;
        let variant = match self.rng.random_range(0..5) {
            0 => {
                d.given = typo(&mut self.rng, &d.given);
                "typo"
            }
            1 => match d.second.take().filter(|second| *second != d.first) {
                Some(second) => {
                    d.second = Some(std::mem::replace(&mut d.first, second));
                    "swapped"
                }
                None => {
                    d.second = m.second.clone();
                    d.given = typo(&mut self.rng, &d.given);
                    "typo"
                }
            },
            2 if d.second.is_some() => {
                d.second = None;
                "no_second"
            }
            3 => {
                d.given = names::fold_upper(&d.given);
                d.first = names::fold_upper(&d.first);
                d.second = d.second.as_deref().map(names::fold_upper);
                "accents"
            }
            _ => {
                // The day and month typed swapped, or one day off.
                let swapped =
                    NaiveDate::from_ymd_opt(d.birth.year(), d.birth.day(), d.birth.month());
                d.birth = swapped
                    .filter(|s| *s != d.birth)
                    .unwrap_or_else(|| d.birth.succ_opt().unwrap_or(d.birth));
                "date_typo"
            }
        };
        Duplicate { member: d, variant }
    }
}

/// One letter of a name dropped, doubled or replaced by a neighbour on the keyboard.
fn typo(rng: &mut StdRng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let letters: Vec<usize> = (1..chars.len())
        .filter(|i| chars[*i].is_alphabetic())
        .collect();
    let Some(&at) = letters.choose(rng) else {
        return name.to_owned();
    };
    let mut out = chars.clone();
    match rng.random_range(0..3) {
        0 => {
            out.remove(at);
        }
        1 => out.insert(at, chars[at]),
        _ => {
            let near = match chars[at].to_ascii_lowercase() {
                'a' => 's',
                'e' => 'r',
                'i' => 'o',
                'o' => 'i',
                'n' => 'm',
                'r' => 't',
                'l' => 'k',
                's' => 'a',
                _ => 'e',
            };
            out[at] = near;
        }
    }
    out.into_iter().collect()
}

/// Rows waiting for one multi-row INSERT per table.
#[derive(Default)]
struct Batch {
    persons: Vec<person::ActiveModel>,
    contacts: Vec<person_contact::ActiveModel>,
    identifiers: Vec<person_identifier::ActiveModel>,
    households: Vec<household::ActiveModel>,
    members: Vec<household_member::ActiveModel>,
    links: Vec<person_relationship::ActiveModel>,
    facts: Vec<person_fact::ActiveModel>,
    duplicates: Vec<synthetic_duplicate::ActiveModel>,
}

/// Rows per INSERT statement (SQLite's and PostgreSQL's bound-parameter limits allow it).
const ROWS_PER_STATEMENT: usize = 400;

pub(crate) async fn insert_chunks<E, A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
) -> Result<(), sea_orm::DbErr>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

impl Batch {
    fn len(&self) -> usize {
        self.persons.len()
    }

    async fn flush(&mut self, state: &AppState) -> anyhow::Result<()> {
        let tx = state.db.begin().await?;
        insert_chunks(&tx, std::mem::take(&mut self.households)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.persons)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.contacts)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.identifiers)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.members)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.links)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.facts)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.duplicates)).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What a synthetic seed wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    pub persons: u64,
    pub households: u64,
    pub without_curp: u64,
    pub duplicates: u64,
    /// Indicator × borough target populations derived from the synthetic people.
    pub targets: u64,
    pub seconds: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} synthetic people in {} households ({} without CURP, {} planted near-duplicates), {} synthetic target populations, in {:.1} s",
            self.persons,
            self.households,
            self.without_curp,
            self.duplicates,
            self.targets,
            self.seconds
        )
    }
}

pub(crate) async fn max_id(db: &impl ConnectionTrait, table: &str) -> anyhow::Result<i32> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}"),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get::<i32>("", "m")?)
}

/// PostgreSQL sequences do not move on explicit ids: set them past the rows written.
pub(crate) async fn advance_sequences(
    db: &impl ConnectionTrait,
    tables: &[&str],
) -> anyhow::Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        for table in tables {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            ))
            .await?;
        }
    }
    Ok(())
}

/// Generates and stores `options.count` people (households are completed, so a few more may be
/// written), with a progress bar when `progress` is set.
///
/// # Errors
/// Database errors; a database without boroughs (run `angel seed` first).
pub async fn seed(state: &AppState, options: Options, progress: bool) -> anyhow::Result<Report> {
    let started = std::time::Instant::now();
    let boroughs: Vec<(i32, String, u64)> = angel_entity::borough::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|b| {
            (
                b.id,
                b.inegi_code,
                u64::try_from(b.population_2020).unwrap_or(0),
            )
        })
        .collect();
    anyhow::ensure!(!boroughs.is_empty(), "no boroughs: run `angel seed` first");
    let now = state.clock.now();
    let today = now.date_naive();
    let mut generator = Generator::new(
        options.seed,
        boroughs.iter().map(|b| (b.1.clone(), b.2)).collect(),
        today,
    );
    let mut next_person = max_id(&state.db, "person").await? + 1;
    let mut next_household = max_id(&state.db, "household").await? + 1;
    let key_version = i32::try_from(state.vault.active_version()).expect("small versions");
    let bar = if progress {
        indicatif::ProgressBar::new(options.count)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bar:40} {pos}/{len} personas sintéticas · {per_sec} · {eta}",
        )
        .expect("a valid template"),
    );
    let mut report = Report::default();
    let mut batch = Batch::default();
    let mut token = [0u8; 16];
    let mut add = |batch: &mut Batch,
                   generator: &mut Generator,
                   m: &Member,
                   home: &Home,
                   household_id: i32,
                   report: &mut Report|
     -> i32 {
        let id = next_person;
        next_person += 1;
        generator.rng.fill_bytes(&mut token);
        let body: [u8; card::LEN - 1] = std::array::from_fn(|i| {
            if i == 0 {
                9
            } else {
                ((id as u64 / 10u64.pow(7 - (i as u32 - 1))) % 10) as u8
            }
        });
        let second = m.second.as_deref().unwrap_or("");
        batch.persons.push(person::ActiveModel {
            id: Set(id),
            card_number: Set(card::from_body(body)),
            card_token: Set(hex::encode(token)),
            given_names: Set(m.given.clone()),
            first_surname: Set(m.first.clone()),
            second_surname: Set(m.second.clone()),
            name_key: Set(names::name_key(&m.given, &m.first, second)),
            birth_date: Set(m.birth),
            sex: Set(angel_app::registry::forms::sex_code(m.sex).to_owned()),
            birth_state: Set(m.birth_state.to_owned()),
            borough_id: Set(boroughs[home.borough].0),
            colonia: Set(home.colonia.to_owned()),
            postal_code: Set(home.postal_code.clone()),
            residence_since: Set(Some(if m.birth_state == "DF" {
                m.birth
            } else {
                m.birth
                    .with_year(m.birth.year() + 18)
                    .unwrap_or(m.birth)
                    .min(today)
            })),
            has_curp: Set(m.curp.is_some()),
            status: Set("active".to_owned()),
            merged_into: Set(None),
            synthetic: Set(true),
            registered_office_id: Set(None),
            registered_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        });
        batch.contacts.push(person_contact::ActiveModel {
            person_id: Set(id),
            street_envelope: Set(Some(state.vault.seal(
                Slot::new("person_contact", "street", i64::from(id)),
                home.street.as_bytes(),
            ))),
            phone_envelope: Set(None),
            key_version: Set(key_version),
        });
        match &m.curp {
            Some(curp) => batch.identifiers.push(person_identifier::ActiveModel {
                id: NotSet,
                person_id: Set(id),
                kind: Set("curp".to_owned()),
                envelope: Set(state.vault.seal(
                    Slot::new("person_identifier", "curp", i64::from(id)),
                    curp.as_bytes(),
                )),
                blind_index: Set(state.vault.blind_index("curp", curp)),
                key_version: Set(key_version),
                created_at: Set(now),
            }),
            None => report.without_curp += 1,
        }
        batch.members.push(household_member::ActiveModel {
            person_id: Set(id),
            household_id: Set(household_id),
            since: Set(now),
        });
        for (kind, value) in &m.facts {
            let days = generator.rng.random_range(0..365);
            batch.facts.push(person_fact::ActiveModel {
                id: NotSet,
                person_id: Set(id),
                kind: Set((*kind).to_owned()),
                value: Set(value.clone()),
                as_of: Set(today - Days::new(days)),
                source: Set(if generator.chance(0.7) {
                    "declared"
                } else {
                    "document"
                }
                .to_owned()),
                verified: Set(generator.chance(0.3)),
                recorded_by: Set(None),
                recorded_at: Set(now),
            });
        }
        report.persons += 1;
        id
    };
    while report.persons < options.count {
        let home = generator.home();
        let household_id = next_household;
        next_household += 1;
        batch.households.push(household::ActiveModel {
            id: Set(household_id),
            created_at: Set(now),
        });
        report.households += 1;
        let mut ids = Vec::with_capacity(home.members.len());
        for m in &home.members {
            ids.push(add(
                &mut batch,
                &mut generator,
                m,
                &home,
                household_id,
                &mut report,
            ));
        }
        for (a, b, kind) in &home.links {
            batch.links.push(person_relationship::ActiveModel {
                id: NotSet,
                person_id: Set(ids[*a]),
                relative_id: Set(ids[*b]),
                kind: Set((*kind).to_owned()),
                created_by: Set(None),
                created_at: Set(now),
            });
        }
        // ~1% of people registered a second time, with the usual variations.
        for (i, m) in home.members.iter().enumerate() {
            if generator.chance(0.01) {
                let dup = generator.duplicate(m);
                let id = add(
                    &mut batch,
                    &mut generator,
                    &dup.member,
                    &home,
                    household_id,
                    &mut report,
                );
                batch.duplicates.push(synthetic_duplicate::ActiveModel {
                    person_id: Set(id),
                    original_id: Set(ids[i]),
                    variant: Set(dup.variant.to_owned()),
                });
                report.duplicates += 1;
            }
        }
        bar.set_position(report.persons.min(options.count));
        if batch.len() >= 20_000 {
            batch.flush(state).await?;
        }
    }
    batch.flush(state).await?;
    advance_sequences(&state.db, &["person", "household"]).await?;
    bar.finish_and_clear();
    // The demo's target populations (labelled "sintético"), from everyone synthetic so far.
    report.targets = crate::census::synthetic_targets(&state.db, now)
        .await?
        .written;
    let tx = state.audit.begin(&state.db).await?;
    tx.record(
        NewEvent::new("person.synthetic_seeded", state.clock.now()).detail(serde_json::json!({
            "persons": report.persons, "households": report.households, "seed": options.seed,
        })),
    )
    .await?;
    tx.commit().await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// How many synthetic people the database holds.
///
/// # Errors
/// Database errors.
pub async fn count(db: &impl ConnectionTrait) -> anyhow::Result<u64> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    Ok(person::Entity::find()
        .filter(person::Column::Synthetic.eq(true))
        .count(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use angel_app::domain::curp::{Curp, Date};

    fn generator(seed: u64) -> Generator {
        Generator::new(
            seed,
            vec![
                ("09007".to_owned(), 1_835_486),
                ("09012".to_owned(), 152_685),
            ],
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_people() {
        let (mut a, mut b, mut c) = (generator(7), generator(7), generator(8));
        let homes_a: Vec<Home> = (0..50).map(|_| a.home()).collect();
        let homes_b: Vec<Home> = (0..50).map(|_| b.home()).collect();
        let homes_c: Vec<Home> = (0..50).map(|_| c.home()).collect();
        assert_eq!(homes_a, homes_b);
        assert_ne!(homes_a, homes_c);
    }

    #[test]
    fn people_are_plausible_and_their_curps_valid() {
        let mut g = generator(1);
        let today = Date {
            year: 2026,
            month: 11,
            day: 21,
        };
        let (mut people, mut with_curp, mut accents, mut enie) = (0u32, 0u32, 0u32, 0u32);
        for _ in 0..3000 {
            let home = g.home();
            assert!(angel_app::registry::forms::is_cdmx_postal_code(
                &home.postal_code
            ));
            for m in &home.members {
                people += 1;
                assert!(m.birth <= NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
                if let Some(curp) = &m.curp {
                    with_curp += 1;
                    let parsed =
                        Curp::parse(curp, today).unwrap_or_else(|e| panic!("{curp}: {e:?}"));
                    assert_eq!(parsed.birth_date(), to_date(m.birth));
                }
                let name = format!("{} {} {:?}", m.given, m.first, m.second);
                accents += u32::from(name.chars().any(|c| "áéíóúÁÉÍÓÚ".contains(c)));
                enie += u32::from(name.contains('ñ') || name.contains('Ñ'));
            }
            // Parents are at least 16 years older than their children.
            for (a, b, kind) in &home.links {
                if *kind == "parent" {
                    assert!(
                        home.members[*a].birth.year() + 16 <= home.members[*b].birth.year() + 1
                    );
                }
            }
        }
        let share = f64::from(people - with_curp) / f64::from(people);
        assert!((0.01..0.04).contains(&share), "{share} without CURP");
        assert!(
            accents > people / 4 && enie > people / 50,
            "{accents} {enie} of {people}"
        );
    }

    #[test]
    fn duplicates_differ_the_way_second_registrations_do() {
        let mut g = generator(3);
        let mut variants = std::collections::BTreeSet::new();
        for _ in 0..400 {
            let home = g.home();
            let d = g.duplicate(&home.members[0]);
            assert!(d.member.curp.is_none());
            assert_ne!(
                d.member,
                Member {
                    curp: None,
                    ..home.members[0].clone()
                },
                "{}",
                d.variant
            );
            variants.insert(d.variant);
        }
        assert_eq!(
            variants.into_iter().collect::<Vec<_>>(),
            ["accents", "date_typo", "no_second", "swapped", "typo"]
        );
    }
}
