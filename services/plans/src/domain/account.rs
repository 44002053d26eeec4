//! An account in collections: what billing told us, and how far behind it is.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1::{AccountKind, DelinquencyStage};

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
            self.cured_at = None;
        }
        if days_past_due == 0 && was_delinquent {
            self.cured_at = Some(at);
        }
        self.updated_at = at;
    }

    /// A payment reported by billing: it clears arrears first, then reduces the balance; an
    /// account whose arrears are cleared is current again.
    pub fn apply_payment(&mut self, amount: i64, at: Timestamp) {
        let to_arrears = amount.min(self.arrears);
        self.arrears -= to_arrears;
        self.balance = (self.balance - amount).max(0);
        if self.arrears == 0 && self.days_past_due > 0 {
            self.report_arrears(0, 0, at);
        }
        self.last_payment = Some((at, amount));
        self.updated_at = at;
    }

    /// The next date a contractual payment falls due on or after `today`.
    pub fn next_due_date(&self, today: Date) -> Date {
        let in_month = |date: Date| {
            let last = date.last_of_month().day();
            date.with()
                .day(self.due_day.min(last))
                .build()
                .unwrap_or(date)
        };
        let this_month = in_month(today);
        if this_month >= today {
            this_month
        } else {
            in_month(
                today
                    .first_of_month()
                    .checked_add(jiff::Span::new().months(1))
                    .unwrap_or(today),
            )
        }
    }
}

/// The stage for `days_past_due`, given the first day of the early, mid, late and severe stages.
pub fn delinquency_stage(days_past_due: u32, thresholds: [u32; 4]) -> DelinquencyStage {
    let [early, mid, late, severe] = thresholds;
    match days_past_due {
        d if d >= severe => DelinquencyStage::Severe,
        d if d >= late => DelinquencyStage::Late,
        d if d >= mid => DelinquencyStage::Mid,
        d if d >= early => DelinquencyStage::Early,
        _ => DelinquencyStage::Current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_the_thresholds() {
        let t = [1, 30, 90, 180];
        assert_eq!(delinquency_stage(0, t), DelinquencyStage::Current);
        assert_eq!(delinquency_stage(1, t), DelinquencyStage::Early);
        assert_eq!(delinquency_stage(29, t), DelinquencyStage::Early);
        assert_eq!(delinquency_stage(30, t), DelinquencyStage::Mid);
        assert_eq!(delinquency_stage(90, t), DelinquencyStage::Late);
        assert_eq!(delinquency_stage(365, t), DelinquencyStage::Severe);
    }
}
