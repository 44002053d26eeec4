//! Storage faults caused for real against the `rapport` binary (issue 20): a lock another
//! process holds past the busy timeout, a database file damaged while it is served, and
//! PostgreSQL restarted under load. Each says what callers see (codes by cause, never INTERNAL
//! or UNKNOWN), what health and `/readyz` say, and whether the suite comes back by itself.

mod running;

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use rapport_proto::audit::v1 as audit;
use rapport_proto::audit::v1::audit_service_client::AuditServiceClient;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as profiles;
use rapport_storage::sqlx::{self, AnyConnection, Connection};
use tonic::{Code, Status};
use tonic_health::pb::health_check_response::ServingStatus;

use running::Dev;
use running::postgres::{PgCtl, PrivateCluster, private_postgres_possible};

const PROFILE_SERVICE: &str = "rapport.profiles.v1.ProfileService";
/// One gRPC service of each unit that shares the process with profiles in `rapport dev`.
const OTHER_UNITS: [&str; 3] = [
    "rapport.plans.v1.AccountService",
    "rapport.referrals.v1.ReferralService",
    "rapport.loyalty.v1.LoyaltyService",
];
/// `PRAGMA busy_timeout` of every storage connection (`libs/storage`, `sqlite_pool`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// `storage.acquire_timeout_ms` by default: how long a call waits for a connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

fn new_customer(name: String, request_id: String) -> profiles::CreateCustomerRequest {
    profiles::CreateCustomerRequest {
        customer: Some(profiles::Customer {
            legal_name: name,
            locale: "ro-RO".into(),
            time_zone: "Europe/Bucharest".into(),
            addresses: vec![profiles::Address {
                address: Some(common::PostalAddress {
                    lines: vec!["Strada Exemplului 12, bloc A, scara 3, apartament 45".into()],
                    locality: "Cluj-Napoca".into(),
                    region: "Cluj".into(),
                    postal_code: "400001".into(),
                    country_code: "RO".into(),
                }),
                verified: true,
                primary: true,
            }],
            ..Default::default()
        }),
        request_id,
    }
}

/// Opens a connection of our own to a SQLite file, as another process would.
async fn open_sqlite(path: &Path) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap_or_else(|error| panic!("open {}: {error}", path.display()))
}

/// A gRPC outcome no storage fault may produce: the caller could not tell a bug from a fault.
fn is_bug_code(code: Code) -> bool {
    matches!(code, Code::Internal | Code::Unknown)
}

