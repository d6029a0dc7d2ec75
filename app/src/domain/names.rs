//! Personal names: the normalized keys duplicate search blocks and scores on, and the letters a
//! CURP takes from the names (positions 1–4 and 14–16), to warn when they disagree.

use unicode_normalization::UnicodeNormalization;

use super::curp::{Curp, INCONVENIENT};

/// Words skipped when building CURP letters and matching keys (curp.md).
pub const PARTICLES: [&str; 10] = [
    "DE", "LA", "DEL", "LOS", "LAS", "Y", "MC", "MAC", "VON", "VAN",
];

/// When the first given name is one of these (MARÍA, JOSÉ and their abbreviations MA., J.) and
/// another follows, the CURP takes its letters from the second one.
const COMMON_FIRST: [&str; 4] = ["MARIA", "MA", "JOSE", "J"];

/// Upper case without diacritics, for matching (Ñ → N, Ü → U): what cheap keyboards type.
pub fn fold_upper(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_uppercase)
        .collect()
}

/// The words of a name folded for matching, particles removed, anything that is not a letter
/// dropped. `"de la Peña-Núñez"` → `["PENA", "NUNEZ"]`.
pub fn match_words(name: &str) -> Vec<String> {
    fold_upper(name)
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty() && !PARTICLES.contains(w))
        .map(str::to_owned)
        .collect()
}

/// Whether [`match_words`] keeps any word of a name: a second surname may be empty, or only
/// particles. Without folding when the name is ASCII (folding changes only its case).
pub fn has_match_words(name: &str) -> bool {
    if name.is_ascii() {
        name.split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| !w.is_empty() && !PARTICLES.iter().any(|p| p.eq_ignore_ascii_case(w)))
    } else {
        !match_words(name).is_empty()
    }
}

/// The blocking and scoring key of a person's names: first surname, second surname and given
/// names, each folded with particles removed, joined by single spaces in that order.
pub fn name_key(given_names: &str, first_surname: &str, second_surname: &str) -> String {
    [first_surname, second_surname, given_names]
        .iter()
        .flat_map(|part| match_words(part))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A name's words for CURP letters: upper case, Ñ kept apart (it becomes X), other accents
/// dropped, particles skipped.
fn curp_words(name: &str) -> Vec<Vec<char>> {
    let upper: String = name
        .chars()
        .flat_map(char::to_uppercase)
        .map(|c| if c == 'Ñ' { '#' } else { c })
        .collect::<String>()
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect();
    upper
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .filter(|c| *c != '.' && *c != '\'')
                .map(|c| if c.is_ascii_uppercase() { c } else { 'X' })
                .collect::<Vec<char>>()
        })
        .filter(|w| {
            let word: String = w.iter().collect();
            !w.is_empty() && !PARTICLES.contains(&word.as_str())
        })
        .collect()
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'A' | 'E' | 'I' | 'O' | 'U')
}

fn internal(word: &[char], want: impl Fn(char) -> bool) -> char {
    word.iter()
        .skip(1)
        .copied()
        .find(|c| want(*c))
        .unwrap_or('X')
}

fn internal_consonant(word: &[char]) -> char {
    internal(word, |c| c.is_ascii_uppercase() && !is_vowel(c))
}

/// The letters a CURP takes from the names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameLetters {
    /// Positions 1–4 (inconvenient words already replaced).
    pub initials: [char; 4],
    /// Positions 14–16.
    pub consonants: [char; 3],
}

/// Computes positions 1–4 and 14–16 from the names, by the rules of curp.md.
pub fn curp_letters(given_names: &str, first_surname: &str, second_surname: &str) -> NameLetters {
    let first = curp_words(first_surname)
        .into_iter()
        .next()
        .unwrap_or_default();
    let second = curp_words(second_surname).into_iter().next();
    let given_words = curp_words(given_names);
    let given = match given_words.as_slice() {
        [one, two, ..] if COMMON_FIRST.contains(&one.iter().collect::<String>().as_str()) => {
            two.clone()
        }
        [one, ..] => one.clone(),
        [] => Vec::new(),
    };
    let initial = |w: &[char]| w.first().copied().unwrap_or('X');
    let mut initials = [
        initial(&first),
        internal(&first, is_vowel),
        second.as_deref().map_or('X', initial),
        initial(&given),
    ];
    let word: String = initials.iter().collect();
    if INCONVENIENT.contains(&word.as_str()) {
        initials[1] = 'X';
    }
    NameLetters {
        initials,
        consonants: [
            internal_consonant(&first),
            second.as_deref().map_or('X', internal_consonant),
            internal_consonant(&given),
        ],
    }
}

