//! `/admin/importar`: an agency's file uploaded, previewed, then imported or discarded (the
//! services are in `ssr::services::uploads`; the upload and the decisions are form posts that
//! work without JavaScript). While a preview or an import runs the page refreshes itself: the
//! server's answer carries an HTTP `Refresh` header (`server::http::imports::refresh`), and the
//! `<Meta>` here does the same after a navigation inside the hydrated app.

use leptos::prelude::*;
use leptos_meta::Meta;

use super::dto::{ImportCounts, UploadDetail, UploadRow};
use super::form_state::{CsrfField, use_form_state};
use super::pages::{NoticeBox, failure, id_param};
use crate::error::AppError;
use crate::i18n::*;
#[cfg(feature = "ssr")]
use crate::{
    domain::access::Permission,
    ssr::{
        guard::{fail, require},
        services::uploads,
        state,
    },
};
use leptos_i18n::I18nContext;

/// The uploads, newest first, and the agencies to import for (administrators).
///
/// # Errors
/// 401, 403, 500.
#[server(endpoint = "admin/imports")]
pub async fn admin_imports() -> Result<(Vec<UploadRow>, super::dto::Assignable), AppError> {
    let (me, _) = require(Permission::ManageStaff)?;
    let state = state()?;
    let rows = uploads::list(&state, &me.actor).await.map_err(fail)?;
    let options = crate::ssr::services::staff::assignable(&state.db)
        .await
        .map_err(fail)?;
    Ok((rows, options))
}

/// One upload with its report's first lines and progress (administrators).
///
/// # Errors
/// 401, 403, 404, 500.
#[server(endpoint = "admin/import")]
pub async fn admin_import(id: i32) -> Result<UploadDetail, AppError> {
    let (me, _) = require(Permission::ManageStaff)?;
    uploads::detail(&state()?, &me.actor, id)
        .await
        .map_err(fail)
}

fn status_name(i18n: I18nContext<Locale>, status: &str) -> String {
    match status {
        "previewing" => t_string!(i18n, import_status_previewing),
        "previewed" => t_string!(i18n, import_status_previewed),
        "running" => t_string!(i18n, import_status_running),
        "done" => t_string!(i18n, import_status_done),
        "failed" => t_string!(i18n, import_status_failed),
        "discarded" => t_string!(i18n, import_status_discarded),
        "expired" => t_string!(i18n, import_status_expired),
        _ => return status.to_owned(),
    }
    .to_owned()
}

/// The counts as a definition list.
fn counts_view(i18n: I18nContext<Locale>, c: ImportCounts) -> impl IntoView {
    let lines = [
        (t_string!(i18n, import_rows).to_owned(), c.rows, "rows"),
        (
            t_string!(i18n, import_created).to_owned(),
            c.created,
            "created",
        ),
        (
            t_string!(i18n, import_for_review).to_owned(),
            c.for_review,
            "for_review",
        ),
        (
            t_string!(i18n, import_matched).to_owned(),
            c.matched,
            "matched",
        ),
        (
            t_string!(i18n, import_updated).to_owned(),
            c.updated,
            "updated",
        ),
        (
            t_string!(i18n, import_conflicts).to_owned(),
            c.conflicts,
            "conflicts",
        ),
        (
            t_string!(i18n, import_already).to_owned(),
            c.already_imported,
            "already_imported",
        ),
        (
            t_string!(i18n, import_refused_rows).to_owned(),
            c.refused,
            "refused",
        ),
        (
            t_string!(i18n, import_requests_created).to_owned(),
            c.requests_created,
            "requests_created",
        ),
        (
            t_string!(i18n, import_requests_existing).to_owned(),
            c.requests_existing,
            "requests_existing",
        ),
        (
            t_string!(i18n, import_request_conflicts).to_owned(),
            c.request_conflicts,
            "request_conflicts",
        ),
    ];
    view! {
        <dl class="import-counts">
            {lines.into_iter().map(|(label, n, key)| view! {
                <dt>{label}</dt><dd data-count=key>{n}</dd>
            }).collect_view()}
        </dl>
    }
}

