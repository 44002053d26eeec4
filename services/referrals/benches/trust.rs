//! Trust at bank scale (issue 6, "Must show"; issue 23, item 5): 1,000,000 customers, 5,000,000
//! referral and vouch edges, 1 % pre-trusted.
//!
//! 1. The engine in memory: build time, PageRank time and iterations, the error bound, peak
//!    memory, the latency of one explanation, and what explaining every subject costs.
//! 2. The service (unless `TRUST_BENCH_STORE=0`): a graph of the same shape in the service's
//!    tables on SQLite (100,000 customers and 500,000 edges unless `TRUST_BENCH_STORE_NODES` and
//!    `TRUST_BENCH_STORE_EDGES` say otherwise; at 1 M / 5 M the whole run takes about 12
//!    minutes, most of it loading the tables and five online updates), the batch
//!    (`rapport_referrals::trust::recompute`: read, score, explain and store every subject, a
//!    page per transaction), then the stored table grown to `TRUST_BENCH_READ_ROWS` rows
//!    (1,000,000: the batch's rows copied under new ids, so reads search a table of that size)
//!    and `GetTrust` through the real gRPC client against it: p50/p99 over 1,000 reads.
//!
//! Run: `cargo bench -p rapport-referrals --bench trust` (release profile). Engine sizes:
//! `TRUST_BENCH_NODES`, `TRUST_BENCH_EDGES`.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use rapport_referrals::domain::trust::{
    EdgeKind, GraphBuilder, IncrementalTrust, NodeId, PathBounds, Relationship, TrustConfig,
    edge_weight, explain, personalised_pagerank, strongest_paths,
};
use rapport_storage::{Storage, sqlx};

/// Every 100th customer is pre-trusted: 1 %.
const SEED_EVERY: usize = 100;

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64: deterministic, so every run benchmarks the same graph.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Peak resident memory of this process so far, from the kernel.
fn peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// One generated edge: truster → trusted.
#[derive(Clone, Copy)]
struct Edge {
    from: u32,
    to: u32,
    kind: EdgeKind,
}

