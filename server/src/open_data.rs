//! The policy aggregates as tables: what `/politica/{file}` serves as CSV or JSON and what
//! `angel export open-data DIR` writes, with a data dictionary. The same suppression as on
//! screen: counts 1–4 are `<5`, a cell hidden so that a small one cannot be worked out from a
//! total is `suppressed`.

use std::path::Path;

use angel_app::{
    coverage::dto::{BoroughCoverage, CoverageReport, ProgramReport},
    domain::disclosure::Cell,
    ssr::{
        ServiceError,
        services::{coverage, figures, work},
    },
    staff::dto::QualityRow,
};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

/// A column and what it holds (Spanish / English), for the data dictionary.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub about: &'static str,
}

const fn col(name: &'static str, about: &'static str) -> Column {
    Column { name, about }
}

/// One published table.
#[derive(Debug, Clone)]
pub struct Table {
    /// The file name without extension (`programas` → `programas.csv`).
    pub name: String,
    pub about: &'static str,
    pub columns: &'static [Column],
    pub rows: Vec<Vec<String>>,
}

/// How a published count is written.
pub fn cell(c: Cell) -> String {
    match c {
        Cell::Count(n) => n.to_string(),
        Cell::Small => "<5".to_owned(),
        Cell::Hidden => "suppressed".to_owned(),
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A text cell a spreadsheet would run as a formula gets a leading apostrophe (numbers,
/// negative ones included, are left alone).
pub(crate) fn inert(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

impl Table {
    /// The table as CSV (UTF-8, a header row, `,` separated).
    ///
    /// # Errors
    /// Only if writing to memory fails.
    pub fn csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.columns.iter().map(|c| c.name))?;
        for row in &self.rows {
            w.write_record(row.iter().map(|v| inert(v)))?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    }

    /// The table as a JSON array of objects, one per row: counts as numbers, `<5` and
    /// `suppressed` as strings, empty cells as null.
    pub fn json(&self) -> serde_json::Value {
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let object: serde_json::Map<String, serde_json::Value> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| {
                        let value = if v.is_empty() {
                            serde_json::Value::Null
                        } else if let Ok(n) = v.parse::<i64>() {
                            n.into()
                        } else {
                            v.clone().into()
                        };
                        (c.name.to_owned(), value)
                    })
                    .collect();
                serde_json::Value::Object(object)
            })
            .collect();
        serde_json::Value::Array(rows)
    }
}

const COVERAGE: &[Column] = &[
    col("indicator", "Código del indicador / indicator code"),
    col(
        "year",
        "Año de la población objetivo / target population year",
    ),
    col(
        "inegi_code",
        "Clave INEGI de la alcaldía (09 = toda la ciudad) / INEGI borough code (09 = the city)",
    ),
    col("borough", "Alcaldía / borough"),
    col(
        "people_reached",
        "Personas distintas con una solicitud activa en los programas del indicador, por alcaldía donde viven hoy / distinct people with an active request in the indicator's programs, by the borough they live in now",
    ),
    col(
        "target_population",
        "Población objetivo / target population",
    ),
    col(
        "per_thousand",
        "Personas alcanzadas por cada mil de la población objetivo / people reached per thousand of the target",
    ),
    col(
        "target_synthetic",
        "true: población objetivo sintética (demostración), no es una cifra real / synthetic demo target, not a real figure",
    ),
    col(
        "target_source",
        "Fuente de la población objetivo / source of the target population",
    ),
];

/// Coverage of one indicator by borough, with a row for the city.
pub fn coverage_table(r: &CoverageReport) -> Table {
    let year = opt(r.year);
    let row = |b: &BoroughCoverage| {
        let (code, name) = if b.code.is_empty() {
            ("09".to_owned(), "Ciudad de México".to_owned())
        } else {
            (b.code.clone(), b.name.clone())
        };
        vec![
            r.indicator.clone(),
            year.clone(),
            code,
            name,
            cell(b.reached),
            opt(b.target),
            opt(b.per_thousand),
            r.synthetic.to_string(),
            r.sources.join("; "),
        ]
    };
    Table {
        name: format!("cobertura-{}", r.indicator),
        about: "Cobertura de un indicador por alcaldía / coverage of one indicator by borough",
        columns: COVERAGE,
        rows: r.boroughs.iter().chain([&r.total]).map(row).collect(),
    }
}

