//! Incremental trust: keeps the personalised PageRank of a changing graph up to date by residual
//! pushes from where the graph changed, instead of solving the whole graph again (issue 23,
//! item 5: "update incrementally when an edge or a standing changes, converging to the batch
//! result; show the error bound").
//!
//! # Method
//! The fixed point is the batch's (see the [module docs](super)): `r = T(r)` with
//! `T(r)(i) = [i ∈ S]·q(r) + Σⱼ out(j)·ŵ(j→i)`, `out(j) = min(d·r(j), c)` and the seeds' intake
//! `q(r) = ((1 − d) + R(r)) / |S|`, where `R(r) = Σⱼ (d·r(j) − out(j)·Σₖŵ(j→k))` is everything
//! not passed along an edge. The state keeps, besides the scores `r`:
//! * the **residual** of every node, `res(i) = Σⱼ out(j)·ŵ(j→i) + [i ∈ S]·q̂ − r(i)`, where `q̂` is
//!   the seeds' intake as last applied to them;
//! * `R`, kept exactly as the scores move (each push changes it by `d·δ − Δout·Σŵ`), so the
//!   true intake `q = ((1 − d) + R)/|S|` is known at every moment: the **seed return is one extra
//!   variable**, and the seeds' residuals are off by `q − q̂` each until it is applied.
//!
//! An edge change (or a seed change) adds to the residuals of the nodes whose incoming terms
//! changed: `out(j)·Δŵ(j→k)` for each of the truster's targets (every target of `j`, since
//! `max(1, Σw)` renormalises the row), or `±q̂` at a seed that joins or leaves. Then
//! [`IncrementalTrust::settle`] pushes, in first-in first-out order (asynchronous Gauss–
//! Southwell): a node whose `|res|` exceeds a threshold `θ` takes `r(i) += res(i)`, its residual
//! becomes 0 (its own term is not in its update; no self-loops), and its change of `out` goes to
//! its targets' residuals and to `R`. When the queue is empty the remaining L1 residual is
//! `Σ|res| + |S|·|q − q̂|`; if it is not below the tolerance, either the seed return is applied
//! (when it is at least half of what is left) or `θ` drops eightfold and the nodes touched so far
//! are looked at again. Only when `θ·n` is below the tolerance, i.e. when leftovers of nodes the
//! change never reached could matter, does it scan every node once (O(n), counted in
//! [`Settled::full_scans`]). Once it has pushed more than n times (the change reached
//! most of the graph, as a seed change does), it sweeps every node in index order instead
//! (Gauss–Seidel in push form, [`Settled::sweeps`]): a warm-started batch.
//!
//! # Error bound
//! `T` is monotone and contracts by `d` in L1, with the cap too (each node hands on exactly `d·r`
//! between its edges and the seeds, both parts non-decreasing in `r`; `pagerank.rs`), so any `r`
//! is within `‖T(r) − r‖₁/(1 − d)` of the fixed point. The residual vector is **maintained**, not
//! recomputed: it is exactly `T(r) − r` up to floating-point rounding, since every change of an
//! `out(j)`, a weight or `R` is added to the residuals it enters (the cap's nonlinearity is no
//! obstacle: the pushed change is `Δout = min(d·r', c) − min(d·r, c)`, computed, not linearised).
//! The L1 norm is kept as a running sum and the seeds' pending term is counted at its worst,
//! `|S|·|q − q̂|` (triangle inequality), so the bound returned is never below the true residual's
//! (rounding aside: about 1e-16 relative per update, far below the tolerances used).
//! [`IncrementalTrust::recomputed_residual`] recomputes `‖T(r) − r‖₁` from scratch (O(edges)), for
//! tests and audits.
//!
//! # Cost
//! A push costs the node's out-degree. The work of an update is the pushes the change causes:
//! local, except the seed return, which spreads every change of `R` over all seeds. Applying it
//! is O(|S|) and is done only while it is at least half of the remaining residual; what it sets
//! moving downstream of the seeds is pushed only where it exceeds `θ`. How far a change reaches
//! depends on the graph and the tolerance: a change of size `δ` must decay to the tolerance, one
//! factor `d` a hop, and on an expander that many hops reach everyone. On the benchmark's random
//! 1 M / 5 M graph (`services/referrals/benches/trust.rs`) one new vouch touches about 30 % of the
//! nodes at a tolerance of 1e-7 and all of them at 1e-8 (still a quarter of a full solve's work);
//! a seed joining or leaving costs about a full solve. O(n) also: keeping the best
//! score when the best node's score falls (a scan), and [`IncrementalTrust::scores`] (a copy).
//!
//! # Determinism
//! Vectors only, a FIFO queue, edges in ascending target order, the seeds in ascending order: the
//! same state and edits give bit-identical results. The weights are normalised exactly as
//! [`GraphBuilder::build`](super::GraphBuilder::build) does (the same `f32` rounding, the same
//! summation order), so the incremental fixed point is the batch's for the same graph.
//!
//! # Memory
//! Out-edges per node (8 bytes an edge, a `Vec` of 24 bytes per node plus its spare capacity) and
//! five `f64` and three flags per node (scores, residuals, last reported scores, weight scale,
//! edge share; seed, touched, queued): about 70 bytes a node plus 8–16 an edge, 110–150 MB at
//! 1 M nodes / 5 M edges, bounded by the graph.

