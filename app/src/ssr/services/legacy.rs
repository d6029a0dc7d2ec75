//! The legacy import (issue 9): people as agencies' own systems keep them, standardized
//! ([`crate::domain::standardize`]), validated by the intake form's own rules, matched against
//! the registry and written in chunks, each committed with a checkpoint.
//!
//! - A column mapping says which of their headers is which of our fields ([`Mapping`]); without
//!   one, the headers must be our field codes. An unknown header refuses the whole file.
//! - A row that does not standardize or validate is refused with one reason per field and
//!   writes nothing; the other rows go on (`--dry-run` shows the same report first).
//! - Matching: an agency record imported before (its blind-indexed identity in `legacy_link`)
//!   is "already imported"; a CURP registered already (blind index) is that person: empty
//!   contact details and ID numbers are filled when the file is not older than the profile,
//!   anything that differs is a conflict, listed and never overwritten; otherwise a new profile,
//!   and when the registry's duplicate rules find probable matches (`fuzzy`) the pairs go to the
//!   supervisors' duplicate review, as "someone else" at the intake screen does.
//! - Every created or filled profile is audited like a registration or an edit; a run resumes
//!   after its last committed chunk (same agency, same file digest).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use angel_entity::{
    agency, borough, duplicate_review, enrollment, enrollment_event, legacy_import, legacy_link,
    person, person_change, person_contact, person_identifier, program,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait, Set,
    TryIntoModel,
    sea_query::{Alias, Expr, IntoColumnRef, Query},
};
use serde::Deserialize;
use tracing::{Instrument, debug_span};

use super::super::{
    AppState, ServiceError,
    audit::{AuditTx, NewEvent},
};
use super::{
    coverage,
    eligibility::{self, RuleVersion},
    merge,
    registry::{self, NameParts, Origin},
};
use crate::domain::{
    calendar::add_business_days,
    curp::{Curp, Date, Sex},
    eligibility::Verdict,
    lifecycle::Status,
    names::fold_upper,
    standardize,
};
use crate::error::FieldError;
use crate::registry::forms::{self, IdKind, PersonForm, ValidPerson};

/// The registry's fields a column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    GivenNames,
    FirstSurname,
    SecondSurname,
    BirthDate,
    Sex,
    BirthState,
    Curp,
    Ine,
    Nss,
    Rfc,
    Passport,
    Borough,
    Colonia,
    PostalCode,
    Street,
    Phone,
    /// The agency's own record number: what makes a second import of the record "the same".
    RecordId,
    /// When the agency last changed the record: empty fields are filled only from records not
    /// older than the profile.
    RecordDate,
    /// The code of one of the agency's programs (or the agency's own value, see
    /// [`Mapping::program`]): the row is also a request for that program.
    Program,
    /// The request's status: our codes, common words, or [`Mapping::status`]. Without this
    /// column every request is `active` (a list of beneficiaries).
    Status,
    /// When the person asked for the program.
    RequestedOn,
}

impl Field {
    pub const ALL: [Field; 21] = [
        Field::GivenNames,
        Field::FirstSurname,
        Field::SecondSurname,
        Field::BirthDate,
        Field::Sex,
        Field::BirthState,
        Field::Curp,
        Field::Ine,
        Field::Nss,
        Field::Rfc,
        Field::Passport,
        Field::Borough,
        Field::Colonia,
        Field::PostalCode,
        Field::Street,
        Field::Phone,
        Field::RecordId,
        Field::RecordDate,
        Field::Program,
        Field::Status,
        Field::RequestedOn,
    ];

    /// The field's code: the intake form's field name, `record_id`, `record_date`.
    pub fn code(self) -> &'static str {
        match self {
            Field::GivenNames => "given_names",
            Field::FirstSurname => "first_surname",
            Field::SecondSurname => "second_surname",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::BirthState => "birth_state",
            Field::Curp => "curp",
            Field::Ine => "ine",
            Field::Nss => "nss",
            Field::Rfc => "rfc",
            Field::Passport => "passport",
            Field::Borough => "borough",
            Field::Colonia => "colonia",
            Field::PostalCode => "postal_code",
            Field::Street => "street",
            Field::Phone => "phone",
            Field::RecordId => "record_id",
            Field::RecordDate => "record_date",
            Field::Program => "program",
            Field::Status => "status",
            Field::RequestedOn => "requested_on",
        }
    }

    pub fn from_code(code: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// Columns a file must have: the intake form's required fields (the birth state may come from
/// the CURP instead).
const REQUIRED: [Field; 7] = [
    Field::GivenNames,
    Field::FirstSurname,
    Field::BirthDate,
    Field::Sex,
    Field::Borough,
    Field::Colonia,
    Field::PostalCode,
];

/// The mapping's word for a column that is read but not imported.
pub const IGNORE: &str = "ignore";

/// The longest record number kept.
const MAX_RECORD_ID: usize = 64;

/// An agency's column mapping (a TOML file):
///
/// ```toml
/// [columns]
/// NOMBRE = "given_names"
/// FEC_NAC = "birth_date"
/// OBSERVACIONES = "ignore"
/// [sex]
/// "1" = "H"
/// "2" = "M"
/// [program]
/// "PROG-07" = "UTILES"
/// [status]
/// "B" = "exited"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Their header (case and accents ignored) → one of [`Field`]'s codes or `"ignore"`.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Their values for sex → `H`, `M` or `X` (the CURP's letters).
    #[serde(default)]
    pub sex: BTreeMap<String, String>,
    /// Their program names or numbers → our program codes.
    #[serde(default)]
    pub program: BTreeMap<String, String>,
    /// Their values for a request's status → our status codes (`active`, `exited`…).
    #[serde(default)]
    pub status: BTreeMap<String, String>,
}

/// A problem of the file as a whole (line 0), of its header (line 1) or of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    /// Their header or our field code; empty when about the whole file.
    pub column: String,
    pub code: String,
}

impl Problem {
    pub fn new(line: u64, column: &str, code: &str) -> Problem {
        Problem {
            line,
            column: column.to_owned(),
            code: code.to_owned(),
        }
    }
}

/// Messages (Spanish, English) of the import's own codes; the intake form's codes have theirs
/// in the translation catalog (`field_<code>`).
pub fn message(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "header_unknown" => (
            "Encabezado desconocido: no es un campo de Ángel; use un archivo de correspondencias (--mapping).",
            "Unknown header: not an Ángel field; use a mapping file (--mapping).",
        ),
        "header_unmapped" => (
            "El archivo de correspondencias no dice qué es esta columna (un campo o \"ignore\").",
            "The mapping file does not say what this column is (a field or \"ignore\").",
        ),
        "field_unknown" => (
            "El archivo de correspondencias nombra un campo que Ángel no tiene.",
            "The mapping file names a field Ángel does not have.",
        ),
        "column_twice" => (
            "Dos columnas corresponden al mismo campo.",
            "Two columns map to the same field.",
        ),
        "column_missing" => (
            "Falta una columna obligatoria.",
            "A required column is missing.",
        ),
        "sex_mapping" => (
            "En [sex] cada valor debe corresponder a H, M o X.",
            "In [sex] every value must map to H, M or X.",
        ),
        "mapping_syntax" => (
            "El archivo de correspondencias no es TOML válido.",
            "The mapping file is not valid TOML.",
        ),
        "csv_malformed" => (
            "La fila no se puede leer como CSV (comillas sin cerrar o número de campos distinto del encabezado).",
            "The row cannot be read as CSV (an unclosed quote or a field count unlike the header's).",
        ),
        "file_empty" => ("El archivo no tiene encabezado.", "The file has no header."),
        "file_too_large" => (
            "El archivo es más grande que el límite de importación.",
            "The file is larger than the import limit.",
        ),
        "formula" => (
            "La celda parece una fórmula de hoja de cálculo; no se importa.",
            "The cell looks like a spreadsheet formula; it is not imported.",
        ),
        "date_format" => (
            "Fecha en un formato no reconocido (DD/MM/AAAA, AAAA-MM-DD o DD-MM-AA).",
            "A date in an unknown format (DD/MM/YYYY, YYYY-MM-DD or DD-MM-YY).",
        ),
        "date_impossible" => ("Esa fecha no existe.", "That date does not exist."),
        "sex_ambiguous" => (
            "Valor ambiguo (M puede ser mujer o masculino): dígalo en [sex] del archivo de correspondencias.",
            "An ambiguous value (M may mean mujer or masculino): say which under [sex] in the mapping file.",
        ),
        "sex_unknown" => ("Valor de sexo desconocido.", "Unknown value for sex."),
        "status_mapping" => (
            "En [status] cada valor debe corresponder a un estado de Ángel (requested, in_review, approved, active, suspended, exited, rejected, withdrawn).",
            "In [status] every value must map to an Ángel status (requested, in_review, approved, active, suspended, exited, rejected, withdrawn).",
        ),
        "status_unknown" => (
            "Estado de solicitud desconocido: dígalo en [status] del archivo de correspondencias.",
            "Unknown request status: say which under [status] in the mapping file.",
        ),
        "program_unknown" => (
            "No es un programa de esta dependencia.",
            "Not a program of this agency.",
        ),
        "program_no_rule" => (
            "El programa no tiene reglas publicadas: no puede recibir solicitudes.",
            "The program has no published rules: it cannot take requests.",
        ),
        "borough_unknown" => (
            "Alcaldía desconocida (ni clave INEGI ni nombre de una de las 16).",
            "Unknown borough (neither an INEGI code nor the name of one of the 16).",
        ),
        "conflict" => (
            "El registro tiene otro valor: no se sobrescribe; revíselo.",
            "The registry holds another value: not overwritten; review it.",
        ),
        "filled" => (
            "Dato vacío en el registro, completado desde el archivo.",
            "Empty in the registry, filled from the file.",
        ),
        "file_older" => (
            "El registro de la dependencia es anterior al perfil: no se completa nada.",
            "The agency's record is older than the profile: nothing is filled.",
        ),
        _ => return None,
    })
}

fn fold(text: &str) -> String {
    fold_upper(text.trim())
}

