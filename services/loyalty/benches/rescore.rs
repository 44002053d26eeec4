//! Batch rescoring of every customer, on SQLite, with realistic signal counts.
//!
//! `cargo bench -p rapport-loyalty --bench rescore` (100,000 customers);
//! `RESCORE_CUSTOMERS=1000000 cargo bench -p rapport-loyalty --bench rescore` for the figure in
//! the notes. Prints seeding time, rescoring time, customers per second and the peak resident
//! memory of the rescoring alone (the high-water mark is reset after seeding); then reruns a
//! minute later with no signal changed and prints the database's growth per unchanged customer
//! (the bound in docs/scaling.md: at most 200 bytes; an unchanged customer adds no history row).
//!
//! Each customer gets, from a fixed-seed generator: a tenure of 0–30 years, 1–4 products, 0–4
//! survey answers (a detractor's with its follow-up, most closed), 0–10 touchpoints, commitments
//! kept and broken, sometimes vouches and referrals, and for one in eight a hardship episode
//! with a plan and its installments. About 12 signals per customer on average.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use rapport_ids::Id;
use rapport_loyalty::Rules;
use rapport_storage::sqlx::{self, AssertSqlSafe};
use rapport_storage::{Storage, StorageSettings};

/// A small, fixed-seed generator (xorshift64*): the same data set every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// (kind, value, reference, days ago) rows for one customer.
fn life(rng: &mut Rng, now: Timestamp) -> Vec<(&'static str, i64, Option<String>, i64)> {
    let mut rows = Vec::new();
    let day = |d: i64| now - SignedDuration::from_hours(24 * d);
    for _ in 0..rng.below(5) {
        let nps = rng.below(11) as i64;
        let days = rng.below(720) as i64;
        rows.push(("survey", (nps + 1) * 10, None, days));
        if nps <= 6 {
            let follow_up = Id::new().to_string();
            let due = rapport_clock::to_unix_micros(day(days) + SignedDuration::from_hours(48));
            rows.push(("follow_up_opened", due, Some(follow_up.clone()), days));
            if rng.below(5) > 0 {
                rows.push(("follow_up_closed", due, Some(follow_up), (days - 1).max(0)));
            }
        }
    }
    for _ in 0..rng.below(11) {
        let sentiment =
            ["positive", "neutral", "neutral", "negative", "unknown"][rng.below(5) as usize];
        rows.push((
            "interaction",
            0,
            Some(sentiment.to_owned()),
            rng.below(720) as i64,
        ));
    }
    for _ in 0..rng.below(3) {
        let kind = if rng.below(5) == 0 {
            "commitment_broken"
        } else {
            "commitment_kept"
        };
        rows.push((kind, 0, None, rng.below(720) as i64));
    }
    if rng.below(5) == 0 {
        rows.push((
            "vouch_answered",
            (rng.below(2)) as i64,
            None,
            rng.below(720) as i64,
        ));
    }
    if rng.below(6) == 0 {
        rows.push(("referral_made", 0, None, rng.below(720) as i64));
        if rng.below(2) == 0 {
            rows.push(("referral_qualified", 0, None, rng.below(600) as i64));
        }
    }
    if rng.below(8) == 0 {
        let start = 200 + rng.below(400) as i64;
        rows.push(("hardship_opened", 0, None, start));
        rows.push(("plan_accepted", 0, None, start - 1));
        for i in 0..rng.below(10) as i64 {
            rows.push(("installment_paid", 0, None, (start - 30 * (i + 1)).max(0)));
        }
    }
    rows
}

/// Rows per multi-row INSERT: SQLite finds each `$n` by a linear scan, so a statement's binding
/// costs the square of its parameters (300 rows of 6 was most of the seeding time).
const ROWS_PER_INSERT: usize = 40;

