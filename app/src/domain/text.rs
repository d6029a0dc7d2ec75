//! Text folding for search: what a person types on a phone ("nino", "empleo") must find what
//! the catalog writes ("Niñas y Niños", "Desempleo").

use unicode_normalization::UnicodeNormalization;

/// Lowercases and removes diacritics (á → a, ñ → n, ü → u), so comparisons ignore accents,
/// case and the tilde of the ñ that cheap keyboards often lack.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The search terms of a query: folded, split on anything that is not a letter or a digit.
pub fn terms(query: &str) -> Vec<String> {
    fold(query)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// True when every term occurs in at least one of the (already folded) fields.
/// No terms matches everything.
pub fn all_terms_in(terms: &[String], folded_fields: &[&str]) -> bool {
    terms
        .iter()
        .all(|t| folded_fields.iter().any(|f| f.contains(t.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_tilde() {
        assert_eq!(
            fold("Niñas y NIÑOS Álvaro Obregón"),
            "ninas y ninos alvaro obregon"
        );
    }

    #[test]
    fn splits_terms_on_punctuation_and_spaces() {
        assert_eq!(
            terms("  ¿Perdí  el empleo?  "),
            vec!["perdi", "el", "empleo"]
        );
        assert!(terms(" ¿? ").is_empty());
    }

    #[test]
    fn every_term_must_match_some_field() {
        let (name, agency) = (fold("Seguro de Desempleo"), fold("STyFE"));
        let fields = [name.as_str(), agency.as_str()];
        assert!(all_terms_in(&terms("desempleo styfe"), &fields));
        assert!(!all_terms_in(&terms("desempleo escuela"), &fields));
    }

    #[test]
    fn an_empty_query_matches_everything() {
        assert!(all_terms_in(&terms(""), &["anything"]));
    }
}
