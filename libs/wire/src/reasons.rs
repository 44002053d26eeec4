//! The one conversion of a reason to the wire.

use rapport_proto::common::v1 as common;
use rapport_reasons::{Reason, ReasonEffect};

/// `reason` as `rapport.common.v1.Reason`; params become the proto map.
pub fn reason_to_pb(reason: &Reason) -> common::Reason {
    common::Reason {
        code: reason.code.clone().into_owned(),
        message: reason.message.clone(),
        rule_ref: reason.rule_ref.clone().into_owned(),
        effect: effect_to_pb(reason.effect) as i32,
        params: reason.params.iter().cloned().collect(),
    }
}

pub fn effect_to_pb(effect: ReasonEffect) -> common::ReasonEffect {
    match effect {
        ReasonEffect::Neutral => common::ReasonEffect::Neutral,
        ReasonEffect::Supports => common::ReasonEffect::Supports,
        ReasonEffect::Opposes => common::ReasonEffect::Opposes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_reaches_the_wire() {
        let reason = Reason::new("CODE", ReasonEffect::Opposes, "rule", "words")
            .param("a", 1)
            .param("b", "two");
        let pb = reason_to_pb(&reason);
        assert_eq!(pb.code, "CODE");
        assert_eq!(pb.message, "words");
        assert_eq!(pb.rule_ref, "rule");
        assert_eq!(pb.effect, common::ReasonEffect::Opposes as i32);
        assert_eq!(pb.params.get("a").map(String::as_str), Some("1"));
        assert_eq!(pb.params.get("b").map(String::as_str), Some("two"));
    }
}
