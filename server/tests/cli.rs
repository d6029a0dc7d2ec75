//! The `angel` binary as an operator runs it: configuration errors, migrate + seed twice, and
//! serve until SIGTERM. Lives here rather than in `tests/` because only this package's tests
//! get the path of the freshly built binary (`CARGO_BIN_EXE_angel`).

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

fn angel(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_angel"));
    cmd.env_clear()
        .env("ANGEL_DATA_DIR", data_dir)
        .env("ANGEL_BIND", "127.0.0.1:0")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run angel");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn a_bad_setting_is_named_and_exits_with_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = angel(dir.path())
        .env("ANGEL_ENV", "staging")
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ANGEL_ENV must be `development` or `production`, got \"staging\""),
        "{err}"
    );
    assert!(!dir.path().join("angel.db").exists(), "nothing was created");
}

#[test]
fn serve_refuses_to_start_before_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let out = angel(dir.path()).arg("serve").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `angel migrate` first"));
}

#[test]
fn migrate_and_seed_twice_then_serve_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    assert!(stdout_of(angel(dir.path()).arg("migrate")).contains("schema is current"));
    assert!(stdout_of(angel(dir.path()).arg("keygen")).contains("created"));
    let first = stdout_of(angel(dir.path()).arg("seed"));
    assert!(first.contains("15 programs, 15 life events"), "{first}");
    let second = stdout_of(angel(dir.path()).arg("seed"));
    assert!(
        second.contains("0 agencies, 0 programs, 0 life events, 0 links, 0 boroughs, 0 offices")
    );
    assert!(
        dir.path().join("angel.db").exists(),
        "the SQLite file lives in the data directory"
    );

    let mut server = angel(dir.path())
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let addr = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no URL in {banner:?}"))
        .to_owned();

    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = server.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "a clean exit after SIGTERM: {exit:?}");
    let mut log = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        log.contains("shutdown signal received") && log.contains("stopped"),
        "{log}"
    );
}

#[test]
fn the_first_administrator_gets_a_one_time_token_and_the_audit_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    stdout_of(angel(dir.path()).arg("migrate"));
    stdout_of(angel(dir.path()).arg("keygen"));
    stdout_of(angel(dir.path()).arg("seed"));
    let out = stdout_of(angel(dir.path()).args([
        "admin",
        "create",
        "--username",
        "Primera.Admin",
        "--name",
        "Primera Administradora",
    ]));
    assert!(out.contains("primera.admin"), "{out}");
    let token = out
        .lines()
        .find_map(|l| l.split("(72 h): ").nth(1))
        .expect("a one-time token is printed");
    assert!(token.trim().len() >= 43, "256 random bits: {token}");
    // The same username twice is refused, naming the field.
    let again = angel(dir.path())
        .args(["admin", "create", "--username", "primera.admin"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("username: username_taken"));

    // Demo staff: every role, passwords printed; a second run creates nothing new.
    let demo = stdout_of(angel(dir.path()).args(["seed", "--demo"]));
    for user in [
        "demo.trabajo",
        "demo.supervision",
        "demo.dependencia",
        "demo.titular",
        "demo.politica",
        "demo.admin",
    ] {
        assert!(demo.contains(user), "{demo}");
    }
    assert_eq!(
        stdout_of(angel(dir.path()).args(["seed", "--demo"])),
        demo,
        "same accounts, same passwords"
    );

    let verdict = stdout_of(angel(dir.path()).args(["audit", "verify"]));
    assert_eq!(verdict.trim(), "OK: 7 events, chain intact");
}

#[test]
fn a_synthetic_population_is_deterministic_and_seeded_once() {
    let people = |dir: &std::path::Path| -> Vec<String> {
        use sea_orm::{ConnectionTrait, Statement};
        let url = format!("sqlite://{}?mode=ro", dir.join("angel.db").display());
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let db = sea_orm::Database::connect(&url).await.unwrap();
            db.query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT given_names || '|' || first_surname || '|' || birth_date || '|' || \
                 has_curp AS r FROM person ORDER BY id",
            ))
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.try_get::<String>("", "r").unwrap())
            .collect()
        })
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        stdout_of(angel(dir.path()).arg("migrate"));
        stdout_of(angel(dir.path()).arg("keygen"));
        let out = stdout_of(angel(dir.path()).args(["seed", "--synthetic", "300", "--seed", "5"]));
        assert!(out.contains("synthetic people in"), "{out}");
        let again = stdout_of(angel(dir.path()).args(["seed", "--synthetic", "300", "--if-empty"]));
        assert!(again.contains("already present"), "{again}");
        runs.push((people(dir.path()), dir));
    }
    // Same seed, same people; households are completed, so a few more than asked.
    assert_eq!(runs[0].0, runs[1].0);
    assert!((300..320).contains(&runs[0].0.len()), "{}", runs[0].0.len());
    assert!(runs[0].0.iter().any(|r| r.contains('ñ') || r.contains('Ñ')));
}

#[test]
fn rules_test_prints_one_line_per_program_and_the_totals() {
    let dir = tempfile::tempdir().unwrap();
    stdout_of(angel(dir.path()).arg("migrate"));
    stdout_of(angel(dir.path()).arg("keygen"));
    stdout_of(angel(dir.path()).arg("seed"));
    let out = stdout_of(angel(dir.path()).args(["rules", "test"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 16, "{out}");
    assert!(
        lines[..15].iter().all(|l| l.contains(" v1 current ")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("PAAM ") && l.ends_with("5/5")),
        "{out}"
    );
    let totals = lines[15];
    assert!(totals.ends_with(" passed, 0 failed"), "{totals}");
    let passed: usize = totals.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 50, "{totals}");
}