#[tokio::test]
async fn a_lock_held_past_the_busy_timeout_is_unavailable_and_the_same_write_works_once_it_is_released()
 {
    let data = tempfile::tempdir().expect("data directory");
    let suite = Dev::start(data.path()).await;
    let mut profiles = suite.profiles();
    let known = profiles
        .create_customer(new_customer("Ana Lock".into(), String::new()))
        .await
        .expect("a customer before the lock")
        .into_inner()
        .customer
        .expect("customer")
        .customer_id;

    // Another process takes the write lock and keeps it past the busy timeout.
    let mut holder = open_sqlite(&data.path().join("profiles.db")).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .expect("the write lock is ours");
    let locked_at = Instant::now();

    let write = new_customer("Bogdan Lock".into(), "lock-held-past-busy-timeout".into());
    let (written, read) = tokio::join!(
        async {
            let started = Instant::now();
            let outcome = suite.profiles().create_customer(write.clone()).await;
            (outcome, started.elapsed())
        },
        async {
            let started = Instant::now();
            let outcome = suite
                .profiles()
                .get_customer(profiles::GetCustomerRequest {
                    customer_id: known.clone(),
                    view: profiles::CustomerView::Full as i32,
                })
                .await;
            (outcome, started.elapsed())
        }
    );
    let (read, read_took) = read;
    let read = read.unwrap_or_else(|status| {
        panic!(
            "a read while another process holds the write lock works (WAL): {status:?}\n{}",
            suite.log_tail()
        )
    });
    assert_eq!(
        read.into_inner().customer.map(|c| c.customer_id),
        Some(known.clone())
    );
    assert!(
        read_took < Duration::from_secs(2),
        "a read does not wait for the write lock: took {read_took:?}"
    );

    let (written, write_took) = written;
    let refused = match written {
        Ok(response) => panic!(
            "a write while another process holds the lock for {:?} cannot succeed: {response:?}",
            locked_at.elapsed()
        ),
        Err(status) => status,
    };
    report(&format!(
        "lock held past the busy timeout: the write failed with {:?} after {write_took:?}",
        refused.code()
    ));
    assert_eq!(
        refused.code(),
        Code::Unavailable,
        "busy is transient, safe to retry: {refused:?}\n{}",
        suite.log_tail()
    );
    assert!(
        refused.message().contains("retry"),
        "the message says what to do: {:?}",
        refused.message()
    );
    // It waited for the lock (the busy timeout), and not much longer: a caller's retry budget
    // depends on it.
    assert!(
        write_took >= BUSY_TIMEOUT - Duration::from_millis(500),
        "failed before the busy timeout ({write_took:?}): not the lock?"
    );
    assert!(
        write_took < BUSY_TIMEOUT + Duration::from_secs(2),
        "failed {write_took:?} after the call, not within the busy timeout ({BUSY_TIMEOUT:?}) and a margin\n{}",
        suite.log_tail()
    );
    // Busy is not a refusal: the unit stays in rotation.
    assert_eq!(
        suite.health(PROFILE_SERVICE).await,
        ServingStatus::Serving as i32
    );
    let (ready, said) = suite.admin_get("/readyz");
    assert_eq!(ready, 200, "busy is not unready: {said}");

    // The other process lets go; the same write (same request id) now succeeds, no restart.
    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("the lock is released");
    holder.close().await.expect("closed");
    let released_at = Instant::now();
    let created = profiles
        .create_customer(write)
        .await
        .unwrap_or_else(|status| {
            panic!(
                "the same write after the lock is released: {status:?}\n{}",
                suite.log_tail()
            )
        })
        .into_inner()
        .customer
        .expect("customer");
    assert!(
        released_at.elapsed() < BUSY_TIMEOUT,
        "the write after the release took {:?}",
        released_at.elapsed()
    );
    let found = profiles
        .get_customer(profiles::GetCustomerRequest {
            customer_id: created.customer_id.clone(),
            view: profiles::CustomerView::Basic as i32,
        })
        .await
        .expect("the written customer reads back")
        .into_inner()
        .customer
        .expect("customer");
    assert_eq!(found.legal_name, "Bogdan Lock");
}

/// Bytes that look random (xorshift64*), the same on every run.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
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

/// A line of the test's own report: what it damaged, the timings it measured, a skip.
#[expect(
    clippy::print_stderr,
    reason = "what a fault test measured is its report"
)]
fn report(line: &str) {
    eprintln!("{line}");
}

/// Whether a failed call showed the damage: DATA_LOSS, or UNAVAILABLE naming it.
fn shows_damage(status: &Status) -> bool {
    status.code() == Code::DataLoss
        || (status.code() == Code::Unavailable && status.message().contains("damaged"))
}

