//! The settlement: part of the balance paid in one sum, the rest forgiven.

use rust_decimal::Decimal;

use super::{
    AfterPlan, Draft, Engine, OptionKind, OptionsError, RULE_NO_PRESSURE, RULE_SETTLEMENT, Shape,
    long_date, round_to_minor,
};
use crate::affordability::{Explanation, ReasonEffect};
use crate::rate::AnnualRate;
use crate::schedule;

impl Engine<'_> {
    /// Settlement: one payment of `balance × (1 − discount)` (half-even, at least one minor
    /// unit), offered only when that lump sum fits in one month's disposable income — never a
    /// lump sum the customer does not have. CCD2 art. 35 (partial forgiveness).
    pub(super) fn settlement(
        &self,
        disposable: i64,
    ) -> Result<Result<Draft, Explanation>, OptionsError> {
        let kind = OptionKind::Settlement;
        let balance = self.terms.balance;
        let share = Decimal::ONE - self.config.settlement_discount;
        let lump = round_to_minor(
            Decimal::from(balance)
                .checked_mul(share)
                .ok_or(OptionsError::Overflow("the settlement amount"))?,
            "the settlement amount",
        )?
        .clamp(1, balance);
        let discount = balance - lump;
        if lump > disposable {
            return Ok(Err(Explanation::new(
                "SETTLEMENT_LUMP_SUM_NOT_AFFORDABLE",
                ReasonEffect::Opposes,
                RULE_NO_PRESSURE,
                format!(
                    "A one-off payment of {} is more than the {} left over in a month, and we \
                     never ask for money the customer does not have.",
                    self.m(lump),
                    self.m(disposable)
                ),
            )
            .param("settlement_amount", lump)
            .param("disposable_income", disposable)));
        }
        // One payment against the whole balance; what it leaves is the discount, forgiven.
        let payment = self.on_paydays(&[lump])?;
        let installments =
            schedule::paid_installments(balance, &AnnualRate::zero(), &payment, false)?;
        let due = installments.first().map(|i| i.due_date);
        let forgiven = if discount == 0 {
            String::new()
        } else {
            format!(
                " The remaining {} is forgiven once it arrives.",
                self.m(discount)
            )
        };
        let summary = format!(
            "Pay {} once{} and the account is settled: that is {} less than the {} you \
             owe.{forgiven}",
            self.m(lump),
            due.map(|d| format!(", on {},", long_date(d)))
                .unwrap_or_default(),
            self.m(discount),
            self.m(balance)
        );
        let reason = Explanation::new(
            "SETTLEMENT_DISCOUNT",
            ReasonEffect::Supports,
            RULE_SETTLEMENT,
            format!(
                "A one-off payment of {} fits within this month's {} left over; {} of the \
                 balance is forgiven.",
                self.m(lump),
                self.m(disposable),
                self.m(discount)
            ),
        )
        .param("settlement_amount", lump)
        .param("discount", discount)
        .param("discount_rate", self.config.settlement_discount);
        self.draft(
            Shape {
                kind,
                schedule: installments,
                after_plan: AfterPlan::Forgiven,
                cost_to_customer: -discount,
                interest_waived: 0,
                fees_waived: 0,
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
