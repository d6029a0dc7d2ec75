//! The coverage section of `/politica`: an indicator and year chosen with a plain GET form (it
//! works without JavaScript), a choropleth map of the 16 alcaldías drawn on the server, and
//! the same figures as a table and a CSV download.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::hooks::use_query_map;

use super::dto::{BoroughCoverage, CoverageReport};
use crate::i18n::*;

/// Five shades, light to dark (each passes 3:1 against its neighbours' borders; the values
/// are in the table and in each area's title, never in the colour alone).
const SHADES: usize = 5;

pub(crate) use crate::domain::disclosure::shown;

/// Per thousand as a percentage with one decimal (`123` → "12.3 %").
pub(crate) fn percent(per_thousand: u64) -> String {
    format!("{}.{} %", per_thousand / 10, per_thousand % 10)
}

/// The value a borough is shaded by: coverage when a target population is loaded, else the
/// people reached; `None` when suppressed or unknown.
fn metric(row: &BoroughCoverage, with_target: bool) -> Option<u64> {
    if with_target {
        row.per_thousand
    } else {
        row.reached.count()
    }
}

/// Class breaks: the shown values split in up to [`SHADES`] groups of equal width from 0 to
/// the largest. Returns the upper bound of each shade (fewer when the values are few).
fn breaks(values: &[u64]) -> Vec<u64> {
    let top = values.iter().copied().max().unwrap_or(0).max(1);
    let mut bounds: Vec<u64> = (1..=SHADES as u64)
        .map(|k| (top * k).div_ceil(SHADES as u64))
        .collect();
    bounds.dedup();
    bounds
}

fn shade(value: u64, bounds: &[u64]) -> usize {
    bounds
        .iter()
        .position(|&b| value <= b)
        .unwrap_or(bounds.len().saturating_sub(1))
}

/// What `/politica` was asked for: `?indicador=…&anio=…&alcaldia=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyParams {
    pub indicator: String,
    pub year: Option<i32>,
    /// INEGI code; empty for the whole city.
    pub borough: String,
}

/// The dashboard's filters from the query string.
pub fn policy_params() -> Memo<PolicyParams> {
    let query = use_query_map();
    Memo::new(move |_| {
        let q = query.read();
        PolicyParams {
            indicator: q.get("indicador").unwrap_or_default(),
            year: q.get("anio").and_then(|y| y.parse::<i32>().ok()),
            borough: q.get("alcaldia").unwrap_or_default(),
        }
    })
}

/// The dashboard's filters, one plain GET form (it works without JavaScript): indicator and
/// target year for the coverage map, borough for the figures by program.
pub fn filters(
    i18n: I18nContext<Locale>,
    r: &CoverageReport,
    boroughs: &[(String, String)],
    borough: Option<&str>,
) -> impl IntoView + use<> {
    let locale = i18n.get_locale_untracked();
    let selected = r.indicator.clone();
    let year = r.year;
    let borough = borough.unwrap_or_default().to_owned();
    let borough_options = boroughs
        .iter()
        .map(|(code, name)| {
            let sel = *code == borough;
            view! { <option value=code.clone() selected=sel>{name.clone()}</option> }
        })
        .collect_view();
    view! {
        <form method="get" action="/politica" class="filters">
            <div class="field">
                <label for="f-indicador">{t!(i18n, coverage_indicator)}</label>
                <select id="f-indicador" name="indicador">
                    {r.indicators.iter().map(|(code, name)| {
                        let sel = *code == selected;
                        view! { <option value=code.clone() selected=sel>{name.get(locale).to_owned()}</option> }
                    }).collect_view()}
                </select>
            </div>
            {(!r.years.is_empty()).then(|| view! {
                <div class="field">
                    <label for="f-anio">{t!(i18n, coverage_year)}</label>
                    <select id="f-anio" name="anio">
                        {r.years.iter().map(|&y| view! { <option value=y.to_string() selected=Some(y) == year>{y}</option> }).collect_view()}
                    </select>
                </div>
            })}
            <div class="field">
                <label for="f-alcaldia">{t!(i18n, figures_borough)}</label>
                <select id="f-alcaldia" name="alcaldia">
                    <option value="" selected=borough.is_empty()>{t!(i18n, figures_whole_city)}</option>
                    {borough_options}
                </select>
            </div>
            <button type="submit">{t!(i18n, coverage_show)}</button>
        </form>
    }
}

/// `/politica`'s coverage section (its data comes with the page's single resource); the row
/// of `borough` (INEGI code) is marked.
pub fn coverage_section(
    i18n: I18nContext<Locale>,
    r: CoverageReport,
    borough: Option<String>,
) -> impl IntoView {
    view! {
        <section aria-labelledby="coverage-title">
            <h2 id="coverage-title">{t!(i18n, coverage_title)}</h2>
            <p class="hint">{t!(i18n, coverage_intro)}</p>
            {coverage_view(i18n, r, borough)}
        </section>
    }
}