use std::collections::VecDeque;

use super::{Graph, GraphBuilder, NodeId, Scores, TrustConfig, TrustError};

/// Incremental personalised PageRank: the scores of a graph that changes edge by edge, with their
/// residuals. Built from a batch solve ([`IncrementalTrust::anchor`]), edited, then settled.
#[derive(Clone)]
pub struct IncrementalTrust {
    config: TrustConfig,
    /// Per truster: (trusted, merged weight before normalisation), ascending by trusted.
    out_edges: Vec<Vec<(NodeId, f32)>>,
    edges: usize,
    /// `1 / max(1, Σ w)` per truster.
    scale: Vec<f64>,
    /// Σₖ ŵ(j→k) per truster, summed from the rounded normalised weights like the batch's graph.
    edge_share: Vec<f64>,
    raw: Vec<f64>,
    residual: Vec<f64>,
    /// Running Σ |residual|.
    residual_l1: f64,
    is_seed: Vec<bool>,
    /// Ascending.
    seeds: Vec<NodeId>,
    /// `R`: Σⱼ (d·r(j) − out(j)·edge_share(j)).
    returning: f64,
    /// `q̂`: the seeds' intake their residuals were last given.
    applied_intake: f64,
    /// Each node's score when it was last reported moved (or anchored).
    reported: Vec<f64>,
    best: (NodeId, f64),
    best_stale: bool,
    /// Nodes whose residual changed since the last settle, and their flags.
    touched: Vec<NodeId>,
    is_touched: Vec<bool>,
    queue: VecDeque<NodeId>,
    queued: Vec<bool>,
    /// While sweeping every node: residual changes are not tracked one by one (every node counts
    /// as touched once the sweeps end).
    sweeping: bool,
    /// Sweeps of the batch solve this state was anchored on.
    anchor_iterations: u32,
}

impl std::fmt::Debug for IncrementalTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncrementalTrust")
            .field("nodes", &self.raw.len())
            .field("edges", &self.edges)
            .field("seeds", &self.seeds.len())
            .field("error_bound", &self.error_bound())
            .finish()
    }
}

/// What one [`IncrementalTrust::settle`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// Whether the L1 residual fell below the tolerance within the push budget.
    pub converged: bool,
    /// `‖T(r) − r‖₁` after the update, as maintained (an upper bound; see the module docs).
    pub residual: f64,
    /// Proven L1 bound on the scores' distance from the exact fixed point of the new graph:
    /// `residual / (1 − d)`.
    pub error_bound: f64,
    /// Node updates made.
    pub pushes: u64,
    /// Distinct nodes whose residual or score changed.
    pub touched: usize,
    /// Times the seed return was applied to every seed (O(|S|) each).
    pub seed_returns: u32,
    /// Times every node was scanned for leftovers (O(n) each); 0 when the change stayed local.
    pub full_scans: u32,
    /// Gauss–Seidel passes over every node (O(n + edges) each), which an update falls back to
    /// once it has pushed more than n times: the change reached most of the graph.
    pub sweeps: u32,
    /// Nodes whose raw score moved by more than the threshold since they were last reported (or
    /// anchored), ascending: whose stored answers need rewriting.
    pub moved: Vec<NodeId>,
}

impl IncrementalTrust {
    /// Builds `builder`'s graph, solves it in batch
    /// ([`personalised_pagerank`](super::personalised_pagerank)) and keeps what incremental
    /// updates need; returns the batch's graph and scores too. O(edges) beyond the solve: one
    /// Jacobi step gives every node's residual.
    pub fn anchor(
        builder: GraphBuilder,
        seeds: &[NodeId],
        config: &TrustConfig,
    ) -> Result<(Self, Graph, Scores), TrustError> {
        let nodes = builder.node_count();
        let mut out_edges: Vec<Vec<(NodeId, f32)>> = vec![Vec::new(); nodes];
        let merged = builder.merged_edges();
        let edges = merged.len();
        for (from, to, weight) in merged {
            out_edges[from as usize].push((to, weight));
        }
        let graph = builder.build();
        let scores = super::try_personalised_pagerank(&graph, seeds, config)?;
        let mut state = Self {
            config: *config,
            scale: vec![1.0; nodes],
            edge_share: vec![0.0; nodes],
            out_edges,
            edges,
            raw: scores.raw_scores().to_vec(),
            residual: vec![0.0; nodes],
            residual_l1: 0.0,
            is_seed: vec![false; nodes],
            seeds: scores.seeds().to_vec(),
            returning: 0.0,
            applied_intake: 0.0,
            reported: scores.raw_scores().to_vec(),
            best: (0, 0.0),
            best_stale: true,
            touched: Vec::new(),
            is_touched: vec![false; nodes],
            queue: VecDeque::new(),
            queued: vec![false; nodes],
            sweeping: false,
            anchor_iterations: scores.iterations,
        };
        for node in 0..nodes {
            let (scale, share) = normalisation(&state.out_edges[node]);
            state.scale[node] = scale;
            state.edge_share[node] = share;
        }
        for &seed in &state.seeds {
            state.is_seed[seed as usize] = true;
        }
        state.returning = state.returning_from_scratch();
        state.applied_intake = state.intake();
        state.residual = state.residuals_from_scratch();
        state.residual_l1 = state.residual.iter().map(|r| r.abs()).sum();
        state.refresh_best();
        Ok((state, graph, scores))
    }

