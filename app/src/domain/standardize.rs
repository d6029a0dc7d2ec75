//! Standardizing what agencies' own systems export before it is matched against the registry
//! (the legacy import): names, dates, boroughs and sexes written the many ways those systems
//! write them, each read into the registry's one form or refused with a reason — never guessed.
//! Pure: "today" is an argument.

use super::curp::{Date, Sex};
use super::lifecycle::Status;
use super::names::{fold_upper, match_words};

/// A name as the registry displays it: upper case with its accents and Ñ kept, spaces trimmed
/// and collapsed. `None` when nothing with a letter is left. The matching key is
/// [`super::names::name_key`] of the same text.
pub fn display_name(raw: &str) -> Option<String> {
    let words: Vec<String> = raw
        .split_whitespace()
        .map(|w| w.chars().flat_map(char::to_uppercase).collect())
        .collect();
    let name = words.join(" ");
    name.chars().any(char::is_alphabetic).then_some(name)
}

/// Why a date cell was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not one of the accepted formats.
    Format,
    /// The format is right but the day does not exist (31/02/2020).
    Impossible,
    /// After today, where only a past date makes sense (a birth date).
    Future,
}

impl DateError {
    /// A stable code for the import report (not written yet: nothing reads it so far).
    pub fn code(self) -> &'static str {
        match self {
            DateError::Format => "date_format",
            DateError::Impossible => "date_impossible",
            DateError::Future => "date_future",
        }
    }
}

/// A date in one of the formats agencies' systems export: `YYYY-MM-DD` (or `/`), `DD/MM/YYYY`
/// (or `-`, `.`; one-digit days and months too), `DD/MM/YY` (same separators). A time of day after
/// it (`1950-03-05 00:00:00`, as spreadsheets add) is ignored. A two-digit year is the most
/// recent one not after today: `24` is 2024 in 2026, `51` is 1951.
pub fn parse_date(raw: &str, today: Date) -> Result<Date, DateError> {
    let text = raw.trim();
    let text = match text.split_once([' ', 'T']) {
        Some((date, time)) if time.trim().chars().all(|c| c.is_ascii_digit() || c == ':') => date,
        Some(_) => return Err(DateError::Format),
        None => text,
    };
    let separator = text
        .chars()
        .find(|c| matches!(c, '-' | '/' | '.'))
        .ok_or(DateError::Format)?;
    let parts: Vec<&str> = text.split(separator).collect();
    let [a, b, c] = parts[..] else {
        return Err(DateError::Format);
    };
    if ![a, b, c]
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(DateError::Format);
    }
    let number = |p: &str| p.parse::<u32>().map_err(|_| DateError::Format);
    let (year, month, day) = match (a.len(), b.len(), c.len()) {
        (4, 1..=2, 1..=2) => (number(a)? as i32, number(b)?, number(c)?),
        (1..=2, 1..=2, 4) => (number(c)? as i32, number(b)?, number(a)?),
        (1..=2, 1..=2, 2) => {
            let short = number(c)? as i32;
            let (day, month) = (number(a)?, number(b)?);
            let recent = today.year - today.year.rem_euclid(100) + short;
            let after_today = Date::new(recent, month, day).is_some_and(|d| d > today);
            let year = if after_today || recent > today.year {
                recent - 100
            } else {
                recent
            };
            (year, month, day)
        }
        _ => return Err(DateError::Format),
    };
    Date::new(year, month, day).ok_or(DateError::Impossible)
}

/// A birth date: [`parse_date`], and not after today.
pub fn birth_date(raw: &str, today: Date) -> Result<Date, DateError> {
    let date = parse_date(raw, today)?;
    if date > today {
        return Err(DateError::Future);
    }
    Ok(date)
}

/// Words that name the kind of place, not the place: "Alcaldía Coyoacán", "Del. Tlalpan".
const PLACE_WORDS: [&str; 6] = ["ALCALDIA", "ALC", "DELEGACION", "DELEG", "DEL", "CDMX"];

