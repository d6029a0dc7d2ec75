//! `/politica`'s sections by program: people reached and their trend over the last months
//! (a small line per program, with every month's figure in the same table row), the overlap
//! between programs, decision times, and the registry's data quality. Each has its CSV.

use leptos::prelude::*;
use leptos_i18n::I18nContext;

use super::dto::{DataQuality, ProgramFigures, ProgramReport};
use super::pages::{percent, shown};
use crate::domain::disclosure::Cell;
use crate::i18n::*;

/// The size of a trend line, in SVG units.
const SPARK_W: u32 = 120;
const SPARK_H: u32 = 28;

/// The points of a trend line: shown months only (a suppressed month breaks the line).
fn spark_points(trend: &[Cell]) -> Vec<String> {
    let top = trend
        .iter()
        .filter_map(|c| c.count())
        .max()
        .unwrap_or(0)
        .max(1);
    let step = if trend.len() > 1 {
        f64::from(SPARK_W) / (trend.len() - 1) as f64
    } else {
        0.0
    };
    let mut runs: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for (i, c) in trend.iter().enumerate() {
        match c.count() {
            Some(n) => {
                let x = step * i as f64;
                let y = f64::from(SPARK_H - 2) * (1.0 - n as f64 / top as f64) + 1.0;
                run.push(format!("{x:.1},{y:.1}"));
            }
            None if !run.is_empty() => runs.push(std::mem::take(&mut run).join(" ")),
            None => {}
        }
    }
    if !run.is_empty() {
        runs.push(run.join(" "));
    }
    runs
}

fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// The query string of the CSV links (`?alcaldia=…` when a borough is chosen).
fn borough_query(r: &ProgramReport) -> String {
    r.borough
        .as_ref()
        .map(|b| format!("?alcaldia={b}"))
        .unwrap_or_default()
}

