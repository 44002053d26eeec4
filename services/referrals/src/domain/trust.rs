//! Trust: a personalised PageRank over the graph of who vouched for and referred whom, with the
//! reasons behind every figure (DESIGN.md "Trust customers", "Explain everything", "Rules with
//! numbers: Referrals").
//!
//! # Model
//! * **Nodes** are customers and prospects, as dense [`NodeId`]s the caller assigns.
//! * **Edges point from the truster to the trusted**: voucher → prospect, referrer → referee. Their
//!   weight comes from [`edge_weight`]: a base by kind and relationship × the voucher's tenure
//!   factor × (vouches) a years-known factor × the voucher's penalty.
//! * **Pre-trusted seeds** (tenure ≥ 2 years, good standing; the caller picks them) are where trust
//!   starts: the random surfer teleports uniformly to them.
//! * **Fixed point** (what [`personalised_pagerank`] solves), with `d` the damping, `c` the
//!   influence cap, `S` the seeds and a total trust of 1:
//!   - every node `j` passes on `out(j) = min(d·r(j), c)` — *bounded influence per node*: however
//!     much trust a node gathers, it hands on at most `c` of the total, so one captured account
//!     (or one seed) cannot carry a ring;
//!   - `out(j)` is split along its edges by the **normalised weights**
//!     `ŵ(j→k) = w(j→k) / max(1, Σₖ w(j→k))`;
//!   - everything not passed along an edge — the `(1 − d)` teleport, the excess above the cap, a
//!     dangling node's trust, and the unused part of a node whose weights sum to less than 1 —
//!     **returns to the seeds**, shared equally; so trust is conserved and the scores are a
//!     probability distribution: `r(i) = [i ∈ S]·(1 − Σⱼ out(j)·Σₖŵ(j→k))/|S| + Σⱼ out(j)·ŵ(j→i)`.
//!
//!   Why `max(1, Σw)` and not plain row normalisation: with plain normalisation a node with a
//!   single edge passes on everything whatever the edge's weight, so the tenure factor and the
//!   voucher penalty would have no effect on a voucher whose vouches are all penalised. Dividing
//!   only when the weights sum to more than 1 keeps weights absolute for few, weak edges (a new
//!   account's referral passes on a quarter of what a long-standing customer's does) and still
//!   splits a busy node's trust among its edges. Without the cap and with `Σw ≥ 1` everywhere this
//!   is the textbook personalised PageRank.
//! * A **penalty** lowers the weight of a voucher's future vouches only; the voucher's own score
//!   depends on the trust flowing *into* them, which the penalty does not touch (the trust they no
//!   longer pass on returns to the seeds). Like any edge change in PageRank it shifts the whole
//!   distribution a little — in the test the voucher's raw trust moves by under 0.1 % while their
//!   prospects' falls by more than half.
//!
//! # Solver and determinism
//! Gauss–Seidel sweeps in node-id order (each node uses the values already updated in this sweep).
//! The Jacobi power iteration gains only a factor `d` a step on closed groups such as rings
//! (`0.85^100 ≈ 9e-8`), so the default 100 steps to an L1 change of 1e-10 are tight: on the test
//! community it takes 98, Gauss–Seidel 46. The fixed point is the same (a property test checks it
//! against a plain Jacobi reference). Every loop runs in a fixed order over `Vec`s (no hash-map
//! iteration), all arithmetic is `f64`, and the result is normalised to sum to 1, so two runs
//! give bitwise-identical scores. One thread: a sweep is inherently sequential, and the
//! 1,000,000-node benchmark takes well under a second.
//!
//! # Memory
//! The [`Graph`] keeps only the incoming edges in CSR form (`u32` offsets and sources, `f32`
//! normalised weights: 8 bytes an edge) plus one `f64` per node; the solver pulls along incoming
//! edges, and the path search walks backwards from the target.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;

/// Dense index of a customer or prospect, assigned by the caller (0..nodes).
pub type NodeId = u32;

/// The most nodes a graph may hold: every id must fit a [`NodeId`].
pub const MAX_NODES: usize = NodeId::MAX as usize;
/// The most edges a graph may hold: CSR offsets are `u32` to keep the graph compact.
pub const MAX_EDGES: usize = u32::MAX as usize;
/// Paths longer than this explain nothing to a person, and the search's memory grows with it.
pub const MAX_PATH_DEPTH: usize = 16;
/// Partial paths the strongest-path search may create before it stops (bounds time and memory on
/// a hub's neighbourhood); the paths it has returned by then are still exactly the strongest.
pub const PATH_SEARCH_BUDGET: usize = 200_000;

/// Base weight of a referral: weaker than a vouch from a friend, since a referral code is often
/// shared with people the referrer barely knows.
pub const REFERRAL_BASE_WEIGHT: f64 = 0.5;

/// Stable codes of the [`Signal`]s this module produces (UPPER_SNAKE, like
/// `rapport.common.v1.Reason.code`).
pub mod codes {
    /// The customer is pre-trusted (a seed). Weight: the share of their trust that comes from it.
    pub const PRE_TRUSTED: &str = "PRE_TRUSTED";
    /// Trust passed on directly by vouchers and referrers. Weight: their share of the trust.
    pub const TRUSTED_BY: &str = "TRUSTED_BY";
    /// The largest single direct source. Weight: its share; near 1 means trust hangs on one link.
    pub const LARGEST_DIRECT_SOURCE: &str = "LARGEST_DIRECT_SOURCE";
    /// Some direct trusters already pass on the most one node may. Weight: their share.
    pub const INFLUENCE_CAPPED: &str = "INFLUENCE_CAPPED";
    /// The strongest chain from a pre-trusted customer. Weight: its strength.
    pub const STRONGEST_PATH: &str = "STRONGEST_PATH";
    /// No chain from a pre-trusted customer within the depth searched. Weight: 0.
    pub const NO_TRUSTED_PATH: &str = "NO_TRUSTED_PATH";
    /// Nobody is pre-trusted, so nobody is trusted. Weight: 0.
    pub const NO_PRE_TRUSTED_CUSTOMERS: &str = "NO_PRE_TRUSTED_CUSTOMERS";
    /// The computation stopped before it settled. Weight: 0.
    pub const NOT_CONVERGED: &str = "NOT_CONVERGED";
    /// Edge weight: the base by kind and relationship. Weight: the base.
    pub const EDGE_BASE: &str = "EDGE_BASE";
    /// Edge weight: the voucher's or referrer's tenure. Weight: the factor.
    pub const VOUCHER_TENURE: &str = "VOUCHER_TENURE";
    /// Edge weight: how long the voucher has known the prospect. Weight: the factor.
    pub const YEARS_KNOWN: &str = "YEARS_KNOWN";
    /// Edge weight: earlier referees of this voucher defaulted. Weight: the factor.
    pub const VOUCHER_PENALTY: &str = "VOUCHER_PENALTY";
}

/// One reason behind a trust figure or an edge weight ("explain everything").
///
/// A small copy of the shape of `plans::domain::affordability::Explanation`: a stable `code`, plain
/// words for the agent and customer, and a `weight` whose meaning each code documents (see
/// [`codes`]) — a share of the customer's trust, a path strength or a weight factor, in [0, 1].
/// Messages never name other customers: node ids are the caller's, and the caller adds names only
/// where the reader may see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// Stable machine code, UPPER_SNAKE; one of [`codes`].
    pub code: &'static str,
    /// Plain words an agent can read to the customer.
    pub message: String,
    /// In [0, 1]; what it measures depends on the code.
    pub weight: f64,
}

impl Signal {
    pub fn new(code: &'static str, weight: f64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            weight,
        }
    }
}

