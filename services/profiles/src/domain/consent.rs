//! Consent by purpose (and optionally channel): every decision is kept; the latest is in force.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_proto::common::v1::Channel;
use rapport_proto::profiles::v1::{ConsentPurpose, ConsentSource, ConsentStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: Id,
    pub customer_id: Id,
    pub purpose: ConsentPurpose,
    /// `Unspecified`: every channel.
    pub channel: Channel,
    pub status: ConsentStatus,
    pub source: ConsentSource,
    pub source_detail: String,
    /// When the customer decided.
    pub decided_at: Timestamp,
    /// When we stored it.
    pub recorded_at: Timestamp,
}

/// The decisions in force: the latest per (purpose, channel). `history` may be in any order;
/// the latest decision wins, a later-recorded one breaking a tie.
pub fn in_force(history: &[Consent]) -> Vec<Consent> {
    let mut latest: Vec<Consent> = Vec::new();
    for consent in history {
        match latest
            .iter_mut()
            .find(|c| c.purpose == consent.purpose && c.channel == consent.channel)
        {
            Some(current) => {
                if (consent.decided_at, consent.recorded_at, consent.id)
                    > (current.decided_at, current.recorded_at, current.id)
                {
                    *current = consent.clone();
                }
            }
            None => latest.push(consent.clone()),
        }
    }
    latest.sort_by_key(|c| (c.purpose as i32, c.channel as i32));
    latest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(purpose: ConsentPurpose, status: ConsentStatus, second: i64) -> Consent {
        Consent {
            id: Id::new(),
            customer_id: Id::new(),
            purpose,
            channel: Channel::Unspecified,
            status,
            source: ConsentSource::Web,
            source_detail: String::new(),
            decided_at: Timestamp::from_second(second).expect("valid"),
            recorded_at: Timestamp::from_second(second).expect("valid"),
        }
    }

    #[test]
    fn the_latest_decision_per_purpose_is_in_force() {
        let history = vec![
            decision(ConsentPurpose::Marketing, ConsentStatus::Granted, 100),
            decision(ConsentPurpose::Marketing, ConsentStatus::Withdrawn, 200),
            decision(ConsentPurpose::Surveys, ConsentStatus::Granted, 150),
        ];
        let current = in_force(&history);
        assert_eq!(current.len(), 2);
        assert_eq!(current[0].purpose, ConsentPurpose::Marketing);
        assert_eq!(current[0].status, ConsentStatus::Withdrawn);
        assert_eq!(current[1].status, ConsentStatus::Granted);
    }
}
