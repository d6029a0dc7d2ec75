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
        assert!(out.contains("synthetic requests"), "{out}");
        let again = stdout_of(angel(dir.path()).args(["seed", "--synthetic", "300", "--if-empty"]));
        assert!(again.contains("already present"), "{again}");
        runs.push((people(dir.path()), requests(dir.path()), dir));
    }
    // Same seed, same people and histories; households are completed, so a few more than asked.
    assert_eq!(runs[0].0, runs[1].0);
    assert_eq!(runs[0].1, runs[1].1);
    assert!((300..320).contains(&runs[0].0.len()), "{}", runs[0].0.len());
    assert!(runs[0].0.iter().any(|r| r.contains('ñ') || r.contains('Ñ')));

    // Every history is a walk of the status machine from `requested`, ending in the request's
    // status, one version per move; several statuses and some requests still open.
    use angel_app::domain::lifecycle::{Reason, Status, check, side};
    let histories = &runs[0].1;
    assert!(histories.len() > 200, "{}", histories.len());
    let mut finals = std::collections::BTreeSet::new();
    for (folio, status, version, chain) in histories {
        let moves: Vec<(&str, &str, &str)> = chain
            .split(';')
            .map(|m| {
                let mut parts = m.split(',');
                (
                    parts.next().unwrap(),
                    parts.next().unwrap(),
                    parts.next().unwrap(),
                )
            })
            .collect();
        assert_eq!(moves[0].0, "", "{folio}: {chain}");
        assert_eq!(moves[0].1, "requested", "{folio}: {chain}");
        for (from, to, reason) in &moves[1..] {
            let (from, to) = (
                Status::from_code(from).unwrap(),
                Status::from_code(to).unwrap(),
            );
            let reason = Reason::from_code(reason).unwrap();
            assert!(
                check(from, to, Some(reason), side(to)).is_ok(),
                "{folio}: {chain}"
            );
        }
        assert_eq!(moves.last().unwrap().1, status, "{folio}: {chain}");
        assert_eq!(*version as usize, moves.len(), "{folio}: {chain}");
        finals.insert(status.clone());
    }
    assert!(finals.len() >= 5, "{finals:?}");
    assert!(
        finals.contains("active") && finals.contains("requested"),
        "{finals:?}"
    );

    // The escalation job from the command line, a year from now: the open requests still
    // awaiting a decision reach level 3; run again, nothing new.
    let dir = &runs[0].2;
    let out = stdout_of(angel(dir.path()).args(["jobs", "run-once", "--now", "2030-01-02"]));
    assert!(out.starts_with("escalation: level 1 +"), "{out}");
    let gap_line = out.lines().nth(1).unwrap_or_default().to_owned();
    assert!(
        gap_line.starts_with("eligibility gap: ") && gap_line.ends_with(" program × borough cells"),
        "{out}"
    );
    // Run once means every job once: nothing new to escalate, and the gap recomputed over the
    // same profiles gives the same cells.
    let again = stdout_of(angel(dir.path()).args(["jobs", "run-once", "--now", "2030-01-02"]));
    assert_eq!(
        again.trim(),
        format!("escalation: level 1 +0, level 2 +0, level 3 +0\n{gap_line}")
    );
    let bad = angel(dir.path())
        .args(["jobs", "run-once", "--now", "mañana"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--now must be RFC 3339"));
}

/// (folio, status, version, "from,to,reason;…") of every request, in id order.
fn requests(dir: &std::path::Path) -> Vec<(String, String, i32, String)> {
    use sea_orm::{ConnectionTrait, Statement};
    let url = format!("sqlite://{}?mode=ro", dir.join("angel.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = sea_orm::Database::connect(&url).await.unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT e.folio AS folio, e.status AS status, e.version AS version,                  COALESCE(v.from_status, '') || ',' || v.to_status || ',' || v.reason AS m                  FROM enrollment e JOIN enrollment_event v ON v.enrollment_id = e.id                  ORDER BY e.id, v.at, v.id",
            ))
            .await
            .unwrap();
        let mut out: Vec<(String, String, i32, String)> = Vec::new();
        for row in rows {
            let folio: String = row.try_get("", "folio").unwrap();
            let m: String = row.try_get("", "m").unwrap();
            match out.last_mut() {
                Some(last) if last.0 == folio => {
                    last.3.push(';');
                    last.3.push_str(&m);
                }
                _ => out.push((
                    folio,
                    row.try_get("", "status").unwrap(),
                    row.try_get("", "version").unwrap(),
                    m,
                )),
            }
        }
        out
    })
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