fn coverage_view(
    i18n: I18nContext<Locale>,
    r: CoverageReport,
    borough: Option<String>,
) -> impl IntoView {
    let locale = i18n.get_locale_untracked();
    let with_target = r.year.is_some();
    let csv = format!(
        "/politica/cobertura.csv?indicador={}{}",
        r.indicator,
        r.year.map(|y| format!("&anio={y}")).unwrap_or_default()
    );
    let values: Vec<u64> = r
        .boroughs
        .iter()
        .filter_map(|b| metric(b, with_target))
        .collect();
    let bounds = breaks(&values);
    let label = move |v: u64| {
        if with_target {
            percent(v)
        } else {
            v.to_string()
        }
    };
    let legend: Vec<(usize, String)> = bounds
        .iter()
        .enumerate()
        .map(|(i, &upper)| {
            let lower = if i == 0 { 0 } else { bounds[i - 1] + 1 };
            (i, format!("{} – {}", label(lower), label(upper)))
        })
        .collect();
    let programs = r.programs.clone();
    let map = r.map.clone();
    let rows = r.boroughs.clone();
    let areas = map
        .shapes
        .iter()
        .map(|s| {
            let row = rows.iter().find(|b| b.code == s.code);
            let name = row.map(|b| b.name.clone()).unwrap_or_default();
            let value = row.and_then(|b| metric(b, with_target));
            let class = value.map_or_else(
                || "area none".to_owned(),
                |v| format!("area shade-{}", shade(v, &bounds)),
            );
            let figure = match (row, value) {
                (_, Some(v)) => label(v),
                (Some(b), None) => shown(b.reached),
                (None, None) => "—".to_owned(),
            };
            let title = format!("{name}: {figure}");
            view! { <path class=class d=s.d.clone() data-code=s.code.clone()><title>{title}</title></path> }
        })
        .collect_view();
    let view_box = format!("0 0 {} {}", map.width, map.height);
    let body = r
        .boroughs
        .iter()
        .map(|b| {
            let chosen = borough.as_deref() == Some(b.code.as_str());
            coverage_row(b.name.clone(), b, r.synthetic, chosen, i18n)
        })
        .collect_view();
    let foot = coverage_row(
        t_string!(i18n, coverage_city).to_owned(),
        &r.total,
        r.synthetic,
        false,
        i18n,
    );
    let map_title = if with_target {
        t_string!(i18n, coverage_map_title).to_owned()
    } else {
        t_string!(i18n, coverage_map_reached_title).to_owned()
    };
    view! {
        <h3>{r.name.get(locale).to_owned()}</h3>
        {if programs.is_empty() {
            view! { <p>{t!(i18n, coverage_no_programs)}</p> }.into_any()
        } else {
            view! {
                <p>
                    {t!(i18n, coverage_programs)} ": "
                    {programs.iter().map(|(code, name)| format!("{} ({code})", name.get(locale))).collect::<Vec<_>>().join(", ")}
                </p>
            }.into_any()
        }}
        {(!with_target).then(|| view! { <p class="notice">{t!(i18n, coverage_no_target)}</p> })}
        {r.synthetic.then(|| view! { <p class="notice synthetic">{t!(i18n, coverage_synthetic_note)}</p> })}
        <figure class="choropleth">
            <svg viewBox=view_box role="img" aria-labelledby="coverage-map-title" aria-describedby="coverage-map-note">
                <title id="coverage-map-title">{map_title.clone()}</title>
                {areas}
            </svg>
            <figcaption>
                <ul class="legend">
                    {legend.into_iter().map(|(i, text)| view! {
                        <li><span class=format!("swatch shade-{i}") aria-hidden="true"></span>{text}</li>
                    }).collect_view()}
                    <li><span class="swatch none" aria-hidden="true"></span>{t!(i18n, coverage_legend_none)}</li>
                </ul>
                <p id="coverage-map-note" class="hint">{t!(i18n, coverage_map_note)}</p>
                <p class="hint">{t!(i18n, coverage_map_source)}</p>
            </figcaption>
        </figure>
        <div class="table-wrap" tabindex="0" role="region" aria-labelledby="coverage-table-title">
            <table class="coverage" id="coverage-table">
                <caption id="coverage-table-title">{t!(i18n, coverage_table_title)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, coverage_borough)}</th>
                        <th scope="col">{t!(i18n, coverage_reached)}</th>
                        <th scope="col">{t!(i18n, coverage_target)}</th>
                        <th scope="col">{t!(i18n, coverage_rate)}</th>
                    </tr>
                </thead>
                <tbody>
                    {body}
                </tbody>
                <tfoot>
                    {foot}
                </tfoot>
            </table>
        </div>
        <p class="hint">{t!(i18n, coverage_hidden_note)}</p>
        {(!r.sources.is_empty()).then(|| view! {
            <p class="hint">{t!(i18n, coverage_source)} ": " {r.sources.join("; ")}</p>
        })}
        <p><a href=csv download>{t!(i18n, coverage_csv)}</a></p>
    }
}

fn coverage_row(
    name: String,
    b: &BoroughCoverage,
    synthetic: bool,
    chosen: bool,
    i18n: I18nContext<Locale>,
) -> impl IntoView + use<> {
    let target = b
        .target
        .map(|t| t.to_string())
        .unwrap_or_else(|| "—".to_owned());
    let tag = (synthetic && b.target.is_some())
        .then(|| view! { " " <span class="tag">{t!(i18n, coverage_synthetic)}</span> });
    view! {
        <tr data-code=b.code.clone() class:chosen=chosen>
            <th scope="row">{name}</th>
            <td class="num">{shown(b.reached)}</td>
            <td class="num">{target}{tag}</td>
            <td class="num">{b.per_thousand.map_or_else(|| "—".to_owned(), percent)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::disclosure::Cell;

    #[test]
    fn five_equal_shades_from_zero_to_the_largest() {
        let b = breaks(&[0, 10, 50, 100]);
        assert_eq!(b, vec![20, 40, 60, 80, 100]);
        assert_eq!(shade(0, &b), 0);
        assert_eq!(shade(21, &b), 1);
        assert_eq!(shade(100, &b), 4);
        assert_eq!(breaks(&[]), vec![1]);
        assert_eq!(breaks(&[3]), vec![1, 2, 3]);
        assert_eq!(percent(123), "12.3 %");
        assert_eq!(shown(Cell::Small), "<5");
    }
}
