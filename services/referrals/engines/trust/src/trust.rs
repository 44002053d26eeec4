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
//! **Error bound.** [`Scores::error_bound`] bounds the L1 distance of the returned raw scores
//! from the exact fixed point: one Jacobi step `T` of the fixed-point map contracts by `d` in L1
//! (each node hands on exactly `d·r` between its edges and the seeds, both parts non-decreasing
//! in `r`), so `‖r − r*‖₁ ≤ ‖T(r) − r‖₁ / (1 − d)` — residual ε ⇒ error ≤ ε/α with α = 1 − d the
//! teleport. The service stores it with every batch; a property test checks it against a
//! 5,000-step reference however early the solver stops.
//!
//! # Memory
//! The [`Graph`] keeps only the incoming edges in CSR form (`u32` offsets and sources, `f32`
//! normalised weights: 8 bytes an edge) plus one `f64` per node; the solver pulls along incoming
//! edges, and the path search walks backwards from the target.

mod explanation;
mod graph;
mod incremental;
mod pagerank;
mod paths;
mod weights;

pub use explanation::{TrustExplanation, explain};
pub use graph::{Graph, GraphBuilder};
pub use incremental::{IncrementalTrust, Settled};
pub use pagerank::{Scores, TrustConfig, personalised_pagerank, try_personalised_pagerank};
pub use paths::{Path, PathBounds, strongest_paths};
pub use weights::{
    EdgeKind, EdgeWeight, Relationship, edge_weight, explain_edge_weight, tenure_factor,
    years_known_factor,
};

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
/// Not a `rapport_reasons::Reason` (the reason type of every decision): a signal carries a
/// measured `weight`, not a for-or-against effect, and goes out as a `TrustSignal`. It has a stable
/// `code`, plain words for the agent and customer, and a `weight` whose meaning each code documents
/// (see [`codes`]) — a share of the customer's trust, a path strength or a weight factor, in [0, 1].
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

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
