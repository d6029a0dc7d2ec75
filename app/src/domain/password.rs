//! Password rules of NIST SP 800-63B-4 (§3.1.1.2): length, any Unicode, no composition rules,
//! no expiry, and a blocklist of common and context-specific values. Pure, so the browser can
//! say what is wrong while the person types; the server decides.

use unicode_normalization::UnicodeNormalization;

use crate::domain::text::fold;

/// Fewer characters are refused (NIST: at least 15 when the password is the only factor).
pub const MIN_CHARS: usize = 15;
/// More are refused. NIST asks to allow at least 64.
pub const MAX_CHARS: usize = 256;
/// Letters that must remain once common words, context words, digits and symbols are removed.
const MIN_OWN_LETTERS: usize = 6;
/// Distinct characters a password needs ("aaaaaaaaaaaaaaaa" is not a password).
const MIN_DISTINCT: usize = 5;

/// Words about this service every password is checked against, besides the caller's.
pub const SERVICE_WORDS: &[&str] = &[
    "angel",
    "red angel",
    "ciudad de mexico",
    "cdmx",
    "df",
    "gobierno",
    "alcaldia",
];

const BLOCKLIST: &str = include_str!("password_blocklist.txt");

/// Keyboard and alphabet runs: any four or more characters in a row are not the person's own.
const RUNS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "qwertyuiop",
    "poiuytrewq",
    "asdfghjkl",
    "lkjhgfdsa",
    "zxcvbnm",
    "mnbvcxz",
];

/// Why a password was refused (the code the UI translates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordError {
    TooShort,
    TooLong,
    ControlCharacters,
    /// Mostly common words, runs, or words about this service or the person.
    Common,
    Repetitive,
}

impl PasswordError {
    pub fn code(self) -> &'static str {
        match self {
            PasswordError::TooShort => "password_too_short",
            PasswordError::TooLong => "password_too_long",
            PasswordError::ControlCharacters => "control_characters",
            PasswordError::Common => "password_common",
            PasswordError::Repetitive => "password_repetitive",
        }
    }
}

/// Checks a new password. `context` holds the words of this account (username, name parts) and
/// of the institution (agency and program names); [`SERVICE_WORDS`] are always added.
///
/// # Errors
/// The first rule the password breaks.
pub fn check(password: &str, context: &[&str]) -> Result<(), PasswordError> {
    let normalized: String = password.nfkc().collect();
    let chars = normalized.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if normalized.chars().any(char::is_control) {
        return Err(PasswordError::ControlCharacters);
    }
    let mut distinct: Vec<char> = fold(&normalized).chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT {
        return Err(PasswordError::Repetitive);
    }
    if own_letters(&normalized, context) < MIN_OWN_LETTERS {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// Letters left once digits, symbols, runs, blocklisted and context words are taken out.
fn own_letters(password: &str, context: &[&str]) -> usize {
    let mut letters: String = fold(password)
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect();
    let mut words: Vec<String> = BLOCKLIST
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .chain(
            SERVICE_WORDS
                .iter()
                .chain(context)
                .flat_map(|w| context_words(w)),
        )
        .filter(|w| w.chars().count() >= 2)
        .collect();
    // Longest first, so "teamomucho" goes before "teamo".
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    for word in &words {
        letters = letters.replace(word.as_str(), "");
    }
    for run in RUNS {
        letters = remove_runs(&letters, run);
    }
    letters.chars().count()
}

/// A context value as the words to remove: the whole (without spaces) and each part of 3+ letters.
fn context_words(value: &str) -> Vec<String> {
    let folded: String = fold(value);
    let parts = folded
        .split(|c: char| !c.is_alphabetic())
        .filter(|p| p.chars().count() >= 3);
    let whole: String = folded.chars().filter(|c| c.is_alphabetic()).collect();
    parts.map(str::to_owned).chain([whole]).collect()
}

/// Removes every stretch of 4+ characters that also appears in `run` in the same order.
fn remove_runs(letters: &str, run: &str) -> String {
    let chars: Vec<char> = letters.chars().collect();
    let mut kept = String::new();
    let mut i = 0;
    while i < chars.len() {
        let mut best = 0;
        for len in (4..=chars.len() - i).rev() {
            let candidate: String = chars[i..i + len].iter().collect();
            if run.contains(&candidate) {
                best = len;
                break;
            }
        }
        if best > 0 {
            i += best;
        } else {
            kept.push(chars[i]);
            i += 1;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(check("ñandú corre ya", &[]), Err(PasswordError::TooShort)); // 14 chars
        assert_eq!(check("ñandú corre yaa", &[]), Ok(()));
        assert_eq!(
            check(&"luz verde del río ".repeat(20), &[]),
            Err(PasswordError::TooLong)
        );
        // 64 characters are allowed (NIST: at least 64).
        let long = "el tren ligero pasa por xochimilco cuando amanece sin prisa algu";
        assert_eq!(long.chars().count(), 64);
        assert_eq!(check(long, &[]), Ok(()));
    }

    #[test]
    fn any_unicode_and_no_composition_rules() {
        assert_eq!(check("zanahorias moradas con limón", &[]), Ok(()));
        assert_eq!(check("колокольчик звенит тихо", &[]), Ok(()));
        assert_eq!(check("我的猫喜欢晒太阳和在睡觉的时候", &[]), Ok(()));
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(
            check("zanahorias\u{7}moradas tiernas", &[]),
            Err(PasswordError::ControlCharacters)
        );
    }

    #[test]
    fn common_passwords_padded_to_length_are_refused() {
        for common in [
            "contraseña12345678",
            "Password123456789!",
            "teamomucho2024!!",
            "qwertyuiop123456",
            "123456789012345",
            "abcdefghijklmnop",
            "iloveyouiloveyou",
        ] {
            assert_eq!(check(common, &[]), Err(PasswordError::Common), "{common}");
        }
    }

    #[test]
    fn repetitions_are_refused() {
        assert_eq!(
            check("aaaaaaaaaaaaaaaa", &[]),
            Err(PasswordError::Repetitive)
        );
        assert_eq!(
            check("abababababababab", &[]),
            Err(PasswordError::Repetitive)
        );
    }

    #[test]
    fn context_words_are_refused() {
        assert_eq!(check("RedAngelCDMX2026!", &[]), Err(PasswordError::Common));
        assert_eq!(
            check(
                "Rodríguez Pérez 1980",
                &["lrodriguez", "Lucía Rodríguez Pérez"]
            ),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check("Pensión Bienestar 68", &["Pensión Bienestar"]),
            Err(PasswordError::Common)
        );
        // The same words without the context are the person's own.
        assert_eq!(check("Rodríguez Pérez 1980", &[]), Ok(()));
    }
}
