//! The key ring: versioned 256-bit root keys (one active) and the blind-index key, read from a
//! key file (mode 0600, in the data directory) or from the `ANGEL_KEYS` environment variable.
//! Keys never enter the database, the logs or the repository; `Debug` shows versions only.
//!
//! The file is JSON so that operators can inspect its structure:
//! `{"format":1,"active":2,"blind_index":"<base64>","roots":{"1":"<base64>","2":"<base64>"}}`.

use std::{collections::BTreeMap, fmt, io::Write as _, path::Path};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A 256-bit secret, wiped from memory when dropped.
pub type Secret = Zeroizing<[u8; 32]>;

/// The versioned root keys and the blind-index key.
#[derive(Clone)]
pub struct KeyRing {
    active: u32,
    roots: BTreeMap<u32, Secret>,
    blind_index: Secret,
}

/// Why a key ring could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no key file at {0} (create one with `angel keygen`, or set ANGEL_KEYS); refusing to run without keys"
    )]
    Missing(String),
    #[error("the key file {path} is readable by other users (mode {mode:o}); chmod 600 it")]
    Permissions { path: String, mode: u32 },
    #[error("the key ring is malformed: {0}")]
    Malformed(&'static str),
    #[error("a key file already exists at {0}; it is never overwritten")]
    Exists(String),
    #[error("key file I/O: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: u8,
    active: u32,
    blind_index: String,
    roots: BTreeMap<String, String>,
}

fn random_secret() -> Secret {
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(key.as_mut());
    key
}

fn decode_secret(text: &str) -> Result<Secret, KeyError> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::Malformed("a key is not base64"))?,
    );
    let array: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyError::Malformed("a key is not 32 bytes"))?;
    Ok(Zeroizing::new(array))
}

impl KeyRing {
    /// A new ring: version 1 active, fresh random keys.
    pub fn generate() -> KeyRing {
        KeyRing {
            active: 1,
            roots: BTreeMap::from([(1, random_secret())]),
            blind_index: random_secret(),
        }
    }

