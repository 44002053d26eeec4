//! The term extension: the balance re-amortised over a longer term.

use super::{
    AfterPlan, Draft, Engine, OptionKind, OptionsError, RULE_EXTENSION, RULE_NO_PRESSURE, Shape,
    first_amount, largest, last_amount, months_phrase, sum_amounts, sum_interest,
};
use crate::affordability::{Explanation, ReasonEffect};
use crate::amortisation;
use crate::schedule;

impl Engine<'_> {
    /// Term extension: the balance (arrears included) re-amortised at the contract rate over the
    /// shortest term longer than the remaining one whose payments are affordable, up to the cap.
    /// The shortest affordable term keeps the interest as low as it can be. It is a real
    /// extension or nothing: when the remaining term already fits the budget, or the longer term
    /// would not lower the payment below the contractual one, it is not offered (DESIGN.md: no
    /// longer term than needed; a plan that only adds interest does not help). CCD2 art. 35
    /// (extend the term; for a revolving account, change the type), CONC 7.3.4R.
    pub(super) fn term_extension(
        &self,
        disposable: i64,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::TermExtension;
        let (balance, rate) = (self.terms.balance, &self.terms.rate);
        let at_cap = amortisation::level_payment(balance, rate, self.cap_term)?;
        if at_cap > disposable {
            return Ok(Err(self
                .not_affordable(
                    "TERM_EXTENSION_NOT_AFFORDABLE",
                    format!("Even {}", months_phrase(self.cap_term)),
                    at_cap,
                    disposable,
                )
                .param("max_months", self.cap_term)));
        }
        // The level payment does not rise with the term: binary search the shortest that fits.
        let (mut low, mut high) = (self.base_term, self.cap_term);
        while low < high {
            let mid = low + (high - low) / 2;
            if amortisation::level_payment(balance, rate, mid)? <= disposable {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        if low == self.base_term {
            let fits = amortisation::level_payment(balance, rate, self.base_term)?;
            return Ok(Err(Explanation::new(
                "TERM_EXTENSION_NOT_NEEDED",
                ReasonEffect::Opposes,
                RULE_NO_PRESSURE,
                format!(
                    "Over the {} left the balance, arrears included, would cost {} a month, which \
                     already fits the budget, so a longer term would only add interest.",
                    months_phrase(self.base_term),
                    self.m(fits)
                ),
            )
            .param("base_term_months", self.base_term)
            .param("monthly_amount", fits)));
        }
        // The last installment absorbs the rounding remainder and may be a little larger.
        let mut months = low;
        let installments = loop {
            let candidate = schedule::annuity_installments(
                balance,
                rate,
                months,
                self.first_after,
                self.situation.payday,
            )?;
            if largest(&candidate) <= disposable {
                break candidate;
            }
            if months >= self.cap_term {
                return Ok(Err(self
                    .not_affordable(
                        "TERM_EXTENSION_NOT_AFFORDABLE",
                        format!("Even {}", months_phrase(self.cap_term)),
                        largest(&candidate),
                        disposable,
                    )
                    .param("max_months", self.cap_term)));
            }
            months += 1;
        };
        let monthly = first_amount(&installments);
        let contractual = self.terms.contractual_payment;
        if monthly >= contractual {
            return Ok(Err(Explanation::new(
                "TERM_EXTENSION_DOES_NOT_LOWER_PAYMENT",
                ReasonEffect::Opposes,
                RULE_NO_PRESSURE,
                format!(
                    "Over {} the payment would be {}, no lower than the contractual {}, so a \
                     longer term would only add interest.",
                    months_phrase(months),
                    self.m(monthly),
                    self.m(contractual)
                ),
            )
            .param("months", months)
            .param("monthly_amount", monthly)
            .param("contractual_payment", contractual)));
        }
        let interest = sum_interest(&installments)?;
        let last = last_amount(&installments);
        let summary = format!(
            "Your payment becomes {} a month, down from {}, by spreading the balance over {} \
             instead of {}. Interest still applies, so you pay {} in total.{}",
            self.m(monthly),
            self.m(contractual),
            months_phrase(months),
            months_phrase(self.base_term),
            self.m(sum_amounts(&installments)?),
            self.last_note(monthly, last)
        );
        let reason = Explanation::new(
            "TERM_RE_AMORTISED",
            ReasonEffect::Supports,
            RULE_EXTENSION,
            format!(
                "The balance is re-amortised over {}, the shortest term beyond the {} left whose \
                 payments fit the budget, which keeps the interest as low as it can be.",
                months_phrase(months),
                months_phrase(self.base_term)
            ),
        )
        .param("months", months)
        .param("base_term_months", self.base_term)
        .param("annual_rate", self.terms.rate.as_decimal())
        .param("interest", interest);
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::PaidOff,
                cost_to_customer: interest,
                interest_waived: 0,
                fees_waived: self.fees_for(months)?,
                annual_rate: self.terms.rate.as_decimal(),
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