const BOROUGH: Column = col(
    "inegi_code",
    "Clave INEGI de la alcaldía (09 = toda la ciudad) / INEGI borough code (09 = the city)",
);
const PROGRAM: Column = col("program", "Código del programa / program code");

const PROGRAMS: &[Column] = &[
    BOROUGH,
    PROGRAM,
    col("agency", "Dependencia que lo opera / agency that runs it"),
    col(
        "reached_today",
        "Personas con una solicitud activa hoy / people with an active request today",
    ),
    col(
        "change_since_last_month",
        "Alcanzadas hoy menos al cierre del mes pasado (vacío si alguna está suprimida) / today minus last month's end (empty when either is suppressed)",
    ),
    col(
        "decided_last_365_days",
        "Solicitudes resueltas en los últimos 365 días / requests decided in the last 365 days",
    ),
    col(
        "median_days_to_decision",
        "Mediana de días de la solicitud a la resolución (5 resoluciones o más) / median days from request to decision (5 decisions or more)",
    ),
    col(
        "p90_days_to_decision",
        "Percentil 90 de días a la resolución / 90th percentile of days to decision",
    ),
    col(
        "overdue",
        "Solicitudes sin resolver después de su fecha límite / requests awaiting a decision past their due date",
    ),
    col(
        "escalated",
        "Solicitudes sin resolver escaladas / requests awaiting a decision that were escalated",
    ),
];

const MONTHLY: &[Column] = &[
    BOROUGH,
    PROGRAM,
    col(
        "month",
        "Mes (AAAA-MM); el mes en curso cuenta hoy / month (YYYY-MM); the current month counts today",
    ),
    col(
        "people_reached",
        "Personas con una solicitud activa el último día del mes / people with an active request on the month's last day",
    ),
];

const OVERLAP: &[Column] = &[
    BOROUGH,
    col("program_a", "Código de un programa / a program's code"),
    col(
        "program_b",
        "Código del otro programa / the other program's code",
    ),
    col(
        "people_in_both",
        "Personas alcanzadas hoy por ambos / people reached today by both",
    ),
];

const QUALITY: &[Column] = &[
    BOROUGH,
    col(
        "measure",
        "registered, with_curp, without_curp, duplicates_pending, adults_without_income, minors_without_school",
    ),
    col(
        "people",
        "Personas (perfiles activos) / people (active profiles)",
    ),
];

/// The tables by program of one report: figures, month ends, overlap, data quality.
pub fn program_tables(r: &ProgramReport) -> Vec<Table> {
    let place = r.borough.clone().unwrap_or_else(|| "09".to_owned());
    let programs = r
        .programs
        .iter()
        .map(|p| {
            vec![
                place.clone(),
                p.code.clone(),
                p.agency.clone(),
                cell(p.reached),
                opt(p.change),
                cell(p.decided),
                opt(p.median_days),
                opt(p.p90_days),
                cell(p.overdue),
                cell(p.escalated),
            ]
        })
        .collect();
    let monthly = r
        .programs
        .iter()
        .flat_map(|p| {
            r.months
                .iter()
                .zip(&p.trend)
                .map(|(m, c)| vec![place.clone(), p.code.clone(), m.clone(), cell(*c)])
        })
        .collect();
    let mut overlap = Vec::new();
    for (i, a) in r.programs.iter().enumerate() {
        for (j, b) in r.programs.iter().enumerate().skip(i + 1) {
            overlap.push(vec![
                place.clone(),
                a.code.clone(),
                b.code.clone(),
                cell(r.overlap[i][j]),
            ]);
        }
    }
    let q = &r.quality;
    let quality = [
        ("registered", q.registered),
        ("with_curp", q.with_curp),
        ("without_curp", q.without_curp),
        ("duplicates_pending", q.duplicates_pending),
        ("adults_without_income", q.adults_without_income),
        ("minors_without_school", q.minors_without_school),
    ]
    .into_iter()
    .map(|(m, c)| vec![place.clone(), m.to_owned(), cell(c)])
    .collect();
    vec![
        Table {
            name: "programas".to_owned(),
            about: "Personas alcanzadas y tiempos de resolución por programa / people reached and decision times by program",
            columns: PROGRAMS,
            rows: programs,
        },
        Table {
            name: "programas-mes".to_owned(),
            about: "Personas alcanzadas por programa al cierre de cada mes / people reached by program at each month's end",
            columns: MONTHLY,
            rows: monthly,
        },
        Table {
            name: "traslape".to_owned(),
            about: "Personas en dos programas a la vez / people in two programs at once",
            columns: OVERLAP,
            rows: overlap,
        },
        Table {
            name: "calidad".to_owned(),
            about: "Calidad de los datos del padrón / data quality of the registry",
            columns: QUALITY,
            rows: quality,
        },
    ]
}