/// Why a graph or a computation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrustError {
    #[error("node {node} is out of range: the graph has {nodes} nodes")]
    NodeOutOfRange { node: NodeId, nodes: usize },
    /// Self-vouching and self-referral are refused upstream; a self-loop would also let a node
    /// keep the trust it should pass on.
    #[error("node {node} cannot vouch for or refer itself")]
    SelfTrust { node: NodeId },
    #[error("the weight of the edge {from} → {to} must be finite and not negative, got {weight}")]
    InvalidWeight {
        from: NodeId,
        to: NodeId,
        weight: f64,
    },
    #[error("a trust graph holds at most {max} edges")]
    TooManyEdges { max: usize },
    /// `field` names the [`TrustConfig`] field, so start-up validation can name the bad key.
    #[error("trust config: {field} {reason}")]
    InvalidConfig {
        field: &'static str,
        reason: &'static str,
    },
}

// ------------------------------------------------------------------------------- edge weights

/// How a voucher knows the prospect (`RespondToVouch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relationship {
    Family,
    Friend,
    Colleague,
    Neighbour,
    Business,
    Acquaintance,
    Other,
}

impl Relationship {
    pub const ALL: [Self; 7] = [
        Self::Family,
        Self::Friend,
        Self::Colleague,
        Self::Neighbour,
        Self::Business,
        Self::Acquaintance,
        Self::Other,
    ];

    /// Base weight of a vouch. A friend's word counts most; family counts less than a friend
    /// because family vouch out of loyalty more than knowledge of how someone handles money.
    pub fn base_weight(self) -> f64 {
        match self {
            Self::Family => 0.6,
            Self::Friend => 0.8,
            Self::Colleague => 0.7,
            Self::Neighbour => 0.6,
            Self::Business => 0.5,
            Self::Acquaintance => 0.3,
            Self::Other => 0.3,
        }
    }

    /// Plain words for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Family => "family",
            Self::Friend => "a friend",
            Self::Colleague => "a colleague",
            Self::Neighbour => "a neighbour",
            Self::Business => "a business contact",
            Self::Acquaintance => "an acquaintance",
            Self::Other => "someone they know",
        }
    }
}

/// What an edge stands for. Edges point from the truster to the trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// Referrer → referee.
    Referral,
    /// Voucher → prospect, as answered in `RespondToVouch`.
    Vouch {
        relationship: Relationship,
        years_known: u32,
    },
}

/// `min(1, 0.25 + years/4)`: a brand-new customer's word counts a quarter, full weight from three
/// years (DESIGN.md: "reward long tenure"). Negative or NaN tenure counts as none.
pub fn tenure_factor(tenure_years: f64) -> f64 {
    let years = if tenure_years.is_nan() {
        0.0
    } else {
        tenure_years.max(0.0)
    };
    (0.25 + years / 4.0).min(1.0)
}

/// `min(1, 0.5 + years/10)`: knowing someone for five years counts fully.
pub fn years_known_factor(years_known: u32) -> f64 {
    (0.5 + f64::from(years_known) / 10.0).min(1.0)
}

/// The voucher penalty clamped to [0, 1]; NaN counts as 0 (no trust passes), the cautious reading
/// of a history the caller could not compute.
fn penalty_factor(voucher_penalty: f64) -> f64 {
    if voucher_penalty.is_nan() {
        0.0
    } else {
        voucher_penalty.clamp(0.0, 1.0)
    }
}

/// The factors of one edge's weight, shared by [`edge_weight`] and [`explain_edge_weight`] so the
/// figure and its explanation cannot drift apart.
struct EdgeFactors {
    base: f64,
    tenure: f64,
    years_known: Option<f64>,
    penalty: f64,
}

impl EdgeFactors {
    fn of(kind: &EdgeKind, voucher_tenure_years: f64, voucher_penalty: f64) -> Self {
        let (base, years_known) = match *kind {
            EdgeKind::Referral => (REFERRAL_BASE_WEIGHT, None),
            EdgeKind::Vouch {
                relationship,
                years_known,
            } => (
                relationship.base_weight(),
                Some(years_known_factor(years_known)),
            ),
        };
        Self {
            base,
            tenure: tenure_factor(voucher_tenure_years),
            years_known,
            penalty: penalty_factor(voucher_penalty),
        }
    }

    fn weight(&self) -> f64 {
        self.base * self.tenure * self.years_known.unwrap_or(1.0) * self.penalty
    }
}

/// Weight of a referral or vouch edge, in [0, 1]: base by kind and relationship × tenure factor ×
/// years-known factor (vouches) × penalty.
///
/// `voucher_tenure_years` is the truster's tenure. `voucher_penalty` is in [0, 1], 1.0 = none; the
/// caller derives it from the voucher's history (the service uses `0.5^n`, n = customers they
/// referred or vouched for who fell out of good standing before this vouch was made). It changes
/// only the edges out of the voucher, never the voucher's own score or accounts.
pub fn edge_weight(kind: &EdgeKind, voucher_tenure_years: f64, voucher_penalty: f64) -> f64 {
    EdgeFactors::of(kind, voucher_tenure_years, voucher_penalty).weight()
}

/// An edge weight with the reasons behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeWeight {
    pub weight: f64,
    pub signals: Vec<Signal>,
}

/// [`edge_weight`] with one [`Signal`] per factor (the penalty only when it applies), for the
/// explanation of a vouch or referral.
pub fn explain_edge_weight(
    kind: &EdgeKind,
    voucher_tenure_years: f64,
    voucher_penalty: f64,
) -> EdgeWeight {
    let factors = EdgeFactors::of(kind, voucher_tenure_years, voucher_penalty);
    let mut signals = Vec::with_capacity(4);
    signals.push(match *kind {
        EdgeKind::Referral => Signal::new(
            codes::EDGE_BASE,
            factors.base,
            "A referral counts for half of a full-strength word of trust.",
        ),
        EdgeKind::Vouch { relationship, .. } => Signal::new(
            codes::EDGE_BASE,
            factors.base,
            format!(
                "A vouch from {} counts for {:.0}% of a full-strength word of trust.",
                relationship.label(),
                factors.base * 100.0
            ),
        ),
    });
    signals.push(Signal::new(
        codes::VOUCHER_TENURE,
        factors.tenure,
        format!(
            "The voucher has been with us {:.1} years; their word counts {:.0}% (full from 3 years).",
            voucher_tenure_years.max(0.0),
            factors.tenure * 100.0
        ),
    ));
    if let (EdgeKind::Vouch { years_known, .. }, Some(factor)) = (kind, factors.years_known) {
        signals.push(Signal::new(
            codes::YEARS_KNOWN,
            factor,
            format!(
                "They have known each other {years_known} years; this counts {:.0}% (full from 5 years).",
                factor * 100.0
            ),
        ));
    }
    if factors.penalty < 1.0 {
        signals.push(Signal::new(
            codes::VOUCHER_PENALTY,
            factors.penalty,
            format!(
                "Some people this voucher recommended before later fell behind, so new vouches \
                 from them count {:.0}%. This does not affect the voucher's own standing.",
                factors.penalty * 100.0
            ),
        ));
    }
    EdgeWeight {
        weight: factors.weight(),
        signals,
    }
}

// ------------------------------------------------------------------------------------ graph

#[derive(Debug, Clone, Copy)]
struct PendingEdge {
    from: NodeId,
    to: NodeId,
    weight: f32,
}

/// Collects edges, then builds the compact [`Graph`] once (batch recomputation).
#[derive(Clone)]
pub struct GraphBuilder {
    nodes: usize,
    edges: Vec<PendingEdge>,
}

impl fmt::Debug for GraphBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphBuilder")
            .field("nodes", &self.nodes)
            .field("edges", &self.edges.len())
            .finish()
    }
}

impl GraphBuilder {
    /// # Panics
    /// If `nodes` exceeds [`MAX_NODES`] (ids would not fit a [`NodeId`]).
    pub fn new(nodes: usize) -> Self {
        Self::with_capacity(nodes, 0)
    }

