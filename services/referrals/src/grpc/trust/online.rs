//! Online updates of the stored trust (issue 23, item 5: "update incrementally when an edge or a
//! standing changes, converging to the batch result; show the error bound").
//!
//! # Design
//! The batch ([`refresh::recompute`](super::refresh::recompute)) scores the whole graph, stores
//! every answer stamped with the graph version it read, and marks that version the **anchor**
//! (`trust_graph.anchor_version`). The worker keeps, in memory, the engine's
//! [`IncrementalTrust`] for that graph and the node order it is indexed by. When a write changes
//! an edge or a standing it bumps `trust_graph.version` (as before); the worker sees it within a
//! poll (a second) and, instead of waiting for the debounced batch:
//! 1. reads the graph again in the same node order (new nodes at the end) and weighs it as the
//!    batch does (tenure, relationship, penalties, seeds from standing);
//! 2. hands the state the pairs whose weights differ and the seeds, and settles it by residual
//!    pushes to an L1 residual below [`UPDATE_TOLERANCE`]: the scores are then within
//!    `residual / (1 − d)` (L1, raw) of the exact scores of the new graph — the bound the answers
//!    carry;
//! 3. rewrites, in one transaction, the answers whose score moved by more than [`SCORE_MOVED`]
//!    since they were written (the candidates are the nodes whose raw score moved by more than
//!    [`MOVED`]; every node when the best raw score moved, since scores are relative to it: a scan
//!    of the scores in memory), the ends of every changed pair, new nodes and trusters whose
//!    "fell behind" count changed — explanations (strongest paths) recomputed for those subjects
//!    only — stamped with the new version and `as_of`, and records the version as **settled**.
//!
//! GetTrust serves a stored answer as current when its version is the graph's, or when the
//! updates have settled the graph's version and the answer was written at or after the anchor
//! ([`Versions::current`](crate::store::trust::Versions::current)): an answer not rewritten has a
//! score within [`SCORE_MOVED`] of the one it would get now, itself within the bound.
//!
//! What still goes to a batch (debounced as before, or at once at midnight, on the interval or
//! when nothing is stored): a change of the seed set (every answer names how many anchors there
//! are), a customer leaving the graph (a merge), a new self-lapsing standing (the answers'
//! `valid_until`), more than [`MAX_REWRITES`] answers to rewrite, or an update that does not
//! settle. The batch re-anchors the state.
//!
//! # Cost and memory
//! The PageRank work is the pushes the change causes (see the engine's `incremental` module and
//! `benches/trust.rs`); reading and weighing the graph and building the path-search graph are
//! still O(edges) per update, once per poll however many changes it gathers (at 100 k customers /
//! 500 k edges on SQLite an update takes about 10 s against the batch's 143 s; the bench has the
//! figures). In memory: the
//! engine's state (about 70 bytes a node plus 8–16 an edge, 110–150 MB at 1 M / 5 M), the node order
//! (16 bytes a node) and the served scores (8 bytes a node), bounded by the graph; it is dropped and rebuilt by each batch, and
//! not kept at all when there are no seeds.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_storage::Storage;

use super::refresh::{answers, blocking};
use super::snapshot::Snapshot;
#[cfg(doc)]
use super::snapshot::{MOVED, UPDATE_TOLERANCE};
use crate::domain::trust::{IncrementalTrust, Settled};
use crate::error::ReferralsError;
use crate::rules::Rules;
use crate::store::{self, trust::StoredSignal};

/// An answer whose score (relative to the best, in [0, 1]) moved by more than this is rewritten.
pub const SCORE_MOVED: f64 = 1e-7;
/// More answers than this to rewrite: a batch writes them in pages instead of one transaction.
pub const MAX_REWRITES: usize = 50_000;

