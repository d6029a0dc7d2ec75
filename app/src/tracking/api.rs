//! Server functions of request tracking (reads; changes are form posts).

use leptos::prelude::*;

use super::dto::{self, CaseView, Escalations, Timeline};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::access::Permission,
    ssr::{
        guard::{fail, request_id, require},
        services::tracking,
        state,
    },
};

/// The queue of the caller's agency, filtered (program code, status, INEGI borough code,
/// `overdue`/`week`, `yes` for escalated only; empty: no filter), most urgent first.
///
/// # Errors
/// 401, 403, 404 (no agency), 500.
#[server(endpoint = "agency/queue")]
pub async fn agency_queue(
    program: String,
    status: String,
    borough: String,
    due: String,
    escalated: String,
) -> Result<dto::AgencyQueue, AppError> {
    let (me, _) = require(Permission::ViewAgency)?;
    let filter = dto::QueueFilter {
        program,
        status,
        borough,
        due,
        escalated,
    };
    tracking::queue(&state()?, &me, &filter).await.map_err(fail)
}

/// One request of the caller's agency for deciding (audited as a view of the person).
///
/// # Errors
/// 401, 403, 404 (another agency's request), 500.
#[server(endpoint = "agency/case")]
pub async fn load_case(id: i32) -> Result<CaseView, AppError> {
    let (me, _) = require(Permission::DecideRequests)?;
    tracking::case(&state()?, &me, id, request_id().as_deref())
        .await
        .map_err(fail)
}

/// A person's timeline across agencies (audited).
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "registry/timeline")]
pub async fn person_timeline(
    id: i32,
    agency: String,
    program: String,
) -> Result<Timeline, AppError> {
    let (me, _) = require(Permission::ViewPerson)?;
    tracking::timeline(
        &state()?,
        &me,
        id,
        agency.trim(),
        program.trim(),
        request_id().as_deref(),
    )
    .await
    .map_err(fail)
}

/// The escalations of the caller's office (office supervisors, level 1 and above).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "office/escalations")]
pub async fn office_escalations() -> Result<Escalations, AppError> {
    let (me, _) = require(Permission::ViewOfficeStaff)?;
    tracking::escalations(&state()?, &me).await.map_err(fail)
}

/// The escalations of the caller's agency (agency heads, level 2 and above).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "agency/escalations")]
pub async fn agency_escalations() -> Result<Escalations, AppError> {
    let (me, _) = require(Permission::ViewAgencyStaff)?;
    tracking::escalations(&state()?, &me).await.map_err(fail)
}

/// The referrals the caller's agency received (open) and those its office or agency sent.
///
/// # Errors
/// 401, 403, 404 (no office or agency), 500.
#[server(endpoint = "work/referrals")]
pub async fn referrals() -> Result<dto::Referrals, AppError> {
    let (me, _) = require(Permission::ReferPeople)?;
    crate::ssr::services::referral::list(&state()?, &me)
        .await
        .map_err(fail)
}

/// One referral to the caller's agency, with the notes it may read (audited as a view of the
/// person).
///
/// # Errors
/// 401, 403, 404 (another agency's referral), 500.
#[server(endpoint = "agency/referral")]
pub async fn load_referral(id: i32) -> Result<dto::ReferralView, AppError> {
    let (me, _) = require(Permission::DecideRequests)?;
    crate::ssr::services::referral::view(&state()?, &me, id, request_id().as_deref())
        .await
        .map_err(fail)
}

/// Open work of the caller's office (office supervisors).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "office/workload")]
pub async fn office_workload() -> Result<dto::Workload, AppError> {
    let (me, _) = require(Permission::ViewOfficeStaff)?;
    crate::ssr::services::workload::overview(&state()?, &me)
        .await
        .map_err(fail)
}

/// Open work of the caller's agency (agency heads).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "agency/workload")]
pub async fn agency_workload() -> Result<dto::Workload, AppError> {
    let (me, _) = require(Permission::ViewAgencyStaff)?;
    crate::ssr::services::workload::overview(&state()?, &me)
        .await
        .map_err(fail)
}
