//! The loyalty score (DESIGN.md, principle 2 and "Rules with numbers": Loyalty): loyalty =
//! satisfaction + involvement + affinity, each 0–100, and affinity only grows where the other two
//! exist (0 unless satisfaction ≥ 60 and involvement ≥ 40).
//!
//! A pure function of the customer's tenure, products, signals and the time: the same inputs give
//! the same score whatever order the signals arrived in (they are sorted before any arithmetic).
//! Every point is explained: a component is the sum of its contributions, bounds included.
//!
//! Being in hardship never lowers the score by itself (principle 1): hardship cases, protections,
//! missed installments, broken or cancelled plans and broken promises to pay add nothing and take
//! nothing; keeping a plan raises involvement.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::signal::{Kind, Sentiment, Signal};
use crate::rules::ScoreModel;

/// What the score reads about one customer.
#[derive(Debug, Clone, Default)]
pub struct Inputs<'a> {
    pub customer_since: Option<Date>,
    pub products_held: Option<u32>,
    pub signals: &'a [Signal],
    /// Loyalty at the start of the falling window (from the score history), if known.
    pub previous_loyalty: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Component {
    Satisfaction,
    Involvement,
    Affinity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Segment {
    Entrenched,
    Average,
    Shallow,
    Convertible,
}

impl Segment {
    pub fn code(self) -> &'static str {
        match self {
            Self::Entrenched => "entrenched",
            Self::Average => "average",
            Self::Shallow => "shallow",
            Self::Convertible => "convertible",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Some(match code {
            "entrenched" => Self::Entrenched,
            "average" => Self::Average,
            "shallow" => Self::Shallow,
            "convertible" => Self::Convertible,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flag {
    SatisfiedNotLoyal,
    AtRisk,
}

pub use rapport_reasons::{Reason, ReasonEffect};

/// One signal's effect on one component.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub component: Component,
    pub signal: String,
    pub points: f64,
    /// The figures the description quotes, as it quotes them (the history stores these, not
    /// the sentence: `store::scores`).
    pub figures: Vec<String>,
    /// The sentence: [`describe`] of the signal and its figures.
    pub description: String,
}

impl Contribution {
    pub fn new(component: Component, signal: &str, points: f64, figures: Vec<String>) -> Self {
        Self {
            component,
            signal: signal.to_owned(),
            points,
            description: describe(signal, &figures),
            figures,
        }
    }
}

/// The sentence that explains a signal's contribution, `{}` standing for its figures in order.
/// One sentence per signal: the score writes the figures, and a stored score is described
/// again from them when read (so the history keeps numbers, not prose).
fn sentence(signal: &str) -> Option<&'static str> {
    Some(match signal {
        "prior" => "Where satisfaction starts without evidence: neither satisfied nor not.",
        "survey_scores" => {
            "Survey answers weighted by recency ({}-day half-life): mean {}/100, weight {}."
        }
        "complaints" => "Complaints and negative touchpoints (recency-weighted {}).",
        "commitments_kept" => "Promises we made and kept (recency-weighted {}).",
        "commitments_broken" => "Promises we made and broke (recency-weighted {}).",
        "follow_ups_closed_in_time" => {
            "Detractor follow-ups closed within their SLA: the loop closed fast."
        }
        "follow_ups_closed_late" => {
            "Detractor follow-ups closed after their SLA: answered, but slowly."
        }
        "follow_ups_overdue" => "{} detractor follow-up(s) open past their SLA.",
        "tenure" => "A customer since {} ({} years).",
        "products_held" => "{} product(s) held.",
        "touchpoint_activity" => "Touchpoints with us (recency-weighted {}).",
        "surveys_answered" => "Surveys answered (recency-weighted {}).",
        "opinions_given" => "Answers with their own words (recency-weighted {}).",
        "vouches_answered" => "Asked to vouch and answered (recency-weighted {}).",
        "referrals_made" => "Referrals made (recency-weighted {}).",
        "plan_kept" => {
            "Working with us through a plan: {} accepted, {} installment(s) paid, {} completed, {} promise(s) kept."
        }
        "promoter_answers" => "Would recommend us: 9–10 answers (recency-weighted {}).",
        "qualified_referrals" => "{} referral(s) that became customers.",
        "vouches_given" => "Gave their word for {} prospect(s).",
        "positive_sentiment" => "Positive touchpoints (recency-weighted {}).",
        "recognition_response" => "Warm responses to our gestures (recency-weighted {}).",
        "affinity_gate" => {
            "Affinity grows only where satisfaction ≥ {} and involvement ≥ {} (here {} and {})."
        }
        "bounds" => "Components stay within 0–100.",
        _ => return None,
    })
}

/// The description of a signal's contribution with these figures. A signal this version does
/// not know (a score stored by a newer one) is named with its figures rather than lost.
pub fn describe(signal: &str, figures: &[String]) -> String {
    let Some(sentence) = sentence(signal) else {
        return if figures.is_empty() {
            format!("{signal}.")
        } else {
            format!("{signal}: {}.", figures.join(", "))
        };
    };
    let mut text = String::with_capacity(sentence.len() + 8 * figures.len());
    let mut figures = figures.iter();
    let mut parts = sentence.split("{}");
    if let Some(first) = parts.next() {
        text.push_str(first);
    }
    for part in parts {
        text.push_str(figures.next().map_or("?", String::as_str));
        text.push_str(part);
    }
    text
}

#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub loyalty: f64,
    pub satisfaction: f64,
    pub involvement: f64,
    pub affinity: f64,
    pub segment: Segment,
    pub flags: Vec<Flag>,
    pub explanation: Vec<Contribution>,
    pub reasons: Vec<Reason>,
    pub model_version: String,
    pub as_of: Timestamp,
}

impl Score {
    pub fn at_risk(&self) -> bool {
        self.flags.contains(&Flag::AtRisk)
    }

    /// The sum of one component's contributions (equal to the component, by construction).
    pub fn explained(&self, component: Component) -> f64 {
        self.explanation
            .iter()
            .filter(|c| c.component == component)
            .map(|c| c.points)
            .sum()
    }
}

const SECONDS_PER_DAY: f64 = 86_400.0;

/// Everything the signals add up to, before the model turns it into points.
#[derive(Debug, Default)]
struct Tally {
    survey_weight: f64,
    survey_weighted_value: f64,
    surveys_answered: f64,
    promoter_answers: f64,
    opinions: f64,
    complaints: f64,
    commitments_kept: f64,
    commitments_broken: f64,
    follow_ups_in_time: f64,
    follow_ups_late: f64,
    follow_ups_overdue: u32,
    /// Open and not yet due.
    follow_ups_open: u32,
    activity: f64,
    recent_touchpoints: u32,
    earlier_touchpoints: u32,
    vouches_answered: f64,
    vouches_given: u32,
    referrals_made: f64,
    referrals_qualified: u32,
    plans_accepted: u32,
    installments_paid: u32,
    plans_completed: u32,
    promises_kept: u32,
    positive_sentiment: f64,
    recognition: f64,
    hardship_signals: u32,
}

#[derive(Debug, Default)]
struct FollowUpState {
    due: Option<Timestamp>,
    closed: Option<Timestamp>,
}

/// The score of one customer at `as_of`; signals after `as_of` are not yet known.
pub fn score(model: &ScoreModel, inputs: &Inputs<'_>, as_of: Timestamp) -> Score {
    let mut signals: Vec<&Signal> = inputs.signals.iter().filter(|s| s.at <= as_of).collect();
    signals.sort_by(|a, b| (a.at, &a.kind).cmp(&(b.at, &b.kind)));
    let tally = tally(model, &signals, as_of);
    let mut explanation = Vec::new();
    let mut reasons = Vec::new();

    let satisfaction = satisfaction(model, &tally, &mut explanation);
    let involvement = involvement(model, inputs, &tally, as_of, &mut explanation);
    let affinity = affinity(
        model,
        &tally,
        satisfaction,
        involvement,
        &mut explanation,
        &mut reasons,
    );

    let loyalty = model.weight_satisfaction * satisfaction
        + model.weight_involvement * involvement
        + model.weight_affinity * affinity;
    let segment = if loyalty >= model.entrenched_from {
        Segment::Entrenched
    } else if loyalty >= model.average_from {
        Segment::Average
    } else if loyalty >= model.shallow_from {
        Segment::Shallow
    } else {
        Segment::Convertible
    };

    let mut flags = Vec::new();
    if satisfaction >= model.satisfied_from && loyalty < model.average_from {
        flags.push(Flag::SatisfiedNotLoyal);
        reasons.push(Reason::new(
            "SATISFIED_NOT_LOYAL",
            ReasonEffect::Neutral,
            "",
            format!(
                "Satisfied ({satisfaction:.0}) but loyalty is {loyalty:.0}: they got what they paid for, yet little ties them to us."
            ),
        ));
    }
    let risks = at_risk(model, inputs, &tally, loyalty);
    if !risks.is_empty() {
        flags.push(Flag::AtRisk);
        reasons.extend(risks);
    }
    if tally.hardship_signals > 0 {
        reasons.push(Reason::new(
            "HARDSHIP_NEUTRAL",
            ReasonEffect::Neutral,
            "",
            "A hardship episode never lowers the score by itself; keeping a plan raises involvement.",
        ));
    }

    Score {
        loyalty,
        satisfaction,
        involvement,
        affinity,
        segment,
        flags,
        explanation,
        reasons,
        model_version: model.version.clone(),
        as_of,
    }
}

/// How much a signal of this age still counts: 1 now, ½ after one half-life.
fn weight(model: &ScoreModel, as_of: Timestamp, at: Timestamp) -> f64 {
    let age_days = (as_of.duration_since(at).as_secs_f64() / SECONDS_PER_DAY).max(0.0);
    0.5_f64.powf(age_days / model.half_life_days)
}

fn tally(model: &ScoreModel, signals: &[&Signal], as_of: Timestamp) -> Tally {
    let window = jiff::SignedDuration::from_hours(24 * i64::from(model.activity_window_days));
    let recent_from = as_of - window;
    let earlier_from = recent_from - window;
    let mut t = Tally::default();
    let mut follow_ups: BTreeMap<&str, FollowUpState> = BTreeMap::new();
    for signal in signals {
        let w = weight(model, as_of, signal.at);
        let touchpoint = |t: &mut Tally| {
            if signal.at > recent_from {
                t.recent_touchpoints += 1;
            } else if signal.at > earlier_from {
                t.earlier_touchpoints += 1;
            }
        };
        match &signal.kind {
            Kind::Survey { nps, csat } => {
                let values: Vec<f64> = nps
                    .map(|n| f64::from(n) * 10.0)
                    .into_iter()
                    .chain(csat.map(|c| (f64::from(c) - 1.0) * 25.0))
                    .collect();
                if !values.is_empty() {
                    let value = values.iter().sum::<f64>() / values.len() as f64;
                    t.survey_weight += w;
                    t.survey_weighted_value += w * value;
                    t.surveys_answered += w;
                }
                if nps.is_some_and(|n| n >= 9) {
                    t.promoter_answers += w;
                }
                touchpoint(&mut t);
            }
            Kind::Opinion => t.opinions += w,
            Kind::Interaction(sentiment) => {
                t.activity += w;
                match sentiment {
                    Sentiment::Negative => t.complaints += w,
                    Sentiment::Positive => t.positive_sentiment += w,
                    _ => {}
                }
                touchpoint(&mut t);
            }
            Kind::Complaint => t.complaints += w,
            Kind::CommitmentKept => t.commitments_kept += w,
            Kind::CommitmentBroken => t.commitments_broken += w,
            Kind::FollowUpOpened { follow_up, due } => {
                follow_ups.entry(follow_up).or_default().due = Some(*due);
            }
            Kind::FollowUpClosed { follow_up, due } => {
                let state = follow_ups.entry(follow_up).or_default();
                state.due = Some(*due);
                state.closed = Some(signal.at);
            }
            Kind::VouchAnswered { vouched } => {
                t.vouches_answered += w;
                if *vouched {
                    t.vouches_given += 1;
                }
            }
            Kind::ReferralMade => t.referrals_made += w,
            Kind::ReferralQualified => t.referrals_qualified += 1,
            Kind::PlanAccepted => {
                t.plans_accepted += 1;
                t.hardship_signals += 1;
            }
            Kind::InstallmentPaid => t.installments_paid += 1,
            Kind::PlanCompleted => t.plans_completed += 1,
            Kind::PromiseKept => t.promises_kept += 1,
            Kind::Recognition(sentiment) => match sentiment {
                Sentiment::Positive => t.recognition += w,
                Sentiment::Mixed => t.recognition += w / 2.0,
                _ => {}
            },
            // Never lower the score by themselves (principle 1): counted only to say so.
            Kind::HardshipOpened
            | Kind::ProtectionSet
            | Kind::InstallmentMissed
            | Kind::PlanBroken
            | Kind::PlanCancelled
            | Kind::PromiseBroken => t.hardship_signals += 1,
            // Throttle facts, not opinions.
            Kind::SurveySent | Kind::VouchRequested => {}
        }
    }
    for state in follow_ups.values() {
        match (state.closed, state.due) {
            (Some(closed), Some(due)) if closed <= due => {
                t.follow_ups_in_time += weight(model, as_of, closed);
            }
            (Some(closed), _) => t.follow_ups_late += weight(model, as_of, closed),
            (None, Some(due)) if due < as_of => t.follow_ups_overdue += 1,
            (None, _) => t.follow_ups_open += 1,
        }
    }
    t
}

struct Explain<'a> {
    component: Component,
    explanation: &'a mut Vec<Contribution>,
    total: f64,
}

impl Explain<'_> {
    /// `figures`: what the signal's sentence quotes ([`sentence`]).
    fn add(&mut self, signal: &str, points: f64, figures: Vec<String>) {
        if points != 0.0 {
            self.total += points;
            self.explanation
                .push(Contribution::new(self.component, signal, points, figures));
        }
    }

    /// `per · amount` up to `cap` (a negative `per` down to −cap).
    fn capped(&mut self, signal: &str, per: f64, amount: f64, cap: f64, figures: Vec<String>) {
        let points = (per * amount).clamp(-cap, cap);
        self.add(signal, points, figures);
    }

    /// Keeps the component within 0–100, saying so, so the contributions still add up to it.
    fn bounded(mut self) -> f64 {
        let bounded = self.total.clamp(0.0, 100.0);
        let excess = bounded - self.total;
        self.add("bounds", excess, Vec::new());
        bounded
    }
}

