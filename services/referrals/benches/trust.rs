//! Trust recomputation at bank scale (issue 6, "Must show"): 1,000,000 customers, 5,000,000
//! referral and vouch edges, 1 % pre-trusted. Prints build time, PageRank time and iterations, and
//! peak memory (VmHWM), then the latency of one explanation (`GetTrust`).
//!
//! Run: `cargo bench --bench trust` (release profile, single thread).
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use rapport_referrals::domain::trust::{
    EdgeKind, GraphBuilder, NodeId, Relationship, TrustConfig, edge_weight, explain,
    personalised_pagerank,
};

const NODES: usize = 1_000_000;
const EDGES: usize = 5_000_000;
/// Every 100th customer is pre-trusted: 1 %.
const SEED_EVERY: usize = 100;

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

fn main() {
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let nodes = NODES as u64;

    let started = Instant::now();
    let mut builder = GraphBuilder::with_capacity(NODES, EDGES);
    let mut added = 0;
    while added < EDGES {
        let from = rng.below(nodes) as NodeId;
        // A fifth of the edges point at the first 1 % (long-standing, well-connected customers),
        // the rest anywhere: a skewed in-degree, as real referral graphs have.
        let to = if rng.below(5) == 0 {
            rng.below(nodes / 100)
        } else {
            rng.below(nodes)
        } as NodeId;
        if from == to {
            continue;
        }
        let kind = if rng.below(10) < 7 {
            EdgeKind::Referral
        } else {
            EdgeKind::Vouch {
                relationship: Relationship::ALL[rng.below(7) as usize],
                years_known: rng.below(20) as u32,
            }
        };
        let tenure_years = rng.below(240) as f64 / 12.0;
        // One voucher in twenty has had a referee default.
        let penalty = if rng.below(20) == 0 { 0.5 } else { 1.0 };
        builder.add_edge(from, to, edge_weight(&kind, tenure_years, penalty));
        added += 1;
    }
    let filled = started.elapsed();
    let graph = builder.build();
    let build = started.elapsed();

    let seeds: Vec<NodeId> = (0..NODES)
        .step_by(SEED_EVERY)
        .map(|n| n as NodeId)
        .collect();
    let config = TrustConfig {
        max_iterations: 50,
        tolerance: 1e-8,
        ..TrustConfig::default()
    };
    let started = Instant::now();
    let scores = personalised_pagerank(&graph, &seeds, &config);
    let pagerank = started.elapsed();
    let peak = peak_memory_mib();

    println!(
        "trust: {NODES} nodes, {EDGES} edges: build {:.2} s, pagerank {:.2} s ({} iterations), \
         peak memory {peak:.0} MiB",
        build.as_secs_f64(),
        pagerank.as_secs_f64(),
        scores.iterations,
    );
    println!(
        "  build = {:.2} s adding edges + {:.2} s CSR; {} distinct edges, graph {:.0} MiB; \
         converged {} (L1 residual {:.1e})",
        filled.as_secs_f64(),
        (build - filled).as_secs_f64(),
        graph.edge_count(),
        graph.heap_bytes() as f64 / (1024.0 * 1024.0),
        scores.converged,
        scores.residual,
    );

    // GetTrust explanations: three paths of at most four links, for a few ordinary customers
    // and a well-connected one.
    for target in [123_457, 500_001, 999_999, 4_242] {
        let started = Instant::now();
        let explanation = explain(&graph, &scores, target, 3, 4);
        println!(
            "  explain customer {target}: {:.2} ms, score {:.4}, {} paths (best strength {:.2e}), \
             {} signals",
            started.elapsed().as_secs_f64() * 1e3,
            explanation.score,
            explanation.paths.len(),
            explanation.paths.first().map_or(0.0, |path| path.strength),
            explanation.signals.len(),
        );
    }
}
