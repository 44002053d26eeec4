//! One snapshot of the trust graph, scored: every referral and vouch, weighed by tenure, relationship
//! and the voucher's record, seeded from long-standing customers in good standing, with the
//! personalised PageRank over it. The batch stores every subject's [`StoredTrust`] from one
//! snapshot; GetTrust builds one only when nothing is stored yet.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::Date;
use jiff::{Timestamp, tz::TimeZone};
use rapport_ids::Id;
use rapport_proto::referrals::v1 as pb;
use rapport_reasons::{Reason, ReasonEffect};

use crate::domain::standing::{self, Standing};
use crate::domain::trust::{
    self, EdgeKind, Graph, GraphBuilder, IncrementalTrust, PathBounds, Relationship, Scores,
    Settled, TrustConfig,
};
use crate::error::ReferralsError;
use crate::grpc::seeds::Standings;
use crate::rules::Rules;
use crate::store::trust::{StoredEdge, StoredPath, StoredSignal, StoredTrust};
use crate::store::{self, Conn, StoredReason};

/// The trust model's version, returned with every score.
pub const MODEL_VERSION: &str = "ppr-d0.85-v1";

/// Paths explained per subject, and their most links.
const PATHS: usize = 3;
const PATH_DEPTH: usize = 6;

fn relationship(r: pb::Relationship) -> Relationship {
    match r {
        pb::Relationship::Family => Relationship::Family,
        pb::Relationship::Friend => Relationship::Friend,
        pb::Relationship::Colleague => Relationship::Colleague,
        pb::Relationship::Neighbour => Relationship::Neighbour,
        pb::Relationship::Business => Relationship::Business,
        pb::Relationship::Acquaintance => Relationship::Acquaintance,
        _ => Relationship::Other,
    }
}

/// The last day a customer can have joined and still be pre-trusted on `today`.
pub(in crate::grpc) fn seed_joined_by(today: Date, rules: &Rules) -> Date {
    today
        .checked_sub(jiff::Span::new().years(i64::from(rules.pretrusted_min_tenure_years)))
        .unwrap_or(today)
}

/// The graph as read, before the CPU work.
pub(in crate::grpc) struct Unscored {
    snapshot: Snapshot,
    edges: Vec<(Id, Id, EdgeKind)>,
    trusted: Vec<Id>,
    /// Nodes of the order asked for that no longer have an edge (merged away, say).
    left_the_graph: usize,
}

/// Why an online update cannot stand in for a batch.
pub(in crate::grpc) type NeedsBatch = &'static str;

/// What an online update changed, besides the scores.
pub(in crate::grpc) struct Update {
    pub settled: Settled,
    /// Truster → trusted pairs added, removed or reweighed.
    pub changed_pairs: Vec<(Id, Id)>,
}

/// L1 residual an online update settles to: a proven bound of `1e-8 / (1 − d)` ≈ 6.7e-8 on the
/// raw scores (services/referrals/benches/trust.rs measures what it costs at 1 M / 5 M).
pub(in crate::grpc) const UPDATE_TOLERANCE: f64 = 1e-8;
/// A raw score that moved by more than this since its answer was written is rewritten.
pub(in crate::grpc) const MOVED: f64 = 1e-9;
/// An update that has not settled after this many pushes gives way to a batch.
const MAX_PUSHES: u64 = 50_000_000;

impl Unscored {
    fn builder(&self) -> GraphBuilder {
        let snapshot = &self.snapshot;
        let mut builder = GraphBuilder::with_capacity(snapshot.nodes.len(), self.edges.len());
        for (from, to, kind) in &self.edges {
            builder.add_edge(
                snapshot.nodes[from],
                snapshot.nodes[to],
                snapshot.weight(from, to, kind),
            );
        }
        builder
    }

    fn seeds(&self) -> Vec<u32> {
        self.trusted
            .iter()
            .filter_map(|id| self.snapshot.nodes.get(id).copied())
            .collect()
    }