fn satisfaction(model: &ScoreModel, t: &Tally, explanation: &mut Vec<Contribution>) -> f64 {
    let mut e = Explain {
        component: Component::Satisfaction,
        explanation,
        total: 0.0,
    };
    e.add("prior", model.satisfaction_prior, Vec::new());
    if t.survey_weight > 0.0 {
        let mean = t.survey_weighted_value / t.survey_weight;
        let confidence = t.survey_weight / (t.survey_weight + model.survey_confidence);
        e.add(
            "survey_scores",
            confidence * (mean - model.satisfaction_prior),
            vec![
                model.half_life_days.to_string(),
                format!("{mean:.0}"),
                format!("{:.2}", t.survey_weight),
            ],
        );
    }
    e.capped(
        "complaints",
        -model.complaint_points,
        t.complaints,
        model.complaint_cap,
        vec![format!("{:.2}", t.complaints)],
    );
    e.capped(
        "commitments_kept",
        model.commitment_kept_points,
        t.commitments_kept,
        model.commitment_kept_cap,
        vec![format!("{:.2}", t.commitments_kept)],
    );
    e.capped(
        "commitments_broken",
        -model.commitment_broken_points,
        t.commitments_broken,
        model.commitment_broken_cap,
        vec![format!("{:.2}", t.commitments_broken)],
    );
    let overdue = t.follow_ups_overdue;
    e.capped(
        "follow_ups_closed_in_time",
        model.follow_up_in_time_points,
        t.follow_ups_in_time,
        model.follow_up_cap,
        Vec::new(),
    );
    e.capped(
        "follow_ups_closed_late",
        model.follow_up_late_points,
        t.follow_ups_late,
        model.follow_up_cap,
        Vec::new(),
    );
    e.capped(
        "follow_ups_overdue",
        -model.follow_up_overdue_points,
        f64::from(overdue),
        model.follow_up_cap,
        vec![overdue.to_string()],
    );
    e.bounded()
}

