//! The registry's forms as they arrive, and their validation: the same code answers in the
//! browser while a caseworker types and on the server when the form is posted. Unknown fields
//! are refused; the office, the caseworker and the version's author come from the session.

use serde::{Deserialize, Serialize};

use crate::domain::curp::{Curp, Date, STATES, Sex};
use crate::domain::{card, names};
use crate::error::FieldError;

pub const MAX_GIVEN: usize = 80;
pub const MAX_SURNAME: usize = 60;
pub const MAX_COLONIA: usize = 80;
pub const MAX_STREET: usize = 200;

fn error(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

/// The kinds of ID number a person may have besides the CURP, with their form field names.
pub const OTHER_IDS: [IdKind; 4] = [IdKind::Ine, IdKind::Nss, IdKind::Rfc, IdKind::Passport];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdKind {
    Curp,
    /// INE voter key (clave de elector).
    Ine,
    /// IMSS social security number.
    Nss,
    /// Tax ID.
    Rfc,
    Passport,
}

impl IdKind {
    /// The code stored in `person_identifier.kind` and used as the form field name.
    pub fn code(self) -> &'static str {
        match self {
            IdKind::Curp => "curp",
            IdKind::Ine => "ine",
            IdKind::Nss => "nss",
            IdKind::Rfc => "rfc",
            IdKind::Passport => "passport",
        }
    }

    pub fn from_code(code: &str) -> Option<IdKind> {
        [IdKind::Curp]
            .into_iter()
            .chain(OTHER_IDS)
            .find(|k| k.code() == code)
    }

    /// Upper case without spaces or hyphens: what the blind index is computed over.
    pub fn normalize(self, input: &str) -> String {
        input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_uppercase)
            .collect()
    }

    /// Format check of an already normalized value; `None` when it is fine.
    fn format_error(self, value: &str) -> Option<&'static str> {
        let alnum = value.chars().all(|c| c.is_ascii_alphanumeric());
        let ok = match self {
            IdKind::Curp => return None,
            // 6 letters, 8 digits (birth date and state), sex letter, 3 digits.
            IdKind::Ine => {
                let c: Vec<char> = value.chars().collect();
                c.len() == 18
                    && c[..6].iter().all(char::is_ascii_uppercase)
                    && c[6..14].iter().all(char::is_ascii_digit)
                    && c[14].is_ascii_uppercase()
                    && c[15..].iter().all(char::is_ascii_digit)
            }
            IdKind::Nss => value.len() == 11 && value.chars().all(|c| c.is_ascii_digit()),
            // People: 4 letters (Ñ and & allowed), YYMMDD, 3 characters of homonymy and check.
            IdKind::Rfc => {
                let c: Vec<char> = value.chars().collect();
                c.len() == 13
                    && c[..4]
                        .iter()
                        .all(|c| c.is_ascii_uppercase() || *c == 'Ñ' || *c == '&')
                    && c[4..10].iter().all(char::is_ascii_digit)
                    && c[10..].iter().all(char::is_ascii_alphanumeric)
            }
            IdKind::Passport => alnum && (6..=20).contains(&value.len()),
        };
        (!ok).then_some(match self {
            IdKind::Ine => "ine_format",
            IdKind::Nss => "nss_format",
            IdKind::Rfc => "rfc_format",
            _ => "passport_format",
        })
    }
}

/// The intake form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonForm {
    #[serde(default)]
    pub given_names: String,
    #[serde(default)]
    pub first_surname: String,
    #[serde(default)]
    pub second_surname: String,
    /// `YYYY-MM-DD` (an `<input type="date">`).
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub birth_state: String,
    #[serde(default)]
    pub curp: String,
    #[serde(default)]
    pub ine: String,
    #[serde(default)]
    pub nss: String,
    #[serde(default)]
    pub rfc: String,
    #[serde(default)]
    pub passport: String,
    /// INEGI code of the alcaldía (`09002`…`09017`).
    #[serde(default)]
    pub borough: String,
    #[serde(default)]
    pub colonia: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub residence_since: String,
    /// `new`: the caseworker looked at the probable duplicates and says this is someone else.
    #[serde(default)]
    pub confirm: String,
    /// Editing: the profile version the form was filled from (optimistic concurrency).
    #[serde(default)]
    pub version: String,
    /// Registering a relative from a profile: that profile's id and the relation (a code of
    /// `facts::RELATIONS`, seen from the new person).
    #[serde(default)]
    pub relative_of: String,
    #[serde(default)]
    pub relation: String,
}