/// The benchmark's community: tenure in years per node and the edges. A referee is referred at
/// most once (the schema's rule), so referrals are one per customer for 70 % of them and the rest
/// of the edges are vouches; a fifth of the vouches point at the first 1 % (long-standing,
/// well-connected customers), a skewed in-degree as real graphs have.
fn community(nodes: usize, edges: usize) -> (Vec<f64>, Vec<Edge>) {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let n = nodes as u64;
    let tenure: Vec<f64> = (0..nodes).map(|_| rng.below(240) as f64 / 12.0).collect();
    let mut out = Vec::with_capacity(edges);
    for to in 0..nodes as u32 {
        if out.len() < edges && rng.below(10) < 7 {
            let from = rng.below(n) as u32;
            if from != to {
                out.push(Edge {
                    from,
                    to,
                    kind: EdgeKind::Referral,
                });
            }
        }
    }
    while out.len() < edges {
        let from = rng.below(n) as u32;
        let to = if rng.below(5) == 0 {
            rng.below(n / 100)
        } else {
            rng.below(n)
        } as u32;
        if from == to {
            continue;
        }
        out.push(Edge {
            from,
            to,
            kind: EdgeKind::Vouch {
                relationship: Relationship::ALL[rng.below(7) as usize],
                years_known: rng.below(20) as u32,
            },
        });
    }
    (tenure, out)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

fn engine(nodes: usize, tenure: &[f64], edges: &[Edge]) {
    let started = Instant::now();
    let mut builder = GraphBuilder::with_capacity(nodes, edges.len());
    for edge in edges {
        builder.add_edge(
            edge.from,
            edge.to,
            edge_weight(&edge.kind, tenure[edge.from as usize], 1.0),
        );
    }
    let filled = started.elapsed();
    let incremental_builder = builder.clone();
    let graph = builder.build();
    let build = started.elapsed();

    let seeds: Vec<NodeId> = (0..nodes)
        .step_by(SEED_EVERY)
        .map(|n| n as NodeId)
        .collect();
    let started = Instant::now();
    let scores = personalised_pagerank(&graph, &seeds, &TrustConfig::default());
    let pagerank = started.elapsed();
    let peak = peak_memory_mib();
    println!(
        "engine: {nodes} nodes, {} edges: build {:.2} s, pagerank {:.2} s ({} iterations), \
         peak memory {peak:.0} MiB",
        edges.len(),
        build.as_secs_f64(),
        pagerank.as_secs_f64(),
        scores.iterations,
    );
    println!(
        "  build = {:.2} s adding edges + {:.2} s CSR; {} distinct edges, graph {:.0} MiB; \
         converged {} (last sweep {:.1e}); error bound (L1, raw scores) {:.1e}",
        filled.as_secs_f64(),
        (build - filled).as_secs_f64(),
        graph.edge_count(),
        graph.heap_bytes() as f64 / (1024.0 * 1024.0),
        scores.converged,
        scores.residual,
        scores.error_bound,
    );
    for target in [123_457, 500_001, 999_999, 4_242] {
        let target = target % nodes as u32;
        let started = Instant::now();
        let explanation = explain(&graph, &scores, target, 3, 6);
        println!(
            "  explain customer {target}: {:.2} ms, score {:.4}, {} paths (best strength {:.2e})",
            started.elapsed().as_secs_f64() * 1e3,
            explanation.score,
            explanation.paths.len(),
            explanation.paths.first().map_or(0.0, |path| path.strength),
        );
    }
    // What the batch spends explaining: GetTrust's three strongest paths of at most six links,
    // for 1,000 subjects spread over the graph.
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut times: Vec<Duration> = (0..1_000)
        .map(|_| {
            let target = rng.below(nodes as u64) as u32;
            let started = Instant::now();
            std::hint::black_box(strongest_paths(&graph, &seeds, target, 3, 6));
            started.elapsed()
        })
        .collect();
    times.sort();
    let total: Duration = times.iter().sum();
    println!(
        "  paths per subject (3, depth 6; 1,000 subjects): p50 {:.2} ms, p99 {:.2} ms, mean {:.2} ms \
         -> {:.0} s for all {nodes} on one core",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        total.as_secs_f64() * 1e3 / 1_000.0,
        total.as_secs_f64() / 1_000.0 * nodes as f64,
    );
    // What the batch does now: the bounds once for the whole graph, then every subject's search
    // from its own node only (the same paths, `PathBounds`' tests). All subjects, one core.
    let started = Instant::now();
    let bounds = PathBounds::new(&graph, &seeds, 6);
    let bounds_time = started.elapsed();
    let mut times: Vec<Duration> = (0..nodes as u32)
        .map(|target| {
            let started = Instant::now();
            std::hint::black_box(bounds.strongest_paths(&graph, target, 3));
            started.elapsed()
        })
        .collect();
    times.sort();
    let total: Duration = times.iter().sum();
    println!(
        "  paths for every subject from whole-graph bounds: bounds {:.2} s, then p50 {:.3} ms, \
         p99 {:.3} ms per subject -> {:.1} s for all {nodes} on one core; peak memory {:.0} MiB",
        bounds_time.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        bounds_time.as_secs_f64() + total.as_secs_f64(),
        peak_memory_mib(),
    );
    drop(bounds);
    drop(graph);
    incremental(&incremental_builder, &seeds, tenure);
}

/// Tolerances (L1 residual) an update settles to; the service uses the first
/// (`grpc/trust/snapshot.rs`, `UPDATE_TOLERANCE`).
const UPDATE_TOLERANCES: [f64; 2] = [1e-8, 1e-7];
/// Updates timed per tolerance.
const UPDATES: usize = 11;

/// One edge change, then one standing change, settled incrementally, against the full solve in
/// the same run (issue 23, item 5: "update incrementally when an edge or a standing changes").
fn incremental(builder: &GraphBuilder, seeds: &[NodeId], tenure: &[f64]) {
    let nodes = builder.node_count();
    let config = TrustConfig::default();
    let mut full = Vec::new();
    for _ in 0..3 {
        let graph = builder.clone().build();
        let started = Instant::now();
        std::hint::black_box(personalised_pagerank(&graph, seeds, &config));
        full.push(started.elapsed());
    }
    full.sort();
    let started = Instant::now();
    let (state, _, _) = IncrementalTrust::anchor(builder.clone(), seeds, &config).unwrap();
    println!(
        "incremental: anchored in {:.2} s (clone + build + batch solve + one Jacobi step for the \
         residuals); error bound {:.1e}; peak memory {:.0} MiB; full solve median of 3: {:.0} ms",
        started.elapsed().as_secs_f64(),
        state.error_bound(),
        peak_memory_mib(),
        full[1].as_secs_f64() * 1e3,
    );
    for tolerance in UPDATE_TOLERANCES {
        let mut state = state.clone();
        let mut rng = XorShift(0xA076_1D64_78BD_642F);
        let mut vouches = Vec::new();
        let mut standings = Vec::new();
        for i in 0..UPDATES {
            // A new vouch between two customers picked at random, weighed as the service weighs it.
            let (from, to) = loop {
                let from = rng.below(nodes as u64) as NodeId;
                let to = rng.below(nodes as u64) as NodeId;
                if from != to && state.edge_weight(from, to) == 0.0 {
                    break (from, to);
                }
            };
            let kind = EdgeKind::Vouch {
                relationship: Relationship::Friend,
                years_known: 5,
            };
            let weight = edge_weight(&kind, tenure[from as usize], 1.0);
            let started = Instant::now();
            state.set_edge(from, to, weight).unwrap();
            let settled = state.settle(tolerance, 1e-9, u64::MAX);
            vouches.push((started.elapsed(), settled));
            // A standing change: a seed falls out of good standing (or, every other time, a
            // long-standing customer comes back into it).
            let node = if i % 2 == 0 {
                seeds[rng.below(seeds.len() as u64) as usize]
            } else {
                rng.below(nodes as u64) as NodeId
            };
            let is_seed = state.seeds().binary_search(&node).is_ok();
            let started = Instant::now();
            state.set_seed(node, !is_seed).unwrap();
            let settled = state.settle(tolerance, 1e-9, u64::MAX);
            standings.push((started.elapsed(), settled));
        }
        for (what, mut runs) in [
            ("one new vouch", vouches),
            ("one seed in or out", standings),
        ] {
            runs.sort_by_key(|(took, _)| *took);
            let (took, median) = &runs[runs.len() / 2];
            let max = runs.iter().map(|(took, _)| *took).max().unwrap_or_default();
            let pushes: Vec<u64> = runs.iter().map(|(_, s)| s.pushes).collect();
            println!(
                "  {what}, tolerance {tolerance:.0e} (median of {UPDATES}): {:.2} ms (max {:.2} ms) \
                 against the full solve's {:.0} ms; median run: {} pushes, {} nodes touched, {} moved \
                 by > 1e-9, {} seed returns, {} full scans, {} sweeps, converged {}, error bound {:.1e}; pushes \
                 over all runs {}..{}",
                took.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3,
                full[1].as_secs_f64() * 1e3,
                median.pushes,
                median.touched,
                median.moved.len(),
                median.seed_returns,
                median.full_scans,
                median.sweeps,
                median.converged,
                median.error_bound,
                pushes.iter().min().unwrap_or(&0),
                pushes.iter().max().unwrap_or(&0),
            );
        }
        println!(
            "  after {} updates at {tolerance:.0e}: recomputed residual {:.1e}, maintained bound {:.1e}",
            2 * UPDATES,
            state.recomputed_residual(),
            state.error_bound(),
        );
    }
}

/// A deterministic UUIDv7 text for node `n` (the tables key by UUIDv7).
fn node_id(n: u32) -> String {
    format!("01900000-0000-7000-8000-{n:012x}")
}

fn edge_id(kind: char, n: usize) -> String {
    let prefix = if kind == 'r' { 1 } else { 2 };
    format!("0190000{prefix}-0000-7000-8000-{n:012x}")
}

/// Inserts rows `values` (one `(…)` tuple of literals each) in statements of 500 and
/// transactions of 50,000. Literals, not binds: generated numbers and hex only.
async fn insert(storage: &Storage, table_columns: &str, values: impl Iterator<Item = String>) {
    let mut values = values.peekable();
    while values.peek().is_some() {
        let mut tx = storage.begin_write().await.unwrap();
        for _ in 0..100 {
            let chunk: Vec<String> = values.by_ref().take(500).collect();
            if chunk.is_empty() {
                break;
            }
            let sql = format!("INSERT INTO {table_columns} VALUES {}", chunk.join(", "));
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }
}

async fn service(nodes: usize, tenure: &[f64], edges: &[Edge], read_rows: usize) {
    let database = rapport_storage::testing::TestDatabase::sqlite();
    let storage = Storage::open(&database.settings).unwrap();
    storage
        .wait_until_ready(&rapport_referrals::MIGRATIONS)
        .await
        .unwrap();
    let now = jiff::Timestamp::now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let micros = now.as_microsecond();

    let started = Instant::now();
    insert(
        &storage,
        "members (customer_id, customer_since, active, refreshed_at_micros, inactive_since_micros)",
        (0..nodes).map(|n| {
            let since = today
                .checked_sub(jiff::Span::new().days((tenure[n] * 365.25) as i64))
                .unwrap();
            format!("('{}', '{since}', 1, {micros}, NULL)", node_id(n as u32))
        }),
    )
    .await;
    insert(
        &storage,
        "referrals (referral_id, referrer_id, code, prospect_id, referee_id, status, created_at_micros, \
         signed_up_at_micros, qualified_at_micros, device_hash, ip_address, request_id)",
        edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == EdgeKind::Referral)
            .map(|(i, e)| {
                format!(
                    "('{}', '{}', 'CODE', '{}', '{}', 'REFERRAL_STATUS_SIGNED_UP', {micros}, {micros}, NULL, '', '', NULL)",
                    edge_id('r', i),
                    node_id(e.from),
                    edge_id('p', i),
                    node_id(e.to),
                )
            }),
    )
    .await;
    let relationship = |r: Relationship| match r {
        Relationship::Family => "RELATIONSHIP_FAMILY",
        Relationship::Friend => "RELATIONSHIP_FRIEND",
        Relationship::Colleague => "RELATIONSHIP_COLLEAGUE",
        Relationship::Neighbour => "RELATIONSHIP_NEIGHBOUR",
        Relationship::Business => "RELATIONSHIP_BUSINESS",
        Relationship::Acquaintance => "RELATIONSHIP_ACQUAINTANCE",
        Relationship::Other => "RELATIONSHIP_OTHER",
    };
    insert(
        &storage,
        "vouches (vouch_id, voucher_id, prospect_id, prospect_customer_id, status, relationship, years_known, \
         comment, requested_by_kind, requested_by_id, requested_at_micros, responded_at_micros, request_id)",
        edges.iter().enumerate().filter_map(|(i, e)| match e.kind {
            EdgeKind::Vouch {
                relationship: r,
                years_known,
            } => Some(format!(
                "('{}', '{}', '{}', '{}', 'VOUCH_STATUS_VOUCHED', '{}', {years_known}, '', 'ACTOR_KIND_AGENT', 'bench', {micros}, {micros}, NULL)",
                edge_id('v', i),
                node_id(e.from),
                edge_id('q', i),
                node_id(e.to),
                relationship(r),
            )),
            EdgeKind::Referral => None,
        }),
    )
    .await;
    println!(
        "service: SQLite, {nodes} members and {} edges loaded in {:.0} s (setup, not measured)",
        edges.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let (run, online) = rapport_referrals::trust::recompute_anchored(
        &storage,
        now,
        &rapport_referrals::Rules::default(),
        1_000,
    )
    .await
    .unwrap();
    let batch_seconds = started.elapsed().as_secs_f64();
    println!(
        "  batch (read, score, explain and store every subject, 1,000 a transaction): {batch_seconds:.0} s for {} \
         subjects, {} iterations, error bound (L1) {:.1e}, peak memory {:.0} MiB",
        run.subjects,
        run.iterations,
        run.error_bound,
        peak_memory_mib(),
    );
    // For rapport-bench's `trust` scenario (bench/src/scenarios/scale.rs).
    println!(
        "figure: trust_batch nodes={nodes} edges={} seconds={batch_seconds:.2} error_bound={:e}",
        edges.len(),
        run.error_bound,
    );

    online_updates(&storage, online, nodes, edges.len(), now).await;

    // Grow the table to `read_rows` rows: copies of the batch's answers under new ids (prefix
    // 0190000k for copy k; the batch's subjects are 01900000-…).
    let started = Instant::now();
    let copies = read_rows.div_ceil(nodes.max(1)).max(1);
    for copy in 1..copies.min(10) {
        let mut tx = storage.begin_write().await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO trust_results (subject_id, score, explanation, model_version, graph_version, as_of_micros, valid_until_micros) \
             SELECT '0190000{copy}' || substr(subject_id, 9), score, explanation, model_version, graph_version, as_of_micros, valid_until_micros \
             FROM trust_results WHERE subject_id LIKE '01900000-%'"
        )))
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM trust_results")
        .fetch_one(storage.reader())
        .await
        .unwrap();
    let (bytes,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(SUM(LENGTH(explanation)), 0) FROM trust_results WHERE subject_id LIKE '01900000-%'",
    )
    .fetch_one(storage.reader())
    .await
    .unwrap();
    println!(
        "  stored table grown to {rows} rows in {:.0} s (setup); explanation JSON {:.0} bytes a row on average",
        started.elapsed().as_secs_f64(),
        bytes as f64 / nodes.max(1) as f64,
    );

    // GetTrust through the real client, served from the stored table.
    let settings = rapport_server::ServerSettings::default();
    let storage_settings = database.settings.clone();
    let server = rapport_server::testing::TestServer::start_with(settings.clone(), |address| {
        rapport_referrals::unit_with(
            &settings,
            &storage_settings,
            rapport_referrals::Rules::default(),
            std::sync::Arc::new(rapport_clock::SystemClock),
            &format!("http://{address}"),
        )
        .map(|unit| vec![unit])
    })
    .await;
    let client = rapport_proto::referrals::v1::referral_service_client::ReferralServiceClient::new(
        server.channel.clone(),
    );
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
    let copies = u64::try_from(copies.min(10)).unwrap();
    let read = |target: u32, copy: u64| {
        let id = format!("0190000{copy}{}", &node_id(target)[8..]);
        let request = rapport_proto::referrals::v1::GetTrustRequest {
            subject: Some(rapport_proto::referrals::v1::get_trust_request::Subject::CustomerId(id)),
        };
        let mut client = client.clone();
        async move {
            let started = Instant::now();
            let answer = client.get_trust(request).await.unwrap().into_inner();
            (started.elapsed(), answer)
        }
    };
    for _ in 0..50 {
        read(rng.below(nodes as u64) as u32, rng.below(copies)).await;
    }
    let mut times = Vec::with_capacity(1_000);
    let mut online = 0;
    for _ in 0..1_000 {
        let (took, answer) = read(rng.below(nodes as u64) as u32, rng.below(copies)).await;
        online += usize::from(
            answer
                .reasons
                .iter()
                .any(|r| r.code == "TRUST_COMPUTED_ONLINE"),
        );
        times.push(took);
    }
    times.sort();
    let (p50, p99, max) = (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
    );
    println!(
        "  GetTrust from the stored table (1,000 reads, gRPC over loopback): p50 {p50:.2} ms, p99 {p99:.2} ms, \
         max {max:.2} ms; {online} computed online",
    );
    // For rapport-bench's `trust` scenario (bench/src/scenarios/scale.rs).
    println!(
        "figure: get_trust rows={rows} reads={} p50_ms={p50:.3} p99_ms={p99:.3} max_ms={max:.3} computed_online={online}",
        times.len(),
    );
    drop(server);
    storage.close().await;
}

