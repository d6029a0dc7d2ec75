//! Configuration, loaded once in `main` and passed down; nothing else reads the environment.
//!
//! Precedence: command-line flag, then environment variable (clap reads both), then the
//! optional TOML file (`--config` / `ANGEL_CONFIG`), then the default.

use std::{
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use clap::Args;
use serde::Deserialize;

/// Where the server runs. Production turns on JSON logs and `Secure` cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Settings after validation.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub env: Environment,
    /// Where the built site (`pkg/angel.js`, `.wasm`, `.css`) is served from.
    pub site_root: PathBuf,
    /// Staff sessions end after this many minutes without activity (default 15).
    pub session_idle_minutes: u32,
    /// Staff sessions end this many hours after sign-in whatever the activity (default 10).
    pub session_absolute_hours: u32,
    /// Sign-in and activation posts one client IP may make in a burst (default 20), refilled
    /// one every `sign_in_ip_refill_seconds` (default 3).
    pub sign_in_ip_burst: u32,
    pub sign_in_ip_refill_seconds: u64,
    /// Calls one API client may make at once (default 120), refilled `api_per_second` (default
    /// 10) per second.
    pub api_burst: u32,
    pub api_per_second: u32,
    /// The vault's key file [default: `angel.keys` in the data directory].
    pub key_file: PathBuf,
    /// The key ring itself, from `ANGEL_KEYS` (takes precedence over the file). Never printed.
    pub keys_from_env: Option<KeysText>,
}

/// The key ring's JSON text from the environment, redacted from every `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeysText(pub String);

impl fmt::Debug for KeysText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeysText(<redacted>)")
    }
}

// The database URL may carry a password: never print it.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.database_kind())
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("env", &self.env)
            .field("site_root", &self.site_root)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("key_file", &self.key_file)
            .field("keys_from_env", &self.keys_from_env.is_some())
            .finish()
    }
}

impl Settings {
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    fn database_kind(&self) -> &'static str {
        if self.is_sqlite() {
            "sqlite"
        } else {
            "postgres"
        }
    }

    /// Settings for a server on an ephemeral port with its own SQLite file (tests, tools).
    pub fn for_data_dir(data_dir: &Path) -> Settings {
        Settings {
            database_url: sqlite_url(data_dir),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_path_buf(),
            env: Environment::Development,
            site_root: PathBuf::from("target/site"),
            session_idle_minutes: DEFAULT_IDLE_MINUTES,
            session_absolute_hours: DEFAULT_ABSOLUTE_HOURS,
            sign_in_ip_burst: 20,
            sign_in_ip_refill_seconds: 3,
            api_burst: DEFAULT_API_BURST,
            api_per_second: DEFAULT_API_PER_SECOND,
            key_file: data_dir.join(KEY_FILE),
            keys_from_env: None,
        }
    }

    /// Cookies are `Secure` and `__Host-` prefixed in production, which is served over HTTPS
    /// (TLS ends at the city's proxy); development runs on http://localhost.
    pub fn served_over_https(&self) -> bool {
        self.env == Environment::Production
    }
}

const DEFAULT_IDLE_MINUTES: u32 = 15;
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "angel.keys";
const DEFAULT_ABSOLUTE_HOURS: u32 = 10;
const DEFAULT_API_BURST: u32 = 120;
const DEFAULT_API_PER_SECOND: u32 = 10;

fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("angel.db").display())
}

