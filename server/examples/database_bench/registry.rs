//! P1–P3 of PERFORMANCE.md on the synthetic population:
//!
//! - P1 find by CURP through the service (blind index, person row, merge chain) against a raw
//!   prepared `SELECT person_id … WHERE kind = 'curp' AND blind_index = ?` with the index
//!   precomputed;
//! - P2 register a person through the service (validation, blind index, exact and probable
//!   duplicate checks, person + contact + identifier + audit event in one transaction) against a
//!   hand-written transaction inserting the same person rows without any check;
//! - P3 probable-duplicate search (blocking on birth date and name key, Jaro-Winkler) for the
//!   planted near-duplicates: blocking recall against an exhaustive scan of the same birth year
//!   (the ground truth), and its time against that scan's.

use std::time::Instant;

use angel_app::{
    domain::curp::Curp,
    registry::forms::PersonForm,
    ssr::{
        AppState,
        auth::SignedIn,
        services::{
            jobs,
            registry::{self, NameParts, THRESHOLD, similarity},
        },
        vault::Slot,
    },
};
use angel_entity::{audit_event, person, person_contact, person_identifier, synthetic_duplicate};
use angel_server::synthetic;
use chrono::{Datelike, NaiveDate};
use rand::{SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait,
};

use crate::{row, stats, to_date};

const P1_LOOKUPS: usize = 5_000;
const P2_REGISTRATIONS: usize = 400;
const P3_BASELINE_SAMPLE: usize = 300;

/// CURPs of random people, opened from their envelopes (the bench holds the keys).
async fn sample_curps(state: &AppState, n: usize) -> anyhow::Result<Vec<String>> {
    let rows = person_identifier::Entity::find()
        .filter(person_identifier::Column::Kind.eq("curp"))
        .all(&state.db)
        .await?;
    let mut rng = StdRng::seed_from_u64(11);
    rows.choose_multiple(&mut rng, n)
        .map(|r| {
            Ok(state
                .vault
                .open_text(
                    Slot::new("person_identifier", "curp", i64::from(r.person_id)),
                    &r.envelope,
                )?
                .to_string())
        })
        .collect()
}

pub async fn p1(state: &AppState) -> anyhow::Result<()> {
    let today = to_date(chrono::Utc::now().date_naive());
    let curps = sample_curps(state, P1_LOOKUPS).await?;
    let parsed: Vec<Curp> = curps
        .iter()
        .map(|c| Curp::parse(c, today).expect("generated CURPs are valid"))
        .collect();
    // Baseline: the raw indexed lookup, blind index computed beforehand.
    let indexes: Vec<Vec<u8>> = curps
        .iter()
        .map(|c| state.vault.blind_index("curp", c))
        .collect();
    let sql = "SELECT person_id FROM person_identifier WHERE kind = 'curp' AND blind_index = ?";
    for round in 0..2 {
        let mut raw = Vec::with_capacity(indexes.len());
        for idx in &indexes {
            let start = Instant::now();
            let found = state
                .db
                .query_one_raw(jobs::sql(&state.db, sql, vec![idx.clone().into()]))
                .await?;
            raw.push(start.elapsed());
            assert!(found.is_some());
        }
        let mut service = Vec::with_capacity(parsed.len());
        for curp in &parsed {
            let start = Instant::now();
            let found = registry::by_curp(&state.vault, &state.db, curp).await?;
            service.push(start.elapsed());
            assert!(found.is_some());
        }
        // The first round warms the page cache; the second is reported.
        if round == 1 {
            let (raw, service) = (stats(raw), stats(service));
            println!("P1 find by CURP ({} lookups)", parsed.len());
            row("baseline: raw prepared SELECT on the blind index", &raw);
            row("registry::by_curp (HMAC + identifier + person)", &service);
            println!(
                "  ratio p99 service / raw: {:.2}× (goal ≤ 2×; absolute goal p99 ≤ 0.5 ms)",
                service.p99 / raw.p99
            );
        }
    }
    Ok(())
}