/// A person's data once every field is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPerson {
    pub given_names: String,
    pub first_surname: String,
    pub second_surname: Option<String>,
    pub birth_date: Date,
    pub sex: Sex,
    pub birth_state: String,
    pub curp: Option<Curp>,
    /// Other ID numbers, normalized.
    pub other_ids: Vec<(IdKind, String)>,
    pub borough: String,
    pub colonia: String,
    pub postal_code: String,
    pub street: Option<String>,
    pub phone: Option<String>,
    pub residence_since: Option<Date>,
}

impl ValidPerson {
    pub fn name_key(&self) -> String {
        names::name_key(
            &self.given_names,
            &self.first_surname,
            self.second_surname.as_deref().unwrap_or(""),
        )
    }
}

/// The sex codes of the form (as in the CURP).
pub fn sex_code(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "H",
        Sex::Female => "M",
        Sex::NonBinary => "X",
    }
}

pub fn sex_from_code(code: &str) -> Option<Sex> {
    match code {
        "H" => Some(Sex::Male),
        "M" => Some(Sex::Female),
        "X" => Some(Sex::NonBinary),
        _ => None,
    }
}

/// Collapses runs of white space and trims.
pub fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// A name: letters (any script, accents, Ñ), spaces, hyphens, apostrophes and periods.
fn name_error(value: &str, max: usize, required: bool) -> Option<&'static str> {
    if has_control(value) {
        return Some("control_characters");
    }
    let value = tidy(value);
    if value.is_empty() {
        return required.then_some("required");
    }
    if value.chars().count() > max {
        return Some("too_long");
    }
    let allowed = |c: char| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.');
    if !value.chars().all(allowed) || !value.chars().any(char::is_alphabetic) {
        return Some("name_characters");
    }
    None
}

/// Parses `YYYY-MM-DD` (also `DD/MM/YYYY`, as people type it) into a real date.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let parts: Vec<&str> = text.split(['-', '/']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (year, month, day) = if a.len() == 4 { (a, b, c) } else { (c, b, a) };
    if year.len() != 4 {
        return None;
    }
    Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

/// The earliest birth date accepted (the oldest living people were born around 1910).
pub const EARLIEST_BIRTH: Date = Date {
    year: 1900,
    month: 1,
    day: 1,
};

/// A birth date as typed: present, a real date, not in the future, not before
/// [`EARLIEST_BIRTH`]. `Err` holds the field error's code.
pub fn birth_date_field(text: &str, today: Date) -> Result<Date, &'static str> {
    match text.trim() {
        "" => Err("required"),
        text => match parse_date(text) {
            None => Err("date_invalid"),
            Some(d) if d > today => Err("date_future"),
            Some(d) if d < EARLIEST_BIRTH => Err("date_too_old"),
            Some(d) => Ok(d),
        },
    }
}

/// A warning: the form is valid, but something deserves a second look (the CURP's letters or
/// derived data disagree with what was typed).
pub type Warning = FieldError;

/// The CURP field alone, while typing: `None` when empty or valid, else the rule's code.
pub fn curp_error(input: &str, today: Date) -> Option<&'static str> {
    if input.trim().is_empty() {
        return None;
    }
    Curp::parse(input, today).err().map(|e| e.code())
}

