//! Domain and stored values out to the wire.

use rapport_proto::common::v1 as common;
use rapport_proto::referrals::v1 as pb;
use rapport_wire as wire;

use crate::domain::fraud::{Severity, Signal};
use crate::store::StoredReason;
use crate::store::flags::Flag;
use crate::store::referrals::{Code, Referral};
use crate::store::rewards::Reward;
use crate::store::vouches::Vouch;

pub fn reason(
    code: &str,
    message: impl Into<String>,
    rule_ref: &str,
    effect: common::ReasonEffect,
) -> StoredReason {
    StoredReason {
        code: code.to_owned(),
        message: message.into(),
        rule_ref: rule_ref.to_owned(),
        effect: effect
            .as_str_name()
            .trim_start_matches("REASON_EFFECT_")
            .to_owned(),
    }
}

/// A stored reason on the wire, through the one reason conversion.
pub fn reason_to_pb(r: &StoredReason) -> common::Reason {
    wire::reason_to_pb(&r.into())
}

pub fn code_to_pb(c: &Code) -> pb::ReferralCode {
    pb::ReferralCode {
        code: c.code.clone(),
        customer_id: c.customer_id.to_string(),
        issued_at: Some(wire::timestamp_to_pb(c.issued_at)),
        expires_at: Some(wire::timestamp_to_pb(c.expires_at)),
        active: c.active,
    }
}

pub fn referral_to_pb(r: &Referral, open_flags: &[&Flag]) -> pb::Referral {
    pb::Referral {
        referral_id: r.id.to_string(),
        referrer_customer_id: r.referrer_id.to_string(),
        code: r.code.clone(),
        prospect_id: r.prospect_id.to_string(),
        prospect: None,
        referee_customer_id: r.referee_id.map(|c| c.to_string()).unwrap_or_default(),
        status: r.status as i32,
        created_at: Some(wire::timestamp_to_pb(r.created_at)),
        signed_up_at: r.signed_up_at.map(wire::timestamp_to_pb),
        qualified_at: r.qualified_at.map(wire::timestamp_to_pb),
        open_fraud_flag_ids: open_flags.iter().map(|f| f.id.to_string()).collect(),
        reasons: Vec::new(),
    }
}

pub fn vouch_to_pb(v: &Vouch) -> pb::Vouch {
    pb::Vouch {
        vouch_id: v.id.to_string(),
        voucher_customer_id: v.voucher_id.to_string(),
        prospect_id: v.prospect_id.to_string(),
        prospect_customer_id: v
            .prospect_customer_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        status: v.status as i32,
        relationship: v.relationship as i32,
        years_known: i32::try_from(v.years_known).unwrap_or(i32::MAX),
        comment: v.comment.clone(),
        requested_by: Some(common::Actor {
            kind: v.requested_by.0 as i32,
            id: v.requested_by.1.clone(),
        }),
        requested_at: Some(wire::timestamp_to_pb(v.requested_at)),
        responded_at: v.responded_at.map(wire::timestamp_to_pb),
    }
}

pub fn reward_to_pb(r: &Reward) -> pb::Reward {
    pb::Reward {
        reward_id: r.id.to_string(),
        referral_id: r.referral_id.to_string(),
        customer_id: r.customer_id.to_string(),
        role: r.role as i32,
        value: Some(common::Money {
            currency_code: r.currency.clone(),
            minor_units: r.amount,
        }),
        status: r.status as i32,
        created_at: Some(wire::timestamp_to_pb(r.created_at)),
        issued_at: r.issued_at.map(wire::timestamp_to_pb),
        reasons: r.reasons.iter().map(reason_to_pb).collect(),
    }
}

pub fn flag_to_pb(f: &Flag) -> pb::FraudFlag {
    pb::FraudFlag {
        flag_id: f.id.to_string(),
        signal: f.signal as i32,
        severity: f.severity as i32,
        status: f.status as i32,
        referral_ids: f.referral_ids.iter().map(ToString::to_string).collect(),
        customer_ids: f.customer_ids.iter().map(ToString::to_string).collect(),
        reasons: f.reasons.iter().map(reason_to_pb).collect(),
        raised_at: Some(wire::timestamp_to_pb(f.raised_at)),
        resolved_at: f.resolved.as_ref().map(|r| wire::timestamp_to_pb(r.0)),
        resolved_by: f.resolved.as_ref().map(|r| common::Actor {
            kind: r.1 as i32,
            id: r.2.clone(),
        }),
        resolution_reason: f.resolved.as_ref().map(|r| r.3.clone()).unwrap_or_default(),
    }
}

/// The proto's `FraudSignal` of a domain signal; `Signal::code` is its name (tested below).
pub fn signal_to_pb(signal: Signal) -> pb::FraudSignal {
    match signal {
        Signal::SelfReferralEmail => pb::FraudSignal::SelfReferralEmail,
        Signal::SelfReferralPhone => pb::FraudSignal::SelfReferralPhone,
        Signal::SelfReferralAddress => pb::FraudSignal::SelfReferralAddress,
        Signal::SelfReferralDevice => pb::FraudSignal::SelfReferralDevice,
        Signal::SharedIp => pb::FraudSignal::SharedIp,
        Signal::Velocity => pb::FraudSignal::Velocity,
        Signal::Cycle => pb::FraudSignal::Cycle,
        Signal::DenseRing => pb::FraudSignal::DenseRing,
    }
}

pub fn severity_to_pb(severity: Severity) -> pb::FraudSeverity {
    match severity {
        Severity::Weak => pb::FraudSeverity::Weak,
        Severity::Strong => pb::FraudSeverity::Strong,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_and_severities_map_to_the_proto() {
        let every_signal = [
            Signal::SelfReferralEmail,
            Signal::SelfReferralPhone,
            Signal::SelfReferralAddress,
            Signal::SelfReferralDevice,
            Signal::SharedIp,
            Signal::Velocity,
            Signal::Cycle,
            Signal::DenseRing,
        ];
        // Every proto signal but UNSPECIFIED has exactly one domain signal, whose stable code
        // (written out in the engine, which does not depend on the proto) is the proto's name.
        let mut values: Vec<i32> = every_signal
            .iter()
            .map(|&signal| {
                let proto = signal_to_pb(signal);
                assert_eq!(signal.code(), proto.as_str_name(), "{signal:?}");
                proto as i32
            })
            .collect();
        values.sort_unstable();
        assert_eq!(values, (1..=8).collect::<Vec<_>>());
        assert!(
            pb::FraudSignal::try_from(9).is_err(),
            "a proto signal without a domain signal"
        );
        assert_eq!(Signal::SharedIp.code(), "FRAUD_SIGNAL_SHARED_IP");
        assert_eq!(severity_to_pb(Severity::Weak), pb::FraudSeverity::Weak);
        assert_eq!(severity_to_pb(Severity::Strong), pb::FraudSeverity::Strong);
        assert!(Severity::Weak < Severity::Strong);
    }
}
