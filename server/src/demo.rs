//! Demo staff for every role (`angel seed --demo`, run by `make run`). Their passwords are
//! random per database, stored in clear in `demo_account` (demo databases only) so that the
//! sign-in page can list them, and printed by the command.

use angel_app::{
    domain::{access::Role, password},
    ssr::{
        AppState,
        audit::NewEvent,
        services::staff::{Credential, new_account},
    },
    staff::forms::ValidStaff,
};
use angel_entity::{agency, demo_account, office, staff};
use rand::Rng as _;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

/// Username, display name and role of each demo account.
const ACCOUNTS: &[(&str, &str, Role)] = &[
    ("demo.trabajo", "Demo Trabajo Social", Role::Caseworker),
    (
        "demo.supervision",
        "Demo Supervisión",
        Role::OfficeSupervisor,
    ),
    ("demo.dependencia", "Demo Dependencia", Role::AgencyStaff),
    ("demo.titular", "Demo Titular", Role::AgencyHead),
    ("demo.politica", "Demo Política Social", Role::PolicyOfficer),
    ("demo.admin", "Demo Administración", Role::Administrator),
];

/// A random password that passes the rules: five groups of four lower-case letters and digits.
fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    loop {
        let mut rng = rand::rng();
        let groups: Vec<String> = (0..5)
            .map(|_| {
                (0..4)
                    .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                    .collect()
            })
            .collect();
        let candidate = groups.join("-");
        if password::check(&candidate, &[]).is_ok() {
            return candidate;
        }
    }
}

/// Creates the missing demo accounts; returns every demo username with its password.
///
/// # Errors
/// Database and hashing errors; a database without offices or agencies (run `angel seed`).
pub async fn seed(state: &AppState) -> anyhow::Result<Vec<(String, String)>> {
    let office = office::Entity::find()
        .order_by_asc(office::Column::Code)
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no offices: run `angel seed` first"))?;
    let agency = agency::Entity::find()
        .filter(agency::Column::Code.eq("SEDESO"))
        .one(&state.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no SEDESO agency: run `angel seed` first"))?;
    let now = state.clock.now();
    for (username, name, role) in ACCOUNTS {
        let exists = staff::Entity::find()
            .filter(staff::Column::Username.eq(*username))
            .one(&state.db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let secret = random_password();
        let hash = state.hasher.hash(&secret).await?;
        let (agency_id, office_id) = match role.anchor() {
            angel_app::domain::access::Anchor::Office => (None, Some(office.id)),
            angel_app::domain::access::Anchor::Agency => (Some(agency.id), None),
            _ => (None, None),
        };
        let tx = state.audit.begin(&state.db).await?;
        let valid = ValidStaff {
            username: (*username).to_owned(),
            display_name: (*name).to_owned(),
            role: *role,
            agency_id,
            office_id,
        };
        let created = new_account(&valid, Credential::Password(hash), now)
            .insert(&*tx)
            .await?;
        demo_account::ActiveModel {
            username: Set((*username).to_owned()),
            password: Set(secret),
        }
        .insert(&*tx)
        .await?;
        tx.record(
            NewEvent::new("staff.created", now)
                .subject("staff", created.id)
                .detail(serde_json::json!({ "role": role.code(), "demo": true })),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(demo_account::Entity::find()
        .order_by_asc(demo_account::Column::Username)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|d| (d.username, d.password))
        .collect())
}