const GAP: &[Column] = &[
    PROGRAM,
    BOROUGH,
    col(
        "eligible_not_enrolled",
        "Personas registradas que las reglas vigentes encuentran elegibles sin solicitud abierta en el programa / registered people the rules in force find eligible without an open request in the program",
    ),
    col(
        "as_of",
        "Momento del cálculo, hora de la Ciudad de México / when it was computed, Mexico City time",
    ),
];

/// The eligibility gap by program and borough, each program's row of boroughs with the city
/// total after it (empty until the gap job has run).
pub fn gap_table(r: &ProgramReport) -> Table {
    let rows = r
        .gap
        .iter()
        .flat_map(|g| {
            g.rows.iter().flat_map(|row| {
                row.boroughs
                    .iter()
                    .zip(&r.boroughs)
                    .map(|(c, (code, _))| (code.clone(), *c))
                    .chain([("09".to_owned(), row.total)])
                    .map(|(code, c)| vec![row.code.clone(), code, cell(c), g.as_of.clone()])
            })
        })
        .collect();
    Table {
        name: "brecha".to_owned(),
        about: "Elegibles sin inscripción por programa y alcaldía / eligible but not enrolled by program and borough",
        columns: GAP,
        rows,
    }
}

const RATINGS: &[Column] = &[
    PROGRAM,
    col(
        "office",
        "Oficina donde se hizo la solicitud (vacío: sin oficina) / office where the request was made (empty: none)",
    ),
    col(
        "ratings",
        "Calificaciones de 1 a 5 dadas a solicitudes ya decididas / ratings from 1 to 5 given to decided requests",
    ),
    col(
        "mean_rating",
        "Promedio redondeado a una décima (vacío si hay menos de 5) / mean rounded to a tenth (empty below 5 ratings)",
    ),
];

/// Service quality: the citizens' ratings by program and office, as `/politica` shows them.
pub fn ratings_table(rows: &[QualityRow]) -> Table {
    let rows = rows
        .iter()
        .map(|q| {
            vec![
                q.program_code.clone(),
                q.office.clone().unwrap_or_default(),
                q.ratings.map_or_else(|| "<5".to_owned(), |n| n.to_string()),
                opt(q.mean_tenths.map(|m| format!("{}.{}", m / 10, m % 10))),
            ]
        })
        .collect();
    Table {
        name: "calificaciones".to_owned(),
        about: "Calidad de la atención: calificaciones por programa y oficina / service quality: ratings by program and office",
        columns: RATINGS,
        rows,
    }
}

/// The tables built from the figures by program of one place.
const BY_PROGRAM: [&str; 5] = [
    "programas",
    "programas-mes",
    "traslape",
    "calidad",
    "brecha",
];

/// The table `name` (`cobertura`, `calificaciones`, or one of the figures by program:
/// `programas`, `programas-mes`, `traslape`, `calidad`, `brecha`).
///
/// # Errors
/// `NotFound` for an unknown table, indicator, year or borough; database errors.
pub async fn table(
    db: &DatabaseConnection,
    name: &str,
    indicator: &str,
    year: Option<i32>,
    borough: &str,
    now: DateTime<Utc>,
) -> Result<Table, ServiceError> {
    match name {
        "cobertura" => Ok(coverage_table(
            &coverage::by_borough(db, indicator, year).await?,
        )),
        "calificaciones" => Ok(ratings_table(&work::service_quality(db).await?)),
        "brecha" => Ok(gap_table(&figures::by_program(db, borough, now).await?)),
        _ if BY_PROGRAM.contains(&name) => {
            program_tables(&figures::by_program(db, borough, now).await?)
                .into_iter()
                .find(|t| t.name == name)
                .ok_or(ServiceError::NotFound)
        }
        _ => Err(ServiceError::NotFound),
    }
}

