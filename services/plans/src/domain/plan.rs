//! A payment plan the customer chose, and what happens as its installments fall due.
//!
//! Plans (DESIGN.md, Rules with numbers): payments are allocated oldest installment first; one
//! missed installment brings a gentle check-in and the plan stays active; a plan is broken only
//! after N (default 2) consecutive misses AND after a re-plan was offered; never an automatic
//! escalation.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1::{AgreementMethod, InstallmentStatus, PlanOptionKind, PlanStatus};

use super::Actor;
use super::allocation::{AllocationError, AllocationResult, Due, allocate_payment};
use super::rate::AnnualRate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedInstallment {
    pub sequence: u32,
    pub due_date: Date,
    pub amount: i64,
    pub principal: i64,
    pub interest: i64,
    pub closing_balance: i64,
    pub paid: i64,
    pub status: InstallmentStatus,
}

impl PlannedInstallment {
    pub fn outstanding(&self) -> i64 {
        self.amount - self.paid
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub method: AgreementMethod,
    pub evidence_ref: String,
    pub agreed_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub id: Id,
    pub account_id: Id,
    pub customer_id: Id,
    pub case_id: String,
    pub kind: PlanOptionKind,
    pub status: PlanStatus,
    pub currency: Currency,
    pub monthly: i64,
    pub total_payable: i64,
    pub interest_waived: i64,
    pub fees_waived: i64,
    pub rate: AnnualRate,
    pub payday: i8,
    pub review_date: Option<Date>,
    pub consecutive_missed: u32,
    pub replan_offered_at: Option<Timestamp>,
    pub accepted_by: Actor,
    pub agreement: Agreement,
    pub accepted_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub end_reason: String,
    pub previous_plan_id: String,
    pub summary: String,
    pub installments: Vec<PlannedInstallment>,
}

/// Something that happened to a plan, to publish as an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanChange {
    InstallmentPaid {
        sequence: u32,
    },
    /// A gentle check-in: the plan stays active.
    InstallmentMissed {
        sequence: u32,
        consecutive: u32,
    },
    Completed,
    Broken,
}

/// What an active plan means for its account's flags (`Account.interest_frozen`,
/// `fees_frozen`: "protection or plan").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanTerms {
    pub id: Id,
    /// Agreed at a rate of zero: a freeze, a reduced payment, a pause (the options engine sets
    /// the plan's rate; CONC 7.3.5G: suspend, reduce or waive interest).
    pub freezes_interest: bool,
    /// Every kind waives the account's fees for its months (`fees_for` in the options engine)
    /// but a settlement, which ends the debt instead.
    pub freezes_fees: bool,
}

impl Plan {
    pub fn terms(&self) -> PlanTerms {
        PlanTerms {
            id: self.id,
            freezes_interest: self.rate.is_zero(),
            freezes_fees: self.kind != PlanOptionKind::Settlement,
        }
    }

    pub fn paid_to_date(&self) -> i64 {
        self.installments.iter().map(|i| i.paid).sum()
    }

    pub fn remaining(&self) -> i64 {
        self.installments
            .iter()
            .map(PlannedInstallment::outstanding)
            .sum()
    }

    pub fn is_active(&self) -> bool {
        self.status == PlanStatus::Active
    }

    /// Brings the plan up to `today`: installments due before today and not fully paid are
    /// missed (each once), a plan with nothing left to pay is completed, and a plan is broken
    /// only after `misses_before_broken` consecutive misses once a re-plan has been offered.
    pub fn review(
        &mut self,
        today: Date,
        now: Timestamp,
        misses_before_broken: u32,
    ) -> Vec<PlanChange> {
        let mut changes = Vec::new();
        if !self.is_active() {
            return changes;
        }
        for installment in &mut self.installments {
            if installment.due_date < today
                && installment.outstanding() > 0
                && installment.status != InstallmentStatus::Missed
            {
                installment.status = InstallmentStatus::Missed;
                changes.push(PlanChange::InstallmentMissed {
                    sequence: installment.sequence,
                    consecutive: 0,
                });
            }
        }
        self.consecutive_missed = self.trailing_misses(today);
        for change in &mut changes {
            if let PlanChange::InstallmentMissed { consecutive, .. } = change {
                *consecutive = self.consecutive_missed;
            }
        }
        changes.extend(self.settle(today, now, misses_before_broken));
        changes
    }

    /// Applies a payment oldest installment first (missed ones included), partially where the
    /// money runs out; whatever is beyond every remaining installment is returned as
    /// `unapplied` (an overpayment: billing credits it to the account, and the plan never
    /// pulls future dates forward).
    pub fn apply_payment(
        &mut self,
        amount: i64,
        today: Date,
        now: Timestamp,
        misses_before_broken: u32,
    ) -> Result<(AllocationResult, Vec<PlanChange>), AllocationError> {
        let dues: Vec<Due> = self
            .installments
            .iter()
            .map(|i| Due {
                sequence: i.sequence,
                amount: i.amount,
                paid: i.paid,
            })
            .collect();
        let result = allocate_payment(&dues, amount)?;
        let mut changes = Vec::new();
        for allocation in &result.allocations {
            if let Some(installment) = self
                .installments
                .iter_mut()
                .find(|i| i.sequence == allocation.sequence)
            {
                installment.paid += allocation.applied;
                installment.status = if installment.outstanding() == 0 {
                    changes.push(PlanChange::InstallmentPaid {
                        sequence: installment.sequence,
                    });
                    InstallmentStatus::Paid
                } else if installment.status == InstallmentStatus::Missed {
                    InstallmentStatus::Missed
                } else {
                    InstallmentStatus::PartiallyPaid
                };
            }
        }
        self.consecutive_missed = self.trailing_misses(today);
        changes.extend(self.settle(today, now, misses_before_broken));
        Ok((result, changes))
    }