impl PersonForm {
    /// Field-level validation. `today` bounds the dates.
    ///
    /// # Errors
    /// Every field error found (not only the first).
    pub fn validate(&self, today: Date) -> Result<ValidPerson, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, value, max, required) in [
            ("given_names", &self.given_names, MAX_GIVEN, true),
            ("first_surname", &self.first_surname, MAX_SURNAME, true),
            ("second_surname", &self.second_surname, MAX_SURNAME, false),
        ] {
            if let Some(code) = name_error(value, max, required) {
                errors.push(error(field, code));
            }
        }
        let birth_date = birth_date_field(&self.birth_date, today)
            .map_err(|code| errors.push(error("birth_date", code)))
            .ok();
        let sex = sex_from_code(self.sex.trim());
        if sex.is_none() {
            errors.push(error(
                "sex",
                if self.sex.trim().is_empty() {
                    "required"
                } else {
                    "invalid_choice"
                },
            ));
        }
        let birth_state = self.birth_state.trim().to_uppercase();
        if birth_state.is_empty() {
            errors.push(error("birth_state", "required"));
        } else if !STATES.contains(&birth_state.as_str()) {
            errors.push(error("birth_state", "invalid_choice"));
        }
        let curp = if has_control(&self.curp) {
            errors.push(error("curp", "control_characters"));
            None
        } else if self.curp.trim().is_empty() {
            None
        } else {
            match Curp::parse(&self.curp, today) {
                Ok(c) => Some(c),
                Err(e) => {
                    errors.push(error("curp", e.code()));
                    None
                }
            }
        };
        let mut other_ids = Vec::new();
        for kind in OTHER_IDS {
            let raw = match kind {
                IdKind::Ine => &self.ine,
                IdKind::Nss => &self.nss,
                IdKind::Rfc => &self.rfc,
                _ => &self.passport,
            };
            if has_control(raw) {
                errors.push(error(kind.code(), "control_characters"));
                continue;
            }
            let value = kind.normalize(raw);
            if value.is_empty() {
                continue;
            }
            match kind.format_error(&value) {
                Some(code) => errors.push(error(kind.code(), code)),
                None => other_ids.push((kind, value)),
            }
        }
        let borough = self.borough.trim().to_owned();
        if borough.is_empty() {
            errors.push(error("borough", "required"));
        } else if !is_cdmx_borough_code(&borough) {
            errors.push(error("borough", "invalid_choice"));
        }
        let colonia = tidy(&self.colonia);
        if has_control(&self.colonia) {
            errors.push(error("colonia", "control_characters"));
        } else if colonia.is_empty() {
            errors.push(error("colonia", "required"));
        } else if colonia.chars().count() > MAX_COLONIA {
            errors.push(error("colonia", "too_long"));
        }
        let postal_code = self.postal_code.trim().to_owned();
        if postal_code.is_empty() {
            errors.push(error("postal_code", "required"));
        } else if !is_cdmx_postal_code(&postal_code) {
            errors.push(error("postal_code", "postal_code_format"));
        }
        let street = tidy(&self.street);
        if has_control(&self.street) {
            errors.push(error("street", "control_characters"));
        } else if street.chars().count() > MAX_STREET {
            errors.push(error("street", "too_long"));
        }
        let phone: String = self
            .phone
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')'))
            .collect();
        let phone = phone.strip_prefix("+52").unwrap_or(&phone).to_owned();
        if !phone.is_empty() && (phone.len() != 10 || !phone.chars().all(|c| c.is_ascii_digit())) {
            errors.push(error("phone", "phone_format"));
        }
        let residence_since = match self.residence_since.trim() {
            "" => None,
            text => match parse_date(text) {
                None => {
                    errors.push(error("residence_since", "date_invalid"));
                    None
                }
                Some(d) if d > today => {
                    errors.push(error("residence_since", "date_future"));
                    None
                }
                Some(d) if birth_date.is_some_and(|b| d < b) => {
                    errors.push(error("residence_since", "before_birth"));
                    None
                }
                Some(d) => Some(d),
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let second = tidy(&self.second_surname);
        Ok(ValidPerson {
            given_names: tidy(&self.given_names),
            first_surname: tidy(&self.first_surname),
            second_surname: (!second.is_empty()).then_some(second),
            birth_date: birth_date.expect("checked"),
            sex: sex.expect("checked"),
            birth_state,
            curp,
            other_ids,
            borough,
            colonia,
            postal_code,
            street: (!street.is_empty()).then_some(street),
            phone: (!phone.is_empty()).then_some(phone),
            residence_since,
        })
    }
}

/// `09002`…`09017`: the INEGI codes of Mexico City's 16 alcaldías.
pub fn is_cdmx_borough_code(code: &str) -> bool {
    code.len() == 5
        && code.starts_with("09")
        && code[2..]
            .parse::<u32>()
            .is_ok_and(|n| (2..=17).contains(&n))
}

/// Mexico City's postal codes run from 01000 to 16999.
pub fn is_cdmx_postal_code(code: &str) -> bool {
    code.len() == 5
        && code.chars().all(|c| c.is_ascii_digit())
        && code[..2]
            .parse::<u32>()
            .is_ok_and(|n| (1..=16).contains(&n))
}

