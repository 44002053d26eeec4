//! `rapport backup` and `rapport restore` as an operator runs them: a backup taken while
//! customers are being created holds every write acknowledged before it started, and a restore
//! brings those back into a suite that serves; a restore refuses while a suite uses the data
//! directory, refuses a damaged backup, and changes nothing when it refuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use tonic::transport::Channel;

mod running;
use running::Dev;

const RAPPORT: &str = env!("CARGO_BIN_EXE_rapport");
const DATABASES: [&str; 4] = ["profiles", "plans", "referrals", "loyalty"];

/// `rapport ARGS…`, run off the async threads so the suite's clients keep going meanwhile.
async fn rapport(args: Vec<PathOrStr>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(RAPPORT);
        for arg in args {
            match arg {
                PathOrStr::Path(path) => command.arg(path),
                PathOrStr::Str(text) => command.arg(text),
            };
        }
        command.output().expect("rapport runs")
    })
    .await
    .expect("join")
}

enum PathOrStr {
    Path(PathBuf),
    Str(&'static str),
}

fn backup_args(into: &Path, data: &Path) -> Vec<PathOrStr> {
    vec![
        PathOrStr::Str("backup"),
        PathOrStr::Path(into.to_path_buf()),
        PathOrStr::Str("--data-dir"),
        PathOrStr::Path(data.to_path_buf()),
    ]
}

fn restore_args(from: &Path, data: &Path) -> Vec<PathOrStr> {
    vec![
        PathOrStr::Str("restore"),
        PathOrStr::Path(from.to_path_buf()),
        PathOrStr::Str("--data-dir"),
        PathOrStr::Path(data.to_path_buf()),
    ]
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn create_customer(
    client: &mut ProfileServiceClient<Channel>,
    legal_name: String,
) -> Result<String, tonic::Status> {
    let created = client
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name,
                locale: "en-GB".into(),
                time_zone: "Europe/London".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await?
        .into_inner();
    Ok(created.customer.map(|c| c.customer_id).unwrap_or_default())
}

async fn legal_name_of(
    client: &mut ProfileServiceClient<Channel>,
    customer_id: &str,
) -> Result<String, tonic::Status> {
    let answer = client
        .get_customer(profiles::GetCustomerRequest {
            customer_id: customer_id.to_owned(),
            view: 0,
        })
        .await?
        .into_inner();
    Ok(answer.customer.map(|c| c.legal_name).unwrap_or_default())
}

/// How long a test waits for something that takes milliseconds before it calls it a failure.
const PATIENCE: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_writes_restores_every_write_acknowledged_before_it() {
    let data = tempfile::tempdir().expect("data directory");
    let backups = tempfile::tempdir().expect("backup directory");
    let fresh = tempfile::tempdir().expect("restored data directory");
    let backup = backups.path().join("backup-1");
    let suite = Dev::start(data.path()).await;

    // Writers create customers without pause; each write is recorded once acknowledged.
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let (count, mut counted) = tokio::sync::watch::channel(0_usize);
    let count = Arc::new(count);
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (mut client, acknowledged, failures, count, stop) = (
            suite.profiles(),
            acknowledged.clone(),
            failures.clone(),
            count.clone(),
            stop.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let name = format!("Writer{writer} Customer{n}");
                match create_customer(&mut client, name.clone()).await {
                    Ok(id) => {
                        acknowledged.lock().expect("lock").push((id, name));
                        count.send_modify(|c| *c += 1);
                    }
                    Err(status) => failures.lock().expect("lock").push(format!("{status:?}")),
                }
            }
        }));
    }
    tokio::time::timeout(PATIENCE, counted.wait_for(|c| *c >= 40))
        .await
        .expect("writes are acknowledged")
        .expect("writers alive");

    // Every write acknowledged before the backup command starts must be in the backup.
    let before_backup = acknowledged.lock().expect("lock").clone();
    let output = rapport(backup_args(&backup, data.path())).await;
    assert!(output.status.success(), "{}", said(&output));
    let report = said(&output);
    for name in DATABASES {
        assert!(report.contains(&format!("{name}.db")), "{report}");
    }
    // The suite kept serving writes through and after the backup, and refused none.
    let after_backup = *counted.borrow();
    tokio::time::timeout(PATIENCE, counted.wait_for(|c| *c >= after_backup + 20))
        .await
        .expect("writes go on after the backup")
        .expect("writers alive");
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    let failures = failures.lock().expect("lock").clone();
    assert!(
        failures.is_empty(),
        "writes failed during the backup: {failures:?}"
    );
    suite.stop().await;

    // The manifest describes what is on disk.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("a manifest"))
            .expect("JSON");
    let listed = manifest["databases"].as_array().expect("databases");
    assert_eq!(listed.len(), DATABASES.len(), "{manifest}");
    for (entry, name) in listed.iter().zip(DATABASES) {
        let file = format!("{name}.db");
        assert_eq!(entry["file"].as_str(), Some(file.as_str()), "{manifest}");
        let on_disk = std::fs::metadata(backup.join(&file)).expect("file").len();
        assert_eq!(entry["bytes"].as_u64(), Some(on_disk), "{manifest}");
        assert!(
            entry["migration_version"].as_i64().unwrap_or(0) >= 1,
            "{manifest}"
        );
    }
    assert!(manifest["taken_at"].is_string(), "{manifest}");

    let output = rapport(restore_args(&backup, fresh.path())).await;
    assert!(output.status.success(), "{}", said(&output));
    let report = said(&output);
    for name in DATABASES {
        assert!(report.contains(&format!("{name}.db")), "{report}");
    }

    let restored = Dev::start(fresh.path()).await;
    let mut client = restored.profiles();
    let mut missing = Vec::new();
    for (id, name) in &before_backup {
        match legal_name_of(&mut client, id).await {
            Ok(found) if &found == name => {}
            other => missing.push(format!("{id} ({name}): {other:?}")),
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} writes acknowledged before the backup are not in the restored suite: {missing:?}",
        missing.len(),
        before_backup.len()
    );
    // The restored suite takes new writes.
    let id = create_customer(&mut client, "After Restore".to_owned())
        .await
        .expect("the restored suite serves writes");
    assert_eq!(
        legal_name_of(&mut client, &id).await.expect("read back"),
        "After Restore"
    );
    restored.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_running_suite_and_a_damaged_backup_and_then_brings_the_backup_back() {
    let data = tempfile::tempdir().expect("data directory");
    let backups = tempfile::tempdir().expect("backup directory");
    let backup = backups.path().join("backup-1");
    let suite = Dev::start(data.path()).await;
    let mut client = suite.profiles();
    let kept = create_customer(&mut client, "Before Backup".to_owned())
        .await
        .expect("created");
    let output = rapport(backup_args(&backup, data.path())).await;
    assert!(output.status.success(), "{}", said(&output));
    let later = create_customer(&mut client, "After Backup".to_owned())
        .await
        .expect("created");

    // A second backup into the same directory is refused and leaves the first as it was.
    let manifest_before = std::fs::read(backup.join("manifest.json")).expect("manifest");
    let output = rapport(backup_args(&backup, data.path())).await;
    assert!(!output.status.success(), "{}", said(&output));
    assert!(
        said(&output).contains("never overwritten"),
        "{}",
        said(&output)
    );
    assert_eq!(
        std::fs::read(backup.join("manifest.json")).expect("manifest"),
        manifest_before
    );

    // While the suite runs, a restore is refused and changes nothing.
    let output = rapport(restore_args(&backup, data.path())).await;
    assert!(!output.status.success(), "{}", said(&output));
    assert!(said(&output).contains("in use"), "{}", said(&output));
    assert_eq!(
        legal_name_of(&mut client, &later)
            .await
            .expect("still served"),
        "After Backup"
    );
    suite.stop().await;

    // A backup file damaged in the middle (same size, so only the check can tell) is refused
    // before anything in the data directory changes.
    let damaged = backups.path().join("damaged");
    std::fs::create_dir(&damaged).expect("damaged copy");
    for entry in std::fs::read_dir(&backup).expect("backup") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), damaged.join(entry.file_name())).expect("copy");
    }
    let mut bytes = std::fs::read(damaged.join("profiles.db")).expect("read");
    let middle = bytes.len() / 2 / 4096 * 4096;
    assert!(bytes.len() >= middle + 3 * 4096, "profiles.db is too small");
    bytes[middle..middle + 3 * 4096].fill(0x5a);
    std::fs::write(damaged.join("profiles.db"), bytes).expect("write");
    let live_before = std::fs::read(data.path().join("profiles.db")).expect("live file");
    let output = rapport(restore_args(&damaged, data.path())).await;
    assert!(!output.status.success(), "{}", said(&output));
    assert!(
        said(&output).contains("profiles.db is damaged"),
        "{}",
        said(&output)
    );
    assert_eq!(
        std::fs::read(data.path().join("profiles.db")).expect("live file"),
        live_before,
        "a refused restore changed the live database"
    );

    // Stopped, the restore goes through: the suite comes back as it was at the backup.
    let output = rapport(restore_args(&backup, data.path())).await;
    assert!(output.status.success(), "{}", said(&output));
    assert!(said(&output).contains("replaced"), "{}", said(&output));
    let restored = Dev::start(data.path()).await;
    let mut client = restored.profiles();
    assert_eq!(
        legal_name_of(&mut client, &kept).await.expect("restored"),
        "Before Backup"
    );
    let after = legal_name_of(&mut client, &later).await;
    assert_eq!(
        after.as_ref().map_err(tonic::Status::code),
        Err(tonic::Code::NotFound),
        "a customer created after the backup survived the restore: {after:?}"
    );
    restored.stop().await;
}