    /// The run of missed installments ending at the latest one already due.
    fn trailing_misses(&self, today: Date) -> u32 {
        let mut run = 0;
        for installment in self.installments.iter().filter(|i| i.due_date < today) {
            if installment.status == InstallmentStatus::Missed && installment.outstanding() > 0 {
                run += 1;
            } else if installment.amount > 0 {
                run = 0;
            }
        }
        run
    }

    fn settle(
        &mut self,
        today: Date,
        now: Timestamp,
        misses_before_broken: u32,
    ) -> Vec<PlanChange> {
        let nothing_left = self.remaining() == 0;
        let review_passed =
            self.installments.is_empty() && self.review_date.is_some_and(|d| d <= today);
        if nothing_left && (!self.installments.is_empty() || review_passed) {
            self.status = PlanStatus::Completed;
            self.ended_at = Some(now);
            self.end_reason = "every installment was paid".to_owned();
            return vec![PlanChange::Completed];
        }
        if self.consecutive_missed >= misses_before_broken && self.replan_offered_at.is_some() {
            self.status = PlanStatus::Broken;
            self.ended_at = Some(now);
            self.end_reason = format!(
                "{} consecutive installments were missed after a new plan was offered",
                self.consecutive_missed
            );
            return vec![PlanChange::Broken];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_proto::common::v1::ActorKind;

    fn plan(amounts: &[i64]) -> Plan {
        let first: Date = "2026-04-15".parse().expect("date");
        Plan {
            id: Id::new(),
            account_id: Id::new(),
            customer_id: Id::new(),
            case_id: String::new(),
            kind: PlanOptionKind::ReducedPayment,
            status: PlanStatus::Active,
            currency: Currency::GBP,
            monthly: amounts[0],
            total_payable: amounts.iter().sum(),
            interest_waived: 0,
            fees_waived: 0,
            rate: AnnualRate::zero(),
            payday: 15,
            review_date: None,
            consecutive_missed: 0,
            replan_offered_at: None,
            accepted_by: Actor {
                kind: ActorKind::Agent,
                id: "a".into(),
            },
            agreement: Agreement {
                method: AgreementMethod::RecordedCall,
                evidence_ref: String::new(),
                agreed_at: Timestamp::UNIX_EPOCH,
            },
            accepted_at: Timestamp::UNIX_EPOCH,
            ended_at: None,
            end_reason: String::new(),
            previous_plan_id: String::new(),
            summary: String::new(),
            installments: amounts
                .iter()
                .enumerate()
                .map(|(i, amount)| PlannedInstallment {
                    sequence: i as u32 + 1,
                    due_date: first
                        .checked_add(jiff::Span::new().months(i as i64))
                        .expect("date"),
                    amount: *amount,
                    principal: *amount,
                    interest: 0,
                    closing_balance: 0,
                    paid: 0,
                    status: InstallmentStatus::Scheduled,
                })
                .collect(),
        }
    }

    fn day(text: &str) -> Date {
        text.parse().expect("date")
    }

    #[test]
    fn one_miss_is_a_check_in_and_two_break_only_after_a_replan_offer() {
        let mut p = plan(&[100, 100, 100]);
        let now = Timestamp::UNIX_EPOCH;
        let changes = p.review(day("2026-04-16"), now, 2);
        assert_eq!(
            changes,
            vec![PlanChange::InstallmentMissed {
                sequence: 1,
                consecutive: 1
            }]
        );
        assert_eq!(p.status, PlanStatus::Active);
        assert!(
            p.review(day("2026-04-20"), now, 2).is_empty(),
            "each miss is reported once"
        );
        p.review(day("2026-05-16"), now, 2);
        assert_eq!(p.consecutive_missed, 2);
        assert_eq!(p.status, PlanStatus::Active, "no re-plan offered yet");
        p.replan_offered_at = Some(now);
        assert_eq!(
            p.review(day("2026-05-17"), now, 2),
            vec![PlanChange::Broken]
        );
        assert_eq!(p.status, PlanStatus::Broken);
    }

    #[test]
    fn paying_a_missed_installment_resets_the_run() {
        let mut p = plan(&[100, 100, 100]);
        let now = Timestamp::UNIX_EPOCH;
        p.review(day("2026-04-16"), now, 2);
        let (result, changes) = p
            .apply_payment(150, day("2026-04-20"), now, 2)
            .expect("applies");
        assert_eq!(result.allocations.len(), 2, "oldest first, then the next");
        assert_eq!(changes, vec![PlanChange::InstallmentPaid { sequence: 1 }]);
        assert_eq!(p.consecutive_missed, 0);
        assert_eq!(p.installments[1].status, InstallmentStatus::PartiallyPaid);
    }

    #[test]
    fn paying_everything_completes_and_returns_the_overpayment() {
        let mut p = plan(&[100, 100]);
        let (result, changes) = p
            .apply_payment(250, day("2026-04-01"), Timestamp::UNIX_EPOCH, 2)
            .expect("applies");
        assert_eq!(result.unapplied, 50);
        assert_eq!(changes.last(), Some(&PlanChange::Completed));
        assert_eq!(p.status, PlanStatus::Completed);
    }
}
