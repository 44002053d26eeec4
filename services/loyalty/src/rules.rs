//! The loyalty rules with numbers (DESIGN.md, "Rules with numbers": Loyalty) and the versioned
//! score model, as configuration with their defaults.

use serde::{Deserialize, Serialize};

/// How far past today in UTC an anniversary date may be: one day, since the date is the
/// customer's own and the earliest time zone (UTC+14) is a day ahead. DESIGN.md, "Money and
/// time": no reward for a date not reached.
pub const ANNIVERSARY_DATE_AHEAD_OF_UTC_DAYS: i8 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// DESIGN.md: at most one survey per customer per 30 days.
    pub survey_interval_days: u32,
    /// DESIGN.md: every detractor response opens a follow-up with a 48-hour SLA.
    pub follow_up_sla_hours: u32,
    /// Who a new follow-up is assigned to (a team id) until someone takes it.
    pub follow_up_default_owner: String,
    /// `GetNps` without a window looks back this many days.
    pub nps_default_window_days: u32,
    /// Batch rescoring reads and writes this many customers per transaction.
    pub rescore_batch_size: u32,
    /// Tenure bands of the anniversary reward (DESIGN.md: amount by tenure band).
    pub anniversary: AnniversaryRules,
    pub model: ScoreModel,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            survey_interval_days: 30,
            follow_up_sla_hours: 48,
            follow_up_default_owner: "customer-care".to_owned(),
            nps_default_window_days: 90,
            rescore_batch_size: 500,
            anniversary: AnniversaryRules::default(),
            model: ScoreModel::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnniversaryRules {
    /// ISO 4217 code of every anniversary reward.
    pub currency: String,
    /// Bands by the tenure year reached, lowest first; the band with the highest `from_year` at
    /// or below the year applies. A year below the first band earns nothing.
    pub bands: Vec<TenureBand>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenureBand {
    pub name: String,
    pub from_year: u32,
    pub amount_minor: i64,
}

impl Default for AnniversaryRules {
    fn default() -> Self {
        let band = |name: &str, from_year, amount_minor| TenureBand {
            name: name.to_owned(),
            from_year,
            amount_minor,
        };
        Self {
            currency: "GBP".to_owned(),
            bands: vec![
                band("1-4 years", 1, 500),
                band("5-9 years", 5, 1_500),
                band("10-19 years", 10, 3_000),
                band("20+ years", 20, 5_000),
            ],
        }
    }
}

impl AnniversaryRules {
    /// The band for a tenure year, if any.
    pub fn band(&self, tenure_year: u32) -> Option<&TenureBand> {
        self.bands
            .iter()
            .filter(|b| b.from_year <= tenure_year)
            .max_by_key(|b| b.from_year)
    }
}

/// The score model: every weight, cap and threshold of `domain::score`, under one version that
/// every score carries. Change a number, change the version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreModel {
    pub version: String,
    /// DESIGN.md: satisfaction with a 90-day half-life. Recent signals count fully, a signal this
    /// old counts half.
    pub half_life_days: f64,
    /// Satisfaction with no evidence: neither satisfied nor not.
    pub satisfaction_prior: f64,
    /// How many fully weighted answers it takes to move halfway from the prior to their mean.
    pub survey_confidence: f64,
    pub complaint_points: f64,
    pub complaint_cap: f64,
    pub commitment_kept_points: f64,
    pub commitment_kept_cap: f64,
    pub commitment_broken_points: f64,
    pub commitment_broken_cap: f64,
    /// A detractor follow-up closed within its SLA, closed late, and open past its due time.
    pub follow_up_in_time_points: f64,
    pub follow_up_late_points: f64,
    pub follow_up_overdue_points: f64,
    pub follow_up_cap: f64,

    pub tenure_points_per_year: f64,
    pub tenure_cap: f64,
    /// Per product beyond the first.
    pub product_points: f64,
    pub product_cap: f64,
    pub activity_points: f64,
    pub activity_cap: f64,
    pub survey_answered_points: f64,
    pub survey_answered_cap: f64,
    pub opinion_points: f64,
    pub opinion_cap: f64,
    pub vouch_answered_points: f64,
    pub vouch_answered_cap: f64,
    pub referral_made_points: f64,
    pub referral_made_cap: f64,
    /// Keeping a payment plan (DESIGN.md: keeping a plan raises involvement): accepting one,
    /// each installment paid, completing it, keeping a promise to pay.
    pub plan_accepted_points: f64,
    pub installment_paid_points: f64,
    pub plan_completed_points: f64,
    pub promise_kept_points: f64,
    pub plan_cap: f64,

    /// DESIGN.md: affinity 0 unless satisfaction ≥ 60 and involvement ≥ 40.
    pub affinity_min_satisfaction: f64,
    pub affinity_min_involvement: f64,
    pub promoter_points: f64,
    pub promoter_cap: f64,
    pub qualified_referral_points: f64,
    pub qualified_referral_cap: f64,
    pub vouch_given_points: f64,
    pub vouch_given_cap: f64,
    pub positive_sentiment_points: f64,
    pub positive_sentiment_cap: f64,
    pub recognition_points: f64,
    pub recognition_cap: f64,

    /// Loyalty = the weighted sum of the components (the weights add up to 1).
    pub weight_satisfaction: f64,
    pub weight_involvement: f64,
    pub weight_affinity: f64,

    /// Segments of the conversion grid by loyalty: at or above `entrenched_from` Entrenched,
    /// then Average, then Shallow; below `shallow_from` Convertible.
    pub entrenched_from: f64,
    pub average_from: f64,
    pub shallow_from: f64,
    /// Satisfied (≥ this) yet loyalty below `average_from`: satisfied but not loyal.
    pub satisfied_from: f64,
    /// At risk when loyalty fell by at least this many points over `falling_window_days`.
    pub falling_points: f64,
    pub falling_window_days: u32,
    /// Activity in the last `activity_window_days` below this share of the window before, given
    /// at least `declining_min_before` touchpoints then, is declining activity.
    pub activity_window_days: u32,
    pub declining_share: f64,
    pub declining_min_before: u32,
}

