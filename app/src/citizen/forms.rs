//! The citizen account's forms as they arrive (plain form posts) and their validation. Unknown
//! fields are refused. Whether a card, a CURP, a code or a password is right is the service's
//! question (one neutral answer); these only check what can be checked without looking.

use serde::{Deserialize, Serialize};

use crate::domain::{card, curp::Curp, curp::Date, password};
use crate::error::FieldError;
use crate::registry::forms::birth_date_field;
use crate::staff::forms::new_password_errors;

/// Characters of an activation code (no 0/O, 1/I/L: read aloud and typed from paper).
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in an activation code, printed as two groups of five.
pub const CODE_LEN: usize = 10;
/// The longest comment kept with a rating.
pub const MAX_COMMENT: usize = 1000;

fn error(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

fn card_field(text: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    if text.trim().is_empty() {
        errors.push(error("card", "required"));
        return None;
    }
    if text.chars().count() > 20 {
        errors.push(error("card", "too_long"));
        return None;
    }
    card::parse(text)
        .map_err(|e| errors.push(error("card", e.code())))
        .ok()
}

/// An activation code as typed: upper-cased, spaces and hyphens dropped.
pub fn normalize_code(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// `ABCDE-FGHJK`: the code as printed.
pub fn grouped_code(code: &str) -> String {
    if code.len() == CODE_LEN {
        format!("{}-{}", &code[..5], &code[5..])
    } else {
        code.to_owned()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitizenSignInForm {
    #[serde(default)]
    pub card: String,
    #[serde(default)]
    pub password: String,
}

impl CitizenSignInForm {
    /// The card number (normalized).
    ///
    /// # Errors
    /// Every field error found.
    pub fn validate(&self) -> Result<String, Vec<FieldError>> {
        let mut errors = Vec::new();
        let card = card_field(&self.card, &mut errors);
        if self.password.is_empty() {
            errors.push(error("password", "required"));
        } else if self.password.chars().count() > password::MAX_CHARS {
            errors.push(error("password", "password_too_long"));
        }
        match card {
            Some(card) if errors.is_empty() => Ok(card),
            _ => Err(errors),
        }
    }
}

/// How the person proves who they are when opening the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The CURP (the card and the birth date must match it).
    Curp(String),
    /// The code a caseworker printed (normalized).
    Code(String),
}

/// A checked activation: the card, the birth date, the proof, the new password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub card: String,
    pub birth_date: Date,
    pub proof: Proof,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitizenActivateForm {
    #[serde(default)]
    pub card: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub curp: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

impl CitizenActivateForm {
    /// # Errors
    /// Every field error found (the password rules included).
    pub fn validate(&self, today: Date) -> Result<Activation, Vec<FieldError>> {
        let mut errors = Vec::new();
        let card = card_field(&self.card, &mut errors);
        let birth_date = birth_date_field(&self.birth_date, today)
            .map_err(|code| errors.push(error("birth_date", code)))
            .ok();
        let code = normalize_code(&self.code);
        let proof = match (self.curp.trim().is_empty(), code.is_empty()) {
            (true, true) => {
                errors.push(error("curp", "curp_or_code"));
                None
            }
            (false, _) if self.curp.chars().count() > 30 => {
                errors.push(error("curp", "too_long"));
                None
            }
            (false, _) => match Curp::parse(&self.curp, today) {
                Ok(curp) => Some(Proof::Curp(curp.as_str().to_owned())),
                Err(e) => {
                    errors.push(error("curp", e.code()));
                    None
                }
            },
            (true, false) => {
                if code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
                    Some(Proof::Code(code))
                } else {
                    errors.push(error("code", "code_format"));
                    None
                }
            }
        };
        let mut context = vec![self.card.as_str(), self.curp.as_str()];
        context.retain(|c| !c.trim().is_empty());
        errors.extend(new_password_errors(&self.password, &self.confirm, &context));
        match (card, birth_date, proof) {
            (Some(card), Some(birth_date), Some(proof)) if errors.is_empty() => Ok(Activation {
                card,
                birth_date,
                proof,
            }),
            _ => Err(errors),
        }
    }
}

/// A rating and its optional comment, as both feedback forms carry them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub stars: u8,
    pub comment: Option<String>,
}

fn rating_fields(rating: &str, comment: &str, errors: &mut Vec<FieldError>) -> Option<Rating> {
    let stars = match rating.trim() {
        "" => {
            errors.push(error("rating", "required"));
            None
        }
        text => match text.parse::<u8>() {
            Ok(n) if (1..=5).contains(&n) => Some(n),
            Ok(_) => {
                errors.push(error("rating", "out_of_range"));
                None
            }
            Err(_) => {
                errors.push(error("rating", "number_format"));
                None
            }
        },
    };
    let comment = comment.trim();
    let comment_ok = if comment.chars().count() > MAX_COMMENT {
        errors.push(error("comment", "too_long"));
        false
    } else if comment
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.push(error("comment", "control_characters"));
        false
    } else {
        true
    };
    stars.filter(|_| comment_ok).map(|stars| Rating {
        stars,
        comment: (!comment.is_empty()).then(|| comment.replace("\r\n", "\n")),
    })
}

/// A rating given from the account: the request by its folio (it must be one of theirs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFeedbackForm {
    #[serde(default)]
    pub folio: String,
    #[serde(default)]
    pub rating: String,
    #[serde(default)]
    pub comment: String,
}

