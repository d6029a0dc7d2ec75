//! The staff screens: sign-in, account activation, one's own account, the office, the agency,
//! the policy aggregates and the administration. Every form is a plain HTML form that posts to
//! its own page and works without JavaScript; the server answers with a redirect or with the
//! same page showing what went wrong.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api;
use super::dto::{Assignable, Me, StaffRow};
use super::form_state::{CsrfField, Field, FormState, Notice, use_form_state};
use crate::coverage::figures::figures_section;
use crate::coverage::pages::{coverage_section, filters, policy_params};
use crate::domain::access::{Permission, Role};
use crate::i18n::*;
use crate::pages::{ErrorMessage, set_http_status};
use leptos_i18n::I18nContext;

pub fn role_name(i18n: I18nContext<Locale>, role: Role) -> String {
    match role {
        Role::Caseworker => t_string!(i18n, role_caseworker),
        Role::OfficeSupervisor => t_string!(i18n, role_office_supervisor),
        Role::AgencyStaff => t_string!(i18n, role_agency_staff),
        Role::AgencyHead => t_string!(i18n, role_agency_head),
        Role::PolicyOfficer => t_string!(i18n, role_policy_officer),
        Role::Administrator => t_string!(i18n, role_administrator),
        Role::Citizen => t_string!(i18n, role_citizen),
    }
    .to_owned()
}

/// The signed-in staff member of this request: read from the session on the server, carried to
/// the browser with the page (no request, no `<Suspense>`).
pub fn use_me() -> Option<Me> {
    SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            crate::ssr::guard::signed_in().map(Me::from)
        }
        #[cfg(not(feature = "ssr"))]
        {
            None
        }
    })
    .into_inner()
}

/// The notice of a form post, if any.
#[component]
pub fn NoticeBox(state: FormState) -> impl IntoView {
    let i18n = use_i18n();
    let has_errors = !state.errors.is_empty();
    let notice = state.notice.map(|notice| match notice {
        Notice::InvalidCredentials => view! { <p class="error" role="alert">{t!(i18n, signin_invalid)}</p> }.into_any(),
        Notice::Throttled { seconds } => view! {
            <p class="error" role="alert">{t!(i18n, signin_throttled, seconds = move || seconds)}</p>
        }
        .into_any(),
        Notice::Conflict => view! { <p class="error" role="alert">{t!(i18n, error_conflict)}</p> }.into_any(),
        Notice::Failed => view! {
            <div class="error" role="alert"><p>{t!(i18n, error_internal)}</p><crate::pages::Reference /></div>
        }
        .into_any(),
        Notice::Saved => view! { <p class="ok" role="status">{t!(i18n, notice_saved)}</p> }.into_any(),
        Notice::SessionEnded => view! { <p class="ok" role="status">{t!(i18n, notice_session_ended)}</p> }.into_any(),
        Notice::ApiCredential { name, credential, expires_at } => view! {
            <div class="ok token" role="status">
                <p>{t!(i18n, notice_api_credential)}</p>
                <dl>
                    <dt>{t!(i18n, api_client_name)}</dt>
                    <dd>{name}</dd>
                    <dt>{t!(i18n, api_client_credential)}</dt>
                    <dd><code class="api-credential">{credential}</code></dd>
                    <dt>{t!(i18n, api_client_expires)}</dt>
                    <dd>{expires_at}</dd>
                </dl>
            </div>
        }
        .into_any(),
        Notice::ApiRevoked => view! { <p class="ok" role="status">{t!(i18n, notice_api_revoked)}</p> }.into_any(),
        Notice::PasswordChanged => view! { <p class="ok" role="status">{t!(i18n, notice_password_changed)}</p> }.into_any(),
        Notice::OneTimeToken { username, token } => view! {
            <div class="ok token" role="status">
                <p>{t!(i18n, notice_token)}</p>
                <dl>
                    <dt>{t!(i18n, field_username)}</dt>
                    <dd><code>{username}</code></dd>
                    <dt>{t!(i18n, field_token)}</dt>
                    <dd><code class="one-time-token">{token}</code></dd>
                </dl>
            </div>
        }
        .into_any(),
        Notice::TrackUnknown => view! { <p class="error" role="alert">{t!(i18n, track_unknown)}</p> }.into_any(),
        Notice::CitizenRefused { activation: false } => view! { <p class="error" role="alert">{t!(i18n, citizen_invalid)}</p> }.into_any(),
        Notice::CitizenRefused { activation: true } => view! { <p class="error" role="alert">{t!(i18n, citizen_activation_invalid)}</p> }.into_any(),
        Notice::CitizenCode { code, until } => view! {
            <div class="ok token citizen-code" role="status">
                <p>{t!(i18n, citizen_code_issued)}</p>
                <p class="code"><code class="activation-code">{code}</code></p>
                <p>{t_string!(i18n, citizen_code_until, until = until).to_string()}</p>
            </div>
        }
        .into_any(),
        Notice::ImportRefused(problems) => view! {
            <div class="error import-problems" role="alert">
                <p>{t!(i18n, import_refused)}</p>
                <ul>
                    {problems.into_iter().map(|p| {
                        let message = match i18n.get_locale() {
                            crate::i18n::Locale::en => p.message_en,
                            crate::i18n::Locale::es_MX => p.message_es,
                        };
                        let place = match (p.line, p.column.is_empty()) {
                            (0, true) => String::new(),
                            (0, false) => format!("{}: ", p.column),
                            (line, true) => format!("{line}: "),
                            (line, false) => format!("{line}, {}: ", p.column),
                        };
                        view! { <li data-code=p.code>{place}{message}</li> }
                    }).collect_view()}
                </ul>
            </div>
        }
        .into_any(),
        // Shown by the registry and portal pages where they belong.
        Notice::Found(_) | Notice::Candidates(_) | Notice::Revealed { .. } | Notice::Tracked(_) | Notice::Screened(_) | Notice::AccountActive => ().into_any(),
    });
    // The error summary: each error links to its field (WCAG 3.3.1), read out on arrival.
    let errors = state.errors;
    view! {
        {has_errors.then(|| view! {
            <div class="error error-summary" role="alert">
                <p>{t!(i18n, error_validation)}</p>
                <ul>
                    {errors.into_iter().map(|e| view! {
                        <li><a href=format!("#f-{}", e.field)>{super::form_state::field_message(i18n, &e.code)}</a></li>
                    }).collect_view()}
                </ul>
            </div>
        })}
        {notice}
    }
}

