//! Server functions of the rule editor (reads; changes are form posts).

use leptos::prelude::*;

use super::dto::{RuleEditor, RuleSummary};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{
    domain::access::Permission,
    ssr::{
        guard::{fail, request_id, require},
        services::rules,
        state,
    },
};

/// Every program with its rule versions and the state of its test cases.
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "admin/rules")]
pub async fn rule_programs() -> Result<Vec<RuleSummary>, AppError> {
    require(Permission::ManageRules)?;
    let state = state()?;
    rules::overview(&state).await.map_err(fail)
}

/// One program's versions and its draft with the test cases run; with `impact`, how many
/// registered people the draft would make eligible or ineligible (audited).
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "admin/rule")]
pub async fn load_rule_editor(code: String, impact: bool) -> Result<RuleEditor, AppError> {
    let (me, _) = require(Permission::ManageRules)?;
    let state = state()?;
    rules::editor(&state, &me, &code, impact, request_id().as_deref())
        .await
        .map_err(fail)
}
