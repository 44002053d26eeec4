//! One snapshot of the trust graph, scored: every referral and vouch, weighed by tenure, relationship
//! and the voucher's record, seeded from long-standing customers in good standing, with the
//! personalised PageRank over it. The batch stores every subject's [`StoredTrust`] from one
//! snapshot; GetTrust builds one only when nothing is stored yet.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{Timestamp, tz::TimeZone};
use rapport_ids::Id;
use rapport_proto::referrals::v1 as pb;
use rapport_reasons::{Reason, ReasonEffect};

use crate::domain::standing::{self, Standing};
use crate::domain::trust::{
    self, EdgeKind, Graph, GraphBuilder, Relationship, Scores, TrustConfig,
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
}

impl Unscored {
    /// Builds the graph and runs the PageRank: CPU only (the batch runs it off the runtime).
    pub(in crate::grpc) fn score(self) -> Snapshot {
        let Self {
            mut snapshot,
            edges,
            trusted,
        } = self;
        let mut builder = GraphBuilder::with_capacity(snapshot.nodes.len(), edges.len());
        for (from, to, kind) in &edges {
            builder.add_edge(
                snapshot.nodes[from],
                snapshot.nodes[to],
                snapshot.weight(from, to, kind),
            );
        }
        drop(edges);
        snapshot.graph = builder.build();
        snapshot.seeds = trusted
            .iter()
            .filter_map(|id| snapshot.nodes.get(id).copied())
            .collect();
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

    /// Reads the whole graph at `now`; [`Snapshot::score`] does the work that needs no I/O.
    pub(in crate::grpc) async fn read(
        conn: &mut Conn,
        now: Timestamp,
        rules: &Rules,
    ) -> Result<Unscored, ReferralsError> {
        let graph_version = store::trust::graph_version(conn).await?;
        let referrals = store::referrals::all(conn).await?;
        let vouches = store::vouches::vouched(conn).await?;
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
        for referral in &referrals {
            if let Some(referee) = referral.referee_id {
                edges.push((referral.referrer_id, referee, EdgeKind::Referral));
            }
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
            nodes,
            by_index,
        };
        Ok(Unscored {
            snapshot,
            edges,
            trusted,
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
        let score = if scores.is_seed(target) {
            1.0_f64.max(scores.score(target))
        } else {
            scores.score(target)
        };
        let paths = trust::strongest_paths(&self.graph, &self.seeds, target, PATHS, PATH_DEPTH)
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
