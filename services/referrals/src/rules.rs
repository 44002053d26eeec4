//! The referral rules with numbers (DESIGN.md), as configuration with their defaults.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// A sign-up counts for a referral made at most this many days before it.
    pub attribution_window_days: u32,
    /// DESIGN.md: a voucher is a customer of at least 6 months in good standing.
    pub voucher_min_tenure_months: u32,
    /// DESIGN.md: at most K vouch requests per voucher per 30 days (K = 3 by default).
    pub vouch_requests_per_30_days: u32,
    /// DESIGN.md: trust is seeded from customers of at least 2 years in good standing.
    pub pretrusted_min_tenure_years: u32,
    /// DESIGN.md: a referral qualifies after at least 90 days of the referee in good standing.
    pub qualification_days: u32,
    /// Double-sided rewards, in minor units of `reward_currency`.
    pub reward_currency: String,
    pub referrer_reward_minor: i64,
    pub referee_reward_minor: i64,
    /// DESIGN.md: an annual cap on the reward value one person receives (calendar year).
    pub annual_cap_minor: i64,
    /// More referrals than this by one referrer in 24 hours raises a velocity flag.
    pub velocity_max_per_day: u32,
    pub code_valid_days: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            attribution_window_days: 60,
            voucher_min_tenure_months: 6,
            vouch_requests_per_30_days: 3,
            pretrusted_min_tenure_years: 2,
            qualification_days: 90,
            reward_currency: "GBP".to_owned(),
            referrer_reward_minor: 5_000,
            referee_reward_minor: 2_500,
            annual_cap_minor: 25_000,
            velocity_max_per_day: 5,
            code_valid_days: 365,
        }
    }
}
