//! Damage found and named (issue 20): a suite whose database file was damaged while it was
//! stopped refuses to start within moments, and its last line of stderr names the file and
//! SQLite's words for the damage; `rapport check` finds the same file and fails.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const RAPPORT: &str = env!("CARGO_BIN_EXE_rapport");

/// Before the start-up check, a damaged file surfaced only as a pool timing out after 5 s.
const REFUSED_WITHIN: Duration = Duration::from_secs(4);

fn dev_command(data_dir: &Path) -> Command {
    let mut command = Command::new(RAPPORT);
    command
        .args([
            "dev",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--console-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data_dir);
    command
}

/// The four database files as a stopped suite leaves them: created and migrated by `rapport
/// migrate` (which closes them cleanly, so nothing waits in a write-ahead log) in the layout
/// `rapport dev` uses, `<work>/.rapport/<service>.db`. Returns the data directory.
fn a_prepared_data_dir(work: &Path) -> PathBuf {
    let output = Command::new(RAPPORT)
        .arg("migrate")
        .current_dir(work)
        .output()
        .expect("rapport migrate runs");
    assert!(output.status.success(), "{output:?}");
    let data_dir = work.join(".rapport");
    for name in ["profiles", "plans", "referrals", "loyalty"] {
        assert!(data_dir.join(format!("{name}.db")).exists(), "{name}.db");
    }
    data_dir
}

/// Runs `command` to its end, or kills it once `limit` has passed (then `None`).
fn run_within(mut command: Command, limit: Duration) -> Option<(Output, Duration)> {
    let started = Instant::now();
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rapport starts");
    let pid = child.id();
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match outcome.recv_timeout(limit) {
        Ok(output) => Some((output.expect("output"), started.elapsed())),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            None
        }
    }
}

fn overwrite(path: &Path, at: u64, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for damage");
    file.seek(SeekFrom::Start(at)).expect("seek");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("sync");
}

/// Bytes that look random (xorshift64*), the same on every run.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Starts the suite on a data directory with a damaged file: it must give up quickly, failing,
/// with the file named in its last line of stderr. Returns that line.
fn refused_start(data_dir: &Path, damaged: &Path) -> String {
    let (output, took) = run_within(dev_command(data_dir), Duration::from_secs(30))
        .expect("rapport dev gives up on a damaged file instead of serving it");
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default()
        .to_owned();
    assert!(
        last.contains(&damaged.display().to_string()),
        "the last line names the file {}: {last}\n\nall of stderr:\n{stderr}",
        damaged.display()
    );
    assert!(
        took < REFUSED_WITHIN,
        "refused after {took:?}, not within {REFUSED_WITHIN:?} (a pool timing out)"
    );
    last
}

#[test]
fn a_damaged_header_stops_dev_at_once_naming_the_file() {
    let work = tempfile::tempdir().expect("working directory");
    let data_dir = a_prepared_data_dir(work.path());
    let plans = data_dir.join("plans.db");
    overwrite(&plans, 0, &noise(100));

    let last = refused_start(&data_dir, &plans);
    assert!(last.contains("not a database"), "SQLite's words: {last}");
    assert!(last.contains("rapport restore"), "what to do: {last}");
}

#[test]
fn random_bytes_mid_file_stop_dev_and_fail_rapport_check() {
    let work = tempfile::tempdir().expect("working directory");
    let data_dir = a_prepared_data_dir(work.path());
    let sound = Command::new(RAPPORT)
        .args(["check", "--data-dir"])
        .arg(&data_dir)
        .output()
        .expect("rapport check runs");
    assert!(sound.status.success(), "{sound:?}");
    let said = String::from_utf8_lossy(&sound.stdout);
    assert_eq!(
        said.lines().filter(|l| l.starts_with("ok ")).count(),
        4,
        "{said}"
    );

    let plans = data_dir.join("plans.db");
    let length = std::fs::metadata(&plans).expect("plans.db").len();
    overwrite(&plans, length / 2, &noise(16 * 1024));

    let last = refused_start(&data_dir, &plans);
    assert!(last.contains("is damaged"), "{last}");

    let checked = Command::new(RAPPORT)
        .args(["check", "--data-dir"])
        .arg(&data_dir)
        .output()
        .expect("rapport check runs");
    assert!(!checked.status.success(), "{checked:?}");
    let said = String::from_utf8_lossy(&checked.stdout);
    let plans_line = said
        .lines()
        .find(|line| line.contains(&plans.display().to_string()))
        .unwrap_or_else(|| panic!("a line for plans.db: {said}"));
    assert!(plans_line.starts_with("DAMAGED"), "{said}");
    for healthy in ["profiles.db", "referrals.db", "loyalty.db"] {
        let path = data_dir.join(healthy).display().to_string();
        assert!(
            said.lines()
                .any(|line| line.starts_with("ok ") && line.ends_with(&path)),
            "{healthy} is sound: {said}"
        );
    }

    // The same file through a served service's configuration.
    let config = data_dir.join("plans.toml");
    std::fs::write(
        &config,
        format!("[storage]\nurl = \"sqlite://{}\"\n", plans.display()),
    )
    .expect("write config");
    let checked = Command::new(RAPPORT)
        .args(["check", "--service", "plans", "--config"])
        .arg(&config)
        .output()
        .expect("rapport check runs");
    assert!(!checked.status.success(), "{checked:?}");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(said.starts_with("DAMAGED"), "{said}");
    assert!(said.contains(&plans.display().to_string()), "{said}");
}