    /// As [`Unscored::score`], keeping what online updates need ([`IncrementalTrust`]); the
    /// scores are the batch's, bit for bit. `None` when there are no seeds.
    pub(in crate::grpc) fn score_anchored(
        self,
    ) -> Result<(Snapshot, Option<IncrementalTrust>), ReferralsError> {
        let builder = self.builder();
        let seeds = self.seeds();
        let mut snapshot = self.snapshot;
        snapshot.seeds = seeds;
        if snapshot.seeds.is_empty() {
            snapshot.graph = builder.build();
            return Ok((snapshot, None));
        }
        let (state, graph, scores) =
            IncrementalTrust::anchor(builder, &snapshot.seeds, &TrustConfig::default())
                .map_err(|e| ReferralsError::Corrupt(format!("trust graph: {e}")))?;
        snapshot.graph = graph;
        snapshot.scores = Some(scores);
        Ok((snapshot, Some(state)))
    }

    /// Brings `state` (anchored on an earlier snapshot read in the same node order) to this
    /// graph by residual pushes, and scores the snapshot with it. The graph is still read and
    /// built whole (the paths need it); the PageRank work is where the graph changed.
    pub(in crate::grpc) fn update(
        self,
        state: &mut IncrementalTrust,
    ) -> Result<(Snapshot, Update), NeedsBatch> {
        if self.left_the_graph > 0 {
            return Err("a customer left the graph (merged or erased)");
        }
        let builder = self.builder();
        let seeds = self.seeds();
        if seeds.is_empty() {
            return Err("no seeds");
        }
        let pairs = state
            .set_edges(&builder)
            .map_err(|_| "the graph outgrew the online state")?;
        state
            .set_seeds(&seeds)
            .map_err(|_| "a seed is not in the graph")?;
        let settled = state.settle(UPDATE_TOLERANCE, MOVED, MAX_PUSHES);
        if !settled.converged {
            return Err("the update did not settle");
        }
        let mut snapshot = self.snapshot;
        let changed_pairs = pairs
            .into_iter()
            .map(|(from, to)| {
                (
                    snapshot.by_index[from as usize],
                    snapshot.by_index[to as usize],
                )
            })
            .collect();
        snapshot.graph = builder.build();
        snapshot.seeds = seeds;
        snapshot.scores = Some(state.scores(settled.converged));
        Ok((
            snapshot,
            Update {
                settled,
                changed_pairs,
            },
        ))
    }

    /// Builds the graph and runs the PageRank: CPU only (the batch runs it off the runtime).
    pub(in crate::grpc) fn score(self) -> Snapshot {
        let builder = self.builder();
        let seeds = self.seeds();
        let mut snapshot = self.snapshot;
        snapshot.graph = builder.build();
        snapshot.seeds = seeds;
        if !snapshot.seeds.is_empty() {
            snapshot.scores = Some(trust::personalised_pagerank(
                &snapshot.graph,
                &snapshot.seeds,
                &TrustConfig::default(),
            ));
        }
        snapshot
    }
}

/// The graph at one moment, scored.
pub(in crate::grpc) struct Snapshot {
    pub as_of: Timestamp,
    /// `trust_graph.version` read before the graph: every change up to it is in this snapshot.
    pub graph_version: i64,
    /// Until when the answers hold if the version does not move: the next UTC midnight (tenure
    /// and the seeds' cut-off move by the day) or the first standing that lapses by itself.
    pub valid_until: Timestamp,
    pretrusted_min_tenure_years: u32,
    joined_by: Date,
    today: Date,
    known: Standings,
    /// Dense node ids in a fixed order, so the computation is deterministic.
    nodes: BTreeMap<Id, u32>,
    by_index: Vec<Id>,
    /// The kind of the first edge between two nodes (what a path's link shows).
    first_kind: BTreeMap<(Id, Id), EdgeKind>,
    fell_behind: BTreeMap<Id, BTreeMap<Id, Timestamp>>,
    vouched_at: BTreeMap<(Id, Id), Timestamp>,
    vouches_in: BTreeMap<Id, usize>,
    /// Long-standing members out of good standing, in the graph.
    removed_in_graph: Vec<Id>,
    graph: Graph,
    seeds: Vec<u32>,
    scores: Option<Scores>,
    /// The path search's bounds over the whole graph, computed by the first
    /// [`Self::answer_among_many`] (the graph and seeds are set by the scoring that makes a
    /// `Snapshot`, never after).
    path_bounds: OnceLock<PathBounds>,
}

impl Snapshot {
    /// Reads the whole graph and scores it at `now`.
    pub(in crate::grpc) async fn load(
        conn: &mut Conn,
        now: Timestamp,
        rules: &Rules,
    ) -> Result<Self, ReferralsError> {
        Ok(Self::read(conn, now, rules).await?.score())
    }