/// `/admin/importar`: the upload form and the uploads so far.
#[component]
pub fn AdminImportsPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let data = Resource::new(|| (), |_| admin_imports());
    view! {
        <h1>{t!(i18n, admin_imports_title)}</h1>
        <p>{t!(i18n, admin_imports_intro)}</p>
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    let (uploads, options) = match data.await {
                        Ok(d) => d,
                        Err(e) => return failure(e),
                    };
                    let agency = state.value("agency");
                    let error = |field: &str| state.error(field).map(|code| view! {
                        <p class="field-error" id=format!("f-{field}-error")>{super::form_state::field_message(i18n, &code)}</p>
                    });
                    let agency_error = error("agency");
                    let file_error = error("file");
                    let list = if uploads.is_empty() {
                        view! { <p>{t!(i18n, import_none)}</p> }.into_any()
                    } else {
                        view! {
                            <table class="imports">
                                <thead><tr>
                                    <th>{t!(i18n, import_when)}</th><th>{t!(i18n, field_agency)}</th>
                                    <th>{t!(i18n, import_by)}</th><th>{t!(i18n, import_rows)}</th>
                                    <th>{t!(i18n, import_status)}</th>
                                </tr></thead>
                                <tbody>
                                    {uploads.into_iter().map(|u| view! {
                                        <tr data-upload=u.id data-status=u.status.clone()>
                                            <td><a href=format!("/admin/importar/{}", u.id)>{u.created_at}</a></td>
                                            <td>{u.agency}</td><td>{u.by}</td><td class="num">{u.rows}</td>
                                            <td>{status_name(i18n, &u.status)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    };
                    view! {
                        <h2>{t!(i18n, import_new)}</h2>
                        <form method="post" action="/admin/importar" enctype="multipart/form-data" class="stack" novalidate>
                            <CsrfField />
                            <div class="field">
                                <label for="f-agency">{t!(i18n, field_agency)}</label>
                                <select id="f-agency" name="agency" required>
                                    <option value="">"—"</option>
                                    {options.agencies.into_iter().map(|c| { let v = c.id.to_string(); let sel = v == agency; view! { <option value=v selected=sel>{c.code} " · " {c.name}</option> } }).collect_view()}
                                </select>
                                {agency_error}
                            </div>
                            <div class="field">
                                <label for="f-file">{t!(i18n, import_file)}</label>
                                <input id="f-file" type="file" name="file" accept=".csv,text/csv" required />
                                <p class="hint">{t!(i18n, hint_import_file)}</p>
                                {file_error}
                            </div>
                            <div class="field">
                                <label for="f-mapping_file">{t!(i18n, import_mapping)}</label>
                                <input id="f-mapping_file" type="file" name="mapping_file" accept=".toml,text/plain" />
                            </div>
                            <div class="field">
                                <label for="f-mapping">{t!(i18n, import_mapping_text)}</label>
                                <textarea id="f-mapping" name="mapping" rows="6"></textarea>
                            </div>
                            <div class="field">
                                <label><input type="checkbox" name="fuzzy" value="on" checked /> " " {t!(i18n, import_fuzzy)}</label>
                            </div>
                            <button type="submit">{t!(i18n, import_upload)}</button>
                        </form>
                        <h2>{t!(i18n, import_list)}</h2>
                        {list}
                    }
                    .into_any()
                })
            }}
        </Suspense>
        <p><a href="/admin">{t!(i18n, back_to_admin)}</a></p>
    }
}

/// `/admin/importar/{id}`: one upload — its preview or result, its report, what may be done.
#[component]
pub fn AdminImportPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let id = id_param();
    let data = Resource::new(move || id.get(), admin_import);
    view! {
        <h1>{t!(i18n, admin_imports_title)}</h1>
        <NoticeBox state=state />
        <Suspense>
            {move || Suspend::new(async move {
                let detail: UploadDetail = match data.await {
                    Ok(d) => d,
                    Err(e) => return failure(e),
                };
                import_view(i18n, detail).into_any()
            })}
        </Suspense>
        <p><a href="/admin/importar">{t!(i18n, back_to_imports)}</a></p>
    }
}

