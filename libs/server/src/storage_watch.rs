//! Health that tells the truth about storage (issue 20): when a unit's storage refuses writes
//! (full, read-only, damaged), its services report `NOT_SERVING`, `/readyz` answers 503 with the
//! reason, and a probe with backoff brings them back once a write commits again — no restart.
//! Also the sweep that writes the audit entries of calls that committed but never finished here.

use std::time::Duration;

use rapport_audit::AuditLog;
use rapport_storage::{RefusalKind, Storage};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::readiness::Readiness;
use crate::unit::Stopping;

/// The first probe after a refusal, and the most a full or read-only storage waits between
/// probes: the time from space coming back to writes resuming is at most this.
const FIRST_PROBE: Duration = Duration::from_millis(250);
const MAX_PROBE_WAIT: Duration = Duration::from_secs(5);
/// A damaged file heals only by a restore; its check reads the whole file, so it is probed
/// less often.
const MAX_DAMAGED_PROBE_WAIT: Duration = Duration::from_secs(60);
/// How often abandoned audit halves are looked for (one indexed read when there are none).
const SETTLE_EVERY: Duration = Duration::from_secs(5);

/// Follows `storage`'s health for the unit's `services` until shutdown.
pub(crate) async fn watch(
    unit: &'static str,
    services: Vec<&'static str>,
    storage: Storage,
    reporter: HealthReporter,
    readiness: Readiness,
    mut stopping: Stopping,
) {
    let mut changes = storage.health().subscribe();
    loop {
        let refusal = tokio::select! {
            () = stopping.stopped() => return,
            seen = changes.wait_for(Option::is_some) => match seen {
                Ok(seen) => seen.clone(),
                Err(_) => return,
            },
        };
        let Some(refusal) = refusal else { continue };
        tracing::error!(
            unit,
            reason = refusal.kind.as_str(),
            error = %refusal.reason,
            file = ?storage.sqlite_path(),
            "storage refuses writes: out of rotation until a probe write succeeds{}",
            if refusal.kind == RefusalKind::Damaged { "; restore the file from a backup (deploy/RUNBOOK.md)" } else { "" }
        );
        for service in &services {
            readiness.set_refusal(service, Some(refusal.clone()));
            reporter
                .set_service_status(*service, ServingStatus::NotServing)
                .await;
        }
        reporter
            .set_service_status("", ServingStatus::NotServing)
            .await;

        let ceiling = if refusal.kind == RefusalKind::Damaged {
            MAX_DAMAGED_PROBE_WAIT
        } else {
            MAX_PROBE_WAIT
        };
        let mut wait = FIRST_PROBE;
        loop {
            tokio::select! {
                () = stopping.stopped() => return,
                // A call's own write may succeed first.
                healed = changes.wait_for(Option::is_none) => if healed.is_err() { return } else { break },
                () = tokio::time::sleep(wait) => {}
            }
            match storage.probe().await {
                Ok(()) => break,
                Err(error) => {
                    tracing::debug!(unit, error = %rapport_errors::chain(&error), retry_in_ms = wait.as_millis() as u64, "storage probe failed");
                    wait = (wait * 2).min(ceiling);
                }
            }
            // A full storage found damaged meanwhile stops serving reads too.
            if let Some(now) = storage.health().refusal()
                && now.kind != refusal.kind
            {
                for service in &services {
                    readiness.set_refusal(service, Some(now.clone()));
                }
            }
        }
        let since = refusal.since.elapsed().unwrap_or_default();
        tracing::warn!(
            unit,
            refused_for_ms = since.as_millis() as u64,
            "storage accepts writes again: back in rotation"
        );
        for service in &services {
            readiness.set_refusal(service, None);
            reporter
                .set_service_status(*service, ServingStatus::Serving)
                .await;
        }
        if readiness.not_ready().is_empty() {
            reporter
                .set_service_status("", ServingStatus::Serving)
                .await;
        }
    }
}

/// Writes the entries of audited changes whose calls never finished here, until shutdown.
pub(crate) async fn settle_abandoned(unit: &'static str, trail: AuditLog, mut stopping: Stopping) {
    loop {
        let now = rapport_clock::to_unix_micros(jiff::Timestamp::now());
        match trail.settle_abandoned(now).await {
            Ok(0) => {}
            Ok(settled) => {
                tracing::info!(unit, settled, "audit entries of abandoned calls written")
            }
            Err(error) => {
                tracing::warn!(unit, error = %rapport_errors::chain(&error), "cannot settle abandoned audit entries yet")
            }
        }
        tokio::select! {
            () = stopping.stopped() => return,
            () = tokio::time::sleep(SETTLE_EVERY) => {}
        }
    }
}
