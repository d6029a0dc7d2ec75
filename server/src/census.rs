//! `angel import census FILE`: the target populations of the indicators per borough and year,
//! from either
//!
//! - INEGI's ITER census table (one row per locality; columns `ENTIDAD`, `MUN`, `LOC` and the
//!   counts): the municipality total row (`LOC` 0000) is used when present, else the
//!   localities are added up (a confidential `*` then refuses the file); or
//! - a simple CSV with exactly the columns `indicator,borough,year,count,source` (borough as
//!   INEGI code `09007` or `007`).
//!
//! The whole file is checked first; any problem gives a report line per row and column and
//! nothing is imported. A count already stored for the same indicator, borough and year is
//! never changed silently: the import stops and lists it, unless `--replace` is given (the old
//! value then goes to the audit log).
//!
//! ITER has no column for most indicators. What is read, and what it measures:
//!
//! | indicator | ITER columns | note |
//! |---|---|---|
//! | `older_adults_68` | `POB65_MAS` | people 65 and over: more than the 68+ target |
//! | `school_age_public` | `P_6A11` + `P_12A14` | all children 6–14, public and private schools |
//! | `single_mothers` | `HOGJEF_F` | households headed by a woman (proxy) |
//! | `disability` | `PCON_DISC` | people with a disability |
//!
//! The source stored with each count names the columns, so the dashboard shows what it is.

use std::collections::{BTreeMap, HashMap};

/// ITER columns per indicator, added together, with how the source reads.
const ITER: &[(&str, &[&str], &str)] = &[
    (
        "older_adults_68",
        &["POB65_MAS"],
        "POB65_MAS (65 años y más; el indicador es 68+)",
    ),
    (
        "school_age_public",
        &["P_6A11", "P_12A14"],
        "P_6A11 + P_12A14 (6 a 14 años, escuelas públicas y privadas)",
    ),
    (
        "single_mothers",
        &["HOGJEF_F"],
        "HOGJEF_F (hogares con jefatura femenina, aproximación)",
    ),
    (
        "disability",
        &["PCON_DISC"],
        "PCON_DISC (población con discapacidad)",
    ),
];

const SIMPLE: [&str; 5] = ["indicator", "borough", "year", "count", "source"];

/// One target population read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub indicator: String,
    /// INEGI code, `09002`..`09017`.
    pub borough: String,
    pub year: i32,
    pub people: i64,
    pub source: String,
}

/// Why a file (or one of its rows) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1 is the header line; 0 when about the whole file.
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column.is_empty()) {
            (0, _) => write!(f, "{}", self.message),
            (line, true) => write!(f, "line {line}: {}", self.message),
            (line, false) => write!(f, "line {line}, column {}: {}", self.column, self.message),
        }
    }
}

fn problem(line: u64, column: &str, message: impl Into<String>) -> Problem {
    Problem {
        line,
        column: column.to_owned(),
        message: message.into(),
    }
}

/// Reads a census file. `year` is the census year of an ITER file (the simple format carries
/// its own); `indicators` and `boroughs` are the codes the database knows.
///
/// # Errors
/// Every problem found, by line and column; nothing is returned then.
pub fn read(
    bytes: &[u8],
    year: i32,
    indicators: &[String],
    boroughs: &[String],
) -> Result<Vec<Target>, Vec<Problem>> {
    let text = crate::tabular::decode(bytes);
    let Some(mut reader) = crate::tabular::reader(&text) else {
        return Err(vec![problem(0, "", "the file is empty")]);
    };
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => return Err(vec![problem(1, "", format!("unreadable header: {e}"))]),
    };
    if ["ENTIDAD", "MUN", "LOC"]
        .iter()
        .all(|c| header.iter().any(|h| h == c))
    {
        iter(reader, &header, year, indicators, boroughs)
    } else {
        simple(reader, &header, indicators, boroughs)
    }
}