fn involvement(
    model: &ScoreModel,
    inputs: &Inputs<'_>,
    t: &Tally,
    as_of: Timestamp,
    explanation: &mut Vec<Contribution>,
) -> f64 {
    let mut e = Explain {
        component: Component::Involvement,
        explanation,
        total: 0.0,
    };
    if let Some(since) = inputs.customer_since {
        let today = as_of.to_zoned(jiff::tz::TimeZone::UTC).date();
        let days = since
            .until((jiff::Unit::Day, today))
            .map_or(0, |span| i64::from(span.get_days()).max(0));
        let years = days as f64 / 365.2425;
        e.capped(
            "tenure",
            model.tenure_points_per_year,
            years,
            model.tenure_cap,
            vec![since.to_string(), format!("{years:.1}")],
        );
    }
    if let Some(products) = inputs.products_held {
        let beyond_first = f64::from(products.saturating_sub(1));
        e.capped(
            "products_held",
            model.product_points,
            beyond_first,
            model.product_cap,
            vec![products.to_string()],
        );
    }
    e.capped(
        "touchpoint_activity",
        model.activity_points,
        t.activity,
        model.activity_cap,
        vec![format!("{:.2}", t.activity)],
    );
    e.capped(
        "surveys_answered",
        model.survey_answered_points,
        t.surveys_answered,
        model.survey_answered_cap,
        vec![format!("{:.2}", t.surveys_answered)],
    );
    e.capped(
        "opinions_given",
        model.opinion_points,
        t.opinions,
        model.opinion_cap,
        vec![format!("{:.2}", t.opinions)],
    );
    e.capped(
        "vouches_answered",
        model.vouch_answered_points,
        t.vouches_answered,
        model.vouch_answered_cap,
        vec![format!("{:.2}", t.vouches_answered)],
    );
    e.capped(
        "referrals_made",
        model.referral_made_points,
        t.referrals_made,
        model.referral_made_cap,
        vec![format!("{:.2}", t.referrals_made)],
    );
    let plan = f64::from(t.plans_accepted) * model.plan_accepted_points
        + f64::from(t.installments_paid) * model.installment_paid_points
        + f64::from(t.plans_completed) * model.plan_completed_points
        + f64::from(t.promises_kept) * model.promise_kept_points;
    e.capped(
        "plan_kept",
        1.0,
        plan,
        model.plan_cap,
        vec![
            t.plans_accepted.to_string(),
            t.installments_paid.to_string(),
            t.plans_completed.to_string(),
            t.promises_kept.to_string(),
        ],
    );
    e.bounded()
}

