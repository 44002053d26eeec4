//! The trail on each backend: two writers (as two replicas of a service would be) append at the
//! same time and the chain stays gapless and verifiable; an entry altered or removed in the
//! database is found.

#![allow(clippy::unwrap_used)]

use rapport_audit::{AuditLog, Filter, NewEntry, PendingCall};
use rapport_storage::sqlx;
use rapport_storage::testing::TestDatabase;
use rapport_storage::{EmbeddedMigration, Migrations, backend_tests};

static MIGRATIONS: Migrations = Migrations(&[EmbeddedMigration {
    version: 1,
    description: "audit_log",
    sql: rapport_audit::MIGRATION_SQL,
}]);

fn entry(actor: &str, n: i64) -> NewEntry {
    NewEntry {
        recorded_at_micros: 1_800_000_000_000_000 + n,
        actor: actor.to_owned(),
        role: "agent".to_owned(),
        rpc: "/rapport.plans.v1.PlanService/AcceptPlan".to_owned(),
        targets: vec![format!("plan_id=plan-{actor}-{n}")],
        outcome: "OK".to_owned(),
        trace_id: String::new(),
    }
}

async fn two_writers_keep_one_chain_and_tampering_is_found(db: TestDatabase) {
    let first = db.open();
    first.migrate(&MIGRATIONS).await.unwrap();
    // Separate pools and separate append locks: like two processes on one database.
    let a = AuditLog::new(first.clone());
    let b = AuditLog::new(db.open());
    let appends = (0..15).flat_map(|n| {
        let (a, b) = (a.clone(), b.clone());
        [
            tokio::spawn(async move { a.append(&entry("replica-a", n)).await.map(|e| e.seq) }),
            tokio::spawn(async move { b.append(&entry("replica-b", n)).await.map(|e| e.seq) }),
        ]
    });
    let mut seqs: Vec<i64> = futures_util::future::join_all(appends)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>(), "gapless, none twice");

    let verified = a.verify().await.unwrap();
    assert_eq!(verified.broken, None);
    assert_eq!(verified.entries_checked, 30);

    let newest = a
        .list(&Filter {
            limit: 1,
            ..Filter::default()
        })
        .await
        .unwrap();
    assert_eq!(newest[0].seq, 30);
    assert_eq!(newest[0].hash, verified.head_hash);
    let by_target = a
        .list(&Filter {
            target_id: Some("plan-replica-b-3".to_owned()),
            limit: 10,
            ..Filter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_target.len(), 1);
    assert_eq!(by_target[0].entry.actor, "replica-b");

    // Someone with database access rewrites who did entry 7.
    sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 7")
        .execute(first.reader())
        .await
        .unwrap();
    let (seq, problem) = a.verify().await.unwrap().broken.unwrap();
    assert_eq!(seq, 7);
    assert!(problem.contains("altered"), "{problem}");

    // Removing it instead is found as well.
    sqlx::query("DELETE FROM audit_log WHERE seq = 7")
        .execute(first.reader())
        .await
        .unwrap();
    let (seq, problem) = a.verify().await.unwrap().broken.unwrap();
    assert_eq!(seq, 7);
    assert!(problem.contains("missing"), "{problem}");
}

static WITH_PENDING: Migrations = Migrations(&[
    EmbeddedMigration {
        version: 1,
        description: "audit_log",
        sql: rapport_audit::MIGRATION_SQL,
    },
    EmbeddedMigration {
        version: 2,
        description: "audit_pending",
        sql: rapport_audit::PENDING_MIGRATION_SQL,
    },
]);

/// Appends that arrive together are written together (one transaction a turn), each after the
/// one before it in the one chain, and each settles its own call's pending half.
async fn appends_arriving_together_share_a_turn_and_keep_one_chain(db: TestDatabase) {
    let storage = db.open();
    storage.migrate(&WITH_PENDING).await.unwrap();
    let trail = AuditLog::new(storage.clone());
    let calls: Vec<PendingCall> = (0..40)
        .map(|n| PendingCall::new(&entry("agent-1", n), i64::MAX))
        .collect();
    for call in &calls {
        // Each change committed its pending half.
        let mut tx = storage.begin_write().await.unwrap();
        call.commit_row().write(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    let appends = calls.iter().enumerate().map(|(n, call)| {
        let (trail, call) = (trail.clone(), call.clone());
        let n = i64::try_from(n).unwrap();
        tokio::spawn(async move {
            trail
                .append_for(&call, &entry("agent-1", n))
                .await
                .map(|e| e.seq)
        })
    });
    let mut seqs: Vec<i64> = futures_util::future::join_all(appends)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>(), "gapless, none twice");
    let verified = trail.verify().await.unwrap();
    assert_eq!(verified.broken, None);
    assert_eq!(verified.entries_checked, 40);
    let (pending,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_pending")
        .fetch_one(storage.reader())
        .await
        .unwrap();
    assert_eq!(
        pending, 0,
        "every call's pending half settled with its entry"
    );
    // Nobody is left to settle: the sweep finds nothing, and appends go on from the head.
    assert_eq!(trail.settle_abandoned(i64::MAX).await.unwrap(), 0);
    assert_eq!(trail.append(&entry("agent-2", 1)).await.unwrap().seq, 41);
}

/// The trail remembers its head between turns. If the database no longer has it (entries lost
/// when PostgreSQL crashed before flushing a turn committed asynchronously, or a backup restored
/// under a running process), the next entry must follow the last entry the database has, not
/// leave a gap after the remembered one.
async fn a_head_the_database_lost_is_not_built_on(db: TestDatabase) {
    let storage = db.open();
    storage.migrate(&WITH_PENDING).await.unwrap();
    let trail = AuditLog::new(storage.clone());
    for n in 0..3 {
        let call = PendingCall::new(&entry("agent-1", n), i64::MAX);
        let mut tx = storage.begin_write().await.unwrap();
        call.commit_row().write(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        trail.append_for(&call, &entry("agent-1", n)).await.unwrap();
    }
    // The last two entries are gone, as a crash of PostgreSQL before their flush would leave the
    // trail (their pending halves would be back too: the sweep's business, not this test's).
    let mut tx = storage.begin_write().await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq > 1")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let call = PendingCall::new(&entry("agent-1", 3), i64::MAX);
    let mut tx = storage.begin_write().await.unwrap();
    call.commit_row().write(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    let appended = trail.append_for(&call, &entry("agent-1", 3)).await.unwrap();
    assert_eq!(appended.seq, 2, "follows the last entry stored");
    let verified = trail.verify().await.unwrap();
    assert_eq!(verified.broken, None);
    assert_eq!(verified.entries_checked, 2);
    // And the turn after it goes on from there.
    assert_eq!(trail.append(&entry("agent-2", 1)).await.unwrap().seq, 3);
}

backend_tests!(
    two_writers_keep_one_chain_and_tampering_is_found,
    appends_arriving_together_share_a_turn_and_keep_one_chain,
    a_head_the_database_lost_is_not_built_on
);
