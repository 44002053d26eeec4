//! The catch-up plan: the contractual payment plus a share of the arrears.

use jiff::civil::Date;

use super::{
    AfterPlan, Draft, Engine, OptionKind, OptionsError, RULE_CATCH_UP, Shape, first_amount,
    largest, last_amount, months_phrase, remaining_after,
};
use crate::affordability::{Explanation, ReasonEffect};
use crate::amortisation::ScheduleError;
use crate::schedule;

impl Engine<'_> {
    /// Catch-up: the contractual payment plus the arrears spread over `max_catch_up_months`
    /// (the longest allowed, so the smallest monthly; fewer months only when the loan ends
    /// sooner): `n` payments sharing `contractual payment × n + arrears` by DESIGN.md's
    /// convention at r = 0 (the level part half-even, the last absorbing the remainder).
    /// Interest keeps running at the contract rate on what is really owed, so each row's interest
    /// follows the catch-up's own payments. A payment that would clear the balance is cut to what
    /// is owed and ends the plan; a plan that ends with the loan's term ends with what is owed
    /// (the convention's last installment). Otherwise what remains once the arrears are cleared
    /// goes back to the contractual payment. Arrears fees stop while it is kept.
    /// CONC 7.3.4R, CONC 7.3.5G (deferring arrears), CCD2 art. 35.
    pub(super) fn catch_up(
        &self,
        disposable: i64,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::CatchUp;
        let (arrears, contractual) = (self.terms.arrears, self.terms.contractual_payment);
        if arrears == 0 {
            return Ok(Err(Explanation::new(
                "NO_ARREARS",
                ReasonEffect::Opposes,
                RULE_CATCH_UP,
                "There are no arrears to catch up.",
            )));
        }
        let months = self.config.max_catch_up_months.min(self.base_term);
        let total = contractual
            .checked_mul(i64::from(months))
            .and_then(|t| t.checked_add(arrears))
            .ok_or(OptionsError::Overflow("the catch-up total"))?;
        let payments: Vec<(Date, i64)> =
            schedule::equal_installments(total, months, self.first_after, self.situation.payday)?
                .iter()
                .map(|i| (i.due_date, i.amount))
                .collect();
        let ends_with_term = self.terms.remaining_term_months == months;
        let installments = match schedule::paid_installments(
            self.terms.balance,
            &self.terms.rate,
            &payments,
            ends_with_term,
        ) {
            Ok(installments) => installments,
            Err(ScheduleError::PaymentDoesNotCoverInterest {
                month,
                payment,
                interest,
            }) => {
                return Ok(Err(Explanation::new(
                    "CATCH_UP_DOES_NOT_COVER_INTEREST",
                    ReasonEffect::Opposes,
                    RULE_CATCH_UP,
                    format!(
                        "A catch-up payment of {} would not cover the {} of interest in month \
                         {month}, so the balance would grow; a reduced payment or a longer term \
                         suits better.",
                        self.m(payment),
                        self.m(interest)
                    ),
                )
                .param("payment", payment)
                .param("interest", interest)
                .param("month", month)));
            }
            Err(other) => return Err(other.into()),
        };
        if largest(&installments) > disposable {
            return Ok(Err(self
                .not_affordable(
                    "CATCH_UP_NOT_AFFORDABLE",
                    format!(
                        "Clearing the arrears of {} over {}",
                        self.m(arrears),
                        months_phrase(months)
                    ),
                    first_amount(&installments),
                    disposable,
                )
                .param("months", months)));
        }
        let monthly = first_amount(&installments);
        let last = last_amount(&installments);
        let plan_months = u32::try_from(installments.len())
            .map_err(|_| OptionsError::Overflow("the number of months"))?;
        let remaining = remaining_after(&installments, self.terms.balance);
        let mut reasons = vec![
            Explanation::new(
                "CATCH_UP_ARREARS_SPREAD",
                ReasonEffect::Supports,
                RULE_CATCH_UP,
                format!(
                    "The arrears of {} are spread over {}, the longest catch-up allowed, so the \
                     monthly amount is as low as it can be.",
                    self.m(arrears),
                    months_phrase(months)
                ),
            )
            .param("arrears", arrears)
            .param("months", months)
            .param("contractual_payment", contractual),
        ];
        let summary = if remaining == 0 {
            format!(
                "Pay {} a month for {} and the balance is cleared, arrears included; no arrears \
                 fees are added while you keep to it.{}",
                self.m(monthly),
                months_phrase(plan_months),
                self.last_note(monthly, last)
            )
        } else {
            // The term cannot end inside the plan: a plan as long as the term clears the debt.
            let after = if self.terms.remaining_term_months == 0 {
                format!(
                    "your contractual payment of {} a month resumes",
                    self.m(contractual)
                )
            } else {
                format!(
                    "your contractual payment of {} a month resumes for the {} left of your term",
                    self.m(contractual),
                    months_phrase(self.terms.remaining_term_months - months)
                )
            };
            reasons.push(
                Explanation::new(
                    "AFTER_THE_PLAN",
                    ReasonEffect::Neutral,
                    RULE_CATCH_UP,
                    format!(
                        "Once the arrears are cleared, {} is still owed and {after}.",
                        self.m(remaining)
                    ),
                )
                .param("remaining_balance", remaining)
                .param("contractual_payment", contractual),
            );
            format!(
                "Pay {} a month for {} and you will be up to date; no arrears fees are added \
                 while you keep to it.{} Then {} is still owed, and {after}.",
                self.m(monthly),
                months_phrase(plan_months),
                self.last_note(monthly, last),
                self.m(remaining)
            )
        };
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::ContractResumes,
                // Once up to date the customer is back on the contract, so what the catch-up
                // costs them is the contract's interest over the remaining term.
                cost_to_customer: self.contract_interest,
                interest_waived: 0,
                fees_waived: self.fees_for(plan_months)?,
                annual_rate: self.terms.rate.as_decimal(),
                payment_free_months: 0,
                review_date: None,
                requires_debt_advice_referral: false,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }
}
