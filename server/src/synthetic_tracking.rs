//! The synthetic population's history with the agencies (`angel seed --synthetic`, after the
//! people): requests of the programs the rules find them eligible for, made over the past two
//! years, each walked through the status machine with plausible delays and reason codes (a step
//! that would fall after today is not taken, so recent requests are still open), a small backlog
//! of stalled requests (overdue, then escalated by the escalation job), referrals (accepted into
//! requests, declined, or still open) and case notes sealed by the vault.
//!
//! Consistent by construction: only verdicts `eligible` under the rule version in force, at most
//! one request per person and program, never two programs that exclude each other, every move a
//! transition of `lifecycle` with one of its reasons, folios numbered per program and year (the
//! counters moved past them). The actors are one disabled account per agency and per office,
//! named "Personal sintético", that cannot sign in. Deterministic for a given seed and database.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::synthetic::{advance_sequences, insert_chunks, max_id};
use angel_app::{
    domain::{
        calendar::add_business_days,
        curp::Date,
        eligibility::{Verdict, evaluate},
        folio,
        lifecycle::{Reason, Status, check, side},
    },
    ssr::{
        AppState,
        audit::NewEvent,
        services::{
            coverage, eligibility, gap, jobs,
            registry::{to_date, to_naive},
        },
        vault::{Slot, note_slot},
    },
};
use angel_entity::{
    agency, case_note, enrollment, enrollment_event, folio_counter, office, person, program,
    program_incompatible, referral, staff,
};
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait,
};

/// People evaluated per round trip (as the rule editor's impact preview).
const PAGE: u64 = 2_000;
/// Rows kept before one write transaction.
const FLUSH_AT: usize = 20_000;
/// How far back requests go.
const HISTORY_DAYS: i64 = 730;

const NOTES: &[&str] = &[
    "Documentos cotejados en ventanilla.",
    "Se confirmó el domicilio por teléfono.",
    "Pidió información sobre la fecha del primer pago.",
    "Entregó comprobante de domicilio actualizado.",
    "Se le explicó el calendario de entregas.",
    "Acudió acompañada de un familiar.",
];
const RESTRICTED_NOTES: &[&str] = &[
    "Refiere situación de riesgo en el hogar; se dio aviso a la unidad especializada.",
    "Presenta constancia médica; se guarda en el expediente físico.",
];

/// Why an office would send someone to each program.
fn refer_reason(program: &str) -> &'static str {
    match program {
        "PAAM" | "BEBSEG" => "care",
        "PREPASI" | "EDUGAR" | "NNTAL" | "UTILES" | "UNIFOR" => "education",
        "SEGDES" | "JOVIMP" => "employment",
        "MADSOL" => "income",
        "DISCAP" => "disability",
        "SMMG" | "MUJSAL" => "health",
        "SVIOL" => "violence",
        "COMCOM" => "food",
        _ => "other",
    }
}

/// The share of eligible people who asked for each program.
fn take_up(program: &str) -> f64 {
    match program {
        "COMCOM" => 0.7,
        "SMMG" => 0.7,
        "MUJSAL" => 0.6,
        _ => 0.85,
    }
}

/// What a synthetic tracking seed wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    pub requests: u64,
    pub events: u64,
    pub referrals: u64,
    pub notes: u64,
    pub open: u64,
    pub escalated: [u64; 3],
    /// People reached by at least one program (an active request).
    pub reached: u64,
    pub seconds: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} synthetic requests ({} open: requested to suspended; escalated to levels 1/2/3: {}/{}/{}) with {} status changes, {} referrals, {} case notes; {} people reached by a program, in {:.1} s",
            self.requests,
            self.open,
            self.escalated[0],
            self.escalated[1],
            self.escalated[2],
            self.events,
            self.referrals,
            self.notes,
            self.reached,
            self.seconds
        )
    }
}

struct Program {
    id: i32,
    code: String,
    agency_id: i32,
    sla_days: u32,
    rule_id: i32,
    rule: angel_app::domain::eligibility::Rule,
}

#[derive(Default)]
struct Batch {
    enrollments: Vec<enrollment::ActiveModel>,
    events: Vec<enrollment_event::ActiveModel>,
    referrals: Vec<referral::ActiveModel>,
    notes: Vec<case_note::ActiveModel>,
}