/// Which field each column holds, and the agency's sex values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    columns: Vec<Option<Field>>,
    sex: HashMap<String, Sex>,
    program: HashMap<String, String>,
    status: HashMap<String, Status>,
}

impl Layout {
    /// The column holding a field, if the file has it.
    pub fn column_of(&self, field: Field) -> Option<usize> {
        self.columns.iter().position(|c| *c == Some(field))
    }

    /// Reads the header against the mapping (or against our field codes without one).
    ///
    /// # Errors
    /// Every problem of the header and the mapping, on line 1.
    pub fn new(headers: &[String], mapping: Option<&Mapping>) -> Result<Layout, Vec<Problem>> {
        let mut problems = Vec::new();
        let mapped: HashMap<String, String> = mapping
            .map(|m| {
                m.columns
                    .iter()
                    .map(|(theirs, ours)| (fold(theirs), ours.trim().to_lowercase()))
                    .collect()
            })
            .unwrap_or_default();
        let mut columns = Vec::with_capacity(headers.len());
        for header in headers {
            let target = match mapping {
                Some(_) => mapped.get(&fold(header)).cloned(),
                None => Some(header.trim().to_lowercase()),
            };
            let field = match target.as_deref() {
                None => {
                    problems.push(Problem::new(1, header, "header_unmapped"));
                    None
                }
                Some(IGNORE) => None,
                Some(code) => match Field::from_code(code) {
                    Some(field) if columns.contains(&Some(field)) => {
                        problems.push(Problem::new(1, header, "column_twice"));
                        None
                    }
                    Some(field) => Some(field),
                    None => {
                        let code = if mapping.is_some() {
                            "field_unknown"
                        } else {
                            "header_unknown"
                        };
                        problems.push(Problem::new(1, header, code));
                        None
                    }
                },
            };
            columns.push(field);
        }
        let has = |f: Field| columns.contains(&Some(f));
        for field in REQUIRED {
            if !has(field) {
                problems.push(Problem::new(1, field.code(), "column_missing"));
            }
        }
        if !has(Field::BirthState) && !has(Field::Curp) {
            problems.push(Problem::new(1, Field::BirthState.code(), "column_missing"));
        }
        // A status or a date of request says nothing without the program.
        if (has(Field::Status) || has(Field::RequestedOn)) && !has(Field::Program) {
            problems.push(Problem::new(1, Field::Program.code(), "column_missing"));
        }
        let mut sex = HashMap::new();
        for (theirs, ours) in mapping.map(|m| &m.sex).into_iter().flatten() {
            match forms::sex_from_code(&ours.trim().to_uppercase()) {
                Some(s) => {
                    sex.insert(fold(theirs), s);
                }
                None => problems.push(Problem::new(1, theirs, "sex_mapping")),
            }
        }
        let mut status = HashMap::new();
        for (theirs, ours) in mapping.map(|m| &m.status).into_iter().flatten() {
            match Status::from_code(ours.trim()) {
                Some(s) => {
                    status.insert(fold(theirs), s);
                }
                None => problems.push(Problem::new(1, theirs, "status_mapping")),
            }
        }
        let program = mapping
            .map(|m| {
                m.program
                    .iter()
                    .map(|(theirs, ours)| (fold(theirs), fold(ours)))
                    .collect()
            })
            .unwrap_or_default();
        if problems.is_empty() {
            Ok(Layout {
                columns,
                sex,
                program,
                status,
            })
        } else {
            Err(problems)
        }
    }

    /// One row standardized and validated as the intake form validates a person.
    ///
    /// # Errors
    /// One field error per field that could not be read (never a partial row).
    pub fn row(
        &self,
        cells: &[String],
        boroughs: &[(String, String)],
        today: Date,
    ) -> Result<Row, Vec<FieldError>> {
        let mut form = PersonForm::default();
        let mut errors: Vec<FieldError> = Vec::new();
        let mut record_id = None;
        let mut record_date = None;
        let (mut program, mut status, mut requested_on) = (None, None, None);
        for (cell, field) in cells.iter().zip(&self.columns) {
            let Some(field) = *field else { continue };
            let raw = cell.trim();
            let mut refuse = |code: &str| errors.push(FieldError::new(field.code(), code));
            if looks_like_formula(raw) {
                refuse("formula");
                continue;
            }
            let name = |raw: &str| standardize::display_name(raw).unwrap_or_else(|| raw.to_owned());
            match field {
                Field::GivenNames => form.given_names = name(raw),
                Field::FirstSurname => form.first_surname = name(raw),
                Field::SecondSurname => form.second_surname = name(raw),
                Field::BirthDate if !raw.is_empty() => match standardize::birth_date(raw, today) {
                    Ok(d) => form.birth_date = iso(d),
                    Err(e) => refuse(e.code()),
                },
                Field::Sex if !raw.is_empty() => {
                    let read = match self.sex.get(&fold(raw)) {
                        Some(sex) => Ok(*sex),
                        None => standardize::sex(raw),
                    };
                    match read {
                        Ok(sex) => form.sex = forms::sex_code(sex).to_owned(),
                        Err(e) => refuse(e.code()),
                    }
                }
                Field::Borough if !raw.is_empty() => match standardize::borough(raw, boroughs) {
                    Some(code) => form.borough = code.to_owned(),
                    None => refuse("borough_unknown"),
                },
                Field::BirthState => form.birth_state = raw.to_uppercase(),
                Field::Curp => form.curp = raw.to_owned(),
                Field::Ine => form.ine = raw.to_owned(),
                Field::Nss => form.nss = raw.to_owned(),
                Field::Rfc => form.rfc = raw.to_owned(),
                Field::Passport => form.passport = raw.to_owned(),
                Field::Colonia => form.colonia = raw.to_owned(),
                Field::PostalCode => form.postal_code = raw.to_owned(),
                Field::Street => form.street = raw.to_owned(),
                Field::Phone => form.phone = raw.to_owned(),
                Field::RecordId if raw.chars().count() > MAX_RECORD_ID => refuse("too_long"),
                Field::RecordId if !raw.is_empty() => record_id = Some(raw.to_owned()),
                Field::RecordDate if !raw.is_empty() => match standardize::parse_date(raw, today) {
                    Ok(d) => record_date = Some(d),
                    Err(e) => refuse(e.code()),
                },
                Field::Program if !raw.is_empty() => {
                    let folded = fold(raw);
                    program = Some(self.program.get(&folded).cloned().unwrap_or(folded));
                }
                Field::Status if !raw.is_empty() => {
                    let read = self
                        .status
                        .get(&fold(raw))
                        .copied()
                        .or_else(|| standardize::status(raw));
                    match read {
                        Some(s) => status = Some(s),
                        None => refuse("status_unknown"),
                    }
                }
                Field::RequestedOn if !raw.is_empty() => {
                    match standardize::parse_date(raw, today) {
                        Ok(d) if d > today => refuse("date_future"),
                        Ok(d) => requested_on = Some(d),
                        Err(e) => refuse(e.code()),
                    }
                }
                // Empty dates, sexes, boroughs and record numbers: the form says "required"
                // where it is.
                Field::BirthDate
                | Field::Sex
                | Field::Borough
                | Field::RecordId
                | Field::RecordDate
                | Field::Program
                | Field::Status
                | Field::RequestedOn => {}
            }
        }
        let has_status_column = self.columns.contains(&Some(Field::Status));
        let refused =
            |field: Field, errors: &[FieldError]| errors.iter().any(|e| e.field == field.code());
        let enrollment = match program {
            Some(program) => match status {
                Some(status) => Some(Wanted {
                    program,
                    status,
                    requested_on,
                }),
                // A list of beneficiaries has no status column: they are active.
                None if !has_status_column => Some(Wanted {
                    program,
                    status: Status::Active,
                    requested_on,
                }),
                None => {
                    if !refused(Field::Status, &errors) {
                        errors.push(FieldError::new(Field::Status.code(), "required"));
                    }
                    None
                }
            },
            None if (status.is_some() || requested_on.is_some())
                && !refused(Field::Program, &errors) =>
            {
                errors.push(FieldError::new(Field::Program.code(), "required"));
                None
            }
            None => None,
        };
        // Many systems do not keep the birth state: the CURP carries it.
        let state_from_curp = form.birth_state.is_empty() && !form.curp.trim().is_empty();
        if state_from_curp && let Ok(curp) = Curp::parse(&form.curp, today) {
            form.birth_state = curp.state().to_owned();
        }
        match form.validate(today) {
            Ok(valid) if errors.is_empty() => Ok(Row {
                valid,
                record_id,
                record_date,
                enrollment,
            }),
            Ok(_) => Err(errors),
            Err(more) => {
                // A cell refused while standardizing was left empty: not also "required"; nor
                // is the birth state when it was to come from a CURP that is refused.
                let mut already: HashSet<String> = errors.iter().map(|e| e.field.clone()).collect();
                if state_from_curp && more.iter().any(|e| e.field == "curp") {
                    already.insert("birth_state".to_owned());
                }
                errors.extend(more.into_iter().filter(|e| !already.contains(&e.field)));
                Err(errors)
            }
        }
    }
}

/// A cell a spreadsheet would run: `=`, `@`, or `+`/`-` followed by more than a number or a
/// phone (`+52 55 1234 5678` and `-` alone are data).
pub fn looks_like_formula(cell: &str) -> bool {
    let mut chars = cell.chars();
    match chars.next() {
        Some('=' | '@') => true,
        Some('+' | '-') => {
            !chars.all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'))
        }
        _ => false,
    }
}

fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

/// A row ready to match: the person as the intake form validated it.
#[derive(Debug, Clone)]
pub struct Row {
    pub valid: ValidPerson,
    pub record_id: Option<String>,
    pub record_date: Option<Date>,
    /// The program request the row also carries, if any.
    pub enrollment: Option<Wanted>,
}

/// A request for one of the agency's programs, as a row states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Our program code (upper case), not yet checked against the agency's programs.
    pub program: String,
    pub status: Status,
    pub requested_on: Option<Date>,
}

