//! The token payment: a small amount with a debt-advice referral and a review date.

use rust_decimal::Decimal;

use super::{
    AfterPlan, Draft, Engine, OptionKind, OptionsError, RULE_TOKEN, Shape, long_date,
    remaining_after,
};
use crate::affordability::{Explanation, ReasonEffect};
use crate::rate::AnnualRate;
use crate::schedule;

impl Engine<'_> {
    /// Token payment with free debt advice and a review date: offered whenever nothing that
    /// resolves the debt is affordable, when there is no statement yet, or when a protection is
    /// in force; otherwise excluded (a plan the customer can afford serves them better).
    ///
    /// Amount: `token_amount` without a statement; `min(token_amount, disposable)` when
    /// something is left over; **0 when disposable ≤ 0** ("pay nothing now; we will review with
    /// your adviser"). Payments fall on the paydays after today up to the review date
    /// (`today + review_after_days`); interest and fees are frozen until then. CONC 7.3.5G.
    pub(super) fn token_payment(
        &self,
        resolving_offered: usize,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::TokenPayment;
        let disposable = self.situation.disposable_income;
        let needed =
            disposable.is_none_or(|d| d <= 0) || self.situation.protected || resolving_offered == 0;
        if !needed {
            return Ok(Err(Explanation::new(
                "TOKEN_PAYMENT_NOT_NEEDED",
                ReasonEffect::Opposes,
                RULE_TOKEN,
                "A token payment is for when nothing else is affordable; the customer can afford \
                 a plan that clears the debt.",
            )
            .param("affordable_plans", resolving_offered)));
        }
        let amount = match disposable {
            None => self.config.token_amount,
            Some(d) if d <= 0 => 0,
            Some(d) => self.config.token_amount.min(d),
        };
        let review = self.add_days(self.config.review_after_days, "the review date")?;
        let mut payments = Vec::new();
        if amount > 0 {
            // Paydays at least 28 days apart: this many reach past the review date.
            let bound = self.config.review_after_days / 28 + 1;
            let dates = schedule::payday_dates(self.first_after, self.situation.payday, bound)?;
            payments.extend(
                dates
                    .into_iter()
                    .filter(|d| *d <= review)
                    .map(|d| (d, amount)),
            );
        }
        // Interest and fees are frozen until the review; a payment that would clear a tiny
        // balance is cut to it and is the last.
        let installments =
            schedule::paid_installments(self.terms.balance, &AnnualRate::zero(), &payments, false)?;
        let remaining = remaining_after(&installments, self.terms.balance);
        let hold_months = self.config.review_after_days / 30;
        let interest_waived = self
            .month_interest(self.terms.balance)?
            .checked_mul(i64::from(hold_months))
            .ok_or(OptionsError::Overflow("interest waived"))?;
        let review_on = long_date(review);
        let summary = match (
            installments.first(),
            self.situation.has_debt_advice_referral,
        ) {
            (None, true) => format!(
                "Pay nothing now: we freeze interest and fees and will review things with you and \
                 your debt adviser on {review_on}."
            ),
            (None, false) => format!(
                "Pay nothing now: we put you in touch with free debt advice, freeze interest and \
                 fees, and will review things with you on {review_on}."
            ),
            (Some(first), true) => format!(
                "Pay {} a month for now while your debt adviser helps you; we freeze interest and \
                 fees and will review things with you on {review_on}.",
                self.m(first.amount)
            ),
            (Some(first), false) => format!(
                "Pay {} a month for now and we put you in touch with free debt advice; we freeze \
                 interest and fees and will review things with you on {review_on}.",
                self.m(first.amount)
            ),
        };
        let rest = if remaining == 0 {
            " These payments clear the balance.".to_owned()
        } else if installments.is_empty() {
            format!(
                " The {} you owe stays as it is until then, and at the review we agree together \
                 what happens to it.",
                self.m(remaining)
            )
        } else {
            format!(
                " After these payments {} is still owed; it stays as it is until the review, \
                 where we agree together what happens to it.",
                self.m(remaining)
            )
        };
        let summary = summary + &rest;
        let mut reasons = vec![
            Explanation::new(
                "TOKEN_PAYMENT_WITH_ADVICE",
                ReasonEffect::Supports,
                RULE_TOKEN,
                "A small payment, or none, keeps things steady while free debt advice looks at \
                 the whole picture; interest and fees are frozen until the review.",
            )
            .param("token_amount", amount)
            .param("review_date", review)
            .param("review_after_days", self.config.review_after_days),
            self.advice_reason(),
        ];
        reasons.extend(self.holding_context());
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::Review,
                cost_to_customer: 0,
                interest_waived,
                fees_waived: self.fees_for(hold_months)?,
                annual_rate: Decimal::ZERO,
                payment_free_months: 0,
                review_date: Some(review),
                requires_debt_advice_referral: true,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }
}