    pub fn node_count(&self) -> usize {
        self.raw.len()
    }

    /// Distinct truster → trusted pairs with a positive weight.
    pub fn edge_count(&self) -> usize {
        self.edges
    }

    /// The seeds, ascending.
    pub fn seeds(&self) -> &[NodeId] {
        &self.seeds
    }

    /// The node's share of all trust; 0 for an id out of range.
    pub fn raw(&self, node: NodeId) -> f64 {
        self.raw.get(node as usize).copied().unwrap_or(0.0)
    }

    pub fn raw_scores(&self) -> &[f64] {
        &self.raw
    }

    /// The best raw score, as [`Scores::score`] divides by.
    pub fn best(&self) -> f64 {
        self.best.1
    }

    /// The merged weight (before normalisation) of `from → to`; 0 when there is no such edge.
    pub fn edge_weight(&self, from: NodeId, to: NodeId) -> f64 {
        self.out_edges
            .get(from as usize)
            .and_then(|row| {
                row.binary_search_by_key(&to, |&(k, _)| k)
                    .ok()
                    .map(|at| f64::from(row[at].1))
            })
            .unwrap_or(0.0)
    }

    /// The current proven L1 bound on the scores' distance from the fixed point.
    pub fn error_bound(&self) -> f64 {
        self.maintained_residual() / (1.0 - self.config.damping)
    }

    /// Grows the graph to `nodes` nodes (new ones with no edges, not seeds, score 0: already
    /// their fixed point). Ids already given keep their meaning.
    pub fn grow(&mut self, nodes: usize) -> Result<(), TrustError> {
        if nodes > super::MAX_NODES {
            return Err(TrustError::NodeOutOfRange {
                node: NodeId::MAX,
                nodes: super::MAX_NODES,
            });
        }
        if nodes <= self.raw.len() {
            return Ok(());
        }
        self.out_edges.resize(nodes, Vec::new());
        self.scale.resize(nodes, 1.0);
        self.edge_share.resize(nodes, 0.0);
        self.raw.resize(nodes, 0.0);
        self.residual.resize(nodes, 0.0);
        self.is_seed.resize(nodes, false);
        self.reported.resize(nodes, 0.0);
        self.is_touched.resize(nodes, false);
        self.queued.resize(nodes, false);
        Ok(())
    }

    /// Sets the merged weight of `from → to` (as [`GraphBuilder`] sums repeated edges: the weight
    /// is stored as `f32`); 0 removes the edge. Returns whether anything changed. O(out-degree of
    /// `from`): the row is renormalised.
    pub fn set_edge(&mut self, from: NodeId, to: NodeId, weight: f64) -> Result<bool, TrustError> {
        let nodes = self.raw.len();
        for node in [from, to] {
            if node as usize >= nodes {
                return Err(TrustError::NodeOutOfRange { node, nodes });
            }
        }
        if from == to {
            return Err(TrustError::SelfTrust { node: from });
        }
        if !weight.is_finite() || weight < 0.0 {
            return Err(TrustError::InvalidWeight { from, to, weight });
        }
        let weight = weight as f32;
        let mut row = self.out_edges[from as usize].clone();
        match row.binary_search_by_key(&to, |&(k, _)| k) {
            Ok(at) if weight > 0.0 => row[at].1 = weight,
            Ok(at) => {
                row.remove(at);
            }
            Err(_) if weight > 0.0 => {
                if self.edges >= super::MAX_EDGES {
                    return Err(TrustError::TooManyEdges {
                        max: super::MAX_EDGES,
                    });
                }
                let at = row.partition_point(|&(k, _)| k < to);
                row.insert(at, (to, weight));
            }
            Err(_) => return Ok(false),
        }
        if row == self.out_edges[from as usize] {
            return Ok(false);
        }
        self.replace_row(from, row);
        Ok(true)
    }

    /// Makes the graph `builder`'s: grows to its node count and replaces every truster's row that
    /// differs. O(edges) to compare; the residual work only where rows differ. Returns the pairs
    /// added, removed or reweighed, ascending.
    pub fn set_edges(
        &mut self,
        builder: &GraphBuilder,
    ) -> Result<Vec<(NodeId, NodeId)>, TrustError> {
        self.grow(builder.node_count())?;
        let merged = builder.merged_edges();
        let mut changed = Vec::new();
        let mut at = 0;
        for from in 0..self.raw.len() {
            let start = at;
            while at < merged.len() && merged[at].0 as usize == from {
                at += 1;
            }
            let row = &merged[start..at];
            let same = row.len() == self.out_edges[from].len()
                && row
                    .iter()
                    .zip(&self.out_edges[from])
                    .all(|(&(_, to, w), &(k, v))| to == k && w.to_bits() == v.to_bits());
            if !same {
                let row: Vec<(NodeId, f32)> = row.iter().map(|&(_, to, w)| (to, w)).collect();
                changed.extend(
                    changed_targets(&self.out_edges[from], &row)
                        .into_iter()
                        .map(|to| (from as NodeId, to)),
                );
                self.replace_row(from as NodeId, row);
            }
        }
        Ok(changed)
    }