/// The worker's in-memory state between updates.
pub struct Online {
    trust: IncrementalTrust,
    /// Node index → subject.
    order: Vec<Id>,
    /// `trust_graph.anchor_version` of the batch this state started from.
    pub anchor: i64,
    anchor_as_of: Timestamp,
    /// The graph version the state is at.
    pub version: i64,
    seed_counts: (usize, usize),
    valid_until: Timestamp,
    fell_behind: BTreeMap<Id, usize>,
    /// The score each node's stored answer gives, by index.
    served: Vec<f64>,
    /// The best raw score when `served` was last brought up to date.
    best: f64,
}

impl std::fmt::Debug for Online {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Online")
            .field("nodes", &self.order.len())
            .field("anchor", &self.anchor)
            .field("version", &self.version)
            .finish()
    }
}

impl Online {
    /// The state of a batch's `snapshot` (scored by `trust`), anchored at `anchor`.
    pub(in crate::grpc) fn new(snapshot: &Snapshot, trust: IncrementalTrust, anchor: i64) -> Self {
        Self {
            best: trust.best(),
            served: snapshot.served_scores(),
            trust,
            order: snapshot.node_order().to_vec(),
            anchor,
            anchor_as_of: snapshot.as_of,
            version: snapshot.graph_version,
            seed_counts: snapshot.seed_counts(),
            valid_until: snapshot.valid_until,
            fell_behind: snapshot.fell_behind_counts(),
        }
    }
}

