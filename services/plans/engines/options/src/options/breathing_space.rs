//! The breathing space: a moratorium while the customer gets debt advice.

use rust_decimal::Decimal;

use super::{
    AfterPlan, Draft, Engine, OptionKind, OptionsError, RULE_BREATHING_SPACE, RULE_PROTECTION,
    Shape, long_date,
};
use crate::affordability::{Explanation, ReasonEffect};

impl Engine<'_> {
    /// Breathing space: pause interest, fees and payment requests for `breathing_space_days`
    /// while the customer gets debt advice; no schedule. Excluded when a protection is already
    /// in force or a standard breathing space was used in the last 12 months (DESIGN.md).
    pub(super) fn breathing_space(&self) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::BreathingSpace;
        if self.situation.protected {
            return Ok(Err(Explanation::new(
                "ALREADY_PROTECTED",
                ReasonEffect::Opposes,
                RULE_PROTECTION,
                "A protection is already in force, so interest, fees and payment requests are \
                 already paused.",
            )));
        }
        if self.situation.breathing_space_used_in_last_12_months {
            return Ok(Err(Explanation::new(
                "BREATHING_SPACE_USED_IN_LAST_12_MONTHS",
                ReasonEffect::Opposes,
                RULE_BREATHING_SPACE,
                "A standard breathing space was already used in the last 12 months; free debt \
                 advice is still available, and a mental-health crisis breathing space has no \
                 such limit.",
            )));
        }
        let days = self.config.breathing_space_days;
        let ends = self.add_days(days, "the end of the breathing space")?;
        let hold_months = days / 30;
        let interest_waived = self
            .month_interest(self.terms.balance)?
            .checked_mul(i64::from(hold_months))
            .ok_or(OptionsError::Overflow("interest waived"))?;
        let summary = format!(
            "We pause interest, fees and payment requests for {days} days while you get free \
             debt advice; there is nothing to pay during that time, and we will look at things \
             together again by {}. The {} you owe stays as it is, and then we agree together \
             what happens to it.",
            long_date(ends),
            self.m(self.terms.balance)
        );
        let mut reasons = vec![
            Explanation::new(
                "BREATHING_SPACE_PAUSE",
                ReasonEffect::Supports,
                RULE_BREATHING_SPACE,
                "Everything pauses while a debt adviser helps: no interest, no fees and no \
                 requests for payment.",
            )
            .param("days", days)
            .param("ends", ends),
            self.advice_reason(),
        ];
        reasons.extend(self.holding_context());
        self.draft(
            Shape {
                kind,
                schedule: Vec::new(),
                after_plan: AfterPlan::Review,
                cost_to_customer: 0,
                interest_waived,
                fees_waived: self.fees_for(hold_months)?,
                annual_rate: Decimal::ZERO,
                payment_free_months: 0,
                review_date: Some(ends),
                requires_debt_advice_referral: true,
            },
            summary,
            reasons,
        )
        .map(Ok)
    }
}