    /// Makes `node` a seed or not. Returns whether anything changed.
    pub fn set_seed(&mut self, node: NodeId, seed: bool) -> Result<bool, TrustError> {
        let nodes = self.raw.len();
        if node as usize >= nodes {
            return Err(TrustError::NodeOutOfRange { node, nodes });
        }
        if self.is_seed[node as usize] == seed {
            return Ok(false);
        }
        // The seeds' pending intake first, so every seed holds q̂ = q before |S| changes.
        self.apply_seed_return();
        let at = self.seeds.partition_point(|&s| s < node);
        if seed {
            self.seeds.insert(at, node);
            self.add_residual(node, self.applied_intake);
        } else {
            self.seeds.remove(at);
            self.add_residual(node, -self.applied_intake);
        }
        self.is_seed[node as usize] = seed;
        if self.seeds.is_empty() {
            // Nobody is trusted: the fixed point is 0 everywhere (the batch's answer too).
            self.reset_to_zero();
        } else if seed && self.seeds.len() == 1 {
            // From no seeds to one: nothing was applied yet, the whole intake is pending.
            self.applied_intake = 0.0;
            self.add_residual(node, 0.0);
        }
        Ok(true)
    }

    /// Makes the seeds exactly `seeds` (any order, repeats allowed). Returns whether anything
    /// changed. O(n) to compare.
    pub fn set_seeds(&mut self, seeds: &[NodeId]) -> Result<bool, TrustError> {
        let nodes = self.raw.len();
        let mut wanted = vec![false; nodes];
        for &seed in seeds {
            if seed as usize >= nodes {
                return Err(TrustError::NodeOutOfRange { node: seed, nodes });
            }
            wanted[seed as usize] = true;
        }
        let mut changed = false;
        // Additions first, so the seed set is never empty in between when it need not be.
        for (node, &want) in wanted.iter().enumerate() {
            if want {
                changed |= self.set_seed(node as NodeId, true)?;
            }
        }
        for (node, &want) in wanted.iter().enumerate() {
            if !want {
                changed |= self.set_seed(node as NodeId, false)?;
            }
        }
        Ok(changed)
    }