/// What the worker does on its next poll after one vouch is accepted: the online update (read
/// and weigh the graph, settle by pushes, explain and rewrite the answers that moved, one
/// transaction). Five vouches, one at a time; the median.
async fn online_updates(
    storage: &Storage,
    online: Option<rapport_referrals::trust::Online>,
    nodes: usize,
    edges: usize,
    now: jiff::Timestamp,
) {
    let Some(mut online) = online else {
        println!("  online updates: no seeds, nothing to update");
        return;
    };
    let micros = now.as_microsecond();
    let mut rng = XorShift(0x5851_F42D_4C95_7F2D);
    let mut runs = Vec::new();
    for k in 0..5 {
        let (from, to) = (
            rng.below(nodes as u64) as u32,
            rng.below(nodes as u64) as u32,
        );
        if from == to {
            continue;
        }
        insert(
            storage,
            "vouches (vouch_id, voucher_id, prospect_id, prospect_customer_id, status, relationship, years_known, \
             comment, requested_by_kind, requested_by_id, requested_at_micros, responded_at_micros, request_id)",
            std::iter::once(format!(
                "('{}', '{}', '{}', '{}', 'VOUCH_STATUS_VOUCHED', 'RELATIONSHIP_FRIEND', 5, '', 'ACTOR_KIND_AGENT', 'bench', {micros}, {micros}, NULL)",
                edge_id('v', edges + k),
                node_id(from),
                edge_id('q', edges + k),
                node_id(to),
            )),
        )
        .await;
        let mut tx = storage.begin_write().await.unwrap();
        sqlx::query("UPDATE trust_graph SET version = version + 1 WHERE graph = 'referrals'")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let started = Instant::now();
        let (next, outcome) = rapport_referrals::trust::update_online(
            storage,
            online,
            now,
            &rapport_referrals::Rules::default(),
        )
        .await
        .unwrap();
        let took = started.elapsed();
        runs.push((
            took,
            format!("{outcome:?}").chars().take(400).collect::<String>(),
        ));
        let Some(next) = next else {
            println!("  online update {k}: left to the batch: {outcome:?}");
            return;
        };
        online = next;
        if let rapport_referrals::trust::Outcome::Updated {
            rewritten, settled, ..
        } = &outcome
        {
            println!(
                "  online update {k} (one vouch, {from} → {to}): {:.0} ms; {rewritten} answers rewritten; {} pushes, {} sweeps, error bound {:.1e}",
                took.as_secs_f64() * 1e3,
                settled.pushes,
                settled.sweeps,
                settled.error_bound,
            );
        }
    }
    runs.sort_by_key(|(took, _)| *took);
    if let Some((took, _)) = runs.get(runs.len() / 2) {
        println!(
            "  online update after one vouch, whole path (read + weigh + settle + explain + write), median of {}: {:.0} ms",
            runs.len(),
            took.as_secs_f64() * 1e3
        );
        println!(
            "figure: trust_online runs={} median_ms={:.0}",
            runs.len(),
            took.as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let nodes = env_size("TRUST_BENCH_NODES", 1_000_000);
    let edges = env_size("TRUST_BENCH_EDGES", 5_000_000);
    let (tenure, generated) = community(nodes, edges);
    engine(nodes, &tenure, &generated);
    drop((tenure, generated));
    if std::env::var("TRUST_BENCH_STORE").as_deref() != Ok("0") {
        let nodes = env_size("TRUST_BENCH_STORE_NODES", 100_000);
        let edges = env_size("TRUST_BENCH_STORE_EDGES", 500_000);
        let read_rows = env_size("TRUST_BENCH_READ_ROWS", 1_000_000);
        let (tenure, generated) = community(nodes, edges);
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(service(nodes, &tenure, &generated, read_rows));
    }
}
