//! What every offered option shares: its totals, headroom, expected recovery, likelihood and
//! reasons, and the phrases its summary is built from.

use rust_decimal::Decimal;

use super::{
    AfterPlan, Draft, Engine, OptionsError, PlanOption, RULE_AFFORDABLE, RULE_FORBEARANCE,
    RULE_RECOVERY, Shape, first_amount, long_date, remaining_after, round_to_minor, sum_amounts,
};
use crate::affordability::{Explanation, ReasonEffect};

impl Engine<'_> {
    /// "Interest of £1.00 and fees of £2.00 are" / "Interest of £1.00 is" / "Nothing is".
    pub(super) fn waived_phrase(&self, interest: i64, fees: i64) -> String {
        match (interest, fees) {
            (0, 0) => "No interest or fees would have been charged, so nothing is".to_owned(),
            (i, 0) => format!("Interest of {} is", self.m(i)),
            (0, f) => format!("Fees of {} are", self.m(f)),
            (i, f) => format!("Interest of {} and fees of {} are", self.m(i), self.m(f)),
        }
    }

    pub(super) fn last_note(&self, monthly: i64, last: i64) -> String {
        if last == monthly {
            String::new()
        } else {
            format!(" The last payment is {}.", self.m(last))
        }
    }

    /// Fills the fields every option shares: totals, headroom, recovery, likelihood, reasons.
    pub(super) fn draft(
        &self,
        shape: Shape,
        summary: String,
        mut reasons: Vec<Explanation>,
    ) -> Result<Draft, OptionsError> {
        let kind = shape.kind;
        let total_payable = sum_amounts(&shape.schedule)?;
        let remaining_balance = remaining_after(&shape.schedule, self.terms.balance);
        let after_plan = if remaining_balance == 0 {
            AfterPlan::PaidOff
        } else {
            shape.after_plan
        };
        let monthly_amount = first_amount(&shape.schedule);
        let months = u32::try_from(shape.schedule.len())
            .map_err(|_| OptionsError::Overflow("the number of months"))?;
        let headroom = self.situation.disposable_income.map(|d| {
            let left = d.saturating_sub(monthly_amount);
            if monthly_amount == 0 {
                left.max(0)
            } else {
                left
            }
        });
        if remaining_balance > 0 && !reasons.iter().any(|r| r.code == "AFTER_THE_PLAN") {
            let owed = self.m(remaining_balance);
            let message = match (after_plan, shape.review_date) {
                (AfterPlan::Forgiven, _) => {
                    format!("The remaining {owed} is forgiven once the payment arrives.")
                }
                (AfterPlan::Review, Some(review)) => format!(
                    "{owed} is still owed when this ends; it stays as it is, without interest or \
                     fees, until the review on {}, where what happens to it is agreed with the \
                     customer.",
                    long_date(review)
                ),
                _ => format!("{owed} is still owed when this ends."),
            };
            reasons.push(
                Explanation::new(
                    "AFTER_THE_PLAN",
                    ReasonEffect::Neutral,
                    RULE_FORBEARANCE,
                    message,
                )
                .param("remaining_balance", remaining_balance),
            );
        }
        let likelihood = self.config.completion_likelihood.of(kind);
        let expected_recovery =
            self.expected_recovery(total_payable, shape.cost_to_customer, likelihood)?;

        if let (Some(d), Some(h)) = (self.situation.disposable_income, headroom) {
            let message = if monthly_amount == 0 {
                "It asks for no payment now.".to_owned()
            } else {
                format!(
                    "It fits within the {} left over each month, leaving {}.",
                    self.m(d),
                    self.m(h)
                )
            };
            reasons.push(
                Explanation::new(
                    "AFFORDABLE",
                    ReasonEffect::Supports,
                    RULE_AFFORDABLE,
                    message,
                )
                .param("disposable_income", d)
                .param("monthly_amount", monthly_amount)
                .param("headroom", h),
            );
        }
        reasons.push(
            Explanation::new(
                "EXPECTED_RECOVERY",
                ReasonEffect::Neutral,
                RULE_RECOVERY,
                format!(
                    "Expected to recover {} (a {}% chance of completing, weighted), against {} if \
                     the debt were written off.",
                    self.m(expected_recovery),
                    (likelihood * Decimal::ONE_HUNDRED).normalize(),
                    self.m(self.write_off_baseline)
                ),
            )
            .param("expected_recovery", expected_recovery)
            .param("write_off_baseline", self.write_off_baseline)
            .param("completion_likelihood", likelihood)
            .param(
                "write_off_recovery_rate",
                self.config.write_off_recovery_rate,
            ),
        );

        let option = PlanOption {
            kind,
            rank: 0,
            monthly_amount,
            months,
            first_payment_date: shape.schedule.first().map(|i| i.due_date),
            schedule: shape.schedule,
            total_payable,
            remaining_balance,
            after_plan,
            interest_waived: shape.interest_waived,
            fees_waived: shape.fees_waived,
            headroom,
            expected_recovery,
            write_off_baseline: self.write_off_baseline,
            completion_likelihood: likelihood,
            annual_rate: shape.annual_rate,
            payment_free_months: shape.payment_free_months,
            review_date: shape.review_date,
            requires_debt_advice_referral: shape.requires_debt_advice_referral,
            summary,
            reasons,
        };
        Ok(Draft {
            option,
            cost_to_customer: shape.cost_to_customer,
        })
    }

    /// `min(total, balance + interest payable) × likelihood + balance × recovery rate ×
    /// (1 − likelihood)`, half-even to the minor unit: the plan's payments if it completes, the
    /// write-off recovery on the balance if it does not. Only the option's own schedule counts
    /// (a conservative figure for catch-up, token payment and breathing space, whose value lies
    /// in what follows them).
    pub(super) fn expected_recovery(
        &self,
        total_payable: i64,
        cost_to_customer: i64,
        likelihood: Decimal,
    ) -> Result<i64, OptionsError> {
        let overflow = || OptionsError::Overflow("expected recovery");
        let cap = self
            .terms
            .balance
            .checked_add(cost_to_customer.max(0))
            .ok_or_else(overflow)?;
        let paid = Decimal::from(total_payable.min(cap));
        let if_completed = paid.checked_mul(likelihood).ok_or_else(overflow)?;
        let if_not = Decimal::from(self.terms.balance)
            .checked_mul(self.config.write_off_recovery_rate)
            .and_then(|v| v.checked_mul(Decimal::ONE - likelihood))
            .ok_or_else(overflow)?;
        round_to_minor(
            if_completed.checked_add(if_not).ok_or_else(overflow)?,
            "expected recovery",
        )
    }
}