fn affinity(
    model: &ScoreModel,
    t: &Tally,
    satisfaction: f64,
    involvement: f64,
    explanation: &mut Vec<Contribution>,
    reasons: &mut Vec<Reason>,
) -> f64 {
    let mut e = Explain {
        component: Component::Affinity,
        explanation,
        total: 0.0,
    };
    e.capped(
        "promoter_answers",
        model.promoter_points,
        t.promoter_answers,
        model.promoter_cap,
        vec![format!("{:.2}", t.promoter_answers)],
    );
    e.capped(
        "qualified_referrals",
        model.qualified_referral_points,
        f64::from(t.referrals_qualified),
        model.qualified_referral_cap,
        vec![t.referrals_qualified.to_string()],
    );
    e.capped(
        "vouches_given",
        model.vouch_given_points,
        f64::from(t.vouches_given),
        model.vouch_given_cap,
        vec![t.vouches_given.to_string()],
    );
    e.capped(
        "positive_sentiment",
        model.positive_sentiment_points,
        t.positive_sentiment,
        model.positive_sentiment_cap,
        vec![format!("{:.2}", t.positive_sentiment)],
    );
    e.capped(
        "recognition_response",
        model.recognition_points,
        t.recognition,
        model.recognition_cap,
        vec![format!("{:.2}", t.recognition)],
    );
    // DESIGN.md: affinity 0 unless satisfaction ≥ 60 and involvement ≥ 40.
    if satisfaction < model.affinity_min_satisfaction
        || involvement < model.affinity_min_involvement
    {
        let would_be = e.total;
        e.add(
            "affinity_gate",
            -would_be,
            vec![
                model.affinity_min_satisfaction.to_string(),
                model.affinity_min_involvement.to_string(),
                format!("{satisfaction:.0}"),
                format!("{involvement:.0}"),
            ],
        );
        reasons.push(Reason::new(
            "AFFINITY_GATED",
            ReasonEffect::Neutral,
            "",
            format!(
                "Affinity is 0 until satisfaction reaches {} and involvement {}; the advocacy signals ({would_be:.1} points) wait for them.",
                model.affinity_min_satisfaction, model.affinity_min_involvement
            ),
        ));
    }
    e.bounded()
}