/// What a profile says about the person that the CURP also encodes.
#[derive(Debug, Clone, Copy)]
pub struct Declared<'a> {
    pub given_names: &'a str,
    pub first_surname: &'a str,
    pub second_surname: &'a str,
    pub birth_date: Date,
    /// `None` when the stored code is unknown (then it is reported as disagreeing).
    pub sex: Option<Sex>,
    pub birth_state: &'a str,
}

/// What the CURP says that the form disagrees with: birth date, sex, birth state, and the
/// letters taken from each name. Warnings, not errors: the caseworker decides.
pub fn warnings(person: &ValidPerson) -> Vec<Warning> {
    person.curp.as_ref().map_or_else(Vec::new, |curp| {
        curp_warnings(
            curp,
            &Declared {
                given_names: &person.given_names,
                first_surname: &person.first_surname,
                second_surname: person.second_surname.as_deref().unwrap_or(""),
                birth_date: person.birth_date,
                sex: Some(person.sex),
                birth_state: &person.birth_state,
            },
        )
    })
}

/// [`warnings`] for a CURP and declared data, wherever they come from (a form, a stored profile).
pub fn curp_warnings(curp: &Curp, person: &Declared<'_>) -> Vec<Warning> {
    let mut out = Vec::new();
    if curp.birth_date() != person.birth_date {
        out.push(error("birth_date", "curp_disagrees"));
    }
    if Some(curp.sex()) != person.sex {
        out.push(error("sex", "curp_disagrees"));
    }
    if curp.state() != person.birth_state {
        out.push(error("birth_state", "curp_disagrees"));
    }
    for field in names::disagreements(
        curp,
        person.given_names,
        person.first_surname,
        person.second_surname,
    ) {
        out.push(error(field.code(), "curp_letters_disagree"));
    }
    out
}

/// How a caseworker looks a person up. One of the three is filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchForm {
    /// `curp`, `card` or `name`.
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub curp: String,
    #[serde(default)]
    pub card: String,
    #[serde(default)]
    pub given_names: String,
    #[serde(default)]
    pub first_surname: String,
    #[serde(default)]
    pub second_surname: String,
    #[serde(default)]
    pub birth_date: String,
}

/// A valid search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    Curp(Curp),
    Card(String),
    Name {
        given_names: String,
        first_surname: String,
        second_surname: String,
        birth_date: Date,
    },
}