pub fn figures_section(i18n: I18nContext<Locale>, r: ProgramReport) -> impl IntoView {
    let locale = i18n.get_locale_untracked();
    let place = r
        .borough
        .as_ref()
        .and_then(|code| r.boroughs.iter().find(|(c, _)| c == code))
        .map_or_else(
            || t_string!(i18n, figures_whole_city).to_owned(),
            |(_, name)| name.clone(),
        );
    let query = borough_query(&r);
    let window = r.window_days;
    let months = r.months.clone();
    let trend_rows = r
        .programs
        .iter()
        .map(|p| trend_row(p, locale))
        .collect_view();
    let timeliness_rows = r.programs.iter().map(timeliness_row).collect_view();
    let codes: Vec<String> = r.programs.iter().map(|p| p.code.clone()).collect();
    let overlap_rows = r
        .overlap
        .iter()
        .zip(&codes)
        .map(|(row, code)| {
            view! {
                <tr>
                    <th scope="row">{code.clone()}</th>
                    {row.iter().map(|c| view! { <td class="num">{shown(*c)}</td> }).collect_view()}
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="figures-title">
            <h2 id="figures-title">{t!(i18n, figures_title)} " — " {place}</h2>
            <p class="hint">{t!(i18n, figures_intro)}</p>
            <div class="table-wrap" tabindex="0" role="region" aria-labelledby="trend-title">
                <table class="trend" id="trend-table">
                    <caption id="trend-title">{t!(i18n, figures_trend_title)}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, figures_program)}</th>
                            <th scope="col">{t!(i18n, figures_reached_now)}</th>
                            <th scope="col">{t!(i18n, figures_change)}</th>
                            <th scope="col">{t!(i18n, figures_trend)}</th>
                            {months.iter().map(|m| view! { <th scope="col" class="num">{m.clone()}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>{trend_rows}</tbody>
                </table>
            </div>
            <p class="hint">{t!(i18n, figures_trend_note)}</p>
            <p><a href=format!("/politica/programas.csv{query}") download>{t!(i18n, figures_csv)}</a></p>

            {gap_view(i18n, &r)}

            <h3 id="timeliness-title">{t!(i18n, figures_timeliness_title)}</h3>
            <p class="hint">{t!(i18n, figures_timeliness_note, days = move || window)}</p>
            <div class="table-wrap" tabindex="0" role="region" aria-labelledby="timeliness-title">
                <table class="timeliness">
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, figures_program)}</th>
                            <th scope="col">{t!(i18n, figures_agency)}</th>
                            <th scope="col">{t!(i18n, figures_decided)}</th>
                            <th scope="col">{t!(i18n, figures_median)}</th>
                            <th scope="col">{t!(i18n, figures_p90)}</th>
                            <th scope="col">{t!(i18n, figures_overdue)}</th>
                            <th scope="col">{t!(i18n, figures_escalated)}</th>
                        </tr>
                    </thead>
                    <tbody>{timeliness_rows}</tbody>
                </table>
            </div>

            <h3 id="overlap-title">{t!(i18n, figures_overlap_title)}</h3>
            <p class="hint">{t!(i18n, figures_overlap_note)}</p>
            <div class="table-wrap" tabindex="0" role="region" aria-labelledby="overlap-title">
                <table class="overlap">
                    <thead>
                        <tr>
                            <td></td>
                            {codes.iter().map(|c| view! { <th scope="col">{c.clone()}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>{overlap_rows}</tbody>
                </table>
            </div>
            <p><a href=format!("/politica/traslape.csv{query}") download>{t!(i18n, figures_overlap_csv)}</a></p>

            {quality_view(i18n, &r.quality, &query)}
        </section>
    }
}

fn trend_row(p: &ProgramFigures, locale: Locale) -> impl IntoView + use<> {
    let runs = spark_points(&p.trend);
    let view_box = format!("0 0 {SPARK_W} {SPARK_H}");
    view! {
        <tr data-program=p.code.clone()>
            <th scope="row">{p.name.get(locale).to_owned()} " (" {p.code.clone()} ")"</th>
            <td class="num">{shown(p.reached)}</td>
            <td class="num">{p.change.map_or_else(|| "—".to_owned(), signed)}</td>
            <td>
                <svg class="spark" viewBox=view_box width=SPARK_W height=SPARK_H aria-hidden="true">
                    {runs.into_iter().map(|points| view! { <polyline points=points></polyline> }).collect_view()}
                </svg>
            </td>
            {p.trend.iter().map(|c| view! { <td class="num">{shown(*c)}</td> }).collect_view()}
        </tr>
    }
}

fn timeliness_row(p: &ProgramFigures) -> impl IntoView + use<> {
    let days = |d: Option<i64>| d.map_or_else(|| "—".to_owned(), |d| d.to_string());
    view! {
        <tr data-program=p.code.clone()>
            <th scope="row">{p.code.clone()}</th>
            <td>{p.agency.clone()}</td>
            <td class="num">{shown(p.decided)}</td>
            <td class="num">{days(p.median_days)}</td>
            <td class="num">{days(p.p90_days)}</td>
            <td class="num">{shown(p.overdue)}</td>
            <td class="num">{shown(p.escalated)}</td>
        </tr>
    }
}

/// A count and its share of the registered people.
fn share(c: Cell, of: Cell) -> String {
    match (c.count(), of.count()) {
        (Some(n), Some(total)) if total > 0 => {
            format!("{} ({})", n, percent((n * 1000 + total / 2) / total))
        }
        _ => shown(c),
    }
}

/// Eligible but not enrolled: the program × borough matrix of the gap job's last run, the
/// chosen borough's column marked.
fn gap_view(i18n: I18nContext<Locale>, r: &ProgramReport) -> impl IntoView + use<> {
    let Some(gap) = r.gap.clone() else {
        return view! {
            <h3 id="gap-title">{t!(i18n, gap_title)}</h3>
            <p class="hint" id="gap-pending">{t!(i18n, gap_pending)}</p>
        }
        .into_any();
    };
    let chosen = r.borough.clone();
    let boroughs = r.boroughs.clone();
    let header = boroughs
        .iter()
        .map(|(code, name)| {
            let marked = chosen.as_deref() == Some(code.as_str());
            view! {
                <th scope="col" class:chosen=marked><abbr title=name.clone()>{code.clone()}</abbr></th>
            }
        })
        .collect_view();
    let rows = gap
        .rows
        .iter()
        .map(|g| {
            let cells = g
                .boroughs
                .iter()
                .zip(&boroughs)
                .map(|(c, (code, _))| {
                    let marked = chosen.as_deref() == Some(code.as_str());
                    view! { <td class="num" class:chosen=marked>{shown(*c)}</td> }
                })
                .collect_view();
            view! {
                <tr data-program=g.code.clone()>
                    <th scope="row">{g.code.clone()}</th>
                    <td class="num">{shown(g.total)}</td>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    let as_of = gap.as_of.clone();
    let evaluated = shown(gap.evaluated);
    view! {
        <h3 id="gap-title">{t!(i18n, gap_title)}</h3>
        <p class="hint">
            {t!(i18n, gap_note, as_of = move || as_of.clone(), evaluated = move || evaluated.clone())}
        </p>
        <div class="table-wrap" tabindex="0" role="region" aria-labelledby="gap-title">
            <table class="gap" id="gap-table">
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, figures_program)}</th>
                        <th scope="col">{t!(i18n, figures_whole_city)}</th>
                        {header}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p><a href="/politica/brecha.csv" download>{t!(i18n, gap_csv)}</a></p>
    }
    .into_any()
}

fn quality_view(i18n: I18nContext<Locale>, q: &DataQuality, query: &str) -> impl IntoView + use<> {
    let rows = [
        (t_string!(i18n, quality_registered), shown(q.registered)),
        (
            t_string!(i18n, quality_with_curp),
            share(q.with_curp, q.registered),
        ),
        (
            t_string!(i18n, quality_without_curp),
            share(q.without_curp, q.registered),
        ),
        (
            t_string!(i18n, quality_duplicates),
            shown(q.duplicates_pending),
        ),
        (
            t_string!(i18n, quality_no_income),
            shown(q.adults_without_income),
        ),
        (
            t_string!(i18n, quality_no_school),
            shown(q.minors_without_school),
        ),
    ];
    view! {
        <h3 id="data-quality-title">{t!(i18n, quality_title)}</h3>
        <table class="data-quality" aria-labelledby="data-quality-title">
            <tbody>
                {rows.into_iter().map(|(label, value)| view! {
                    <tr><th scope="row">{label}</th><td class="num">{value}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
        <p><a href=format!("/politica/calidad.csv{query}") download>{t!(i18n, quality_csv)}</a></p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suppressed_month_breaks_the_trend_line() {
        let runs = spark_points(&[Cell::Count(10), Cell::Count(5), Cell::Small, Cell::Count(0)]);
        assert_eq!(runs, vec!["0.0,1.0 40.0,14.0", "120.0,27.0"]);
        assert_eq!(signed(3), "+3");
        assert_eq!(signed(-2), "-2");
        assert_eq!(share(Cell::Count(5), Cell::Count(20)), "5 (25.0 %)");
        assert_eq!(share(Cell::Small, Cell::Count(20)), "<5");
    }
}
