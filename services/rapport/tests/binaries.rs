//! Each service's own binary is the service's one assembly (issue 22): `rapport-profiles` with
//! `loyalty_url` set delivers its events to a `rapport-loyalty` running beside it, as `rapport
//! serve` and `rapport dev` do (the old binaries built a unit without delivery).

mod running;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use running::postgres::free_port;

/// A service binary, killed when dropped.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary` with a configuration in `dir`: plaintext without authentication
/// (`server.insecure`), its SQLite file in `dir`, and `extra` settings.
fn start(binary: &str, name: &str, dir: &Path, port: u16, extra: &str) -> Service {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "{extra}[server]\nlisten = \"127.0.0.1:{port}\"\ninsecure = true\n\
             [storage]\nurl = \"sqlite://{}/{name}.db\"\n",
            dir.display()
        ),
    )
    .expect("write config");
    let mut command = Command::new(binary);
    command
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("RAPPORT_") {
            command.env_remove(key);
        }
    }
    Service(command.spawn().expect("the binary starts"))
}

async fn connect(port: u16) -> tonic::transport::Channel {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
        .expect("endpoint");
    let start = Instant::now();
    loop {
        if let Ok(channel) = endpoint.connect().await {
            return channel;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "listens within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_binary_delivers_its_events_to_the_loyalty_url_it_is_given() {
    let dir = tempfile::tempdir().expect("directory");
    let (loyalty_port, profiles_port) = (free_port(), free_port());
    let _loyalty = start(
        env!("CARGO_BIN_EXE_rapport-loyalty"),
        "loyalty",
        dir.path(),
        loyalty_port,
        "",
    );
    let _profiles = start(
        env!("CARGO_BIN_EXE_rapport-profiles"),
        "profiles",
        dir.path(),
        profiles_port,
        &format!("loyalty_url = \"http://127.0.0.1:{loyalty_port}\"\n"),
    );
    let channel = connect(profiles_port).await;
    let _ = connect(loyalty_port).await;
    // Profiles answers UNAVAILABLE until its storage is migrated: retry the first call.
    let mut profiles =
        rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient::new(channel);
    let start = Instant::now();
    loop {
        let created = profiles
            .create_customer(rapport_proto::profiles::v1::CreateCustomerRequest {
                customer: Some(rapport_proto::profiles::v1::Customer {
                    legal_name: "Ana Pop".into(),
                    locale: "ro-RO".into(),
                    time_zone: "Europe/Bucharest".into(),
                    ..Default::default()
                }),
                request_id: "binaries-1".into(),
            })
            .await;
        if created.is_ok() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "profiles serves within 30 s: {created:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Loyalty records every event it applies; the customer's creation arrives.
    rapport_storage::sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}/loyalty.db?mode=ro", dir.path().display());
    let start = Instant::now();
    loop {
        let applied: Option<i64> = async {
            let mut connection =
                <rapport_storage::sqlx::AnyConnection as rapport_storage::sqlx::Connection>::connect(
                    &url,
                )
                .await
                .ok()?;
            rapport_storage::sqlx::query_scalar("SELECT COUNT(*) FROM ingested_events")
                .fetch_one(&mut connection)
                .await
                .ok()
        }
        .await;
        if applied.is_some_and(|n| n > 0) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "loyalty did not receive profiles' events within 30 s ({applied:?} applied)"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
