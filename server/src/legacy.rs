//! `angel import persons`: an agency's export read ([`crate::tabular`]: UTF-8 with or without
//! BOM or Latin-1, `,` or `;`), its column mapping (TOML), the whole file checked before any
//! row is written (a malformed line or an unknown header refuses it all), the rows handed to
//! [`services::legacy`], and the per-row report written as CSV in both languages.

use std::collections::HashMap;
use std::io::Write;
use std::sync::LazyLock;

use angel_app::domain::{curp::Date, standardize};
use angel_app::ssr::{
    AppState, ServiceError,
    services::{
        legacy::{self, Field, Layout, Mapping, Options, Problem, RowReport, Summary},
        registry,
    },
};
use sha2::{Digest, Sha256};

/// The largest file imported (a 1M-row export is about 150 MB).
pub const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// At most this many malformed lines are listed (the file is refused at the first anyway).
const LISTED: usize = 20;

/// A file that passed the checks: nothing in it will stop the import half-way.
pub struct Checked {
    text: String,
    layout: Layout,
    /// Data rows (the header not counted).
    pub rows: u64,
    /// SHA-256 of the file's bytes, hex: the same file again resumes or finds everything done.
    pub sha256: String,
}

/// The mapping file, or its syntax error (line 0: about the whole mapping).
///
/// # Errors
/// `mapping_syntax` with the parser's position.
pub fn mapping(text: &str) -> Result<Mapping, Vec<Problem>> {
    toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!("byte {}", s.start))
            .unwrap_or_default();
        vec![Problem::new(0, &at, "mapping_syntax")]
    })
}

/// Reads a file from disk, refusing one over [`MAX_BYTES`] before reading it.
///
/// # Errors
/// `file_too_large`; I/O errors as `anyhow`.
pub fn read(path: &std::path::Path) -> anyhow::Result<Result<Vec<u8>, Vec<Problem>>> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_BYTES {
        return Ok(Err(vec![Problem::new(0, "", "file_too_large")]));
    }
    Ok(Ok(std::fs::read(path)?))
}

/// Checks the whole file: decodable, a header the mapping (or our field codes) explains, every
/// line the header's number of fields.
///
/// # Errors
/// Every problem found (up to 20 malformed lines); the file is refused.
pub fn check(bytes: &[u8], mapping: Option<&Mapping>) -> Result<Checked, Vec<Problem>> {
    if bytes.len() as u64 > MAX_BYTES {
        return Err(vec![Problem::new(0, "", "file_too_large")]);
    }
    let sha256 = hex::encode(Sha256::digest(bytes));
    let text = crate::tabular::decode(bytes);
    let Some(mut reader) = crate::tabular::reader(&text) else {
        return Err(vec![Problem::new(0, "", "file_empty")]);
    };
    let headers: Vec<String> = match reader.headers() {
        Ok(h) if h.iter().any(|c| !c.is_empty()) => h.iter().map(str::to_owned).collect(),
        _ => return Err(vec![Problem::new(0, "", "file_empty")]),
    };
    let layout = Layout::new(&headers, mapping)?;
    let mut problems = Vec::new();
    let mut rows = 0u64;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => rows += 1,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.push(Problem::new(line, "", "csv_malformed"));
                if problems.len() >= LISTED || !recoverable(&e) {
                    break;
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(Checked {
            text,
            layout,
            rows,
            sha256,
        })
    } else {
        Err(problems)
    }
}

/// [`check`] with the mapping as text (TOML), read first: a mapping that does not read refuses
/// the file as [`mapping`] says.
///
/// # Errors
/// The mapping's problem, or every problem of the file.
pub fn check_with(bytes: &[u8], mapping_text: Option<&str>) -> Result<Checked, Vec<Problem>> {
    let mapping = mapping_text.map(self::mapping).transpose()?;
    check(bytes, mapping.as_ref())
}

/// A line with the wrong number of fields: the next lines can still be checked.
fn recoverable(e: &csv::Error) -> bool {
    matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. })
}

