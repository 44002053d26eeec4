//! One account of the money (docs/payments.md). Money received on an account is one row of its
//! ledger (`payments`), found by the reference both sides know it by: billing's idempotency key
//! (ReportPayment), which is the agent's source reference (RecordPlanPayment). The first report
//! moves the account — balance, arrears, stage, last payment — and, when the account has an
//! active plan, allocates the money to its installments; a report of the same money from the
//! other side finds the row and moves nothing. Both handlers hold the account's lock, so the two
//! sides (and their retries) take turns and the money posts once.

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_outbox::OutboxRow;
use rapport_storage::health::CommitRow;

use super::Core;
use crate::domain::account::Account;
use crate::domain::events::PlansEvent;
use crate::domain::plan::{Plan, PlannedInstallment};
use crate::error::PlansError;
use crate::store::accounts::{AccountPayment, PostedBy, Surroundings};
use crate::store::plans::{AppliedPart, PlanPayment};
use crate::store::{self, Conn};

/// The reference of a plan payment recorded without a source reference: nothing billing sends
/// can match it.
pub(super) fn unmatched_reference(plan_payment_id: Id) -> String {
    format!("plan-payment:{plan_payment_id}")
}

/// Money reported for the first time, by either side.
pub(super) struct NewMoney {
    pub id: Id,
    pub reference: String,
    pub amount: i64,
    pub received_at: Timestamp,
    pub source_reference: String,
    pub posted_by: PostedBy,
}

/// Money posted, and what surrounds the account as it was read with it.
pub(super) struct Posted {
    pub payment: AccountPayment,
    pub around: Surroundings,
}

/// Posts new money to the account: the one movement of its balance, arrears, stage and last
/// payment, the ledger row that claims the reference, and `plans.payment_reported.v1`; and reads
/// what surrounds the account (`store::accounts::post_payment`). `None` (nothing written) when
/// the reference is on the account already: the ledger's unique key answers, so no read of it
/// comes first.
///
/// `commit_row`: the call's audit row, taken from the transaction to be written by the
/// posting's own statement (one round trip less on PostgreSQL), or `None`.
pub(super) async fn post_to_account(
    core: &Core,
    conn: &mut Conn,
    account: &mut Account,
    money: NewMoney,
    commit_row: Option<CommitRow>,
) -> Result<Option<Posted>, PlansError> {
    let now = core.now();
    let mut moved = account.clone();
    let movement = moved.apply_payment(money.amount, money.received_at);
    moved.updated_at = now;
    let payment = AccountPayment {
        id: money.id,
        account_id: account.id,
        reference: money.reference,
        amount: money.amount,
        received_at: money.received_at,
        source_reference: money.source_reference,
        recorded_at: now,
        posted_by: money.posted_by,
        billing_reported_at: (money.posted_by == PostedBy::Billing).then_some(now),
        plan_recorded_at: (money.posted_by == PostedBy::Plan).then_some(now),
        movement: Some(movement),
    };
    let event = OutboxRow::new(
        &PlansEvent::PaymentReported {
            customer_id: moved.customer_id,
            account_id: moved.id,
            amount: payment.amount,
            currency: moved.currency.code(),
        },
        now,
    );
    let Some(around) =
        store::accounts::post_payment(conn, &payment, &moved, event, commit_row).await?
    else {
        return Ok(None);
    };
    *account = moved;
    Ok(Some(Posted { payment, around }))
}

/// How a new allocation to a plan is known.
pub(super) struct PlanPaymentName {
    pub id: Id,
    /// Unique per plan: the agent's idempotency key, or for billing's report a key of its own
    /// until an agent records the money (`store::plans::rekey_payment`).
    pub idempotency_key: String,
    pub source_reference: String,
}

/// Allocates the money of the account's entry `entry` to the plan's installments, oldest due
/// first (`Plan::apply_payment`), records the allocation and publishes what changed on the plan.
/// The plan must be active and brought up to `today`.
pub(super) async fn allocate_to_plan(
    core: &Core,
    conn: &mut Conn,
    plan: &mut Plan,
    entry: &AccountPayment,
    name: PlanPaymentName,
    today: Date,
) -> Result<PlanPayment, PlansError> {
    let now = core.now();
    let before = plan.clone();
    let (allocation, changes) = plan
        .apply_payment(entry.amount, today, now, core.rules.misses_before_broken)
        .map_err(|e| PlansError::Corrupt(format!("allocation: {e}")))?;
    let payment = PlanPayment {
        id: name.id,
        plan_id: plan.id,
        idempotency_key: name.idempotency_key,
        amount: entry.amount,
        overpayment: allocation.unapplied,
        allocations: allocation
            .allocations
            .iter()
            .map(|a| AppliedPart {
                sequence: a.sequence,
                applied: a.applied,
                remaining: plan
                    .installments
                    .iter()
                    .find(|i| i.sequence == a.sequence)
                    .map_or(0, PlannedInstallment::outstanding),
            })
            .collect(),
        received_at: entry.received_at,
        source_reference: name.source_reference,
        recorded_at: now,
        account_payment_id: Some(entry.id),
    };
    if !store::plans::insert_payment(conn, &payment).await? {
        return Err(PlansError::FailedPrecondition(
            "the idempotency key was taken concurrently; retry".into(),
        ));
    }
    store::plans::save_changes(conn, &before, plan).await?;
    super::progress::publish(conn, plan, &changes, now).await?;
    Ok(payment)
}