/// `/entrar`: staff sign-in.
#[component]
pub fn SignInPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let demo = Resource::new(|| (), |_| api::demo_accounts());
    view! {
        <h1>{t!(i18n, signin_title)}</h1>
        <NoticeBox state=state.clone() />
        <form method="post" action="/entrar" class="stack" novalidate>
            <CsrfField />
            <Field name="username" label=t_string!(i18n, field_username).to_owned() autocomplete="username" state=state.clone() />
            <Field name="password" label=t_string!(i18n, field_password).to_owned() kind="password" autocomplete="current-password" state=state.clone() />
            <button type="submit">{t!(i18n, signin_submit)}</button>
        </form>
        <p><a href="/activar">{t!(i18n, signin_have_token)}</a></p>
        <Suspense>
            {move || Suspend::new(async move {
                let accounts = demo.await.unwrap_or_default();
                (!accounts.is_empty()).then(|| view! {
                    <section class="demo" aria-labelledby="demo-title">
                        <h2 id="demo-title">{t!(i18n, demo_title)}</h2>
                        <p>{t!(i18n, demo_intro)}</p>
                        <table>
                            <thead><tr><th>{t!(i18n, field_username)}</th><th>{t!(i18n, field_password)}</th></tr></thead>
                            <tbody>
                                {accounts.into_iter().map(|(u, p)| view! { <tr><td><code>{u}</code></td><td><code>{p}</code></td></tr> }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                })
            })}
        </Suspense>
    }
}

/// `/activar`: choose a password with a one-time token.
#[component]
pub fn ActivatePage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    view! {
        <h1>{t!(i18n, activate_title)}</h1>
        <p class="lead">{t!(i18n, activate_intro)}</p>
        <NoticeBox state=state.clone() />
        <form method="post" action="/activar" class="stack" novalidate>
            <CsrfField />
            <Field name="username" label=t_string!(i18n, field_username).to_owned() autocomplete="username" state=state.clone() />
            <Field name="token" label=t_string!(i18n, field_token).to_owned() autocomplete="off" state=state.clone() />
            <Field name="password" label=t_string!(i18n, field_new_password).to_owned() kind="password" autocomplete="new-password"
                hint=t_string!(i18n, password_rules).to_owned() state=state.clone() />
            <Field name="confirm" label=t_string!(i18n, field_confirm).to_owned() kind="password" autocomplete="new-password" state=state.clone() />
            <button type="submit">{t!(i18n, activate_submit)}</button>
        </form>
    }
}