impl Default for ScoreModel {
    fn default() -> Self {
        Self {
            version: "loyalty-2026.11-1".to_owned(),
            half_life_days: 90.0,
            satisfaction_prior: 50.0,
            survey_confidence: 1.0,
            complaint_points: 5.0,
            complaint_cap: 20.0,
            commitment_kept_points: 3.0,
            commitment_kept_cap: 10.0,
            commitment_broken_points: 8.0,
            commitment_broken_cap: 24.0,
            follow_up_in_time_points: 4.0,
            follow_up_late_points: 1.0,
            follow_up_overdue_points: 6.0,
            follow_up_cap: 12.0,

            tenure_points_per_year: 2.5,
            tenure_cap: 25.0,
            product_points: 5.0,
            product_cap: 15.0,
            activity_points: 2.5,
            activity_cap: 15.0,
            survey_answered_points: 2.5,
            survey_answered_cap: 10.0,
            opinion_points: 2.0,
            opinion_cap: 6.0,
            vouch_answered_points: 4.0,
            vouch_answered_cap: 10.0,
            referral_made_points: 4.0,
            referral_made_cap: 12.0,
            plan_accepted_points: 5.0,
            installment_paid_points: 1.5,
            plan_completed_points: 12.0,
            promise_kept_points: 2.0,
            plan_cap: 25.0,

            affinity_min_satisfaction: 60.0,
            affinity_min_involvement: 40.0,
            promoter_points: 10.0,
            promoter_cap: 30.0,
            qualified_referral_points: 15.0,
            qualified_referral_cap: 30.0,
            vouch_given_points: 8.0,
            vouch_given_cap: 20.0,
            positive_sentiment_points: 3.0,
            positive_sentiment_cap: 15.0,
            recognition_points: 5.0,
            recognition_cap: 15.0,

            weight_satisfaction: 0.40,
            weight_involvement: 0.35,
            weight_affinity: 0.25,

            entrenched_from: 70.0,
            average_from: 50.0,
            shallow_from: 30.0,
            satisfied_from: 60.0,
            falling_points: 10.0,
            falling_window_days: 30,
            activity_window_days: 90,
            declining_share: 0.5,
            declining_min_before: 2,
        }
    }
}

impl Rules {
    /// Numbers that would make nonsense, named; checked once when the service starts.
    pub fn check(&self) -> Result<(), String> {
        let m = &self.model;
        let weights = m.weight_satisfaction + m.weight_involvement + m.weight_affinity;
        if (weights - 1.0).abs() > 1e-9 {
            return Err(format!("model weights add up to {weights}, not 1"));
        }
        if m.half_life_days <= 0.0 || m.survey_confidence <= 0.0 {
            return Err("model half_life_days and survey_confidence must be positive".into());
        }
        if m.version.trim().is_empty() {
            return Err("model version must not be empty".into());
        }
        if self.survey_interval_days == 0 || self.follow_up_sla_hours == 0 {
            return Err("survey_interval_days and follow_up_sla_hours must be positive".into());
        }
        if self.rescore_batch_size == 0 {
            return Err("rescore_batch_size must be positive".into());
        }
        if rapport_money::Currency::parse(&self.anniversary.currency).is_err() {
            return Err(format!(
                "anniversary currency {:?} is not ISO 4217",
                self.anniversary.currency
            ));
        }
        if self.anniversary.bands.iter().any(|b| b.amount_minor < 0) {
            return Err("anniversary band amounts must not be negative".into());
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_together() {
        assert_eq!(Rules::default().check(), Ok(()));
        let mut bad = Rules::default();
        bad.model.weight_affinity = 0.5;
        assert!(bad.check().unwrap_err().contains("weights"));
    }

    #[test]
    fn bands_pick_the_highest_reached() {
        let rules = AnniversaryRules::default();
        assert_eq!(rules.band(1).map(|b| b.amount_minor), Some(500));
        assert_eq!(rules.band(4).map(|b| b.amount_minor), Some(500));
        assert_eq!(rules.band(5).map(|b| b.amount_minor), Some(1_500));
        assert_eq!(rules.band(25).map(|b| b.name.as_str()), Some("20+ years"));
        assert_eq!(rules.band(0), None);
    }
}