/// (signal id, customer id, kind, value, reference, occurred at) as one `signals` row.
type SignalRow = (String, String, &'static str, i64, Option<String>, i64);

async fn seed(storage: &Storage, customers: u64, now: Timestamp) -> u64 {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut customer_rows: Vec<(String, String, i64)> = Vec::new();
    let mut signal_rows: Vec<SignalRow> = Vec::new();
    let mut signals = 0;
    let flush_customers = |rows: Vec<(String, String, i64)>| async move {
        let mut tx = storage.begin_write().await.unwrap();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            let sql = format!(
                "INSERT INTO customers (customer_id, customer_since, products_held) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, since, products) in chunk {
                q = q.bind(id.clone()).bind(since.clone()).bind(*products);
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    };
    let flush_signals = |rows: Vec<SignalRow>| async move {
        let mut tx = storage.begin_write().await.unwrap();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = 6 * i;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO signals (signal_id, customer_id, kind, value, reference, occurred_at_micros) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, customer, kind, value, reference, at) in chunk {
                q = q
                    .bind(id.clone())
                    .bind(customer.clone())
                    .bind(*kind)
                    .bind(*value)
                    .bind(reference.clone())
                    .bind(*at);
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    };
    for _ in 0..customers {
        let customer = Id::new().to_string();
        let since = jiff::civil::date(2026, 1, 1)
            .checked_sub(jiff::Span::new().days(rng.below(30 * 365) as i64))
            .unwrap();
        customer_rows.push((customer.clone(), since.to_string(), 1 + rng.below(4) as i64));
        for (kind, value, reference, days) in life(&mut rng, now) {
            let at = rapport_clock::to_unix_micros(now - SignedDuration::from_hours(24 * days));
            signal_rows.push((
                Id::new().to_string(),
                customer.clone(),
                kind,
                value,
                reference,
                at,
            ));
            signals += 1;
        }
        if customer_rows.len() >= 20_000 {
            flush_customers(std::mem::take(&mut customer_rows)).await;
        }
        if signal_rows.len() >= 60_000 {
            flush_signals(std::mem::take(&mut signal_rows)).await;
        }
    }
    flush_customers(customer_rows).await;
    flush_signals(signal_rows).await;
    signals
}

/// Bytes the database uses (pages in use, write-ahead log included).
async fn used_bytes(storage: &Storage) -> i64 {
    let pragma = |name: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("PRAGMA {name}")))
            .fetch_one(storage.reader())
            .await
            .unwrap();
        n
    };
    (pragma("page_count").await - pragma("freelist_count").await) * pragma("page_size").await
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let customers: u64 = std::env::var("RESCORE_CUSTOMERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("rapport-rescore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = StorageSettings {
        url: format!("sqlite://{}", dir.join("loyalty.db").display()),
        ..StorageSettings::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let storage = Storage::open(&settings).unwrap();
        storage.migrate(&rapport_loyalty::MIGRATIONS).await.unwrap();
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let started = Instant::now();
        let signals = seed(&storage, customers, now).await;
        let seeded = started.elapsed().as_secs_f64();
        println!(
            "seeded {customers} customers, {signals} signals ({:.1} per customer) in {seeded:.1} s",
            signals as f64 / customers as f64
        );
        let before = peak_rss_kib();
        // Reset the high-water mark so the figure is the rescoring's own.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let report = rapport_loyalty::rescore::rescore_all(&storage, &Rules::default(), now)
            .await
            .unwrap();
        let peak_mib = peak_rss_kib() / 1024;
        println!(
            "rescored {} customers ({} signals, {} pages) in {:.1} s (writer waiting {:.1} s): {:.0} customers/s; peak RSS {} MiB (seeding: {} MiB)",
            report.customers,
            report.signals,
            report.pages,
            report.seconds,
            report.writer_waiting_seconds,
            report.customers as f64 / report.seconds,
            peak_mib,
            before / 1024,
        );
        assert_eq!(report.customers, customers);
        // For rapport-bench's `rescore` scenario (bench/src/scenarios/scale.rs).
        println!(
            "figure: rescore customers={} seconds={:.2} writer_waiting_seconds={:.2} peak_rss_mib={}",
            report.customers,
            report.seconds,
            report.writer_waiting_seconds,
            peak_mib,
        );

        let before = used_bytes(&storage).await;
        let later = now + SignedDuration::from_secs(60);
        let rerun = rapport_loyalty::rescore::rescore_all(&storage, &Rules::default(), later)
            .await
            .unwrap();
        let grown = used_bytes(&storage).await - before;
        let per_unchanged = grown as f64 / rerun.unchanged.max(1) as f64;
        println!(
            "rerun a minute later, no signal changed: {:.1} s (writer waiting {:.1} s; {:.0} customers/s), {} of {} customers unchanged; \
             database grew {} KiB: {:.1} bytes per unchanged customer",
            rerun.seconds,
            rerun.writer_waiting_seconds,
            rerun.customers as f64 / rerun.seconds,
            rerun.unchanged,
            rerun.customers,
            grown / 1024,
            per_unchanged,
        );
        println!(
            "figure: rescore_rerun seconds={:.2} unchanged={} bytes_per_unchanged={:.1}",
            rerun.seconds,
            rerun.unchanged,
            per_unchanged,
        );
        storage.close().await;
    });
    // RESCORE_KEEP=1 keeps the database for a closer look (sqlite3_analyzer, dbstat).
    if std::env::var_os("RESCORE_KEEP").is_some() {
        println!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
