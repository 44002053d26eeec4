//! Good standing (DESIGN.md, "Good standing"): one definition, here, published as
//! `plans.standing_changed.v1` for the services that rely on it (referrals: vouchers, trust
//! seeds, reward qualification).
//!
//! A customer is out of good standing while
//! - an account is more than `max_days_past_due` (30) days past due and no plan the customer is
//!   keeping covers it, or
//! - a plan of theirs broke in the last `broken_plan_months` (12).
//!
//! A customer keeping an agreed plan *is* in good standing, however far behind the account it
//! covers: being helped is not a default. "Keeping" is the plan's own state: an active plan is
//! kept (one missed installment is a check-in and the plan stays active; it is broken only
//! after N misses and a re-plan offer, `domain::plan`).
//!
//! The third clause, "not closed", is profiles' fact (the customer's status): plans never sees it
//! change, so the consumer that reads the profile applies it (referrals reads it with tenure).
//!
//! Time alone changes one input: a broken plan ages out. No job runs for that: each reason
//! carries when it lapses by itself (`lapses_at`), so a consumer holding the last verdict knows
//! the standing at any later time, and plans re-evaluates (and publishes) whenever it next looks
//! at the customer.

use jiff::{Span, Timestamp};
use rapport_ids::Id;

/// The rule's numbers (`rules.rs`, with their source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StandingRules {
    pub max_days_past_due: u32,
    pub broken_plan_months: u32,
}

/// One account of the customer as standing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPosition {
    pub account_id: Id,
    pub days_past_due: u32,
    /// The active plan covering the account, if any: a plan the customer is keeping.
    pub kept_plan: Option<Id>,
}

/// A plan of the customer that broke, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenPlan {
    pub plan_id: Id,
    pub broken_at: Timestamp,
}

/// What plans knows that standing depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StandingFacts {
    pub accounts: Vec<AccountPosition>,
    pub broken_plans: Vec<BrokenPlan>,
}

/// Why a customer is (or is not) in good standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StandingReason {
    /// Opposes: more than the limit past due on an account no kept plan covers.
    PastDue {
        account_id: Id,
        days_past_due: u32,
        limit: u32,
    },
    /// Opposes until `lapses_at`: a plan broke within the window.
    PlanBroken {
        plan_id: Id,
        broken_at: Timestamp,
        lapses_at: Timestamp,
    },
    /// Supports: more than the limit past due, but the customer is keeping a plan for it.
    KeepingPlan {
        account_id: Id,
        plan_id: Id,
        days_past_due: u32,
    },
}

impl StandingReason {
    /// A stable code, as events and explanations carry it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PastDue { .. } => "PAST_DUE",
            Self::PlanBroken { .. } => "PLAN_BROKEN",
            Self::KeepingPlan { .. } => "KEEPING_PLAN",
        }
    }

    /// Whether it takes the customer out of good standing.
    pub fn opposes(&self) -> bool {
        !matches!(self, Self::KeepingPlan { .. })
    }

    /// When it stops counting with nothing else happening (`None`: only a new fact ends it).
    pub fn lapses_at(&self) -> Option<Timestamp> {
        match self {
            Self::PlanBroken { lapses_at, .. } => Some(*lapses_at),
            Self::PastDue { .. } | Self::KeepingPlan { .. } => None,
        }
    }

    /// A plain sentence for the agent and the customer (ids only, no personal data).
    pub fn message(&self) -> String {
        match self {
            Self::PastDue {
                account_id,
                days_past_due,
                limit,
            } => format!(
                "Account {account_id} is {days_past_due} days past due (more than {limit}) and no plan the customer is keeping covers it."
            ),
            Self::PlanBroken {
                plan_id, lapses_at, ..
            } => format!(
                "Plan {plan_id} was broken; it stops counting on {}.",
                lapses_at.to_zoned(jiff::tz::TimeZone::UTC).date()
            ),
            Self::KeepingPlan {
                account_id,
                plan_id,
                days_past_due,
            } => format!(
                "Account {account_id} is {days_past_due} days past due, and the customer is keeping plan {plan_id} for it: being helped is not a default."
            ),
        }
    }
}

/// The verdict with every reason behind it (opposing first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub in_good_standing: bool,
    pub reasons: Vec<StandingReason>,
}