    /// Reads the whole graph at `now`; [`Unscored::score`] does the work that needs no I/O.
    pub(in crate::grpc) async fn read(
        conn: &mut Conn,
        now: Timestamp,
        rules: &Rules,
    ) -> Result<Unscored, ReferralsError> {
        Self::read_in_order(conn, now, rules, &[]).await
    }

    /// [`Snapshot::read`] with the nodes of `order` first, at the same indices (an online
    /// update's state is indexed by them); new nodes follow in the usual order.
    pub(in crate::grpc) async fn read_in_order(
        conn: &mut Conn,
        now: Timestamp,
        rules: &Rules,
        order: &[Id],
    ) -> Result<Unscored, ReferralsError> {
        let graph_version = store::trust::graph_version(conn).await?;
        let referrals = store::referrals::referee_links(conn).await?;
        let vouches = store::vouches::vouched_links(conn).await?;
        let known = Standings::read(conn, now).await?;
        let published = store::standings::all(conn).await?;
        let today = now.to_zoned(TimeZone::UTC).date();
        let midnight = today
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned(TimeZone::UTC).ok())
            .map_or(Timestamp::MAX, |z| z.timestamp());
        let valid_until = published
            .values()
            .flat_map(|p| p.reasons.iter().filter_map(|r| r.lapses_at))
            .filter(|lapse| *lapse > now)
            .fold(midnight, Timestamp::min);

        let standing_lost_at: BTreeMap<Id, Timestamp> = known
            .standing
            .iter()
            .filter_map(|(id, s)| s.lost_at().map(|at| (*id, at)))
            .collect();
        let joined_by = seed_joined_by(today, rules);
        // The pre-trusted seeds: in good standing and customers since `joined_by` or before.
        let trusted: Vec<Id> = known.seeds(joined_by);
        let removed: Vec<Id> = known
            .removed_seeds(joined_by)
            .into_iter()
            .map(|(id, _)| id)
            .collect();

