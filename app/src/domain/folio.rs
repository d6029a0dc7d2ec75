//! Folios: the number a person keeps to follow a request, `PAAM-26-000123-K` (program, year,
//! sequence, check character). The check character is Luhn mod 36 over the letters and digits,
//! so a mistyped character or two swapped neighbours are caught before any lookup.

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn value(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|a| *a == c)
}

/// The check character of the letters and digits of `body` (other characters are skipped).
pub fn check_char(body: &str) -> char {
    let n = ALPHABET.len();
    let mut factor = 2;
    let mut sum = 0;
    for c in body.bytes().rev().filter_map(value) {
        let addend = factor * c;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / n + addend % n;
    }
    ALPHABET[(n - sum % n) % n] as char
}

/// The folio of the `sequence`th request of `program` in `year`.
pub fn folio(program: &str, year: i32, sequence: u32) -> String {
    let body = format!("{program}-{:02}-{sequence:06}", year.rem_euclid(100));
    let check = check_char(&body);
    format!("{body}-{check}")
}

/// A folio as typed (spaces, lower case) in its canonical form, if its check character holds.
pub fn parse(input: &str) -> Option<String> {
    let clean: String = input
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let (body, check) = clean.rsplit_once('-')?;
    let parts: Vec<&str> = body.split('-').collect();
    let valid_shape = parts.len() == 3
        && (2..=16).contains(&parts[0].len())
        && parts[0]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && parts[1].len() == 2
        && parts[2].len() >= 6
        && parts[1..]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    (valid_shape && check.len() == 1 && check.starts_with(check_char(body))).then_some(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folios_read_well_and_check_themselves() {
        let f = folio("PAAM", 2026, 123);
        assert!(f.starts_with("PAAM-26-000123-"), "{f}");
        assert_eq!(parse(&f.to_lowercase()), Some(f.clone()));
        assert_eq!(parse(&format!(" {f} ")), Some(f.clone()));
        assert_eq!(parse("PAAM-26-000123"), None);
    }

    #[test]
    fn every_single_change_and_adjacent_swap_is_caught() {
        let f = folio("MADSOL", 2026, 4071);
        let body = &f[..f.len() - 2];
        let check = f.chars().last().unwrap();
        let bytes: Vec<u8> = body.bytes().collect();
        for i in 0..bytes.len() {
            if bytes[i] == b'-' {
                continue;
            }
            for c in ALPHABET {
                if *c == bytes[i] {
                    continue;
                }
                let mut changed = bytes.clone();
                changed[i] = *c;
                let changed = String::from_utf8(changed).unwrap();
                assert_ne!(check_char(&changed), check, "{changed}");
            }
            if i + 1 < bytes.len() && bytes[i + 1] != b'-' && bytes[i] != bytes[i + 1] {
                let mut swapped = bytes.clone();
                swapped.swap(i, i + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                assert_ne!(check_char(&swapped), check, "{swapped}");
            }
        }
    }
}