impl Standing {
    /// What the verdict rests on: the opposing reasons and when they lapse. A change here is a
    /// change of standing to publish; days past due moving from 45 to 75 is not, nor is a kept
    /// plan that was never needed.
    pub fn basis(&self) -> String {
        let mut parts: Vec<String> = self
            .reasons
            .iter()
            .filter(|r| r.opposes())
            .map(|r| {
                let subject = match r {
                    StandingReason::PastDue { account_id, .. } => account_id.to_string(),
                    StandingReason::PlanBroken { plan_id, .. } => plan_id.to_string(),
                    StandingReason::KeepingPlan { account_id, .. } => account_id.to_string(),
                };
                let lapse = r.lapses_at().map(|at| at.to_string()).unwrap_or_default();
                format!("{}:{subject}:{lapse}", r.code())
            })
            .collect();
        parts.sort();
        if parts.is_empty() {
            "GOOD".to_owned()
        } else {
            parts.join(",")
        }
    }

    /// When the customer is back in good standing with nothing else happening: out of good
    /// standing only by reasons that lapse, this is when the last of them does. `None` when in
    /// good standing, or when a reason lasts until a new fact (a payment, a plan).
    pub fn lapses_at(&self) -> Option<Timestamp> {
        if self.in_good_standing {
            return None;
        }
        self.reasons
            .iter()
            .filter(|r| r.opposes())
            .map(StandingReason::lapses_at)
            .try_fold(Timestamp::MIN, |latest, at| at.map(|at| latest.max(at)))
    }
}

/// The rule: good standing from what plans knows, at `now`.
pub fn evaluate(facts: &StandingFacts, rules: &StandingRules, now: Timestamp) -> Standing {
    let mut opposing = Vec::new();
    let mut supporting = Vec::new();
    for account in &facts.accounts {
        if account.days_past_due <= rules.max_days_past_due {
            continue;
        }
        match account.kept_plan {
            Some(plan_id) => supporting.push(StandingReason::KeepingPlan {
                account_id: account.account_id,
                plan_id,
                days_past_due: account.days_past_due,
            }),
            None => opposing.push(StandingReason::PastDue {
                account_id: account.account_id,
                days_past_due: account.days_past_due,
                limit: rules.max_days_past_due,
            }),
        }
    }
    for broken in &facts.broken_plans {
        let lapses_at = months_after(broken.broken_at, rules.broken_plan_months);
        if now < lapses_at {
            opposing.push(StandingReason::PlanBroken {
                plan_id: broken.plan_id,
                broken_at: broken.broken_at,
                lapses_at,
            });
        }
    }
    Standing {
        in_good_standing: opposing.is_empty(),
        reasons: opposing.into_iter().chain(supporting).collect(),
    }
}

/// When a customer who was out of good standing, for reasons lapsing at `previous_lapse`
/// (`Standing::lapses_at`), and is in it again at `now` got it back: when those reasons lapsed,
/// if that is all that changed; otherwise now (a new fact — a payment, a plan — did it).
pub fn regained_at(previous_lapse: Option<Timestamp>, now: Timestamp) -> Timestamp {
    previous_lapse.filter(|at| *at <= now).unwrap_or(now)
}

