//! The referral rules with numbers (DESIGN.md), as configuration with their defaults.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// How much earlier than its referral (or the code used) a sign-up may be reported: clock skew
/// between systems only. DESIGN.md, "Money and time": caller-supplied times are bounded by what
/// they describe; a sign-up backdated before its referral would start the 90-day qualification
/// clock early.
pub const SIGNUP_BEFORE_REFERRAL_TOLERANCE: SignedDuration = rapport_wire::CLOCK_SKEW_TOLERANCE;

/// How much earlier than the new customer's `customer_since` (a date in their calendar) a
/// sign-up may be: one day, because the date is local and the instant UTC (UTC+14 to UTC-12).
/// DESIGN.md, "Money and time": nobody signs up before they became a customer.
pub const SIGNUP_BEFORE_CUSTOMER_SINCE_TOLERANCE: SignedDuration = SignedDuration::from_hours(24);

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
