//! The rule editor: drafts of program rule versions, their test cases, publication, and the
//! impact of a draft on the registered population.
//!
//! A program has at most one draft at a time. Published versions never change; publishing sets
//! the draft's status, who and when, and is refused while a test case fails (or there is none).
//! Every change is audited; a save carries the fingerprint of the draft it was made from, so an
//! administrator never overwrites another's edit without seeing it.

use angel_entity::{program, program_rule};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use super::eligibility::{
    RuleVersion, current, each_active, parse_version, program_codes, versions,
};
use super::registry::{field, to_naive, today};
use crate::catalog::dto::Localized;
use crate::domain::curp::Date;
use crate::domain::eligibility::{Rule, Verdict, evaluate, run_cases};
use crate::rules::dto::{CaseLine, Draft, Impact, RuleEditor, RuleSummary, VersionLine};
use crate::rules::forms::{RuleForm, ValidDraft, rows_of};
use crate::ssr::audit::NewEvent;
use crate::ssr::auth::SignedIn;
use crate::ssr::{AppState, ServiceError};

fn results(v: &RuleVersion) -> Vec<CaseLine> {
    run_cases(&v.rule, &v.tests)
        .into_iter()
        .map(|(name, expect, got)| CaseLine { name, expect, got })
        .collect()
}

fn passing(lines: &[CaseLine]) -> usize {
    lines.iter().filter(|c| c.expect == c.got).count()
}

/// The fingerprint of a stored draft: any change to it changes the stamp.
fn stamp(m: &program_rule::Model) -> String {
    let mut h = Sha256::new();
    for part in [
        m.rules.as_str(),
        m.tests.as_str(),
        &m.effective_from.to_string(),
        m.note.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..12])
}