        let mut nodes: BTreeMap<Id, u32> = BTreeMap::new();
        let mut edges: Vec<(Id, Id, EdgeKind)> = Vec::new();
        for &(referrer, referee) in &referrals {
            edges.push((referrer, referee, EdgeKind::Referral));
        }
        let mut vouches_in: BTreeMap<Id, usize> = BTreeMap::new();
        for vouch in &vouches {
            let to = vouch.prospect_customer_id.unwrap_or(vouch.prospect_id);
            *vouches_in.entry(to).or_default() += 1;
            edges.push((
                vouch.voucher_id,
                to,
                EdgeKind::Vouch {
                    relationship: relationship(vouch.relationship),
                    years_known: vouch.years_known,
                },
            ));
        }
        // A referral or vouch from a customer to itself exists only after profiles merged the
        // two ends: it carries no trust (its fraud flag, MERGED_SELF_REFERRAL, says why).
        edges.retain(|(from, to, _)| from != to);
        let mut by_index = Vec::new();
        for id in order {
            let next = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
            nodes.entry(*id).or_insert_with(|| {
                by_index.push(*id);
                next
            });
        }
        let mut in_edges: std::collections::BTreeSet<Id> = std::collections::BTreeSet::new();
        for (from, to, _) in &edges {
            in_edges.insert(*from);
            in_edges.insert(*to);
        }
        let left_the_graph = order.iter().filter(|id| !in_edges.contains(id)).count();
        drop(in_edges);
        for (from, to, _) in &edges {
            for id in [from, to] {
                let next = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
                nodes.entry(*id).or_insert_with(|| {
                    by_index.push(*id);
                    next
                });
            }
        }
        let mut first_kind: BTreeMap<(Id, Id), EdgeKind> = BTreeMap::new();
        for (from, to, kind) in &edges {
            first_kind.entry((*from, *to)).or_insert(*kind);
        }
        // Issue 6: a customer someone referred or vouched for who later falls out of good
        // standing halves the weight of that person's *later* vouches (each such customer again).
        // Vouches made before stay as they were, and the voucher's own trust (the edges into
        // them) is never touched. Per truster, each customer they referred or vouched for who
        // fell behind, and when (both referred and vouched for by the same person counts once).
        let mut fell_behind: BTreeMap<Id, BTreeMap<Id, Timestamp>> = BTreeMap::new();
        for (from, to, _) in &edges {
            if let Some(at) = standing_lost_at.get(to) {
                fell_behind.entry(*from).or_default().insert(*to, *at);
            }
        }
        let vouched_at: BTreeMap<(Id, Id), Timestamp> = vouches
            .iter()
            .filter_map(|v| {
                let to = v.prospect_customer_id.unwrap_or(v.prospect_id);
                Some(((v.voucher_id, to), v.responded_at?))
            })
            .collect();
        let snapshot = Self {
            as_of: now,
            graph_version,
            valid_until,
            pretrusted_min_tenure_years: rules.pretrusted_min_tenure_years,
            joined_by,
            today,
            removed_in_graph: removed
                .into_iter()
                .filter(|id| nodes.contains_key(id))
                .collect(),
            known,
            first_kind,
            fell_behind,
            vouched_at,
            vouches_in,
            graph: GraphBuilder::new(0).build(),
            seeds: Vec::new(),
            scores: None,
            path_bounds: OnceLock::new(),
            nodes,
            by_index,
        };
        Ok(Unscored {
            snapshot,
            edges,
            trusted,
            left_the_graph,
        })
    }

    fn years(&self, id: &Id) -> f64 {
        self.known.tenure.get(id).map_or(0.0, |since| {
            f64::from((self.today - *since).get_days().max(0)) / 365.25
        })
    }

    fn penalty(&self, from: &Id, to: &Id, kind: &EdgeKind) -> f64 {
        match kind {
            EdgeKind::Vouch { .. } => {
                let made = self.vouched_at.get(&(*from, *to));
                let before = self.fell_behind.get(from).map_or(0, |lost| {
                    lost.values()
                        .filter(|at| made.is_none_or(|made| *at < made))
                        .count()
                });
                0.5_f64.powi(i32::try_from(before).unwrap_or(i32::MAX))
            }
            EdgeKind::Referral => 1.0,
        }
    }

    fn weight(&self, from: &Id, to: &Id, kind: &EdgeKind) -> f64 {
        trust::edge_weight(kind, self.years(from), self.penalty(from, to, kind))
    }

    /// Whether the subject is a node of the graph (someone referred or vouched for them, or
    /// they for someone).
    pub(in crate::grpc) fn connected(&self, subject: &Id) -> bool {
        self.nodes.contains_key(subject)
    }

    /// Everyone a batch stores an answer for: every node, and every member referrals has met
    /// (whose answer is "no connections yet").
    pub(in crate::grpc) fn subjects(&self) -> Vec<Id> {
        let mut subjects: Vec<Id> = self.nodes.keys().copied().collect();
        subjects.extend(
            self.known
                .tenure
                .keys()
                .filter(|id| !self.nodes.contains_key(id)),
        );
        subjects.sort_unstable();
        subjects
    }

    /// Node ids in index order: what an online update's state is indexed by.
    pub(in crate::grpc) fn node_order(&self) -> &[Id] {
        &self.by_index
    }

    /// Every node's score as its answer gives it, by index (empty when unscored).
    pub(in crate::grpc) fn served_scores(&self) -> Vec<f64> {
        self.scores.as_ref().map_or_else(Vec::new, |scores| {
            (0..self.by_index.len())
                .map(|node| served_score(scores, u32::try_from(node).unwrap_or(u32::MAX)))
                .collect()
        })
    }

    /// The score node `index`'s answer gives, if the snapshot is scored.
    pub(in crate::grpc) fn served_score_of(&self, index: u32) -> Option<f64> {
        self.scores
            .as_ref()
            .map(|scores| served_score(scores, index))
    }

    /// The node index of a subject in the graph.
    pub(in crate::grpc) fn index_of(&self, subject: &Id) -> Option<u32> {
        self.nodes.get(subject).copied()
    }

    /// The subject of node `index`.
    pub(in crate::grpc) fn subject(&self, index: u32) -> Option<Id> {
        self.by_index.get(index as usize).copied()
    }

    /// How many customers each truster referred or vouched for have fallen behind (their
    /// answers name it).
    pub(in crate::grpc) fn fell_behind_counts(&self) -> BTreeMap<Id, usize> {
        self.fell_behind
            .iter()
            .map(|(id, lost)| (*id, lost.len()))
            .collect()
    }

    /// L1 bound on the raw scores' distance from the exact fixed point, and the sweeps run.
    pub(in crate::grpc) fn convergence(&self) -> (f64, u32) {
        self.scores
            .as_ref()
            .map_or((0.0, 0), |s| (s.error_bound, s.iterations))
    }

    /// Seeds in the graph, and long-standing members out of good standing in it.
    pub(in crate::grpc) fn seed_counts(&self) -> (usize, usize) {
        (self.seeds.len(), self.removed_in_graph.len())
    }

    /// The subject's trust, paths, signals and reasons, as GetTrust answers.
    pub(in crate::grpc) fn answer(&self, subject: Id) -> StoredTrust {
        self.answer_searching(subject, None)
    }

    /// [`Self::answer`] for one of many subjects of a batch or an online update: the same answer,
    /// its paths found from the bounds computed once per snapshot for the whole graph
    /// (`max_depth` passes over the edges; at a million customers, a batch that searched each
    /// subject's surroundings afresh took most of an hour, issue 23). The first call computes
    /// them; calls on other threads meanwhile wait for it.
    pub(in crate::grpc) fn answer_among_many(&self, subject: Id) -> StoredTrust {
        self.answer_searching(subject, Some(self.path_bounds()))
    }

    fn path_bounds(&self) -> &PathBounds {
        self.path_bounds
            .get_or_init(|| PathBounds::new(&self.graph, &self.seeds, PATH_DEPTH))
    }

    fn answer_searching(&self, subject: Id, bounds: Option<&PathBounds>) -> StoredTrust {
        // Standing decides who anchors trust: say whom it kept out, and why for the subject.
        let removed_in_graph = self
            .removed_in_graph
            .iter()
            .filter(|id| **id != subject)
            .count();
        let long_standing = self
            .known
            .tenure
            .get(&subject)
            .is_some_and(|since| *since <= self.joined_by);
        let (mut signals, reasons) = preamble(
            self.seeds.len(),
            removed_in_graph,
            self.pretrusted_min_tenure_years,
            self.known.standing.get(&subject).filter(|_| long_standing),
        );
        let answer = |score: f64, paths, signals| StoredTrust {
            score: score.clamp(0.0, 1.0),
            paths,
            signals,
            reasons: reasons.clone(),
        };
        let Some(&target) = self.nodes.get(&subject) else {
            return unconnected(signals, reasons);
        };
        let Some(scores) = &self.scores else {
            signals.push(signal(
                "NO_SEEDS",
                if removed_in_graph > 0 {
                    "No long-standing customer in good standing is connected yet.".into()
                } else {
                    "No long-standing customer is connected yet.".into()
                },
                0.0,
            ));
            return answer(0.0, Vec::new(), signals);
        };
        let score = served_score(scores, target);
        let paths = match bounds {
            Some(bounds) => bounds.strongest_paths(&self.graph, target, PATHS),
            None => trust::strongest_paths(&self.graph, &self.seeds, target, PATHS, PATH_DEPTH),
        };
        let paths = paths
            .into_iter()
            .map(|path| StoredPath {
                edges: path
                    .nodes
                    .windows(2)
                    .map(|pair| {
                        let (from, to) = (
                            self.by_index[pair[0] as usize],
                            self.by_index[pair[1] as usize],
                        );
                        let kind = self.first_kind.get(&(from, to));
                        StoredEdge {
                            from_id: from.to_string(),
                            to_id: to.to_string(),
                            kind: match kind {
                                Some(EdgeKind::Referral) => "REFERRAL",
                                _ => "VOUCH",
                            }
                            .into(),
                            weight: kind.map_or(0.0, |k| self.weight(&from, &to, k)),
                        }
                    })
                    .collect(),
                contribution: path.strength,
            })
            .collect();
        if let Some(lost) = self.fell_behind.get(&subject) {
            let count = lost.len();
            signals.push(signal(
                "VOUCHED_FOR_CUSTOMERS_FELL_BEHIND",
                format!("{count} customers they vouched for or referred are no longer in good standing; their vouches since count for less."),
                -(count as f64),
            ));
        }
        let vouches_in = self.vouches_in.get(&subject).copied().unwrap_or(0);
        signals.push(signal(
            "VOUCHES_RECEIVED",
            format!("{vouches_in} customers vouched for them."),
            f64::from(u32::try_from(vouches_in).unwrap_or(u32::MAX)),
        ));
        signals.push(signal(
            "CONVERGENCE",
            format!(
                "Computed in {} iterations{}.",
                scores.iterations,
                if scores.converged {
                    ""
                } else {
                    " (not fully converged)"
                }
            ),
            0.0,
        ));
        answer(score, paths, signals)
    }
}