    /// Pushes until the L1 residual is below `tolerance` (or `max_pushes` node updates were
    /// made), and reports the nodes whose score moved by more than `moved_threshold` since they
    /// were last reported.
    pub fn settle(&mut self, tolerance: f64, moved_threshold: f64, max_pushes: u64) -> Settled {
        let nodes = self.raw.len();
        let mut settled = Settled {
            converged: false,
            residual: 0.0,
            error_bound: 0.0,
            pushes: 0,
            touched: 0,
            seed_returns: 0,
            full_scans: 0,
            sweeps: 0,
            moved: Vec::new(),
        };
        let tolerance = if tolerance.is_finite() && tolerance > 0.0 {
            tolerance
        } else {
            self.config.tolerance
        };
        // Largest residuals first, roughly (Gauss–Southwell): θ starts at a quarter of the
        // largest the edits left and drops eightfold each time the queue runs dry.
        let largest = self
            .touched
            .iter()
            .map(|&node| self.residual[node as usize].abs())
            .fold(0.0, f64::max);
        let mut theta = (largest / 4.0).max(tolerance / 8.0);
        let mut scanned = 0usize;
        // Past one push a node on average, sweeping is cheaper than queueing.
        let sweep_after = nodes as u64;
        'settle: loop {
            // Everything touched since the last pass that is above θ, in the order touched.
            while scanned < self.touched.len() {
                let node = self.touched[scanned];
                scanned += 1;
                self.enqueue_above(node, theta);
            }
            while let Some(node) = self.queue.pop_front() {
                self.queued[node as usize] = false;
                if self.residual[node as usize].abs() <= theta {
                    continue;
                }
                if settled.pushes >= max_pushes {
                    self.queue.push_front(node);
                    self.queued[node as usize] = true;
                    break 'settle;
                }
                if settled.pushes >= sweep_after {
                    // The change reached most of the graph: sweeping in index order does the
                    // same pushes without the queue's random order (a warm-started batch).
                    self.queue.push_front(node);
                    self.queued[node as usize] = true;
                    while let Some(node) = self.queue.pop_front() {
                        self.queued[node as usize] = false;
                    }
                    settled.converged = self.sweep(tolerance, max_pushes, &mut settled);
                    break 'settle;
                }
                self.push(node, theta);
                settled.pushes += 1;
            }
            let pending = self.pending_seed_return();
            let left = self.residual_l1 + pending;
            if left < tolerance {
                settled.converged = true;
                break;
            }
            if pending >= left / 2.0 {
                self.apply_seed_return();
                settled.seed_returns += 1;
                for at in 0..self.seeds.len() {
                    let seed = self.seeds[at];
                    self.enqueue_above(seed, theta);
                }
            } else if theta * nodes as f64 >= tolerance {
                theta /= 8.0;
                scanned = 0;
            } else {
                // Leftovers the change never reached may matter now: look at every node once.
                settled.full_scans += 1;
                // Summed afresh while every node is visited anyway, so rounding cannot pile up.
                self.residual_l1 = self.residual.iter().map(|r| r.abs()).sum();
                for node in 0..nodes {
                    self.enqueue_above(node as NodeId, theta);
                }
                if self.queue.is_empty() {
                    theta /= 8.0;
                    if theta == 0.0 || !theta.is_normal() {
                        break;
                    }
                }
            }
        }
        // Drop what is left queued: the next settle starts from the touched list.
        while let Some(node) = self.queue.pop_front() {
            self.queued[node as usize] = false;
        }
        if self.best_stale {
            self.refresh_best();
        }
        settled.touched = self.touched.len();
        for at in 0..self.touched.len() {
            let node = self.touched[at] as usize;
            self.is_touched[node] = false;
            if (self.raw[node] - self.reported[node]).abs() > moved_threshold {
                self.reported[node] = self.raw[node];
                settled.moved.push(node as NodeId);
            }
        }
        self.touched.clear();
        settled.moved.sort_unstable();
        settled.residual = self.maintained_residual();
        settled.error_bound = settled.residual / (1.0 - self.config.damping);
        settled
    }

    /// Gauss–Seidel in push form: passes over every node in index order, pushing each residual
    /// above `tolerance / 4n`, the seed return applied after each pass, until the L1 residual is
    /// below `tolerance`. O(n + edges) a pass. Returns whether it converged within `max_pushes`.
    fn sweep(&mut self, tolerance: f64, max_pushes: u64, settled: &mut Settled) -> bool {
        let nodes = self.raw.len();
        let floor = tolerance / (4.0 * nodes.max(1) as f64);
        self.sweeping = true;
        let converged = self.sweep_passes(floor, tolerance, max_pushes, settled);
        self.sweeping = false;
        self.touched.clear();
        self.touched.extend(0..nodes as NodeId);
        self.is_touched.fill(true);
        converged
    }

    fn sweep_passes(
        &mut self,
        floor: f64,
        tolerance: f64,
        max_pushes: u64,
        settled: &mut Settled,
    ) -> bool {
        let nodes = self.raw.len();
        loop {
            settled.sweeps += 1;
            self.apply_seed_return();
            settled.seed_returns += 1;
            for node in 0..nodes {
                if self.residual[node].abs() > floor {
                    if settled.pushes >= max_pushes {
                        return false;
                    }
                    self.push(node as NodeId, f64::INFINITY);
                    settled.pushes += 1;
                }
            }
            // Summed afresh while every node is visited anyway, so rounding cannot pile up.
            self.residual_l1 = self.residual.iter().map(|r| r.abs()).sum();
            if self.maintained_residual() < tolerance {
                return true;
            }
        }
    }

    /// The scores as a batch result, to explain and to serve ([`explain`](super::explain),
    /// [`Scores::score`]). O(n): a copy. `iterations` is the anchoring batch's.
    pub fn scores(&self, converged: bool) -> Scores {
        Scores::from_parts(
            self.raw.clone(),
            self.seeds.clone(),
            &self.config,
            self.anchor_iterations,
            converged,
            self.maintained_residual(),
            self.error_bound(),
            self.best.1,
            if self.seeds.is_empty() {
                0.0
            } else {
                self.intake()
            },
        )
    }

    /// `‖T(r) − r‖₁` recomputed from scratch with one Jacobi step: O(edges). The maintained
    /// residual should equal it up to rounding.
    pub fn recomputed_residual(&self) -> f64 {
        let next = self.jacobi_step();
        next.iter().zip(&self.raw).map(|(n, r)| (n - r).abs()).sum()
    }

    fn maintained_residual(&self) -> f64 {
        self.residual_l1.max(0.0) + self.pending_seed_return()
    }

    fn pass_on(&self, rank: f64) -> f64 {
        (self.config.damping * rank).min(self.config.influence_cap)
    }

    /// `q = ((1 − d) + R) / |S|`.
    fn intake(&self) -> f64 {
        if self.seeds.is_empty() {
            0.0
        } else {
            ((1.0 - self.config.damping) + self.returning) / self.seeds.len() as f64
        }
    }

    /// `|S|·|q − q̂|`: at most what the seeds' residuals lack.
    fn pending_seed_return(&self) -> f64 {
        self.seeds.len() as f64 * (self.intake() - self.applied_intake).abs()
    }

    fn apply_seed_return(&mut self) {
        if self.seeds.is_empty() {
            return;
        }
        let delta = self.intake() - self.applied_intake;
        self.applied_intake += delta;
        if delta != 0.0 {
            for at in 0..self.seeds.len() {
                let seed = self.seeds[at];
                self.add_residual(seed, delta);
            }
        }
    }

    fn normalised(&self, from: usize, weight: f32) -> f64 {
        f64::from((f64::from(weight) * self.scale[from]) as f32)
    }

    fn add_residual(&mut self, node: NodeId, delta: f64) {
        let at = node as usize;
        let old = self.residual[at];
        let new = old + delta;
        self.residual[at] = new;
        self.residual_l1 += new.abs() - old.abs();
        if !self.sweeping && !self.is_touched[at] {
            self.is_touched[at] = true;
            self.touched.push(node);
        }
    }

    fn enqueue_above(&mut self, node: NodeId, theta: f64) {
        let at = node as usize;
        // The residual first: it was just written (cached), the flag is another random read.
        if self.residual[at].abs() > theta && !self.queued[at] {
            self.queued[at] = true;
            self.queue.push_back(node);
        }
    }

    /// `r(i) += res(i)`; the change of `out(i)` goes to the targets' residuals and to `R`.
    fn push(&mut self, node: NodeId, theta: f64) {
        let at = node as usize;
        let delta = self.residual[at];
        let old = self.raw[at];
        let new = old + delta;
        self.residual[at] = 0.0;
        self.residual_l1 -= delta.abs();
        self.raw[at] = new;
        let change = self.pass_on(new) - self.pass_on(old);
        self.returning += self.config.damping * delta - change * self.edge_share[at];
        if new > self.best.1 {
            self.best = (node, new);
        } else if node == self.best.0 && new < old {
            self.best_stale = true;
        }
        if change != 0.0 {
            for e in 0..self.out_edges[at].len() {
                let (to, weight) = self.out_edges[at][e];
                let flow = change * self.normalised(at, weight);
                self.add_residual(to, flow);
                self.enqueue_above(to, theta);
            }
        }
    }

    /// Replaces a truster's row: its targets' residuals take `out·Δŵ`, `R` takes `out·Δshare`.
    fn replace_row(&mut self, from: NodeId, row: Vec<(NodeId, f32)>) {
        let at = from as usize;
        let out = self.pass_on(self.raw[at]);
        let old_row = std::mem::replace(&mut self.out_edges[at], row);
        let old_scale = self.scale[at];
        let old_share = self.edge_share[at];
        let (scale, share) = normalisation(&self.out_edges[at]);
        self.scale[at] = scale;
        self.edge_share[at] = share;
        self.edges = self.edges - old_row.len() + self.out_edges[at].len();
        self.returning += out * (old_share - share);
        let old_flow = |w: f32| f64::from((f64::from(w) * old_scale) as f32);
        let new_row = self.out_edges[at].clone();
        let (mut i, mut j) = (0, 0);
        while i < old_row.len() || j < new_row.len() {
            let (to, before, after) = match (old_row.get(i), new_row.get(j)) {
                (Some(&(a, w)), Some(&(b, _))) if a < b => {
                    i += 1;
                    (a, old_flow(w), 0.0)
                }
                (Some(&(a, w)), Some(&(b, v))) if a == b => {
                    i += 1;
                    j += 1;
                    (a, old_flow(w), self.normalised(at, v))
                }
                (_, Some(&(b, v))) => {
                    j += 1;
                    (b, 0.0, self.normalised(at, v))
                }
                (Some(&(a, w)), None) => {
                    i += 1;
                    (a, old_flow(w), 0.0)
                }
                (None, None) => break,
            };
            if before != after {
                self.add_residual(to, out * (after - before));
            }
        }
    }

    fn reset_to_zero(&mut self) {
        for node in 0..self.raw.len() {
            if self.raw[node] != 0.0 || self.residual[node] != 0.0 {
                self.raw[node] = 0.0;
                self.residual[node] = 0.0;
                if !self.is_touched[node] {
                    self.is_touched[node] = true;
                    self.touched.push(node as NodeId);
                }
            }
        }
        self.residual_l1 = 0.0;
        self.returning = 0.0;
        self.applied_intake = 0.0;
        self.best = (0, 0.0);
    }

    fn refresh_best(&mut self) {
        self.best = self
            .raw
            .iter()
            .enumerate()
            .fold((0, 0.0), |best, (node, &r)| {
                if r > best.1 {
                    (node as NodeId, r)
                } else {
                    best
                }
            });
        self.best_stale = false;
    }

    fn returning_from_scratch(&self) -> f64 {
        self.raw
            .iter()
            .zip(&self.edge_share)
            .map(|(&r, &share)| self.config.damping * r - self.pass_on(r) * share)
            .sum()
    }

    /// `T(r)`, with `q` from the current scores.
    fn jacobi_step(&self) -> Vec<f64> {
        let mut next = vec![0.0; self.raw.len()];
        for (from, row) in self.out_edges.iter().enumerate() {
            let out = self.pass_on(self.raw[from]);
            for &(to, weight) in row {
                next[to as usize] += out * self.normalised(from, weight);
            }
        }
        if !self.seeds.is_empty() {
            let returning = self.returning_from_scratch();
            let intake = ((1.0 - self.config.damping) + returning) / self.seeds.len() as f64;
            for &seed in &self.seeds {
                next[seed as usize] += intake;
            }
        }
        next
    }

    fn residuals_from_scratch(&self) -> Vec<f64> {
        let mut next = self.jacobi_step();
        // The seeds' term as applied (q̂), so the maintained residual starts exact.
        if !self.seeds.is_empty() {
            let fresh = (1.0 - self.config.damping + self.returning_from_scratch())
                / self.seeds.len() as f64;
            for &seed in &self.seeds {
                next[seed as usize] += self.applied_intake - fresh;
            }
        }
        for (n, &r) in next.iter_mut().zip(&self.raw) {
            *n -= r;
        }
        next
    }
}