/// `at` plus whole calendar months (UTC); the end of time if that overflows.
fn months_after(at: Timestamp, months: u32) -> Timestamp {
    at.to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(Span::new().months(i64::from(months)))
        .map_or(Timestamp::MAX, |z| z.timestamp())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RULES: StandingRules = StandingRules {
        max_days_past_due: 30,
        broken_plan_months: 12,
    };

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn account(days_past_due: u32, kept_plan: Option<Id>) -> AccountPosition {
        AccountPosition {
            account_id: Id::new(),
            days_past_due,
            kept_plan,
        }
    }

    fn facts(accounts: Vec<AccountPosition>, broken_plans: Vec<BrokenPlan>) -> StandingFacts {
        StandingFacts {
            accounts,
            broken_plans,
        }
    }

    #[test]
    fn more_than_thirty_days_past_due_without_a_plan_is_out_of_good_standing() {
        let now = at("2026-03-02T09:00:00Z");
        let thirty = evaluate(&facts(vec![account(30, None)], vec![]), &RULES, now);
        assert!(thirty.in_good_standing, "30 days is not more than 30");
        assert!(thirty.reasons.is_empty());

        let behind = account(95, None);
        let standing = evaluate(&facts(vec![account(0, None), behind], vec![]), &RULES, now);
        assert!(!standing.in_good_standing);
        assert_eq!(
            standing.reasons,
            vec![StandingReason::PastDue {
                account_id: behind.account_id,
                days_past_due: 95,
                limit: 30
            }]
        );
        assert!(standing.reasons[0].message().contains("95 days past due"));
        assert_eq!(
            standing.lapses_at(),
            None,
            "only a payment or a plan ends it"
        );
    }

    #[test]
    fn a_customer_keeping_a_plan_is_in_good_standing_however_far_behind() {
        let now = at("2026-03-02T09:00:00Z");
        let plan_id = Id::new();
        let helped = account(200, Some(plan_id));
        let standing = evaluate(&facts(vec![helped], vec![]), &RULES, now);
        assert!(standing.in_good_standing, "being helped is not a default");
        assert_eq!(standing.reasons.len(), 1);
        assert_eq!(standing.reasons[0].code(), "KEEPING_PLAN");
        assert!(!standing.reasons[0].opposes());
        assert_eq!(standing.basis(), "GOOD");

        // A plan on one account does not cover another.
        let other = account(45, None);
        let standing = evaluate(&facts(vec![helped, other], vec![]), &RULES, now);
        assert!(!standing.in_good_standing);
        assert_eq!(standing.reasons[0].code(), "PAST_DUE");
        assert_eq!(standing.reasons[1].code(), "KEEPING_PLAN");
    }

    #[test]
    fn a_broken_plan_counts_for_twelve_months_then_lapses_by_itself() {
        let broken_at = at("2025-04-10T12:00:00Z");
        let broken = BrokenPlan {
            plan_id: Id::new(),
            broken_at,
        };
        let during = evaluate(
            &facts(vec![account(0, None)], vec![broken]),
            &RULES,
            at("2026-04-10T11:59:59Z"),
        );
        assert!(!during.in_good_standing);
        assert_eq!(during.reasons[0].code(), "PLAN_BROKEN");
        assert_eq!(during.lapses_at(), Some(at("2026-04-10T12:00:00Z")));

        let after = evaluate(
            &facts(vec![account(0, None)], vec![broken]),
            &RULES,
            at("2026-04-10T12:00:00Z"),
        );
        assert!(after.in_good_standing);
        assert!(after.reasons.is_empty());
        // Observed a week late, the standing came back when the plan stopped counting.
        assert_eq!(
            regained_at(during.lapses_at(), at("2026-04-17T09:00:00Z")),
            at("2026-04-10T12:00:00Z")
        );
    }

    #[test]
    fn arrears_with_a_broken_plan_do_not_lapse_with_it() {
        let now = at("2026-03-02T09:00:00Z");
        let broken = BrokenPlan {
            plan_id: Id::new(),
            broken_at: at("2026-01-05T00:00:00Z"),
        };
        let standing = evaluate(&facts(vec![account(60, None)], vec![broken]), &RULES, now);
        assert!(!standing.in_good_standing);
        assert_eq!(standing.lapses_at(), None);
        // Paid up later: back in good standing when the payment came, not when the plan lapses.
        let paid_at = at("2026-05-01T00:00:00Z");
        assert_eq!(regained_at(standing.lapses_at(), paid_at), paid_at);
    }

    #[test]
    fn the_basis_changes_with_the_reasons_not_with_the_days() {
        let now = at("2026-03-02T09:00:00Z");
        let behind = account(45, None);
        let later = AccountPosition {
            days_past_due: 75,
            ..behind
        };
        let first = evaluate(&facts(vec![behind], vec![]), &RULES, now);
        let second = evaluate(&facts(vec![later], vec![]), &RULES, now);
        assert_eq!(first.basis(), second.basis());
        let another = evaluate(&facts(vec![later, account(31, None)], vec![]), &RULES, now);
        assert_ne!(first.basis(), another.basis());
    }

    #[test]
    fn the_numbers_are_the_rules() {
        let now = at("2026-03-02T09:00:00Z");
        let strict = StandingRules {
            max_days_past_due: 0,
            broken_plan_months: 1,
        };
        assert!(!evaluate(&facts(vec![account(1, None)], vec![]), &strict, now).in_good_standing);
        let broken = BrokenPlan {
            plan_id: Id::new(),
            broken_at: at("2026-01-15T00:00:00Z"),
        };
        assert!(evaluate(&facts(vec![], vec![broken]), &strict, now).in_good_standing);
        assert!(!evaluate(&facts(vec![], vec![broken]), &RULES, now).in_good_standing);
    }
}
