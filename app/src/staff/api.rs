//! Server functions of the staff screens. Each one is listed in `crate::policy` with the
//! permission it needs (the access layer refuses the request before it runs), and checks it
//! again here with [`require`], building its queries from the reach it returns.

use leptos::prelude::*;

use super::dto::{
    AgencyProgram, AgencyView, Assignable, Me, OfficeView, PolicyOverview, SessionRow, StaffDetail,
    StaffRow,
};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::access::{Permission, Scope},
    ssr::{
        guard::{fail, require, require_scope, signed_in},
        services::{staff, work},
        state,
    },
};

/// The signed-in staff member, or `None`. Public.
///
/// # Errors
/// Never fails in practice; the signature is the server function's.
#[server(endpoint = "me")]
pub async fn current_staff() -> Result<Option<Me>, AppError> {
    Ok(signed_in().map(Me::from))
}

/// The caller's office.
///
/// # Errors
/// 401, 403, 404 (no office), 500.
#[server(endpoint = "office")]
pub async fn office() -> Result<OfficeView, AppError> {
    let (_, reach) = require(Permission::ViewOffice)?;
    work::office_view(&state()?.db, reach).await.map_err(fail)
}

/// The staff of the caller's office.
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "office/staff")]
pub async fn office_staff() -> Result<Vec<StaffRow>, AppError> {
    let (_, reach) = require(Permission::ViewOfficeStaff)?;
    staff::list(&state()?.db, reach).await.map_err(fail)
}

/// One member of the caller's office (404 for anyone else).
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "office/staff_member")]
pub async fn office_staff_member(id: i32) -> Result<StaffRow, AppError> {
    let (_, reach) = require(Permission::ViewOfficeStaff)?;
    staff::detail(&state()?.db, reach, id)
        .await
        .map(|d| d.row)
        .map_err(fail)
}

/// The caller's agency and its programs.
///
/// # Errors
/// 401, 403, 404 (no agency), 500.
#[server(endpoint = "agency/programs")]
pub async fn agency_programs() -> Result<AgencyView, AppError> {
    let (_, reach) = require(Permission::ViewAgency)?;
    work::agency_view(&state()?.db, reach).await.map_err(fail)
}

/// One program of the caller's agency (404 for another agency's).
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "agency/program")]
pub async fn get_agency_program(code: String) -> Result<AgencyProgram, AppError> {
    let (_, reach) = require(Permission::ViewAgency)?;
    work::agency_program_in(&state()?.db, reach, code.trim())
        .await
        .map_err(fail)
}

/// The staff of the caller's agency (agency heads).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "agency/staff")]
pub async fn agency_staff() -> Result<Vec<StaffRow>, AppError> {
    let (_, reach) = require(Permission::ViewAgencyStaff)?;
    staff::list(&state()?.db, reach).await.map_err(fail)
}

/// Aggregates for policy officers.
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "policy/overview")]
pub async fn get_policy_overview() -> Result<PolicyOverview, AppError> {
    require(Permission::ViewAggregates)?;
    work::policy_overview(&state()?.db).await.map_err(fail)
}

/// Every staff account (administrators).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "admin/staff")]
pub async fn admin_staff() -> Result<Vec<StaffRow>, AppError> {
    let (_, reach) = require(Permission::ManageStaff)?;
    staff::list(&state()?.db, reach).await.map_err(fail)
}

/// One staff account with what its edit form needs (administrators).
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "admin/staff_member")]
pub async fn admin_staff_member(id: i32) -> Result<StaffDetail, AppError> {
    let (me, _) = require(Permission::ManageStaff)?;
    let reach = require_scope(&me, Permission::ManageStaff, Scope::City)?;
    staff::detail(&state()?.db, reach, id).await.map_err(fail)
}

/// The agencies and offices accounts can be assigned to (administrators).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "admin/options")]
pub async fn admin_options() -> Result<Assignable, AppError> {
    require(Permission::ManageStaff)?;
    staff::assignable(&state()?.db).await.map_err(fail)
}

/// Every API client of the agencies, newest first (administrators; never a secret).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "admin/api_clients")]
pub async fn admin_api_clients() -> Result<Vec<crate::staff::dto::ClientRow>, AppError> {
    let (me, _) = require(Permission::ManageStaff)?;
    crate::ssr::services::api_clients::list(&state()?, &me.actor)
        .await
        .map_err(fail)
}

/// Every open session (administrators).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "admin/sessions")]
pub async fn admin_sessions() -> Result<Vec<SessionRow>, AppError> {
    require(Permission::ManageSessions)?;
    staff::open_sessions(&state()?.db).await.map_err(fail)
}

/// The demo accounts and their passwords, listed on the sign-in page of a demo database only
/// (the table is empty anywhere else). Public.
///
/// # Errors
/// 500.
#[server(endpoint = "demo_accounts")]
pub async fn demo_accounts() -> Result<Vec<(String, String)>, AppError> {
    use sea_orm::{EntityTrait, QueryOrder};
    let db = state()?.db;
    let rows = angel_entity::demo_account::Entity::find()
        .order_by_asc(angel_entity::demo_account::Column::Username)
        .all(&db)
        .await
        .map_err(|e| fail(crate::ssr::ServiceError::from(e)))?;
    Ok(rows.into_iter().map(|r| (r.username, r.password)).collect())
}