/// What became of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A new profile.
    Created,
    /// A new profile, and its probable duplicates queued for the supervisors' review.
    CreatedForReview,
    /// The CURP's profile; nothing to fill.
    Matched,
    /// The CURP's profile, with empty fields filled from the file.
    Updated,
    /// The CURP's profile holds other values: listed, not overwritten (empty ones still filled).
    Conflict,
    /// This agency's record was imported before (or earlier in the same file).
    AlreadyImported,
    /// Not read: the reasons are listed.
    Refused,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::CreatedForReview => "created_review",
            Outcome::Matched => "matched",
            Outcome::Updated => "updated",
            Outcome::Conflict => "conflict",
            Outcome::AlreadyImported => "already_imported",
            Outcome::Refused => "refused",
        }
    }
}

/// What became of a row's program request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestOutcome {
    /// A new request, with its folio, in the file's status.
    Created,
    /// The person's request for the program is already in the registry with the file's status
    /// (the same file imported again finds all of them).
    Existing,
    /// The registry's open request has another status than the file's: listed, not changed
    /// (status changes go through the screens or the API, with their reasons).
    Conflict,
}

impl RequestOutcome {
    pub fn code(self) -> &'static str {
        match self {
            RequestOutcome::Created => "request_created",
            RequestOutcome::Existing => "request_existing",
            RequestOutcome::Conflict => "request_conflict",
        }
    }
}

/// A row's program request in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestReport {
    pub outcome: RequestOutcome,
    /// The request's folio (none in a dry run for a request it would create).
    pub folio: Option<String>,
}

/// One line of the import report: never a name, IDs masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReport {
    pub line: u64,
    pub outcome: Outcome,
    /// The masked CURP (`GODE************00`), else the agency's record number masked.
    pub masked_id: String,
    /// Why refused; which fields conflicted or were filled.
    pub notes: Vec<FieldError>,
    /// The row's program request, when it has one and was not refused.
    pub request: Option<RequestReport>,
}

/// The counts of a run (a resumed run's include the chunks committed before).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The `legacy_import` row (`None` for a dry run).
    pub import: Option<i32>,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows committed by an earlier run of the same file, skipped now.
    pub resumed_after: u64,
    pub created: u64,
    pub for_review: u64,
    pub matched: u64,
    pub updated: u64,
    pub conflicts: u64,
    pub already_imported: u64,
    pub refused: u64,
    /// Program requests created.
    pub requests_created: u64,
    /// Program requests the registry had already, in the file's status.
    pub requests_existing: u64,
    /// Program requests the registry has in another status: listed, not changed.
    pub request_conflicts: u64,
}

impl Summary {
    fn count_row(&mut self, row: &RowReport) {
        self.count(row.outcome);
        if let Some(r) = &row.request {
            *match r.outcome {
                RequestOutcome::Created => &mut self.requests_created,
                RequestOutcome::Existing => &mut self.requests_existing,
                RequestOutcome::Conflict => &mut self.request_conflicts,
            } += 1;
        }
    }

    fn count(&mut self, outcome: Outcome) {
        let n = match outcome {
            Outcome::Created => &mut self.created,
            Outcome::CreatedForReview => &mut self.for_review,
            Outcome::Matched => &mut self.matched,
            Outcome::Updated => &mut self.updated,
            Outcome::Conflict => &mut self.conflicts,
            Outcome::AlreadyImported => &mut self.already_imported,
            Outcome::Refused => &mut self.refused,
        };
        *n += 1;
    }

    /// New profiles, with or without probable duplicates.
    pub fn new_people(&self) -> u64 {
        self.created + self.for_review
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows: {} created ({} with probable duplicates for review), {} matched, {} updated, {} with conflicts, {} already imported, {} refused",
            self.rows,
            self.new_people(),
            self.for_review,
            self.matched,
            self.updated,
            self.conflicts,
            self.already_imported,
            self.refused
        )?;
        let requests = self.requests_created + self.requests_existing + self.request_conflicts;
        if requests > 0 {
            write!(
                f,
                "; {requests} program requests: {} created, {} already there, {} with another status",
                self.requests_created, self.requests_existing, self.request_conflicts
            )?;
        }
        if self.resumed_after > 0 {
            write!(f, " (resumed after row {})", self.resumed_after)?;
        }
        Ok(())
    }
}

/// How to run an import.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Read, standardize and match without writing anything.
    pub dry_run: bool,
    /// Look for probable duplicates (the registry's name and birth date rules) of new people.
    pub fuzzy: bool,
    /// Rows per committed chunk (the checkpoint's step), [`CHUNK`] unless a data officer asks
    /// for another with `angel import persons --chunk` (at most [`MAX_CHUNK`]).
    pub chunk: usize,
}

/// Rows per committed chunk by default. A chunk holds the audit chain's single writer (on
/// SQLite the database's) while it is written: about 0.3 s for 2,000 new people here, 0.7 s
/// on average with fuzzy matching on the way to a million. Larger chunks import faster,
/// because on SQLite each commit writes every index page its rows touched and the same pages
/// serve more rows (chunks of 10,000: +25–40 % plain at 100,000 rows, +15 % fuzzy at a
/// million, README P6), and make the other audited writes wait longer.
pub const CHUNK: usize = 2_000;

/// The largest chunk `angel import persons --chunk` accepts: a fuzzy chunk of 10,000 on the
/// way to a million people holds the audit chain's writer 3.2 s on average (SQLite's write
/// lock at least 1.7 s of it: its inserts and commit), within the 5 s a SQLite write waits
/// for a busy database (`db::connect`); a larger one could make a caseworker's save fail while
/// it runs.
pub const MAX_CHUNK: usize = 10_000;

impl Default for Options {
    fn default() -> Options {
        Options {
            dry_run: false,
            fuzzy: true,
            chunk: CHUNK,
        }
    }
}

/// What the run knows once, for every row.
struct Run<'a> {
    state: &'a AppState,
    layout: &'a Layout,
    options: Options,
    agency_id: i32,
    import: Option<i32>,
    boroughs: Vec<(String, String)>,
    borough_ids: HashMap<String, i32>,
    today: Date,
    now: DateTime<Utc>,
    /// A dry run writes nothing: what earlier rows of the file would have created.
    seen_keys: HashSet<Vec<u8>>,
    seen_curps: HashSet<String>,
    /// The agency's programs by code: the only ones a row may request.
    programs: HashMap<String, program::Model>,
    /// Every program's rule versions: an imported request names the one in force.
    versions: Vec<RuleVersion>,
    holidays: BTreeSet<Date>,
}

/// A row's program request, waiting for its person to be written.
struct Wish {
    /// The row's position in the chunk's reports.
    report: usize,
    /// The row's record key: which person it is once the chunk is written.
    key: Vec<u8>,
    wanted: Wanted,
}

/// A request of the registry, as the import compares it.
struct Held {
    status: Status,
    folio: String,
    requested_on: Date,
    /// A request an earlier row of the chunk asks for: its position among the chunk's new
    /// requests (its folio is reserved when the chunk writes them).
    new: Option<usize>,
}

/// A request the chunk writes (`program`: one of the run's).
struct NewRequest<'p> {
    person: i32,
    program: &'p program::Model,
    wanted: Wanted,
}

/// Imports the rows of one file for an agency. `rows` yields each data row's line number and
/// cells, as many as `total`, in the order they are to be imported; `run_digest` names that
/// file in that order (`legacy_import.file_sha256`: a resumed run skips the rows done). A read
/// error stops the run after its last committed chunk (run the same file again to resume).
/// `report` gets every row's line after its chunk commits; `progress` the rows done so far.
///
/// # Errors
/// `Invalid` for an unknown agency; database errors and `rows`' errors (what was committed
/// stays, and the next run of the same file resumes after it).
#[allow(clippy::too_many_arguments)]
pub async fn import_persons<I>(
    state: &AppState,
    agency_code: &str,
    run_digest: &str,
    total: u64,
    layout: &Layout,
    rows: I,
    options: Options,
    mut report: impl FnMut(&RowReport),
    mut progress: impl FnMut(u64),
) -> Result<Summary, ServiceError>
where
    I: Iterator<Item = Result<(u64, Vec<String>), ServiceError>>,
{
    let db = &state.db;
    let agency = agency::Entity::find()
        .filter(agency::Column::Code.eq(agency_code.trim().to_uppercase()))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::Invalid(vec![FieldError::new("agency", "invalid_choice")]))?;
    let known = borough::Entity::find().all(db).await?;
    let programs = program::Entity::find()
        .filter(program::Column::AgencyId.eq(agency.id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (fold(&p.code), p))
        .collect();
    let now = state.clock.now();
    let mut summary = Summary {
        rows: total,
        ..Summary::default()
    };
    let import = if options.dry_run {
        None
    } else {
        Some(start_or_resume(db, agency.id, run_digest, total, now, &mut summary).await?)
    };
    summary.import = import;
    let mut run = Run {
        state,
        layout,
        options,
        agency_id: agency.id,
        import,
        boroughs: known
            .iter()
            .map(|b| (b.inegi_code.clone(), b.name.clone()))
            .collect(),
        borough_ids: known.iter().map(|b| (b.inegi_code.clone(), b.id)).collect(),
        today: registry::today(now),
        now,
        seen_keys: HashSet::new(),
        seen_curps: HashSet::new(),
        programs,
        versions: eligibility::versions(db).await?,
        holidays: eligibility::holidays(db).await?,
    };
    let skip = summary.resumed_after;
    let mut done = skip;
    progress(done);
    let mut rows = rows
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .peekable();
    let chunk_size = options.chunk.max(1);
    while rows.peek().is_some() {
        // Whole chunks only: a read error drops the chunk it falls in, committed rows stay.
        let chunk: Vec<(u64, Vec<String>)> =
            rows.by_ref().take(chunk_size).collect::<Result<_, _>>()?;
        let reports = run.chunk(&chunk, &mut summary, done).await?;
        done += chunk.len() as u64;
        for r in &reports {
            report(r);
        }
        progress(done);
    }
    if let Some(id) = import {
        finish(state, id, agency.id, &summary).await?;
    }
    Ok(summary)
}

