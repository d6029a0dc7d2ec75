//! Re-encryption to the active key version, in resumable, version-checked batches.
//!
//! Each batch is one transaction: rows still on an older version are read, opened, sealed with
//! the active version and written back only if their version (and owner) did not change
//! meanwhile. A crash loses at most the batch in flight; running it again picks up what is left
//! and, once everything is on the active version, changes nothing.

use angel_entity::{case_note, feedback, person_contact, person_identifier};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, sea_query::Expr,
};

use super::{Slot, Vault, VaultError, note_slot};
use crate::ssr::services::citizen::FEEDBACK_TABLE;

/// Rows per transaction.
pub const BATCH: u64 = 500;

/// What a re-encryption pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Rows (identifiers and contact records) still on an older version when the pass started.
    pub total: u64,
    /// Rows re-sealed by this pass.
    pub resealed: u64,
    /// Rows skipped because someone changed them meanwhile (picked up by the next pass).
    pub skipped: u64,
}

/// Why re-encryption stopped.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{table} row {row}: {error}")]
    Envelope {
        table: &'static str,
        row: i64,
        error: VaultError,
    },
}

/// Rows not yet on the active version.
///
/// # Errors
/// Database errors.
pub async fn pending(vault: &Vault, db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    let active = active(vault);
    let identifiers = person_identifier::Entity::find()
        .filter(person_identifier::Column::KeyVersion.ne(active))
        .count(db)
        .await?;
    let contacts = person_contact::Entity::find()
        .filter(person_contact::Column::KeyVersion.ne(active))
        .count(db)
        .await?;
    let notes = case_note::Entity::find()
        .filter(case_note::Column::KeyVersion.ne(active))
        .count(db)
        .await?;
    let ratings = feedback::Entity::find()
        .filter(feedback::Column::KeyVersion.ne(active))
        .count(db)
        .await?;
    Ok(identifiers + contacts + notes + ratings)
}

fn active(vault: &Vault) -> i32 {
    i32::try_from(vault.active_version()).expect("key versions are small")
}