    /// As [`GraphBuilder::new`], reserving room for `edges` so a large batch does not reallocate
    /// (which would briefly double the builder's memory).
    ///
    /// # Panics
    /// If `nodes` exceeds [`MAX_NODES`].
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        assert!(
            nodes <= MAX_NODES,
            "a trust graph holds at most {MAX_NODES} nodes"
        );
        Self {
            nodes,
            edges: Vec::with_capacity(edges.min(MAX_EDGES)),
        }
    }

    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// Edges added so far (before duplicates are merged).
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Adds `from` → `to` (truster → trusted) with a weight from [`edge_weight`].
    ///
    /// A zero weight is accepted and passes no trust (a fully penalised voucher). Repeated edges
    /// between the same pair are summed at build time (a referral and a vouch for the same person
    /// both count), and [`Graph`] normalisation keeps the total a node passes on bounded.
    pub fn try_add_edge(
        &mut self,
        from: NodeId,
        to: NodeId,
        weight: f64,
    ) -> Result<(), TrustError> {
        for node in [from, to] {
            if node as usize >= self.nodes {
                return Err(TrustError::NodeOutOfRange {
                    node,
                    nodes: self.nodes,
                });
            }
        }
        if from == to {
            return Err(TrustError::SelfTrust { node: from });
        }
        if !weight.is_finite() || weight < 0.0 {
            return Err(TrustError::InvalidWeight { from, to, weight });
        }
        if self.edges.len() >= MAX_EDGES {
            return Err(TrustError::TooManyEdges { max: MAX_EDGES });
        }
        // f32 keeps the graph at 8 bytes an edge; weights are products of a few factors and need
        // no more than its 7 significant digits.
        let weight = weight as f32;
        if weight > 0.0 {
            self.edges.push(PendingEdge { from, to, weight });
        }
        Ok(())
    }

    /// [`GraphBuilder::try_add_edge`] for ids and weights the caller has already checked.
    ///
    /// # Panics
    /// On what `try_add_edge` refuses: an id out of range, a self-loop, a negative or non-finite
    /// weight, more than [`MAX_EDGES`] edges — all programming errors at this layer.
    pub fn add_edge(&mut self, from: NodeId, to: NodeId, weight: f64) {
        if let Err(error) = self.try_add_edge(from, to, weight) {
            panic!("{error}");
        }
    }

    /// Builds the incoming-edge CSR: a stable counting sort by target, then each row sorted by
    /// source with duplicates merged (a stable sort, so the summation order — and the result — is
    /// the same on every run), then the weights normalised per source.
    pub fn build(self) -> Graph {
        let nodes = self.nodes;
        let mut offsets = vec![0u32; nodes + 1];
        for edge in &self.edges {
            offsets[edge.to as usize + 1] += 1;
        }
        for i in 0..nodes {
            offsets[i + 1] += offsets[i];
        }
        let edge_count = self.edges.len();
        let mut sources = vec![0 as NodeId; edge_count];
        let mut weights = vec![0f32; edge_count];
        {
            let mut cursor = offsets[..nodes].to_vec();
            for edge in &self.edges {
                let slot = &mut cursor[edge.to as usize];
                sources[*slot as usize] = edge.from;
                weights[*slot as usize] = edge.weight;
                *slot += 1;
            }
        }
        drop(self.edges);

        let mut row: Vec<(NodeId, f32)> = Vec::new();
        let mut write = 0usize;
        let mut start = 0usize;
        for node in 0..nodes {
            let end = offsets[node + 1] as usize;
            row.clear();
            row.extend(
                sources[start..end]
                    .iter()
                    .copied()
                    .zip(weights[start..end].iter().copied()),
            );
            row.sort_by_key(|&(source, _)| source);
            // `write` never passes `start`, so compacting in place is safe.
            offsets[node] = write as u32;
            let mut k = 0;
            while k < row.len() {
                let source = row[k].0;
                let mut sum = 0f64;
                while k < row.len() && row[k].0 == source {
                    sum += f64::from(row[k].1);
                    k += 1;
                }
                sources[write] = source;
                weights[write] = sum as f32;
                write += 1;
            }
            start = end;
        }
        offsets[nodes] = write as u32;
        sources.truncate(write);
        weights.truncate(write);
        sources.shrink_to_fit();
        weights.shrink_to_fit();

        // Normalise by max(1, Σ out-weights); see the module docs for why not by Σ alone.
        let mut per_node = vec![0f64; nodes];
        for (&source, &weight) in sources.iter().zip(&weights) {
            per_node[source as usize] += f64::from(weight);
        }
        for total in &mut per_node {
            *total = 1.0 / total.max(1.0);
        }
        for (&source, weight) in sources.iter().zip(weights.iter_mut()) {
            *weight = (f64::from(*weight) * per_node[source as usize]) as f32;
        }
        // The share each node passes along its edges, summed from the stored (rounded) weights so
        // that what the solver sends along edges and what it returns to the seeds add up exactly.
        per_node.fill(0.0);
        for (&source, &weight) in sources.iter().zip(&weights) {
            per_node[source as usize] += f64::from(weight);
        }
        Graph {
            offsets,
            sources,
            weights,
            edge_share: per_node,
        }
    }
}

/// The trust graph: incoming edges in CSR form, weights normalised per truster. Built once by
/// [`GraphBuilder`], read by any number of computations.
#[derive(Clone)]
pub struct Graph {
    /// `offsets[i]..offsets[i + 1]` indexes node i's incoming edges.
    offsets: Vec<u32>,
    /// Trusters, ascending within each row.
    sources: Vec<NodeId>,
    /// Normalised weights ŵ(source → node).
    weights: Vec<f32>,
    /// Σₖ ŵ(node → k), in [0, 1] up to f32 rounding: the share of what a node passes on that
    /// travels along edges (0 for a node that trusts no one).
    edge_share: Vec<f64>,
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("nodes", &self.node_count())
            .field("edges", &self.edge_count())
            .finish()
    }
}

impl Graph {
    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Distinct truster → trusted pairs.
    pub fn edge_count(&self) -> usize {
        self.sources.len()
    }

    /// Heap memory held by the graph, for capacity planning.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * size_of::<u32>()
            + self.sources.capacity() * size_of::<NodeId>()
            + self.weights.capacity() * size_of::<f32>()
            + self.edge_share.capacity() * size_of::<f64>()
    }

    /// Who trusts `node` directly, with the normalised weight of each edge, ascending by id.
    /// Empty for an id out of range.
    pub fn trusters(&self, node: NodeId) -> impl Iterator<Item = (NodeId, f64)> + '_ {
        let (sources, weights) = if (node as usize) < self.node_count() {
            self.row(node as usize)
        } else {
            (&[][..], &[][..])
        };
        sources
            .iter()
            .zip(weights)
            .map(|(&source, &weight)| (source, f64::from(weight)))
    }

    fn row(&self, node: usize) -> (&[NodeId], &[f32]) {
        let range = self.offsets[node] as usize..self.offsets[node + 1] as usize;
        (&self.sources[range.clone()], &self.weights[range])
    }
}

// ------------------------------------------------------------------------------- pagerank

/// Parameters of [`personalised_pagerank`] (DESIGN.md defaults in [`TrustConfig::default`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrustConfig {
    /// Share of a node's trust it passes on; the rest returns to the seeds. In [0, 1).
    pub damping: f64,
    /// Gauss–Seidel sweeps at most.
    pub max_iterations: u32,
    /// Stop when the L1 change of a sweep falls below this; > 0.
    pub tolerance: f64,
    /// The most one node may pass on per iteration, as a share of total trust (1): "bounded
    /// influence per node". In (0, 1]; at or above `damping` it never binds.
    pub influence_cap: f64,
}

impl Default for TrustConfig {
    /// DESIGN.md "Referrals": damping 0.85; a node passes on at most 2 % of all trust.
    fn default() -> Self {
        Self {
            damping: 0.85,
            max_iterations: 100,
            tolerance: 1e-10,
            influence_cap: 0.02,
        }
    }
}

impl TrustConfig {
    /// Checks the ranges, naming the field at fault (for start-up config validation).
    pub fn validate(&self) -> Result<(), TrustError> {
        let invalid = |field, reason| Err(TrustError::InvalidConfig { field, reason });
        if !(0.0..1.0).contains(&self.damping) {
            return invalid("damping", "must be at least 0 and below 1");
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return invalid("tolerance", "must be a positive number");
        }
        if !(self.influence_cap.is_finite()
            && self.influence_cap > 0.0
            && self.influence_cap <= 1.0)
        {
            return invalid("influence_cap", "must be above 0 and at most 1");
        }
        Ok(())
    }
}