/// `/cuenta`: one's own account — change the password, sign out.
#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    view! {
        <h1>{t!(i18n, account_title)}</h1>
        {use_me().map(|m: Me| view! {
            <p>{m.display_name} " · " <code>{m.username}</code> " · " {role_name(i18n, m.role)}</p>
        })}
        <h2>{t!(i18n, account_change_password)}</h2>
        <NoticeBox state=state.clone() />
        <form method="post" action="/cuenta" class="stack" novalidate>
            <CsrfField />
            <Field name="current" label=t_string!(i18n, field_current_password).to_owned() kind="password" autocomplete="current-password" state=state.clone() />
            <Field name="password" label=t_string!(i18n, field_new_password).to_owned() kind="password" autocomplete="new-password"
                hint=t_string!(i18n, password_rules).to_owned() state=state.clone() />
            <Field name="confirm" label=t_string!(i18n, field_confirm).to_owned() kind="password" autocomplete="new-password" state=state.clone() />
            <button type="submit">{t!(i18n, account_change_submit)}</button>
        </form>
    }
}

/// The sign-out button (a form: signing out changes state, so it is never a GET).
#[component]
pub fn SignOutButton() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form method="post" action="/salir" class="inline">
            <CsrfField />
            <button type="submit" class="link">{t!(i18n, signout)}</button>
        </form>
    }
}