/// What an update did.
#[derive(Debug)]
pub enum Outcome {
    /// The answers that moved were rewritten and `version` settled.
    Updated {
        version: i64,
        rewritten: usize,
        settled: Settled,
    },
    /// Nothing to do: the graph is at the state's version.
    Unchanged,
    /// The change needs a batch; the state is dropped.
    NeedsBatch(&'static str),
}

/// Brings `online` to the graph as it is at `now`, rewriting the answers that moved. Returns the
/// state to keep (none when a batch must take over).
#[tracing::instrument(skip_all, fields(from_version = online.version, to_version, rewritten, pushes, error_bound))]
pub async fn update(
    storage: &Storage,
    mut online: Online,
    now: Timestamp,
    rules: &Rules,
) -> Result<(Option<Online>, Outcome), ReferralsError> {
    let unscored = {
        let mut conn = storage.reader().acquire().await?;
        Snapshot::read_in_order(&mut conn, now, rules, &online.order).await?
    };
    let (online, outcome, rows) = blocking(move || {
        let (snapshot, update) = match unscored.update(&mut online.trust) {
            Ok(done) => done,
            Err(why) => return (None, Outcome::NeedsBatch(why), Vec::new()),
        };
        if snapshot.graph_version == online.version {
            return (Some(online), Outcome::Unchanged, Vec::new());
        }
        if snapshot.seed_counts() != online.seed_counts {
            return (
                None,
                Outcome::NeedsBatch("the seeds changed: every answer names how many there are"),
                Vec::new(),
            );
        }
        if snapshot.valid_until != online.valid_until {
            return (
                None,
                Outcome::NeedsBatch("a standing lapses by itself before the answers expire"),
                Vec::new(),
            );
        }
        // Scores are relative to the best: when it moved, every node is a candidate (a scan of
        // the scores, O(n) without I/O); otherwise those whose raw score moved.
        let best = online.trust.best();
        let candidates: Vec<u32> = if best == online.best {
            update.settled.moved.clone()
        } else {
            (0..u32::try_from(online.served.len()).unwrap_or(u32::MAX)).collect()
        };
        online.best = best;
        online.served.resize(snapshot.node_order().len(), 0.0);
        let mut rewrite: BTreeSet<Id> = BTreeSet::new();
        for node in candidates {
            let (Some(score), Some(id)) = (snapshot.served_score_of(node), snapshot.subject(node))
            else {
                continue;
            };
            let served = &mut online.served[node as usize];
            if (score - *served).abs() > SCORE_MOVED {
                *served = score;
                rewrite.insert(id);
            }
        }
        let fell_behind = snapshot.fell_behind_counts();
        for (from, to) in &update.changed_pairs {
            rewrite.insert(*from);
            rewrite.insert(*to);
        }
        for (at, id) in snapshot
            .node_order()
            .iter()
            .enumerate()
            .skip(online.order.len())
        {
            online.served[at] = snapshot.served_score_of(at as u32).unwrap_or(0.0);
            rewrite.insert(*id);
        }
        for (id, count) in fell_behind.iter() {
            if online.fell_behind.get(id) != Some(count) {
                rewrite.insert(*id);
            }
        }
        for id in online.fell_behind.keys() {
            if !fell_behind.contains_key(id) {
                rewrite.insert(*id);
            }
        }
        if rewrite.len() > MAX_REWRITES {
            return (
                None,
                Outcome::NeedsBatch("too many answers moved for one transaction"),
                Vec::new(),
            );
        }
        let subjects: Vec<Id> = rewrite.into_iter().collect();
        for id in &subjects {
            if let Some(node) = snapshot.index_of(id) {
                online.served[node as usize] = snapshot.served_score_of(node).unwrap_or(0.0);
            }
        }
        let mut rows = answers(&snapshot, &subjects);
        let note = updated_signal(online.anchor_as_of, &update.settled);
        // The batch's "computed in N iterations" does not describe this answer; the update does.
        for row in &mut rows {
            match row
                .trust
                .signals
                .iter_mut()
                .find(|s| s.code == "CONVERGENCE")
            {
                Some(signal) => *signal = note.clone(),
                None => row.trust.signals.push(note.clone()),
            }
        }
        online
            .order
            .extend_from_slice(&snapshot.node_order()[online.order.len()..]);
        online.version = snapshot.graph_version;
        online.fell_behind = fell_behind;
        let outcome = Outcome::Updated {
            version: snapshot.graph_version,
            rewritten: rows.len(),
            settled: update.settled,
        };
        (Some(online), outcome, rows)
    })
    .await?;
    let Outcome::Updated {
        version, settled, ..
    } = &outcome
    else {
        return Ok((online, outcome));
    };
    let span = tracing::Span::current();
    span.record("to_version", version);
    span.record("rewritten", rows.len());
    span.record("pushes", settled.pushes);
    span.record("error_bound", settled.error_bound);
    let anchor = online.as_ref().map_or(-1, |o| o.anchor);
    let mut tx = storage.begin_write().await?;
    store::trust::put_page(&mut tx, &rows).await?;
    if !store::trust::settled(&mut tx, anchor, *version, settled.error_bound).await? {
        // A batch re-anchored meanwhile (another replica's): its answers stand.
        drop(tx);
        return Ok((None, Outcome::NeedsBatch("a batch re-anchored meanwhile")));
    }
    tx.commit().await?;
    Ok((online, outcome))
}

/// The signal an updated answer carries: from which batch, and the bound ("explain everything").
fn updated_signal(anchor_as_of: Timestamp, settled: &Settled) -> StoredSignal {
    StoredSignal {
        code: "UPDATED_ONLINE".into(),
        description: format!(
            "Updated when the graph changed, from the scores of {anchor_as_of}: every raw score is within {:.1e} (L1, all scores together) of the exact result for the graph now.",
            settled.error_bound
        ),
        effect: 0.0,
    }
}

/// The worker's state for the graph as stored, when the stored answers are current (the last
/// batch or update settled the graph's version) but this process holds no state (it started
/// since): a solve without writes. `None` when it cannot be had now.
pub(crate) async fn resume(
    storage: &Storage,
    now: Timestamp,
    rules: &Rules,
) -> Result<Option<Online>, ReferralsError> {
    let (versions, unscored) = {
        let mut conn = storage.reader().acquire().await?;
        let versions = store::trust::versions(&mut conn).await?;
        if versions.anchor < 0 || versions.settled != versions.version {
            return Ok(None);
        }
        (versions, Snapshot::read(&mut conn, now, rules).await?)
    };
    let (snapshot, trust) = blocking(move || unscored.score_anchored()).await??;
    if snapshot.graph_version != versions.settled {
        return Ok(None);
    }
    Ok(trust.map(|trust| Online::new(&snapshot, trust, versions.anchor)))
}
