//! A promise to pay: the customer's own word, kept when what they paid by the promised date is
//! close enough to what they promised (a partial payment within tolerance still counts).

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::common::v1::Channel;
use rapport_proto::plans::v1::PromiseToPayStatus;

use super::Actor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promise {
    pub id: Id,
    pub account_id: Id,
    pub customer_id: Id,
    pub currency: Currency,
    pub amount: i64,
    /// Payments received up to the end of this day count.
    pub promised_date: Date,
    pub status: PromiseToPayStatus,
    pub paid: i64,
    pub channel: Channel,
    pub recorded_by: Actor,
    pub note: String,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
}

impl Promise {
    /// The smallest payment that keeps the promise: `kept_percent` of the amount, rounded up.
    pub fn threshold(&self, kept_percent: u32) -> i64 {
        let scaled = i128::from(self.amount) * i128::from(kept_percent);
        i64::try_from((scaled + 99) / 100).unwrap_or(self.amount)
    }

    /// Updates a pending promise with what has been paid towards it: kept as soon as enough is
    /// paid, broken once the promised date has passed without that. Returns whether it resolved
    /// (and how).
    pub fn evaluate(
        &mut self,
        paid: i64,
        today: Date,
        now: Timestamp,
        kept_percent: u32,
    ) -> Option<bool> {
        if self.status != PromiseToPayStatus::Pending {
            return None;
        }
        self.paid = paid;
        if paid >= self.threshold(kept_percent) {
            self.status = PromiseToPayStatus::Kept;
            self.resolved_at = Some(now);
            return Some(true);
        }
        if today > self.promised_date {
            self.status = PromiseToPayStatus::Broken;
            self.resolved_at = Some(now);
            return Some(false);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::common::v1::ActorKind;

    fn promise(amount: i64) -> Promise {
        Promise {
            id: Id::new(),
            account_id: Id::new(),
            customer_id: Id::new(),
            currency: Currency::GBP,
            amount,
            promised_date: "2026-03-10".parse().expect("date"),
            status: PromiseToPayStatus::Pending,
            paid: 0,
            channel: Channel::Phone,
            recorded_by: Actor {
                kind: ActorKind::Agent,
                id: "a".into(),
            },
            note: String::new(),
            created_at: Timestamp::UNIX_EPOCH,
            resolved_at: None,
        }
    }

    #[test]
    fn partial_payment_within_tolerance_keeps_the_promise() {
        let mut p = promise(10_000);
        assert_eq!(p.threshold(95), 9_500);
        assert_eq!(
            p.evaluate(
                9_500,
                "2026-03-09".parse().expect("date"),
                Timestamp::UNIX_EPOCH,
                95
            ),
            Some(true)
        );
        assert_eq!(p.status, PromiseToPayStatus::Kept);
    }

    #[test]
    fn too_little_by_the_date_breaks_it_and_nothing_earlier() {
        let mut p = promise(10_000);
        assert_eq!(
            p.evaluate(
                5_000,
                "2026-03-10".parse().expect("date"),
                Timestamp::UNIX_EPOCH,
                95
            ),
            None
        );
        assert_eq!(
            p.evaluate(
                5_000,
                "2026-03-11".parse().expect("date"),
                Timestamp::UNIX_EPOCH,
                95
            ),
            Some(false)
        );
        assert_eq!(p.status, PromiseToPayStatus::Broken);
        assert_eq!(p.paid, 5_000);
    }
}
