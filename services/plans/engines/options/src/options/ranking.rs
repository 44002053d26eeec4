//! The ranking of the offered options (the key is documented on [`super::plan_options`]).

use std::cmp::Reverse;

use super::{Draft, Engine, OptionKind, PlanOption, RULE_RANKING};
use crate::affordability::{Explanation, ReasonEffect};

impl Engine<'_> {
    /// Sorts by the key documented on [`plan_options`] and numbers the ranks from 1.
    pub(super) fn rank(&self, mut drafts: Vec<Draft>) -> Vec<PlanOption> {
        let protection_first =
            self.situation.disposable_income.is_none_or(|d| d <= 0) || self.situation.protected;
        let tier = |kind: OptionKind| match (kind, protection_first) {
            (OptionKind::BreathingSpace, true) => 0,
            (OptionKind::TokenPayment, true) => 1,
            (_, true) => 2,
            (OptionKind::BreathingSpace, false) => 1,
            (OptionKind::TokenPayment, false) => 2,
            (_, false) => 0,
        };
        drafts.sort_by_key(|d| {
            (
                tier(d.option.kind),
                d.cost_to_customer,
                d.option.monthly_amount,
                Reverse(d.option.expected_recovery),
                d.option.kind.proto_order(),
            )
        });
        let count = drafts.len();
        let mut offered = Vec::with_capacity(count);
        for (rank, draft) in (1_u32..).zip(drafts) {
            let mut option = draft.option;
            option.rank = rank;
            option.reasons.push(self.rank_reason(
                &option,
                draft.cost_to_customer,
                count,
                protection_first,
            ));
            offered.push(option);
        }
        offered
    }

    pub(super) fn rank_reason(
        &self,
        option: &PlanOption,
        cost: i64,
        count: usize,
        protection_first: bool,
    ) -> Explanation {
        let why = if option.kind.is_holding() {
            if protection_first {
                match (self.situation.disposable_income, self.situation.protected) {
                    (_, true) => {
                        "with a protection in force, protection and free advice come first"
                    }
                    (None, _) => "without a statement yet, protection and free advice come first",
                    _ => "with nothing left over each month, protection and free advice come first",
                }
                .to_owned()
            } else {
                "plans that clear the debt and cost the customer least come first; this one \
                 pauses things while the customer gets advice"
                    .to_owned()
            }
        } else if cost < 0 {
            format!(
                "options that cost the customer least come first; this one saves {}",
                self.m(-cost)
            )
        } else if cost == 0 {
            "options that cost the customer least come first; this one adds no interest".to_owned()
        } else {
            format!(
                "options that cost the customer least come first; this one adds {} in interest",
                self.m(cost)
            )
        };
        let ties = if option.kind.is_holding() {
            ""
        } else {
            "; ties go to the lower monthly payment, then the higher expected recovery"
        };
        Explanation::new(
            "RANKED_CUSTOMER_FIRST",
            ReasonEffect::Neutral,
            RULE_RANKING,
            format!("Ranked {} of {count}: {why}{ties}.", option.rank),
        )
        .param("rank", option.rank)
        .param("cost_to_customer", cost)
        .param("monthly_amount", option.monthly_amount)
        .param("expected_recovery", option.expected_recovery)
    }
}
