//! The reduced payment: a lower monthly amount with interest and fees frozen.

use rust_decimal::Decimal;

use super::{
    AfterPlan, Draft, Engine, OptionKind, OptionsError, RULE_FREEZE, RULE_NO_PRESSURE, Shape,
    div_ceil, first_amount, largest, last_amount, months_phrase,
};
use crate::affordability::{Explanation, ReasonEffect};
use crate::amortisation;
use crate::rate::AnnualRate;
use crate::schedule;

impl Engine<'_> {
    /// Reduced payment: the whole balance, interest and fees frozen, by DESIGN.md's convention at
    /// r = 0 (`balance / months` half-even, the last absorbing the remainder) over the remaining
    /// term (the revolving term for a card); when that is more than the customer has left over,
    /// over the fewest longer months (up to the cap) whose installments all fit.
    /// CONC 7.3.5G (waive interest and charges), CCD2 art. 35 (change the rate, extend the term).
    pub(super) fn reduced_payment(
        &self,
        disposable: i64,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::ReducedPayment;
        let balance = self.terms.balance;
        let needed = u32::try_from(div_ceil(balance, disposable)).unwrap_or(u32::MAX);
        let mut months = self.base_term.max(needed);
        let installments = loop {
            if months > self.cap_term {
                return Ok(Err(self
                    .not_affordable(
                        "REDUCED_PAYMENT_NOT_AFFORDABLE",
                        format!(
                            "Even with interest frozen, spreading the balance over {}",
                            months_phrase(self.cap_term)
                        ),
                        amortisation::level_payment(balance, &AnnualRate::zero(), self.cap_term)?,
                        disposable,
                    )
                    .param("max_months", self.cap_term)));
            }
            let candidate = schedule::equal_installments(
                balance,
                months,
                self.first_after,
                self.situation.payday,
            )?;
            if largest(&candidate) <= disposable {
                break candidate;
            }
            months += 1;
        };
        let monthly = first_amount(&installments);
        let last = last_amount(&installments);
        let summary = format!(
            "Pay {} a month for {} and the balance is cleared; we freeze interest and fees, so \
             you pay {} in total and no more.{}",
            self.m(monthly),
            months_phrase(months),
            self.m(balance),
            self.last_note(monthly, last)
        );
        let mut reasons = vec![
            Explanation::new(
                "INTEREST_AND_FEES_FROZEN",
                ReasonEffect::Supports,
                RULE_FREEZE,
                format!(
                    "{} waived; the balance is spread over {}.",
                    self.waived_phrase(self.contract_interest, self.fees_for(months)?),
                    months_phrase(months)
                ),
            )
            .param("months", months)
            .param("base_term_months", self.base_term),
        ];
        if months > self.base_term {
            reasons.push(
                Explanation::new(
                    "TERM_LENGTHENED_TO_FIT",
                    ReasonEffect::Neutral,
                    RULE_NO_PRESSURE,
                    format!(
                        "Over {} the payment would be more than the customer has left over, so \
                         the plan runs for the fewest months that fit.",
                        months_phrase(self.base_term)
                    ),
                )
                .param("base_term_months", self.base_term)
                .param("months", months),
            );
        }
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::PaidOff,
                cost_to_customer: 0,
                interest_waived: self.contract_interest,
                fees_waived: self.fees_for(months)?,
                annual_rate: Decimal::ZERO,
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
