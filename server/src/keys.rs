//! The vault's keys as an operator handles them: loading (key file or `ANGEL_KEYS`), the
//! canary check every command runs first, `angel keygen`, `angel keys rotate|retire|status`.

use std::path::Path;

use angel_app::ssr::vault::{self, KeyError, KeyRing, Vault, rotate};
use anyhow::Context as _;
use sea_orm::DatabaseConnection;

use crate::config::Settings;

/// The key ring from `ANGEL_KEYS` or the key file.
///
/// # Errors
/// A missing, unreadable, world-readable or malformed ring.
pub fn key_ring(settings: &Settings) -> Result<KeyRing, KeyError> {
    match &settings.keys_from_env {
        Some(text) => KeyRing::from_json(&text.0),
        None => KeyRing::load(&settings.key_file),
    }
}

/// The vault for this database: keys loaded, canary opened. Fails closed.
///
/// # Errors
/// Missing or wrong keys, or a database error.
pub async fn open_vault(db: &DatabaseConnection, settings: &Settings) -> anyhow::Result<Vault> {
    let vault = Vault::new(key_ring(settings)?);
    vault
        .check(db)
        .await
        .context("the vault's key check failed")?;
    Ok(vault)
}

/// `angel keygen`: creates the key file (mode 0600). With `if_missing`, an existing file (or
/// `ANGEL_KEYS`) is fine and nothing happens. Never creates keys for a database that already
/// holds encrypted data: those would not open it.
///
/// # Errors
/// An existing file (without `if_missing`), encrypted data without keys, I/O.
pub async fn keygen(
    db: &DatabaseConnection,
    settings: &Settings,
    if_missing: bool,
) -> anyhow::Result<String> {
    if settings.keys_from_env.is_some() {
        anyhow::ensure!(
            if_missing,
            "ANGEL_KEYS is set: the keys come from the environment, no key file is needed"
        );
        return Ok("keys: from ANGEL_KEYS".to_owned());
    }
    let path = &settings.key_file;
    if path.exists() {
        anyhow::ensure!(
            if_missing,
            "a key file already exists at {}; it is never overwritten",
            path.display()
        );
        return Ok(format!("keys: {} (present)", path.display()));
    }
    anyhow::ensure!(
        !vault::has_encrypted_data(db).await?,
        "the database already holds encrypted data but {} is missing: restore the key file \
         (or set ANGEL_KEYS); new keys would not open it",
        path.display()
    );
    let ring = KeyRing::generate();
    ring.create_file(path)?;
    Vault::new(ring).check(db).await?;
    Ok(format!(
        "keys: created {} (mode 0600); back it up apart from the database",
        path.display()
    ))
}

fn key_file_for_change(settings: &Settings) -> anyhow::Result<&Path> {
    anyhow::ensure!(
        settings.keys_from_env.is_none(),
        "the keys come from ANGEL_KEYS: change them where they are kept (rotation and retirement \
         rewrite a key file; point ANGEL_KEY_FILE at a copy to run them)"
    );
    Ok(&settings.key_file)
}

/// `angel keys rotate`: adds a new active key version, then re-seals every envelope with it in
/// resumable batches. When a previous rotation was interrupted (rows still on an older version)
/// it resumes that one instead of adding another version.
///
/// # Errors
/// Missing or wrong keys, an envelope that does not open, database or I/O errors.
pub async fn rotate(db: &DatabaseConnection, settings: &Settings) -> anyhow::Result<String> {
    let path = key_file_for_change(settings)?;
    let mut vault = open_vault(db, settings).await?;
    let left = rotate::pending(&vault, db).await?;
    let added = if left == 0 {
        let mut ring = vault.ring().clone();
        let version = ring.add_version();
        ring.replace_file(path)?;
        vault = Vault::new(ring);
        vault.check(db).await?;
        Some(version)
    } else {
        None
    };
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message("re-sealing");
    let progress = rotate::reencrypt(&vault, db, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    let in_use = vault::versions_in_use(db).await?;
    let head = match added {
        Some(v) => format!("keys: version {v} added and active"),
        None => format!(
            "keys: resumed the rotation to version {}",
            vault.active_version()
        ),
    };
    Ok(format!(
        "{head}; {} re-sealed, {} changed meanwhile (run again); versions in use: {in_use:?}; \
         ring: {:?}",
        progress.resealed,
        progress.skipped,
        vault.ring().versions()
    ))
}

/// `angel keys retire VERSION`: removes an old version from the ring once nothing uses it.
///
/// # Errors
/// The active version, one still in use, missing or wrong keys, I/O.
pub async fn retire(
    db: &DatabaseConnection,
    settings: &Settings,
    version: u32,
) -> anyhow::Result<String> {
    let path = key_file_for_change(settings)?;
    let vault = open_vault(db, settings).await?;
    anyhow::ensure!(
        !vault::versions_in_use(db).await?.contains(&version),
        "key version {version} still seals data: run `angel keys rotate` until it is done"
    );
    let mut ring = vault.ring().clone();
    ring.remove_version(version)?;
    ring.replace_file(path)?;
    Vault::forget_canary(db, version).await?;
    Ok(format!(
        "keys: version {version} removed; ring: {:?}",
        ring.versions()
    ))
}

/// `angel keys status`: versions in the ring and in use, rows waiting for re-encryption.
///
/// # Errors
/// Missing or wrong keys, database errors.
pub async fn status(db: &DatabaseConnection, settings: &Settings) -> anyhow::Result<String> {
    let vault = open_vault(db, settings).await?;
    Ok(format!(
        "keys: active version {}; ring {:?}; in use {:?}; {} rows on older versions",
        vault.active_version(),
        vault.ring().versions(),
        vault::versions_in_use(db).await?,
        rotate::pending(&vault, db).await?
    ))
}