/// The result of [`personalised_pagerank`].
#[derive(Clone)]
pub struct Scores {
    /// Gauss–Seidel sweeps run.
    pub iterations: u32,
    /// Whether the last sweep changed the scores by less than the tolerance (L1).
    pub converged: bool,
    /// L1 change of the last sweep (infinite when no sweep ran).
    pub residual: f64,
    raw: Vec<f64>,
    best: f64,
    seeds: Vec<NodeId>,
    damping: f64,
    influence_cap: f64,
    /// Raw trust each seed holds for being pre-trusted (teleport plus returned trust).
    seed_share: f64,
}

impl fmt::Debug for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scores")
            .field("nodes", &self.raw.len())
            .field("seeds", &self.seeds.len())
            .field("iterations", &self.iterations)
            .field("converged", &self.converged)
            .field("residual", &self.residual)
            .finish()
    }
}

impl Scores {
    /// Trust in [0, 1] relative to the best-trusted node (which scores 1.0). Relative, so
    /// comparable within one computation only; 0 for an id out of range.
    pub fn score(&self, node: NodeId) -> f64 {
        if self.best > 0.0 {
            self.raw(node) / self.best
        } else {
            0.0
        }
    }

    /// The node's share of all trust (the raw scores sum to 1); 0 for an id out of range.
    pub fn raw(&self, node: NodeId) -> f64 {
        self.raw.get(node as usize).copied().unwrap_or(0.0)
    }

    /// Every node's raw score, by id.
    pub fn raw_scores(&self) -> &[f64] {
        &self.raw
    }

    /// The seeds used, ascending and without repeats.
    pub fn seeds(&self) -> &[NodeId] {
        &self.seeds
    }

    pub fn is_seed(&self, node: NodeId) -> bool {
        self.seeds.binary_search(&node).is_ok()
    }

    /// What `node` passes on along its edges and back to the seeds: `min(damping·raw,
    /// influence_cap)`.
    pub fn passed_on(&self, node: NodeId) -> f64 {
        (self.damping * self.raw(node)).min(self.influence_cap)
    }

    /// Whether the influence cap binds for `node`.
    pub fn is_capped(&self, node: NodeId) -> bool {
        self.damping * self.raw(node) > self.influence_cap
    }
}

/// Personalised PageRank from the pre-trusted `seeds` (see the module docs for the fixed point).
///
/// Seeds may repeat or come in any order; they are sorted and deduplicated. With no seeds nobody
/// is trusted: every score is 0 and the result counts as converged.
///
/// # Panics
/// If the config is invalid or a seed is out of range; use [`try_personalised_pagerank`] for
/// input that has not been checked.
pub fn personalised_pagerank(graph: &Graph, seeds: &[NodeId], config: &TrustConfig) -> Scores {
    match try_personalised_pagerank(graph, seeds, config) {
        Ok(scores) => scores,
        Err(error) => panic!("{error}"),
    }
}

/// [`personalised_pagerank`] that reports an invalid config or an unknown seed instead of
/// panicking.
pub fn try_personalised_pagerank(
    graph: &Graph,
    seeds: &[NodeId],
    config: &TrustConfig,
) -> Result<Scores, TrustError> {
    config.validate()?;
    let nodes = graph.node_count();
    let mut seeds = seeds.to_vec();
    seeds.sort_unstable();
    seeds.dedup();
    if let Some(&node) = seeds.iter().find(|&&seed| seed as usize >= nodes) {
        return Err(TrustError::NodeOutOfRange { node, nodes });
    }
    let mut scores = Scores {
        iterations: 0,
        converged: false,
        residual: f64::INFINITY,
        raw: vec![0.0; nodes],
        best: 0.0,
        seeds,
        damping: config.damping,
        influence_cap: config.influence_cap,
        seed_share: 0.0,
    };
    if scores.seeds.is_empty() {
        scores.converged = true;
        scores.residual = 0.0;
        return Ok(scores);
    }

    let damping = config.damping;
    let cap = config.influence_cap;
    let pass_on = |rank: f64| (damping * rank).min(cap);
    let seed_count = scores.seeds.len() as f64;
    let mut is_seed = vec![false; nodes];
    let rank = &mut scores.raw;
    for &seed in &scores.seeds {
        is_seed[seed as usize] = true;
        rank[seed as usize] = 1.0 / seed_count;
    }
    // passed[j] = out(j), kept beside the ranks so each edge costs one random read.
    let mut passed: Vec<f64> = rank.iter().map(|&r| pass_on(r)).collect();
    // What node j returns to the seeds: d·r(j) − out(j)·Σₖŵ(j→k), never negative. The seeds'
    // intake is written as the teleport plus this non-negative sum — not as "1 − what travels",
    // which feeds back negatively and oscillates once the cap binds — so the iteration map is
    // monotone in every rank and contracts by at least `d` a sweep.
    let returned_by = |rank: f64, out: f64, share: f64| damping * rank - out * share;
    let returned = |rank: &[f64], passed: &[f64]| -> f64 {
        rank.iter()
            .zip(passed)
            .zip(&graph.edge_share)
            .map(|((&r, &out), &share)| returned_by(r, out, share))
            .sum()
    };
    let mut returning = returned(rank, &passed);

    while scores.iterations < config.max_iterations {
        scores.iterations += 1;
        let mut change = 0.0;
        for node in 0..nodes {
            let (sources, weights) = graph.row(node);
            let mut r = if is_seed[node] {
                ((1.0 - damping) + returning) / seed_count
            } else {
                0.0
            };
            for (&source, &weight) in sources.iter().zip(weights) {
                r += passed[source as usize] * f64::from(weight);
            }
            let out = pass_on(r);
            let share = graph.edge_share[node];
            change += (r - rank[node]).abs();
            // Gauss–Seidel in the returned term too: seeds later in this sweep see it at once.
            returning += returned_by(r, out, share) - returned_by(rank[node], passed[node], share);
            rank[node] = r;
            passed[node] = out;
        }
        // Summed afresh each sweep so the running updates cannot drift.
        returning = returned(rank, &passed);
        scores.residual = change;
        if change < config.tolerance {
            scores.converged = true;
            break;
        }
    }

    // At the fixed point the ranks sum to 1; normalising removes the last rounding and keeps an
    // unconverged result a distribution too.
    let total: f64 = rank.iter().sum();
    if total > 0.0 {
        for r in rank.iter_mut() {
            *r /= total;
        }
    }
    scores.best = rank.iter().copied().fold(0.0, f64::max);
    passed
        .iter_mut()
        .zip(rank.iter())
        .for_each(|(out, &r)| *out = pass_on(r));
    scores.seed_share = ((1.0 - damping) + returned(rank, &passed)) / seed_count;
    Ok(scores)
}

// ---------------------------------------------------------------------------- strongest paths

/// A chain of trust from a pre-trusted customer (first) to the target (last).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub nodes: Vec<NodeId>,
    /// Product of the normalised edge weights along the chain, in (0, 1].
    pub strength: f64,
}

const NO_STEP: u32 = u32::MAX;

/// A partial path, grown backwards from the target; `next` points one step nearer the target.
#[derive(Debug, Clone, Copy)]
struct Step {
    local: u32,
    next: u32,
    depth: u32,
    strength: f64,
}

/// A heap entry: highest priority first, ties by creation order, so the search is deterministic.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    priority: f64,
    step: u32,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .total_cmp(&other.priority)
            .then_with(|| other.step.cmp(&self.step))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// The `max_paths` strongest simple paths of at most `max_depth` edges from any seed to `target`,
