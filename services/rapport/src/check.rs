//! `rapport check`: the full SQLite integrity check (`PRAGMA integrity_check`) of the dev suite's
//! files under a data directory, or of one served service's file from its configuration; one
//! line per file, and a failing exit status when any is damaged or could not be checked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rapport_storage::{Backend, IntegrityReport, Storage, StorageSettings};

use crate::service::ServiceName;

/// The dev suite's services, each with `<name>.db` under the data directory (as `rapport dev`
/// lays them out).
const DEV_SERVICES: [&str; 4] = [
    rapport_profiles::NAME,
    rapport_plans::NAME,
    rapport_referrals::NAME,
    rapport_loyalty::NAME,
];

/// What `rapport check` found: a line per file.
#[derive(Debug)]
pub struct Checked {
    pub report: String,
    /// Every file is sound (or not there yet): nothing to restore.
    pub all_sound: bool,
}

impl Checked {
    pub fn exit_code(&self) -> std::process::ExitCode {
        if self.all_sound {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}

/// Checks the dev suite's four files under `data_dir`.
pub async fn dev_suite(data_dir: &Path) -> Checked {
    let files: Vec<PathBuf> = DEV_SERVICES
        .iter()
        .map(|name| data_dir.join(format!("{name}.db")))
        .collect();
    check_files(&files).await
}

/// Checks the SQLite file a service's configuration names (TOML file, then `RAPPORT_`
/// environment variables, as `rapport serve` reads them).
pub async fn served_service(
    service: ServiceName,
    config: Option<&Path>,
) -> anyhow::Result<Checked> {
    let settings = storage_settings(service, config)?;
    if Backend::of_url(&settings.url) != Some(Backend::Sqlite) {
        anyhow::bail!(
            "{service:?} does not keep its data in SQLite: `rapport check` checks SQLite files (on PostgreSQL, amcheck checks tables and indexes)"
        );
    }
    // Opening is lazy (no connection is made); it is the one place that knows where a URL's file is.
    let storage = Storage::open(&settings).with_context(|| format!("{service:?}'s storage url"))?;
    let file = storage
        .sqlite_path()
        .map(Path::to_path_buf)
        .context("a SQLite storage without a file")?;
    storage.close().await;
    Ok(check_files(&[file]).await)
}

async fn check_files(files: &[PathBuf]) -> Checked {
    let mut report = String::new();
    let mut all_sound = true;
    let mut any_damaged = false;
    for file in files {
        let path = file.display();
        let (label, said) = match rapport_storage::integrity_check(file).await {
            Ok(IntegrityReport::Sound) => ("ok", String::new()),
            Ok(IntegrityReport::Missing) => {
                ("missing", " (created empty on first start)".to_owned())
            }
            Ok(IntegrityReport::Damaged(damaged)) => {
                all_sound = false;
                any_damaged = true;
                ("DAMAGED", format!(": {}", damaged.detail()))
            }
            Err(unfinished) => {
                all_sound = false;
                (
                    "UNCHECKED",
                    format!(": {:#}", anyhow::Error::new(unfinished)),
                )
            }
        };
        // Writing to a String cannot fail.
        let _ = writeln!(report, "{label:<9} {path}{said}");
    }
    if any_damaged {
        report.push_str(
            "stop the service and restore a damaged file from a backup (`rapport restore BACKUP_DIR --data-dir DIR`); see deploy/RUNBOOK.md, \"Damaged database\"\n",
        );
    }
    Checked { report, all_sound }
}

fn storage_settings(service: ServiceName, file: Option<&Path>) -> anyhow::Result<StorageSettings> {
    let context = || format!("loading the {service:?} configuration");
    Ok(match service {
        ServiceName::Profiles => {
            rapport_config::load::<rapport_profiles::Settings>(file)
                .with_context(context)?
                .storage
        }
        ServiceName::Plans => {
            rapport_config::load::<rapport_plans::Settings>(file)
                .with_context(context)?
                .storage
        }
        ServiceName::Referrals => {
            rapport_config::load::<rapport_referrals::Settings>(file)
                .with_context(context)?
                .storage
        }
        ServiceName::Loyalty => {
            rapport_config::load::<rapport_loyalty::Settings>(file)
                .with_context(context)?
                .storage
        }
        ServiceName::Desk => anyhow::bail!("desk keeps no data: there is nothing to check"),
    })
}