/// The configuration flags every subcommand shares (`angel --help` lists them).
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// Optional TOML file with the same settings as snake_case keys (database_url, bind, …).
    #[arg(long, env = "ANGEL_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL; default: SQLite file `angel.db` in the data directory.
    #[arg(
        long,
        env = "ANGEL_DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:3000].
    #[arg(long, env = "ANGEL_BIND", global = true, value_name = "ADDR")]
    pub bind: Option<String>,
    /// Data directory (SQLite database and the key file) [default: ./data].
    #[arg(long, env = "ANGEL_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// `development` or `production` [default: development].
    #[arg(long = "env", env = "ANGEL_ENV", global = true, value_name = "ENV")]
    pub environment: Option<String>,
    /// Directory of the built site [default: target/site].
    #[arg(long, env = "ANGEL_SITE_ROOT", global = true, value_name = "DIR")]
    pub site_root: Option<PathBuf>,
    /// Minutes without activity that end a staff session [default: 15].
    #[arg(
        long,
        env = "ANGEL_SESSION_IDLE_MINUTES",
        global = true,
        value_name = "MIN"
    )]
    pub session_idle_minutes: Option<u32>,
    /// Hours after sign-in that end a staff session [default: 10].
    #[arg(
        long,
        env = "ANGEL_SESSION_ABSOLUTE_HOURS",
        global = true,
        value_name = "H"
    )]
    pub session_absolute_hours: Option<u32>,
    /// The vault's key file [default: angel.keys in the data directory]. `ANGEL_KEYS` (the
    /// file's contents, from a secrets manager) takes precedence.
    #[arg(long, env = "ANGEL_KEY_FILE", global = true, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Calls one agency API client may make at once [default: 120].
    #[arg(long, env = "ANGEL_API_BURST", global = true, value_name = "N")]
    pub api_burst: Option<u32>,
    /// Calls per second that refill an API client's allowance [default: 10].
    #[arg(long, env = "ANGEL_API_PER_SECOND", global = true, value_name = "N")]
    pub api_per_second: Option<u32>,
    /// Read from `ANGEL_KEYS` only: a secret never goes on a command line.
    #[arg(skip = std::env::var("ANGEL_KEYS").ok())]
    pub keys: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    env: Option<String>,
    site_root: Option<PathBuf>,
    session_idle_minutes: Option<u32>,
    session_absolute_hours: Option<u32>,
    key_file: Option<PathBuf>,
    api_burst: Option<u32>,
    api_per_second: Option<u32>,
}

/// A configuration problem, said so that the person running the command can fix it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("ANGEL_BIND must be an address and port such as 127.0.0.1:3000, got {0:?}")]
    Bind(String),
    #[error("ANGEL_ENV must be `development` or `production`, got {0:?}")]
    Env(String),
    #[error("ANGEL_DATABASE_URL must start with sqlite:// or postgres://, got a {0:?} URL")]
    DatabaseScheme(String),
    #[error("ANGEL_DATA_DIR must not be empty")]
    EmptyDataDir,
    #[error(
        "ANGEL_SESSION_IDLE_MINUTES must be 1 to 480 and ANGEL_SESSION_ABSOLUTE_HOURS 1 to 24, \
             with the idle time shorter than the absolute one"
    )]
    SessionTimes,
    #[error("ANGEL_API_BURST must be 1 to 10000 and ANGEL_API_PER_SECOND 1 to 1000")]
    ApiRate,
}

