//! The interest and fee freeze: the contractual payment with nothing added.

use rust_decimal::Decimal;

use super::{
    AfterPlan, Draft, Engine, OptionKind, OptionsError, RULE_FREEZE, Shape, div_ceil, last_amount,
    months_phrase,
};
use crate::affordability::{Explanation, ReasonEffect};
use crate::rate::AnnualRate;
use crate::schedule;

impl Engine<'_> {
    /// Interest and fee freeze: the customer keeps paying the contractual amount and all of it
    /// goes to the balance; the last payment is whatever is left. CONC 7.3.5G.
    pub(super) fn interest_fee_freeze(
        &self,
        disposable: i64,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::InterestFeeFreeze;
        let (balance, payment) = (
            self.terms.balance,
            self.terms.contractual_payment.min(self.terms.balance),
        );
        if payment > disposable {
            return Ok(Err(self.not_affordable(
                "INTEREST_FEE_FREEZE_NOT_AFFORDABLE",
                "Keeping the contractual payment".to_owned(),
                payment,
                disposable,
            )));
        }
        let months = div_ceil(balance, payment);
        let months = match u32::try_from(months) {
            Ok(months) if months <= self.cap_term => months,
            _ => {
                return Ok(Err(Explanation::new(
                    "INTEREST_FEE_FREEZE_TOO_LONG",
                    ReasonEffect::Opposes,
                    RULE_FREEZE,
                    format!(
                        "At {} a month the balance would take more than {} to clear; a reduced \
                         payment or a longer term suits better.",
                        self.m(payment),
                        months_phrase(self.cap_term)
                    ),
                )
                .param("months", months)
                .param("max_months", self.cap_term)));
            }
        };
        // The contractual payment each month, the last what is left: it pays the balance off.
        let amounts: Vec<i64> = (1..=i64::from(months))
            .map(|month| payment.min(balance - payment * (month - 1)))
            .collect();
        let payments = self.on_paydays(&amounts)?;
        let installments =
            schedule::paid_installments(balance, &AnnualRate::zero(), &payments, false)?;
        let last = last_amount(&installments);
        let summary = format!(
            "Keep paying {} a month and all of it goes to the balance: we freeze interest and \
             fees, and you are clear in {}.{}",
            self.m(payment),
            months_phrase(months),
            self.last_note(payment, last)
        );
        let reason = Explanation::new(
            "INTEREST_AND_FEES_FROZEN",
            ReasonEffect::Supports,
            RULE_FREEZE,
            format!(
                "{} waived; the contractual payment clears the balance in {}.",
                self.waived_phrase(self.contract_interest, self.fees_for(months)?),
                months_phrase(months)
            ),
        )
        .param("months", months)
        .param("contractual_payment", payment);
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
            vec![reason],
        )
        .map(Ok)
    }
}
