//! RecordPlanPayment: money the agent records against a plan, posted to the account once
//! whichever side reports it first (docs/payments.md).

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::super::account_view::customer_account_to_pb;
use super::super::convert::{account_payment_to_pb, plan_payment_to_pb, plan_to_pb};
use super::super::payments::{NewMoney, PlanPaymentName, allocate_to_plan, post_to_account};
use super::super::progress::{current, plan_today};
use super::super::{Core, commit, load_account, not_found, traced_id};
use crate::error::PlansError;
use crate::store;
use crate::store::accounts::PostedBy;
use crate::store::plans::{Lockable, PlanPayment};

#[tracing::instrument(skip_all, fields(plan_id = traced_id(&r.plan_id)))]
pub(super) async fn pay(
    core: &Core,
    r: pb::RecordPlanPaymentRequest,
) -> Result<pb::RecordPlanPaymentResponse, PlansError> {
    let now = core.now();
    let mut v = Validation::new();
    let plan_id = wire::id("plan_id", &r.plan_id, &mut v);
    let key = wire::required_text(
        "idempotency_key",
        &r.idempotency_key,
        wire::MAX_CODE_CHARS,
        &mut v,
    );
    let received_at = wire::past_instant("received_at", r.received_at.as_ref(), now, &mut v);
    let reference = wire::optional_text(
        "source_reference",
        &r.source_reference,
        wire::MAX_CODE_CHARS,
        &mut v,
    );
    v.clone().finish()?;
    let invalid = || PlansError::Invalid(v.clone());
    let (plan_id, key) = (plan_id.ok_or_else(invalid)?, key.ok_or_else(invalid)?);

    let (account_id, today) = plan_today(core, plan_id).await?;
    let mut tx = core.write().await?;
    // The account's lock first, as ReportPayment takes it: billing and the agent reporting
    // the same money take turns, and the money posts once (docs/payments.md).
    store::plans::lock(&mut tx, Lockable::Account, account_id).await?;
    store::plans::lock(&mut tx, Lockable::Plan, plan_id).await?;
    let different_amount = |first: i64| r.amount.as_ref().is_some_and(|m| m.minor_units != first);
    if let Some(first) = store::plans::payment_by_key(&mut tx, plan_id, &key).await? {
        // The same key again answers with the first result; nothing is posted twice.
        if different_amount(first.amount) {
            return Err(PlansError::AlreadyExists(format!(
                "idempotency key {key:?} was used for a payment of a different amount"
            )));
        }
        return answer_recorded(core, tx, first, plan_id, true).await;
    }
    let mut plan = current(core, &mut tx, plan_id, today).await?;
    let mut v = Validation::new();
    let amount = wire::positive_amount("amount", r.amount.as_ref(), plan.currency, &mut v);
    v.clone().finish()?;
    let amount = amount.ok_or(PlansError::Invalid(v))?;
    let (received_at, reference) = (
        received_at.ok_or_else(invalid)?,
        reference.ok_or_else(invalid)?,
    );

    let plan_payment_id = Id::new();
    let money_reference = if reference.is_empty() {
        super::super::payments::unmatched_reference(plan_payment_id)
    } else {
        reference.clone()
    };
    let known =
        store::accounts::payment_by_reference(&mut tx, account_id, &money_reference).await?;
    if known.as_ref().is_some_and(|entry| entry.amount != amount) {
        return Err(PlansError::AlreadyExists(format!(
            "source reference {reference:?} is a payment of a different amount on the account"
        )));
    }
    let allocated = match &known {
        Some(entry) => store::plans::payment_of_account_payment(&mut tx, entry.id).await?,
        None => None,
    };
    if let (Some(entry), Some(allocated)) = (&known, &allocated)
        && allocated.plan_id == plan_id
        && entry.plan_recorded_at.is_none()
    {
        // Billing reported it first and it paid this plan then (whatever the plan's status
        // since): the agent's record confirms it, and the agent's key finds it from now on.
        let mut entry = entry.clone();
        entry.plan_recorded_at = Some(now);
        store::accounts::save_reports(&mut tx, &entry).await?;
        store::plans::rekey_payment(&mut tx, allocated.id, &key).await?;
        return answer_recorded(core, tx, allocated.clone(), plan_id, false).await;
    }
    if !plan.is_active() {
        return Err(PlansError::FailedPrecondition(format!(
            "plan {plan_id} is {}; payments go to the account (ReportPayment)",
            plan.status.as_str_name()
        )));
    }
    if let Some(allocated) = allocated {
        // A reference names one payment: the same one recorded under another key is a
        // mistake to show, not money to swallow (a generic reference such as "card" would
        // otherwise hide next month's payment).
        return Err(if allocated.plan_id == plan_id {
            PlansError::AlreadyExists(format!(
                "source reference {reference:?} was recorded on this plan under idempotency key {:?}; \
                 a new payment needs the bank's reference for it",
                allocated.idempotency_key
            ))
        } else {
            PlansError::FailedPrecondition(format!(
                "the payment with source reference {reference:?} was allocated to plan {}",
                allocated.plan_id
            ))
        });
    }
    let mut account = load_account(&mut tx, account_id).await?;
    let entry = match known {
        // Billing reported it before the account had a plan: it moved the account then;
        // now it pays the plan, and the account does not move again.
        Some(mut entry) => {
            entry.plan_recorded_at = Some(now);
            store::accounts::save_reports(&mut tx, &entry).await?;
            entry
        }
        None => post_to_account(
            core,
            &mut tx,
            &mut account,
            NewMoney {
                id: Id::new(),
                reference: money_reference,
                amount,
                received_at,
                source_reference: reference.clone(),
                posted_by: PostedBy::Plan,
            },
            None,
        )
        .await?
        .map(|posted| posted.payment)
        .ok_or_else(|| {
            // Looked up under the account's lock above; this is a bug.
            PlansError::Corrupt(format!(
                "payment reference {reference:?} appeared under the account's lock"
            ))
        })?,
    };
    let payment = allocate_to_plan(
        core,
        &mut tx,
        &mut plan,
        &entry,
        PlanPaymentName {
            id: plan_payment_id,
            idempotency_key: key,
            source_reference: reference,
        },
        today,
    )
    .await?;
    super::super::standing::refresh(core, &mut tx, plan.customer_id).await?;
    answer_recorded(core, tx, payment, plan_id, false).await
}

/// Answers RecordPlanPayment with the plan payment, the plan, the account's entry for the
/// money and the account, all as they are now.
async fn answer_recorded(
    core: &Core,
    mut tx: rapport_storage::WriteTransaction,
    payment: PlanPayment,
    plan_id: Id,
    replayed: bool,
) -> Result<pb::RecordPlanPaymentResponse, PlansError> {
    let plan = store::plans::get(&mut tx, plan_id)
        .await?
        .ok_or_else(|| not_found("plan", plan_id))?;
    let entry = match payment.account_payment_id {
        Some(id) => store::accounts::payment(&mut tx, id).await?,
        None => None,
    };
    let account = load_account(&mut tx, plan.account_id).await?;
    commit(tx).await?;
    let reconciled = entry
        .as_ref()
        .is_some_and(|e| e.posted_by == PostedBy::Billing);
    Ok(pb::RecordPlanPaymentResponse {
        payment: Some(plan_payment_to_pb(&payment, plan.currency)),
        plan: Some(plan_to_pb(&plan)),
        replayed,
        account_payment: entry
            .as_ref()
            .map(|e| account_payment_to_pb(e, Some(payment.id), plan.currency)),
        account: Some(customer_account_to_pb(core, &account).await?),
        reconciled,
    })
}