/// The CURP of a person, computed by the algorithm: letters from the names, the birth date, sex,
/// state, RENAPO's differentiator (a digit 0–9 before 2000, a letter from 2000: `index` picks
/// one) and the check digit. Used by the synthetic population; real CURPs come from RENAPO.
pub fn compose_curp(
    given_names: &str,
    first_surname: &str,
    second_surname: &str,
    birth: super::curp::Date,
    sex: super::curp::Sex,
    state: &str,
    index: u8,
) -> String {
    let letters = curp_letters(given_names, first_surname, second_surname);
    let sex = match sex {
        super::curp::Sex::Male => 'H',
        super::curp::Sex::Female => 'M',
        super::curp::Sex::NonBinary => 'X',
    };
    let differentiator = if birth.year < 2000 {
        char::from(b'0' + index % 10)
    } else {
        char::from(b'A' + index % 26)
    };
    let first17: String = letters.initials.iter().collect::<String>()
        + &format!(
            "{:02}{:02}{:02}{sex}{state}",
            birth.year.rem_euclid(100),
            birth.month,
            birth.day
        )
        + &letters.consonants.iter().collect::<String>()
        + &differentiator.to_string();
    let check = super::curp::check_digit(&first17).expect("an alphabet character");
    format!("{first17}{check}")
}

/// A name field whose letters disagree with the CURP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameField {
    FirstSurname,
    SecondSurname,
    GivenNames,
}

impl NameField {
    pub fn code(self) -> &'static str {
        match self {
            NameField::FirstSurname => "first_surname",
            NameField::SecondSurname => "second_surname",
            NameField::GivenNames => "given_names",
        }
    }
}