fn staff_table(
    i18n: I18nContext<Locale>,
    rows: Vec<StaffRow>,
    link: &'static str,
) -> impl IntoView {
    view! {
        <table class="staff">
            <thead>
                <tr>
                    <th>{t!(i18n, field_username)}</th>
                    <th>{t!(i18n, field_display_name)}</th>
                    <th>{t!(i18n, field_role)}</th>
                    <th>{t!(i18n, field_agency)}</th>
                    <th>{t!(i18n, field_office)}</th>
                    <th>{t!(i18n, staff_status)}</th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|r| {
                    let href = format!("{link}/{}", r.id);
                    let status = if r.disabled { t_string!(i18n, staff_disabled) } else if r.has_password { t_string!(i18n, staff_active) } else { t_string!(i18n, staff_pending) };
                    view! {
                        <tr data-staff=r.username.clone()>
                            <td><a href=href>{r.username.clone()}</a></td>
                            <td>{r.display_name}</td>
                            <td>{role_name(i18n, r.role)}</td>
                            <td>{r.agency.unwrap_or_default()}</td>
                            <td>{r.office.unwrap_or_default()}</td>
                            <td>{status}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Renders a resource's error with its status.
pub fn failure(error: crate::error::AppError) -> AnyView {
    set_http_status(error.status());
    view! { <ErrorMessage error /> }.into_any()
}

/// `/oficina`: the caller's office (and, for supervisors, its staff).
#[component]
pub fn OfficePage() -> impl IntoView {
    let i18n = use_i18n();
    let me = use_me();
    let sees_staff = me
        .as_ref()
        .is_some_and(|m| m.permissions.contains(&Permission::ViewOfficeStaff));
    let refers = me.is_some_and(|m| m.permissions.contains(&Permission::ReferPeople));
    // One resource per page: its loads run one after the other, inside one `<Suspense>`.
    let data = Resource::new(
        || (),
        move |_| async move {
            let office = api::office().await?;
            let referrals = if refers {
                Some(crate::tracking::api::referrals().await?)
            } else {
                None
            };
            let staff = if sees_staff {
                Some((
                    api::office_staff().await?,
                    crate::tracking::api::office_escalations().await?,
                    crate::tracking::api::office_workload().await?,
                ))
            } else {
                None
            };
            Ok::<_, crate::error::AppError>((office, staff, referrals))
        },
    );
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((o, rows, referrals)) => view! {
                        <h1>{t!(i18n, area_office_title)}</h1>
                        <p class="lead">{o.name} " (" {o.code} ")" {o.borough.map(|b| format!(" · {b}"))}</p>
                        <p class="notice">{t!(i18n, office_next)}</p>
                        <p><a href="/oficina/personas">{t!(i18n, people_title)}</a> " · " <a href="/oficina/alcance">{t!(i18n, outreach_title)}</a></p>
                        {referrals.map(|r| crate::tracking::pages::referrals_section(i18n, r, false))}
                        {rows.map(|(rows, escalations, workload)| view! {
                            {crate::tracking::pages::escalations_section(i18n, escalations, false)}
                            {crate::tracking::pages::workload_section(i18n, workload, false)}
                            <p><a href="/oficina/duplicados">{t!(i18n, duplicates_link)}</a></p>
                            <h2>{t!(i18n, office_staff_title)}</h2> {staff_table(i18n, rows, "/oficina/personal")}
                        })}
                    }.into_any(),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}

/// The `{id}` of the current route (0 when missing or not a number: the server answers 404).
pub(crate) fn id_param() -> Memo<i32> {
    let params = use_params_map();
    Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    })
}

/// `/oficina/personal/{id}`: one member of the supervisor's office.
#[component]
pub fn OfficeStaffPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let member = Resource::new(move || id.get(), api::office_staff_member);
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match member.await {
                    Ok(r) => view! {
                        <h1>{r.display_name}</h1>
                        <dl>
                            <dt>{t!(i18n, field_username)}</dt><dd><code>{r.username}</code></dd>
                            <dt>{t!(i18n, field_role)}</dt><dd>{role_name(i18n, r.role)}</dd>
                            <dt>{t!(i18n, field_office)}</dt><dd>{r.office.unwrap_or_default()}</dd>
                        </dl>
                    }.into_any(),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}

/// `/agencia`: the caller's agency and its programs.
#[component]
pub fn AgencyPage() -> impl IntoView {
    let i18n = use_i18n();
    let me = use_me();
    let may_take = me
        .as_ref()
        .is_some_and(|m| m.permissions.contains(&Permission::DecideRequests));
    let is_head = me
        .as_ref()
        .is_some_and(|m| m.permissions.contains(&Permission::ViewAgencyStaff));
    let refers = me.is_some_and(|m| m.permissions.contains(&Permission::ReferPeople));
    let filter = crate::tracking::pages::queue_filter();
    let empty = use_query_map();
    let empty_notice = Memo::new(move |_| empty.read().get("vacia").is_some());
    // One resource per page: its loads run one after the other, inside one `<Suspense>`.
    let data = Resource::new(
        move || filter.get(),
        move |filter| async move {
            let agency = api::agency_programs().await?;
            let f = filter.clone();
            let queue = crate::tracking::api::agency_queue(
                f.program,
                f.status,
                f.borough,
                f.due,
                f.escalated,
            )
            .await?;
            let escalations = if is_head {
                Some((
                    crate::tracking::api::agency_escalations().await?,
                    crate::tracking::api::agency_workload().await?,
                ))
            } else {
                None
            };
            let referrals = if refers {
                Some(crate::tracking::api::referrals().await?)
            } else {
                None
            };
            Ok::<_, crate::error::AppError>((agency, queue, escalations, referrals, filter))
        },
    );
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((a, queue, escalations, referrals, filter)) => {
                        let name = a.name.clone();
                        view! {
                            <h1>{t!(i18n, area_agency_title)}</h1>
                            <p class="lead">{move || name.get(i18n.get_locale()).to_owned()} " (" {a.code} ")"</p>
                            {escalations.map(|(e, w)| view! {
                                {crate::tracking::pages::escalations_section(i18n, e, true)}
                                {crate::tracking::pages::workload_section(i18n, w, true)}
                            })}
                            {crate::tracking::pages::queue_section(i18n, queue, filter, may_take, empty_notice.get_untracked())}
                            {referrals.map(|r| crate::tracking::pages::referrals_section(i18n, r, true))}
                            <h2>{t!(i18n, agency_programs_title)}</h2>
                            <ul class="programs">
                                {a.programs.into_iter().map(|p| {
                                    let href = format!("/agencia/programas/{}", p.code);
                                    let name = p.name.clone();
                                    view! { <li data-program=p.code.clone()><a href=href>{move || name.get(i18n.get_locale()).to_owned()}</a> " " <span class="code">{p.code.clone()}</span></li> }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}

/// `/agencia/programas/{code}`: one program of the caller's agency.
#[component]
pub fn AgencyProgramPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let code = Memo::new(move |_| params.read().get("code").unwrap_or_default());
    let program = Resource::new(move || code.get(), api::get_agency_program);
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match program.await {
                    Ok(p) => {
                        let (name, eligibility, benefit) = (p.name.clone(), p.eligibility.clone(), p.benefit.clone());
                        view! {
                            <h1>{move || name.get(i18n.get_locale()).to_owned()} " " <span class="code">{p.code.clone()}</span></h1>
                            {(!p.verified).then(|| view! { <p class="unverified">{t!(i18n, program_not_verified)}</p> })}
                            <dl>
                                <dt>{t!(i18n, program_eligibility)}</dt><dd>{move || eligibility.get(i18n.get_locale()).to_owned()}</dd>
                                <dt>{t!(i18n, program_benefit)}</dt><dd>{move || benefit.get(i18n.get_locale()).to_owned()}</dd>
                            </dl>
                        }.into_any()
                    }
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}

/// `/politica`: aggregates only.
#[component]
pub fn PolicyPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = policy_params();
    // One resource for the page (see README, known issues): the overview, the coverage map
    // and the figures by program.
    let overview = Resource::new(
        move || params.get(),
        |p| async move {
            let overview = api::get_policy_overview().await?;
            let coverage = crate::coverage::api::get_coverage(p.indicator, p.year).await?;
            let figures = crate::coverage::api::get_program_figures(p.borough).await?;
            Ok::<_, crate::error::AppError>((overview, coverage, figures))
        },
    );
    view! {
        <h1>{t!(i18n, area_policy_title)}</h1>
        <p class="notice">{t!(i18n, policy_next)}</p>
        <Suspense>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok((o, coverage, figures)) => view! {
                        {filters(i18n, &coverage, &figures.boroughs, figures.borough.as_deref())}
                        {coverage_section(i18n, coverage, figures.borough.clone())}
                        {figures_section(i18n, figures)}
                        <h2>{t!(i18n, policy_programs_by_agency)}</h2>
                        <table>
                            <tbody>
                                {o.programs_by_agency.into_iter().map(|(a, n)| view! { <tr><th scope="row">{a}</th><td>{n}</td></tr> }).collect_view()}
                            </tbody>
                        </table>
                        <h2>{t!(i18n, policy_staff_by_role)}</h2>
                        <table>
                            <tbody>
                                {o.staff_by_role.into_iter().map(|(r, n)| view! { <tr><th scope="row">{role_name(i18n, r)}</th><td>{n}</td></tr> }).collect_view()}
                            </tbody>
                        </table>
                        <h2 id="quality-title">{t!(i18n, policy_quality)}</h2>
                        <p class="hint">{t!(i18n, policy_quality_note)}</p>
                        {if o.service_quality.is_empty() {
                            view! { <p>{t!(i18n, policy_quality_none)}</p> }.into_any()
                        } else {
                            let locale = i18n.get_locale_untracked();
                            view! {
                                <div class="table-wrap" tabindex="0" role="region" aria-labelledby="quality-title">
                                    <table class="quality" aria-labelledby="quality-title">
                                        <thead>
                                            <tr>
                                                <th scope="col">{t!(i18n, policy_quality_program)}</th>
                                                <th scope="col">{t!(i18n, policy_quality_office)}</th>
                                                <th scope="col">{t!(i18n, policy_quality_ratings)}</th>
                                                <th scope="col">{t!(i18n, policy_quality_mean)}</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {o.service_quality.into_iter().map(|q| view! {
                                                <tr data-program=q.program_code.clone()>
                                                    <th scope="row">{q.program.get(locale).to_owned()}</th>
                                                    <td>{q.office.unwrap_or_else(|| "—".to_owned())}</td>
                                                    <td class="num">{q.ratings.map_or_else(|| "<5".to_owned(), |n| n.to_string())}</td>
                                                    <td class="num">{q.mean_tenths.map_or_else(|| "—".to_owned(), |m| format!("{}.{}", m / 10, m % 10))}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <p><a href="/politica/calificaciones.csv" download>{t!(i18n, policy_quality_csv)}</a></p>
                            }.into_any()
                        }}
                    }.into_any(),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}

/// `/admin`: the staff accounts.
#[component]
pub fn AdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let staff = Resource::new(|| (), |_| api::admin_staff());
    view! {
        <h1>{t!(i18n, area_admin_title)}</h1>
        <p>
            <a class="button" href="/admin/personal/nuevo">{t!(i18n, admin_new_staff)}</a>
            " "
            <a href="/admin/sesiones">{t!(i18n, admin_sessions_title)}</a>
            " "
            <a href="/admin/reglas">{t!(i18n, rules_title)}</a>
            " "
            <a href="/admin/indicadores">{t!(i18n, indicators_title)}</a>
            " "
            <a href="/admin/api">{t!(i18n, admin_api_title)}</a>
            " "
            <a href="/admin/importar">{t!(i18n, admin_imports_title)}</a>
        </p>
        <h2>{t!(i18n, admin_staff_title)}</h2>
        <Suspense>
            {move || Suspend::new(async move {
                match staff.await {
                    Ok(rows) => staff_table(i18n, rows, "/admin/personal").into_any(),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
    }
}

/// The role, agency and office fields of an account form.
#[component]
fn AssignmentFields(
    state: FormState,
    options: Assignable,
    role: String,
    agency: String,
    office: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = move |field: &str| {
        state.error(field).map(|code| view! { <p class="field-error">{super::form_state::field_message(i18n, &code)}</p> })
    };
    let (role_error, agency_error, office_error) =
        (error("role"), error("agency"), error("office"));
    view! {
        <div class="field">
            <label for="f-role">{t!(i18n, field_role)}</label>
            <select id="f-role" name="role">
                {Role::STAFF.into_iter().map(|r| view! { <option value=r.code() selected=r.code() == role>{role_name(i18n, r)}</option> }).collect_view()}
            </select>
            {role_error}
        </div>
        <div class="field">
            <label for="f-agency">{t!(i18n, field_agency)}</label>
            <p class="hint">{t!(i18n, hint_agency)}</p>
            <select id="f-agency" name="agency">
                <option value="">"—"</option>
                {options.agencies.into_iter().map(|c| { let v = c.id.to_string(); let sel = v == agency; view! { <option value=v selected=sel>{c.code} " · " {c.name}</option> } }).collect_view()}
            </select>
            {agency_error}
        </div>
        <div class="field">
            <label for="f-office">{t!(i18n, field_office)}</label>
            <p class="hint">{t!(i18n, hint_office)}</p>
            <select id="f-office" name="office">
                <option value="">"—"</option>
                {options.offices.into_iter().map(|c| { let v = c.id.to_string(); let sel = v == office; view! { <option value=v selected=sel>{c.name}</option> } }).collect_view()}
            </select>
            {office_error}
        </div>
    }
}

/// `/admin/personal/nuevo`: a new account; its one-time token is shown once.
#[component]
pub fn AdminNewStaffPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let options = Resource::new(|| (), |_| api::admin_options());
    view! {
        <h1>{t!(i18n, admin_new_staff)}</h1>
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    let options = match options.await {
                        Ok(options) => options,
                        Err(e) => return failure(e),
                    };
                    let (role, agency, office) = (state.value("role"), state.value("agency"), state.value("office"));
                    view! {
                        <form method="post" action="/admin/personal/nuevo" class="stack" novalidate>
                            <CsrfField />
                            <Field name="username" label=t_string!(i18n, field_username).to_owned() autocomplete="off" hint=t_string!(i18n, hint_username).to_owned() state=state.clone() />
                            <Field name="display_name" label=t_string!(i18n, field_display_name).to_owned() autocomplete="off" state=state.clone() />
                            <AssignmentFields state=state.clone() options role agency office />
                            <button type="submit">{t!(i18n, admin_create)}</button>
                        </form>
                    }
                    .into_any()
                })
            }}
        </Suspense>
        <p><a href="/admin">{t!(i18n, back_to_admin)}</a></p>
    }
}

/// `/admin/personal/{id}`: change an account's role and scope, disable or enable it, reset its
/// password.
#[component]
pub fn AdminStaffPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let id = id_param();
    let member = Resource::new(
        move || id.get(),
        |id| async move {
            Ok::<_, crate::error::AppError>((
                api::admin_staff_member(id).await?,
                api::admin_options().await?,
            ))
        },
    );
    view! {
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    match member.await {
                        Ok((d, options)) => {
                            let action = format!("/admin/personal/{}", d.row.id);
                            let pick = |field: &str, stored: String| if state.values.contains_key(field) { state.value(field) } else { stored };
                            let role = pick("role", d.row.role.code().to_owned());
                            let agency = pick("agency", d.agency_id.map(|v| v.to_string()).unwrap_or_default());
                            let office = pick("office", d.office_id.map(|v| v.to_string()).unwrap_or_default());
                            let mut shown = state.clone();
                            shown.values.entry("display_name".into()).or_insert(d.row.display_name.clone());
                            let disabled = d.row.disabled;
                            view! {
                                <h1>{d.row.display_name.clone()} " " <code>{d.row.username.clone()}</code></h1>
                                <p>{t!(i18n, admin_open_sessions, count = move || d.open_sessions)}</p>
                                <form method="post" action=action.clone() class="stack" novalidate>
                                    <CsrfField />
                                    <input type="hidden" name="action" value="save" />
                                    <input type="hidden" name="version" value=d.version.to_string() />
                                    <Field name="display_name" label=t_string!(i18n, field_display_name).to_owned() autocomplete="off" state=shown />
                                    <AssignmentFields state=state.clone() options role agency office />
                                    <button type="submit">{t!(i18n, admin_save)}</button>
                                </form>
                                <form method="post" action=action.clone() class="inline">
                                    <CsrfField />
                                    <input type="hidden" name="action" value=if disabled { "enable" } else { "disable" } />
                                    <button type="submit">{if disabled { t_string!(i18n, admin_enable) } else { t_string!(i18n, admin_disable) }}</button>
                                </form>
                                <form method="post" action=action class="inline">
                                    <CsrfField />
                                    <input type="hidden" name="action" value="reset" />
                                    <button type="submit">{t!(i18n, admin_reset)}</button>
                                </form>
                            }.into_any()
                        }
                        Err(e) => failure(e),
                    }
                })
            }}
        </Suspense>
        <p><a href="/admin">{t!(i18n, back_to_admin)}</a></p>
    }
}

/// `/admin/sesiones`: open sessions, each can be ended.
#[component]
pub fn AdminSessionsPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let sessions = Resource::new(|| (), |_| api::admin_sessions());
    view! {
        <h1>{t!(i18n, admin_sessions_title)}</h1>
        <NoticeBox state />
        <Suspense>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(rows) => view! {
                        <table class="sessions">
                            <thead><tr>
                                <th>{t!(i18n, field_username)}</th><th>{t!(i18n, field_role)}</th>
                                <th>{t!(i18n, session_started)}</th><th>{t!(i18n, session_last_seen)}</th>
                                <th>{t!(i18n, session_browser)}</th><th></th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|s| view! {
                                    <tr data-session=s.id>
                                        <td>{s.username}</td><td>{role_name(i18n, s.role)}</td>
                                        <td>{s.started}</td><td>{s.last_seen}</td>
                                        <td>{s.user_agent.unwrap_or_default()}</td>
                                        <td>
                                            <form method="post" action="/admin/sesiones" class="inline">
                                                <CsrfField />
                                                <input type="hidden" name="session" value=s.id.to_string() />
                                                <button type="submit">{t!(i18n, session_end)}</button>
                                            </form>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => failure(e),
                }
            })}
        </Suspense>
        <p><a href="/admin">{t!(i18n, back_to_admin)}</a></p>
    }
}

