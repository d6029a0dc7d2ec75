//! `make bench`, eligibility: the rule evaluator over the synthetic population (1M people unless
//! ANGEL_BENCH_PERSONS says otherwise), in memory, against a hand-written Rust function for the
//! PAAM rule measured in the same run:
//!
//! - all 15 programs' current rules (the bundled ones) for one person: p50 / p99 in µs;
//! - the whole population through all 15 programs: persons per second;
//! - PAAM alone through the evaluator (with its explanation: every criterion, value used) against
//!   the hand-written `age >= 68 && resident && residence >= 3` (verdict only): persons per
//!   second and the ratio. Both must agree on every person.
//!
//! The facts are built from the same generator `angel seed --synthetic` uses (ages, sex,
//! boroughs, households with their incomes, children, school, employment, disability …).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use angel_app::domain::{
    curp::Date,
    eligibility::{Facts, Verdict, evaluate},
    facts::FactKind,
};
use angel_server::{seed, synthetic};
use chrono::Datelike;

fn date(d: chrono::NaiveDate) -> Date {
    Date {
        year: d.year(),
        month: d.month(),
        day: d.day(),
    }
}

/// The facts of every member of a generated household, as the service would assemble them.
fn facts_of(home: &synthetic::Home, boroughs: &[String], today: Date, out: &mut Vec<Facts>) {
    let income = |m: &synthetic::Member| {
        m.facts
            .iter()
            .find(|(k, _)| *k == "monthly_income")
            .and_then(|(_, v)| v.parse::<u32>().ok())
    };
    let household_income = home
        .members
        .iter()
        .map(|m| {
            income(m).or_else(|| (date(m.birth).years_until(today).unwrap_or(0) < 15).then_some(0))
        })
        .sum::<Option<u32>>();
    for (i, m) in home.members.iter().enumerate() {
        let mut values = BTreeMap::new();
        for (kind, value) in &m.facts {
            if let Some(kind) = FactKind::from_code(kind) {
                values.insert(kind, value.clone());
            }
        }
        let children: Vec<Date> = home
            .links
            .iter()
            .filter(|(subject, _, kind)| {
                *subject == i && (*kind == "parent" || *kind == "guardian")
            })
            .map(|(_, child, _)| date(home.members[*child].birth))
            .collect();
        // Residence: half the people since birth, the others since a date in their adult life.
        let birth = date(m.birth);
        let since = if i % 2 == 0 {
            birth
        } else {
            Date::new(birth.year + 20 + (i as i32 % 30), 1, 1)
                .filter(|d| *d <= today)
                .unwrap_or(birth)
        };
        out.push(Facts {
            birth_date: Some(birth),
            sex: Some(angel_app::registry::forms::sex_code(m.sex).to_owned()),
            borough: boroughs.get(home.borough).cloned(),
            resident: Some(true),
            residence_since: Some(since),
            has_curp: Some(m.curp.is_some()),
            household_income,
            household_size: Some(home.members.len() as u32),
            values,
            children: (!children.is_empty()).then_some(children),
            provider_recorded_lost: false,
            enrolled: Default::default(),
        });
    }
}

/// The baseline: PAAM written by hand (verdict only, no explanation).
fn paam_by_hand(f: &Facts, today: Date) -> bool {
    let (Some(birth), Some(since)) = (f.birth_date, f.residence_since) else {
        return false;
    };
    let years = |from: Date| {
        let mut y = today.year - from.year;
        if (today.month, today.day) < (from.month, from.day) {
            y -= 1;
        }
        y
    };
    f.resident == Some(true) && years(birth) >= 68 && years(since) >= 3
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let persons: usize = std::env::var("ANGEL_BENCH_PERSONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let today_naive = chrono::NaiveDate::from_ymd_opt(2026, 11, 21).expect("a date");
    let today = date(today_naive);
    let rules: Vec<(String, angel_app::domain::eligibility::Rule)> = seed::bundled_rules()
        .expect("bundled rules")
        .into_iter()
        .map(|r| (r.program, r.rules))
        .collect();
    let paam = rules
        .iter()
        .find(|(c, _)| c == "PAAM")
        .expect("PAAM")
        .1
        .clone();
    let boroughs: Vec<String> = seed::boroughs()
        .expect("boroughs")
        .into_iter()
        .map(|b| b.inegi_code)
        .collect();
    let weights = boroughs.iter().map(|b| (b.clone(), 1)).collect();
    let mut generator = synthetic::Generator::new(2026, weights, today_naive);
    let started = Instant::now();
    let mut population = Vec::with_capacity(persons + 8);
    while population.len() < persons {
        let home = generator.home();
        facts_of(&home, &boroughs, today, &mut population);
    }
    population.truncate(persons);
    println!(
        "eligibility bench: {persons} synthetic people, {} programs (facts generated in {:.1} s)",
        rules.len(),
        started.elapsed().as_secs_f64()
    );

    // One person, all programs: latency distribution over a sample of 100k people.
    let sample = population.len().min(100_000);
    let mut micros = Vec::with_capacity(sample);
    let mut eligible = 0usize;
    for f in &population[..sample] {
        let t = Instant::now();
        for (_, rule) in &rules {
            let e = evaluate(rule, black_box(f), today);
            eligible += usize::from(e.verdict == Verdict::Eligible);
        }
        micros.push(t.elapsed().as_secs_f64() * 1e6);
    }
    micros.sort_by(f64::total_cmp);
    println!(
        "  one person, all {} programs: p50 {:.2} µs, p99 {:.2} µs, max {:.1} µs ({} eligible verdicts in the sample)",
        rules.len(),
        percentile(&micros, 0.50),
        percentile(&micros, 0.99),
        micros[micros.len() - 1],
        eligible
    );

    // The whole population through every program.
    let t = Instant::now();
    let mut verdicts = [0usize; 3];
    for f in &population {
        for (_, rule) in &rules {
            match evaluate(rule, black_box(f), today).verdict {
                Verdict::Eligible => verdicts[0] += 1,
                Verdict::NotEligible => verdicts[1] += 1,
                Verdict::NeedsInformation => verdicts[2] += 1,
            }
        }
    }
    let all_secs = t.elapsed().as_secs_f64();
    println!(
        "  whole population, all programs: {:.0} persons/s ({:.2} s; verdicts: {} eligible, {} not eligible, {} need information)",
        persons as f64 / all_secs,
        all_secs,
        verdicts[0],
        verdicts[1],
        verdicts[2]
    );

    // PAAM: the evaluator against the hand-written function, same people, same answers.
    let t = Instant::now();
    let mut by_engine = 0usize;
    for f in &population {
        by_engine += usize::from(evaluate(&paam, black_box(f), today).verdict == Verdict::Eligible);
    }
    let engine_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut by_hand = 0usize;
    for f in &population {
        by_hand += usize::from(paam_by_hand(black_box(f), today));
    }
    let hand_secs = t.elapsed().as_secs_f64();
    assert_eq!(
        by_engine, by_hand,
        "the evaluator and the hand-written PAAM disagree"
    );
    println!(
        "  PAAM only: evaluator {:.0} persons/s, hand-written baseline {:.0} persons/s: ratio {:.3} ({} eligible by both)",
        persons as f64 / engine_secs,
        persons as f64 / hand_secs,
        hand_secs / engine_secs,
        by_engine
    );
}