/// Imports a checked file for an agency, its rows by birth date ([`birth_date_order`]), writing
/// the report's lines (each with its row's line in the file) as each chunk commits. The run is
/// known by the file's digest and its order's, so that a resume skips exactly the rows done.
///
/// # Errors
/// As [`legacy::import_persons`]; report write errors as `Internal`.
pub async fn import(
    state: &AppState,
    checked: &Checked,
    agency: &str,
    options: Options,
    report: &mut csv::Writer<impl Write>,
    progress: impl FnMut(u64),
) -> Result<Summary, ServiceError> {
    let today = registry::today(state.clock.now());
    let order = birth_date_order(checked, today)?;
    // A run resumes only in the same order: the file's digest and the order's.
    let mut run = Sha256::new();
    run.update(checked.sha256.as_bytes());
    for (_, line) in &order {
        run.update(line.to_le_bytes());
    }
    let run = hex::encode(run.finalize());
    let mut reader = crate::tabular::seekable_reader(&checked.text).ok_or_else(unreadable)?;
    let mut record = csv::StringRecord::new();
    let rows = order.into_iter().map(move |(byte, line)| {
        let mut at = csv::Position::new();
        at.set_byte(byte).set_line(line);
        reader.seek(at).map_err(|_| unreadable())?;
        match reader.read_record(&mut record) {
            Ok(true) => Ok((line, record.iter().map(str::to_owned).collect())),
            _ => Err(unreadable()),
        }
    });
    report_header(report)?;
    let mut write_error = None;
    let summary = legacy::import_persons(
        state,
        agency,
        &run,
        checked.rows,
        &checked.layout,
        rows,
        options,
        |r| {
            if write_error.is_none()
                && let Err(e) = report_row(report, r)
            {
                write_error = Some(e);
            }
        },
        progress,
    )
    .await?;
    match write_error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// A file that passed [`check`] and still fails to read.
fn unreadable() -> ServiceError {
    ServiceError::Internal("a checked file failed to read")
}

/// Where each data row starts (byte, line), in the order the rows are imported: by birth date,
/// rows without one that reads first, in file order within a date. A chunk then holds a few
/// birth dates, so the duplicate search reads each date's people about once in a run, not
/// once for every chunk that meets the date (README, P6).
///
/// # Errors
/// `Internal` if the checked file fails to read.
fn birth_date_order(checked: &Checked, today: Date) -> Result<Vec<(u64, u64)>, ServiceError> {
    let column = checked.layout.column_of(Field::BirthDate);
    let mut reader = crate::tabular::reader(&checked.text).ok_or_else(unreadable)?;
    let mut record = csv::StringRecord::new();
    let mut keyed = Vec::with_capacity(usize::try_from(checked.rows).unwrap_or(0));
    while reader.read_record(&mut record).map_err(|_| unreadable())? {
        let at = record
            .position()
            .ok_or(ServiceError::Internal("a record without its position"))?;
        let date = column
            .and_then(|c| record.get(c))
            .and_then(|raw| standardize::parse_date(raw, today).ok());
        keyed.push((date, at.byte(), at.line()));
    }
    // Stable: rows of one date keep the file's order.
    keyed.sort_by_key(|(date, _, _)| *date);
    Ok(keyed
        .into_iter()
        .map(|(_, byte, line)| (byte, line))
        .collect())
}

/// `angel import persons`: problems of the file on standard error (and a failure), the report
/// to `report_path` or standard output, the counts and a progress bar on standard error.
///
/// # Errors
/// A refused file, an unknown agency, database and I/O errors.
pub async fn run_cli(
    db: sea_orm::DatabaseConnection,
    settings: &crate::config::Settings,
    file: &std::path::Path,
    agency: &str,
    mapping_path: Option<&std::path::Path>,
    options: Options,
    report_path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let refuse = |problems: Vec<Problem>| {
        for p in &problems {
            eprintln!("{}: {}", file.display(), show(p));
        }
        anyhow::anyhow!(
            "{} problem(s): nothing imported / {} problema(s): no se importó nada",
            problems.len(),
            problems.len()
        )
    };
    let mapping = match mapping_path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(self::mapping(&text).map_err(refuse)?)
        }
        None => None,
    };
    let bytes = read(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .map_err(refuse)?;
    let checked = check(&bytes, mapping.as_ref()).map_err(refuse)?;
    drop(bytes);
    let state = crate::http::app_state(db, settings).await?;
    let bar = indicatif::ProgressBar::new(checked.rows).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} filas/rows · {per_sec} · {eta}",
        )
        .expect("a valid template"),
    );
    let out: Box<dyn Write> = match report_path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut report = csv::Writer::from_writer(out);
    let summary = import(&state, &checked, agency, options, &mut report, |done| {
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    report.flush().context("cannot write the report")?;
    let summary = match summary {
        Ok(s) => s,
        Err(ServiceError::Invalid(_)) => {
            anyhow::bail!("unknown agency {agency} / dependencia desconocida {agency}")
        }
        Err(e) => return Err(anyhow::anyhow!("{e}: run the same file again to resume")),
    };
    let what = if options.dry_run {
        "dry run, nothing written / simulación, no se escribió nada"
    } else {
        "imported / importado"
    };
    eprintln!("persons ({what}): {summary}");
    Ok(())
}

const REPORT_HEADER: [&str; 9] = [
    "linea_line",
    "resultado_outcome",
    "id_enmascarado_masked_id",
    "campo_field",
    "codigo_code",
    "mensaje",
    "message",
    "solicitud_request",
    "folio",
];

fn written(e: csv::Error) -> ServiceError {
    tracing::error!(error = %e, "import report not written");
    ServiceError::Internal("the import report could not be written")
}

fn report_header(out: &mut csv::Writer<impl Write>) -> Result<(), ServiceError> {
    out.write_record(REPORT_HEADER).map_err(written)
}

/// One report line per note (a row without notes gets one line): codes, masked IDs, messages
/// and the program request's outcome and folio only — never a name or a clear ID.
fn report_row(out: &mut csv::Writer<impl Write>, r: &RowReport) -> Result<(), ServiceError> {
    let line = r.line.to_string();
    let base: [&str; 3] = [&line, r.outcome.code(), &r.masked_id];
    let request: [&str; 2] = match &r.request {
        Some(q) => [q.outcome.code(), q.folio.as_deref().unwrap_or("")],
        None => ["", ""],
    };
    if r.notes.is_empty() {
        return out
            .write_record(base.into_iter().chain(["", "", "", ""]).chain(request))
            .map_err(written);
    }
    for note in &r.notes {
        let (es, en) = describe(&note.code);
        out.write_record(
            base.into_iter()
                .chain([
                    note.field.as_str(),
                    note.code.as_str(),
                    es.as_str(),
                    en.as_str(),
                ])
                .chain(request),
        )
        .map_err(written)?;
    }
    Ok(())
}

/// The translation catalogs, for the intake form's codes (`field_<code>`).
static CATALOG: LazyLock<[HashMap<String, String>; 2]> = LazyLock::new(|| {
    let load = |text: &str| serde_json::from_str(text).expect("the app's catalog is flat JSON");
    [
        load(include_str!("../../app/locales/es-MX.json")),
        load(include_str!("../../app/locales/en.json")),
    ]
});

/// A code's message in Spanish and English: the import's own, else the intake form's, else
/// the generic "check the field".
pub fn describe(code: &str) -> (String, String) {
    if let Some((es, en)) = legacy::message(code) {
        return (es.to_owned(), en.to_owned());
    }
    let [es, en] = &*CATALOG;
    let key = format!("field_{code}");
    match (es.get(&key), en.get(&key)) {
        (Some(a), Some(b)) => (a.clone(), b.clone()),
        _ => (
            es["error_validation"].clone(),
            en["error_validation"].clone(),
        ),
    }
}

/// A file-level problem for the terminal: where, then both messages.
pub fn show(p: &Problem) -> String {
    let (es, en) = describe(&p.code);
    let place = match (p.line, p.column.is_empty()) {
        (0, true) => String::new(),
        (0, false) => format!("{}: ", p.column),
        (line, true) => format!("línea/line {line}: "),
        (line, false) => format!("línea/line {line}, {}: ", p.column),
    };
    format!("{place}{es} / {en} [{}]", p.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "given_names,first_surname,birth_date,sex,curp,borough,colonia,postal_code";

    #[test]
    fn a_line_with_too_many_fields_refuses_the_file_and_is_named() {
        let text = format!(
            "{HEADER}\nANA,LOPEZ,1950-01-01,F,,09007,CENTRO,09000\nANA,LOPEZ,1950-01-01,F,,09007,CENTRO,09000,EXTRA\n"
        );
        let problems = check(text.as_bytes(), None).err().expect("refused");
        assert_eq!(problems, vec![Problem::new(3, "", "csv_malformed")]);
    }

    #[test]
    fn latin1_semicolons_and_a_bom_pass_the_check() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(HEADER.replace(',', ";").as_bytes());
        bytes.extend(b"\nMAR\xCDA;PE\xD1A;05/03/1950;F;;Iztapalapa;CENTRO;09000\n");
        // Not UTF-8 after the BOM: read as Latin-1.
        let Ok(checked) = check(&bytes, None) else {
            panic!("a readable file")
        };
        assert_eq!(checked.rows, 1);
        assert!(checked.text.contains("PEÑA"));
        assert_eq!(checked.sha256.len(), 64);
    }

    #[test]
    fn empty_files_and_bad_mappings_are_named() {
        assert_eq!(
            check(b"", None).err(),
            Some(vec![Problem::new(0, "", "file_empty")])
        );
        let problems = mapping("[columns]\nNOMBRE = \n").expect_err("bad TOML");
        assert_eq!(problems[0].code, "mapping_syntax");
        let problems = mapping("[estatus]\nA = \"active\"\n").expect_err("unknown section");
        assert_eq!(problems[0].code, "mapping_syntax");
        let m = mapping("[columns]\nNOMBRE = \"given_names\"\n[sex]\n1 = \"H\"\n").unwrap();
        assert_eq!(m.columns["NOMBRE"], "given_names");
        assert_eq!(m.sex["1"], "H");
    }

    #[test]
    fn every_code_has_a_message_in_both_languages() {
        for code in [
            "curp_check_digit",
            "required",
            "formula",
            "date_impossible",
            "nonsense",
        ] {
            let (es, en) = describe(code);
            assert!(!es.is_empty() && !en.is_empty() && es != en, "{code}");
        }
        assert!(show(&Problem::new(1, "APELLIDO", "header_unknown")).contains("APELLIDO"));
    }
}