impl AccountFeedbackForm {
    /// # Errors
    /// Every field error found.
    pub fn validate(&self) -> Result<(String, Rating), Vec<FieldError>> {
        let mut errors = Vec::new();
        let folio = crate::domain::folio::parse(&self.folio);
        if folio.is_none() {
            errors.push(error("folio", "folio_invalid"));
        }
        let rating = rating_fields(&self.rating, &self.comment, &mut errors);
        match (folio, rating) {
            (Some(f), Some(r)) if errors.is_empty() => Ok((f, r)),
            _ => Err(errors),
        }
    }
}

/// A rating given at the public follow-up: the folio, and the pass the follow-up gave (the
/// birth date is not asked again nor carried in the page).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolioFeedbackForm {
    #[serde(default)]
    pub folio: String,
    #[serde(default)]
    pub pass: String,
    #[serde(default)]
    pub rating: String,
    #[serde(default)]
    pub comment: String,
}

impl FolioFeedbackForm {
    /// The rating (the pass is the service's to check).
    ///
    /// # Errors
    /// Every field error found.
    pub fn validate(&self) -> Result<Rating, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.pass.is_empty() || self.pass.len() > 120 {
            errors.push(error("pass", "required"));
        }
        let rating = rating_fields(&self.rating, &self.comment, &mut errors);
        match rating {
            Some(r) if errors.is_empty() => Ok(r),
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
        day: 22,
    };

    fn card() -> String {
        card::from_body([1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    fn activation() -> CitizenActivateForm {
        CitizenActivateForm {
            card: card::grouped(&card()),
            birth_date: "1958-03-14".into(),
            code: "abcde-fghjk".into(),
            password: "una frase de paso larga".into(),
            confirm: "una frase de paso larga".into(),
            ..CitizenActivateForm::default()
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    #[test]
    fn an_activation_with_a_printed_code_is_normalized() {
        let a = activation().validate(TODAY).expect("valid");
        assert_eq!(a.card, card());
        assert_eq!(a.proof, Proof::Code("ABCDEFGHJK".into()));
        assert_eq!(grouped_code("ABCDEFGHJK"), "ABCDE-FGHJK");
    }

    #[test]
    fn an_activation_needs_a_curp_or_a_code_and_good_fields() {
        let mut f = activation();
        f.code.clear();
        assert_eq!(
            codes(&f.validate(TODAY).unwrap_err()),
            [("curp", "curp_or_code")]
        );
        f.code = "ABCDE-FGHJ0".into();
        assert_eq!(
            codes(&f.validate(TODAY).unwrap_err()),
            [("code", "code_format")]
        );
        let mut f = activation();
        f.card = "1234567890".into();
        f.birth_date = "2030-01-01".into();
        f.confirm = "otra".into();
        let errors = f.validate(TODAY).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["card", "birth_date", "confirm"]);
        let mut f = activation();
        f.curp = "GODE561231HDFRRN0".into();
        assert_eq!(
            codes(&f.validate(TODAY).unwrap_err()),
            [("curp", "curp_length")]
        );
    }

    #[test]
    fn ratings_are_one_to_five_with_an_optional_bounded_comment() {
        let form = |rating: &str, comment: &str| AccountFeedbackForm {
            folio: String::new(),
            rating: rating.into(),
            comment: comment.into(),
        };
        let mut errors = Vec::new();
        assert_eq!(
            rating_fields("4", "  bien\r\natendida ", &mut errors),
            Some(Rating {
                stars: 4,
                comment: Some("bien\natendida".into())
            })
        );
        assert!(errors.is_empty());
        for (rating, comment, field, code) in [
            ("", "", "rating", "required"),
            ("6", "", "rating", "out_of_range"),
            ("0", "", "rating", "out_of_range"),
            ("cinco", "", "rating", "number_format"),
            ("3", "a\u{7}b", "comment", "control_characters"),
        ] {
            let errors = form(rating, comment).validate().unwrap_err();
            assert!(
                codes(&errors).contains(&(field, code)),
                "{rating} {comment:?}: {errors:?}"
            );
        }
        let long = "x".repeat(MAX_COMMENT + 1);
        assert!(
            codes(&form("3", &long).validate().unwrap_err()).contains(&("comment", "too_long"))
        );
    }
}
