//! The follow-up form: a folio and the beneficiary's birth date.

use serde::{Deserialize, Serialize};

use crate::domain::{curp::Date, folio};
use crate::error::FieldError;
use crate::registry::forms::birth_date_field;

/// The most a folio may be as typed (the longest program code is 16 letters).
pub const MAX_FOLIO: usize = 40;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackForm {
    #[serde(default)]
    pub folio: String,
    #[serde(default)]
    pub birth_date: String,
}

impl TrackForm {
    /// The folio in its canonical form and the birth date. A folio whose check character
    /// fails is a field error (a typo, caught before any lookup); whether the pair exists is
    /// the lookup's question and gets one neutral answer.
    ///
    /// # Errors
    /// Every field error found.
    pub fn validate(&self, today: Date) -> Result<(String, Date), Vec<FieldError>> {
        let mut errors = Vec::new();
        let folio = if self.folio.trim().is_empty() {
            errors.push(FieldError::new("folio", "required"));
            None
        } else if self.folio.chars().count() > MAX_FOLIO {
            errors.push(FieldError::new("folio", "too_long"));
            None
        } else {
            let parsed = folio::parse(&self.folio);
            if parsed.is_none() {
                errors.push(FieldError::new("folio", "folio_invalid"));
            }
            parsed
        };
        let birth = birth_date_field(&self.birth_date, today)
            .map_err(|code| errors.push(FieldError::new("birth_date", code)))
            .ok();
        match (folio, birth) {
            (Some(f), Some(b)) if errors.is_empty() => Ok((f, b)),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: Date = Date {
        year: 2026,
        month: 11,
        day: 23,
    };

    fn form(f: &str, b: &str) -> TrackForm {
        TrackForm {
            folio: f.into(),
            birth_date: b.into(),
        }
    }

    #[test]
    fn a_typed_folio_is_read_in_its_canonical_form() {
        let good = folio::folio("PAAM", 2026, 12);
        let typed = format!("  {} ", good.to_lowercase());
        let (f, b) = form(&typed, "04/03/1950").validate(TODAY).unwrap();
        assert_eq!(f, good);
        assert_eq!((b.year, b.month, b.day), (1950, 3, 4));
    }

    #[test]
    fn each_field_says_what_is_wrong() {
        let codes = |f: &str, b: &str| -> Vec<(String, String)> {
            form(f, b)
                .validate(TODAY)
                .unwrap_err()
                .into_iter()
                .map(|e| (e.field, e.code))
                .collect()
        };
        let pair = |f: &str, c: &str| (f.to_owned(), c.to_owned());
        assert_eq!(
            codes("", ""),
            vec![pair("folio", "required"), pair("birth_date", "required")]
        );
        // One character changed: the check character catches it.
        let mut typo = folio::folio("PAAM", 2026, 12);
        typo.replace_range(8..9, "9");
        assert_eq!(
            codes(&typo, "1950-02-30"),
            vec![
                pair("folio", "folio_invalid"),
                pair("birth_date", "date_invalid")
            ]
        );
        assert_eq!(
            codes(&"X".repeat(41), "2030-01-01"),
            vec![pair("folio", "too_long"), pair("birth_date", "date_future")]
        );
    }
}