async fn program_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<program::Model, ServiceError> {
    program::Entity::find()
        .filter(program::Column::Code.eq(code))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// The program codes `enrolled_in` may name, sorted.
async fn known_codes(db: &impl ConnectionTrait) -> Result<Vec<String>, ServiceError> {
    let mut codes: Vec<String> = program_codes(db).await?.into_values().collect();
    codes.sort();
    Ok(codes)
}

async fn draft_of(
    db: &impl ConnectionTrait,
    program_id: i32,
) -> Result<Option<program_rule::Model>, ServiceError> {
    Ok(program_rule::Entity::find()
        .filter(program_rule::Column::ProgramId.eq(program_id))
        .filter(program_rule::Column::Status.eq("draft"))
        .one(db)
        .await?)
}

fn localized(p: &program::Model) -> Localized {
    Localized {
        es: p.name_es.clone(),
        en: p.name_en.clone(),
    }
}

/// Every program with its current, pending and draft versions.
///
/// # Errors
/// Database errors; `Internal` when a stored rule does not parse.
pub async fn overview(state: &AppState) -> Result<Vec<RuleSummary>, ServiceError> {
    let day = today(state.clock.now());
    let all = versions(&state.db).await?;
    let now = current(&all, day);
    let programs = program::Entity::find()
        .order_by_asc(program::Column::Code)
        .all(&state.db)
        .await?;
    Ok(programs
        .iter()
        .map(|p| {
            let mine = || all.iter().filter(move |v| v.program_id == p.id);
            let cur = now.get(&p.id);
            let lines = cur.map(|v| results(v)).unwrap_or_default();
            RuleSummary {
                code: p.code.clone(),
                name: localized(p),
                verified: p.verified,
                current: cur.map(|v| v.version),
                pending: mine()
                    .filter(|v| v.status == "published" && v.effective_from > day)
                    .map(|v| (v.version, v.effective_from))
                    .collect(),
                draft: mine().find(|v| v.status == "draft").map(|v| v.version),
                passing: passing(&lines),
                cases: lines.len(),
            }
        })
        .collect())
}

/// One program's history and draft; with `with_impact`, the draft's effect on the registered
/// population (audited: it reads every profile's facts, though it shows only counts).
///
/// # Errors
/// `NotFound` (unknown program), database errors.
pub async fn editor(
    state: &AppState,
    actor: &SignedIn,
    code: &str,
    with_impact: bool,
    request_id: Option<&str>,
) -> Result<RuleEditor, ServiceError> {
    let now = state.clock.now();
    let day = today(now);
    let p = program_by_code(&state.db, code).await?;
    let all: Vec<RuleVersion> = versions(&state.db)
        .await?
        .into_iter()
        .filter(|v| v.program_id == p.id)
        .collect();
    let in_force = current(&all, day).get(&p.id).map(|v| v.id);
    let versions = all
        .iter()
        .rev()
        .map(|v| {
            let lines = results(v);
            VersionLine {
                version: v.version,
                standing: if Some(v.id) == in_force {
                    "current"
                } else if v.status == "draft" {
                    "draft"
                } else if v.effective_from > day {
                    "pending"
                } else {
                    "superseded"
                }
                .to_owned(),
                effective_from: v.effective_from,
                passing: passing(&lines),
                cases: lines.len(),
                note: v.note.clone(),
            }
        })
        .collect();
    let current_rule = all
        .iter()
        .find(|v| Some(v.id) == in_force)
        .map(|v| v.rule.clone());
    let draft = match draft_of(&state.db, p.id).await? {
        Some(m) => {
            let parsed = all
                .iter()
                .find(|v| v.id == m.id)
                .ok_or(ServiceError::Internal("draft vanished"))?;
            Some(Draft {
                version: m.version,
                effective_from: parsed.effective_from,
                note: m.note.clone(),
                rule: parsed.rule.clone(),
                rows: rows_of(&parsed.rule),
                rules_json: serde_json::to_string_pretty(&parsed.rule)
                    .map_err(|_| ServiceError::Internal("rule does not serialize"))?,
                tests_json: serde_json::to_string_pretty(&parsed.tests)
                    .map_err(|_| ServiceError::Internal("tests do not serialize"))?,
                stamp: stamp(&m),
                results: results(parsed),
            })
        }
        None => None,
    };
    let impact = match (&draft, with_impact) {
        (Some(d), true) => {
            let figures = impact(&state.db, current_rule.as_ref(), &d.rule, day).await?;
            let tx = state.audit.begin(&state.db).await?;
            tx.record(
                NewEvent::new("rule.impact_previewed", now)
                    .by(&actor.actor)
                    .subject("program", p.id)
                    .request(request_id)
                    .purpose("rules")
                    .detail(serde_json::json!({
                        "program": p.code,
                        "version": d.version,
                        "people": figures.people,
                    })),
            )
            .await?;
            tx.commit().await?;
            Some(figures)
        }
        _ => None,
    };
    Ok(RuleEditor {
        code: p.code.clone(),
        name: localized(&p),
        verified: p.verified,
        today: day,
        versions,
        current: current_rule,
        draft,
        programs: known_codes(&state.db).await?,
        impact,
    })
}

/// Evaluates every active profile under the rule in force and under the draft, in batches.
///
/// # Errors
/// Database errors.
pub async fn impact(
    db: &impl ConnectionTrait,
    in_force: Option<&Rule>,
    draft: &Rule,
    day: Date,
) -> Result<Impact, ServiceError> {
    let mut figures = Impact::default();
    each_active(db, day, |f| {
        let now = in_force.is_some_and(|r| evaluate(r, f, day).verdict == Verdict::Eligible);
        let then = evaluate(draft, f, day).verdict == Verdict::Eligible;
        figures.people += 1;
        figures.eligible_now += u64::from(now);
        figures.eligible_draft += u64::from(then);
        figures.gained += u64::from(then && !now);
        figures.lost += u64::from(now && !then);
    })
    .await?;
    Ok(figures)
}

/// The audit event of a change to a rule version.
fn changed(
    action: &str,
    now: chrono::DateTime<chrono::Utc>,
    actor: &SignedIn,
    m: &program_rule::Model,
    code: &str,
    request_id: Option<&str>,
) -> NewEvent {
    NewEvent::new(action, now)
        .by(&actor.actor)
        .subject("program_rule", m.id)
        .request(request_id)
        .purpose("rules")
        .detail(serde_json::json!({ "program": code, "version": m.version }))
}

/// Starts a draft from the version in force (or the latest one): the next version number,
/// effective today. Refused (409) when the program already has a draft.
///
/// # Errors
/// `NotFound`, `Conflict`, database errors.
pub async fn create_draft(
    state: &AppState,
    actor: &SignedIn,
    code: &str,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let day = today(now);
    let p = program_by_code(&state.db, code).await?;
    let tx = state.audit.begin(&state.db).await?;
    if draft_of(&*tx, p.id).await?.is_some() {
        return Err(ServiceError::Conflict);
    }
    let mine: Vec<RuleVersion> = versions(&*tx)
        .await?
        .into_iter()
        .filter(|v| v.program_id == p.id)
        .collect();
    let base = current(&mine, day)
        .get(&p.id)
        .map(|v| v.id)
        .or_else(|| mine.last().map(|v| v.id));
    let stored = match base {
        Some(id) => program_rule::Entity::find_by_id(id).one(&*tx).await?,
        None => None,
    };
    let next = mine.iter().map(|v| v.version).max().unwrap_or(0) + 1;
    let inserted = program_rule::ActiveModel {
        id: NotSet,
        program_id: Set(p.id),
        version: Set(next),
        effective_from: Set(to_naive(day)),
        status: Set("draft".to_owned()),
        rules: Set(stored
            .as_ref()
            .map_or_else(|| r#"{"all":[]}"#.to_owned(), |s| s.rules.clone())),
        tests: Set(stored
            .as_ref()
            .map_or_else(|| "[]".to_owned(), |s| s.tests.clone())),
        note: Set(String::new()),
        created_by: Set(Some(actor.actor.staff_id)),
        created_at: Set(now),
        published_by: Set(None),
        published_at: Set(None),
    }
    .insert(&*tx)
    .await
    .map_err(|e| {
        if super::eligibility::is_unique_violation(&e) {
            ServiceError::Conflict
        } else {
            e.into()
        }
    })?;
    tx.record(changed(
        "rule.draft_created",
        now,
        actor,
        &inserted,
        &p.code,
        request_id,
    ))
    .await?;
    tx.commit().await
}

/// Loads the program's draft inside `tx` and checks the form was made from it.
async fn locked_draft(
    db: &impl ConnectionTrait,
    program_id: i32,
    form: &RuleForm,
) -> Result<program_rule::Model, ServiceError> {
    let draft = draft_of(db, program_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if form.stamp != stamp(&draft) {
        return Err(ServiceError::Conflict);
    }
    Ok(draft)
}

async fn checked(
    db: &impl ConnectionTrait,
    form: &RuleForm,
    day: Date,
) -> Result<ValidDraft, ServiceError> {
    let codes = known_codes(db).await?;
    form.validate(day, &|c| codes.iter().any(|k| k == c))
        .map_err(ServiceError::Invalid)
}

/// Saves the draft as typed (rule, test cases, effective date, note).
///
/// # Errors
/// `Invalid` with field errors, `Conflict` (changed since the form was filled), `NotFound`.
pub async fn save_draft(
    state: &AppState,
    actor: &SignedIn,
    code: &str,
    form: &RuleForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let p = program_by_code(&state.db, code).await?;
    let valid = checked(&state.db, form, today(now)).await?;
    let tx = state.audit.begin(&state.db).await?;
    let draft = locked_draft(&*tx, p.id, form).await?;
    let mut m = draft.into_active_model();
    m.rules = Set(serde_json::to_string(&valid.rule)
        .map_err(|_| ServiceError::Internal("rule does not serialize"))?);
    m.tests = Set(serde_json::to_string(&valid.tests)
        .map_err(|_| ServiceError::Internal("tests do not serialize"))?);
    m.effective_from = Set(to_naive(valid.effective_from));
    m.note = Set(valid.note);
    let saved = m.update(&*tx).await?;
    tx.record(changed(
        "rule.draft_saved",
        now,
        actor,
        &saved,
        &p.code,
        request_id,
    ))
    .await?;
    tx.commit().await
}

/// Publishes the draft exactly as stored (the form only says which draft was reviewed). Refused
/// while a test case fails, when it has none, or when its effective date has passed.
///
/// # Errors
/// `Invalid` (`tests_failed`, `no_tests`, `effective_past`), `Conflict`, `NotFound`.
pub async fn publish(
    state: &AppState,
    actor: &SignedIn,
    code: &str,
    form: &RuleForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let day = today(now);
    let p = program_by_code(&state.db, code).await?;
    let tx = state.audit.begin(&state.db).await?;
    let draft = locked_draft(&*tx, p.id, form).await?;
    let parsed = parse_version(draft.clone())?;
    let lines = results(&parsed);
    let mut errors = Vec::new();
    if lines.is_empty() {
        errors.push(field("tests", "no_tests"));
    } else if passing(&lines) < lines.len() {
        errors.push(field("tests", "tests_failed"));
    }
    if parsed.effective_from < day {
        errors.push(field("effective_from", "effective_past"));
    }
    let codes = known_codes(&*tx).await?;
    if let Err(e) = parsed.rule.validate(&|c| codes.iter().any(|k| k == c)) {
        errors.push(field("rules", e.code));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let mut m = draft.into_active_model();
    m.status = Set("published".to_owned());
    m.published_by = Set(Some(actor.actor.staff_id));
    m.published_at = Set(Some(now));
    let published = m.update(&*tx).await?;
    let event = changed(
        "rule.published",
        now,
        actor,
        &published,
        &p.code,
        request_id,
    )
    .detail(serde_json::json!({
    "program": p.code,
    "version": published.version,
    "effective_from": published.effective_from.to_string(),
    "cases": lines.len(),
    }));
    tx.record(event).await?;
    tx.commit().await?;
    // The public check keeps the rules in memory: it reads them again on its next answer.
    state.portal.invalidate();
    Ok(())
}

/// Deletes the draft (never a published version).
///
/// # Errors
/// `Conflict` (changed since the form was filled), `NotFound`.
pub async fn discard(
    state: &AppState,
    actor: &SignedIn,
    code: &str,
    form: &RuleForm,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let now = state.clock.now();
    let p = program_by_code(&state.db, code).await?;
    let tx = state.audit.begin(&state.db).await?;
    let draft = locked_draft(&*tx, p.id, form).await?;
    program_rule::Entity::delete_many()
        .filter(program_rule::Column::Id.eq(draft.id))
        .filter(program_rule::Column::Status.eq("draft"))
        .exec(&*tx)
        .await?;
    tx.record(changed(
        "rule.draft_discarded",
        now,
        actor,
        &draft,
        &p.code,
        request_id,
    ))
    .await?;
    tx.commit().await
}

/// Dispatches an editor form post; the page to go to after it.
///
/// # Errors
/// As the action's; `Invalid` on an unknown action.
pub async fn post(
    state: &AppState,
    actor: &SignedIn,
    code: &str,
    form: &RuleForm,
    request_id: Option<&str>,
) -> Result<String, ServiceError> {
    match form.action.as_str() {
        "new" => create_draft(state, actor, code, request_id).await?,
        "save" => save_draft(state, actor, code, form, request_id).await?,
        "publish" => publish(state, actor, code, form, request_id).await?,
        "discard" => discard(state, actor, code, form, request_id).await?,
        _ => return Err(ServiceError::Invalid(vec![field("do", "invalid_choice")])),
    }
    Ok(format!("/admin/reglas/{code}"))
}