async fn start_or_resume(
    db: &impl ConnectionTrait,
    agency_id: i32,
    run_digest: &str,
    total: u64,
    now: DateTime<Utc>,
    summary: &mut Summary,
) -> Result<i32, ServiceError> {
    let unfinished = legacy_import::Entity::find()
        .filter(legacy_import::Column::AgencyId.eq(agency_id))
        .filter(legacy_import::Column::FileSha256.eq(run_digest))
        .filter(legacy_import::Column::FinishedAt.is_null())
        .order_by_desc(legacy_import::Column::Id)
        .one(db)
        .await?;
    if let Some(run) = unfinished {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        summary.resumed_after = n(run.rows_done);
        summary.created = n(run.created);
        summary.for_review = n(run.queued);
        summary.matched = n(run.matched);
        summary.updated = n(run.updated);
        summary.conflicts = n(run.conflicts);
        summary.already_imported = n(run.already_imported);
        summary.refused = n(run.refused);
        summary.requests_created = n(run.enrollments_created);
        summary.requests_existing = n(run.enrollments_existing);
        summary.request_conflicts = n(run.enrollment_conflicts);
        return Ok(run.id);
    }
    let created = legacy_import::ActiveModel {
        id: NotSet,
        agency_id: Set(agency_id),
        file_sha256: Set(run_digest.to_owned()),
        rows_total: Set(i64::try_from(total).unwrap_or(i64::MAX)),
        rows_done: Set(0),
        created: Set(0),
        queued: Set(0),
        matched: Set(0),
        updated: Set(0),
        conflicts: Set(0),
        already_imported: Set(0),
        refused: Set(0),
        enrollments_created: Set(0),
        enrollments_existing: Set(0),
        enrollment_conflicts: Set(0),
        started_at: Set(now),
        finished_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(created.id)
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The checkpoint: rows done and the counts, in the chunk's transaction.
async fn checkpoint(tx: &AuditTx, import: i32, done: u64, s: &Summary) -> Result<(), ServiceError> {
    use legacy_import::Column as C;
    legacy_import::Entity::update_many()
        .col_expr(C::RowsDone, Expr::value(signed(done)))
        .col_expr(C::Created, Expr::value(signed(s.created)))
        .col_expr(C::Queued, Expr::value(signed(s.for_review)))
        .col_expr(C::Matched, Expr::value(signed(s.matched)))
        .col_expr(C::Updated, Expr::value(signed(s.updated)))
        .col_expr(C::Conflicts, Expr::value(signed(s.conflicts)))
        .col_expr(C::AlreadyImported, Expr::value(signed(s.already_imported)))
        .col_expr(C::Refused, Expr::value(signed(s.refused)))
        .col_expr(
            C::EnrollmentsCreated,
            Expr::value(signed(s.requests_created)),
        )
        .col_expr(
            C::EnrollmentsExisting,
            Expr::value(signed(s.requests_existing)),
        )
        .col_expr(
            C::EnrollmentConflicts,
            Expr::value(signed(s.request_conflicts)),
        )
        .filter(C::Id.eq(import))
        .exec(&**tx)
        .await?;
    Ok(())
}

async fn finish(
    state: &AppState,
    import: i32,
    agency_id: i32,
    s: &Summary,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let tx = state.audit.begin(&state.db).await?;
    legacy_import::Entity::update_many()
        .col_expr(legacy_import::Column::FinishedAt, Expr::value(Some(now)))
        .filter(legacy_import::Column::Id.eq(import))
        .exec(&*tx)
        .await?;
    tx.record(
        NewEvent::new("legacy.imported", now)
            .subject("legacy_import", import)
            .detail(serde_json::json!({
                "agency_id": agency_id,
                "rows": s.rows,
                "created": s.new_people(),
                "for_review": s.for_review,
                "matched": s.matched,
                "updated": s.updated,
                "conflicts": s.conflicts,
                "already_imported": s.already_imported,
                "refused": s.refused,
                "requests_created": s.requests_created,
                "requests_existing": s.requests_existing,
                "request_conflicts": s.request_conflicts,
                "resumed_after": s.resumed_after,
            })),
    )
    .await?;
    tx.commit().await
}

/// The first event's reason of a request brought by the import.
pub const IMPORTED: &str = "imported";

/// Which of the person's requests for the program the file's row is, and whether it has the
/// row's status: the open one (at most one exists), else a closed one in the row's status
/// (asked for on the row's date when it gives one). `None`: the registry has no such request.
fn fitting<'h>(list: &'h [Held], wanted: &Wanted) -> Option<(&'h Held, bool)> {
    if let Some(open) = list.iter().find(|h| h.status.is_open()) {
        return Some((open, open.status == wanted.status));
    }
    if wanted.status.is_open() {
        return None;
    }
    list.iter()
        .find(|h| {
            h.status == wanted.status && wanted.requested_on.is_none_or(|d| d == h.requested_on)
        })
        .map(|h| (h, true))
}

/// Rows per multi-row statement: far below both engines' limits on bound parameters (the
/// person row has 23 columns).
const STATEMENT_ROWS: usize = 500;

/// A new person of the chunk, written when the chunk flushes.
struct NewPerson {
    row: Row,
    key: Vec<u8>,
    borough_id: i32,
    /// Probable duplicates already in the registry, with their scores.
    found: Vec<(person::Model, f64)>,
    /// Probable duplicates among the chunk's new people before this one (their positions among
    /// the chunk's new people, written or not).
    earlier: Vec<(usize, f64)>,
}

/// What a chunk's new person is compared by: names, birth date, name key.
type Compared = (NameParts, Date, String);

/// Inserts rows with one statement per [`STATEMENT_ROWS`] and returns their new ids by `key`,
/// a unique text column of theirs: only those two columns are read back (`RETURNING` promises
/// no order).
async fn insert_ids<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    key: <A::Entity as EntityTrait>::Column,
) -> Result<HashMap<String, i32>, ServiceError>
where
    A: ActiveModelTrait + Send,
{
    let backend = db.get_database_backend();
    let key_name = sea_orm::IdenStatic::as_str(&key);
    let mut ids = HashMap::with_capacity(rows.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut insert = A::Entity::insert_many(rows.by_ref().take(STATEMENT_ROWS)).into_query();
        insert.returning(
            Query::returning().columns([key.into_column_ref(), Alias::new("id").into_column_ref()]),
        );
        for row in db.query_all_raw(backend.build(&insert)).await? {
            ids.insert(
                row.try_get::<String>("", key_name)?,
                row.try_get::<i32>("", "id")?,
            );
        }
    }
    Ok(ids)
}

/// Inserts rows with one statement per [`STATEMENT_ROWS`].
async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), ServiceError>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        A::Entity::insert_many(rows.by_ref().take(STATEMENT_ROWS))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// A random card number already taken, or a profile edited meanwhile: the chunk is tried again.
fn retryable(error: &ServiceError) -> bool {
    matches!(error, ServiceError::Conflict) || registry::card_number_taken(error)
}