/// What [`export`] wrote.
#[derive(Debug, Default)]
pub struct Exported {
    pub tables: usize,
    pub rows: usize,
}

/// Writes every aggregate to `dir` as CSV and JSON — coverage of each indicator (newest
/// target year), the figures by program for the city and for each borough, the eligibility
/// gap, the ratings by program and office — with
/// `diccionario.csv` describing every table and column.
///
/// # Errors
/// Database or file errors.
pub async fn export(
    db: &DatabaseConnection,
    dir: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Exported> {
    use angel_entity::{borough, indicator};
    use sea_orm::{EntityTrait, QueryOrder};

    std::fs::create_dir_all(dir)?;
    let mut tables: Vec<Table> = Vec::new();
    for i in indicator::Entity::find()
        .order_by_asc(indicator::Column::Position)
        .all(db)
        .await?
    {
        tables.push(coverage_table(
            &coverage::by_borough(db, &i.code, None).await?,
        ));
    }
    let mut places = vec![String::new()];
    places.extend(
        borough::Entity::find()
            .order_by_asc(borough::Column::InegiCode)
            .all(db)
            .await?
            .into_iter()
            .map(|b| b.inegi_code),
    );
    // One file per table by program, every place in it (the city first, then each borough).
    let mut by_program: Vec<Table> = Vec::new();
    for place in &places {
        let report = figures::by_program(db, place, now).await?;
        if place.is_empty() {
            // The same matrix whatever the borough: once.
            by_program.push(gap_table(&report));
        }
        for t in program_tables(&report) {
            match by_program.iter_mut().find(|k| k.name == t.name) {
                Some(kept) => kept.rows.extend(t.rows),
                None => by_program.push(t),
            }
        }
    }
    tables.extend(by_program);
    tables.push(ratings_table(&work::service_quality(db).await?));
    let mut done = Exported::default();
    let mut dictionary = csv::Writer::from_path(dir.join("diccionario.csv"))?;
    dictionary.write_record(["file", "column", "description"])?;
    for t in &tables {
        std::fs::write(dir.join(format!("{}.csv", t.name)), t.csv()?)?;
        std::fs::write(
            dir.join(format!("{}.json", t.name)),
            serde_json::to_vec_pretty(&t.json())?,
        )?;
        dictionary.write_record([format!("{}.csv", t.name).as_str(), "", t.about])?;
        for c in t.columns {
            dictionary.write_record([format!("{}.csv", t.name).as_str(), c.name, c.about])?;
        }
        done.tables += 1;
        done.rows += t.rows.len();
    }
    dictionary.write_record([
        "*",
        "",
        "Conteos de 1 a 4 personas: \"<5\"; \"suppressed\": oculto para que un \"<5\" no se deduzca del total / counts of 1 to 4 people: \"<5\"; \"suppressed\": hidden so that a \"<5\" cannot be worked out from the total",
    ])?;
    dictionary.flush()?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &[Column] = &[col("a", ""), col("b", ""), col("c", "")];

    #[test]
    fn formulas_are_inert_and_json_keeps_numbers() {
        assert_eq!(inert("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(inert("-3"), "-3");
        assert_eq!(inert("@x"), "'@x");
        let t = Table {
            name: "t".to_owned(),
            about: "",
            columns: ABC,
            rows: vec![vec!["12".to_owned(), "<5".to_owned(), String::new()]],
        };
        assert_eq!(
            t.json(),
            serde_json::json!([{ "a": 12, "b": "<5", "c": null }])
        );
        assert_eq!(
            String::from_utf8(t.csv().unwrap()).unwrap(),
            "a,b,c\n12,<5,\n"
        );
    }
}