    /// The version new envelopes are sealed with.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// Every version in the ring, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.roots.keys().copied().collect()
    }

    pub(super) fn root(&self, version: u32) -> Option<&Secret> {
        self.roots.get(&version)
    }

    pub(super) fn blind_index_key(&self) -> &Secret {
        &self.blind_index
    }

    /// Adds a new random root key and makes it active; returns its version. The blind-index key
    /// does not change (every stored index would have to be recomputed from plaintext).
    pub fn add_version(&mut self) -> u32 {
        let next = self.roots.keys().max().map_or(1, |v| v + 1);
        self.roots.insert(next, random_secret());
        self.active = next;
        next
    }

    /// Drops an old version. The caller checked that no envelope uses it.
    ///
    /// # Errors
    /// `Malformed` when asked to drop the active version or one that is not in the ring.
    pub fn remove_version(&mut self, version: u32) -> Result<(), KeyError> {
        if version == self.active {
            return Err(KeyError::Malformed("the active version cannot be removed"));
        }
        self.roots
            .remove(&version)
            .map(|_| ())
            .ok_or(KeyError::Malformed("no such key version"))
    }

    /// Parses the key ring from its JSON text (the file's contents or `ANGEL_KEYS`).
    ///
    /// # Errors
    /// `Malformed` naming what is wrong; never echoes key material.
    pub fn from_json(text: &str) -> Result<KeyRing, KeyError> {
        let file: KeyFile =
            serde_json::from_str(text).map_err(|_| KeyError::Malformed("not a key ring (JSON)"))?;
        if file.format != 1 {
            return Err(KeyError::Malformed("unknown key ring format"));
        }
        let mut roots = BTreeMap::new();
        for (version, key) in &file.roots {
            let version: u32 =
                version
                    .parse()
                    .ok()
                    .filter(|v| *v > 0)
                    .ok_or(KeyError::Malformed(
                        "a key version is not a positive number",
                    ))?;
            roots.insert(version, decode_secret(key)?);
        }
        if !roots.contains_key(&file.active) {
            return Err(KeyError::Malformed("the active version has no key"));
        }
        Ok(KeyRing {
            active: file.active,
            roots,
            blind_index: decode_secret(&file.blind_index)?,
        })
    }

    /// The JSON text of the ring (held in zeroizing memory).
    pub fn to_json(&self) -> Zeroizing<String> {
        let file = KeyFile {
            format: 1,
            active: self.active,
            blind_index: STANDARD.encode(self.blind_index.as_ref()),
            roots: self
                .roots
                .iter()
                .map(|(v, k)| (v.to_string(), STANDARD.encode(k.as_ref())))
                .collect(),
        };
        let mut json = serde_json::to_string_pretty(&file).expect("a key ring serializes");
        json.push('\n');
        Zeroizing::new(json)
    }

    /// Reads a key file, refusing one that other users can read.
    ///
    /// # Errors
    /// `Missing`, `Permissions`, `Malformed` or `Io`.
    pub fn load(path: &Path) -> Result<KeyRing, KeyError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Zeroizing::new(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing(path.display().to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions {
                    path: path.display().to_string(),
                    mode,
                });
            }
        }
        KeyRing::from_json(&text)
    }

    /// Writes a new key file with mode 0600; never replaces an existing one.
    ///
    /// # Errors
    /// `Exists` when the file is there, `Io` otherwise.
    pub fn create_file(&self, path: &Path) -> Result<(), KeyError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = open_private(path, true).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => KeyError::Exists(path.display().to_string()),
            _ => e.into(),
        })?;
        file.write_all(self.to_json().as_bytes())?;
        file.sync_all()?;
        Ok(())
    }

    /// Replaces a key file atomically (write a 0600 temporary file beside it, fsync, rename), so
    /// that a crash leaves either the old ring or the new one.
    ///
    /// # Errors
    /// `Io`.
    pub fn replace_file(&self, path: &Path) -> Result<(), KeyError> {
        let tmp = path.with_extension("keys.new");
        let _ = std::fs::remove_file(&tmp);
        let mut file = open_private(&tmp, true)?;
        file.write_all(self.to_json().as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent()
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

fn open_private(path: &Path, create_new: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(create_new);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active", &self.active)
            .field("versions", &self.versions())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_and_debug_shows_no_key() {
        let mut ring = KeyRing::generate();
        ring.add_version();
        let back = KeyRing::from_json(&ring.to_json()).unwrap();
        assert_eq!(back.active(), 2);
        assert_eq!(back.versions(), vec![1, 2]);
        assert_eq!(
            back.root(1).unwrap().as_ref(),
            ring.root(1).unwrap().as_ref()
        );
        let debug = format!("{ring:?}");
        let key = STANDARD.encode(ring.root(2).unwrap().as_ref());
        assert!(!debug.contains(&key) && debug.contains("versions: [1, 2]"));
    }

    #[test]
    fn refuses_malformed_rings() {
        for (text, why) in [
            ("nonsense", "not a key ring (JSON)"),
            (
                r#"{"format":1,"active":1,"blind_index":"AAAA","roots":{"1":"AAAA"}}"#,
                "a key is not 32 bytes",
            ),
            (
                r#"{"format":1,"active":2,"blind_index":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","roots":{"1":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}"#,
                "the active version has no key",
            ),
        ] {
            match KeyRing::from_json(text) {
                Err(KeyError::Malformed(reason)) => assert_eq!(reason, why),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn key_files_are_private_and_never_overwritten() {
        let dir = tempfile_dir();
        let path = dir.join("angel.keys");
        let ring = KeyRing::generate();
        ring.create_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            assert!(matches!(
                KeyRing::generate().create_file(&path),
                Err(KeyError::Exists(_))
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                KeyRing::load(&path),
                Err(KeyError::Permissions { mode: 0o644, .. })
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut loaded = KeyRing::load(&path).unwrap();
        loaded.add_version();
        loaded.replace_file(&path).unwrap();
        assert_eq!(KeyRing::load(&path).unwrap().versions(), vec![1, 2]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("angel-keys-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
