//! `make bench`, P9 of PERFORMANCE.md: the cost of a password hash through the server's hasher
//! (blocking pool, semaphore sized to the cores) against a standalone Argon2id hash with the
//! same parameters, measured in the same process. Prints one table.

use std::time::{Duration, Instant};

use angel_app::ssr::auth::hasher::{M_COST_KIB, PasswordHasher, T_COST, hash_with};

const ROUNDS: usize = 160;
const PASSWORD: &str = "las jacarandas moradas de marzo";

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    (quantile(&times, 0.5), quantile(&times, 0.9))
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Warm-up (allocator, page faults of the 19 MiB blocks).
    for _ in 0..3 {
        hash_with(PASSWORD, M_COST_KIB, T_COST);
    }
    let standalone: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            hash_with(PASSWORD, M_COST_KIB, T_COST);
            start.elapsed()
        })
        .collect();

    let hasher = PasswordHasher::sized_to_cores();
    let through: Vec<Duration> = runtime.block_on(async {
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let start = Instant::now();
            hasher.hash(PASSWORD).await.expect("hash");
            times.push(start.elapsed());
        }
        times
    });

    // A storm: 8 sign-ins at once, ROUNDS in all; time per hash = wall time × permits / hashes.
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let storm_wall = runtime.block_on(async {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let hasher = hasher.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..ROUNDS / 8 {
                    hasher.hash(PASSWORD).await.expect("hash");
                }
            }));
        }
        for task in tasks {
            task.await.expect("task");
        }
        start.elapsed()
    });
    let storm_per_hash = storm_wall.as_secs_f64() * 1000.0 * cores as f64 / (ROUNDS / 8 * 8) as f64;

    let (base_p50, base_p90) = summary(standalone);
    let (p50, p90) = summary(through);
    println!(
        "P9 login hashing: Argon2id m={M_COST_KIB} KiB t={T_COST} p=1, {ROUNDS} hashes each, {cores} cores"
    );
    println!("| workload | p50 ms | p90 ms | ratio to standalone p50 | goal |");
    println!("|---|---|---|---|---|");
    println!("| standalone hash (baseline) | {base_p50:.1} | {base_p90:.1} | 1.00 | |");
    println!(
        "| through the server's hasher, one at a time | {p50:.1} | {p90:.1} | {:.2} | ≤ 1.2 |",
        p50 / base_p50
    );
    println!(
        "| storm: 8 concurrent, per hash per core | {storm_per_hash:.1} | | {:.2} | ≤ 1.2 |",
        storm_per_hash / base_p50
    );
}