impl Batch {
    async fn flush(&mut self, state: &AppState) -> anyhow::Result<()> {
        let tx = state.db.begin().await?;
        insert_chunks(&tx, std::mem::take(&mut self.enrollments)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.events)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.referrals)).await?;
        insert_chunks(&tx, std::mem::take(&mut self.notes)).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// One disabled "Personal sintético" account per agency and per office (created once).
async fn actors(
    state: &AppState,
    now: DateTime<Utc>,
) -> anyhow::Result<(HashMap<i32, i32>, HashMap<i32, i32>)> {
    let db = &state.db;
    let mut by_agency = HashMap::new();
    let mut by_office = HashMap::new();
    let units: Vec<(String, &str, Option<i32>, Option<i32>)> = agency::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.code, "agency_staff", Some(a.id), None))
        .chain(
            office::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|o| (o.code, "caseworker", None, Some(o.id))),
        )
        .collect();
    for (code, role, agency_id, office_id) in units {
        let username = format!("sintetico.{}", code.to_lowercase());
        let found = staff::Entity::find()
            .filter(staff::Column::Username.eq(username.as_str()))
            .one(db)
            .await?;
        let id = match found {
            Some(s) => s.id,
            None => {
                sea_orm::ActiveModelTrait::insert(
                    staff::ActiveModel {
                        id: NotSet,
                        username: Set(username),
                        display_name: Set(format!("Personal sintético · {code}")),
                        role: Set(role.to_owned()),
                        agency_id: Set(agency_id),
                        office_id: Set(office_id),
                        password_hash: Set(None),
                        activation_token_hash: Set(None),
                        activation_expires_at: Set(None),
                        disabled_at: Set(Some(now)),
                        created_at: Set(now),
                        updated_at: Set(now),
                        version: Set(1),
                    },
                    db,
                )
                .await?
                .id
            }
        };
        if let Some(a) = agency_id {
            by_agency.insert(a, id);
        }
        if let Some(o) = office_id {
            by_office.insert(o, id);
        }
    }
    Ok((by_agency, by_office))
}

/// The moves a request makes, in order, with their reasons: its planned life.
fn plan(rng: &mut StdRng, yearly: bool) -> Vec<(Status, Reason)> {
    use Reason::*;
    use Status::*;
    let review = (
        InReview,
        *[ReviewStarted, DocumentsComplete].choose(rng).expect("two"),
    );
    let approve = (
        Approved,
        if rng.random_bool(0.97) {
            MeetsRequirements
        } else {
            ExceptionAuthorized
        },
    );
    let start = (Active, BenefitStarted);
    let r: f64 = rng.random();
    if r < 0.015 {
        // The backlog: nobody ever looked at it.
        return Vec::new();
    }
    if r < 0.03 {
        return vec![review];
    }
    if r < 0.07 {
        return vec![(
            Withdrawn,
            *[PersonRequest, NoLongerNeeded].choose(rng).expect("two"),
        )];
    }
    if r < 0.15 {
        return vec![
            review,
            (
                Rejected,
                *[IncompleteDocuments, NoBudget, DuplicateRequest]
                    .choose(rng)
                    .expect("three"),
            ),
        ];
    }
    let mut moves = vec![review, approve, start];
    if yearly {
        // Supplies for one school year, then done.
        moves.push((Exited, ProgramCompleted));
    } else if r < 0.33 {
        moves.push((
            Exited,
            *[
                MovedAway,
                VoluntaryExit,
                NoLongerEligible,
                ProgramCompleted,
                Death,
            ]
            .choose(rng)
            .expect("five"),
        ));
    } else if r < 0.40 {
        moves.push((
            Suspended,
            *[MissingRecertification, TemporaryAbsence, UnderInvestigation]
                .choose(rng)
                .expect("three"),
        ));
        if rng.random_bool(0.4) {
            moves.push((Active, Reinstated));
        }
    }
    moves
}

/// Days between one move and the next.
fn gap(rng: &mut StdRng, to: Status, sla: u32) -> i64 {
    let sla = i64::from(sla.max(1));
    match to {
        Status::InReview | Status::Withdrawn => rng.random_range(1..=sla),
        Status::Approved | Status::Rejected => rng.random_range(1..=sla + 5),
        Status::Active => rng.random_range(1..=15),
        Status::Suspended | Status::Exited => rng.random_range(30..=400),
        Status::Requested => 0,
    }
}