/// strongest first; strength is the product of normalised edge weights (as in the PageRank).
///
/// A path starts at a seed and passes through no other seed: trust is explained from the nearest
/// pre-trusted customer. A target that is itself a seed gets the one-node path of strength 1.
/// `max_depth` is clamped to [`MAX_PATH_DEPTH`]. Unknown ids yield no paths.
///
/// Method: a backward breadth-first search collects the nodes within `max_depth` of the target;
/// a dynamic programme over them gives, per node and hop budget, the strongest walk from a seed
/// (an upper bound for any simple path); an A* search from the target, ordered by strength so far
/// × that bound, then completes paths in order of strength, so the first `max_paths` found are the
/// answer. If the search creates [`PATH_SEARCH_BUDGET`] partial paths it stops and returns the
/// paths found so far, which are still the strongest ones.
pub fn strongest_paths(
    graph: &Graph,
    seeds: &[NodeId],
    target: NodeId,
    max_paths: usize,
    max_depth: usize,
) -> Vec<Path> {
    let mut seeds = seeds.to_vec();
    seeds.sort_unstable();
    seeds.dedup();
    let is_seed = |node: NodeId| seeds.binary_search(&node).is_ok();
    if target as usize >= graph.node_count() || max_paths == 0 {
        return Vec::new();
    }
    if is_seed(target) {
        return vec![Path {
            nodes: vec![target],
            strength: 1.0,
        }];
    }
    let max_depth = max_depth.min(MAX_PATH_DEPTH);
    if max_depth == 0 {
        return Vec::new();
    }

    // Backward BFS; ball-local edges (local truster, weight) per expanded node.
    let mut local_of: BTreeMap<NodeId, u32> = BTreeMap::new();
    let mut ball: Vec<NodeId> = vec![target];
    let mut distance: Vec<usize> = vec![0];
    let mut edge_offsets: Vec<usize> = vec![0];
    let mut edges: Vec<(u32, f64)> = Vec::new();
    local_of.insert(target, 0);
    let mut head = 0;
    while head < ball.len() {
        let node = ball[head];
        let hops = distance[head];
        head += 1;
        if hops < max_depth && !is_seed(node) {
            for (truster, weight) in graph.trusters(node) {
                let local = *local_of.entry(truster).or_insert_with(|| {
                    ball.push(truster);
                    distance.push(hops + 1);
                    (ball.len() - 1) as u32
                });
                edges.push((local, weight));
            }
        }
        edge_offsets.push(edges.len());
    }
    let size = ball.len();
    let seed_local: Vec<bool> = ball.iter().map(|&node| is_seed(node)).collect();
    let in_edges = |local: usize| &edges[edge_offsets[local]..edge_offsets[local + 1]];

    // bound[h·size + v]: strongest walk from a seed to v with at most h edges.
    let mut bound = vec![0f64; (max_depth + 1) * size];
    for (v, &seed) in seed_local.iter().enumerate() {
        if seed {
            bound[v] = 1.0;
        }
    }
    for hops in 1..=max_depth {
        let (done, current) = bound.split_at_mut(hops * size);
        let previous = &done[(hops - 1) * size..];
        for v in 0..size {
            current[v] = if seed_local[v] {
                1.0
            } else {
                in_edges(v)
                    .iter()
                    .map(|&(u, weight)| previous[u as usize] * weight)
                    .fold(0.0, f64::max)
            };
        }
    }

    let mut steps = vec![Step {
        local: 0,
        next: NO_STEP,
        depth: 0,
        strength: 1.0,
    }];
    let mut frontier = BinaryHeap::new();
    let start = bound[max_depth * size];
    if start > 0.0 {
        frontier.push(Candidate {
            priority: start,
            step: 0,
        });
    }
    let mut paths = Vec::new();
    'search: while let Some(candidate) = frontier.pop() {
        let step = steps[candidate.step as usize];
        if seed_local[step.local as usize] {
            let mut nodes = Vec::with_capacity(step.depth as usize + 1);
            let mut at = candidate.step;
            while at != NO_STEP {
                let on_path = steps[at as usize];
                nodes.push(ball[on_path.local as usize]);
                at = on_path.next;
            }
            paths.push(Path {
                nodes,
                strength: step.strength,
            });
            if paths.len() == max_paths {
                break;
            }
            continue;
        }
        let depth = step.depth as usize;
        if depth >= max_depth {
            continue;
        }
        let remaining = max_depth - depth - 1;
        for &(truster, weight) in in_edges(step.local as usize) {
            if on_chain(&steps, candidate.step, truster) {
                continue;
            }
            let strength = step.strength * weight;
            let priority = strength * bound[remaining * size + truster as usize];
            if priority > 0.0 {
                if steps.len() >= PATH_SEARCH_BUDGET {
                    break 'search;
                }
                frontier.push(Candidate {
                    priority,
                    step: steps.len() as u32,
                });
                steps.push(Step {
                    local: truster,
                    next: candidate.step,
                    depth: step.depth + 1,
                    strength,
                });
            }
        }
    }
    // Already in order up to rounding between the bound and the strength products; a stable sort
    // makes "strongest first" exact without reordering ties.
    paths.sort_by(|a, b| b.strength.total_cmp(&a.strength));
    paths
}

/// Whether `local` is already on the partial path ending at `step` (paths must be simple).
fn on_chain(steps: &[Step], mut step: u32, local: u32) -> bool {
    while step != NO_STEP {
        let on_path = steps[step as usize];
        if on_path.local == local {
            return true;
        }
        step = on_path.next;
    }
    false
}

// ------------------------------------------------------------------------------- explanation

/// A trust figure and the reasons behind it (`GetTrust`: score, paths, signals).
#[derive(Debug, Clone, PartialEq)]
pub struct TrustExplanation {
    pub node: NodeId,
    /// [`Scores::score`]: relative to the best-trusted customer.
    pub score: f64,
    /// The strongest chains from pre-trusted customers, strongest first.
    pub paths: Vec<Path>,
    pub signals: Vec<Signal>,
}

