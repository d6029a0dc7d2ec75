//! The Ángel card number: ten digits, the last a Luhn check digit, so a mistyped digit or two
//! swapped neighbours are caught before any lookup. Shown in groups (`1234 5678 90`); typed with
//! or without spaces and hyphens.

/// Digits in a card number, check digit included.
pub const LEN: usize = 10;

/// The Luhn check digit of a string of digits.
pub fn check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).expect("a digit")
}

/// A card number from nine random digits (the first not zero).
pub fn from_body(body: [u8; LEN - 1]) -> String {
    let mut digits = body;
    if digits[0] == 0 {
        digits[0] = 1;
    }
    let check = check_digit(&digits);
    digits
        .iter()
        .chain(std::iter::once(&check))
        .map(|d| char::from(b'0' + d))
        .collect()
}

/// Why a typed card number is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardError {
    Length,
    CheckDigit,
}

impl CardError {
    pub fn code(self) -> &'static str {
        match self {
            CardError::Length => "card_length",
            CardError::CheckDigit => "card_check_digit",
        }
    }
}

/// Normalizes and checks a typed card number: spaces and hyphens dropped, ten digits, the last
/// the check digit.
///
/// # Errors
/// `Length` (not ten digits) or `CheckDigit`.
pub fn parse(input: &str) -> Result<String, CardError> {
    let digits: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() != LEN || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CardError::Length);
    }
    let values: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    if check_digit(&values[..LEN - 1]) != values[LEN - 1] {
        return Err(CardError::CheckDigit);
    }
    Ok(digits)
}

/// `1234 5678 90`: the number as printed on the card.
pub fn grouped(number: &str) -> String {
    if number.len() != LEN {
        return number.to_owned();
    }
    format!("{} {} {}", &number[..4], &number[4..8], &number[8..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_examples() {
        // The classic Luhn example 7992739871 → 3.
        assert_eq!(check_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
        let n = from_body([0, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(n.len(), 10);
        assert!(n.starts_with('1'));
        assert_eq!(parse(&grouped(&n)), Ok(n.clone()));
        assert_eq!(parse(&n.replace(' ', "-")), Ok(n.clone()));
    }

    #[test]
    fn every_single_digit_error_and_adjacent_swap_is_caught() {
        let n = from_body([4, 8, 1, 5, 9, 2, 6, 3, 7]);
        let digits: Vec<u8> = n.bytes().collect();
        for i in 0..LEN {
            for d in b'0'..=b'9' {
                if d == digits[i] {
                    continue;
                }
                let mut typo = digits.clone();
                typo[i] = d;
                let typo = String::from_utf8(typo).unwrap();
                assert_eq!(parse(&typo), Err(CardError::CheckDigit), "{typo}");
            }
        }
        for i in 0..LEN - 1 {
            if digits[i] == digits[i + 1] || (digits[i] as i32 - digits[i + 1] as i32).abs() == 9 {
                continue; // Luhn misses 0↔9 swaps, a documented limit.
            }
            let mut swapped = digits.clone();
            swapped.swap(i, i + 1);
            let swapped = String::from_utf8(swapped).unwrap();
            assert_eq!(parse(&swapped), Err(CardError::CheckDigit), "{swapped}");
        }
        assert_eq!(parse("12345"), Err(CardError::Length));
        assert_eq!(parse("12345678a0"), Err(CardError::Length));
    }
}
