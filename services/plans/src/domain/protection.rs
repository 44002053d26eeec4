//! Protected states: while one is in force no interest or fees accrue and no payment demand is
//! made (DESIGN.md, Rules with numbers: Contact). Contractual payments may still be received.

use jiff::{SignedDuration, Timestamp};
use rapport_ids::Id;
use rapport_proto::plans::v1::{ProtectionEffect, ProtectionKind, ProtectionStatus};

use super::Actor;
use crate::rules::Rules;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    pub id: Id,
    pub customer_id: Id,
    /// Empty: every account of the customer.
    pub account_ids: Vec<Id>,
    pub kind: ProtectionKind,
    pub starts_at: Timestamp,
    /// None while open-ended (crisis treatment ongoing, dispute open, hold in place).
    pub ends_at: Option<Timestamp>,
    pub reference: String,
    pub reason: String,
    pub case_id: String,
    pub set_by: Actor,
    pub cleared: Option<Clearance>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearance {
    pub at: Timestamp,
    pub by: Actor,
    pub reason: String,
}

impl Protection {
    /// When a protection of `kind` starting at `starts_at` ends by itself, if it does.
    /// Debt Respite Scheme Regulations 2020: a standard breathing space lasts 60 days; the
    /// others last until cleared.
    pub fn natural_end(
        kind: ProtectionKind,
        starts_at: Timestamp,
        rules: &Rules,
    ) -> Option<Timestamp> {
        match kind {
            ProtectionKind::BreathingSpace => Some(starts_at + days(rules.breathing_space_days)),
            _ => None,
        }
    }

    /// When the protection stops once cleared at `cleared_at`: a mental-health crisis
    /// moratorium runs until treatment ends plus 30 days; the others end when cleared.
    pub fn end_when_cleared(
        &self,
        cleared_at: Timestamp,
        treatment_ended_at: Option<Timestamp>,
        rules: &Rules,
    ) -> Timestamp {
        match self.kind {
            ProtectionKind::MentalHealthCrisis => {
                treatment_ended_at.unwrap_or(cleared_at) + days(rules.crisis_extra_days)
            }
            _ => cleared_at.min(self.ends_at.unwrap_or(cleared_at)),
        }
    }

    pub fn status(&self, now: Timestamp) -> ProtectionStatus {
        match self.ends_at {
            Some(end) if end <= now => ProtectionStatus::Ended,
            _ if now < self.starts_at => ProtectionStatus::Active,
            Some(_) if self.cleared.is_some() => ProtectionStatus::Ending,
            _ => ProtectionStatus::Active,
        }
    }

    pub fn in_force(&self, now: Timestamp) -> bool {
        self.starts_at <= now && self.status(now) != ProtectionStatus::Ended
    }

    pub fn covers(&self, account_id: Id) -> bool {
        self.account_ids.is_empty() || self.account_ids.contains(&account_id)
    }

    /// Every protected state stops payment demands, interest and fees; a vulnerability hold also
    /// routes contact to a specialist and forbids automated dialling (DESIGN.md).
    pub fn effects(&self) -> Vec<ProtectionEffect> {
        let mut effects = vec![
            ProtectionEffect::FreezeInterest,
            ProtectionEffect::FreezeFees,
            ProtectionEffect::StopPaymentDemands,
        ];
        if self.kind == ProtectionKind::VulnerabilityHold {
            effects.extend([
                ProtectionEffect::RouteToSpecialist,
                ProtectionEffect::NoAutomatedDialling,
            ]);
        }
        effects
    }
}

/// Debt Respite Scheme Regulations 2020: at most one standard breathing space in any 12 months.
/// Returns the start of the breathing space that blocks a new one at `starts_at`, if any.
pub fn breathing_space_blocked_by(
    earlier: &[Protection],
    starts_at: Timestamp,
    rules: &Rules,
) -> Option<Timestamp> {
    let window = jiff::Span::new().months(i64::from(rules.breathing_space_window_months));
    earlier
        .iter()
        .filter(|p| p.kind == ProtectionKind::BreathingSpace)
        .map(|p| p.starts_at)
        .filter(|start| {
            start
                .to_zoned(jiff::tz::TimeZone::UTC)
                .checked_add(window)
                .map(|until| starts_at < until.timestamp())
                .unwrap_or(true)
        })
        .max()
}

/// The date a blocked customer becomes eligible again.
pub fn eligible_again(blocking_start: Timestamp, rules: &Rules) -> Option<Timestamp> {
    let window = jiff::Span::new().months(i64::from(rules.breathing_space_window_months));
    blocking_start
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(window)
        .ok()
        .map(|z| z.timestamp())
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::common::v1::ActorKind;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("instant")
    }

    fn breathing_space(start: &str) -> Protection {
        let rules = Rules::default();
        Protection {
            id: Id::new(),
            customer_id: Id::new(),
            account_ids: vec![],
            kind: ProtectionKind::BreathingSpace,
            starts_at: at(start),
            ends_at: Protection::natural_end(ProtectionKind::BreathingSpace, at(start), &rules),
            reference: String::new(),
            reason: String::new(),
            case_id: String::new(),
            set_by: Actor {
                kind: ActorKind::DebtAdviser,
                id: "stepchange".into(),
            },
            cleared: None,
        }
    }

    #[test]
    fn a_breathing_space_lasts_sixty_days() {
        let space = breathing_space("2026-03-02T00:00:00Z");
        assert!(space.in_force(at("2026-04-30T23:59:59Z")));
        assert!(!space.in_force(at("2026-05-01T00:00:00Z")));
    }

    #[test]
    fn one_breathing_space_per_twelve_months() {
        let rules = Rules::default();
        let earlier = vec![breathing_space("2026-03-02T00:00:00Z")];
        assert!(breathing_space_blocked_by(&earlier, at("2027-03-01T23:59:59Z"), &rules).is_some());
        assert!(breathing_space_blocked_by(&earlier, at("2027-03-02T00:00:00Z"), &rules).is_none());
    }

    #[test]
    fn a_crisis_moratorium_runs_thirty_days_past_treatment() {
        let rules = Rules::default();
        let mut crisis = breathing_space("2026-03-02T00:00:00Z");
        crisis.kind = ProtectionKind::MentalHealthCrisis;
        crisis.ends_at = None;
        let end = crisis.end_when_cleared(
            at("2026-05-01T00:00:00Z"),
            Some(at("2026-04-20T00:00:00Z")),
            &rules,
        );
        assert_eq!(end, at("2026-05-20T00:00:00Z"));
    }
}