fn borough_code(value: &str, boroughs: &[String]) -> Option<String> {
    let code = match value.len() {
        3 => format!("09{value}"),
        _ => value.to_owned(),
    };
    boroughs.contains(&code).then_some(code)
}

fn count(value: &str) -> Option<i64> {
    value.parse::<i64>().ok().filter(|n| *n >= 0)
}

fn simple(
    mut reader: csv::Reader<&[u8]>,
    header: &[String],
    indicators: &[String],
    boroughs: &[String],
) -> Result<Vec<Target>, Vec<Problem>> {
    let mut problems = Vec::new();
    for h in header {
        if !SIMPLE.contains(&h.as_str()) {
            problems.push(problem(
                1,
                h,
                format!(
                    "unknown column (expected {} or an INEGI ITER table)",
                    SIMPLE.join(",")
                ),
            ));
        }
    }
    for c in SIMPLE {
        if !header.iter().any(|h| h == c) {
            problems.push(problem(1, c, "missing column"));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let at = |name: &str| header.iter().position(|h| h == name).expect("checked");
    let (i, b, y, n, s) = (
        at("indicator"),
        at("borough"),
        at("year"),
        at("count"),
        at("source"),
    );
    let mut out = Vec::new();
    let mut seen: HashMap<(String, String, i32), u64> = HashMap::new();
    for (k, record) in reader.records().enumerate() {
        let line = k as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(line, "", format!("unreadable row: {e}")));
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or("");
        let before = problems.len();
        let indicator = field(i).to_owned();
        if !indicators.contains(&indicator) {
            problems.push(problem(
                line,
                "indicator",
                format!("unknown indicator {indicator:?}"),
            ));
        }
        let borough = borough_code(field(b), boroughs);
        if borough.is_none() {
            problems.push(problem(
                line,
                "borough",
                format!("unknown borough code {:?} (09002–09017)", field(b)),
            ));
        }
        let year = field(y)
            .parse::<i32>()
            .ok()
            .filter(|y| (1990..=2100).contains(y));
        if year.is_none() {
            problems.push(problem(line, "year", format!("not a year: {:?}", field(y))));
        }
        let people = count(field(n));
        if people.is_none() {
            problems.push(problem(
                line,
                "count",
                format!("not a whole number of people: {:?}", field(n)),
            ));
        }
        let source = field(s).to_owned();
        if source.is_empty() || source.chars().count() > 200 {
            problems.push(problem(
                line,
                "source",
                "say where the count comes from (1–200 characters)",
            ));
        }
        if problems.len() > before {
            continue;
        }
        let (borough, year, people) = (
            borough.expect("checked"),
            year.expect("checked"),
            people.expect("checked"),
        );
        if let Some(first) = seen.insert((indicator.clone(), borough.clone(), year), line) {
            problems.push(problem(
                line,
                "",
                format!("the same indicator, borough and year as line {first}"),
            ));
            continue;
        }
        out.push(Target {
            indicator,
            borough,
            year,
            people,
            source,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn iter(
    mut reader: csv::Reader<&[u8]>,
    header: &[String],
    year: i32,
    indicators: &[String],
    boroughs: &[String],
) -> Result<Vec<Target>, Vec<Problem>> {
    let mut problems = Vec::new();
    let position = |name: &str| header.iter().position(|h| h == name);
    let used: Vec<&(&str, &[&str], &str)> = ITER
        .iter()
        .filter(|(code, columns, _)| {
            indicators.iter().any(|i| i == code) && columns.iter().all(|c| position(c).is_some())
        })
        .collect();
    if used.is_empty() {
        let wanted: Vec<&str> = ITER
            .iter()
            .flat_map(|(_, c, _)| c.iter().copied())
            .collect();
        return Err(vec![problem(
            1,
            "",
            format!(
                "an ITER table without any column Ángel reads ({})",
                wanted.join(", ")
            ),
        )]);
    }
    let (entidad, mun, loc) = (
        position("ENTIDAD").expect("checked"),
        position("MUN").expect("checked"),
        position("LOC").expect("checked"),
    );
    // Per borough: the municipality total row, and the sum of its localities.
    let mut totals: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut localities: BTreeMap<String, Vec<Option<i64>>> = BTreeMap::new();
    let columns: Vec<Vec<usize>> = used
        .iter()
        .map(|(_, cols, _)| cols.iter().map(|c| position(c).expect("checked")).collect())
        .collect();
    for (k, record) in reader.records().enumerate() {
        let line = k as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(line, "", format!("unreadable row: {e}")));
                continue;
            }
        };
        let field = |i: usize| record.get(i).unwrap_or("");
        let entity = format!("{:0>2}", field(entidad));
        let municipality = format!("{:0>3}", field(mun));
        let locality = format!("{:0>4}", field(loc));
        // National and state totals are not boroughs.
        if entity == "00" || municipality == "000" {
            continue;
        }
        if entity != "09" {
            problems.push(problem(
                line,
                "ENTIDAD",
                format!("{entity} is not Mexico City (09)"),
            ));
            continue;
        }
        let Some(borough) = borough_code(&municipality, boroughs) else {
            problems.push(problem(
                line,
                "MUN",
                format!("unknown borough code {municipality:?}"),
            ));
            continue;
        };
        let mut values = Vec::new();
        for (cols, (_, names, _)) in columns.iter().zip(&used) {
            let mut sum = Some(0i64);
            for (&c, name) in cols.iter().zip(names.iter()) {
                let v = field(c);
                match (v, count(v)) {
                    (_, Some(n)) => sum = sum.map(|s| s + n),
                    ("*" | "N/D", None) if locality != "0000" => sum = None,
                    _ => {
                        problems.push(problem(
                            line,
                            name,
                            format!("not a whole number of people: {v:?}"),
                        ));
                    }
                }
            }
            values.push(sum);
        }
        if locality == "0000" {
            totals.insert(
                borough,
                values.into_iter().map(|v| v.unwrap_or(0)).collect(),
            );
        } else {
            let acc = localities
                .entry(borough)
                .or_insert_with(|| vec![Some(0); used.len()]);
            for (a, v) in acc.iter_mut().zip(values) {
                *a = a.zip(v).map(|(a, v)| a + v);
            }
        }
    }
    let mut out = Vec::new();
    let all: std::collections::BTreeSet<&String> = totals.keys().chain(localities.keys()).collect();
    for borough in all {
        for (k, (indicator, _, what)) in used.iter().enumerate() {
            let people = match (totals.get(borough), localities.get(borough)) {
                (Some(t), _) => Some(t[k]),
                (None, Some(l)) => l[k],
                (None, None) => None,
            };
            match people {
                Some(people) => out.push(Target {
                    indicator: (*indicator).to_owned(),
                    borough: borough.clone(),
                    year,
                    people,
                    source: format!("INEGI, Censo {year}, ITER: {what}"),
                }),
                None => problems.push(problem(
                    0,
                    "",
                    format!(
                        "{borough}: a locality's {what} is confidential (*) and the file has no \
                         municipality total row (LOC 0000)"
                    ),
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> (Vec<String>, Vec<String>) {
        (
            [
                "older_adults_68",
                "school_age_public",
                "disability",
                "single_mothers",
            ]
            .map(String::from)
            .to_vec(),
            ["09002", "09007"].map(String::from).to_vec(),
        )
    }

    #[test]
    fn a_simple_file_reads_with_a_bom_and_semicolons() {
        let (i, b) = known();
        let file = "\u{feff}indicator;borough;year;count;source\n\
                    older_adults_68;09007;2025;120000;Encuesta X\n\
                    disability;002;2025;9000;Encuesta X\n";
        let rows = read(file.as_bytes(), 2020, &i, &b).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].borough, "09002");
        assert_eq!(rows[0].people, 120_000);
    }

    #[test]
    fn every_bad_cell_is_reported_and_nothing_returned() {
        let (i, b) = known();
        let file = "indicator,borough,year,count,source,extra\n";
        let problems = read(file.as_bytes(), 2020, &i, &b).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].column, "extra");
        let file = "indicator,borough,year,count,source\n\
                    older_adults_68,09007,2025,120000,ok\n\
                    nope,09099,20x5,-3,\n\
                    older_adults_68,09007,2025,5,ok\n";
        let problems = read(file.as_bytes(), 2020, &i, &b).unwrap_err();
        let cells: Vec<(u64, &str)> = problems
            .iter()
            .map(|p| (p.line, p.column.as_str()))
            .collect();
        assert_eq!(
            cells,
            vec![
                (3, "indicator"),
                (3, "borough"),
                (3, "year"),
                (3, "count"),
                (3, "source"),
                (4, "")
            ]
        );
        assert!(problems[5].to_string().contains("as line 2"));
    }

    #[test]
    fn iter_uses_the_municipality_total_or_adds_localities_up() {
        let (i, b) = known();
        // Latin-1 name, a state total row, Iztapalapa's total row and localities (ignored),
        // Azcapotzalco by localities only.
        let file: Vec<u8> =
            b"ENTIDAD,NOM_ENT,MUN,NOM_MUN,LOC,NOM_LOC,POBTOT,POB65_MAS,P_6A11,P_12A14,PCON_DISC\n\
            09,Ciudad de M\xe9xico,000,Total,0000,Total,9209944,1,1,1,1\n\
            09,Ciudad de M\xe9xico,007,Iztapalapa,0000,Total,1835486,150,80,40,30\n\
            09,Ciudad de M\xe9xico,007,Iztapalapa,0001,Iztapalapa,1835486,*,80,40,30\n\
            09,Ciudad de M\xe9xico,002,Azcapotzalco,0001,A,10,5,1,2,3\n\
            09,Ciudad de M\xe9xico,002,Azcapotzalco,0002,B,10,6,1,2,3\n"
                .to_vec();
        let rows = read(&file, 2020, &i, &b).unwrap();
        let get = |ind: &str, bor: &str| {
            rows.iter()
                .find(|r| r.indicator == ind && r.borough == bor)
                .map(|r| r.people)
        };
        assert_eq!(get("older_adults_68", "09007"), Some(150));
        assert_eq!(get("school_age_public", "09007"), Some(120));
        assert_eq!(get("older_adults_68", "09002"), Some(11));
        assert_eq!(get("disability", "09002"), Some(6));
        assert_eq!(get("single_mothers", "09002"), None, "no HOGJEF_F column");
        assert!(rows[0].source.starts_with("INEGI, Censo 2020, ITER: "));
    }

    #[test]
    fn iter_refuses_confidential_localities_without_a_total_and_other_states() {
        let (i, b) = known();
        let file = "ENTIDAD,MUN,LOC,POB65_MAS\n09,002,0001,*\n15,001,0000,7\n09,099,0000,7\n09,007,0000,x\n";
        let problems = read(file.as_bytes(), 2020, &i, &b).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 4, "{text:?}");
        assert!(text[0].contains("line 3, column ENTIDAD"));
        assert!(text[1].contains("line 4, column MUN"));
        assert!(text[2].contains("line 5, column POB65_MAS"));
        assert!(text[3].contains("09002") && text[3].contains("confidential"));
        let none = read(b"ENTIDAD,MUN,LOC,POBTOT\n09,002,0000,5\n", 2020, &i, &b).unwrap_err();
        assert!(none[0].message.contains("without any column"));
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub added: u64,
    pub unchanged: u64,
    pub replaced: u64,
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} target populations added, {} unchanged, {} replaced",
            self.added, self.unchanged, self.replaced
        )
    }
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum Refused {
    /// The file's problems, by line and column.
    File(Vec<Problem>),
    /// Counts already stored with another value (`--replace` not given).
    Stored(Vec<String>),
    Db(angel_app::ssr::ServiceError),
}

impl From<sea_orm::DbErr> for Refused {
    fn from(e: sea_orm::DbErr) -> Self {
        Refused::Db(e.into())
    }
}

impl From<angel_app::ssr::ServiceError> for Refused {
    fn from(e: angel_app::ssr::ServiceError) -> Self {
        Refused::Db(e)
    }
}

/// Reads `bytes` (see [`read`]) and stores every target population in one transaction, with
/// an audit event (`census.imported`: counts, and the old value of each replaced one).
///
/// # Errors
/// [`Refused`]: nothing was written.
pub async fn import(
    state: &angel_app::ssr::AppState,
    bytes: &[u8],
    year: i32,
    replace: bool,
) -> Result<Imported, Refused> {
    use angel_entity::{borough, indicator, target_population};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};

    let db = &state.db;
    let indicators: HashMap<String, i32> = indicator::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.code, i.id))
        .collect();
    let boroughs: HashMap<String, i32> = borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.inegi_code, b.id))
        .collect();
    let codes = |m: &HashMap<String, i32>| m.keys().cloned().collect::<Vec<_>>();
    let targets =
        read(bytes, year, &codes(&indicators), &codes(&boroughs)).map_err(Refused::File)?;
    let stored: HashMap<(i32, i32, i32), target_population::Model> =
        target_population::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|t| ((t.indicator_id, t.borough_id, t.year), t))
            .collect();
    let key = |t: &Target| (indicators[&t.indicator], boroughs[&t.borough], t.year);
    let differing: Vec<String> = targets
        .iter()
        .filter_map(|t| {
            let old = stored.get(&key(t))?;
            (old.people != t.people || old.source != t.source).then(|| {
                format!(
                    "{} {} {}: stored {} ({}), file {} ({})",
                    t.indicator, t.borough, t.year, old.people, old.source, t.people, t.source
                )
            })
        })
        .collect();
    if !differing.is_empty() && !replace {
        return Err(Refused::Stored(differing));
    }
    let now = state.clock.now();
    let mut done = Imported::default();
    let mut replaced = Vec::new();
    let tx = state.audit.begin(db).await?;
    for t in &targets {
        match stored.get(&key(t)) {
            Some(old) if old.people == t.people && old.source == t.source => done.unchanged += 1,
            Some(old) => {
                replaced.push(serde_json::json!({
                    "indicator": t.indicator, "borough": t.borough, "year": t.year,
                    "old": old.people, "old_source": old.source, "new": t.people,
                }));
                let mut m = old.clone().into_active_model();
                m.people = Set(t.people);
                m.source = Set(t.source.clone());
                m.synthetic = Set(false);
                m.updated_at = Set(now);
                m.update(&*tx).await?;
                done.replaced += 1;
            }
            None => {
                target_population::ActiveModel {
                    indicator_id: Set(indicators[&t.indicator]),
                    borough_id: Set(boroughs[&t.borough]),
                    year: Set(t.year),
                    people: Set(t.people),
                    source: Set(t.source.clone()),
                    synthetic: Set(false),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&*tx)
                .await?;
                done.added += 1;
            }
        }
    }
    tx.record(
        angel_app::ssr::audit::NewEvent::new("census.imported", now).detail(serde_json::json!({
            "added": done.added, "unchanged": done.unchanged, "replaced": replaced,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// The definition of each indicator over the synthetic population, as a condition on `p`
/// (a person): age on `today`, sex, household links and the facts the generator writes. The
/// violence indicator has none (the generator writes no such fact): no synthetic target.
fn synthetic_definition(indicator: &str, today: chrono::NaiveDate) -> Option<String> {
    use chrono::Months;
    let born_by = |years: u32| (today - Months::new(12 * years)).format("%Y-%m-%d");
    let fact = |kind: &str, value: &str| {
        format!(
            "EXISTS (SELECT 1 FROM person_fact f WHERE f.person_id = p.id \
             AND f.kind = '{kind}' AND f.value = '{value}')"
        )
    };
    Some(match indicator {
        "older_adults_68" => format!("p.birth_date <= '{}'", born_by(68)),
        "single_mothers" => format!(
            "p.sex = 'M' AND EXISTS (SELECT 1 FROM person_relationship r \
             JOIN person c ON c.id = r.relative_id WHERE r.person_id = p.id \
             AND r.kind = 'parent' AND c.birth_date > '{}') \
             AND NOT EXISTS (SELECT 1 FROM person_relationship s WHERE s.kind = 'spouse' \
             AND (s.person_id = p.id OR s.relative_id = p.id))",
            born_by(15)
        ),
        "school_age_public" => format!(
            "p.birth_date <= '{}' AND p.birth_date > '{}' AND {}",
            born_by(6),
            born_by(15),
            fact("school_type", "public")
        ),
        "upper_secondary" => fact("school_level", "upper_secondary"),
        "disability" => fact("disability", "yes"),
        "unemployed_formal" => fact("employment", "unemployed"),
        "no_social_security" => fact("social_security", "none"),
        _ => return None,
    })
}

/// Where the synthetic targets come from, as stored with each.
pub const SYNTHETIC_SOURCE: &str = "Sintético: personas de la población sintética de demostración que cumplen la definición \
     / synthetic: demo population members who meet the definition";

/// What [`synthetic_targets`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyntheticTargets {
    /// Indicator × borough counts written (new or updated synthetic ones).
    pub written: u64,
    /// Counts left alone because a census figure is stored for that cell.
    pub kept_census: u64,
}

/// The demo's target populations for `today`'s year: for each indicator with a definition
/// over the synthetic population, the synthetic people in each borough who meet it (active
/// profiles), stored as `synthetic` (labelled "sintético" wherever shown). A census figure
/// already stored for a cell is never replaced; a synthetic one is recomputed.
///
/// # Errors
/// Database errors (nothing written).
pub async fn synthetic_targets(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<SyntheticTargets, sea_orm::DbErr> {
    use angel_entity::{borough, indicator, target_population};
    use chrono::Datelike;
    use sea_orm::{
        ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait,
        IntoActiveModel, QueryFilter, Statement, TransactionTrait,
    };

    let today = now.date_naive();
    let year = today.year();
    let boroughs: Vec<i32> = borough::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let tx = db.begin().await?;
    let stored: HashMap<(i32, i32), target_population::Model> = target_population::Entity::find()
        .filter(target_population::Column::Year.eq(year))
        .all(&tx)
        .await?
        .into_iter()
        .map(|t| ((t.indicator_id, t.borough_id), t))
        .collect();
    let mut done = SyntheticTargets::default();
    for i in indicator::Entity::find().all(&tx).await? {
        let Some(condition) = synthetic_definition(&i.code, today) else {
            continue;
        };
        let counts: HashMap<i32, i64> = tx
            .query_all_raw(Statement::from_string(
                tx.get_database_backend(),
                format!(
                    "SELECT p.borough_id, COUNT(*) FROM person p \
                     WHERE p.synthetic = TRUE AND p.status = 'active' AND {condition} \
                     GROUP BY p.borough_id"
                ),
            ))
            .await?
            .into_iter()
            .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
            .collect::<Result<_, sea_orm::DbErr>>()?;
        for &b in &boroughs {
            let people = counts.get(&b).copied().unwrap_or(0);
            match stored.get(&(i.id, b)) {
                Some(old) if !old.synthetic => done.kept_census += 1,
                Some(old) => {
                    let mut m = old.clone().into_active_model();
                    m.people = Set(people);
                    m.source = Set(SYNTHETIC_SOURCE.to_owned());
                    m.updated_at = Set(now);
                    m.update(&tx).await?;
                    done.written += 1;
                }
                None => {
                    target_population::ActiveModel {
                        indicator_id: Set(i.id),
                        borough_id: Set(b),
                        year: Set(year),
                        people: Set(people),
                        source: Set(SYNTHETIC_SOURCE.to_owned()),
                        synthetic: Set(true),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(&tx)
                    .await?;
                    done.written += 1;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(done)
}