impl ConfigArgs {
    /// Merges flags, environment, file and defaults, and validates the result.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the setting that is wrong.
    pub fn load(&self) -> Result<Settings, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| "data".into());
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::EmptyDataDir);
        }
        let database_url = self
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir));
        let scheme_ok = ["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|s| database_url.starts_with(s));
        if !scheme_ok {
            let scheme = database_url
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            return Err(ConfigError::DatabaseScheme(scheme));
        }
        let bind = self
            .bind
            .clone()
            .or(file.bind)
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind = bind.parse().map_err(|_| ConfigError::Bind(bind))?;
        let env = match self.environment.clone().or(file.env).as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => return Err(ConfigError::Env(other.to_owned())),
        };
        let site_root = self
            .site_root
            .clone()
            .or(file.site_root)
            .unwrap_or_else(|| "target/site".into());
        let session_idle_minutes = self
            .session_idle_minutes
            .or(file.session_idle_minutes)
            .unwrap_or(DEFAULT_IDLE_MINUTES);
        let session_absolute_hours = self
            .session_absolute_hours
            .or(file.session_absolute_hours)
            .unwrap_or(DEFAULT_ABSOLUTE_HOURS);
        if !(1..=480).contains(&session_idle_minutes)
            || !(1..=24).contains(&session_absolute_hours)
            || session_idle_minutes >= session_absolute_hours * 60
        {
            return Err(ConfigError::SessionTimes);
        }
        let api_burst = self
            .api_burst
            .or(file.api_burst)
            .unwrap_or(DEFAULT_API_BURST);
        let api_per_second = self
            .api_per_second
            .or(file.api_per_second)
            .unwrap_or(DEFAULT_API_PER_SECOND);
        if !(1..=10_000).contains(&api_burst) || !(1..=1_000).contains(&api_per_second) {
            return Err(ConfigError::ApiRate);
        }
        let key_file = self
            .key_file
            .clone()
            .or(file.key_file)
            .unwrap_or_else(|| data_dir.join(KEY_FILE));
        Ok(Settings {
            key_file,
            keys_from_env: self
                .keys
                .clone()
                .filter(|k| !k.trim().is_empty())
                .map(KeysText),
            database_url,
            bind,
            data_dir,
            env,
            site_root,
            session_idle_minutes,
            session_absolute_hours,
            sign_in_ip_burst: 20,
            sign_in_ip_refill_seconds: 3,
            api_burst,
            api_per_second,
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let error = |reason: String| ConfigError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    toml::from_str(&text).map_err(|e| error(e.message().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_sqlite_in_data_on_loopback_3000() {
        let s = ConfigArgs::default().load().unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(s.database_url, "sqlite://data/angel.db?mode=rwc");
        assert_eq!(s.env, Environment::Development);
    }

    #[test]
    fn rejects_a_bind_without_port() {
        let args = ConfigArgs {
            bind: Some("localhost".into()),
            ..Default::default()
        };
        assert_eq!(args.load(), Err(ConfigError::Bind("localhost".into())));
    }

    #[test]
    fn session_times_are_bounded() {
        let args = ConfigArgs {
            session_idle_minutes: Some(0),
            ..Default::default()
        };
        assert_eq!(args.load(), Err(ConfigError::SessionTimes));
        let args = ConfigArgs {
            session_idle_minutes: Some(30),
            session_absolute_hours: Some(8),
            ..Default::default()
        };
        let s = args.load().unwrap();
        assert_eq!((s.session_idle_minutes, s.session_absolute_hours), (30, 8));
    }

    #[test]
    fn rejects_an_unknown_environment() {
        let args = ConfigArgs {
            environment: Some("prod".into()),
            ..Default::default()
        };
        assert_eq!(args.load(), Err(ConfigError::Env("prod".into())));
    }

    #[test]
    fn rejects_an_unsupported_database_without_echoing_the_url() {
        let args = ConfigArgs {
            database_url: Some("mysql://user:secret@db/angel".into()),
            ..Default::default()
        };
        let err = args.load().unwrap_err();
        assert_eq!(err, ConfigError::DatabaseScheme("mysql".into()));
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = std::env::temp_dir().join(format!("angel-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("angel.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:4000\"\nenv = \"production\"\n").unwrap();
        let args = ConfigArgs {
            config: Some(path.clone()),
            bind: Some("127.0.0.1:5000".into()),
            ..Default::default()
        };
        let s = args.load().unwrap();
        assert_eq!(s.bind.port(), 5000);
        assert_eq!(s.env, Environment::Production);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn rejects_unknown_keys_in_the_file() {
        let dir = std::env::temp_dir().join(format!("angel-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("angel.toml");
        std::fs::write(&path, "bnid = \"127.0.0.1:4000\"\n").unwrap();
        let args = ConfigArgs {
            config: Some(path),
            ..Default::default()
        };
        assert!(matches!(args.load(), Err(ConfigError::File { .. })));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn debug_output_hides_the_database_url() {
        let args = ConfigArgs {
            database_url: Some("postgres://angel:secret@db/angel".into()),
            ..Default::default()
        };
        let shown = format!("{:?}", args.load().unwrap());
        assert!(!shown.contains("secret") && shown.contains("postgres"));
    }
}
