//! Domain and stored values out to the wire.

use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as pb;
use rapport_wire as wire;

use crate::domain::score::{Component, Flag, Score, Segment};
use crate::store::follow_ups::FollowUp;
use crate::store::rewards::{Recognition, Reward};
use crate::store::surveys::Response;

pub fn segment_to_pb(s: Segment) -> pb::LoyaltySegment {
    match s {
        Segment::Entrenched => pb::LoyaltySegment::Entrenched,
        Segment::Average => pb::LoyaltySegment::Average,
        Segment::Shallow => pb::LoyaltySegment::Shallow,
        Segment::Convertible => pb::LoyaltySegment::Convertible,
    }
}

pub fn segment_from_pb(s: pb::LoyaltySegment) -> Option<Segment> {
    match s {
        pb::LoyaltySegment::Unspecified => None,
        pb::LoyaltySegment::Entrenched => Some(Segment::Entrenched),
        pb::LoyaltySegment::Average => Some(Segment::Average),
        pb::LoyaltySegment::Shallow => Some(Segment::Shallow),
        pb::LoyaltySegment::Convertible => Some(Segment::Convertible),
    }
}

/// Rounds to the hundredth, as scores are stored and shown.
fn round(points: f64) -> f64 {
    (points * 100.0).round() / 100.0
}

pub fn score_to_pb(customer_id: &str, s: &Score, explain: bool) -> pb::LoyaltyScore {
    pb::LoyaltyScore {
        customer_id: customer_id.to_owned(),
        loyalty: round(s.loyalty),
        satisfaction: round(s.satisfaction),
        involvement: round(s.involvement),
        affinity: round(s.affinity),
        segment: segment_to_pb(s.segment) as i32,
        flags: s
            .flags
            .iter()
            .map(|f| match f {
                Flag::SatisfiedNotLoyal => pb::LoyaltyFlag::SatisfiedNotLoyal as i32,
                Flag::AtRisk => pb::LoyaltyFlag::AtRisk as i32,
            })
            .collect(),
        // Unrounded, so a component's contributions add up to it exactly.
        explanation: if explain {
            s.explanation
                .iter()
                .map(|c| pb::ScoreContribution {
                    component: match c.component {
                        Component::Satisfaction => pb::ScoreComponent::Satisfaction,
                        Component::Involvement => pb::ScoreComponent::Involvement,
                        Component::Affinity => pb::ScoreComponent::Affinity,
                    } as i32,
                    signal: c.signal.clone(),
                    points: c.points,
                    description: c.description.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        reasons: s.reasons.iter().map(wire::reason_to_pb).collect(),
        model_version: s.model_version.clone(),
        as_of: Some(wire::timestamp_to_pb(s.as_of)),
    }
}

pub fn response_to_pb(r: &Response) -> pb::SurveyResponse {
    pb::SurveyResponse {
        response_id: r.response_id.to_string(),
        customer_id: r.customer_id.to_string(),
        kind: pb::SurveyKind::from_str_name(&r.kind).map_or(0, |k| k as i32),
        nps: r.nps.map(i32::from),
        csat: r.csat.map(i32::from),
        text: r.text.clone(),
        touchpoint: r.touchpoint.clone(),
        interaction_id: r.interaction_id.clone(),
        channel: common::Channel::from_str_name(&r.channel).map_or(0, |c| c as i32),
        locale: r.locale.clone(),
        responded_at: Some(wire::timestamp_to_pb(r.responded_at)),
    }
}

pub fn follow_up_to_pb(f: &FollowUp, now: jiff::Timestamp) -> pb::FollowUp {
    let status = match &f.closed {
        Some(_) => pb::FollowUpStatus::Closed,
        None if f.due_at < now => pb::FollowUpStatus::Overdue,
        None => pb::FollowUpStatus::Open,
    };
    let closed = f.closed.as_ref();
    pb::FollowUp {
        follow_up_id: f.follow_up_id.to_string(),
        customer_id: f.customer_id.to_string(),
        response_id: f.response_id.to_string(),
        nps: i32::from(f.nps),
        owner_id: f.owner_id.clone(),
        status: status as i32,
        opened_at: Some(wire::timestamp_to_pb(f.opened_at)),
        due_at: Some(wire::timestamp_to_pb(f.due_at)),
        closed_at: closed.map(|c| wire::timestamp_to_pb(c.at)),
        customer_told: closed.map(|c| c.customer_told.clone()).unwrap_or_default(),
        outcome: closed
            .and_then(|c| pb::FollowUpOutcome::from_str_name(&c.outcome))
            .map_or(0, |o| o as i32),
        closed_by: closed.map(|c| common::Actor {
            kind: common::ActorKind::from_str_name(&c.by_kind).map_or(0, |k| k as i32),
            id: c.by_id.clone(),
        }),
        time_to_close: closed.map(|c| {
            let d = c.at.duration_since(f.opened_at);
            prost_types::Duration {
                seconds: d.as_secs(),
                nanos: d.subsec_nanos(),
            }
        }),
    }
}

pub fn reward_to_pb(r: &Reward) -> pb::Reward {
    pb::Reward {
        reward_id: r.reward_id.to_string(),
        customer_id: r.customer_id.to_string(),
        kind: pb::RewardKind::Anniversary as i32,
        value: Some(common::Money {
            currency_code: r.currency.clone(),
            minor_units: r.amount_minor,
        }),
        tenure_year: i32::try_from(r.tenure_year).unwrap_or(i32::MAX),
        tenure_band: r.tenure_band.clone(),
        anniversary_date: Some(wire::date_to_pb(r.anniversary_date)),
        issued_at: Some(wire::timestamp_to_pb(r.issued_at)),
    }
}

pub fn recognition_to_pb(r: &Recognition) -> pb::Recognition {
    pb::Recognition {
        recognition_id: r.recognition_id.to_string(),
        customer_id: r.customer_id.to_string(),
        kind: pb::RecognitionKind::from_str_name(&r.kind).map_or(0, |k| k as i32),
        description: r.description.clone(),
        value: r.value.as_ref().map(|(currency, minor)| common::Money {
            currency_code: currency.clone(),
            minor_units: *minor,
        }),
        given_by: Some(common::Actor {
            kind: common::ActorKind::from_str_name(&r.given_by_kind).map_or(0, |k| k as i32),
            id: r.given_by_id.clone(),
        }),
        occurred_at: Some(wire::timestamp_to_pb(r.occurred_at)),
        customer_response: common::Sentiment::from_str_name(&r.customer_response)
            .map_or(0, |s| s as i32),
    }
}
