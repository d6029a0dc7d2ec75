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
