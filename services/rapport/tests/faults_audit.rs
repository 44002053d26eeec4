//! The audit entry commits with its change (issue 20): a client hanging up mid-call, or the
//! process killed between the commit and the answer, leaves no committed change without its
//! entry. Every recorded interaction is one committed change naming its customer, so the
//! customer's interactions and the trail's RecordInteraction entries for that customer (answered
//! `OK`, or `COMMITTED_NO_ANSWER` when the call never finished) must be as many.

// The measured times and counts are this test's report (run with --nocapture to see them).
#![allow(clippy::print_stderr)]

mod running;

use std::time::Duration;

use running::{Dev, audit_outcomes, interaction, interactions_of};

const RECORD_INTERACTION: &str = "/rapport.profiles.v1.ProfileService/RecordInteraction";

/// Entries that stand for a committed change.
fn committed(outcomes: &std::collections::BTreeMap<String, usize>) -> usize {
    outcomes.get("OK").copied().unwrap_or(0)
        + outcomes.get("COMMITTED_NO_ANSWER").copied().unwrap_or(0)
}

/// Waits until every committed interaction has its entry (the sweep writes abandoned ones once
/// their call's deadline and margin have passed), or panics with both counts.
async fn every_change_has_its_entry(dev: &Dev, customer_id: &str) -> (usize, usize) {
    let start = std::time::Instant::now();
    loop {
        let changes = interactions_of(dev, customer_id).await;
        let outcomes = audit_outcomes(dev, RECORD_INTERACTION, customer_id).await;
        let entries = committed(&outcomes);
        if changes == entries {
            return (
                changes,
                outcomes.get("COMMITTED_NO_ANSWER").copied().unwrap_or(0),
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{changes} interactions committed but {entries} audit entries say so ({outcomes:?})"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Calls that the client abandons at spread-out moments: some before the change commits (no
/// change, no entry), some after it and before the guard writes the entry (before issue 20 the
/// entry was lost with the dropped call).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_does_not_separate_a_change_from_its_entry() {
    let data = tempfile::tempdir().expect("data directory");
    let dev = Dev::start(data.path()).await;
    let customer_id = dev.customer().await;

    let mut calls = tokio::task::JoinSet::new();
    for i in 0..240_u64 {
        let mut client = dev.profiles();
        let request = interaction(&customer_id, 2_000);
        // 0 to 36 ms, spread over the calls: around the time a call takes under this load.
        let patience = Duration::from_millis((i * 7_919) % 37);
        calls.spawn(async move {
            let mut request = tonic::Request::new(request);
            request.set_timeout(Duration::from_secs(1));
            // Dropping the call's future resets the stream: the server sees the client go.
            tokio::time::timeout(patience, client.record_interaction(request))
                .await
                .is_ok()
        });
        if i % 40 == 39 {
            while calls.join_next().await.is_some() {}
        }
    }
    while calls.join_next().await.is_some() {}

    let (changes, abandoned) = every_change_has_its_entry(&dev, &customer_id).await;
    assert!(changes > 0, "some calls committed");
    eprintln!(
        "{changes} committed interactions, {abandoned} of them recorded as COMMITTED_NO_ANSWER"
    );
}

/// How a test's suite is started again on the same data.
enum Backend<'a> {
    Sqlite(&'a std::path::Path),
    Postgres {
        work: &'a std::path::Path,
        url: String,
    },
}

impl Backend<'_> {
    async fn start(&self) -> Dev {
        match self {
            Backend::Sqlite(data) => Dev::start(data).await,
            Backend::Postgres { work, url } => Dev::serve_profiles(work, url).await,
        }
    }
}

/// SIGKILL under concurrent writes, twice: after each restart every committed change has its
/// entry (the sweep writes those whose call died between commit and answer).
async fn sigkill_under_concurrent_writes(backend: Backend<'_>) {
    let customer_id = {
        let dev = backend.start().await;
        dev.customer().await
        // Dropped: killed.
    };
    let mut abandoned = 0;
    for round in 0..2 {
        let dev = backend.start().await;
        let mut writers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let mut client = dev.profiles();
            let customer_id = customer_id.clone();
            writers.spawn(async move {
                loop {
                    let mut request = tonic::Request::new(interaction(&customer_id, 500));
                    request.set_timeout(Duration::from_secs(1));
                    if client.record_interaction(request).await.is_err() {
                        // The process is gone.
                        return;
                    }
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(700 + 300 * round)).await;
        dev.kill();
        while writers.join_next().await.is_some() {}

        let dev = backend.start().await;
        let (changes, so_far) = every_change_has_its_entry(&dev, &customer_id).await;
        assert!(changes > 0);
        eprintln!(
            "round {round}: {changes} committed interactions so far, {} more recorded as COMMITTED_NO_ANSWER after this SIGKILL",
            so_far - abandoned
        );
        abandoned = so_far;
        let verified = rapport_proto::audit::v1::audit_service_client::AuditServiceClient::new(
            dev.channel.clone(),
        )
        .verify_audit_chain(rapport_proto::audit::v1::VerifyAuditChainRequest {
            service: "profiles".into(),
        })
        .await
        .expect("the chain verifies")
        .into_inner();
        assert!(verified.intact, "{verified:?}");
    }
    eprintln!("{abandoned} entries in all were written by the sweep after a SIGKILL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_commit_and_answer_loses_no_audit_entry() {
    let data = tempfile::tempdir().expect("data directory");
    sigkill_under_concurrent_writes(Backend::Sqlite(data.path())).await;
}

/// The same on PostgreSQL, `rapport serve profiles` on a private cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_between_commit_and_answer_loses_no_audit_entry_on_postgres() {
    if !running::postgres::private_postgres_possible(
        "sigkill_between_commit_and_answer_loses_no_audit_entry_on_postgres",
    ) {
        return;
    }
    let cluster = running::postgres::PrivateCluster::start();
    let work = tempfile::tempdir().expect("directory");
    sigkill_under_concurrent_writes(Backend::Postgres {
        work: work.path(),
        url: cluster.url(),
    })
    .await;
}