/// Explains `node`'s trust: where its trust comes from (pre-trusted status, direct trusters,
/// capped trusters), the strongest paths to it ([`strongest_paths`] with `max_paths` and
/// `max_depth`), and whether the computation settled. Shares are of the node's own trust and add
/// up to 1 at convergence.
pub fn explain(
    graph: &Graph,
    scores: &Scores,
    node: NodeId,
    max_paths: usize,
    max_depth: usize,
) -> TrustExplanation {
    let raw = scores.raw(node);
    let share = |part: f64| {
        if raw > 0.0 {
            (part / raw).min(1.0)
        } else {
            0.0
        }
    };
    let percent = |weight: f64| weight * 100.0;
    let mut signals = Vec::new();
    if scores.seeds().is_empty() {
        signals.push(Signal::new(
            codes::NO_PRE_TRUSTED_CUSTOMERS,
            0.0,
            "No long-standing customers in good standing are available to start trust from yet, \
             so no one has a trust score.",
        ));
        return TrustExplanation {
            node,
            score: 0.0,
            paths: Vec::new(),
            signals,
        };
    }
    if scores.is_seed(node) {
        let weight = share(scores.seed_share);
        signals.push(Signal::new(
            codes::PRE_TRUSTED,
            weight,
            format!(
                "A long-standing customer in good standing, trusted from the start; this accounts \
                 for {:.1}% of their trust.",
                percent(weight)
            ),
        ));
    }

    let mut direct = 0usize;
    let mut from_trusters = 0.0;
    let mut largest = 0.0f64;
    let mut capped = 0usize;
    let mut from_capped = 0.0;
    for (truster, weight) in graph.trusters(node) {
        let inflow = scores.passed_on(truster) * weight;
        if inflow <= 0.0 {
            continue;
        }
        direct += 1;
        from_trusters += inflow;
        largest = largest.max(inflow);
        if scores.is_capped(truster) {
            capped += 1;
            from_capped += inflow;
        }
    }
    if direct > 0 {
        let weight = share(from_trusters);
        signals.push(Signal::new(
            codes::TRUSTED_BY,
            weight,
            format!(
                "Vouched for or referred by {direct} {}; this accounts for {:.1}% of their trust.",
                if direct == 1 { "person" } else { "people" },
                percent(weight)
            ),
        ));
        let weight = share(largest);
        signals.push(Signal::new(
            codes::LARGEST_DIRECT_SOURCE,
            weight,
            format!(
                "The largest single source of trust accounts for {:.1}% of it.",
                percent(weight)
            ),
        ));
    }
    if capped > 0 {
        let weight = share(from_capped);
        signals.push(Signal::new(
            codes::INFLUENCE_CAPPED,
            weight,
            format!(
                "Trust from {capped} of these people is capped at {:.1}% of all trust per person, \
                 so no single person decides this score.",
                percent(scores.influence_cap)
            ),
        ));
    }

    let paths = strongest_paths(graph, scores.seeds(), node, max_paths, max_depth);
    match paths.first() {
        Some(best) if best.nodes.len() > 1 => {
            let links = best.nodes.len() - 1;
            signals.push(Signal::new(
                codes::STRONGEST_PATH,
                best.strength,
                format!(
                    "The strongest chain of trust from a long-standing customer has {links} {} \
                     (strength {:.3}).",
                    if links == 1 { "link" } else { "links" },
                    best.strength
                ),
            ));
        }
        Some(_) => {}
        None => signals.push(Signal::new(
            codes::NO_TRUSTED_PATH,
            0.0,
            format!(
                "No chain of vouches or referrals of at most {} links reaches them from a \
                 long-standing customer in good standing.",
                max_depth.min(MAX_PATH_DEPTH)
            ),
        )),
    }
    if !scores.converged {
        signals.push(Signal::new(
            codes::NOT_CONVERGED,
            0.0,
            format!(
                "The calculation stopped after {} rounds before it fully settled; the figure is \
                 close but approximate.",
                scores.iterations
            ),
        ));
    }
    TrustExplanation {
        node,
        score: scores.score(node),
        paths,
        signals,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small deterministic generator, so test graphs are the same on every run.
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

    const SEEDS: u32 = 20;
    const ORDINARY: u32 = 200;
    /// Honest prospect with two vouches from 10-year seeds.
    const HONEST: NodeId = SEEDS + ORDINARY;
    /// An ordinary customer of typical trust (the median of the 200) who vouches for one ring
    /// member — fooled, or bribed.
    const ATTACHER: NodeId = 74;
    const RING_START: NodeId = HONEST + 1;
    const RING: u32 = 50;
    /// A prospect for the "extra vouch" and penalty tests.
    const PROSPECT: NodeId = RING_START + RING;
    const OTHER_PROSPECT: NodeId = PROSPECT + 1;
    const NODES: usize = (OTHER_PROSPECT + 1) as usize;

    fn tenure(node: NodeId) -> f64 {
        if node < SEEDS {
            2.0 + f64::from(node % 11)
        } else if node < HONEST {
            0.5 + f64::from(node % 9)
        } else {
            0.1
        }
    }

    fn seeds() -> Vec<NodeId> {
        (0..SEEDS).collect()
    }

    /// 20 seeds, 200 ordinary customers with referral and vouch edges among them, the honest
    /// prospect, and a dense ring of 50 fake accounts hanging on one edge from `ATTACHER`.
    fn community() -> GraphBuilder {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut graph = GraphBuilder::new(NODES);
        let add = |graph: &mut GraphBuilder, rng: &mut XorShift, from: NodeId, to: NodeId| {
            let kind = if rng.below(2) == 0 {
                EdgeKind::Referral
            } else {
                EdgeKind::Vouch {
                    relationship: Relationship::ALL[rng.below(7) as usize],
                    years_known: rng.below(15) as u32,
                }
            };
            graph.add_edge(from, to, edge_weight(&kind, tenure(from), 1.0));
        };
        // Seeds trust each other a little and brought in the first customers.
        for seed in 0..SEEDS {
            add(&mut graph, &mut rng, seed, (seed + 1) % SEEDS);
        }
        // Each ordinary customer was referred or vouched for by one to three earlier members.
        for customer in SEEDS..HONEST {
            let trusters = 1 + rng.below(3);
            let mut chosen = Vec::new();
            for _ in 0..trusters {
                let from = rng.below(u64::from(customer)) as NodeId;
                if !chosen.contains(&from) {
                    chosen.push(from);
                    add(&mut graph, &mut rng, from, customer);
                }
            }
        }
        // Some later customers referred earlier ones' friends back: cycles, as in real graphs.
        for _ in 0..100 {
            let from = SEEDS + rng.below(u64::from(ORDINARY)) as NodeId;
            let to = SEEDS + rng.below(u64::from(ORDINARY)) as NodeId;
            if from != to {
                add(&mut graph, &mut rng, from, to);
            }
        }
        let friend = EdgeKind::Vouch {
            relationship: Relationship::Friend,
            years_known: 10,
        };
        // Two 10-year seeds vouch for the honest prospect.
        graph.add_edge(2, HONEST, edge_weight(&friend, 10.0, 1.0));
        graph.add_edge(13, HONEST, edge_weight(&friend, 10.0, 1.0));
        // The ring: new accounts vouching for each other as "friends of 20 years" — lying as
        // well as they can — each to five others.
        let lying = EdgeKind::Vouch {
            relationship: Relationship::Friend,
            years_known: 20,
        };
        for i in 0..RING {
            for step in [1, 2, 5, 11, 17] {
                let to = RING_START + (i + step) % RING;
                graph.add_edge(RING_START + i, to, edge_weight(&lying, 0.1, 1.0));
            }
        }
        let acquaintance = EdgeKind::Vouch {
            relationship: Relationship::Acquaintance,
            years_known: 1,
        };
        graph.add_edge(
            ATTACHER,
            RING_START,
            edge_weight(&acquaintance, tenure(ATTACHER), 1.0),
        );
        // The prospect: one weak referral from an ordinary customer.
        graph.add_edge(
            141,
            PROSPECT,
            edge_weight(&EdgeKind::Referral, tenure(141), 1.0),
        );
        graph
    }

    fn scores_of(graph: &Graph) -> Scores {
        personalised_pagerank(graph, &seeds(), &TrustConfig::default())
    }

    #[test]
    fn a_ring_hanging_on_one_edge_gets_a_small_fraction_of_an_honest_customers_trust() {
        let graph = community().build();
        let scores = scores_of(&graph);
        assert!(scores.converged);
        let honest = scores.raw(HONEST);
        let ring: Vec<f64> = (RING_START..RING_START + RING)
            .map(|m| scores.raw(m))
            .collect();
        let strongest = ring.iter().copied().fold(0.0, f64::max);
        assert!(
            strongest < 0.1 * honest,
            "ring member {strongest} vs honest {honest}"
        );
        // Looping trust around the ring gains its entry point little over the one real vouch:
        // the ring as a whole holds only what flows in, times 1/(1 − d), spread over 50.
        let direct = scores.passed_on(ATTACHER)
            * graph
                .trusters(RING_START)
                .find(|&(truster, _)| truster == ATTACHER)
                .map_or(0.0, |(_, weight)| weight);
        assert!(
            ring[0] < 1.15 * direct,
            "entry {} vs direct {direct}",
            ring[0]
        );
        let total: f64 = ring.iter().sum();
        assert!(total < (direct / (1.0 - 0.85)) * 1.01);
        // And the honest prospect is well above an average ordinary customer.
        let ordinary: f64 =
            (SEEDS..HONEST).map(|c| scores.raw(c)).sum::<f64>() / f64::from(ORDINARY);
        assert!(
            honest > ordinary,
            "honest {honest} vs ordinary mean {ordinary}"
        );
    }

    #[test]
    fn a_vouch_from_a_long_tenure_customer_raises_a_prospects_trust() {
        let before = scores_of(&community().build());
        let mut builder = community();
        let vouch = EdgeKind::Vouch {
            relationship: Relationship::Colleague,
            years_known: 6,
        };
        // A long-tenure voucher (10 years, past the tenure cap): full weight.
        builder.add_edge(30, PROSPECT, edge_weight(&vouch, 10.0, 1.0));
        let after = scores_of(&builder.build());
        assert!(after.raw(PROSPECT) > before.raw(PROSPECT));
        assert!(after.score(PROSPECT) > before.score(PROSPECT));
    }

    #[test]
    fn scores_are_bitwise_stable_across_runs_and_converge() {
        let config = TrustConfig::default();
        let first = personalised_pagerank(&community().build(), &seeds(), &config);
        let second = personalised_pagerank(&community().build(), &seeds(), &config);
        assert!(first.converged);
        assert!(first.iterations < config.max_iterations);
        assert_eq!(first.iterations, second.iterations);
        let bits = |s: &Scores| {
            s.raw_scores()
                .iter()
                .map(|r| r.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&first), bits(&second));
        // Seeds in another order and repeated give the same result.
        let mut shuffled: Vec<NodeId> = seeds().into_iter().rev().collect();
        shuffled.push(3);
        let third = personalised_pagerank(&community().build(), &shuffled, &config);
        assert_eq!(bits(&first), bits(&third));
    }

    #[test]
    fn a_voucher_penalty_lowers_their_prospects_not_the_voucher() {
        let voucher: NodeId = 45;
        let friend = EdgeKind::Vouch {
            relationship: Relationship::Friend,
            years_known: 8,
        };
        let with_penalty = |penalty: f64| {
            let mut builder = community();
            for prospect in [PROSPECT, OTHER_PROSPECT] {
                builder.add_edge(
                    voucher,
                    prospect,
                    edge_weight(&friend, tenure(voucher), penalty),
                );
            }
            scores_of(&builder.build())
        };
        let clean = with_penalty(1.0);
        let penalised = with_penalty(0.25);
        for prospect in [PROSPECT, OTHER_PROSPECT] {
            assert!(penalised.raw(prospect) < 0.5 * clean.raw(prospect));
        }
        // The penalty changes no edge into the voucher. Their raw trust moves only by the global
        // redistribution any edge change causes (here their other referees gain a little, the
        // seeds a little less): well under 0.1 %.
        let moved = (penalised.raw(voucher) - clean.raw(voucher)).abs() / clean.raw(voucher);
        assert!(moved < 1e-3, "voucher moved by {moved}");
    }

    /// Seeds 0 and 1. Out-weights sum to at most 1 everywhere, so normalised = raw weights.
    fn diamond() -> Graph {
        let mut graph = GraphBuilder::new(8);
        graph.add_edge(0, 2, 0.9);
        graph.add_edge(2, 5, 0.9); // 0→2→5: 0.81
        graph.add_edge(1, 3, 0.3);
        graph.add_edge(3, 5, 0.8); // 1→3→5: 0.24
        graph.add_edge(0, 4, 0.1);
        graph.add_edge(4, 5, 0.9); // 0→4→5: 0.09
        graph.add_edge(1, 6, 0.3);
        graph.add_edge(6, 7, 0.9);
        graph.add_edge(7, 5, 0.9); // 1→6→7→5: 0.243
        graph.add_edge(5, 2, 0.5); // a cycle back, which paths must not use
        graph.add_edge(1, 0, 0.4); // seed to seed: paths start at the nearest seed
        graph.build()
    }

    #[test]
    fn strongest_paths_are_found_strongest_first() {
        let graph = diamond();
        let paths = strongest_paths(&graph, &[0, 1], 5, 10, 6);
        let found: Vec<(Vec<NodeId>, f64)> = paths
            .iter()
            .map(|p| (p.nodes.clone(), p.strength))
            .collect();
        let expected = [
            (vec![0, 2, 5], 0.81),
            (vec![1, 6, 7, 5], 0.243),
            (vec![1, 3, 5], 0.24),
            (vec![0, 4, 5], 0.09),
        ];
        assert_eq!(found.len(), expected.len(), "{found:?}");
        for ((nodes, strength), (want_nodes, want)) in found.iter().zip(&expected) {
            assert_eq!(nodes, want_nodes);
            assert!((strength - want).abs() < 1e-6, "{strength} vs {want}");
        }
        // Two paths; depth 2 drops the three-link chain.
        let short = strongest_paths(&graph, &[0, 1], 5, 2, 2);
        assert_eq!(short.len(), 2);
        assert_eq!(short[0].nodes, vec![0, 2, 5]);
        assert_eq!(short[1].nodes, vec![1, 3, 5]);
        // A seed explains itself; a node nobody reaches has no path.
        assert_eq!(strongest_paths(&graph, &[0, 1], 1, 3, 4)[0].nodes, vec![1]);
        assert!(strongest_paths(&graph, &[0], 3, 3, 4).is_empty());
        assert!(strongest_paths(&graph, &[0, 1], 99, 3, 4).is_empty());
    }

    #[test]
    fn the_explanation_names_the_sources_and_the_path() {
        let graph = community().build();
        let scores = scores_of(&graph);
        let honest = explain(&graph, &scores, HONEST, 3, 4);
        let codes_of = |e: &TrustExplanation| e.signals.iter().map(|s| s.code).collect::<Vec<_>>();
        assert_eq!(
            codes_of(&honest),
            [
                codes::TRUSTED_BY,
                codes::LARGEST_DIRECT_SOURCE,
                codes::INFLUENCE_CAPPED,
                codes::STRONGEST_PATH
            ]
        );
        assert!((honest.signals[0].weight - 1.0).abs() < 1e-6);
        assert_eq!(honest.paths.len(), 2);
        assert!(honest.paths.iter().all(|p| p.nodes.len() == 2));

        let member = explain(&graph, &scores, RING_START + 7, 3, 3);
        assert!(codes_of(&member).contains(&codes::NO_TRUSTED_PATH));
        let seed = explain(&graph, &scores, 2, 3, 3);
        assert_eq!(seed.signals[0].code, codes::PRE_TRUSTED);
        let none = personalised_pagerank(&graph, &[], &TrustConfig::default());
        assert_eq!(
            codes_of(&explain(&graph, &none, HONEST, 3, 3)),
            [codes::NO_PRE_TRUSTED_CUSTOMERS]
        );
    }

    #[test]
    fn edge_weights_follow_the_rules() {
        let friend = |years_known| EdgeKind::Vouch {
            relationship: Relationship::Friend,
            years_known,
        };
        assert!((edge_weight(&friend(10), 10.0, 1.0) - 0.8).abs() < 1e-12);
        assert!((edge_weight(&EdgeKind::Referral, 0.0, 1.0) - 0.125).abs() < 1e-12);
        // 0.7 × (0.25 + 1/4) × (0.5 + 2/10) × 0.5
        let colleague = EdgeKind::Vouch {
            relationship: Relationship::Colleague,
            years_known: 2,
        };
        assert!((edge_weight(&colleague, 1.0, 0.5) - 0.7 * 0.5 * 0.7 * 0.5).abs() < 1e-12);
        assert_eq!(edge_weight(&friend(3), -4.0, f64::NAN), 0.0);
        let explained = explain_edge_weight(&colleague, 1.0, 0.5);
        assert_eq!(explained.weight, edge_weight(&colleague, 1.0, 0.5));
        let codes: Vec<_> = explained.signals.iter().map(|s| s.code).collect();
        assert_eq!(
            codes,
            [
                codes::EDGE_BASE,
                codes::VOUCHER_TENURE,
                codes::YEARS_KNOWN,
                codes::VOUCHER_PENALTY
            ]
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let mut graph = GraphBuilder::new(3);
        assert_eq!(
            graph.try_add_edge(0, 3, 0.5),
            Err(TrustError::NodeOutOfRange { node: 3, nodes: 3 })
        );
        assert_eq!(
            graph.try_add_edge(1, 1, 0.5),
            Err(TrustError::SelfTrust { node: 1 })
        );
        assert!(matches!(
            graph.try_add_edge(0, 1, f64::NAN),
            Err(TrustError::InvalidWeight { .. })
        ));
        assert!(graph.try_add_edge(0, 1, -0.1).is_err());
        assert_eq!(graph.try_add_edge(0, 1, 0.0), Ok(()));
        let graph = graph.build();
        assert_eq!(graph.edge_count(), 0);
        let bad = TrustConfig {
            damping: 1.0,
            ..TrustConfig::default()
        };
        assert!(matches!(
            try_personalised_pagerank(&graph, &[0], &bad),
            Err(TrustError::InvalidConfig {
                field: "damping",
                ..
            })
        ));
        assert!(matches!(
            try_personalised_pagerank(&graph, &[7], &TrustConfig::default()),
            Err(TrustError::NodeOutOfRange { node: 7, .. })
        ));
    }

    #[test]
    fn duplicate_edges_are_merged_and_busy_nodes_split_their_trust() {
        let mut graph = GraphBuilder::new(4);
        graph.add_edge(0, 1, 0.3);
        graph.add_edge(0, 1, 0.2); // a referral and a vouch: 0.5 together
        graph.add_edge(0, 2, 0.75);
        graph.add_edge(3, 2, 0.25); // Σ < 1: kept as is
        let graph = graph.build();
        assert_eq!(graph.edge_count(), 3);
        let into = |node| graph.trusters(node).collect::<Vec<_>>();
        let close = |got: Vec<(NodeId, f64)>, want: &[(NodeId, f64)]| {
            got.len() == want.len()
                && got
                    .iter()
                    .zip(want)
                    .all(|(g, w)| g.0 == w.0 && (g.1 - w.1).abs() < 1e-6)
        };
        assert!(close(into(1), &[(0, 0.4)])); // 0.5 / 1.25
        assert!(close(into(2), &[(0, 0.6), (3, 0.25)])); // 0.75 / 1.25
    }

    // ----------------------------------------------------------------------- properties

    fn graph_strategy(
        max_nodes: usize,
    ) -> impl Strategy<Value = (usize, Vec<(u32, u32, f64)>, Vec<u32>)> {
        (2..=max_nodes).prop_flat_map(|n| {
            let node = 0..n as u32;
            (
                Just(n),
                prop::collection::vec((node.clone(), node.clone(), 0.0..=1.0f64), 0..(4 * n)),
                prop::collection::vec(node, 1..=3),
            )
        })
    }

    fn build(n: usize, edges: &[(u32, u32, f64)]) -> Graph {
        let mut graph = GraphBuilder::new(n);
        for &(from, to, weight) in edges {
            if from != to {
                graph.add_edge(from, to, weight);
            }
        }
        graph.build()
    }

    /// The fixed point by plain Jacobi iteration on the textbook formula, to check the solver.
    fn reference(graph: &Graph, seeds: &[u32], config: &TrustConfig) -> Vec<f64> {
        let n = graph.node_count();
        let mut seeds = seeds.to_vec();
        seeds.sort_unstable();
        seeds.dedup();
        let mut rank = vec![0.0; n];
        for &s in &seeds {
            rank[s as usize] = 1.0 / seeds.len() as f64;
        }
        for _ in 0..5000 {
            let mut next = vec![0.0; n];
            for (i, slot) in next.iter_mut().enumerate() {
                for (j, w) in graph.trusters(i as u32) {
                    let out = (config.damping * rank[j as usize]).min(config.influence_cap);
                    *slot += out * w;
                }
            }
            // Whatever did not travel along an edge returns to the seeds.
            let returned = rank.iter().sum::<f64>() - next.iter().sum::<f64>();
            for &s in &seeds {
                next[s as usize] += returned / seeds.len() as f64;
            }
            rank = next;
        }
        rank
    }

    /// Every simple path from a seed (and through no other seed) to the target, by brute force.
    fn all_paths(graph: &Graph, seeds: &[u32], target: u32, max_depth: usize) -> Vec<f64> {
        fn walk(
            graph: &Graph,
            seeds: &[u32],
            chain: &mut Vec<u32>,
            strength: f64,
            max_depth: usize,
            out: &mut Vec<f64>,
        ) {
            let head = *chain.last().unwrap();
            if seeds.contains(&head) {
                out.push(strength);
                return;
            }
            if chain.len() > max_depth {
                return;
            }
            for (truster, weight) in graph.trusters(head) {
                if !chain.contains(&truster) && weight > 0.0 {
                    chain.push(truster);
                    walk(graph, seeds, chain, strength * weight, max_depth, out);
                    chain.pop();
                }
            }
        }
        let mut out = Vec::new();
        walk(graph, seeds, &mut vec![target], 1.0, max_depth, &mut out);
        out.sort_by(|a, b| b.total_cmp(a));
        out
    }

    proptest! {
        #[test]
        fn scores_are_bounded_finite_and_sum_to_one(
            (n, edges, seeds) in graph_strategy(40),
            damping in 0.0..0.95f64,
            cap in 0.001..=1.0f64,
            max_iterations in 0..200u32,
        ) {
            let graph = build(n, &edges);
            let config = TrustConfig { damping, max_iterations, tolerance: 1e-10, influence_cap: cap };
            let scores = personalised_pagerank(&graph, &seeds, &config);
            for node in 0..n as u32 {
                let score = scores.score(node);
                prop_assert!(score.is_finite() && (0.0..=1.0).contains(&score), "{score}");
                prop_assert!(scores.raw(node).is_finite() && scores.raw(node) >= 0.0);
            }
            let total: f64 = scores.raw_scores().iter().sum();
            prop_assert!((total - 1.0).abs() <= 1e-10, "{total}");
            let best = (0..n as u32).map(|v| scores.score(v)).fold(0.0, f64::max);
            prop_assert_eq!(best, 1.0);
        }

        #[test]
        fn the_solver_finds_the_textbook_fixed_point(
            (n, edges, seeds) in graph_strategy(25),
            damping in 0.0..0.9f64,
            cap in 0.01..=1.0f64,
        ) {
            let graph = build(n, &edges);
            let config = TrustConfig { damping, max_iterations: 10_000, tolerance: 1e-14, influence_cap: cap };
            let scores = personalised_pagerank(&graph, &seeds, &config);
            prop_assert!(scores.converged);
            let expected = reference(&graph, &seeds, &config);
            for (got, want) in scores.raw_scores().iter().zip(&expected) {
                prop_assert!((got - want).abs() < 1e-9, "{got} vs {want}");
            }
        }

        #[test]
        fn strongest_paths_match_brute_force(
            (n, edges, seeds) in graph_strategy(9),
            target in 0..9u32,
            max_paths in 1..6usize,
            max_depth in 1..6usize,
        ) {
            let graph = build(n, &edges);
            let target = target % n as u32;
            let mut seeds = seeds;
            seeds.sort_unstable();
            seeds.dedup();
            let paths = strongest_paths(&graph, &seeds, target, max_paths, max_depth);
            if seeds.contains(&target) {
                prop_assert_eq!(paths.len(), 1);
                return Ok(());
            }
            let expected = all_paths(&graph, &seeds, target, max_depth);
            prop_assert_eq!(paths.len(), expected.len().min(max_paths));
            for (path, want) in paths.iter().zip(&expected) {
                prop_assert!((path.strength - want).abs() < 1e-12, "{} vs {}", path.strength, want);
                prop_assert!(seeds.contains(&path.nodes[0]));
                prop_assert_eq!(*path.nodes.last().unwrap(), target);
                prop_assert!(path.nodes.len() <= max_depth + 1);
                let mut product = 1.0;
                for pair in path.nodes.windows(2) {
                    let weight = graph.trusters(pair[1]).find(|&(t, _)| t == pair[0]).map(|(_, w)| w);
                    prop_assert!(weight.is_some());
                    product *= weight.unwrap_or(0.0);
                }
                prop_assert!((product - path.strength).abs() < 1e-12);
            }
        }

        #[test]
        fn edge_weights_stay_in_range_and_reward_tenure(
            relationship in 0..7usize,
            years_known in 0..40u32,
            tenure in 0.0..30.0f64,
            penalty in 0.0..=1.0f64,
        ) {
            let kind = EdgeKind::Vouch { relationship: Relationship::ALL[relationship], years_known };
            let weight = edge_weight(&kind, tenure, penalty);
            prop_assert!((0.0..=1.0).contains(&weight));
            prop_assert!(edge_weight(&kind, tenure + 1.0, penalty) >= weight);
            prop_assert!(edge_weight(&kind, tenure, penalty * 0.5) <= weight);
        }
    }
}
