//! The `rapport` binary as an operator runs it: `rapport dev` serves until SIGTERM and exits 0;
//! `rapport migrate` prepares every service's database and can be run again.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const RAPPORT: &str = env!("CARGO_BIN_EXE_rapport");

/// Kills the child if the test fails before it is reaped.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn dev_serves_until_sigterm_and_exits_zero() {
    let data = tempfile::tempdir().expect("data directory");
    let mut child = Reap(
        Command::new(RAPPORT)
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
            .arg(data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rapport starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("rapport dev prints where it listens")
            .expect("readable");
        if let Some(address) = line.strip_prefix("rapport dev: listening on ") {
            break address.trim().to_owned();
        }
    };

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut updates = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("watch")
        .into_inner();
    loop {
        let update = updates
            .next()
            .await
            .expect("health stream")
            .expect("update");
        if update.status == ServingStatus::Serving as i32 {
            break;
        }
    }
    drop(updates);
    for name in ["profiles", "plans", "referrals", "loyalty"] {
        assert!(data.path().join(format!("{name}.db")).exists(), "{name}.db");
    }

    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.0.wait())
        .await
        .expect("join")
        .expect("wait");
    assert_eq!(exit.code(), Some(0), "{exit:?}");
}

#[test]
fn migrate_prepares_every_database_and_is_repeatable() {
    let work = tempfile::tempdir().expect("working directory");
    for _ in 0..2 {
        let output = Command::new(RAPPORT)
            .arg("migrate")
            .current_dir(work.path())
            .output()
            .expect("rapport migrate runs");
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        for name in ["Profiles", "Plans", "Referrals", "Loyalty"] {
            assert!(stdout.contains(&format!("{name}: migrated")), "{stdout}");
        }
    }
    for name in ["profiles", "plans", "referrals", "loyalty"] {
        assert!(work.path().join(format!(".rapport/{name}.db")).exists());
    }
}

#[test]
fn a_bad_setting_is_refused_with_its_key() {
    let work = tempfile::tempdir().expect("working directory");
    let output = Command::new(RAPPORT)
        .args(["migrate", "profiles"])
        .env("RAPPORT_STORAGE__MAX_CONNECTIONS", "lots")
        .current_dir(work.path())
        .output()
        .expect("rapport runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("storage.max_connections"), "{stderr}");
}

#[test]
fn serve_refuses_plaintext_or_no_authentication_unless_marked_insecure() {
    let data = tempfile::tempdir().expect("data directory");
    let config = data.path().join("profiles.toml");
    let run = |config_text: &str| {
        std::fs::write(&config, config_text).expect("write config");
        Command::new(RAPPORT)
            .args(["serve", "profiles", "--config"])
            .arg(&config)
            .env_remove("RAPPORT_SERVER__INSECURE")
            .output()
            .expect("rapport runs")
    };
    let storage = format!(
        "[storage]\nurl = \"sqlite://{}/profiles.db\"\n",
        data.path().display()
    );
    // The defaults: plaintext, no authentication.
    let refused = run(&storage);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("server.tls is not set"), "{said}");

    // TLS configured (the files need not exist: the refusal comes first), tokens not checked.
    let refused = run(&format!(
        "{storage}[server.tls]\ncertificate_file = \"server.pem\"\nkey_file = \"server.key\"\n"
    ));
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("server.auth.mode is \"none\""), "{said}");
}

/// Each service's own binary is the same assembly as `rapport serve` (issue 21): it refuses
/// what `rapport serve` refuses, with the same words, and names its service's settings.
#[test]
fn each_service_binary_refuses_what_rapport_serve_refuses() {
    let binaries = [
        ("profiles", env!("CARGO_BIN_EXE_rapport-profiles")),
        ("plans", env!("CARGO_BIN_EXE_rapport-plans")),
        ("referrals", env!("CARGO_BIN_EXE_rapport-referrals")),
        ("loyalty", env!("CARGO_BIN_EXE_rapport-loyalty")),
    ];
    let data = tempfile::tempdir().expect("data directory");
    for (service, binary) in binaries {
        let config = data.path().join(format!("{service}.toml"));
        let storage = format!(
            "[storage]\nurl = \"sqlite://{}/{service}.db\"\n",
            data.path().display()
        );
        // A binary that serves instead of refusing is killed after 10 s and the test fails.
        let run = |config_text: &str| {
            std::fs::write(&config, config_text).expect("write config");
            let mut child = Command::new(binary)
                .arg(&config)
                .env_remove("RAPPORT_SERVER__INSECURE")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the binary runs");
            let start = std::time::Instant::now();
            while child.try_wait().expect("wait").is_none() {
                if start.elapsed() > std::time::Duration::from_secs(10) {
                    let _ = child.kill();
                    panic!("{service}: the binary served plaintext without authentication");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            child.wait_with_output().expect("output")
        };
        let refused = run(&storage);
        assert!(!refused.status.success(), "{service}");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("server.tls is not set"), "{service}: {said}");
        let refused = run(&format!(
            "{storage}[server.tls]\ncertificate_file = \"server.pem\"\nkey_file = \"server.key\"\n"
        ));
        assert!(!refused.status.success(), "{service}");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(
            said.contains("server.auth.mode is \"none\""),
            "{service}: {said}"
        );
        // A setting only `rapport serve`'s assembly reads is accepted, not refused as unknown.
        let upstream = if service == "profiles" || service == "plans" || service == "referrals" {
            "loyalty_url = \"http://127.0.0.1:1\"\n"
        } else {
            ""
        };
        let refused = run(&format!("{upstream}{storage}"));
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("server.tls is not set"), "{service}: {said}");
    }
}
