//! A hardship case: the customer's situation, what they can afford, and the help arranged.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1::HardshipReason;

use super::Actor;
use super::affordability::Statement;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardshipCase {
    pub id: Id,
    pub customer_id: Id,
    pub account_ids: Vec<Id>,
    pub reason: HardshipReason,
    pub reason_detail: String,
    pub opened_by: Actor,
    pub open: bool,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub statement: Option<SubmittedStatement>,
    pub referrals: Vec<Referral>,
}

/// The latest income & expenditure on the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedStatement {
    pub currency: Currency,
    pub statement: Statement,
    pub submitted_by: Actor,
    pub submitted_at: Timestamp,
}

/// A referral to a free debt-advice service from the configured directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub id: Id,
    pub case_id: Id,
    pub service_id: String,
    pub referred_by: Actor,
    pub customer_consented: bool,
    pub referred_at: Timestamp,
    pub notes: String,
}