/// Re-seals every envelope on an older version with the active one; `report(done, total)` is
/// called after each batch (the CLI draws a progress bar with it).
///
/// # Errors
/// Database errors, or an envelope that does not open (tampered data is never re-sealed).
pub async fn reencrypt(
    vault: &Vault,
    db: &DatabaseConnection,
    mut report: impl FnMut(u64, u64),
) -> Result<Progress, RotateError> {
    let mut progress = Progress {
        total: pending(vault, db).await?,
        ..Progress::default()
    };
    report(0, progress.total);
    let new = active(vault);
    // Identifiers.
    let mut after = 0;
    loop {
        let tx = db.begin().await?;
        let rows = person_identifier::Entity::find()
            .filter(person_identifier::Column::KeyVersion.ne(new))
            .filter(person_identifier::Column::Id.gt(after))
            .order_by_asc(person_identifier::Column::Id)
            .limit(BATCH)
            .all(&tx)
            .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.id;
        for row in rows {
            let slot = Slot::new("person_identifier", &row.kind, i64::from(row.person_id));
            let plain = vault
                .open(slot, &row.envelope)
                .map_err(|error| RotateError::Envelope {
                    table: "person_identifier",
                    row: i64::from(row.id),
                    error,
                })?;
            let sealed = vault.seal(slot, &plain);
            let result = person_identifier::Entity::update_many()
                .col_expr(person_identifier::Column::Envelope, Expr::value(sealed))
                .col_expr(person_identifier::Column::KeyVersion, Expr::value(new))
                .filter(person_identifier::Column::Id.eq(row.id))
                .filter(person_identifier::Column::KeyVersion.eq(row.key_version))
                .filter(person_identifier::Column::PersonId.eq(row.person_id))
                .exec(&tx)
                .await?;
            count(&mut progress, result.rows_affected);
        }
        tx.commit().await?;
        report(progress.resealed + progress.skipped, progress.total);
    }
    // Contact records.
    let mut after = 0;
    loop {
        let tx = db.begin().await?;
        let rows = person_contact::Entity::find()
            .filter(person_contact::Column::KeyVersion.ne(new))
            .filter(person_contact::Column::PersonId.gt(after))
            .order_by_asc(person_contact::Column::PersonId)
            .limit(BATCH)
            .all(&tx)
            .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.person_id;
        for row in rows {
            let reseal = |column: &str, envelope: &Option<Vec<u8>>| {
                envelope
                    .as_ref()
                    .map(|envelope| {
                        let slot = Slot::new("person_contact", column, i64::from(row.person_id));
                        vault
                            .open(slot, envelope)
                            .map(|plain| vault.seal(slot, &plain))
                            .map_err(|error| RotateError::Envelope {
                                table: "person_contact",
                                row: i64::from(row.person_id),
                                error,
                            })
                    })
                    .transpose()
            };
            let street = reseal("street", &row.street_envelope)?;
            let phone = reseal("phone", &row.phone_envelope)?;
            let result = person_contact::Entity::update_many()
                .col_expr(person_contact::Column::StreetEnvelope, Expr::value(street))
                .col_expr(person_contact::Column::PhoneEnvelope, Expr::value(phone))
                .col_expr(person_contact::Column::KeyVersion, Expr::value(new))
                .filter(person_contact::Column::PersonId.eq(row.person_id))
                .filter(person_contact::Column::KeyVersion.eq(row.key_version))
                .exec(&tx)
                .await?;
            count(&mut progress, result.rows_affected);
        }
        tx.commit().await?;
        report(progress.resealed + progress.skipped, progress.total);
    }
    // Case notes.
    let mut after = 0;
    loop {
        let tx = db.begin().await?;
        let rows = case_note::Entity::find()
            .filter(case_note::Column::KeyVersion.ne(new))
            .filter(case_note::Column::Id.gt(after))
            .order_by_asc(case_note::Column::Id)
            .limit(BATCH)
            .all(&tx)
            .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.id;
        for row in rows {
            let column = note_slot(&row.sensitivity);
            let slot = Slot::new("case_note", column, i64::from(row.id));
            let plain = vault
                .open(slot, &row.body)
                .map_err(|error| RotateError::Envelope {
                    table: "case_note",
                    row: i64::from(row.id),
                    error,
                })?;
            let result = case_note::Entity::update_many()
                .col_expr(
                    case_note::Column::Body,
                    Expr::value(vault.seal(slot, &plain)),
                )
                .col_expr(case_note::Column::KeyVersion, Expr::value(new))
                .filter(case_note::Column::Id.eq(row.id))
                .filter(case_note::Column::KeyVersion.eq(row.key_version))
                .filter(case_note::Column::Sensitivity.eq(row.sensitivity.clone()))
                .exec(&tx)
                .await?;
            count(&mut progress, result.rows_affected);
        }
        tx.commit().await?;
        report(progress.resealed + progress.skipped, progress.total);
    }
    // Feedback comments (a rating without one only moves to the new version).
    let mut after = 0;
    loop {
        let tx = db.begin().await?;
        let rows = feedback::Entity::find()
            .filter(feedback::Column::KeyVersion.ne(new))
            .filter(feedback::Column::Id.gt(after))
            .order_by_asc(feedback::Column::Id)
            .limit(BATCH)
            .all(&tx)
            .await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.id;
        for row in rows {
            let slot = Slot::new(FEEDBACK_TABLE, "comment", i64::from(row.id));
            let resealed = match &row.comment {
                Some(envelope) => Some(
                    vault.seal(
                        slot,
                        &vault
                            .open(slot, envelope)
                            .map_err(|error| RotateError::Envelope {
                                table: FEEDBACK_TABLE,
                                row: i64::from(row.id),
                                error,
                            })?,
                    ),
                ),
                None => None,
            };
            let result = feedback::Entity::update_many()
                .col_expr(feedback::Column::Comment, Expr::value(resealed))
                .col_expr(feedback::Column::KeyVersion, Expr::value(new))
                .filter(feedback::Column::Id.eq(row.id))
                .filter(feedback::Column::KeyVersion.eq(row.key_version))
                .exec(&tx)
                .await?;
            count(&mut progress, result.rows_affected);
        }
        tx.commit().await?;
        report(progress.resealed + progress.skipped, progress.total);
    }
    Ok(progress)
}

fn count(progress: &mut Progress, rows_affected: u64) {
    if rows_affected == 1 {
        progress.resealed += 1;
    } else {
        progress.skipped += 1;
    }
}
