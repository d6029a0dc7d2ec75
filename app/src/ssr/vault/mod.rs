//! The identity vault: every ID number, street address and phone is stored only as an
//! XChaCha20-Poly1305 envelope, and found only through a keyed blind index.
//!
//! Envelope: `format (1 byte) ‖ key version (u32, big endian) ‖ nonce (24 random bytes) ‖
//! ciphertext+tag`. The associated data binds it to where it is stored — table, column, row id
//! and key version — so an envelope copied to another row, column or version does not open.
//! Each (table, column) has its own key, derived with HKDF-SHA256 from the versioned root key.
//! Blind index: HMAC-SHA256 of the normalized value under a key derived from the ring's separate
//! blind-index key, per identifier kind.

pub mod keys;
pub mod rotate;

use std::{fmt, sync::Arc};

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sha2::Sha256;
use zeroize::Zeroizing;

pub use keys::{KeyError, KeyRing};

/// The envelope layout version.
const FORMAT: u8 = 1;
const HEADER: usize = 1 + 4 + 24;
const TAG: usize = 16;

/// Where an envelope lives: bound into its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row_id: i64,
}

impl<'a> Slot<'a> {
    pub fn new(table: &'a str, column: &'a str, row_id: i64) -> Slot<'a> {
        Slot {
            table,
            column,
            row_id,
        }
    }
}

/// Why an envelope did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// Not an envelope of a format this build knows.
    #[error("malformed envelope")]
    Malformed,
    /// Sealed with a key version the ring does not hold.
    #[error("key version {0} is not in the key ring")]
    UnknownVersion(u32),
    /// The tag did not verify: tampered, moved to another row, or a wrong key.
    #[error("envelope failed authentication")]
    Integrity,
}

/// Seals and opens envelopes, computes blind indexes. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    ring: Arc<KeyRing>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault").field("ring", &self.ring).finish()
    }
}

fn associated_data(slot: Slot<'_>, version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + slot.table.len() + slot.column.len());
    aad.extend_from_slice(b"angel-vault\0");
    aad.extend_from_slice(slot.table.as_bytes());
    aad.push(0);
    aad.extend_from_slice(slot.column.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&slot.row_id.to_be_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

fn derive(root: &[u8; 32], salt: &[u8], info: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(Some(salt), root);
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf.expand_multi_info(info, key.as_mut())
        .expect("32 bytes is a valid HKDF-SHA256 length");
    key
}

/// The key version an envelope was sealed with, read from its header.
pub fn envelope_version(envelope: &[u8]) -> Option<u32> {
    if envelope.len() < HEADER + TAG || envelope[0] != FORMAT {
        return None;
    }
    Some(u32::from_be_bytes(envelope[1..5].try_into().ok()?))
}

impl Vault {
    pub fn new(ring: KeyRing) -> Vault {
        Vault {
            ring: Arc::new(ring),
        }
    }

    /// The version new envelopes are sealed with.
    pub fn active_version(&self) -> u32 {
        self.ring.active()
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    fn cipher(&self, version: u32, slot: Slot<'_>) -> Result<XChaCha20Poly1305, VaultError> {
        let root = self
            .ring
            .root(version)
            .ok_or(VaultError::UnknownVersion(version))?;
        let key = derive(
            root,
            b"angel/vault/field-key/v1",
            &[slot.table.as_bytes(), b"\0", slot.column.as_bytes()],
        );
        Ok(XChaCha20Poly1305::new(key.as_ref().into()))
    }

    /// Seals with the active key version.
    pub fn seal(&self, slot: Slot<'_>, plaintext: &[u8]) -> Vec<u8> {
        self.seal_with(self.active_version(), slot, plaintext)
            .expect("the active version is always in the ring")
    }

    /// Seals with a given key version.
    ///
    /// # Errors
    /// `UnknownVersion` when the ring does not hold it.
    pub fn seal_with(
        &self,
        version: u32,
        slot: Slot<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        let cipher = self.cipher(version, slot)?;
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &associated_data(slot, version),
                },
            )
            .map_err(|_| VaultError::Integrity)?;
        let mut envelope = Vec::with_capacity(HEADER + sealed.len());
        envelope.push(FORMAT);
        envelope.extend_from_slice(&version.to_be_bytes());
        envelope.extend_from_slice(&nonce);
        envelope.extend_from_slice(&sealed);
        Ok(envelope)
    }

    /// Opens an envelope stored at `slot`.
    ///
    /// # Errors
    /// `Malformed`, `UnknownVersion` or `Integrity` (tampered, moved, or a wrong key).
    pub fn open(&self, slot: Slot<'_>, envelope: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let version = envelope_version(envelope).ok_or(VaultError::Malformed)?;
        let cipher = self.cipher(version, slot)?;
        cipher
            .decrypt(
                XNonce::from_slice(&envelope[5..HEADER]),
                Payload {
                    msg: &envelope[HEADER..],
                    aad: &associated_data(slot, version),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Integrity)
    }

    /// Opens an envelope holding UTF-8 text.
    ///
    /// # Errors
    /// As [`Vault::open`]; text that is not UTF-8 is `Malformed`.
    pub fn open_text(
        &self,
        slot: Slot<'_>,
        envelope: &[u8],
    ) -> Result<Zeroizing<String>, VaultError> {
        let bytes = self.open(slot, envelope)?;
        String::from_utf8(bytes.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Malformed)
    }

    /// The keyed blind index of an already normalized value of one kind (`curp`, `ine`…).
    /// Independent of the key version: rotation never changes it.
    pub fn blind_index(&self, kind: &str, normalized: &str) -> Vec<u8> {
        let key = derive(
            self.ring.blind_index_key(),
            b"angel/vault/blind-index/v1",
            &[kind.as_bytes()],
        );
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()).expect("HMAC takes any key");
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

// ---------------------------------------------------------------------------------------------
// The canary: one row per key version, sealed at creation, opened at every start. A missing or
// wrong key fails here, before the server listens or a command writes anything.

const CANARY: &[u8] = b"angel vault canary";
const CANARY_TABLE: &str = "vault_canary";

/// Why the vault refused to start.
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    #[error(
        "the database holds encrypted data sealed with key version {0}, which the key ring does not have; refusing to start"
    )]
    MissingVersion(u32),
    #[error(
        "the key ring does not open this database's canary (key version {0}): wrong key; refusing to start"
    )]
    WrongKey(u32),
    #[error(
        "the blind-index key does not match the one this database was created with; refusing to start"
    )]
    WrongBlindKey,
    #[error(
        "the database holds encrypted data but no canary: it cannot be checked; refusing to start"
    )]
    NoCanary,
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Tables that hold envelopes, with the key-version column: used to tell whether a database has
/// encrypted data and which versions are in use.
pub const SEALED_TABLES: [&str; 4] = [
    "person_identifier",
    "person_contact",
    "case_note",
    "feedback",
];