fn at_risk(model: &ScoreModel, inputs: &Inputs<'_>, t: &Tally, loyalty: f64) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if let Some(previous) = inputs.previous_loyalty
        && previous - loyalty >= model.falling_points
    {
        reasons.push(Reason::new(
            "LOYALTY_FALLING",
            ReasonEffect::Opposes,
            "",
            format!(
                "Loyalty fell from {previous:.0} to {loyalty:.0} in {} days.",
                model.falling_window_days
            ),
        ));
    }
    let open = t.follow_ups_open + t.follow_ups_overdue;
    if open > 0 {
        reasons.push(Reason::new(
            "OPEN_DETRACTOR_FOLLOW_UP",
            ReasonEffect::Opposes,
            "",
            format!(
                "{open} detractor follow-up(s) not yet closed ({} overdue).",
                t.follow_ups_overdue
            ),
        ));
    }
    let before = t.earlier_touchpoints;
    if before >= model.declining_min_before
        && f64::from(t.recent_touchpoints) < model.declining_share * f64::from(before)
    {
        reasons.push(Reason::new(
            "DECLINING_ACTIVITY",
            ReasonEffect::Opposes,
            "",
            format!(
                "{} touchpoint(s) in the last {} days against {before} in the {} days before.",
                t.recent_touchpoints, model.activity_window_days, model.activity_window_days
            ),
        ));
    }
    reasons
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::SignedDuration;
    use proptest::prelude::*;

    use super::*;

    fn as_of() -> Timestamp {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    fn days_ago(days: i64) -> Timestamp {
        as_of() - SignedDuration::from_hours(24 * days)
    }

    fn signal(kind: Kind, days: i64) -> Signal {
        Signal {
            kind,
            at: days_ago(days),
        }
    }

    fn nps(n: u8) -> Kind {
        Kind::Survey {
            nps: Some(n),
            csat: None,
        }
    }

    fn score_of(since: Option<Date>, products: Option<u32>, signals: &[Signal]) -> Score {
        score(
            &ScoreModel::default(),
            &Inputs {
                customer_since: since,
                products_held: products,
                signals,
                previous_loyalty: None,
            },
            as_of(),
        )
    }

    /// A loyal customer: 10 years, 3 products, two recent promoter answers, a few warm calls;
    /// satisfaction and involvement both clear the affinity gate with room under every cap.
    fn loyal() -> Vec<Signal> {
        vec![
            signal(nps(9), 20),
            signal(nps(9), 60),
            signal(Kind::Interaction(Sentiment::Positive), 10),
            signal(Kind::Interaction(Sentiment::Neutral), 30),
            signal(Kind::Interaction(Sentiment::Neutral), 45),
        ]
    }

    fn ten_years() -> Option<Date> {
        Some(jiff::civil::date(2016, 5, 1))
    }

    fn assert_explained(score: &Score) {
        for (component, value) in [
            (Component::Satisfaction, score.satisfaction),
            (Component::Involvement, score.involvement),
            (Component::Affinity, score.affinity),
        ] {
            assert!(
                (score.explained(component) - value).abs() < 1e-9,
                "{component:?}: contributions {} against {value}",
                score.explained(component)
            );
            assert!((0.0..=100.0).contains(&value), "{component:?} = {value}");
        }
        // Every contribution has its sentence, with a figure for each gap in it: a history row
        // keeps only the figures, so a sentence and its figures must not drift apart.
        for c in &score.explanation {
            let sentence = sentence(&c.signal).unwrap_or_else(|| panic!("{c:?}"));
            assert_eq!(sentence.matches("{}").count(), c.figures.len(), "{c:?}");
            assert_eq!(c.description, describe(&c.signal, &c.figures));
        }
    }

    /// The sentences read as the score wrote them before it kept figures apart (texts from a
    /// history row of 2026-12-03), and a signal this version does not know keeps its figures.
    #[test]
    fn descriptions_from_figures() {
        let figures = |f: &[&str]| f.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>();
        for (signal, quoted, text) in [
            (
                "prior",
                figures(&[]),
                "Where satisfaction starts without evidence: neither satisfied nor not.",
            ),
            (
                "complaints",
                figures(&["0.32"]),
                "Complaints and negative touchpoints (recency-weighted 0.32).",
            ),
            (
                "tenure",
                figures(&["2018-01-06", "8.4"]),
                "A customer since 2018-01-06 (8.4 years).",
            ),
            ("products_held", figures(&["4"]), "4 product(s) held."),
            (
                "affinity_gate",
                figures(&["60", "40", "48", "39"]),
                "Affinity grows only where satisfaction ≥ 60 and involvement ≥ 40 (here 48 and 39).",
            ),
            (
                "next_year_signal",
                figures(&["1", "2"]),
                "next_year_signal: 1, 2.",
            ),
        ] {
            assert_eq!(describe(signal, &quoted), text);
        }
        // The affinity gate of a real score quotes the model's thresholds and the components.
        let gated = score_of(None, None, &[signal(Kind::ReferralQualified, 1)]);
        let gate = gated
            .explanation
            .iter()
            .find(|c| c.signal == "affinity_gate")
            .expect("gated");
        assert_eq!(
            gate.description,
            format!(
                "Affinity grows only where satisfaction ≥ 60 and involvement ≥ 40 (here {:.0} and {:.0}).",
                gated.satisfaction, gated.involvement
            )
        );
    }

    #[test]
    fn the_loyal_base_clears_the_gate() {
        let base = score_of(ten_years(), Some(3), &loyal());
        assert!(base.satisfaction >= 60.0, "{base:?}");
        assert!(base.involvement >= 40.0, "{base:?}");
        assert!(base.affinity > 0.0);
        assert_explained(&base);
    }

    #[test]
    fn a_fresh_answer_and_an_old_one_count_by_the_half_life() {
        // Hand-worked: one NPS 10 (value 100) 90 days old weighs ½; confidence ½ / (½ + 1) = ⅓;
        // satisfaction = 50 + ⅓ · (100 − 50) = 66.67. Fresh: 50 + ½ · 50 = 75.
        let old = score_of(None, None, &[signal(nps(10), 90)]);
        assert!(
            (old.satisfaction - (50.0 + 50.0 / 3.0)).abs() < 1e-9,
            "{}",
            old.satisfaction
        );
        let fresh = score_of(None, None, &[signal(nps(10), 0)]);
        assert!((fresh.satisfaction - 75.0).abs() < 1e-9);
        // CSAT 1–5 maps to 0–100: a 2 is 25, so 50 + ½ · (25 − 50) = 37.5.
        let csat = score_of(
            None,
            None,
            &[signal(
                Kind::Survey {
                    nps: None,
                    csat: Some(2),
                },
                0,
            )],
        );
        assert!((csat.satisfaction - 37.5).abs() < 1e-9);
        // No evidence at all: the prior, nothing else.
        let nothing = score_of(None, None, &[]);
        assert_eq!(nothing.satisfaction, 50.0);
        assert_eq!(nothing.involvement, 0.0);
        assert_eq!(nothing.affinity, 0.0);
        // Loyalty 0.4 · 50 = 20: below the Shallow line of 30.
        assert_eq!(nothing.segment, Segment::Convertible);
    }

    #[test]
    fn same_inputs_same_score_in_any_order() {
        let mut signals = loyal();
        signals.extend([
            signal(Kind::CommitmentBroken, 5),
            signal(Kind::PlanAccepted, 100),
            signal(Kind::InstallmentPaid, 70),
            signal(Kind::ReferralQualified, 3),
        ]);
        let first = score_of(ten_years(), Some(2), &signals);
        signals.reverse();
        assert_eq!(score_of(ten_years(), Some(2), &signals), first);
        signals.rotate_left(3);
        assert_eq!(score_of(ten_years(), Some(2), &signals), first);
    }

    #[test]
    fn each_signal_moves_its_component_the_right_way() {
        use Component::{Affinity as A, Involvement as I, Satisfaction as S};
        let due_passed = days_ago(1);
        let due_later = days_ago(-1);
        let cases: Vec<(&str, Vec<Kind>, Component, i8)> = vec![
            ("promoter answer", vec![nps(10)], S, 1),
            ("detractor answer", vec![nps(2)], S, -1),
            (
                "good CSAT",
                vec![Kind::Survey {
                    nps: None,
                    csat: Some(5),
                }],
                S,
                1,
            ),
            ("complaint", vec![Kind::Complaint], S, -1),
            (
                "negative touchpoint",
                vec![Kind::Interaction(Sentiment::Negative)],
                S,
                -1,
            ),
            ("commitment kept", vec![Kind::CommitmentKept], S, 1),
            ("commitment broken", vec![Kind::CommitmentBroken], S, -1),
            (
                "follow-up closed in time",
                vec![
                    Kind::FollowUpOpened {
                        follow_up: "f".into(),
                        due: due_later,
                    },
                    Kind::FollowUpClosed {
                        follow_up: "f".into(),
                        due: due_later,
                    },
                ],
                S,
                1,
            ),
            (
                "follow-up overdue",
                vec![Kind::FollowUpOpened {
                    follow_up: "f".into(),
                    due: due_passed,
                }],
                S,
                -1,
            ),
            (
                "a touchpoint",
                vec![Kind::Interaction(Sentiment::Neutral)],
                I,
                1,
            ),
            ("an answer", vec![nps(8)], I, 1),
            ("an opinion", vec![Kind::Opinion], I, 1),
            (
                "answering a vouch request",
                vec![Kind::VouchAnswered { vouched: false }],
                I,
                1,
            ),
            ("a referral made", vec![Kind::ReferralMade], I, 1),
            ("a plan accepted", vec![Kind::PlanAccepted], I, 1),
            ("an installment paid", vec![Kind::InstallmentPaid], I, 1),
            ("a plan completed", vec![Kind::PlanCompleted], I, 1),
            ("a promise to pay kept", vec![Kind::PromiseKept], I, 1),
            ("a promoter answer", vec![nps(10)], A, 1),
            ("a qualified referral", vec![Kind::ReferralQualified], A, 1),
            (
                "a vouch given",
                vec![Kind::VouchAnswered { vouched: true }],
                A,
                1,
            ),
            (
                "a warm touchpoint",
                vec![Kind::Interaction(Sentiment::Positive)],
                A,
                1,
            ),
            (
                "a warm response to recognition",
                vec![Kind::Recognition(Sentiment::Positive)],
                A,
                1,
            ),
        ];
        let base = score_of(ten_years(), Some(3), &loyal());
        let value = |s: &Score, c: Component| match c {
            S => s.satisfaction,
            I => s.involvement,
            A => s.affinity,
        };
        for (name, kinds, component, direction) in cases {
            let mut signals = loyal();
            signals.extend(kinds.into_iter().map(|k| signal(k, 2)));
            let after = score_of(ten_years(), Some(3), &signals);
            let delta = value(&after, component) - value(&base, component);
            assert!(
                delta * f64::from(direction) > 0.0,
                "{name}: {component:?} moved by {delta}"
            );
            assert_explained(&after);
        }
        // Tenure and products held raise involvement.
        let newer = score_of(Some(jiff::civil::date(2024, 5, 1)), Some(3), &loyal());
        assert!(newer.involvement < base.involvement);
        let fewer = score_of(ten_years(), Some(1), &loyal());
        assert!(fewer.involvement < base.involvement);
    }

    #[test]
    fn hardship_signals_alone_change_nothing_but_a_reason() {
        let base = score_of(ten_years(), Some(3), &loyal());
        let mut signals = loyal();
        for kind in [
            Kind::HardshipOpened,
            Kind::ProtectionSet,
            Kind::InstallmentMissed,
            Kind::PlanBroken,
            Kind::PlanCancelled,
            Kind::PromiseBroken,
        ] {
            signals.push(signal(kind, 3));
        }
        let after = score_of(ten_years(), Some(3), &signals);
        assert_eq!(after.loyalty, base.loyalty);
        assert_eq!(after.explanation, base.explanation);
        assert!(after.reasons.iter().any(|r| r.code == "HARDSHIP_NEUTRAL"));
    }

    #[test]
    fn affinity_waits_for_satisfaction_and_involvement() {
        // Every advocacy signal, but a new customer who is unhappy: affinity stays 0, and the
        // explanation shows what it would have been.
        let signals = vec![
            signal(nps(9), 1),
            signal(Kind::ReferralQualified, 1),
            signal(Kind::VouchAnswered { vouched: true }, 1),
            signal(Kind::Complaint, 1),
            signal(Kind::Complaint, 2),
            signal(Kind::CommitmentBroken, 2),
        ];
        let gated = score_of(Some(jiff::civil::date(2026, 1, 1)), Some(1), &signals);
        assert!(gated.satisfaction < 60.0 || gated.involvement < 40.0);
        assert_eq!(gated.affinity, 0.0);
        let gate = gated
            .explanation
            .iter()
            .find(|c| c.signal == "affinity_gate")
            .expect("the gate is explained");
        assert!(gate.points < 0.0);
        assert!(gated.reasons.iter().any(|r| r.code == "AFFINITY_GATED"));
        assert_explained(&gated);
    }

    #[test]
    fn segments_and_flags() {
        // Satisfied but with nothing tying them to us.
        let shallow = score_of(None, Some(1), &[signal(nps(10), 1), signal(nps(10), 2)]);
        assert!(shallow.satisfaction >= 60.0);
        assert!(
            shallow.flags.contains(&Flag::SatisfiedNotLoyal),
            "{shallow:?}"
        );
        assert!(!shallow.at_risk());
        // The loyal base with everything: entrenched.
        let mut signals = loyal();
        signals.extend([
            signal(Kind::ReferralQualified, 5),
            signal(Kind::ReferralQualified, 6),
            signal(Kind::VouchAnswered { vouched: true }, 5),
            signal(nps(10), 4),
            signal(Kind::Recognition(Sentiment::Positive), 3),
            signal(Kind::CommitmentKept, 3),
        ]);
        let entrenched = score_of(ten_years(), Some(4), &signals);
        assert_eq!(
            entrenched.segment,
            Segment::Entrenched,
            "{}",
            entrenched.loyalty
        );
        // Nothing known: convertible.
        assert_eq!(score_of(None, None, &[]).segment, Segment::Convertible);
    }

    #[test]
    fn at_risk_has_three_reasons() {
        let model = ScoreModel::default();
        let base = loyal();
        let falling = score(
            &model,
            &Inputs {
                customer_since: ten_years(),
                products_held: Some(3),
                signals: &base,
                previous_loyalty: Some(95.0),
            },
            as_of(),
        );
        assert!(falling.at_risk());
        assert!(falling.reasons.iter().any(|r| r.code == "LOYALTY_FALLING"));

        let mut open = loyal();
        open.push(signal(
            Kind::FollowUpOpened {
                follow_up: "f".into(),
                due: days_ago(-1),
            },
            1,
        ));
        let open = score_of(ten_years(), Some(3), &open);
        assert!(
            open.reasons
                .iter()
                .any(|r| r.code == "OPEN_DETRACTOR_FOLLOW_UP")
        );

        // Four touchpoints 100–170 days ago, none in the last 90 days.
        let quiet: Vec<Signal> = [100, 120, 150, 170]
            .into_iter()
            .map(|d| signal(Kind::Interaction(Sentiment::Neutral), d))
            .collect();
        let quiet = score_of(ten_years(), Some(3), &quiet);
        assert!(quiet.reasons.iter().any(|r| r.code == "DECLINING_ACTIVITY"));
        assert!(!score_of(ten_years(), Some(3), &loyal()).at_risk());
    }

    #[test]
    fn future_signals_are_not_yet_known() {
        let later = score_of(None, None, &[signal(nps(0), -3)]);
        assert_eq!(later.satisfaction, 50.0);
    }

    fn any_kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            (0_u8..=10).prop_map(nps),
            (1_u8..=5).prop_map(|c| Kind::Survey {
                nps: None,
                csat: Some(c)
            }),
            Just(Kind::Opinion),
            Just(Kind::Interaction(Sentiment::Positive)),
            Just(Kind::Interaction(Sentiment::Negative)),
            Just(Kind::Interaction(Sentiment::Neutral)),
            Just(Kind::Complaint),
            Just(Kind::CommitmentKept),
            Just(Kind::CommitmentBroken),
            Just(Kind::VouchAnswered { vouched: true }),
            Just(Kind::VouchAnswered { vouched: false }),
            Just(Kind::ReferralMade),
            Just(Kind::ReferralQualified),
            Just(Kind::Recognition(Sentiment::Positive)),
            (0_i64..400).prop_map(|d| Kind::FollowUpOpened {
                follow_up: format!("f{d}"),
                due: days_ago(d - 2)
            }),
        ]
    }

    fn any_signals() -> impl Strategy<Value = Vec<Signal>> {
        prop::collection::vec((any_kind(), 0_i64..730), 0..40)
            .prop_map(|v| v.into_iter().map(|(k, d)| signal(k, d)).collect())
    }

    /// A hardship episode in which the customer keeps the plan: a case, a protection, a plan
    /// accepted, installments paid (one perhaps missed), perhaps completed.
    fn kept_plan_episode() -> impl Strategy<Value = Vec<Signal>> {
        (1_i64..700, 0_u32..24, any::<bool>(), any::<bool>()).prop_map(
            |(start, paid, missed_one, completed)| {
                let mut episode = vec![
                    signal(Kind::HardshipOpened, start),
                    signal(Kind::ProtectionSet, start),
                    signal(Kind::PlanAccepted, start),
                ];
                for i in 0..paid {
                    episode.push(signal(
                        Kind::InstallmentPaid,
                        (start - 30 * i64::from(i)).max(0),
                    ));
                }
                if missed_one {
                    episode.push(signal(Kind::InstallmentMissed, (start - 15).max(0)));
                }
                if completed {
                    episode.push(signal(Kind::PlanCompleted, 0));
                }
                episode
            },
        )
    }

    proptest! {
        #[test]
        fn contributions_add_up_and_stay_in_bounds(
            signals in any_signals(),
            years in 0_i16..40,
            products in 0_u32..8,
        ) {
            let since = jiff::civil::date(2026 - years, 1, 1);
            let score = score_of(Some(since), Some(products), &signals);
            assert_explained(&score);
            prop_assert!((0.0..=100.0).contains(&score.loyalty));
        }

        #[test]
        fn keeping_a_plan_never_ends_lower(
            signals in any_signals(),
            episode in kept_plan_episode(),
            years in 0_i16..40,
        ) {
            let since = Some(jiff::civil::date(2026 - years, 1, 1));
            let without = score_of(since, Some(2), &signals);
            let mut with = signals.clone();
            with.extend(episode);
            let with = score_of(since, Some(2), &with);
            prop_assert!(with.loyalty >= without.loyalty, "{} < {}", with.loyalty, without.loyalty);
            prop_assert!(with.satisfaction >= without.satisfaction);
            prop_assert!(with.involvement >= without.involvement);
            prop_assert!(with.affinity >= without.affinity);
        }
    }
}