/// The words of a borough's name for matching: folded, particles and place words dropped.
fn borough_words(name: &str) -> Vec<String> {
    match_words(name)
        .into_iter()
        .filter(|w| !PLACE_WORDS.contains(&w.as_str()))
        .collect()
}

/// The INEGI code of a borough written as a code (`09007`, `9007`, `007`, `7`) or a name in any
/// of its variants: accents, case and punctuation ignored ("IZTAPALAPA", "Alvaro Obregon",
/// "Gustavo A Madero", "GAM", "Magdalena Contreras", "Alcaldía Tlalpan"), or the first word of
/// one borough's name alone when no other borough starts with it ("Cuajimalpa").
/// `boroughs` are the registry's (code, name) pairs. `None` when nothing or more than one fits.
pub fn borough<'a>(raw: &str, boroughs: &'a [(String, String)]) -> Option<&'a str> {
    let text = raw.trim();
    if !text.is_empty() && text.len() <= 5 && text.chars().all(|c| c.is_ascii_digit()) {
        let number: u32 = text.parse().ok()?;
        let code = match text.len() {
            4 | 5 => format!("{number:05}"),
            _ => format!("09{number:03}"),
        };
        return boroughs
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(c, _)| c.as_str());
    }
    let words = borough_words(text);
    if words.is_empty() {
        return None;
    }
    if words == ["GAM"] {
        return boroughs
            .iter()
            .find(|(_, n)| borough_words(n) == ["GUSTAVO", "A", "MADERO"])
            .map(|(c, _)| c.as_str());
    }
    let known: Vec<(&str, Vec<String>)> = boroughs
        .iter()
        .map(|(c, n)| (c.as_str(), borough_words(n)))
        .collect();
    if let Some((code, _)) = known.iter().find(|(_, w)| *w == words) {
        return Some(code);
    }
    let starts: Vec<&str> = known
        .iter()
        .filter(|(_, w)| words.len() == 1 && w.first() == words.first())
        .map(|(c, _)| *c)
        .collect();
    match starts[..] {
        [code] => Some(code),
        _ => None,
    }
}

/// Why a sex cell was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SexError {
    /// "M" is *mujer* in the CURP and *masculino* in many systems; `1`/`2` depend on the
    /// system too. The import's mapping file (still to be written) will have to say which.
    Ambiguous,
    /// Not a value the registry knows.
    Unknown,
}

impl SexError {
    /// A stable code for the import report (not written yet: nothing reads it so far).
    pub fn code(self) -> &'static str {
        match self {
            SexError::Ambiguous => "sex_ambiguous",
            SexError::Unknown => "sex_unknown",
        }
    }
}

/// A sex written as a word in Spanish or English or an unambiguous letter (`H` hombre, `F`
/// femenino, `X`). A single `M` and digits are ambiguous and refused; the import's mapping file
/// (still to be written) is where an agency will say what its values mean.
pub fn sex(raw: &str) -> Result<Sex, SexError> {
    let folded = fold_upper(raw.trim());
    match folded.trim_end_matches('.') {
        "H" | "HOMBRE" | "MASCULINO" | "MASC" | "VARON" | "MALE" => Ok(Sex::Male),
        "F" | "MUJER" | "FEMENINO" | "FEM" | "FEMALE" => Ok(Sex::Female),
        "X" | "NO BINARIO" | "NO BINARIE" | "NON-BINARY" | "NONBINARY" => Ok(Sex::NonBinary),
        "M" | "1" | "2" | "0" => Err(SexError::Ambiguous),
        _ => Err(SexError::Unknown),
    }
}