impl Run<'_> {
    /// One chunk: every row in one audited transaction with the checkpoint (a dry run reads
    /// only). Tried again up to three times when a card number is taken between its check and
    /// the insert ([`registry::free_card_numbers`]) or a profile changes meanwhile.
    async fn chunk(
        &mut self,
        rows: &[(u64, Vec<String>)],
        summary: &mut Summary,
        done_before: u64,
    ) -> Result<Vec<RowReport>, ServiceError> {
        if self.options.dry_run {
            let state = self.state;
            let reports = self.decide(&state.db, None, rows).await?;
            for r in &reports {
                summary.count_row(r);
            }
            return Ok(reports);
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut counted = summary.clone();
            match self.chunk_once(rows, &mut counted, done_before).await {
                Err(e) if attempt < 4 && retryable(&e) => continue,
                Err(e) => return Err(e),
                Ok(reports) => {
                    *summary = counted;
                    return Ok(reports);
                }
            }
        }
    }

    async fn chunk_once(
        &mut self,
        rows: &[(u64, Vec<String>)],
        summary: &mut Summary,
        done_before: u64,
    ) -> Result<Vec<RowReport>, ServiceError> {
        let tx = self
            .state
            .audit
            .begin(&self.state.db)
            .instrument(debug_span!("import.begin"))
            .await?;
        if tx.get_database_backend() == sea_orm::DbBackend::Postgres {
            // The chunk's lookups (`record_key IN (…)`, `blind_index IN (…)`) are prepared
            // statements run once per chunk: after five runs PostgreSQL may keep a generic plan
            // made while the tables were small (a sequential scan), and every later chunk then
            // reads the whole table — 170 ms per chunk at 20,000 rows here. A plan per run uses
            // the indexes.
            tx.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
        }
        let reports = self.decide(&*tx, Some(&tx), rows).await?;
        for r in &reports {
            summary.count_row(r);
        }
        let import = self.import.expect("a real run has its row");
        checkpoint(&tx, import, done_before + rows.len() as u64, summary)
            .instrument(debug_span!("import.checkpoint"))
            .await?;
        tx.commit().instrument(debug_span!("import.commit")).await?;
        Ok(reports)
    }

    /// The agency's record identity, blind-indexed: its record number, else the CURP, else the
    /// standardized name, birth date and sex.
    fn record_key(&self, row: &Row) -> Vec<u8> {
        let v = &row.valid;
        let identity = match (&row.record_id, &v.curp) {
            (Some(id), _) => format!("id:{}", fold(id)),
            (None, Some(curp)) => format!("curp:{}", curp.as_str()),
            (None, None) => format!(
                "person:{}|{}|{}",
                v.name_key(),
                iso(v.birth_date),
                forms::sex_code(v.sex)
            ),
        };
        self.state
            .vault
            .blind_index("legacy", &format!("{}:{identity}", self.agency_id))
    }

    /// The rows of one chunk, in file order. `tx` is `None` in a dry run: nothing is written
    /// and `conn` is the pool. The database is asked what the whole chunk needs in a few
    /// queries (records linked before, the CURPs' holders); new people are written together
    /// at the end ([`Run::flush`]), or before a later row of the chunk needs one of them.
    async fn decide(
        &mut self,
        conn: &impl ConnectionTrait,
        tx: Option<&AuditTx>,
        rows: &[(u64, Vec<String>)],
    ) -> Result<Vec<RowReport>, ServiceError> {
        // Where a chunk's time goes, for `import_bench` (spans at debug level: nothing is
        // recorded unless a subscriber asks for them).
        let parsing = debug_span!("import.parse").entered();
        let parsed: Vec<Result<Row, Vec<FieldError>>> = rows
            .iter()
            .map(|(_, cells)| {
                self.layout
                    .row(cells, &self.boroughs, self.today)
                    .and_then(|row| self.check_request(row))
            })
            .collect();
        let keys: Vec<Option<Vec<u8>>> = parsed
            .iter()
            .map(|r| r.as_ref().ok().map(|row| self.record_key(row)))
            .collect();
        drop(parsing);
        let linked = self
            .linked(conn, keys.iter().flatten())
            .instrument(debug_span!("import.linked"))
            .await?;
        let mut holders = self
            .holders(
                conn,
                parsed
                    .iter()
                    .flatten()
                    .filter_map(|r| r.valid.curp.as_ref()),
            )
            .instrument(debug_span!("import.holders"))
            .await?;

        // The registry's people who may be the new ones, read for the whole chunk at once: the
        // rows neither linked before nor holding a registered CURP.
        let known = if self.options.fuzzy {
            let new_rows = parsed.iter().zip(&keys).filter_map(|(r, k)| {
                let row = r.as_ref().ok()?;
                let held = row
                    .valid
                    .curp
                    .as_ref()
                    .is_some_and(|c| holders.contains_key(c.as_str()));
                (!held && !k.as_ref().is_some_and(|k| linked.contains_key(k))).then_some(row)
            });
            let wanted: Vec<(NameParts, Date, String)> = new_rows
                .map(|r| {
                    let v = &r.valid;
                    (NameParts::of_valid(v), v.birth_date, v.name_key())
                })
                .collect();
            Some(
                registry::Blocked::read(conn, wanted.iter().map(|(p, d, k)| (p, *d, k.as_str())))
                    .instrument(debug_span!("import.candidates"))
                    .await?,
            )
        } else {
            None
        };

        let mut reports = Vec::with_capacity(rows.len());
        // The chunk's new people: those not written yet, then all of them (written first,
        // `pending` after) as they are compared.
        let mut pending: Vec<NewPerson> = Vec::new();
        let mut written: Vec<person::Model> = Vec::new();
        let mut compared: Vec<Compared> = Vec::new();
        let mut pending_curps: HashMap<String, usize> = HashMap::new();
        let mut blocks = registry::Blocks::default();
        let mut links: Vec<(Vec<u8>, i32)> = Vec::new();
        let mut chunk_keys: HashSet<Vec<u8>> = HashSet::new();
        let mut wishes: Vec<Wish> = Vec::new();
        async {
            for (((line, cells), parsed), key) in rows.iter().zip(parsed).zip(keys) {
                let line = *line;
                let row = match parsed {
                    Ok(row) => row,
                    Err(notes) => {
                        reports.push(RowReport {
                            line,
                            outcome: Outcome::Refused,
                            masked_id: self.masked_cell(cells),
                            notes,
                            request: None,
                        });
                        continue;
                    }
                };
                // Computed above for every row that parsed.
                let key = key.unwrap_or_else(|| self.record_key(&row));
                let masked_id = match (&row.valid.curp, &row.record_id) {
                    (Some(curp), _) => curp.masked(),
                    (None, Some(id)) => registry::masked_id("record", id),
                    (None, None) => String::new(),
                };
                let report = |outcome, notes| RowReport {
                    line,
                    outcome,
                    masked_id: masked_id.clone(),
                    notes,
                    request: None,
                };
                // Exactly one report is pushed for this row below: the request is decided once
                // the chunk's people are written.
                if let Some(wanted) = &row.enrollment {
                    wishes.push(Wish {
                        report: reports.len(),
                        key: key.clone(),
                        wanted: wanted.clone(),
                    });
                }
                let first_time = chunk_keys.insert(key.clone())
                    && (tx.is_some() || self.seen_keys.insert(key.clone()));
                if linked.contains_key(&key) || !first_time {
                    reports.push(report(Outcome::AlreadyImported, Vec::new()));
                    continue;
                }
                let curp = row.valid.curp.as_ref().map(|c| c.as_str().to_owned());
                if let Some(curp) = &curp
                    && !holders.contains_key(curp)
                {
                    let earlier =
                        pending_curps.contains_key(curp) || self.seen_curps.contains(curp);
                    match tx {
                        // Earlier in this file: the real run would match the profile it creates.
                        None if earlier => {
                            reports.push(report(Outcome::Matched, Vec::new()));
                            continue;
                        }
                        // Created earlier in this chunk: write it now, then match against it.
                        Some(tx) if earlier => {
                            let base = written.len();
                            self.flush(tx, std::mem::take(&mut pending), &mut links, &mut written)
                                .instrument(debug_span!("import.flush"))
                                .await?;
                            for (c, i) in pending_curps.drain() {
                                holders.insert(c, written[base + i].clone());
                            }
                        }
                        _ => {}
                    }
                }
                if let Some((curp, p)) = curp
                    .as_ref()
                    .and_then(|c| holders.get(c).map(|p| (c, p.clone())))
                {
                    let (outcome, notes) = self
                        .match_existing(conn, tx, &p, &row)
                        .instrument(debug_span!("import.match"))
                        .await?;
                    if outcome == Outcome::Updated && tx.is_some() {
                        // Filled: a later row of the chunk about this person sees its new version.
                        let now = person::Entity::find_by_id(p.id).one(conn).await?;
                        holders.extend(now.map(|n| (curp.clone(), n)));
                    }
                    links.push((key, p.id));
                    reports.push(report(outcome, notes));
                    continue;
                }
                let borough_id = self.borough_ids[row.valid.borough.as_str()];
                let v = &row.valid;
                let parts = NameParts::of_valid(v);
                let name_key = v.name_key();
                let (found, earlier) = if let Some(known) = &known {
                    let found = known.probable(&parts, v.birth_date, &name_key);
                    let earlier: Vec<(usize, f64)> = blocks
                        .sharing(v.birth_date, &name_key)
                        .into_iter()
                        .filter_map(|i| {
                            let (their_parts, their_date, their_key) = &compared[i];
                            registry::likely_same(
                                (&parts, v.birth_date, &name_key),
                                (their_parts, *their_date, their_key),
                            )
                            .map(|score| (i, score))
                        })
                        .collect();
                    (found, earlier)
                } else {
                    (Vec::new(), Vec::new())
                };
                let outcome = if found.is_empty() && earlier.is_empty() {
                    Outcome::Created
                } else {
                    Outcome::CreatedForReview
                };
                reports.push(report(outcome, Vec::new()));
                if let Some(curp) = curp {
                    if tx.is_none() {
                        self.seen_curps.insert(curp.clone());
                    }
                    pending_curps.insert(curp, pending.len());
                }
                if known.is_some() {
                    blocks.add(compared.len(), row.valid.birth_date, name_key.clone());
                    compared.push((parts, row.valid.birth_date, name_key));
                }
                pending.push(NewPerson {
                    row,
                    key,
                    borough_id,
                    found,
                    earlier,
                });
            }
            Ok::<(), ServiceError>(())
        }
        .instrument(debug_span!("import.rows"))
        .await?;
        if let Some(tx) = tx {
            self.flush(tx, pending, &mut links, &mut written)
                .instrument(debug_span!("import.flush"))
                .await?;
        }
        if !wishes.is_empty() {
            // Every row's person: linked before, matched, or created just now (a dry run's new
            // people have none).
            let mut person_of = linked;
            person_of.extend(links.iter().cloned());
            self.requests(conn, tx, wishes, &person_of, &mut reports)
                .instrument(debug_span!("import.requests"))
                .await?;
        }
        if let Some(tx) = tx {
            self.link_all(tx, links)
                .instrument(debug_span!("import.links"))
                .await?;
        }
        Ok(reports)
    }

    /// A row's request names one of the agency's programs, with a rule in force.
    fn check_request(&self, row: Row) -> Result<Row, Vec<FieldError>> {
        if let Some(w) = &row.enrollment {
            let Some(p) = self.programs.get(&w.program) else {
                return Err(vec![FieldError::new(
                    Field::Program.code(),
                    "program_unknown",
                )]);
            };
            if self.rule_for(p.id, w.requested_on).is_none() {
                return Err(vec![FieldError::new(
                    Field::Program.code(),
                    "program_no_rule",
                )]);
            }
        }
        Ok(row)
    }

    /// The program's rule version in force on the day of the request, else today's (a request
    /// older than the program's first published rule).
    fn rule_for(&self, program_id: i32, day: Option<Date>) -> Option<i32> {
        let on = |d: Date| {
            eligibility::current(&self.versions, d)
                .get(&program_id)
                .map(|v| v.id)
        };
        day.and_then(on).or_else(|| on(self.today))
    }

    /// The chunk's program requests, in file order: each is compared with the person's
    /// requests for the program, and created when the registry has none that fits. In a real
    /// run the new requests are written with their first event and audit event, and the
    /// people's coverage brought up to date.
    async fn requests(
        &self,
        conn: &impl ConnectionTrait,
        tx: Option<&AuditTx>,
        wishes: Vec<Wish>,
        person_of: &HashMap<Vec<u8>, i32>,
        reports: &mut [RowReport],
    ) -> Result<(), ServiceError> {
        // A record linked before to someone merged since is the survivor's.
        let ids: HashSet<i32> = wishes
            .iter()
            .filter_map(|w| person_of.get(&w.key).copied())
            .collect();
        let mut survivor_of: HashMap<i32, i32> = HashMap::new();
        for p in person::Entity::find()
            .filter(person::Column::Id.is_in(ids))
            .all(conn)
            .await?
        {
            let id = p.id;
            survivor_of.insert(id, registry::survivor(conn, p).await?.id);
        }
        let mut held: HashMap<(i32, i32), Vec<Held>> = HashMap::new();
        let people: BTreeSet<i32> = survivor_of.values().copied().collect();
        let programs: Vec<i32> = self.programs.values().map(|p| p.id).collect();
        for part in people
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .chunks(STATEMENT_ROWS)
        {
            for e in enrollment::Entity::find()
                .filter(enrollment::Column::PersonId.is_in(part.iter().copied()))
                .filter(enrollment::Column::ProgramId.is_in(programs.iter().copied()))
                .all(conn)
                .await?
            {
                let Some(status) = Status::from_code(&e.status) else {
                    continue;
                };
                held.entry((e.person_id, e.program_id))
                    .or_default()
                    .push(Held {
                        status,
                        folio: e.folio,
                        requested_on: registry::today(e.requested_at),
                        new: None,
                    });
            }
        }

        // Rows whose request is one the chunk writes: their folio is known once written.
        let mut created: Vec<NewRequest> = Vec::new();
        let mut waiting: Vec<(usize, usize)> = Vec::new();
        for w in wishes {
            let program = &self.programs[&w.wanted.program];
            let person = person_of
                .get(&w.key)
                .map(|id| survivor_of.get(id).copied().unwrap_or(*id));
            let report = &mut reports[w.report];
            let Some(person) = person else {
                // A dry run's new person: every request of theirs would be new.
                report.request = Some(RequestReport {
                    outcome: RequestOutcome::Created,
                    folio: None,
                });
                continue;
            };
            let list = held.entry((person, program.id)).or_default();
            report.request = Some(match fitting(list, &w.wanted) {
                Some((found, same)) => {
                    if !same {
                        report
                            .notes
                            .push(FieldError::new(Field::Status.code(), "conflict"));
                    }
                    if let Some(n) = found.new {
                        waiting.push((w.report, n));
                    }
                    RequestReport {
                        outcome: if same {
                            RequestOutcome::Existing
                        } else {
                            RequestOutcome::Conflict
                        },
                        folio: found.new.is_none().then(|| found.folio.clone()),
                    }
                }
                None => {
                    list.push(Held {
                        status: w.wanted.status,
                        folio: String::new(),
                        requested_on: w.wanted.requested_on.unwrap_or(self.today),
                        new: Some(created.len()),
                    });
                    waiting.push((w.report, created.len()));
                    created.push(NewRequest {
                        person,
                        program,
                        wanted: w.wanted,
                    });
                    RequestReport {
                        outcome: RequestOutcome::Created,
                        folio: None,
                    }
                }
            });
        }
        if let Some(tx) = tx {
            let folios = self.write_requests(tx, &created).await?;
            for (report, n) in waiting {
                if let Some(request) = &mut reports[report].request {
                    request.folio = Some(folios[n].clone());
                }
            }
        }
        Ok(())
    }

    /// Writes the chunk's new requests in the file's status: folios of the year each was asked
    /// for (one counter move per program and year), due dates, the program's rule in force then
    /// with the verdict `needs_information` (Ángel did not evaluate them), no decision date (the
    /// file does not say), a first event with the reason `imported` and an audit event each;
    /// then the people's coverage. Returns the folios, in the order of `created`.
    async fn write_requests(
        &self,
        tx: &AuditTx,
        created: &[NewRequest<'_>],
    ) -> Result<Vec<String>, ServiceError> {
        if created.is_empty() {
            return Ok(Vec::new());
        }
        let db: &sea_orm::DatabaseTransaction = tx;
        let mut by_counter: BTreeMap<(i32, i32), Vec<usize>> = BTreeMap::new();
        for (i, r) in created.iter().enumerate() {
            let year = r.wanted.requested_on.unwrap_or(self.today).year;
            by_counter.entry((r.program.id, year)).or_default().push(i);
        }
        let mut folios = vec![String::new(); created.len()];
        for ((program_id, year), positions) in by_counter {
            let code = &created[positions[0]].program.code;
            let count = u32::try_from(positions.len()).unwrap_or(u32::MAX);
            let reserved = eligibility::reserve_folios(db, program_id, code, year, count).await?;
            for (i, folio) in positions.into_iter().zip(reserved) {
                folios[i] = folio;
            }
        }
        let rows = created
            .iter()
            .zip(&folios)
            .map(|(r, folio)| self.imported_row(r, folio.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let id_of = insert_ids(db, rows, enrollment::Column::Folio)
            .instrument(debug_span!("import.requests.write"))
            .await?;
        let mut events = Vec::with_capacity(created.len());
        let mut audited = Vec::with_capacity(created.len());
        for (r, folio) in created.iter().zip(&folios) {
            let id = *id_of.get(folio).ok_or(ServiceError::Internal(
                "an inserted request was not returned",
            ))?;
            let status = r.wanted.status.code();
            events.push(enrollment_event::ActiveModel {
                id: NotSet,
                enrollment_id: Set(id),
                from_status: Set(None),
                to_status: Set(status.to_owned()),
                reason: Set(IMPORTED.to_owned()),
                actor_id: Set(None),
                role: Set(None),
                office_id: Set(None),
                agency_id: Set(Some(self.agency_id)),
                at: Set(self.now),
            });
            audited.push(
                NewEvent::new("enrollment.imported", self.now)
                    .subject("enrollment", id)
                    .detail(serde_json::json!({
                        "folio": folio,
                        "program": r.program.code,
                        "status": status,
                        "import": self.import,
                    })),
            );
        }
        insert_all::<enrollment_event::ActiveModel>(db, events)
            .instrument(debug_span!("import.requests.write"))
            .await?;
        tx.record_all(audited)
            .instrument(debug_span!("import.requests.audit"))
            .await?;
        let people: Vec<i32> = created.iter().map(|r| r.person).collect();
        coverage::refresh_people(db, &people)
            .instrument(debug_span!("import.requests.coverage"))
            .await?;
        Ok(folios)
    }

    /// The row of one imported request with its reserved folio.
    fn imported_row(
        &self,
        r: &NewRequest<'_>,
        folio: String,
    ) -> Result<enrollment::ActiveModel, ServiceError> {
        let day = r.wanted.requested_on.unwrap_or(self.today);
        let requested_at = match r.wanted.requested_on {
            Some(d) => registry::to_naive(d)
                .and_hms_opt(12, 0, 0)
                .expect("noon exists")
                .and_utc(),
            None => self.now,
        };
        let rule_id = self
            .rule_for(r.program.id, r.wanted.requested_on)
            .ok_or(ServiceError::Internal("a checked program lost its rule"))?;
        let due = add_business_days(day, r.program.sla_days.max(0) as u32, &self.holidays);
        Ok(enrollment::ActiveModel {
            id: NotSet,
            folio: Set(folio),
            person_id: Set(r.person),
            applicant_id: Set(r.person),
            program_id: Set(r.program.id),
            status: Set(r.wanted.status.code().to_owned()),
            rule_id: Set(rule_id),
            verdict: Set(Verdict::NeedsInformation.code().to_owned()),
            life_event_id: Set(None),
            office_id: Set(None),
            requested_by: Set(None),
            requested_at: Set(requested_at),
            due_on: Set(registry::to_naive(due)),
            override_reason: Set(None),
            escalation_level: Set(0),
            escalated_at: Set(None),
            decided_at: Set(None),
            version: Set(1),
            updated_at: Set(self.now),
        })
    }

    /// The chunk's record keys the agency imported before.
    async fn linked<'k>(
        &self,
        conn: &impl ConnectionTrait,
        keys: impl Iterator<Item = &'k Vec<u8>>,
    ) -> Result<HashMap<Vec<u8>, i32>, ServiceError> {
        let keys: Vec<Vec<u8>> = keys.cloned().collect();
        let mut found = HashMap::new();
        for part in keys.chunks(STATEMENT_ROWS) {
            found.extend(
                legacy_link::Entity::find()
                    .filter(legacy_link::Column::AgencyId.eq(self.agency_id))
                    .filter(legacy_link::Column::RecordKey.is_in(part.iter().cloned()))
                    .all(conn)
                    .await?
                    .into_iter()
                    .map(|l| (l.record_key, l.person_id)),
            );
        }
        Ok(found)
    }

    /// The registry's people holding the chunk's CURPs (through their blind indexes; the
    /// survivor of a merge), by CURP.
    async fn holders<'c>(
        &self,
        conn: &impl ConnectionTrait,
        curps: impl Iterator<Item = &'c Curp>,
    ) -> Result<HashMap<String, person::Model>, ServiceError> {
        let by_index: HashMap<Vec<u8>, String> = curps
            .map(|c| {
                (
                    self.state
                        .vault
                        .blind_index(IdKind::Curp.code(), c.as_str()),
                    c.as_str().to_owned(),
                )
            })
            .collect();
        let indexes: Vec<Vec<u8>> = by_index.keys().cloned().collect();
        let mut holders = HashMap::new();
        for part in indexes.chunks(STATEMENT_ROWS) {
            let ids: Vec<person_identifier::Model> = person_identifier::Entity::find()
                .filter(person_identifier::Column::Kind.eq(IdKind::Curp.code()))
                .filter(person_identifier::Column::BlindIndex.is_in(part.iter().cloned()))
                .all(conn)
                .await?;
            let people: HashMap<i32, person::Model> = person::Entity::find()
                .filter(person::Column::Id.is_in(ids.iter().map(|i| i.person_id)))
                .all(conn)
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect();
            for i in ids {
                if let (Some(curp), Some(p)) =
                    (by_index.get(&i.blind_index), people.get(&i.person_id))
                {
                    holders.insert(curp.clone(), registry::survivor(conn, p.clone()).await?);
                }
            }
        }
        Ok(holders)
    }

    /// Writes the chunk's new people: their rows, contacts and ID numbers with one statement
    /// each per [`STATEMENT_ROWS`], their registration events, the duplicate pairs to review,
    /// and queues their record links. The people are added to `written`, the chunk's new
    /// people so far, where [`NewPerson::earlier`] points.
    async fn flush(
        &self,
        tx: &AuditTx,
        pending: Vec<NewPerson>,
        links: &mut Vec<(Vec<u8>, i32)>,
        written: &mut Vec<person::Model>,
    ) -> Result<(), ServiceError> {
        if pending.is_empty() {
            return Ok(());
        }
        let db: &sea_orm::DatabaseTransaction = tx;
        let origin = Origin {
            synthetic: false,
            import: self.import,
        };
        let mut rows: Vec<person::ActiveModel> = pending
            .iter()
            .map(|n| registry::person_row(&n.row.valid, n.borough_id, origin, None, self.now))
            .collect();
        registry::free_card_numbers(db, &mut rows)
            .instrument(debug_span!("import.flush.cards"))
            .await?;
        // Only the new ids are read back: the rest is what was just written.
        let mut id_of = insert_ids(db, rows.clone(), person::Column::CardNumber)
            .instrument(debug_span!("import.flush.people"))
            .await?;
        let people: Vec<person::Model> = rows
            .into_iter()
            .map(|mut row| {
                let id = id_of
                    .remove(row.card_number.as_ref())
                    .ok_or(ServiceError::Internal(
                        "an inserted person was not returned",
                    ))?;
                row.id = Set(id);
                Ok(row.try_into_model()?)
            })
            .collect::<Result<_, ServiceError>>()?;

        let sealing = debug_span!("import.flush.seal").entered();
        let mut contacts = Vec::new();
        let mut identifiers = Vec::new();
        let mut events = Vec::with_capacity(people.len());
        for (p, n) in people.iter().zip(&pending) {
            contacts.extend(registry::contact_of(self.state, p.id, &n.row.valid));
            let (ids, kinds) = registry::identifier_rows(self.state, p.id, &n.row.valid, self.now);
            identifiers.extend(ids);
            let reviewed = !(n.found.is_empty() && n.earlier.is_empty());
            events.push(registry::registration_event(
                p.id,
                &kinds,
                origin,
                None,
                (None, reviewed),
                self.now,
            ));
        }
        drop(sealing);
        async {
            insert_all::<person_contact::ActiveModel>(db, contacts).await?;
            insert_all::<person_identifier::ActiveModel>(db, identifiers).await
        }
        .instrument(debug_span!("import.flush.ids"))
        .await?;
        tx.record_all(events)
            .instrument(debug_span!("import.flush.audit"))
            .await?;
        let base = written.len();
        written.extend(people);
        // The pairs for review: the people are new, so none of theirs is known yet.
        let mut pairs = Vec::new();
        for (k, n) in pending.iter().enumerate() {
            let p = &written[base + k];
            let scored = n
                .found
                .iter()
                .map(|(other, score)| (other, *score))
                .chain(n.earlier.iter().map(|(i, score)| (&written[*i], *score)));
            for (other, score) in scored {
                let score = (score * 100.0).round().clamp(0.0, 100.0) as u8;
                let agreeing = registry::agreeing(&n.row.valid, n.borough_id, other);
                pairs.push(merge::pending_pair(
                    p.id, other.id, score, &agreeing, self.now,
                ));
            }
            links.push((n.key.clone(), p.id));
        }
        insert_all::<duplicate_review::ActiveModel>(db, pairs)
            .instrument(debug_span!("import.flush.review"))
            .await?;
        Ok(())
    }

    /// A refused row's ID for the report: its CURP cell masked when it has the CURP's shape.
    fn masked_cell(&self, cells: &[String]) -> String {
        let cell = |f: Field| {
            self.layout
                .columns
                .iter()
                .position(|c| *c == Some(f))
                .and_then(|k| cells.get(k))
                .map(|c| c.trim().to_uppercase())
                .filter(|c| !c.is_empty())
        };
        match (cell(Field::Curp), cell(Field::RecordId)) {
            (Some(curp), _) if curp.len() == 18 && curp.is_ascii() => {
                format!("{}************{}", &curp[..4], &curp[16..])
            }
            (Some(other), _) | (None, Some(other)) => registry::masked_id("record", &other),
            (None, None) => String::new(),
        }
    }

    /// Links the agency's records to their people (one statement per [`STATEMENT_ROWS`]).
    async fn link_all(&self, tx: &AuditTx, links: Vec<(Vec<u8>, i32)>) -> Result<(), ServiceError> {
        let Some(import) = self.import else {
            return Ok(());
        };
        let rows = links
            .into_iter()
            .map(|(key, person_id)| legacy_link::ActiveModel {
                agency_id: Set(self.agency_id),
                record_key: Set(key),
                person_id: Set(person_id),
                import_id: Set(import),
            });
        insert_all::<legacy_link::ActiveModel>(&**tx, rows.collect()).await
    }

    /// The CURP's profile: what differs is a conflict (never overwritten); empty contact
    /// details and missing ID numbers are filled when the record is not older than the profile.
    async fn match_existing(
        &self,
        conn: &impl ConnectionTrait,
        tx: Option<&AuditTx>,
        p: &person::Model,
        row: &Row,
    ) -> Result<(Outcome, Vec<FieldError>), ServiceError> {
        let v = &row.valid;
        let mut conflicts: Vec<&'static str> = Vec::new();
        let ours = NameParts::of(p);
        let theirs = NameParts::of_valid(v);
        if ours.given != theirs.given {
            conflicts.push("given_names");
        }
        if ours.first != theirs.first {
            conflicts.push("first_surname");
        }
        if !theirs.second.is_empty() && ours.second != theirs.second {
            conflicts.push("second_surname");
        }
        if registry::to_date(p.birth_date) != v.birth_date {
            conflicts.push("birth_date");
        }
        if p.sex != forms::sex_code(v.sex) {
            conflicts.push("sex");
        }
        if self.borough_ids.get(v.borough.as_str()) != Some(&p.borough_id) {
            conflicts.push("borough");
        }
        if fold(&p.colonia) != fold(&v.colonia) {
            conflicts.push("colonia");
        }
        if p.postal_code != v.postal_code {
            conflicts.push("postal_code");
        }

        // Contact details: compared in clear, never written to a report.
        let contact = person_contact::Entity::find_by_id(p.id).one(conn).await?;
        let (street, phone) = registry::opened_contact(self.state, p.id, contact.as_ref()).await?;
        let mut fill: Vec<&'static str> = Vec::new();
        let (mut new_street, mut new_phone) = (street.clone(), phone.clone());
        for (field, stored, given, slot) in [
            ("street", &street, &v.street, &mut new_street),
            ("phone", &phone, &v.phone, &mut new_phone),
        ] {
            match (stored, given) {
                (_, None) => {}
                (None, Some(value)) => {
                    fill.push(field);
                    *slot = Some(value.clone());
                }
                (Some(a), Some(b)) if a != b => conflicts.push(field),
                _ => {}
            }
        }

        // ID numbers: a missing kind is added, another value of a stored kind is a conflict,
        // one held by someone else too.
        let stored = person_identifier::Entity::find()
            .filter(person_identifier::Column::PersonId.eq(p.id))
            .all(conn)
            .await?;
        let mut add: Vec<(IdKind, String)> = Vec::new();
        for (kind, value) in &v.other_ids {
            let index = self.state.vault.blind_index(kind.code(), value);
            match stored.iter().find(|r| r.kind == kind.code()) {
                Some(r) if r.blind_index != index => conflicts.push(kind.code()),
                Some(_) => {}
                None => {
                    let elsewhere = person_identifier::Entity::find()
                        .filter(person_identifier::Column::Kind.eq(kind.code()))
                        .filter(person_identifier::Column::BlindIndex.eq(index))
                        .one(conn)
                        .await?;
                    if elsewhere.is_some() {
                        conflicts.push(kind.code());
                    } else {
                        fill.push(kind.code());
                        add.push((*kind, value.clone()));
                    }
                }
            }
        }

        let older = row
            .record_date
            .is_some_and(|d| registry::to_naive(d) < p.updated_at.date_naive());
        let mut notes: Vec<FieldError> = conflicts
            .iter()
            .map(|f| FieldError::new(f, "conflict"))
            .collect();
        if older && !fill.is_empty() {
            notes.push(FieldError::new("record_date", "file_older"));
            fill.clear();
        }
        notes.extend(fill.iter().map(|f| FieldError::new(f, "filled")));
        let outcome = match (conflicts.is_empty(), fill.is_empty()) {
            (false, _) => Outcome::Conflict,
            (true, false) => Outcome::Updated,
            (true, true) => Outcome::Matched,
        };
        if let Some(tx) = tx
            && !fill.is_empty()
        {
            let filled_contact = new_street != street || new_phone != phone;
            self.fill(
                tx,
                p,
                filled_contact.then_some((&new_street, &new_phone)),
                contact.is_some(),
                &add,
                &fill,
            )
            .await?;
        }
        Ok((outcome, notes))
    }

    /// Writes the filled fields as a profile edit: a new version, the change named (values not
    /// copied) and audited.
    async fn fill(
        &self,
        tx: &AuditTx,
        p: &person::Model,
        contact: Option<(&Option<String>, &Option<String>)>,
        had_contact: bool,
        ids: &[(IdKind, String)],
        fields: &[&'static str],
    ) -> Result<(), ServiceError> {
        let db: &sea_orm::DatabaseTransaction = tx;
        let next = p.version + 1;
        let updated = person::Entity::update_many()
            .col_expr(person::Column::UpdatedAt, Expr::value(self.now))
            .col_expr(person::Column::Version, Expr::value(next))
            .filter(person::Column::Id.eq(p.id))
            .filter(person::Column::Version.eq(p.version))
            .exec(db)
            .await?;
        if updated.rows_affected != 1 {
            return Err(ServiceError::Conflict);
        }
        if let Some((street, phone)) = contact {
            let row = registry::contact_row(self.state, p.id, street.as_deref(), phone.as_deref());
            if had_contact {
                row.update(db).await?;
            } else {
                row.insert(db).await?;
            }
        }
        for (kind, value) in ids {
            registry::identifier_row(self.state, p.id, *kind, value, self.now)
                .insert(db)
                .await?;
        }
        let changes: BTreeMap<&str, (Option<String>, Option<String>)> =
            fields.iter().map(|f| (*f, (None, None))).collect();
        person_change::ActiveModel {
            id: NotSet,
            person_id: Set(p.id),
            version: Set(next),
            changes: Set(serde_json::to_string(&changes).expect("plain strings")),
            changed_by: Set(None),
            changed_at: Set(self.now),
        }
        .insert(db)
        .await?;
        tx.record(
            NewEvent::new("person.updated", self.now)
                .subject("person", p.id)
                .detail(serde_json::json!({ "fields": fields, "import": self.import })),
        )
        .await?;
        Ok(())
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

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    fn boroughs() -> Vec<(String, String)> {
        vec![
            ("09007".to_owned(), "Iztapalapa".to_owned()),
            ("09005".to_owned(), "Gustavo A. Madero".to_owned()),
        ]
    }

    fn mapping() -> Mapping {
        mapping_of(&[
            ("NOMBRE", "given_names"),
            ("PATERNO", "first_surname"),
            ("MATERNO", "second_surname"),
            ("FEC_NAC", "birth_date"),
            ("SEXO", "sex"),
            ("CURP", "curp"),
            ("DELEGACION", "borough"),
            ("COLONIA", "colonia"),
            ("CP", "postal_code"),
            ("FOLIO_LOCAL", "record_id"),
            ("OBS", "ignore"),
        ])
    }

    fn mapping_of(pairs: &[(&str, &str)]) -> Mapping {
        Mapping {
            columns: pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
            sex: [("1", "H"), ("2", "M")]
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
            ..Mapping::default()
        }
    }

    fn headers() -> Vec<String> {
        strings(&[
            "Nombre",
            "PATERNO",
            "materno",
            "FEC_NAC",
            "SEXO",
            "CURP",
            "DELEGACIÓN",
            "COLONIA",
            "CP",
            "FOLIO_LOCAL",
            "OBS",
        ])
    }

    #[test]
    fn headers_map_through_the_mapping_case_and_accents_ignored() {
        let layout = Layout::new(&headers(), Some(&mapping())).expect("a complete mapping");
        assert_eq!(layout.columns[0], Some(Field::GivenNames));
        assert_eq!(layout.columns[6], Some(Field::Borough));
        assert_eq!(layout.columns[10], None);
    }

    #[test]
    fn unknown_unmapped_twice_and_missing_columns_are_all_reported() {
        let problems = Layout::new(&strings(&["given_names", "apellido", "sex"]), None)
            .expect_err("unknown header");
        let codes: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.column.as_str(), p.code.as_str()))
            .collect();
        assert!(codes.contains(&("apellido", "header_unknown")), "{codes:?}");
        assert!(
            codes.contains(&("first_surname", "column_missing")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("birth_state", "column_missing")),
            "{codes:?}"
        );
        let mut m = mapping();
        m.columns.remove("OBS");
        m.columns.insert("CP".to_owned(), "colonia".to_owned());
        m.sex.insert("3".to_owned(), "Z".to_owned());
        let problems = Layout::new(&headers(), Some(&m)).expect_err("bad mapping");
        let codes: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.column.as_str(), p.code.as_str()))
            .collect();
        assert!(codes.contains(&("OBS", "header_unmapped")), "{codes:?}");
        assert!(codes.contains(&("CP", "column_twice")), "{codes:?}");
        assert!(
            codes.contains(&("postal_code", "column_missing")),
            "{codes:?}"
        );
        assert!(codes.contains(&("3", "sex_mapping")), "{codes:?}");
    }

    #[test]
    fn a_row_is_standardized_then_validated_like_the_intake_form() {
        let layout = Layout::new(&headers(), Some(&mapping())).unwrap();
        let row = layout.row(
            &strings(&[
                "maría  josé",
                "peña",
                "",
                "05/03/1950",
                "2",
                "PEÑM500305MDFXXX09",
                "Iztapalapa",
                "Santa Cruz",
                "09000",
                "A-17",
                "anything",
            ]),
            &boroughs(),
            TODAY,
        );
        // The CURP above has a wrong check digit: a refusal names it, with nothing else.
        let errors = row.expect_err("bad CURP");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "curp");

        let row = layout.row(
            &strings(&[
                "maría  josé",
                "peña",
                "",
                "05/03/1950",
                "2",
                "",
                "GAM",
                "Santa Cruz",
                "07000",
                "A-17",
                "",
            ]),
            &boroughs(),
            TODAY,
        );
        let errors = row.expect_err("no birth state without a CURP");
        assert_eq!(
            errors,
            vec![FieldError::new("birth_state", "required")],
            "only what is missing"
        );
    }

    #[test]
    fn bad_cells_are_refused_with_their_own_codes_and_not_also_required() {
        let layout = Layout::new(&headers(), Some(&mapping())).unwrap();
        let errors = layout
            .row(
                &strings(&[
                    "=HYPERLINK(\"x\")",
                    "Peña",
                    "",
                    "31/02/1950",
                    "M",
                    "",
                    "Narnia",
                    "Centro",
                    "06000",
                    "",
                    "",
                ]),
                &boroughs(),
                TODAY,
            )
            .expect_err("bad cells");
        let codes: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert!(codes.contains(&("given_names", "formula")), "{codes:?}");
        assert!(
            codes.contains(&("birth_date", "date_impossible")),
            "{codes:?}"
        );
        assert!(codes.contains(&("sex", "sex_ambiguous")), "{codes:?}");
        assert!(codes.contains(&("borough", "borough_unknown")), "{codes:?}");
        assert!(
            !codes.contains(&("birth_date", "required")) && !codes.contains(&("sex", "required")),
            "{codes:?}"
        );
    }

    #[test]
    fn a_row_may_also_be_a_program_request() {
        let mut m = mapping();
        for (theirs, ours) in [
            ("ENTIDAD", "birth_state"),
            ("PROGRAMA", "program"),
            ("ESTATUS", "status"),
            ("SOLICITUD", "requested_on"),
        ] {
            m.columns.insert(theirs.to_owned(), ours.to_owned());
        }
        m.program
            .insert("Uniformes 2025".to_owned(), "unifor".to_owned());
        m.status.insert("B".to_owned(), "exited".to_owned());
        let mut headers = headers();
        headers.extend(strings(&["Entidad", "Programa", "Estatus", "Solicitud"]));
        let layout = Layout::new(&headers, Some(&m)).unwrap();
        let read = |program: &str, status: &str, asked: &str| {
            let mut cells = strings(&[
                "Ana",
                "López",
                "",
                "01/02/1960",
                "2",
                "",
                "GAM",
                "Centro",
                "07000",
                "A-1",
                "",
                "DF",
            ]);
            cells.extend(strings(&[program, status, asked]));
            layout.row(&cells, &boroughs(), TODAY)
        };
        let wanted = |r: Result<Row, Vec<FieldError>>| r.expect("a valid row").enrollment;
        assert_eq!(
            wanted(read("Uniformes 2025", "b", "01/02/2025")),
            Some(Wanted {
                program: "UNIFOR".to_owned(),
                status: Status::Exited,
                requested_on: Date::new(2025, 2, 1),
            }),
            "their program and status through the mapping"
        );
        assert_eq!(
            wanted(read("utiles", "Vigente", "")),
            Some(Wanted {
                program: "UTILES".to_owned(),
                status: Status::Active,
                requested_on: None,
            })
        );
        assert_eq!(wanted(read("", "", "")), None, "not a request");
        for (program, status, asked, field, code) in [
            ("UTILES", "de baja temporal", "", "status", "status_unknown"),
            ("UTILES", "", "", "status", "required"),
            ("", "Activo", "", "program", "required"),
            ("=cmd()", "Activo", "", "program", "formula"),
            (
                "UTILES",
                "Activo",
                "01/01/2030",
                "requested_on",
                "date_future",
            ),
            (
                "UTILES",
                "Activo",
                "31/02/2025",
                "requested_on",
                "date_impossible",
            ),
        ] {
            assert_eq!(
                read(program, status, asked).expect_err(code),
                vec![FieldError::new(field, code)],
                "{program} {status} {asked}"
            );
        }

        // A status or a date without a program column; a status mapped to no status of ours.
        let mut bad = mapping();
        bad.columns
            .insert("ESTATUS".to_owned(), "status".to_owned());
        bad.status.insert("V".to_owned(), "vigente".to_owned());
        let mut headers = self::headers();
        headers.push("Estatus".to_owned());
        let problems = Layout::new(&headers, Some(&bad)).expect_err("no program column");
        let codes: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.column.as_str(), p.code.as_str()))
            .collect();
        assert!(codes.contains(&("program", "column_missing")), "{codes:?}");
        assert!(codes.contains(&("V", "status_mapping")), "{codes:?}");
    }

    #[test]
    fn formulas_are_told_from_phones_and_signs() {
        for formula in [
            "=1+1",
            "@SUM(A1)",
            "+SUM(A1:A2)",
            "-2+3",
            "=cmd|' /C calc'!A0",
        ] {
            assert!(looks_like_formula(formula), "{formula}");
        }
        for data in ["+52 55 1234 5678", "-", "-12", "(55) 1234-5678", "Peña", ""] {
            assert!(!looks_like_formula(data), "{data}");
        }
    }

    #[test]
    fn every_import_code_has_both_messages() {
        for code in [
            "header_unknown",
            "header_unmapped",
            "field_unknown",
            "column_twice",
            "column_missing",
            "sex_mapping",
            "mapping_syntax",
            "csv_malformed",
            "file_empty",
            "file_too_large",
            "formula",
            "date_format",
            "date_impossible",
            "sex_ambiguous",
            "sex_unknown",
            "borough_unknown",
            "conflict",
            "filled",
            "file_older",
        ] {
            let (es, en) = message(code).unwrap_or_else(|| panic!("{code} has no message"));
            assert!(!es.is_empty() && !en.is_empty() && es != en, "{code}");
        }
    }
}