/// `/admin/api`: the agency systems' API clients — create one (its credential is shown once),
/// revoke one.
#[component]
pub fn AdminApiClientsPage() -> impl IntoView {
    let i18n = use_i18n();
    let state = use_form_state();
    let data = Resource::new(
        || (),
        |_| async move {
            Ok::<_, crate::error::AppError>((
                api::admin_api_clients().await?,
                api::admin_options().await?,
            ))
        },
    );
    view! {
        <h1>{t!(i18n, admin_api_title)}</h1>
        <p>{t!(i18n, admin_api_intro)} " " <a href="/api/v1/openapi.json">{t!(i18n, api_docs_link)}</a></p>
        <NoticeBox state=state.clone() />
        <Suspense>
            {move || {
                let state = state.clone();
                Suspend::new(async move {
                    let (clients, options) = match data.await {
                        Ok(d) => d,
                        Err(e) => return failure(e),
                    };
                    let agency = state.value("agency");
                    let agency_error = state.error("agency").map(|code| view! { <p class="field-error">{super::form_state::field_message(i18n, &code)}</p> });
                    let rows = if clients.is_empty() {
                        view! { <p>{t!(i18n, api_client_none)}</p> }.into_any()
                    } else {
                        view! {
                            <table class="api-clients">
                                <thead><tr>
                                    <th>{t!(i18n, api_client_name)}</th><th>{t!(i18n, field_agency)}</th>
                                    <th>{t!(i18n, api_client_key)}</th><th>{t!(i18n, api_client_expires)}</th>
                                    <th>{t!(i18n, api_client_last_used)}</th><th>{t!(i18n, api_client_state)}</th><th></th>
                                </tr></thead>
                                <tbody>
                                    {clients.into_iter().map(|c| {
                                        let status = if c.revoked {
                                            t_string!(i18n, api_client_revoked)
                                        } else if c.expired {
                                            t_string!(i18n, api_client_expired)
                                        } else {
                                            t_string!(i18n, api_client_active)
                                        };
                                        let live = !c.revoked;
                                        view! {
                                            <tr data-client=c.id>
                                                <td>{c.name}</td><td>{c.agency}</td><td><code>{c.key_id}</code></td>
                                                <td>{c.expires_at}</td><td>{c.last_used_at.unwrap_or_else(|| "—".into())}</td>
                                                <td>{status}</td>
                                                <td>
                                                    {live.then(|| view! {
                                                        <form method="post" action="/admin/api" class="inline">
                                                            <CsrfField />
                                                            <input type="hidden" name="revoke" value=c.id.to_string() />
                                                            <button type="submit" class="danger">{t!(i18n, api_client_revoke)}</button>
                                                        </form>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    };
                    view! {
                        {rows}
                        <h2>{t!(i18n, api_client_create)}</h2>
                        <form method="post" action="/admin/api" class="stack" novalidate>
                            <CsrfField />
                            <div class="field">
                                <label for="f-agency">{t!(i18n, field_agency)}</label>
                                <select id="f-agency" name="agency">
                                    <option value="">"—"</option>
                                    {options.agencies.into_iter().map(|c| { let v = c.id.to_string(); let sel = v == agency; view! { <option value=v selected=sel>{c.code} " · " {c.name}</option> } }).collect_view()}
                                </select>
                                {agency_error}
                            </div>
                            <Field name="name" label=t_string!(i18n, api_client_name).to_owned() autocomplete="off" state=state.clone() />
                            <Field name="days" label=t_string!(i18n, api_client_days).to_owned() autocomplete="off" hint=t_string!(i18n, hint_api_client_days).to_owned() state=state.clone() />
                            <button type="submit">{t!(i18n, api_client_create)}</button>
                        </form>
                    }
                    .into_any()
                })
            }}
        </Suspense>
        <p><a href="/admin">{t!(i18n, back_to_admin)}</a></p>
    }
}
