//! Allocating a payment to a plan's installments.
//!
//! DESIGN.md "Plans": payments are allocated oldest due first, so a payment always cures the
//! longest-standing arrears and a partial payment counts towards the installment the customer is
//! most behind on. Money is `i64` minor units of the plan's currency; not a unit is lost or made.
//!
//! Overpayment (one documented way, issue 4): money beyond everything outstanding on the plan is
//! returned as `unapplied`, for the caller to record as a credit on the account or refund. It never
//! pays future installments early or moves their dates, so the customer's plan stays as agreed.

/// An installment and what has been paid on it so far, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub sequence: u32,
    pub amount: i64,
    pub paid: i64,
}

/// Part of a payment applied to one installment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub sequence: u32,
    pub applied: i64,
}

/// Where a payment went: allocations in ascending sequence (only the last may leave its
/// installment partly paid), and what was left over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationResult {
    pub allocations: Vec<Allocation>,
    /// More than the plan owes; credit it to the account or refund it (see the module docs).
    pub unapplied: i64,
}

impl AllocationResult {
    /// The part of the payment applied to installments.
    #[must_use]
    #[cfg(test)]
    pub fn applied(&self) -> i64 {
        // At most the payment for a result of `allocate_payment`; saturating, never wrapping, for
        // one built by hand.
        self.allocations.iter().fold(0, |sum: i64, allocation| {
            sum.saturating_add(allocation.applied)
        })
    }
}

/// Why a payment could not be allocated. `NonPositivePayment` is the caller's mistake; the others
/// mean the stored installments are inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("the payment must be greater than zero, not {amount}")]
    NonPositivePayment { amount: i64 },
    #[error("installment {sequence} has a negative amount or payment")]
    NegativeDue { sequence: u32 },
    #[error("installment {sequence} is recorded as paid {paid} on an amount of {amount}")]
    OverpaidDue {
        sequence: u32,
        amount: i64,
        paid: i64,
    },
    #[error("installment {sequence} appears more than once")]
    DuplicateSequence { sequence: u32 },
}

/// Applies `amount` to `dues`, oldest installment (lowest sequence) with something outstanding
/// first, partially when the money runs out; any excess is `unapplied`. `dues` may come in any
/// order. Always `applied() + unapplied == amount`.
///
/// # Errors
/// `NonPositivePayment` for `amount <= 0`; `NegativeDue`, `OverpaidDue` or `DuplicateSequence`
/// for inconsistent installments.
pub fn allocate_payment(dues: &[Due], amount: i64) -> Result<AllocationResult, AllocationError> {
    if amount <= 0 {
        return Err(AllocationError::NonPositivePayment { amount });
    }
    let mut remaining = amount;
    let mut allocations = Vec::new();
    for due in oldest_first(dues)? {
        if remaining == 0 {
            break;
        }
        // Validated: 0 <= paid <= amount.
        let outstanding = due.amount - due.paid;
        if outstanding > 0 {
            let applied = outstanding.min(remaining);
            allocations.push(Allocation {
                sequence: due.sequence,
                applied,
            });
            remaining -= applied;
        }
    }
    Ok(AllocationResult {
        allocations,
        unapplied: remaining,
    })
}

/// The dues, checked and in ascending sequence.
fn oldest_first(dues: &[Due]) -> Result<Vec<Due>, AllocationError> {
    for due in dues {
        check_due(due)?;
    }
    let mut ordered = dues.to_vec();
    ordered.sort_by_key(|due| due.sequence);
    if let Some(pair) = ordered
        .windows(2)
        .find(|pair| pair[0].sequence == pair[1].sequence)
    {
        return Err(AllocationError::DuplicateSequence {
            sequence: pair[0].sequence,
        });
    }
    Ok(ordered)
}