/// The score an answer gives node `target`: relative to the best, and 1 for a seed.
pub(in crate::grpc) fn served_score(scores: &Scores, target: u32) -> f64 {
    if scores.is_seed(target) {
        1.0_f64.max(scores.score(target))
    } else {
        scores.score(target)
    }
}

/// What every answer starts with: the seeds, the seeds standing removed (not counting the
/// subject), the method, and — for a long-standing subject (`standing` given) — why they are, or
/// are not, a trust anchor.
pub(in crate::grpc) fn preamble(
    seeds: usize,
    removed_in_graph: usize,
    pretrusted_min_tenure_years: u32,
    standing: Option<&Standing>,
) -> (Vec<StoredSignal>, Vec<StoredReason>) {
    let mut signals = vec![signal(
        "PRETRUSTED_SEEDS",
        format!(
            "{seeds} customers of at least {pretrusted_min_tenure_years} years in good standing anchor the graph."
        ),
        0.0,
    )];
    if removed_in_graph > 0 {
        signals.push(signal(
            "SEEDS_REMOVED_BY_STANDING",
            format!(
                "{removed_in_graph} customers of at least {pretrusted_min_tenure_years} years in this graph are not anchors while they are out of good standing."
            ),
            -(removed_in_graph as f64),
        ));
    }
    let mut reasons = vec![reason(&Reason::new(
        "PERSONALISED_PAGERANK",
        ReasonEffect::Neutral,
        "DESIGN.md: trust = personalised PageRank from pre-trusted customers, damping 0.85, bounded influence per node",
        "Trust flows from long-standing customers in good standing through the people they referred and vouched for; \
         no single account can pass on more than a bounded share.",
    ))];
    if let Some(standing) = standing {
        seed_standing(
            pretrusted_min_tenure_years,
            standing,
            &mut signals,
            &mut reasons,
        );
    }
    (signals, reasons)
}

