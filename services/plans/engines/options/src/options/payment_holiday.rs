//! The payment holiday: a break from payments, then the balance repaid.

use jiff::Span;

use super::{
    AfterPlan, Draft, Engine, OptionKind, OptionsError, RULE_HOLIDAY, RULE_PROTECTION, Shape,
    first_amount, largest, last_amount, months_phrase, sum_interest,
};
use crate::affordability::{Explanation, ReasonEffect};
use crate::schedule;

impl Engine<'_> {
    /// Payment holiday: `holiday_months` without payments, then the balance plus the interest
    /// of the break re-amortised over the remaining (or revolving) term, which therefore ends
    /// that much later. Interest keeps building during the break (monthly, compounding, by the
    /// amortisation convention) unless a protection is in force, which freezes it. Fees stop.
    /// A bridge for a temporary shock. CCD2 art. 35 (payment holiday, defer payments).
    pub(super) fn payment_holiday(
        &self,
        disposable: i64,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::PaymentHoliday;
        let holiday = self.config.holiday_months;
        let mut balance = self.terms.balance;
        let mut holiday_interest = 0_i64;
        if !self.situation.protected {
            for _ in 0..holiday {
                let interest = self.month_interest(balance)?;
                holiday_interest = holiday_interest
                    .checked_add(interest)
                    .ok_or(OptionsError::Overflow("holiday interest"))?;
                balance = balance
                    .checked_add(interest)
                    .ok_or(OptionsError::Overflow("holiday interest"))?;
            }
        }
        let holiday_end = self
            .situation
            .today
            .checked_add(Span::new().months(i64::from(holiday)))
            .map_err(|_| OptionsError::DateOutOfRange("the end of the payment holiday"))?;
        let resume_after = holiday_end
            .tomorrow()
            .map_err(|_| OptionsError::DateOutOfRange("the end of the payment holiday"))?;
        let months = self.base_term;
        let installments = schedule::annuity_installments(
            balance,
            &self.terms.rate,
            months,
            resume_after,
            self.situation.payday,
        )?;
        if largest(&installments) > disposable {
            return Ok(Err(self
                .not_affordable(
                    "PAYMENT_HOLIDAY_NOT_AFFORDABLE",
                    format!("After a {}-month break, the payment", holiday),
                    largest(&installments),
                    disposable,
                )
                .param("holiday_months", holiday)));
        }
        let interest = sum_interest(&installments)?
            .checked_add(holiday_interest)
            .ok_or(OptionsError::Overflow("holiday interest"))?;
        let monthly = first_amount(&installments);
        let last = last_amount(&installments);
        let interest_note = if self.situation.protected {
            "no interest builds during the break because your account is protected".to_owned()
        } else if holiday_interest == 0 {
            "no interest builds during the break".to_owned()
        } else {
            format!(
                "interest of {} builds during the break",
                self.m(holiday_interest)
            )
        };
        let summary = format!(
            "Pay nothing for {} while you get back on your feet, then {} a month for {}. This is \
             a bridge for a short-term setback; {interest_note}.{}",
            months_phrase(holiday),
            self.m(monthly),
            months_phrase(months),
            self.last_note(monthly, last)
        );
        let reasons =
            vec![
            Explanation::new(
                "PAYMENT_HOLIDAY_BRIDGE",
                ReasonEffect::Supports,
                RULE_HOLIDAY,
                format!(
                    "Payments pause for {} and then restart at an amount that fits today's \
                     budget; suited to a temporary setback such as illness or a gap between jobs.",
                    months_phrase(holiday)
                ),
            )
            .param("holiday_months", holiday)
            .param("months_after_holiday", months),
            Explanation::new(
                "HOLIDAY_INTEREST",
                ReasonEffect::Neutral,
                if self.situation.protected { RULE_PROTECTION } else { RULE_HOLIDAY },
                if self.situation.protected {
                    "A protection is in force, so no interest builds during the break.".to_owned()
                } else {
                    format!(
                        "Interest of {} builds during the break and is spread over the payments \
                         that follow.",
                        self.m(holiday_interest)
                    )
                },
            )
            .param("holiday_interest", holiday_interest)
            .param("protected", self.situation.protected),
        ];
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::PaidOff,
                cost_to_customer: interest,
                interest_waived: 0,
                fees_waived: self.fees_for(holiday.saturating_add(months))?,
                annual_rate: self.terms.rate.as_decimal(),
                payment_free_months: holiday,
                review_date: Some(holiday_end),
                requires_debt_advice_referral: false,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }
}