/// The targets whose weight differs between two rows (ascending by target), ascending.
fn changed_targets(old: &[(NodeId, f32)], new: &[(NodeId, f32)]) -> Vec<NodeId> {
    let (mut i, mut j) = (0, 0);
    let mut changed = Vec::new();
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(&(a, w)), Some(&(b, v))) if a == b => {
                if w.to_bits() != v.to_bits() {
                    changed.push(a);
                }
                i += 1;
                j += 1;
            }
            (Some(&(a, _)), Some(&(b, _))) if a < b => {
                changed.push(a);
                i += 1;
            }
            (Some(&(a, _)), None) => {
                changed.push(a);
                i += 1;
            }
            (_, Some(&(b, _))) => {
                changed.push(b);
                j += 1;
            }
            (None, None) => break,
        }
    }
    changed
}

/// `(1 / max(1, Σ w), Σ ŵ)` of a row, rounded and summed as the batch's graph does.
fn normalisation(row: &[(NodeId, f32)]) -> (f64, f64) {
    let total: f64 = row.iter().map(|&(_, w)| f64::from(w)).sum();
    let scale = 1.0 / total.max(1.0);
    let share = row
        .iter()
        .map(|&(_, w)| f64::from((f64::from(w) * scale) as f32))
        .sum();
    (scale, share)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{GraphBuilder, personalised_pagerank};
    use super::*;
    use crate::trust::testing::{build, graph_strategy, reference};
    use proptest::prelude::*;

    fn builder(n: usize, edges: &[(u32, u32, f64)]) -> GraphBuilder {
        let mut graph = GraphBuilder::new(n);
        for &(from, to, weight) in edges {
            if from != to {
                graph.add_edge(from, to, weight);
            }
        }
        graph
    }

    /// The state's graph as a fresh builder: what a batch over the new graph reads.
    fn current_edges(state: &IncrementalTrust) -> Vec<(u32, u32, f64)> {
        let n = state.node_count() as u32;
        let mut edges = Vec::new();
        for from in 0..n {
            for to in 0..n {
                let w = state.edge_weight(from, to);
                if w > 0.0 {
                    edges.push((from, to, w));
                }
            }
        }
        edges
    }

    fn l1(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
    }

    /// An edit: set a pair's weight (0 removes it), or toggle a seed.
    fn edits(n: usize) -> impl Strategy<Value = Vec<(u32, u32, f64, bool)>> {
        let node = 0..n as u32;
        prop::collection::vec(
            (
                node.clone(),
                node,
                prop_oneof![Just(0.0), 0.0..=1.5f64],
                prop::bool::weighted(0.15),
            ),
            1..6,
        )
    }

    fn apply(state: &mut IncrementalTrust, edits: &[(u32, u32, f64, bool)]) {
        for &(from, to, weight, toggle_seed) in edits {
            if toggle_seed {
                let seed = state.seeds().binary_search(&from).is_ok();
                state.set_seed(from, !seed).unwrap();
            } else if from != to {
                state.set_edge(from, to, weight).unwrap();
            }
        }
    }

    proptest! {
        /// After random edge and seed changes the update converges to the new graph's fixed
        /// point: within its stated bound of a long reference solve (which a loose tolerance makes
        /// large enough to test), and within both bounds of a fresh batch of the new graph.
        #[test]
        fn an_update_lands_within_its_bound_of_the_new_fixed_point_and_of_a_fresh_batch(
            ((n, edges, seeds), changes) in graph_strategy(25)
                .prop_flat_map(|g| { let n = g.0; (Just(g), edits(n)) }),
            damping in 0.0..0.9f64,
            cap in 0.01..=1.0f64,
            log_tolerance in -12.0..-3.0f64,
        ) {
            let config = TrustConfig { damping, max_iterations: 10_000, tolerance: 1e-13, influence_cap: cap };
            let (mut state, _, _) = IncrementalTrust::anchor(builder(n, &edges), &seeds, &config).unwrap();
            apply(&mut state, &changes);
            let tolerance = 10f64.powf(log_tolerance);
            let settled = state.settle(tolerance, 0.0, 10_000_000);
            prop_assert!(settled.converged);
            prop_assert!(settled.residual < tolerance, "{} ≥ {tolerance}", settled.residual);

            let new_edges = current_edges(&state);
            let graph = build(n, &new_edges);
            let exact = reference(&graph, state.seeds(), &config);
            let error = l1(state.raw_scores(), &exact);
            // The reference sits within ~1e-12 of the fixed point after 5,000 steps.
            prop_assert!(error <= settled.error_bound + 1e-11,
                "error {error} above the bound {}", settled.error_bound);

            let batch = personalised_pagerank(&graph, state.seeds(), &config);
            let apart = l1(state.raw_scores(), batch.raw_scores());
            prop_assert!(apart <= settled.error_bound + batch.error_bound + 1e-11,
                "{apart} from the batch, bounds {} + {}", settled.error_bound, batch.error_bound);

            // The maintained residual is the true one, up to rounding.
            let recomputed = state.recomputed_residual();
            prop_assert!((recomputed - settled.residual).abs() <= 1e-12 + 1e-9 * recomputed.max(settled.residual)
                || recomputed <= settled.residual, "recomputed {recomputed}, maintained {}", settled.residual);
        }

        /// The moved set is exactly the nodes that moved by more than the threshold since the
        /// anchor (or their last report), so the service rewrites every answer that changed.
        #[test]
        fn every_node_that_moved_more_than_the_threshold_is_reported(
            ((n, edges, seeds), changes) in graph_strategy(25)
                .prop_flat_map(|g| { let n = g.0; (Just(g), edits(n)) }),
            log_threshold in -9.0..-2.0f64,
        ) {
            let config = TrustConfig::default();
            let (mut state, _, before) = IncrementalTrust::anchor(builder(n, &edges), &seeds, &config).unwrap();
            apply(&mut state, &changes);
            let threshold = 10f64.powf(log_threshold);
            let settled = state.settle(1e-12, threshold, 10_000_000);
            for node in 0..n as u32 {
                let moved = (state.raw(node) - before.raw(node)).abs() > threshold;
                prop_assert_eq!(moved, settled.moved.binary_search(&node).is_ok(), "node {}", node);
            }
        }
    }

    /// A deterministic graph: `n` nodes, each trusting three others at pseudo-random, the first
    /// `seeds` pre-trusted.
    fn scattered(n: u32, seeds: u32) -> (GraphBuilder, Vec<NodeId>) {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut graph = GraphBuilder::new(n as usize);
        for from in 0..n {
            for _ in 0..3 {
                let to = (next() % u64::from(n)) as u32;
                if to != from {
                    graph.add_edge(from, to, 0.2 + (next() % 80) as f64 / 100.0);
                }
            }
        }
        (graph, (0..seeds).collect())
    }

    #[test]
    fn a_vouch_between_two_ordinary_customers_costs_a_fraction_of_the_batch_and_agrees_with_it() {
        let n = 20_000;
        let (graph, seeds) = scattered(n, 200);
        let config = TrustConfig::default();
        let (mut state, _, _) = IncrementalTrust::anchor(graph.clone(), &seeds, &config).unwrap();
        let anchored = state.recomputed_residual();
        let (voucher, prospect) = (12_345, 17_001);
        assert!(state.set_edge(voucher, prospect, 0.9).unwrap());
        let before = state.raw(prospect);
        let settled = state.settle(1e-9, 1e-9, u64::MAX);
        assert!(settled.converged, "{settled:?}");
        assert!(state.raw(prospect) > before, "the prospect gains trust");
        assert!(settled.moved.binary_search(&prospect).is_ok());
        assert_eq!(settled.full_scans, 0, "{settled:?}");
        // Converging to the batch of the new graph.
        let mut fresh = graph.clone();
        fresh.add_edge(voucher, prospect, 0.9);
        let batch = personalised_pagerank(&fresh.build(), &seeds, &config);
        // A random graph of out-degree 3 is an expander: the change reaches most nodes within a
        // few hops, so the saving is in the work per node, not in the nodes reached.
        let batch_work = u64::from(batch.iterations) * u64::from(n);
        assert!(
            settled.pushes * 2 < batch_work,
            "{} pushes against the batch's {batch_work} node updates",
            settled.pushes
        );
        let apart = l1(state.raw_scores(), batch.raw_scores());
        assert!(
            apart <= settled.error_bound + batch.error_bound,
            "{apart} > {} + {} (anchored at {anchored})",
            settled.error_bound,
            batch.error_bound
        );
    }

    #[test]
    fn removing_every_seed_leaves_nobody_trusted_and_a_seed_brings_trust_back() {
        let (graph, seeds) = scattered(500, 3);
        let config = TrustConfig::default();
        let (mut state, _, _) = IncrementalTrust::anchor(graph.clone(), &seeds, &config).unwrap();
        state.set_seeds(&[]).unwrap();
        let settled = state.settle(1e-10, 0.0, u64::MAX);
        assert!(state.raw_scores().iter().all(|&r| r == 0.0));
        assert_eq!(settled.error_bound, 0.0);
        state.set_seed(7, true).unwrap();
        let settled = state.settle(1e-10, 0.0, u64::MAX);
        assert!(settled.converged);
        let batch = personalised_pagerank(&graph.build(), &[7], &config);
        let apart = l1(state.raw_scores(), batch.raw_scores());
        assert!(apart <= settled.error_bound + batch.error_bound, "{apart}");
        assert!(state.raw(7) > 0.1);
    }

    #[test]
    fn the_same_edits_give_bit_identical_scores() {
        let (graph, seeds) = scattered(3_000, 30);
        let config = TrustConfig::default();
        let run = || {
            let (mut state, _, _) =
                IncrementalTrust::anchor(graph.clone(), &seeds, &config).unwrap();
            state.set_edge(10, 2_000, 0.7).unwrap();
            state.set_seed(2_500, true).unwrap();
            let settled = state.settle(1e-10, 1e-9, u64::MAX);
            (
                state
                    .raw_scores()
                    .iter()
                    .map(|r| r.to_bits())
                    .collect::<Vec<_>>(),
                settled,
            )
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn a_new_graph_is_taken_as_the_edges_that_differ() {
        let (graph, seeds) = scattered(1_000, 10);
        let config = TrustConfig::default();
        let (mut state, _, _) = IncrementalTrust::anchor(graph.clone(), &seeds, &config).unwrap();
        let mut next = graph.clone();
        next.add_edge(3, 900, 0.5);
        let mut grown = GraphBuilder::new(1_001);
        for (from, to, weight) in next.merged_edges() {
            grown.add_edge(from, to, f64::from(weight));
        }
        grown.add_edge(1_000, 3, 0.25);
        assert_eq!(state.set_edges(&grown).unwrap(), vec![(3, 900), (1_000, 3)]);
        assert_eq!(state.node_count(), 1_001);
        let settled = state.settle(1e-10, 1e-9, u64::MAX);
        let batch = personalised_pagerank(&grown.build(), &seeds, &config);
        let apart = l1(state.raw_scores(), batch.raw_scores());
        assert!(apart <= settled.error_bound + batch.error_bound, "{apart}");
        assert_eq!(
            state.set_edges(&next).unwrap_or_default().len(),
            1,
            "the new node's edge goes"
        );
    }
}