/// Adds the history of the synthetic people (see the module documentation).
///
/// # Errors
/// Database errors; a database without programs or rules (run `angel seed` first).
pub async fn seed(state: &AppState, seed: u64, progress: bool) -> anyhow::Result<Report> {
    let started = std::time::Instant::now();
    let db = &state.db;
    let now = state.clock.now();
    let today = to_date(now.date_naive());
    let mut rng = StdRng::seed_from_u64(seed ^ 0x7472_6163_6b69_6e67);
    let versions = eligibility::versions(db).await?;
    let in_force = eligibility::current(&versions, today);
    let programs: Vec<Program> = program::Entity::find()
        .order_by_asc(program::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| {
            let v = in_force.get(&p.id)?;
            Some(Program {
                id: p.id,
                code: p.code,
                agency_id: p.agency_id,
                sla_days: u32::try_from(p.sla_days).unwrap_or(0),
                rule_id: v.id,
                rule: v.rule.clone(),
            })
        })
        .collect();
    anyhow::ensure!(
        !programs.is_empty(),
        "no rules in force: run `angel seed` first"
    );
    let excludes: HashSet<(i32, i32)> = program_incompatible::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .flat_map(|p| [(p.program_id, p.other_id), (p.other_id, p.program_id)])
        .collect();
    let holidays: BTreeSet<Date> = eligibility::holidays(db).await?;
    let office_of_borough: HashMap<i32, i32> = office::Entity::find()
        .order_by_asc(office::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .rev()
        .filter_map(|o| o.borough_id.map(|b| (b, o.id)))
        .collect();
    let (agency_actor, office_actor) = actors(state, now).await?;
    let mut counters: HashMap<(i32, i32), i32> = folio_counter::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| ((c.program_id, c.year), c.last))
        .collect();
    let mut next_enrollment = max_id(db, "enrollment").await? + 1;
    let mut next_event = max_id(db, "enrollment_event").await? + 1;
    let mut next_referral = max_id(db, "referral").await? + 1;
    let mut next_note = max_id(db, "case_note").await? + 1;
    let key_version = i32::try_from(state.vault.active_version()).expect("small versions");

    let total = person::Entity::find()
        .filter(person::Column::Synthetic.eq(true))
        .filter(person::Column::Status.eq("active"))
        .count(db)
        .await?;
    let bar = if progress {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bar:40} {pos}/{len} historias sintéticas · {per_sec} · {eta}",
        )
        .expect("a valid template"),
    );
    let mut report = Report::default();
    let mut batch = Batch::default();
    let mut after = 0;
    loop {
        let people: Vec<(i32, i32)> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .column(person::Column::BoroughId)
            .filter(person::Column::Synthetic.eq(true))
            .filter(person::Column::Status.eq("active"))
            .filter(person::Column::Id.gt(after))
            .order_by_asc(person::Column::Id)
            .limit(PAGE)
            .into_tuple()
            .all(db)
            .await?;
        let Some(&(last, _)) = people.last() else {
            break;
        };
        after = last;
        let ids: Vec<i32> = people.iter().map(|p| p.0).collect();
        let facts = eligibility::facts_for(db, &ids, today).await?;
        for (person_id, borough_id) in people {
            let Some(f) = facts.get(&person_id) else {
                continue;
            };
            let office_id = office_of_borough.get(&borough_id).copied();
            let caseworker = office_id.and_then(|o| office_actor.get(&o).copied());
            let mut taken: Vec<i32> = Vec::new();
            let mut not_taken: Vec<&Program> = Vec::new();
            for p in &programs {
                let eligible = evaluate(&p.rule, f, today).verdict == Verdict::Eligible;
                let clash = taken.iter().any(|t| excludes.contains(&(*t, p.id)));
                if !eligible || clash || !rng.random_bool(take_up(&p.code)) {
                    not_taken.push(p);
                    continue;
                }
                taken.push(p.id);
                let reviewer = agency_actor.get(&p.agency_id).copied();
                // School programs are asked for every school year.
                let yearly = matches!(p.code.as_str(), "UTILES" | "UNIFOR");
                let mut start = now - Duration::days(rng.random_range(0..HISTORY_DAYS));
                for _ in 0..3 {
                    // The request: a working-hours moment.
                    let requested_at =
                        (start - Duration::minutes(rng.random_range(0..480))).min(now);
                    let day = to_date(requested_at.date_naive());
                    let counter = counters.entry((p.id, day.year)).or_insert(0);
                    *counter += 1;
                    let id = next_enrollment;
                    next_enrollment += 1;
                    let from_referral = rng.random_bool(0.05) && caseworker.is_some();
                    let first_reason = if from_referral {
                        Reason::ReferralAccepted
                    } else {
                        Reason::Eligible
                    };
                    batch.events.push(enrollment_event::ActiveModel {
                        id: Set(next_event),
                        enrollment_id: Set(id),
                        from_status: Set(None),
                        to_status: Set(Status::Requested.code().to_owned()),
                        reason: Set(first_reason.code().to_owned()),
                        actor_id: Set(if from_referral { reviewer } else { caseworker }),
                        role: Set(Some(
                            if from_referral {
                                "agency_staff"
                            } else {
                                "caseworker"
                            }
                            .to_owned(),
                        )),
                        office_id: Set(if from_referral { None } else { office_id }),
                        agency_id: Set(from_referral.then_some(p.agency_id)),
                        at: Set(requested_at),
                    });
                    next_event += 1;
                    report.events += 1;
                    if from_referral {
                        let created = requested_at - Duration::days(rng.random_range(1..10));
                        batch.referrals.push(referral::ActiveModel {
                            id: Set(next_referral),
                            person_id: Set(person_id),
                            program_id: Set(p.id),
                            reason: Set(refer_reason(&p.code).to_owned()),
                            from_staff_id: Set(caseworker.expect("checked above")),
                            from_office_id: Set(office_id),
                            from_agency_id: Set(None),
                            created_at: Set(created),
                            status: Set("accepted".to_owned()),
                            decided_by: Set(reviewer),
                            decided_at: Set(Some(requested_at)),
                            decline_reason: Set(None),
                            enrollment_id: Set(Some(id)),
                            version: Set(2),
                        });
                        next_referral += 1;
                        report.referrals += 1;
                    }
                    // Its life, as far as today.
                    let mut status = Status::Requested;
                    let mut at = requested_at;
                    let mut decided_at = None;
                    let mut version = 1;
                    for (to, reason) in plan(&mut rng, yearly) {
                        let next = at + Duration::days(gap(&mut rng, to, p.sla_days));
                        if next > now {
                            break;
                        }
                        // The plan follows the machine; a move it would refuse ends the walk.
                        if check(status, to, Some(reason), side(to)).is_err() {
                            break;
                        }
                        let by_office = side(to) == angel_app::domain::lifecycle::Side::Office;
                        batch.events.push(enrollment_event::ActiveModel {
                            id: Set(next_event),
                            enrollment_id: Set(id),
                            from_status: Set(Some(status.code().to_owned())),
                            to_status: Set(to.code().to_owned()),
                            reason: Set(reason.code().to_owned()),
                            actor_id: Set(if by_office { caseworker } else { reviewer }),
                            role: Set(Some(
                                if by_office {
                                    "caseworker"
                                } else {
                                    "agency_staff"
                                }
                                .to_owned(),
                            )),
                            office_id: Set(if by_office { office_id } else { None }),
                            agency_id: Set((!by_office).then_some(p.agency_id)),
                            at: Set(next),
                        });
                        next_event += 1;
                        report.events += 1;
                        version += 1;
                        if matches!(to, Status::Approved | Status::Rejected | Status::Withdrawn) {
                            decided_at = Some(next);
                        }
                        status = to;
                        at = next;
                    }
                    if status.is_open() {
                        report.open += 1;
                    }
                    // A note now and then, by the agency.
                    if let Some(author) = reviewer
                        && rng.random_bool(0.1)
                    {
                        let restricted = rng.random_bool(0.2);
                        let sensitivity = if restricted { "restricted" } else { "general" };
                        let body = if restricted {
                            RESTRICTED_NOTES.choose(&mut rng)
                        } else {
                            NOTES.choose(&mut rng)
                        }
                        .expect("not empty");
                        batch.notes.push(case_note::ActiveModel {
                            id: Set(next_note),
                            person_id: Set(person_id),
                            enrollment_id: Set(Some(id)),
                            referral_id: Set(None),
                            author_id: Set(author),
                            role: Set("agency_staff".to_owned()),
                            agency_id: Set(Some(p.agency_id)),
                            office_id: Set(None),
                            sensitivity: Set(sensitivity.to_owned()),
                            body: Set(state.vault.seal(
                                Slot::new(
                                    "case_note",
                                    note_slot(sensitivity),
                                    i64::from(next_note),
                                ),
                                body.as_bytes(),
                            )),
                            key_version: Set(key_version),
                            created_at: Set(at),
                        });
                        next_note += 1;
                        report.notes += 1;
                    }
                    batch.enrollments.push(enrollment::ActiveModel {
                        id: Set(id),
                        folio: Set(folio::folio(&p.code, day.year, *counter as u32)),
                        person_id: Set(person_id),
                        applicant_id: Set(person_id),
                        program_id: Set(p.id),
                        status: Set(status.code().to_owned()),
                        rule_id: Set(p.rule_id),
                        verdict: Set(Verdict::Eligible.code().to_owned()),
                        life_event_id: Set(None),
                        office_id: Set(if from_referral { None } else { office_id }),
                        requested_by: Set(if from_referral { None } else { caseworker }),
                        requested_at: Set(requested_at),
                        due_on: Set(to_naive(add_business_days(day, p.sla_days, &holidays))),
                        override_reason: Set(None),
                        escalation_level: Set(0),
                        escalated_at: Set(None),
                        decided_at: Set(decided_at),
                        version: Set(version),
                        updated_at: Set(at),
                    });
                    report.requests += 1;
                    // Asked again after a closed request, some time later.
                    if status.is_open() || !(yearly || rng.random_bool(0.4)) {
                        break;
                    }
                    start = at + Duration::days(rng.random_range(30..200));
                    if start > now {
                        break;
                    }
                }
            }
            // About one person in a hundred was referred somewhere that did not (yet) take
            // them: still open when recent, declined otherwise.
            if let Some(from) = caseworker
                && rng.random_bool(0.01)
                && let Some(p) = not_taken.choose(&mut rng)
            {
                let created = now - Duration::days(rng.random_range(0..HISTORY_DAYS));
                let open = now - created < Duration::days(20);
                let decline = *[
                    "not_eligible",
                    "out_of_scope",
                    "person_declined",
                    "unreachable",
                    "no_capacity",
                ]
                .choose(&mut rng)
                .expect("five");
                batch.referrals.push(referral::ActiveModel {
                    id: Set(next_referral),
                    person_id: Set(person_id),
                    program_id: Set(p.id),
                    reason: Set(refer_reason(&p.code).to_owned()),
                    from_staff_id: Set(from),
                    from_office_id: Set(office_id),
                    from_agency_id: Set(None),
                    created_at: Set(created),
                    status: Set(if open { "open" } else { "declined" }.to_owned()),
                    decided_by: Set((!open)
                        .then(|| agency_actor.get(&p.agency_id).copied())
                        .flatten()),
                    decided_at: Set((!open).then(|| created + Duration::days(3))),
                    decline_reason: Set((!open).then(|| decline.to_owned())),
                    enrollment_id: Set(None),
                    version: Set(if open { 1 } else { 2 }),
                });
                next_referral += 1;
                report.referrals += 1;
            }
            bar.inc(1);
        }
        if batch.enrollments.len() >= FLUSH_AT {
            batch.flush(state).await?;
        }
    }
    batch.flush(state).await?;
    bar.finish_and_clear();

    // Folio counters past the folios written; PostgreSQL sequences past the explicit ids.
    for ((program_id, year), last) in &counters {
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                DbBackend::Postgres => {
                    "INSERT INTO folio_counter (program_id, year, last) VALUES ($1, $2, $3) \
                     ON CONFLICT (program_id, year) DO UPDATE \
                     SET last = GREATEST(folio_counter.last, excluded.last)"
                }
                _ => {
                    "INSERT INTO folio_counter (program_id, year, last) VALUES (?, ?, ?) \
                     ON CONFLICT (program_id, year) DO UPDATE \
                     SET last = MAX(folio_counter.last, excluded.last)"
                }
            },
            [(*program_id).into(), (*year).into(), (*last).into()],
        ))
        .await?;
    }
    advance_sequences(
        db,
        &["enrollment", "enrollment_event", "referral", "case_note"],
    )
    .await?;
    // The backlog escalates as it would have: the job, run once now.
    if let Some(run) = jobs::escalate(db, &state.audit, "seed --synthetic", now).await? {
        report.escalated = run.raised;
    }
    // Who the active requests reach, for the coverage reports.
    report.reached = coverage::rebuild(db).await?;
    // Who the rules find eligible and not enrolled, for the same reports.
    gap::run(db, "seed --synthetic", now).await?;
    let tx = state.audit.begin(db).await?;
    tx.record(
        NewEvent::new("tracking.synthetic_seeded", now).detail(serde_json::json!({
            "requests": report.requests, "events": report.events,
            "referrals": report.referrals, "notes": report.notes, "seed": seed,
        })),
    )
    .await?;
    tx.commit().await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