/// The column label a case note's body is sealed under: its sensitivity is part of the
/// associated data, so a restricted note relabelled `general` in the database no longer opens.
pub fn note_slot(sensitivity: &str) -> &'static str {
    if sensitivity == "restricted" {
        "body.restricted"
    } else {
        "body.general"
    }
}

fn canary_slot(version: u32) -> Slot<'static> {
    Slot::new(CANARY_TABLE, "envelope", i64::from(version))
}

async fn scalar_i64(db: &impl ConnectionTrait, sql: &str) -> Result<i64, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// True when any table holds an envelope (or a canary exists): a new key ring must then never
/// be generated for this database.
///
/// # Errors
/// Database errors.
pub async fn has_encrypted_data(db: &impl ConnectionTrait) -> Result<bool, sea_orm::DbErr> {
    for table in SEALED_TABLES.iter().chain([&CANARY_TABLE]) {
        if scalar_i64(
            db,
            &format!("SELECT COUNT(*) AS n FROM (SELECT 1 FROM {table} LIMIT 1) t"),
        )
        .await?
            > 0
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Key versions used by stored envelopes, ascending.
///
/// # Errors
/// Database errors.
pub async fn versions_in_use(db: &impl ConnectionTrait) -> Result<Vec<u32>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let union = SEALED_TABLES
        .iter()
        .map(|t| format!("SELECT DISTINCT key_version AS v FROM {t}"))
        .collect::<Vec<_>>()
        .join(" UNION ");
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT DISTINCT v FROM ({union}) u ORDER BY v"),
        ))
        .await?;
    let mut versions = Vec::with_capacity(rows.len());
    for row in rows {
        let v: i32 = row.try_get("", "v")?;
        versions.push(u32::try_from(v).unwrap_or(0));
    }
    Ok(versions)
}