/// The answer for a subject nobody has referred or vouched for (and who has done neither).
pub(in crate::grpc) fn unconnected(
    mut signals: Vec<StoredSignal>,
    reasons: Vec<StoredReason>,
) -> StoredTrust {
    signals.push(signal(
        "NO_CONNECTIONS",
        "Nobody has referred or vouched for them yet.".into(),
        0.0,
    ));
    StoredTrust {
        score: 0.0,
        paths: Vec::new(),
        signals,
        reasons,
    }
}

/// Why a long-standing subject is, or is not, a trust anchor.
fn seed_standing(
    pretrusted_min_tenure_years: u32,
    standing: &Standing,
    signals: &mut Vec<StoredSignal>,
    reasons: &mut Vec<StoredReason>,
) {
    let (code, description, effect) = if !standing.good {
        (
            "NOT_A_SEED_NOT_IN_GOOD_STANDING",
            format!(
                "A customer of at least {} years, but not a trust anchor while out of good standing: {}",
                pretrusted_min_tenure_years,
                standing.why_not()
            ),
            ReasonEffect::Opposes,
        )
    } else if let Some(note) = standing.notes.iter().find(|n| n.code == "KEEPING_PLAN") {
        (
            "SEED_KEEPING_PLAN",
            format!(
                "In arrears but keeping an agreed plan, so in good standing and a trust anchor: {}",
                note.message
            ),
            ReasonEffect::Supports,
        )
    } else {
        return;
    };
    signals.push(signal(
        code,
        description.clone(),
        if effect == ReasonEffect::Opposes {
            -1.0
        } else {
            0.0
        },
    ));
    reasons.push(reason(&Reason::new(
        code,
        effect,
        format!(
            "DESIGN.md: trust seeds are customers of ≥ 2 years in good standing; {}",
            standing::RULE
        ),
        description,
    )));
}

fn signal(code: &str, description: String, effect: f64) -> StoredSignal {
    StoredSignal {
        code: code.into(),
        description,
        effect,
    }
}

fn reason(r: &Reason) -> StoredReason {
    StoredReason {
        code: r.code.to_string(),
        message: r.message.to_string(),
        rule_ref: r.rule_ref.to_string(),
        effect: match r.effect {
            ReasonEffect::Supports => "SUPPORTS",
            ReasonEffect::Opposes => "OPPOSES",
            _ => "NEUTRAL",
        }
        .into(),
    }
}
