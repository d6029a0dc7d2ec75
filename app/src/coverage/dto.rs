use serde::{Deserialize, Serialize};

use crate::catalog::dto::Localized;
use crate::domain::disclosure::Cell;

/// Coverage of one indicator in one year, by borough.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageReport {
    /// Every indicator (code, name), for the selector.
    pub indicators: Vec<(String, Localized)>,
    /// The indicator shown.
    pub indicator: String,
    pub name: Localized,
    /// The programs that serve it (code, name): whom they reach is the numerator.
    pub programs: Vec<(String, Localized)>,
    /// Years with a target population for this indicator, newest first.
    pub years: Vec<i32>,
    /// The target population's year shown (`None`: no target population loaded yet).
    pub year: Option<i32>,
    pub boroughs: Vec<BoroughCoverage>,
    /// The city as a whole.
    pub total: BoroughCoverage,
    /// Some target counts come from the synthetic demo population.
    pub synthetic: bool,
    /// Where the target counts come from.
    pub sources: Vec<String>,
    /// The boroughs' outlines, for the map.
    pub map: ShapeSet,
}

/// People reached in one borough, against its target population.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoroughCoverage {
    /// INEGI code (empty for the city total).
    pub code: String,
    pub name: String,
    /// Distinct people with an active request in the indicator's programs.
    pub reached: Cell,
    /// The target population (`None` when not loaded).
    pub target: Option<i64>,
    /// Reached per thousand of the target (`None` when either is unknown or suppressed).
    pub per_thousand: Option<u64>,
}

/// A borough's outline as an SVG path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapShape {
    /// INEGI code.
    pub code: String,
    pub d: String,
}

/// The boroughs' outlines in one drawing of `width` × `height` SVG units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShapeSet {
    pub width: u32,
    pub height: u32,
    pub shapes: Vec<MapShape>,
}

/// The figures by program for one borough or the whole city: people reached now and at the end
/// of each of the last months, who is in two programs at once, how long decisions take, and
/// how complete the registry's data is. Counts 1–4 are shown as "<5".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramReport {
    /// Every borough (INEGI code, name), for the filter.
    pub boroughs: Vec<(String, String)>,
    /// The borough shown (`None`: the whole city).
    pub borough: Option<String>,
    /// The months of the trend, oldest first, as `YYYY-MM`; the last is the current month
    /// (its figure is today's, the others are month-end figures).
    pub months: Vec<String>,
    /// Every program, by agency.
    pub programs: Vec<ProgramFigures>,
    /// `overlap[i][j]`: people reached by both program `i` and program `j` (the diagonal is
    /// the people reached by the program).
    pub overlap: Vec<Vec<Cell>>,
    /// How many days back the decision times look.
    pub window_days: u32,
    pub quality: DataQuality,
    /// Eligible but not enrolled, by program and borough (`None` until the gap job has run).
    pub gap: Option<GapReport>,
}

/// The eligibility gap as the gap job's last run found it: registered people whom the rules in
/// force find eligible for a program they have no open request in. Every borough is shown
/// whatever the filter (the table is the program × borough matrix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapReport {
    /// When the run read the rules and the profiles, Mexico City time (`YYYY-MM-DD HH:MM`).
    pub as_of: String,
    /// Active profiles evaluated.
    pub evaluated: Cell,
    /// One row per program, in the order of [`ProgramReport::programs`].
    pub rows: Vec<GapRow>,
}

/// One program's gap: a cell per borough of [`ProgramReport::boroughs`] and the city total,
/// suppressed as one row (no small cell can be worked out from the total).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapRow {
    pub code: String,
    pub boroughs: Vec<Cell>,
    pub total: Cell,
}

/// One program's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramFigures {
    pub code: String,
    pub name: Localized,
    /// The agency that runs it (code).
    pub agency: String,
    /// People reached today.
    pub reached: Cell,
    /// People reached at the end of each month of [`ProgramReport::months`] (the last: today).
    pub trend: Vec<Cell>,
    /// Today's figure minus last month-end's (`None` when either is suppressed).
    pub change: Option<i64>,
    /// Requests decided within the window.
    pub decided: Cell,
    /// Median and 90th percentile of the days from request to decision (`None` with fewer
    /// than 5 decisions).
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
    /// Requests awaiting a decision past their due date, and those escalated.
    pub overdue: Cell,
    pub escalated: Cell,
}

/// How complete the registry's data is (active profiles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataQuality {
    pub registered: Cell,
    /// With a CURP (every stored CURP passed the format and check-digit validation).
    pub with_curp: Cell,
    pub without_curp: Cell,
    /// Pairs of profiles that may be one person, awaiting a supervisor.
    pub duplicates_pending: Cell,
    /// Adults (18+) without a monthly income on file (most rules need it).
    pub adults_without_income: Cell,
    /// Children and teenagers (6–17) without a school level on file (the school programs
    /// need it).
    pub minors_without_school: Cell,
}

/// The indicators as an administrator edits them (`/admin/indicadores`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorAdmin {
    pub indicators: Vec<IndicatorSettings>,
    /// Every program (code, name, agency code), for the choice of programs.
    pub programs: Vec<(String, Localized, String)>,
}

/// One indicator's editable settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorSettings {
    pub code: String,
    pub name: Localized,
    /// Codes of the programs that serve it.
    pub programs: Vec<String>,
    /// A stamp of the stored settings: a save made from other settings is refused (409).
    pub stamp: String,
}
