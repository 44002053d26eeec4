//! The rules with numbers (DESIGN.md), as configuration with their defaults and sources.

use serde::{Deserialize, Serialize};

/// How much earlier than the option's offer a customer's agreement to it may be dated: clock
/// skew only. DESIGN.md, "Money and time": caller-supplied times are bounded by what they
/// describe; nobody agrees to an option before it existed.
pub const AGREED_BEFORE_OFFERED_TOLERANCE: jiff::SignedDuration =
    rapport_wire::CLOCK_SKEW_TOLERANCE;

/// Collections rules; every number is a default that a jurisdiction may change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// Days past due at which the early, mid, late and severe stages start.
    pub delinquency_days: [u32; 4],
    /// Debt Respite Scheme (Breathing Space Moratorium) Regulations 2020: a standard breathing
    /// space lasts 60 days.
    pub breathing_space_days: u32,
    /// Same regulations: a mental-health crisis moratorium lasts until treatment ends plus 30 days.
    pub crisis_extra_days: u32,
    /// Same regulations: at most one standard breathing space in any 12 months.
    pub breathing_space_window_months: u32,
    /// A plan is broken only after this many consecutive missed installments (and a re-plan offer).
    pub misses_before_broken: u32,
    /// A promise counts as kept when at least this share (percent) of it was paid by the date.
    pub promise_kept_percent: u32,
    /// How long an offered option can be accepted.
    pub option_valid_minutes: u32,
    /// Share of a written-off balance a debt sale or write-off recovers (exact decimal).
    pub write_off_recovery_rate: String,
    /// Free debt-advice services the bank refers customers to.
    pub debt_advice: Vec<DebtAdviceEntry>,
    /// Base of the personal opt-out link in electronic messages (customer and account appended).
    pub opt_out_base_url: String,
    /// Reply keyword that opts out of SMS and messaging (Reg F §1006.6(e)).
    pub opt_out_sms_keyword: String,
    /// DESIGN.md "Good standing": more than this many days past due on an account that no plan
    /// the customer is keeping covers takes them out of good standing.
    pub standing_max_days_past_due: u32,
    /// DESIGN.md "Good standing": a broken plan keeps the customer out of good standing for this
    /// many months after it broke.
    pub standing_broken_plan_months: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebtAdviceEntry {
    pub service_id: String,
    pub name: String,
    pub phone: String,
    pub website: String,
    /// ISO 3166-1 alpha-2.
    pub jurisdiction: String,
    pub description: String,
}

impl Default for Rules {
    fn default() -> Self {
        let entry = |id: &str,
                     name: &str,
                     phone: &str,
                     website: &str,
                     jurisdiction: &str,
                     description: &str| DebtAdviceEntry {
            service_id: id.to_owned(),
            name: name.to_owned(),
            phone: phone.to_owned(),
            website: website.to_owned(),
            jurisdiction: jurisdiction.to_owned(),
            description: description.to_owned(),
        };
        Self {
            delinquency_days: [1, 30, 90, 180],
            breathing_space_days: 60,
            crisis_extra_days: 30,
            breathing_space_window_months: 12,
            misses_before_broken: 2,
            promise_kept_percent: 95,
            option_valid_minutes: 60,
            write_off_recovery_rate: "0.10".to_owned(),
            // RFC 2606 example domain: every deployment sets its own.
            opt_out_base_url: "https://bank.example/opt-out".to_owned(),
            opt_out_sms_keyword: "STOP".to_owned(),
            standing_max_days_past_due: 30,
            standing_broken_plan_months: 12,
            debt_advice: vec![
                entry(
                    "stepchange",
                    "StepChange Debt Charity",
                    "0800 138 1111",
                    "https://www.stepchange.org",
                    "GB",
                    "Free, confidential debt advice and debt solutions.",
                ),
                entry(
                    "national-debtline",
                    "National Debtline",
                    "0808 808 4000",
                    "https://nationaldebtline.org",
                    "GB",
                    "Free, independent debt advice by phone and online.",
                ),
                entry(
                    "mabs",
                    "MABS (Money Advice and Budgeting Service)",
                    "0818 07 2000",
                    "https://www.mabs.ie",
                    "IE",
                    "Free, confidential, independent money advice.",
                ),
                entry(
                    "nfcc",
                    "National Foundation for Credit Counseling",
                    "1-800-388-2227",
                    "https://www.nfcc.org",
                    "US",
                    "Non-profit credit counseling across the United States.",
                ),
            ],
        }
    }
}

impl Rules {
    /// The numbers of the good-standing rule (`domain::standing`).
    pub(crate) fn standing(&self) -> crate::domain::standing::StandingRules {
        crate::domain::standing::StandingRules {
            max_days_past_due: self.standing_max_days_past_due,
            broken_plan_months: self.standing_broken_plan_months,
        }
    }

    /// Numbers that would make nonsense, named; checked once when the service starts, so a bad
    /// configuration stops the start instead of failing callers one request at a time.
    pub fn check(&self) -> Result<(), String> {
        use std::str::FromStr;

        let rate = rust_decimal::Decimal::from_str(&self.write_off_recovery_rate).map_err(|e| {
            format!(
                "write_off_recovery_rate {:?} is not a decimal: {e}",
                self.write_off_recovery_rate
            )
        })?;
        crate::domain::options::OptionsConfig {
            write_off_recovery_rate: rate,
            breathing_space_days: self.breathing_space_days,
            ..crate::domain::options::OptionsConfig::default()
        }
        .validate()
        .map_err(|e| e.to_string())?;
        if !self.delinquency_days.windows(2).all(|w| w[0] < w[1]) {
            return Err("delinquency_days must rise from stage to stage".into());
        }
        if self.misses_before_broken == 0 {
            return Err("misses_before_broken must be at least 1".into());
        }
        if !(1..=100).contains(&self.promise_kept_percent) {
            return Err("promise_kept_percent must be 1–100".into());
        }
        if self.option_valid_minutes == 0 || self.breathing_space_days == 0 {
            return Err("option_valid_minutes and breathing_space_days must be positive".into());
        }
        if self.standing_broken_plan_months == 0 {
            return Err("standing_broken_plan_months must be at least 1".into());
        }
        if self.opt_out_base_url.trim().is_empty() || self.opt_out_sms_keyword.trim().is_empty() {
            return Err("every electronic message needs an opt-out: set opt_out_base_url and opt_out_sms_keyword".into());
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_together_and_nonsense_is_named() {
        assert_eq!(Rules::default().check(), Ok(()));
        let bad = |change: fn(&mut Rules)| {
            let mut rules = Rules::default();
            change(&mut rules);
            rules.check().unwrap_err()
        };
        assert!(
            bad(|r| r.write_off_recovery_rate = "ten percent".into())
                .contains("write_off_recovery_rate")
        );
        assert!(
            bad(|r| r.write_off_recovery_rate = "1.5".into()).contains("write_off_recovery_rate")
        );
        assert!(bad(|r| r.delinquency_days = [1, 90, 30, 180]).contains("delinquency_days"));
        assert!(bad(|r| r.misses_before_broken = 0).contains("misses_before_broken"));
        assert!(bad(|r| r.opt_out_sms_keyword = " ".into()).contains("opt-out"));
        assert!(bad(|r| r.standing_broken_plan_months = 0).contains("standing_broken_plan_months"));
    }
}
