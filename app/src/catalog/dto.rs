//! What the catalog screens see. Both languages travel together so that switching the language
//! in the browser re-renders without another request.

use serde::{Deserialize, Serialize};

use crate::domain::text;
use crate::i18n::Locale;

/// A text in the two languages of the interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    pub es: String,
    pub en: String,
}

impl Localized {
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::es_MX => &self.es,
            Locale::en => &self.en,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramCard {
    pub code: String,
    pub name: Localized,
    pub agency_code: String,
    pub agency_name: Localized,
    pub eligibility: Localized,
    pub benefit: Localized,
    /// `false`: the details are illustrative and the page says so.
    pub verified: bool,
}

impl ProgramCard {
    /// Folded texts a search looks in, in both languages.
    fn search_fields(&self) -> Vec<String> {
        [
            &self.code,
            &self.agency_code,
            &self.name.es,
            &self.name.en,
            &self.agency_name.es,
            &self.agency_name.en,
            &self.eligibility.es,
            &self.eligibility.en,
            &self.benefit.es,
            &self.benefit.en,
        ]
        .into_iter()
        .map(|s| text::fold(s))
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifeEventCard {
    pub code: String,
    pub label: Localized,
    pub programs: Vec<ProgramCard>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub events: Vec<LifeEventCard>,
}

impl Catalog {
    /// Distinct programs in the catalog (a program can serve several life events).
    pub fn program_count(&self) -> usize {
        let mut codes: Vec<&str> = self
            .events
            .iter()
            .flat_map(|e| e.programs.iter().map(|p| p.code.as_str()))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        codes.len()
    }

    /// The part of the catalog that matches `query`: a life event whose label matches keeps all
    /// its programs; otherwise it keeps only its matching programs, and goes when none match.
    /// The same function filters on the server (no JavaScript) and in the browser.
    pub fn filter(&self, query: &str) -> Catalog {
        let terms = text::terms(query);
        if terms.is_empty() {
            return self.clone();
        }
        let events = self
            .events
            .iter()
            .filter_map(|event| {
                let label = [
                    text::fold(&event.code),
                    text::fold(&event.label.es),
                    text::fold(&event.label.en),
                ];
                let label: Vec<&str> = label.iter().map(String::as_str).collect();
                if text::all_terms_in(&terms, &label) {
                    return Some(event.clone());
                }
                let programs: Vec<ProgramCard> = event
                    .programs
                    .iter()
                    .filter(|p| {
                        let fields = p.search_fields();
                        let mut fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                        fields.extend(label.iter().copied());
                        text::all_terms_in(&terms, &fields)
                    })
                    .cloned()
                    .collect();
                (!programs.is_empty()).then(|| LifeEventCard {
                    programs,
                    ..event.clone()
                })
            })
            .collect();
        Catalog { events }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(es: &str, en: &str) -> Localized {
        Localized {
            es: es.into(),
            en: en.into(),
        }
    }

    fn program(code: &str, name: &str, agency: &str) -> ProgramCard {
        ProgramCard {
            code: code.into(),
            name: l(name, name),
            agency_code: agency.into(),
            agency_name: l(agency, agency),
            eligibility: l("", ""),
            benefit: l("", ""),
            verified: true,
        }
    }

    fn sample() -> Catalog {
        Catalog {
            events: vec![
                LifeEventCard {
                    code: "DESEMPLEO".into(),
                    label: l("Perdí mi empleo", "I lost my job"),
                    programs: vec![
                        program("SEGDES", "Seguro de Desempleo", "STYFE"),
                        program("COMCOM", "Comedores Comunitarios", "SEDESO"),
                    ],
                },
                LifeEventCard {
                    code: "CUMPLI_68".into(),
                    label: l("Cumplí 68 años", "I turned 68"),
                    programs: vec![
                        program("PAAM", "Pensión Alimentaria", "IAAM"),
                        program("SMMG", "Servicios Médicos", "SEDESA"),
                    ],
                },
                LifeEventCard {
                    code: "ALIMENTACION".into(),
                    label: l("No me alcanza para comer", "I cannot afford food"),
                    programs: vec![program("COMCOM", "Comedores Comunitarios", "SEDESO")],
                },
            ],
        }
    }

    #[test]
    fn counts_each_program_once_across_life_events() {
        assert_eq!(sample().program_count(), 4);
    }

    #[test]
    fn a_matching_life_event_keeps_all_its_programs() {
        let found = sample().filter("empleo");
        assert_eq!(found.events.len(), 1);
        assert_eq!(found.events[0].programs.len(), 2);
    }

    #[test]
    fn a_matching_program_keeps_only_itself_under_each_event() {
        let found = sample().filter("comedores");
        let codes: Vec<_> = found.events.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["DESEMPLEO", "ALIMENTACION"]);
        assert!(found.events.iter().all(|e| e.programs.len() == 1));
    }

    #[test]
    fn search_ignores_accents_and_works_in_english() {
        let found = sample().filter("PENSION");
        assert_eq!(
            found.events[0]
                .programs
                .iter()
                .map(|p| p.code.as_str())
                .collect::<Vec<_>>(),
            ["PAAM"]
        );
        assert_eq!(sample().filter("turned").events[0].code, "CUMPLI_68");
    }

    #[test]
    fn terms_can_combine_event_and_program() {
        let found = sample().filter("68 medicos");
        assert_eq!(found.program_count(), 1);
        assert_eq!(found.events[0].programs[0].code, "SMMG");
    }

    #[test]
    fn nothing_matches_gives_an_empty_catalog() {
        assert!(sample().filter("zzz").events.is_empty());
    }
}