pub async fn p2(state: &AppState, actor: &SignedIn) -> anyhow::Result<()> {
    // New people from another seed of the same generator (valid CURPs, realistic names).
    let boroughs: Vec<(String, u64)> = angel_entity::borough::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|b| (b.inegi_code, 1))
        .collect();
    let mut generator =
        synthetic::Generator::new(9_999, boroughs.clone(), chrono::Utc::now().date_naive());
    let mut people = Vec::new();
    while people.len() < 2 * P2_REGISTRATIONS {
        let home = generator.home();
        let borough = boroughs[home.borough].0.clone();
        for m in home.members {
            if m.curp.is_some() {
                people.push((m, borough.clone(), home.postal_code.clone()));
            }
        }
    }
    let forms: Vec<PersonForm> = people
        .iter()
        .map(|(m, borough, cp)| PersonForm {
            given_names: m.given.clone(),
            first_surname: m.first.clone(),
            second_surname: m.second.clone().unwrap_or_default(),
            birth_date: m.birth.to_string(),
            sex: angel_app::registry::forms::sex_code(m.sex).to_owned(),
            birth_state: m.birth_state.to_owned(),
            curp: m.curp.clone().unwrap_or_default(),
            borough: borough.clone(),
            colonia: "Centro".to_owned(),
            postal_code: cp.clone(),
            street: "Calle Uno 1".to_owned(),
            phone: "5512345678".to_owned(),
            ..PersonForm::default()
        })
        .collect();
    let (for_service, for_baseline) = forms.split_at(P2_REGISTRATIONS);

    let mut service = Vec::new();
    let (mut created, mut candidates) = (0, 0);
    for f in for_service {
        let start = Instant::now();
        let outcome = registry::register(state, actor, f, None).await?;
        service.push(start.elapsed());
        match outcome {
            registry::Registered::Created(_) => created += 1,
            registry::Registered::Candidates(_) => candidates += 1,
            registry::Registered::Existing(_) => {}
        }
    }

    // Baseline: the same rows (person, sealed contact, sealed CURP with its blind index, an
    // audit row) in a hand-written transaction: no validation, no duplicate search, no chain.
    let mut raw = Vec::new();
    let now = chrono::Utc::now();
    for (i, f) in for_baseline.iter().enumerate() {
        let start = Instant::now();
        let tx = state.db.begin().await?;
        let person = person::ActiveModel {
            card_number: Set(format!("8{i:08}0")),
            card_token: Set(format!("{:032x}", i + 1)),
            given_names: Set(f.given_names.clone()),
            first_surname: Set(f.first_surname.clone()),
            second_surname: Set(Some(f.second_surname.clone())),
            name_key: Set(angel_app::domain::names::name_key(
                &f.given_names,
                &f.first_surname,
                &f.second_surname,
            )),
            birth_date: Set(NaiveDate::parse_from_str(&f.birth_date, "%Y-%m-%d")?),
            sex: Set(f.sex.clone()),
            birth_state: Set(f.birth_state.clone()),
            borough_id: Set(1),
            colonia: Set(f.colonia.clone()),
            postal_code: Set(f.postal_code.clone()),
            residence_since: Set(None),
            has_curp: Set(true),
            status: Set("active".to_owned()),
            merged_into: Set(None),
            synthetic: Set(true),
            registered_office_id: Set(None),
            registered_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        let id = i64::from(person.id);
        person_contact::ActiveModel {
            person_id: Set(person.id),
            street_envelope: Set(Some(state.vault.seal(
                Slot::new("person_contact", "street", id),
                f.street.as_bytes(),
            ))),
            phone_envelope: Set(Some(
                state
                    .vault
                    .seal(Slot::new("person_contact", "phone", id), f.phone.as_bytes()),
            )),
            key_version: Set(1),
        }
        .insert(&tx)
        .await?;
        person_identifier::ActiveModel {
            person_id: Set(person.id),
            kind: Set("curp".to_owned()),
            envelope: Set(state.vault.seal(
                Slot::new("person_identifier", "curp", id),
                f.curp.as_bytes(),
            )),
            // Salted so that it never collides with the people the service registered.
            blind_index: Set(state.vault.blind_index("curp", &format!("X{}", f.curp))),
            key_version: Set(1),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit_event::ActiveModel {
            seq: Set(1_000_000_000 + i as i64),
            occurred_at: Set(now),
            action: Set("person.registered".to_owned()),
            subject_type: Set(Some("person".to_owned())),
            subject_id: Set(Some(person.id.to_string())),
            prev_hash: Set(String::new()),
            hash: Set(String::new()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        tx.commit().await?;
        raw.push(start.elapsed());
    }
    let (raw, service) = (stats(raw), stats(service));
    println!(
        "P2 register a person ({} registrations, 1 client: {created} created, {candidates} stopped at probable duplicates)",
        for_service.len()
    );
    row("baseline: the same rows, hand-written transaction", &raw);
    row(
        "registry::register (validate, dedup, seal, audit, 1 tx)",
        &service,
    );
    println!(
        "  throughput service / baseline: {:.0}% (goal ≥ 50%; absolute goal ≥ 250/s, p99 ≤ 25 ms)",
        100.0 * service.per_second / raw.per_second
    );
    Ok(())
}

pub async fn p3(state: &AppState) -> anyhow::Result<()> {
    let planted = synthetic_duplicate::Entity::find().all(&state.db).await?;
    let mut blocking = Vec::new();
    let (mut found, mut truth_pairs, mut truth_found) = (0usize, 0usize, 0usize);
    let mut exhaustive = Vec::new();
    let mut per_variant: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for (i, d) in planted.iter().enumerate() {
        let dup = person::Entity::find_by_id(d.person_id)
            .one(&state.db)
            .await?
            .expect("planted row");
        let parts = NameParts::new(
            &dup.given_names,
            &dup.first_surname,
            dup.second_surname.as_deref().unwrap_or(""),
        );
        let start = Instant::now();
        let candidates = registry::probable_duplicates(
            &state.db,
            &parts,
            to_date(dup.birth_date),
            &dup.name_key,
        )
        .await?;
        blocking.push(start.elapsed());
        let hit = candidates.iter().any(|(p, _)| p.id == d.original_id);
        found += usize::from(hit);
        let entry = per_variant.entry(d.variant.clone()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(hit);
        // Ground truth on a sample: every active person born the same year (or the year the
        // date typo came from), scored exhaustively.
        if i < P3_BASELINE_SAMPLE {
            let start = Instant::now();
            let year = dup.birth_date.year();
            let from = NaiveDate::from_ymd_opt(year, 1, 1).expect("a date");
            let to = NaiveDate::from_ymd_opt(year, 12, 31).expect("a date");
            let cohort = person::Entity::find()
                .filter(person::Column::Status.eq("active"))
                .filter(person::Column::BirthDate.between(from, to))
                .filter(person::Column::Id.ne(dup.id))
                .all(&state.db)
                .await?;
            let truth: Vec<i32> = cohort
                .iter()
                .filter(|p| {
                    similarity(
                        &parts,
                        &NameParts::new(
                            &p.given_names,
                            &p.first_surname,
                            p.second_surname.as_deref().unwrap_or(""),
                        ),
                    ) >= THRESHOLD
                })
                .map(|p| p.id)
                .collect();
            exhaustive.push(start.elapsed());
            if truth.contains(&d.original_id) {
                truth_pairs += 1;
                truth_found += usize::from(hit);
            }
        }
    }
    let sampled = exhaustive.len();
    let (blocking, exhaustive) = (stats(blocking), stats(exhaustive));
    println!(
        "P3 probable duplicates ({} planted near-duplicates)",
        planted.len()
    );
    row(
        "baseline: exhaustive scan of the birth year, scored",
        &exhaustive,
    );
    row("registry::probable_duplicates (blocking)", &blocking);
    println!(
        "  p99 blocking / exhaustive: {:.3}×; recall of the planted originals: {:.4} ({found}/{})",
        blocking.p99 / exhaustive.p99,
        found as f64 / planted.len().max(1) as f64,
        planted.len()
    );
    println!(
        "  blocking recall against the exhaustive ground truth (sample of {sampled}): {:.4} ({truth_found}/{truth_pairs}); goal ≥ 0.995",
        truth_found as f64 / truth_pairs.max(1) as f64
    );
    for (variant, (n, hit)) in per_variant {
        println!("    {variant:<10} {hit}/{n}");
    }
    Ok(())
}