#[tokio::test]
async fn a_file_damaged_while_served_takes_its_unit_out_of_service_and_only_that_unit() {
    let data = tempfile::tempdir().expect("data directory");
    let suite = Dev::start(data.path()).await;

    // A few hundred customers: profiles.db spans many pages.
    let mut creating = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let mut profiles = suite.profiles();
        creating.spawn(async move {
            let mut ids = Vec::new();
            for n in 0..50 {
                let customer = profiles
                    .create_customer(new_customer(
                        format!("Probe Customer {worker}-{n}"),
                        String::new(),
                    ))
                    .await
                    .expect("customer created")
                    .into_inner()
                    .customer
                    .expect("customer");
                ids.push(customer.customer_id);
            }
            ids
        });
    }
    let mut ids = Vec::new();
    while let Some(created) = creating.join_next().await {
        ids.extend(created.expect("creating task"));
    }

    let db = data.path().join("profiles.db");
    let mut own = open_sqlite(&db).await;
    // Everything into the main file; a TRUNCATE checkpoint also restarts the WAL header, so
    // every connection of the server drops its page cache at its next read.
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut own)
        .await
        .expect("checkpoint");
    assert_eq!(busy, 0, "the checkpoint completed");
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut own)
        .await
        .expect("page size");
    let page_count: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut own)
        .await
        .expect("page count");
    let damage = 16 * 1024;
    // In the middle of the file, from the audit trail's page nearest to it, over no page a
    // background worker reads (the outbox, pending audit halves): the first to see the damage is
    // then one of the calls below, the audit check, on every run.
    let first_page: i64 = sqlx::query_scalar(
        "SELECT trail.pageno FROM dbstat AS trail WHERE trail.name = 'audit_log' \
         AND NOT EXISTS (SELECT 1 FROM dbstat AS other \
           WHERE other.pageno BETWEEN trail.pageno AND trail.pageno + $2 - 1 \
           AND (other.name LIKE '%outbox%' OR other.name LIKE '%audit_pending%')) \
         ORDER BY abs(trail.pageno - $1), trail.pageno LIMIT 1",
    )
    .bind(page_count / 2)
    .bind(damage / page_size)
    .fetch_one(&mut own)
    .await
    .expect("a page of the audit trail away from the outbox");
    assert!(first_page > 1, "the header page stays sound");
    let last_page = first_page + damage / page_size - 1;
    let hit: Vec<(String, i64)> = sqlx::query_as(
        "SELECT name, pageno FROM dbstat WHERE pageno BETWEEN $1 AND $2 ORDER BY pageno",
    )
    .bind(first_page)
    .bind(last_page)
    .fetch_all(&mut own)
    .await
    .expect("dbstat");
    own.close().await.expect("closed");
    report(&format!(
        "profiles.db: {page_count} pages of {page_size} bytes; damaging pages {first_page}..={last_page}: {hit:?}"
    ));
    overwrite(
        &db,
        u64::try_from((first_page - 1) * page_size).expect("offset"),
        &noise(usize::try_from(damage).expect("size")),
    );
    // SQLite itself sees it (a fresh connection, no cache).
    let mut fresh = open_sqlite(&db).await;
    let check: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_all(&mut fresh)
        .await
        .unwrap_or_else(|error| vec![error.to_string()]);
    fresh.close().await.expect("closed");
    assert_ne!(check, ["ok"], "the damage is in pages SQLite checks");

    // Calls that read the damaged data, until one has seen it.
    let mut calls: Vec<(String, Code)> = Vec::new();
    let mut seen: Option<String> = None;
    let mut record = |call: String, outcome: Result<(), Status>| -> bool {
        let code = outcome.as_ref().err().map_or(Code::Ok, Status::code);
        if let Err(status) = &outcome {
            assert!(
                !is_bug_code(status.code()),
                "{call} on damaged storage answered {status:?}: a fault, not a bug"
            );
            if shows_damage(status) && seen.is_none() {
                seen = Some(format!(
                    "{call}: {:?} {:?}",
                    status.code(),
                    status.message()
                ));
            }
        }
        calls.push((call, code));
        seen.is_some()
    };
    let verified = AuditServiceClient::new(suite.channel.clone())
        .verify_audit_chain(audit::VerifyAuditChainRequest {
            service: "profiles".into(),
        })
        .await
        .map(drop);
    let mut done = record("VerifyAuditChain".into(), verified);
    let mut page_token = String::new();
    while !done {
        let page = suite
            .profiles()
            .search_customers(profiles::SearchCustomersRequest {
                name: "Probe".into(),
                view: profiles::CustomerView::Full as i32,
                page: Some(common::PageRequest {
                    page_size: 100,
                    page_token: page_token.clone(),
                }),
                ..Default::default()
            })
            .await;
        page_token = page
            .as_ref()
            .ok()
            .and_then(|page| page.get_ref().page.as_ref())
            .map(|page| page.next_page_token.clone())
            .unwrap_or_default();
        done = record("SearchCustomers".into(), page.map(drop));
        if page_token.is_empty() {
            break;
        }
    }
    for id in &ids {
        if done {
            break;
        }
        let got = suite
            .profiles()
            .export_customer(profiles::ExportCustomerRequest {
                customer_id: id.clone(),
            })
            .await
            .map(drop);
        done = record(format!("ExportCustomer {id}"), got);
    }
    for n in 0..20 {
        if done {
            break;
        }
        let created = suite
            .profiles()
            .create_customer(new_customer(
                format!("Probe After Damage {n}"),
                String::new(),
            ))
            .await
            .map(drop);
        done = record("CreateCustomer".into(), created);
    }
    let Some(first_seen) = seen else {
        panic!(
            "no call saw the damage to pages {first_page}..={last_page} ({hit:?}); calls: {calls:?}\n{}",
            suite.log_tail()
        );
    };
    report(&format!(
        "damage first seen by {first_seen} after {} calls",
        calls.len()
    ));

    // From now on the unit is out of service: health, readiness, metrics, and every call.
    assert!(
        suite
            .health_becomes(
                PROFILE_SERVICE,
                ServingStatus::NotServing,
                Duration::from_secs(2)
            )
            .await,
        "{PROFILE_SERVICE} is NOT_SERVING once a call has seen the damage ({first_seen})\n{}",
        suite.log_tail()
    );
    assert!(
        suite
            .health_becomes("", ServingStatus::NotServing, Duration::from_secs(2))
            .await,
        "the server as a whole is NOT_SERVING"
    );
    for service in OTHER_UNITS {
        assert_eq!(
            suite.health(service).await,
            ServingStatus::Serving as i32,
            "{service} keeps serving: its storage is sound"
        );
    }
    let (ready, said) = suite.admin_get("/readyz");
    assert_eq!(ready, 503, "{said}");
    assert!(
        said.contains(&format!(
            "{PROFILE_SERVICE}: storage refuses writes (damaged)"
        )),
        "/readyz names the service and the cause: {said}"
    );
    assert!(
        !OTHER_UNITS.iter().any(|service| said.contains(service)),
        "/readyz blames only profiles: {said}"
    );
    let (_, metrics) = suite.admin_get("/metrics");
    let refusing = |service: &str| -> Vec<f64> {
        metrics
            .lines()
            .filter(|line| line.starts_with("rapport_storage_refusing_writes{"))
            .filter(|line| {
                line.contains(&format!("service=\"{service}\""))
                    && line.contains("reason=\"damaged\"")
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
            .collect()
    };
    assert_eq!(
        refusing("profiles"),
        [1.0],
        "the metric says so:\n{metrics}"
    );
    for unit in ["plans", "referrals", "loyalty"] {
        assert_eq!(refusing(unit), [0.0], "{unit} is sound:\n{metrics}");
    }
    for (call, outcome) in [
        (
            "GetCustomer",
            suite
                .profiles()
                .get_customer(profiles::GetCustomerRequest {
                    customer_id: ids[0].clone(),
                    view: profiles::CustomerView::Basic as i32,
                })
                .await
                .map(drop),
        ),
        (
            "CreateCustomer",
            suite
                .profiles()
                .create_customer(new_customer("Probe Refused".into(), String::new()))
                .await
                .map(drop),
        ),
    ] {
        let refused = outcome.expect_err("a damaged unit answers no call");
        assert_eq!(refused.code(), Code::Unavailable, "{call}: {refused:?}");
        assert!(
            refused.message().contains("restore"),
            "{call} says what to do: {refused:?}"
        );
    }
}

/// One write of the load: when it started and ended, and how.
struct LoadWrite {
    started: Instant,
    ended: Instant,
    outcome: Result<(), Status>,
}

/// Collects the load's outcomes into `writes` until `until` holds of them (then `true`), at most
/// for `limit`.
async fn collect_until(
    seen: &mut tokio::sync::mpsc::UnboundedReceiver<LoadWrite>,
    writes: &mut Vec<LoadWrite>,
    limit: Duration,
    until: impl Fn(&[LoadWrite]) -> bool,
) -> bool {
    tokio::time::timeout(limit, async {
        while let Some(write) = seen.recv().await {
            writes.push(write);
            if until(writes) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false)
}

#[tokio::test]
async fn postgres_restarted_under_load_is_unavailable_meanwhile_and_writes_resume_without_a_restart()
 {
    const TEST: &str = "postgres_restarted_under_load";
    if !private_postgres_possible(TEST) {
        return;
    }
    let work = tempfile::tempdir().expect("work directory");
    let cluster = PrivateCluster::start();
    let mut suite = Dev::serve_profiles(work.path(), &cluster.url()).await;

    // Four callers writing continuously.
    let (outcomes, mut seen) = tokio::sync::mpsc::unbounded_channel::<LoadWrite>();
    let (stop_load, load_stopped) = tokio::sync::watch::channel(false);
    let mut load = tokio::task::JoinSet::new();
    for caller in 0..4 {
        let (mut profiles, outcomes, stopped) =
            (suite.profiles(), outcomes.clone(), load_stopped.clone());
        load.spawn(async move {
            let mut n = 0;
            while !*stopped.borrow() {
                n += 1;
                let started = Instant::now();
                let outcome = profiles
                    .create_customer(new_customer(
                        format!("Load Caller {caller}-{n}"),
                        String::new(),
                    ))
                    .await
                    .map(drop);
                let write = LoadWrite {
                    started,
                    ended: Instant::now(),
                    outcome,
                };
                if outcomes.send(write).is_err() {
                    return;
                }
            }
        });
    }
    drop(outcomes);
    let mut writes: Vec<LoadWrite> = Vec::new();

    let warmed = collect_until(&mut seen, &mut writes, Duration::from_secs(20), |writes| {
        writes.iter().filter(|w| w.outcome.is_ok()).count() >= 20
    })
    .await;
    assert!(
        warmed,
        "20 writes succeed before the restart\n{}",
        suite.log_tail()
    );
    assert!(
        writes.iter().all(|w| w.outcome.is_ok()),
        "no failures before the restart: {:?}",
        writes
            .iter()
            .filter_map(|w| w.outcome.as_ref().err())
            .collect::<Vec<_>>()
    );

    // The database goes away under load, and stays away until the callers have seen it.
    let stopping = Instant::now();
    cluster.ctl.run(PgCtl::stop_fast).await;
    let stopped = Instant::now();
    let failed_during_outage = |writes: &[LoadWrite]| {
        writes
            .iter()
            .filter(|w| w.ended >= stopping && w.outcome.is_err())
            .count()
    };
    let noticed = collect_until(&mut seen, &mut writes, Duration::from_secs(30), |writes| {
        failed_during_outage(writes) >= 2
    })
    .await;
    assert!(
        noticed,
        "writes fail while the database is down\n{}",
        suite.log_tail()
    );
    cluster.ctl.run(PgCtl::start).await;
    let back = Instant::now();
    // A write begun after the stop that succeeded committed after the database came back.
    let after_restart = |w: &LoadWrite| w.started >= stopped && w.outcome.is_ok();
    let recovered = collect_until(&mut seen, &mut writes, Duration::from_secs(30), |writes| {
        writes.iter().any(after_restart)
    })
    .await;
    let recovery = writes
        .iter()
        .filter(|w| after_restart(w))
        .map(|w| w.ended.saturating_duration_since(back))
        .min();
    // Then writes keep succeeding, not just one.
    let steady = recovered
        && collect_until(&mut seen, &mut writes, Duration::from_secs(20), |writes| {
            writes
                .iter()
                .rev()
                .take(20)
                .filter(|w| after_restart(w))
                .count()
                == 20
        })
        .await;
    stop_load.send_replace(true);
    while load.join_next().await.is_some() {}
    while let Ok(write) = seen.try_recv() {
        writes.push(write);
    }

    let failures: Vec<&LoadWrite> = writes.iter().filter(|w| w.outcome.is_err()).collect();
    let mut failed_after: Vec<Duration> = failures.iter().map(|w| w.ended - w.started).collect();
    failed_after.sort();
    report(&format!(
        "postgres restart: stop took {:?}; down {:?}; {} writes, {} failed, each after {failed_after:?}; \
         first successful write {} after the server accepted connections again",
        stopped - stopping,
        back - stopped,
        writes.len(),
        failures.len(),
        recovery.map_or("never".to_owned(), |r| format!("{:.2} s", r.as_secs_f64()))
    ));
    let wrong: Vec<&Status> = failures
        .iter()
        .filter_map(|w| w.outcome.as_ref().err())
        .filter(|status| status.code() != Code::Unavailable)
        .collect();
    assert!(
        wrong.is_empty(),
        "while the database restarts every failure is UNAVAILABLE (retry), never a bug: {wrong:#?}\n{}",
        suite.log_tail()
    );
    let recovery = recovery.unwrap_or_else(|| {
        panic!(
            "no write succeeded within 30 s of the database accepting connections again, without restarting rapport\n{}",
            suite.log_tail()
        )
    });
    assert!(
        recovery < Duration::from_secs(15),
        "writes resumed {recovery:?} after the database came back"
    );
    assert!(
        steady,
        "writes keep succeeding after the restart\n{}",
        suite.log_tail()
    );
    assert_eq!(
        suite.health(PROFILE_SERVICE).await,
        ServingStatus::Serving as i32
    );
    let (ready, said) = suite.admin_get("/readyz");
    assert_eq!(ready, 200, "{said}");
    assert_eq!(
        suite.exited(),
        None,
        "the same rapport process, never restarted"
    );
    // A caller learns of the outage within the storage's acquire timeout and a margin: its
    // retry budget (and a fan-out's deadline) depends on it.
    let slowest = failed_after.last().copied().unwrap_or_default();
    assert!(
        slowest < ACQUIRE_TIMEOUT + Duration::from_secs(2),
        "a write failed only {slowest:?} after it was called (all: {failed_after:?}), not within the acquire timeout ({ACQUIRE_TIMEOUT:?}) and a margin\n{}",
        suite.log_tail()
    );
}