#[tokio::test]
async fn one_served_service_is_backed_up_from_its_configuration_and_postgres_is_sent_to_the_runbook()
 {
    let work = tempfile::tempdir().expect("working directory");
    let config = work.path().join("profiles.toml");
    let database = work.path().join("data").join("profiles-live.db");
    std::fs::write(
        &config,
        format!("[storage]\nurl = \"sqlite://{}\"\n", database.display()),
    )
    .expect("config");
    let output = rapport(vec![
        PathOrStr::Str("migrate"),
        PathOrStr::Str("profiles"),
        PathOrStr::Str("--config"),
        PathOrStr::Path(config.clone()),
    ])
    .await;
    assert!(output.status.success(), "{}", said(&output));

    let backup = work.path().join("backup");
    let output = rapport(vec![
        PathOrStr::Str("backup"),
        PathOrStr::Path(backup.clone()),
        PathOrStr::Str("--service"),
        PathOrStr::Str("profiles"),
        PathOrStr::Str("--config"),
        PathOrStr::Path(config.clone()),
    ])
    .await;
    assert!(output.status.success(), "{}", said(&output));
    assert!(
        said(&output).contains("profiles-live.db"),
        "{}",
        said(&output)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    let listed = manifest["databases"].as_array().expect("databases");
    assert_eq!(listed.len(), 1, "{manifest}");
    assert_eq!(
        listed[0]["file"].as_str(),
        Some("profiles.db"),
        "{manifest}"
    );
    assert!(backup.join("profiles.db").is_file());

    std::fs::write(
        &config,
        "[storage]\nurl = \"postgres://rapport@localhost/rapport\"\n",
    )
    .expect("config");
    let output = rapport(vec![
        PathOrStr::Str("backup"),
        PathOrStr::Path(work.path().join("backup-2")),
        PathOrStr::Str("--service"),
        PathOrStr::Str("profiles"),
        PathOrStr::Str("--config"),
        PathOrStr::Path(config),
    ])
    .await;
    assert!(!output.status.success(), "{}", said(&output));
    let refusal = said(&output);
    assert!(
        refusal.contains("PostgreSQL") && refusal.contains("deploy/RUNBOOK.md"),
        "{refusal}"
    );
    assert!(!work.path().join("backup-2").exists(), "{refusal}");
}