fn check_due(due: &Due) -> Result<(), AllocationError> {
    if due.amount < 0 || due.paid < 0 {
        return Err(AllocationError::NegativeDue {
            sequence: due.sequence,
        });
    }
    if due.paid > due.amount {
        return Err(AllocationError::OverpaidDue {
            sequence: due.sequence,
            amount: due.amount,
            paid: due.paid,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn due(sequence: u32, amount: i64, paid: i64) -> Due {
        Due {
            sequence,
            amount,
            paid,
        }
    }

    fn allocation(sequence: u32, applied: i64) -> Allocation {
        Allocation { sequence, applied }
    }

    #[test]
    fn pays_the_oldest_outstanding_installment_first() {
        let dues = [
            due(1, 100, 100),
            due(2, 100, 40),
            due(3, 100, 0),
            due(4, 100, 0),
        ];
        let result = allocate_payment(&dues, 150).expect("allocated");
        assert_eq!(result.allocations, [allocation(2, 60), allocation(3, 90)]);
        assert_eq!(result.unapplied, 0);
        assert_eq!(result.applied(), 150);
    }

    #[test]
    fn order_of_the_input_does_not_matter() {
        let dues = [due(3, 100, 0), due(1, 100, 0), due(2, 100, 0)];
        let result = allocate_payment(&dues, 120).expect("allocated");
        assert_eq!(result.allocations, [allocation(1, 100), allocation(2, 20)]);
    }

    #[test]
    fn a_partial_payment_stays_on_one_installment() {
        let result = allocate_payment(&[due(1, 100, 0), due(2, 100, 0)], 1).expect("allocated");
        assert_eq!(result.allocations, [allocation(1, 1)]);
        assert_eq!(result.unapplied, 0);
    }

    #[test]
    fn an_overpayment_is_returned_unapplied_not_pulled_forward() {
        let dues = [due(1, 100, 50), due(2, 100, 0)];
        let result = allocate_payment(&dues, 500).expect("allocated");
        assert_eq!(result.allocations, [allocation(1, 50), allocation(2, 100)]);
        assert_eq!(result.unapplied, 350);
    }

    #[test]
    fn a_settled_plan_returns_the_whole_payment() {
        let result = allocate_payment(&[due(1, 100, 100)], 30).expect("allocated");
        assert_eq!(
            result,
            AllocationResult {
                allocations: vec![],
                unapplied: 30
            }
        );
        let empty = allocate_payment(&[], 30).expect("allocated");
        assert_eq!(empty.unapplied, 30);
    }

    #[test]
    fn zero_amount_installments_are_skipped() {
        let result = allocate_payment(&[due(1, 0, 0), due(2, 10, 0)], 10).expect("allocated");
        assert_eq!(result.allocations, [allocation(2, 10)]);
    }

    #[test]
    fn refuses_non_positive_payments() {
        let dues = [due(1, 100, 0)];
        assert_eq!(
            allocate_payment(&dues, 0),
            Err(AllocationError::NonPositivePayment { amount: 0 })
        );
        assert_eq!(
            allocate_payment(&dues, -5),
            Err(AllocationError::NonPositivePayment { amount: -5 })
        );
    }

    #[test]
    fn refuses_inconsistent_installments() {
        assert_eq!(
            allocate_payment(&[due(1, -1, 0)], 10),
            Err(AllocationError::NegativeDue { sequence: 1 })
        );
        assert_eq!(
            allocate_payment(&[due(1, 10, -1)], 10),
            Err(AllocationError::NegativeDue { sequence: 1 })
        );
        assert_eq!(
            allocate_payment(&[due(1, 10, 11)], 10),
            Err(AllocationError::OverpaidDue {
                sequence: 1,
                amount: 10,
                paid: 11
            })
        );
        assert_eq!(
            allocate_payment(&[due(2, 10, 0), due(1, 10, 0), due(2, 5, 0)], 10),
            Err(AllocationError::DuplicateSequence { sequence: 2 })
        );
    }

    #[test]
    fn extreme_amounts_do_not_overflow() {
        let dues = [due(1, i64::MAX, 0), due(2, i64::MAX, 0)];
        let result = allocate_payment(&dues, i64::MAX).expect("allocated");
        assert_eq!(result.allocations, [allocation(1, i64::MAX)]);
        let result = allocate_payment(&[due(1, 1, 0)], i64::MAX).expect("allocated");
        assert_eq!(result.unapplied, i64::MAX - 1);
    }

    /// Up to 24 installments with distinct sequences in shuffled order, some partly paid.
    fn dues() -> impl Strategy<Value = Vec<Due>> {
        prop::collection::vec((0i64..=1_000_000_000, 0u32..=100), 0..24)
            .prop_map(|rows| {
                rows.into_iter()
                    .zip(1u32..)
                    .map(|((amount, percent_paid), sequence)| {
                        let paid = amount * i64::from(percent_paid) / 100;
                        Due {
                            sequence,
                            amount,
                            paid,
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .prop_shuffle()
    }

    proptest! {
        #[test]
        fn never_loses_or_creates_a_minor_unit(dues in dues(), amount in 1i64..=30_000_000_000) {
            let result = allocate_payment(&dues, amount).expect("allocated");
            prop_assert_eq!(result.applied() + result.unapplied, amount);
            prop_assert!(result.unapplied >= 0);

            let outstanding = |sequence: u32| {
                dues.iter()
                    .find(|due| due.sequence == sequence)
                    .map_or(0, |due| due.amount - due.paid)
            };
            for allocation in &result.allocations {
                prop_assert!(allocation.applied > 0);
                prop_assert!(allocation.applied <= outstanding(allocation.sequence), "overpaid");
            }
            for pair in result.allocations.windows(2) {
                prop_assert!(pair[0].sequence < pair[1].sequence);
                prop_assert_eq!(pair[0].applied, outstanding(pair[0].sequence), "only the last may be partial");
            }
            // Nothing older than the last allocation is left outstanding.
            if let Some(last) = result.allocations.last() {
                let skipped = dues.iter().filter(|due| due.sequence < last.sequence)
                    .filter(|due| !result.allocations.iter().any(|a| a.sequence == due.sequence));
                for due in skipped {
                    prop_assert_eq!(due.amount, due.paid);
                }
            }
            // Money is left over only when the whole plan is paid.
            let total_outstanding: i64 = dues.iter().map(|due| due.amount - due.paid).sum();
            prop_assert_eq!(result.unapplied, (amount - total_outstanding).max(0));
        }
    }
}