impl Vault {
    /// Opens every canary the ring has a key for and checks the blind-index key; creates the
    /// canary of the active version when it is missing (first start, or after a rotation).
    /// Fails closed: any doubt refuses to start.
    ///
    /// # Errors
    /// [`CanaryError`] naming what is wrong (never a key).
    pub async fn check(&self, db: &impl ConnectionTrait) -> Result<(), CanaryError> {
        let backend = db.get_database_backend();
        // A schema not migrated this far holds nothing sealed (the canary table comes with the
        // sealed tables); `angel serve` refuses pending migrations and /readyz says 503.
        let exists = match backend {
            DbBackend::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'vault_canary'"
            }
            _ => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'vault_canary'"
            }
        };
        if scalar_i64(db, exists).await? == 0 {
            tracing::warn!("schema not migrated: the vault check waits for `angel migrate`");
            return Ok(());
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT key_version, envelope, blind_check FROM {CANARY_TABLE}"),
            ))
            .await?;
        if rows.is_empty() && has_encrypted_data(db).await? {
            return Err(CanaryError::NoCanary);
        }
        let blind = self.blind_index(CANARY_TABLE, "canary");
        let mut active_present = false;
        for row in rows {
            let version = u32::try_from(row.try_get::<i32>("", "key_version")?).unwrap_or(0);
            let envelope: Vec<u8> = row.try_get("", "envelope")?;
            let blind_check: Vec<u8> = row.try_get("", "blind_check")?;
            if blind_check != blind {
                return Err(CanaryError::WrongBlindKey);
            }
            match self.open(canary_slot(version), &envelope) {
                Ok(plain) if plain.as_slice() == CANARY => {}
                Err(VaultError::UnknownVersion(_)) => {
                    // A retired version: fine as long as nothing is sealed with it.
                    if versions_in_use(db).await?.contains(&version) {
                        return Err(CanaryError::MissingVersion(version));
                    }
                    continue;
                }
                _ => return Err(CanaryError::WrongKey(version)),
            }
            active_present |= version == self.active_version();
        }
        for version in versions_in_use(db).await? {
            if self.ring.root(version).is_none() {
                return Err(CanaryError::MissingVersion(version));
            }
        }
        if !active_present {
            self.write_canary(db, self.active_version()).await?;
        }
        Ok(())
    }

    async fn write_canary(
        &self,
        db: &impl ConnectionTrait,
        version: u32,
    ) -> Result<(), sea_orm::DbErr> {
        let envelope = self
            .seal_with(version, canary_slot(version), CANARY)
            .expect("the version is in the ring");
        let blind = self.blind_index(CANARY_TABLE, "canary");
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "INSERT INTO vault_canary (key_version, envelope, blind_check) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            }
            _ => {
                "INSERT INTO vault_canary (key_version, envelope, blind_check) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
            }
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [i64::from(version).into(), envelope.into(), blind.into()],
        ))
        .await?;
        Ok(())
    }

    /// Removes the canary of a retired version (after `angel keys retire`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn forget_canary(
        db: &impl ConnectionTrait,
        version: u32,
    ) -> Result<(), sea_orm::DbErr> {
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => "DELETE FROM vault_canary WHERE key_version = $1",
            _ => "DELETE FROM vault_canary WHERE key_version = ?",
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [i64::from(version).into()],
        ))
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::new(KeyRing::generate())
    }

    const SLOT: Slot<'static> = Slot {
        table: "person_identifier",
        column: "curp",
        row_id: 7,
    };

    #[test]
    fn round_trips_and_every_envelope_is_different() {
        let v = vault();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let envelope = v.seal(SLOT, b"GODE561231HDFRRN00");
            assert_eq!(
                v.open(SLOT, &envelope).unwrap().as_slice(),
                b"GODE561231HDFRRN00"
            );
            assert!(seen.insert(envelope));
        }
        assert_eq!(seen.len(), 10_000);
    }

    #[test]
    fn a_moved_or_altered_envelope_does_not_open() {
        let v = vault();
        let envelope = v.seal(SLOT, b"GODE561231HDFRRN00");
        for other in [
            Slot { row_id: 8, ..SLOT },
            Slot {
                column: "nss",
                ..SLOT
            },
            Slot {
                table: "person_contact",
                ..SLOT
            },
        ] {
            assert_eq!(v.open(other, &envelope), Err(VaultError::Integrity));
        }
        for bit in 0..envelope.len() * 8 {
            let mut flipped = envelope.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(
                v.open(SLOT, &flipped).is_err(),
                "bit {bit} flipped still opens"
            );
        }
        assert_eq!(v.open(SLOT, &envelope[..10]), Err(VaultError::Malformed));
        // Another ring (a wrong key) does not open it either.
        assert_eq!(vault().open(SLOT, &envelope), Err(VaultError::Integrity));
    }

    #[test]
    fn versions_are_kept_apart() {
        let mut ring = KeyRing::generate();
        let v1 = Vault::new(ring.clone());
        let old = v1.seal(SLOT, b"x");
        ring.add_version();
        let v2 = Vault::new(ring.clone());
        assert_eq!(envelope_version(&old), Some(1));
        assert_eq!(envelope_version(&v2.seal(SLOT, b"x")), Some(2));
        assert_eq!(v2.open(SLOT, &old).unwrap().as_slice(), b"x");
        // The version byte is authenticated: relabelling an envelope fails.
        let mut relabelled = old.clone();
        relabelled[4] = 2;
        assert_eq!(v2.open(SLOT, &relabelled), Err(VaultError::Integrity));
        ring.remove_version(1).unwrap();
        assert_eq!(
            Vault::new(ring).open(SLOT, &old),
            Err(VaultError::UnknownVersion(1))
        );
    }

    #[test]
    fn blind_indexes_are_keyed_per_kind_and_stable_across_versions() {
        let mut ring = KeyRing::generate();
        let a = Vault::new(ring.clone()).blind_index("curp", "GODE561231HDFRRN00");
        ring.add_version();
        assert_eq!(
            Vault::new(ring).blind_index("curp", "GODE561231HDFRRN00"),
            a
        );
        assert_eq!(a.len(), 32);
        let other = vault();
        assert_ne!(other.blind_index("curp", "GODE561231HDFRRN00"), a);
        assert_ne!(
            other.blind_index("nss", "GODE561231HDFRRN00"),
            other.blind_index("curp", "GODE561231HDFRRN00")
        );
    }
}