/// A request's status as agencies' systems write it: our codes, or the words their screens
/// use in Spanish (`ACTIVO`, `BAJA`, `EN TRÁMITE`…) or English. `None` when unknown: the
/// import's mapping file (`[status]`) says what an agency's own values mean.
pub fn status(raw: &str) -> Option<Status> {
    let folded = fold_upper(raw.trim()).replace(['_', '-'], " ");
    let folded = folded.trim_end_matches('.');
    Some(match folded {
        "REQUESTED" | "SOLICITADO" | "SOLICITADA" | "SOLICITUD" | "EN TRAMITE" | "PENDIENTE"
        | "REGISTRADO" | "REGISTRADA" => Status::Requested,
        "IN REVIEW" | "EN REVISION" | "EN ESTUDIO" | "EN VALIDACION" => Status::InReview,
        "APPROVED" | "APROBADO" | "APROBADA" | "AUTORIZADO" | "AUTORIZADA" | "PROCEDENTE" => {
            Status::Approved
        }
        "ACTIVE" | "ACTIVO" | "ACTIVA" | "VIGENTE" | "ALTA" | "BENEFICIARIO" | "BENEFICIARIA" => {
            Status::Active
        }
        "SUSPENDED" | "SUSPENDIDO" | "SUSPENDIDA" | "SUSPENSION" => Status::Suspended,
        "EXITED" | "BAJA" | "BAJA DEFINITIVA" | "EGRESADO" | "EGRESADA" | "CONCLUIDO"
        | "CONCLUIDA" => Status::Exited,
        "REJECTED" | "RECHAZADO" | "RECHAZADA" | "NEGADO" | "NEGADA" | "IMPROCEDENTE" => {
            Status::Rejected
        }
        "WITHDRAWN" | "DESISTIDO" | "DESISTIDA" | "DESISTIMIENTO" | "CANCELADO" | "CANCELADA" => {
            Status::Withdrawn
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(year: i32, month: u32, day: u32) -> Date {
        Date::new(year, month, day).unwrap()
    }

    const TODAY: Date = Date {
        year: 2026,
        month: 11,
        day: 23,
    };

    fn boroughs() -> Vec<(String, String)> {
        [
            ("09003", "Coyoacán"),
            ("09004", "Cuajimalpa de Morelos"),
            ("09005", "Gustavo A. Madero"),
            ("09007", "Iztapalapa"),
            ("09008", "La Magdalena Contreras"),
            ("09010", "Álvaro Obregón"),
            ("09011", "Tláhuac"),
            ("09012", "Tlalpan"),
            ("09014", "Benito Juárez"),
            ("09016", "Miguel Hidalgo"),
        ]
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect()
    }

    #[test]
    fn names_are_upper_cased_with_accents_kept() {
        assert_eq!(
            display_name("  maría   josé  peña ").as_deref(),
            Some("MARÍA JOSÉ PEÑA")
        );
        assert_eq!(display_name("Núñez").as_deref(), Some("NÚÑEZ"));
        assert_eq!(display_name("   "), None);
        assert_eq!(display_name("-- ."), None);
    }

    #[test]
    fn dates_in_the_common_formats() {
        for text in [
            "1950-03-05",
            "1950/03/05",
            "05/03/1950",
            "5/3/1950",
            "05-03-1950",
            "05.03.1950",
            "05/03/50",
            "05-03-50",
            " 1950-03-05 00:00:00 ",
            "1950-03-05T00:00:00",
            "05/03/1950 0:00",
        ] {
            assert_eq!(parse_date(text, TODAY), Ok(day(1950, 3, 5)), "{text}");
        }
    }

    #[test]
    fn two_digit_years_are_the_most_recent_past_one() {
        assert_eq!(parse_date("01-02-24", TODAY), Ok(day(2024, 2, 1)));
        assert_eq!(parse_date("23-11-26", TODAY), Ok(day(2026, 11, 23)));
        assert_eq!(parse_date("24-11-26", TODAY), Ok(day(1926, 11, 24)));
        assert_eq!(parse_date("01-01-27", TODAY), Ok(day(1927, 1, 1)));
        assert_eq!(parse_date("29-02-00", TODAY), Ok(day(2000, 2, 29)));
    }

    #[test]
    fn impossible_and_malformed_dates_are_refused() {
        assert_eq!(parse_date("31/02/2020", TODAY), Err(DateError::Impossible));
        assert_eq!(parse_date("2021-02-29", TODAY), Err(DateError::Impossible));
        assert_eq!(parse_date("13/13/2020", TODAY), Err(DateError::Impossible));
        assert_eq!(parse_date("00/01/2020", TODAY), Err(DateError::Impossible));
        for text in [
            "",
            "ayer",
            "1950",
            "05031950",
            "05/03",
            "05/03/1950/1",
            "5-3/1950",
            "1950-03-05 mañana",
            "050/03/1950",
            "05/03/195",
            "+5/03/1950",
        ] {
            assert_eq!(parse_date(text, TODAY), Err(DateError::Format), "{text:?}");
        }
    }

    #[test]
    fn birth_dates_are_not_in_the_future() {
        assert_eq!(birth_date("23/11/2026", TODAY), Ok(TODAY));
        assert_eq!(birth_date("24/11/2026", TODAY), Err(DateError::Future));
        assert_eq!(birth_date("31/02/2020", TODAY), Err(DateError::Impossible));
    }

    #[test]
    fn boroughs_by_code_or_name_variant() {
        let list = boroughs();
        for (text, code) in [
            ("09007", "09007"),
            ("9007", "09007"),
            ("007", "09007"),
            ("7", "09007"),
            ("IZTAPALAPA", "09007"),
            ("iztapalapa ", "09007"),
            ("Alcaldía Iztapalapa", "09007"),
            ("Del. Tlalpan", "09012"),
            ("ALVARO OBREGON", "09010"),
            ("Gustavo A Madero", "09005"),
            ("GUSTAVO A. MADERO", "09005"),
            ("GAM", "09005"),
            ("Magdalena Contreras", "09008"),
            ("LA MAGDALENA CONTRERAS", "09008"),
            ("Cuajimalpa", "09004"),
            ("CUAJIMALPA DE MORELOS", "09004"),
            ("Tlahuac", "09011"),
            ("Benito Juarez", "09014"),
            ("Miguel", "09016"),
        ] {
            assert_eq!(borough(text, &list), Some(code), "{text}");
        }
        for text in [
            "",
            "18",
            "09018",
            "15001",
            "Ecatepec",
            "Juárez",
            "Alcaldía",
            "Miguel Ángel",
        ] {
            assert_eq!(borough(text, &list), None, "{text:?}");
        }
    }

    #[test]
    fn a_first_word_shared_by_two_boroughs_is_not_enough() {
        let mut list = boroughs();
        list.push(("09099".to_owned(), "Benito Otro".to_owned()));
        assert_eq!(borough("Benito", &list), None);
        assert_eq!(borough("Benito Juárez", &list), Some("09014"));
    }

    #[test]
    fn sexes_as_words_or_unambiguous_letters() {
        for text in ["H", "h", "Hombre", "MASCULINO", "Masc.", "Varón"] {
            assert_eq!(sex(text), Ok(Sex::Male), "{text}");
        }
        for text in ["F", "Mujer", "femenino", "FEM"] {
            assert_eq!(sex(text), Ok(Sex::Female), "{text}");
        }
        for text in ["X", "No binario"] {
            assert_eq!(sex(text), Ok(Sex::NonBinary), "{text}");
        }
        for text in ["M", "m", "1", "2"] {
            assert_eq!(sex(text), Err(SexError::Ambiguous), "{text}");
        }
        for text in ["", "?", "otro"] {
            assert_eq!(sex(text), Err(SexError::Unknown), "{text:?}");
        }
    }

    #[test]
    fn statuses_read_as_agencies_write_them() {
        for (raw, want) in [
            ("active", Status::Active),
            ("Activo", Status::Active),
            (" VIGENTE ", Status::Active),
            ("baja", Status::Exited),
            ("Baja definitiva", Status::Exited),
            ("En trámite", Status::Requested),
            ("EN_REVISION", Status::InReview),
            ("in_review", Status::InReview),
            ("Negada", Status::Rejected),
            ("cancelado.", Status::Withdrawn),
            ("suspendida", Status::Suspended),
        ] {
            assert_eq!(status(raw), Some(want), "{raw}");
        }
        for raw in ["", "1", "A", "ACTIVE?", "de baja temporal"] {
            assert_eq!(status(raw), None, "{raw}");
        }
        // Every code of ours reads back as itself.
        for s in Status::ALL {
            assert_eq!(status(s.code()), Some(s));
        }
    }
}
