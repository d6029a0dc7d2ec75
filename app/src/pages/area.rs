//! Entry pages of the staff areas. Each area needs staff sign-in, which is not built yet: the
//! page says so plainly instead of pretending.

use leptos::prelude::*;

use crate::i18n::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Office,
    Agency,
    Policy,
    Admin,
}

#[component]
pub fn AreaPage(area: Area) -> impl IntoView {
    let i18n = use_i18n();
    let title = move || match area {
        Area::Office => t_string!(i18n, area_office_title),
        Area::Agency => t_string!(i18n, area_agency_title),
        Area::Policy => t_string!(i18n, area_policy_title),
        Area::Admin => t_string!(i18n, area_admin_title),
    };
    view! {
        <h1>{title}</h1>
        <p class="notice">{t!(i18n, area_not_ready)}</p>
    }
}