fn decision(i18n: I18nContext<Locale>, id: i32, action: String) -> impl IntoView {
    let (label, class) = match action.as_str() {
        "confirm" => (t_string!(i18n, import_confirm), ""),
        "discard" => (t_string!(i18n, import_discard), "danger"),
        _ => (t_string!(i18n, import_resume), ""),
    };
    view! {
        <form method="post" action=format!("/admin/importar/{id}") class="inline">
            <CsrfField />
            <input type="hidden" name="action" value=action.clone() />
            <button type="submit" class=class data-action=action>{label}</button>
        </form>
    }
}

fn import_view(i18n: I18nContext<Locale>, d: UploadDetail) -> impl IntoView {
    let u = d.row;
    let id = u.id;
    let working = d.done.is_some();
    let progress = d.done.map(|done| {
        let text = t_string!(i18n, import_progress, done = done, total = u.rows).to_string();
        view! {
            <p class="import-progress" role="status">
                <progress max=u.rows.to_string() value=done.to_string()></progress> " " {text}
            </p>
            <p class="hint">{t!(i18n, import_refreshing)}</p>
        }
    });
    let heading = match u.status.as_str() {
        "done" => t_string!(i18n, import_result_heading),
        _ => t_string!(i18n, import_preview_heading),
    };
    let counts = u.counts.clone().map(|c| {
        view! {
            <h2>{heading}</h2>
            {counts_view(i18n, c)}
        }
    });
    let interrupted = d
        .interrupted
        .then(|| view! { <p class="error" role="alert">{t!(i18n, import_interrupted)}</p> });
    let english = matches!(i18n.get_locale(), Locale::en);
    let shown = d.lines.len();
    let lines = (!d.lines.is_empty()).then(|| {
        let caption =
            t_string!(i18n, import_report_first, n = shown, total = d.total_lines).to_string();
        view! {
            <div class="table-scroll">
                <table class="import-report">
                    <caption>{caption}</caption>
                    <thead><tr>
                        <th>{t!(i18n, import_line)}</th><th>{t!(i18n, import_outcome)}</th>
                        <th>{t!(i18n, import_masked)}</th><th>{t!(i18n, import_field)}</th>
                        <th>{t!(i18n, import_message)}</th><th>{t!(i18n, import_request)}</th>
                        <th>{t!(i18n, import_folio)}</th>
                    </tr></thead>
                    <tbody>
                        {d.lines.into_iter().map(|l| {
                            let message = if english { l.message_en } else { l.message_es };
                            let (line, outcome) = (l.line.clone(), l.outcome.clone());
                            view! {
                                <tr data-line=line data-outcome=outcome>
                                    <td class="num">{l.line}</td><td><code>{l.outcome}</code></td>
                                    <td><code>{l.masked_id}</code></td><td>{l.field}</td>
                                    <td>{message}</td><td><code>{l.request}</code></td><td><code>{l.folio}</code></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p><a href=format!("/admin/importar/{id}/informe.csv") download>{t!(i18n, import_report)}</a></p>
        }
    });
    view! {
        {working.then(|| view! { <Meta http_equiv="refresh" content="2" /> })}
        <dl class="import-facts" data-status=u.status.clone()>
            <dt>{t!(i18n, field_agency)}</dt><dd>{u.agency.clone()}</dd>
            <dt>{t!(i18n, import_by)}</dt><dd>{u.by.clone()}</dd>
            <dt>{t!(i18n, import_when)}</dt><dd>{u.created_at.clone()}</dd>
            <dt>{t!(i18n, import_status)}</dt><dd class="import-status">{status_name(i18n, &u.status)}</dd>
        </dl>
        {interrupted}
        {progress}
        {counts}
        <p class="actions">
            {d.actions.into_iter().map(|a| decision(i18n, id, a)).collect_view()}
        </p>
        {lines}
    }
}
