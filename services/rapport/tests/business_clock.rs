//! The business date (`rapport dev --clock`): the suite's time is moved from outside, through
//! the binary, and what depends on time follows it; production (`rapport serve`) refuses it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
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

/// `rapport clock …` or `rapport loyalty …` against the running suite: (success, stdout+stderr).
fn rapport(args: &[&str]) -> (bool, String) {
    let output = Command::new(RAPPORT)
        .args(args)
        .env_remove("RAPPORT_ADDRESS")
        .env_remove("RAPPORT_ADMIN")
        .output()
        .expect("rapport runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn advancing_the_business_clock_makes_a_detractor_follow_up_overdue() {
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
                "--clock",
                "2026-03-02T09:00:00Z",
                "--clock-speed",
                "0",
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
    let (mut address, mut admin, mut announced) = (None, None, false);
    while address.is_none() || admin.is_none() || !announced {
        let line = lines
            .next()
            .expect("rapport dev prints its banner")
            .expect("readable");
        if let Some(rest) = line.strip_prefix("rapport dev: listening on ") {
            address = Some(format!("http://{}", rest.trim()));
        }
        if let Some(rest) = line.strip_prefix("admin:      http://") {
            admin = rest.split('/').next().map(|a| format!("http://{a}"));
        }
        announced |= line.starts_with(
            "BUSINESS CLOCK: every service reads a movable clock, now 2026-03-02T09:00:00Z",
        );
    }
    let (address, admin) = (address.unwrap_or_default(), admin.unwrap_or_default());

    let channel = tonic::transport::Endpoint::from_shared(address.clone())
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
    while let Some(update) = updates.next().await {
        if update.expect("update").status == ServingStatus::Serving as i32 {
            break;
        }
    }
    drop(updates);

    let customer = ProfileServiceClient::new(channel.clone())
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: "Dana Ionescu".into(),
                locale: "ro-RO".into(),
                time_zone: "Europe/Bucharest".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("customer created")
        .into_inner()
        .customer
        .expect("customer")
        .customer_id;
    let answered = LoyaltyServiceClient::new(channel.clone())
        .record_survey_response(loyalty::RecordSurveyResponseRequest {
            response: Some(loyalty::SurveyResponse {
                customer_id: customer.clone(),
                kind: loyalty::SurveyKind::Transactional as i32,
                nps: Some(3),
                touchpoint: "branch-visit".into(),
                channel: common::Channel::Email as i32,
                locale: "ro-RO".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("answer recorded")
        .into_inner();
    let follow_up = answered.follow_up.expect("a detractor opens a follow-up");
    // Stamped with the business date, not the machine's.
    assert_eq!(
        follow_up.opened_at.map(|t| t.seconds),
        Some(1_772_442_000),
        "2026-03-02T09:00:00Z"
    );

    let (ok, said) = rapport(&["loyalty", "follow-ups", "--overdue", "--address", &address]);
    assert!(ok, "{said}");
    assert!(said.contains("No follow-ups waiting"), "{said}");

    // The 48-hour SLA passes on the business clock, moved from outside.
    let (ok, said) = rapport(&["clock", "advance", "3d", "--admin", &admin]);
    assert!(ok, "{said}");
    assert!(
        said.contains("business time 2026-03-05T09:00:00Z"),
        "{said}"
    );
    let (ok, said) = rapport(&["loyalty", "follow-ups", "--overdue", "--address", &address]);
    assert!(ok, "{said}");
    assert!(said.contains(&follow_up.follow_up_id), "{said}");

    // It never goes back; nonsense is refused with the reason.
    let (ok, said) = rapport(&["clock", "set", "2026-03-01T00:00:00Z", "--admin", &admin]);
    assert!(!ok);
    assert!(said.contains("only moves forward"), "{said}");
    let (ok, said) = rapport(&["clock", "advance", "soon", "--admin", &admin]);
    assert!(!ok);
    assert!(said.contains("not a duration"), "{said}");
    let (ok, said) = rapport(&["clock", "show", "--admin", &admin]);
    assert!(
        ok && said.contains("2026-03-05T09:00:00Z (speed 0)"),
        "{said}"
    );
}

#[tokio::test]
async fn without_a_business_clock_there_is_nothing_to_move() {
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
    let admin = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("admin:      http://")
                .and_then(|rest| rest.split('/').next())
                .map(|a| format!("http://{a}"))
        })
        .expect("the admin port is announced");
    let (ok, said) = rapport(&["clock", "advance", "31d", "--admin", &admin]);
    assert!(!ok);
    assert!(said.contains("has no business clock"), "{said}");
}

#[test]
fn serve_refuses_a_business_clock_unless_marked_insecure() {
    let data = tempfile::tempdir().expect("data directory");
    let config = data.path().join("profiles.toml");
    // TLS and tokens configured (the files need not exist: the refusal comes first).
    std::fs::write(
        &config,
        format!(
            "[storage]\nurl = \"sqlite://{}/profiles.db\"\n\
             [server.tls]\ncertificate_file = \"server.pem\"\nkey_file = \"server.key\"\n\
             [server.auth]\nmode = \"jwt\"\n\
             [server.business_clock]\nstart = \"2026-03-01T09:00:00Z\"\nspeed = 60\n",
            data.path().display()
        ),
    )
    .expect("write config");
    let refused = Command::new(RAPPORT)
        .args(["serve", "profiles", "--config"])
        .arg(&config)
        .env_remove("RAPPORT_SERVER__INSECURE")
        .output()
        .expect("rapport runs");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("server.business_clock is set: production follows the real clock"),
        "{said}"
    );
}
