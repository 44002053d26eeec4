//! An account in collections: what billing told us, and how far behind it is.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1::AccountKind;

use super::rate::AnnualRate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: Id,
    pub customer_id: Id,
    pub source_system: String,
    pub external_account_id: String,
    pub kind: AccountKind,
    pub currency: Currency,
    /// Outstanding balance, minor units.
    pub balance: i64,
    pub contractual_payment: i64,
    pub rate: AnnualRate,
    /// 1–31, clamped to the month's last day.
    pub due_day: i8,
    /// 0 = revolving.
    pub remaining_term_months: u32,
    pub jurisdiction: String,
    pub days_past_due: u32,
    pub arrears: i64,
    pub ever_delinquent: bool,
    pub became_delinquent_at: Option<Timestamp>,
    pub cured_at: Option<Timestamp>,
    pub last_payment: Option<(Timestamp, i64)>,
    pub source_as_of: Timestamp,
    /// When billing's last applied arrears report was taken; None before the first.
    pub arrears_as_of: Option<Timestamp>,
    /// The balance when the account last became delinquent (the write-off baseline).
    pub delinquent_balance: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Account {
    /// Records arrears reported by billing; tracks when the account fell behind and when it was
    /// cured (back to current), for the cure rate.
    pub fn report_arrears(&mut self, days_past_due: u32, arrears: i64, at: Timestamp) {
        let was_delinquent = self.days_past_due > 0;
        self.days_past_due = days_past_due;
        self.arrears = arrears;
        if days_past_due > 0 && !was_delinquent {
            self.ever_delinquent = true;
            self.became_delinquent_at = Some(at);
            self.delinquent_balance = Some(self.balance);
            self.cured_at = None;
        }
        if days_past_due == 0 && was_delinquent {
            self.cured_at = Some(at);
        }
        self.updated_at = at;
    }

    /// Money received on the account, once however many sides report it (docs/payments.md): it
    /// clears arrears first and reduces the balance, never below zero (the rest is a credit for
    /// billing to hold or refund); an account whose arrears are cleared is current again.
    pub fn apply_payment(&mut self, amount: i64, at: Timestamp) -> PaymentMovement {
        let to_arrears = amount.clamp(0, self.arrears.max(0));
        let to_balance = amount.clamp(0, self.balance.max(0));
        self.arrears -= to_arrears;
        self.balance -= to_balance;
        if self.arrears == 0 && self.days_past_due > 0 {
            self.report_arrears(0, 0, at);
        }
        self.last_payment = Some((at, amount));
        self.updated_at = at;
        PaymentMovement {
            to_balance,
            to_arrears,
        }
    }

    /// The next date a contractual payment falls due on or after `today`.
    pub fn next_due_date(&self, today: Date) -> Date {
        super::schedule::payday_dates(today, self.due_day, 1)
            .ok()
            .and_then(|dates| dates.first().copied())
            .unwrap_or(today)
    }
}

/// How one payment moved its account, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentMovement {
    /// What reduced the balance: the whole payment unless the balance was smaller.
    pub to_balance: i64,
    /// Of `to_balance`, what cleared arrears.
    pub to_arrears: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(balance: i64, arrears: i64, days_past_due: u32) -> Account {
        Account {
            id: Id::new(),
            customer_id: Id::new(),
            source_system: "cards".into(),
            external_account_id: "C-1".into(),
            kind: AccountKind::PersonalLoan,
            currency: Currency::GBP,
            balance,
            contractual_payment: 0,
            rate: AnnualRate::zero(),
            due_day: 15,
            remaining_term_months: 0,
            jurisdiction: "GB".into(),
            days_past_due,
            arrears,
            ever_delinquent: days_past_due > 0,
            became_delinquent_at: None,
            cured_at: None,
            last_payment: None,
            source_as_of: Timestamp::UNIX_EPOCH,
            arrears_as_of: None,
            delinquent_balance: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_payment_clears_arrears_first_and_says_how_it_moved_the_account() {
        let at = Timestamp::from_second(1_000).expect("instant");
        let mut behind = account(300_000, 30_000, 45);
        let partial = behind.apply_payment(12_500, at);
        assert_eq!(
            partial,
            PaymentMovement {
                to_balance: 12_500,
                to_arrears: 12_500
            }
        );
        assert_eq!(
            (behind.balance, behind.arrears, behind.days_past_due),
            (287_500, 17_500, 45)
        );
        let rest = behind.apply_payment(20_000, at);
        assert_eq!(rest.to_arrears, 17_500);
        assert_eq!(
            (behind.arrears, behind.days_past_due),
            (0, 0),
            "current again"
        );
        assert_eq!(behind.cured_at, Some(at));
        assert_eq!(behind.last_payment, Some((at, 20_000)));

        let mut nearly_paid = account(1_000, 0, 0);
        let more_than_owed = nearly_paid.apply_payment(1_500, at);
        assert_eq!(more_than_owed.to_balance, 1_000, "the rest is a credit");
        assert_eq!(nearly_paid.balance, 0);
    }
}
