//! What the database benchmarks share: a fresh database per engine and the process's peak
//! memory.

use angel_server::config::Settings;
use sea_orm::ConnectionTrait;

/// Settings for a fresh database of `engine` (`sqlite`: a file in `dir`; `postgres`: the
/// database `database`, dropped and created again, on the cluster of ANGEL_BENCH_POSTGRES_URL),
/// with a new key file in `dir`.
///
/// # Errors
/// PostgreSQL unreachable or ANGEL_BENCH_POSTGRES_URL unset; the key file not written.
pub async fn settings_for(
    engine: &str,
    dir: &std::path::Path,
    database: &str,
) -> anyhow::Result<Settings> {
    let mut settings = Settings::for_data_dir(dir);
    if engine == "postgres" {
        let admin = std::env::var("ANGEL_BENCH_POSTGRES_URL")?;
        let admin_db = sea_orm::Database::connect(&admin).await?;
        admin_db
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {database}"))
            .await?;
        admin_db
            .execute_unprepared(&format!("CREATE DATABASE {database}"))
            .await?;
        settings.database_url = format!(
            "{}/{database}",
            admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(base, _)| base)
        );
    }
    angel_app::ssr::vault::KeyRing::generate().create_file(&settings.key_file)?;
    Ok(settings)
}

/// Starts the peak of [`peak_memory_mib`] again from the memory resident now (Linux's
/// `clear_refs` 5), so that a later reading is about what ran since; `false` when it cannot.
#[allow(dead_code)] // not every benchmark reports it
pub fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak resident memory so far (`VmHWM`), in MiB; `None` off Linux.
#[allow(dead_code)] // not every benchmark reports it
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}