/// The name fields whose CURP letters disagree with the CURP given (empty when all agree).
pub fn disagreements(
    curp: &Curp,
    given_names: &str,
    first_surname: &str,
    second_surname: &str,
) -> Vec<NameField> {
    let expected = curp_letters(given_names, first_surname, second_surname);
    let actual: Vec<char> = curp.as_str().chars().collect();
    let mut fields = Vec::new();
    let differs = |positions: &[(usize, char)]| positions.iter().any(|(i, c)| actual[*i] != *c);
    // The inconvenient-word rule may have replaced position 2: accept either letter there.
    let second_letter_ok = actual[1] == expected.initials[1] || actual[1] == 'X';
    if !second_letter_ok || differs(&[(0, expected.initials[0]), (13, expected.consonants[0])]) {
        fields.push(NameField::FirstSurname);
    }
    if differs(&[(2, expected.initials[2]), (14, expected.consonants[1])]) {
        fields.push(NameField::SecondSurname);
    }
    if differs(&[(3, expected.initials[3]), (15, expected.consonants[2])]) {
        fields.push(NameField::GivenNames);
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::curp::{Date, check_digit};

    fn today() -> Date {
        Date::new(2026, 11, 21).unwrap()
    }

    fn curp(first17: &str) -> Curp {
        let digit = check_digit(first17).unwrap();
        Curp::parse(&format!("{first17}{digit}"), today()).unwrap()
    }

    #[test]
    fn keys_ignore_accents_case_particles_and_punctuation() {
        assert_eq!(
            name_key("María José", "de la Peña", "Núñez-Ortiz"),
            "PENA NUNEZ ORTIZ MARIA JOSE"
        );
        assert_eq!(
            name_key("maria jose", "PENA", "nunez ortiz"),
            name_key("María José", "de la Peña", "Núñez-Ortiz")
        );
        assert_eq!(match_words("  Mc  Gregor "), vec!["GREGOR"]);
    }

    #[test]
    fn a_name_has_match_words_when_match_words_keeps_one() {
        for name in [
            "",
            " ",
            "De la",
            "de LOS",
            "y",
            "Mc-",
            "Ortiz",
            "de la Peña",
            "Dé",
            "DÉ LA",
            "Ñ",
            "O'Brien",
            "van der Berg",
            "Van",
            "-.'",
            "Da Silva",
            "del  Río",
        ] {
            assert_eq!(
                has_match_words(name),
                !match_words(name).is_empty(),
                "{name:?}"
            );
        }
    }

    #[test]
    fn letters_follow_the_rules() {
        // GÓMEZ DELGADO, ERNESTO → G O D E … M L R (the CURP of SECURITY.md 6, check digit fixed).
        let l = curp_letters("Ernesto", "Gómez", "Delgado");
        assert_eq!(l.initials, ['G', 'O', 'D', 'E']);
        assert_eq!(l.consonants, ['M', 'L', 'R']);
        // MARÍA and JOSÉ give way to the second given name; Ñ becomes X; particles skipped.
        let l = curp_letters("María Guadalupe", "de la Ñora", "");
        assert_eq!(l.initials, ['X', 'O', 'X', 'G']);
        assert_eq!(l.consonants, ['R', 'X', 'D']);
        let l = curp_letters("José", "Peña", "Muñoz");
        assert_eq!(l.initials, ['P', 'E', 'M', 'J'], "a lone JOSÉ is used");
        assert_eq!(l.consonants, ['X', 'X', 'S']);
        // An inconvenient word gets X in position 2: CULO → CXLO.
        let l = curp_letters("Oscar", "Cuevas", "López");
        assert_eq!(l.initials, ['C', 'X', 'L', 'O']);
    }

    mod generated {
        use super::super::*;
        use crate::domain::curp::{Date, STATES, Sex};
        use proptest::prelude::*;

        const GIVEN: [&str; 8] = [
            "María José",
            "José Luis",
            "Ñoño",
            "Ana",
            "Guadalupe",
            "Juan Carlos",
            "Ximena",
            "Úrsula",
        ];
        const SURNAMES: [&str; 8] = [
            "Hernández",
            "de la Peña",
            "Núñez",
            "Ochoa",
            "Iturbide",
            "Cuevas",
            "López",
            "",
        ];
        const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";

        fn person() -> impl Strategy<Value = String> {
            (
                0..GIVEN.len(),
                0..SURNAMES.len() - 1,
                0..SURNAMES.len(),
                (1900i32..=2026, 1u32..=12, 1u32..=31),
                0..3usize,
                0..STATES.len(),
                0u8..36,
            )
                .prop_filter_map(
                    "a real past date",
                    |(g, f, s, (y, m, d), sex, st, i)| {
                        let birth = Date::new(y, m, d)
                            .filter(|b| *b <= Date::new(2026, 11, 21).unwrap())?;
                        let sex = [Sex::Male, Sex::Female, Sex::NonBinary][sex];
                        Some(compose_curp(
                            GIVEN[g],
                            SURNAMES[f],
                            SURNAMES[s],
                            birth,
                            sex,
                            STATES[st],
                            i,
                        ))
                    },
                )
        }

        proptest! {
            #[test]
            fn every_generated_curp_is_valid(curp in person()) {
                let today = Date::new(2026, 11, 21).unwrap();
                prop_assert!(Curp::parse(&curp, today).is_ok(), "{curp}");
            }

            #[test]
            fn a_single_substitution_is_rejected_or_fully_valid(
                curp in person(),
                at in 0usize..18,
                with in 0usize..37,
            ) {
                let today = Date::new(2026, 11, 21).unwrap();
                let mut chars: Vec<char> = curp.chars().collect();
                let replacement = ALPHABET.chars().nth(with).unwrap();
                prop_assume!(chars[at] != replacement);
                chars[at] = replacement;
                let typo: String = chars.iter().collect();
                if let Ok(parsed) = Curp::parse(&typo, today) {
                    // Accepted: then every rule holds for it.
                    prop_assert_eq!(parsed.as_str(), typo.as_str());
                    let first17: String = typo.chars().take(17).collect();
                    prop_assert_eq!(
                        crate::domain::curp::check_digit(&first17),
                        typo.chars().last().and_then(|c| c.to_digit(10))
                    );
                    prop_assert!(parsed.birth_date() <= today);
                    prop_assert!(STATES.contains(&parsed.state()));
                }
            }
        }
    }

    #[test]
    fn disagreements_name_the_field() {
        let c = curp("GODE561231HDFMLR0");
        assert!(disagreements(&c, "Ernesto", "Gómez", "Delgado").is_empty());
        assert_eq!(
            disagreements(&c, "Ernesto", "Gómez", "Ortega"),
            vec![NameField::SecondSurname]
        );
        assert_eq!(
            disagreements(&c, "Juan", "Pérez", "Delgado"),
            vec![NameField::FirstSurname, NameField::GivenNames]
        );
    }
}