impl SearchForm {
    /// # Errors
    /// Field errors naming what is missing or malformed.
    pub fn validate(&self, today: Date) -> Result<Search, Vec<FieldError>> {
        match self.by.as_str() {
            "curp" => Curp::parse(&self.curp, today)
                .map(Search::Curp)
                .map_err(|e| vec![error("curp", e.code())]),
            "card" => card::parse(&self.card)
                .map(Search::Card)
                .map_err(|e| vec![error("card", e.code())]),
            "name" => {
                let mut errors = Vec::new();
                for (field, value, max, required) in [
                    ("given_names", &self.given_names, MAX_GIVEN, true),
                    ("first_surname", &self.first_surname, MAX_SURNAME, true),
                    ("second_surname", &self.second_surname, MAX_SURNAME, false),
                ] {
                    if let Some(code) = name_error(value, max, required) {
                        errors.push(error(field, code));
                    }
                }
                let date = parse_date(&self.birth_date);
                if self.birth_date.trim().is_empty() {
                    errors.push(error("birth_date", "required"));
                } else if date.is_none() {
                    errors.push(error("birth_date", "date_invalid"));
                }
                match date {
                    Some(birth_date) if errors.is_empty() => Ok(Search::Name {
                        given_names: tidy(&self.given_names),
                        first_surname: tidy(&self.first_surname),
                        second_surname: tidy(&self.second_surname),
                        birth_date,
                    }),
                    _ => Err(errors),
                }
            }
            _ => Err(vec![error("by", "invalid_choice")]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::new(2026, 11, 21).unwrap()
    }

    fn form() -> PersonForm {
        PersonForm {
            given_names: " Ernesto ".into(),
            first_surname: "Gómez".into(),
            second_surname: "Delgado".into(),
            birth_date: "1956-12-31".into(),
            sex: "H".into(),
            birth_state: "DF".into(),
            curp: " gode561231hdfmlr0".into(),
            borough: "09007".into(),
            colonia: "Santa Cruz Meyehualco".into(),
            postal_code: "09290".into(),
            phone: "55 1234 5678".into(),
            ..PersonForm::default()
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    #[test]
    fn a_good_form_is_tidied_and_agrees_with_its_curp() {
        let mut f = form();
        let digit = crate::domain::curp::check_digit("GODE561231HDFMLR0").unwrap();
        f.curp = format!(" gode561231hdfmlr0{digit} ");
        let p = f.validate(today()).unwrap();
        assert_eq!(p.given_names, "Ernesto");
        assert_eq!(p.phone.as_deref(), Some("5512345678"));
        assert_eq!(p.curp.as_ref().unwrap().birth_date(), p.birth_date);
        assert!(warnings(&p).is_empty(), "{:?}", warnings(&p));
        // The same CURP with other names, sex and state: a warning per field.
        f.given_names = "Juan".into();
        f.sex = "M".into();
        f.birth_state = "JC".into();
        f.birth_date = "1956-12-30".into();
        let w = warnings(&f.validate(today()).unwrap());
        assert_eq!(
            codes(&w),
            vec![
                ("birth_date", "curp_disagrees"),
                ("sex", "curp_disagrees"),
                ("birth_state", "curp_disagrees"),
                ("given_names", "curp_letters_disagree"),
            ]
        );
    }

    #[test]
    fn every_bad_field_gets_its_own_error() {
        let f = PersonForm {
            given_names: "Ana\u{7}".into(),
            first_surname: "x".repeat(61),
            second_surname: "123".into(),
            birth_date: "2025-02-30".into(),
            sex: "Q".into(),
            birth_state: "ZZ".into(),
            curp: "GODE561231HDFRRN09".into(),
            ine: "ABC".into(),
            nss: "12345".into(),
            rfc: "GODE5612".into(),
            passport: "A1".into(),
            borough: "09018".into(),
            colonia: String::new(),
            postal_code: "99999".into(),
            street: "x".repeat(201),
            phone: "123".into(),
            residence_since: "2030-01-01".into(),
            ..PersonForm::default()
        };
        let errors = f.validate(today()).unwrap_err();
        assert_eq!(
            codes(&errors),
            vec![
                ("given_names", "control_characters"),
                ("first_surname", "too_long"),
                ("second_surname", "name_characters"),
                ("birth_date", "date_invalid"),
                ("sex", "invalid_choice"),
                ("birth_state", "invalid_choice"),
                ("curp", "curp_check_digit"),
                ("ine", "ine_format"),
                ("nss", "nss_format"),
                ("rfc", "rfc_format"),
                ("passport", "passport_format"),
                ("borough", "invalid_choice"),
                ("colonia", "required"),
                ("postal_code", "postal_code_format"),
                ("street", "too_long"),
                ("phone", "phone_format"),
                ("residence_since", "date_future"),
            ]
        );
    }

    #[test]
    fn dates_future_and_ancient_are_refused() {
        let mut f = form();
        f.curp.clear();
        f.birth_date = "2026-11-22".into();
        assert_eq!(
            codes(&f.validate(today()).unwrap_err()),
            vec![("birth_date", "date_future")]
        );
        f.birth_date = "1899-12-31".into();
        assert_eq!(
            codes(&f.validate(today()).unwrap_err()),
            vec![("birth_date", "date_too_old")]
        );
        f.birth_date = "31/12/1956".into();
        assert!(f.validate(today()).is_ok());
    }

    #[test]
    fn searches() {
        let s = SearchForm {
            by: "card".into(),
            card: "1234".into(),
            ..SearchForm::default()
        };
        assert_eq!(s.validate(today()), Err(vec![error("card", "card_length")]));
        let s = SearchForm {
            by: "name".into(),
            given_names: "Ana".into(),
            first_surname: "López".into(),
            birth_date: "1990-01-01".into(),
            ..SearchForm::default()
        };
        assert!(matches!(s.validate(today()), Ok(Search::Name { .. })));
        let s = SearchForm {
            by: "url".into(),
            ..SearchForm::default()
        };
        assert_eq!(
            s.validate(today()),
            Err(vec![error("by", "invalid_choice")])
        );
    }
}
