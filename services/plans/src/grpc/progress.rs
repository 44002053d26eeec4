//! A plan's progress: brought up to the customer's today (misses judged, completed or broken as
//! its rules say), what changed saved and published. Shared by the plan, account and payment
//! handlers.

use jiff::Timestamp;
use rapport_ids::Id;

use super::{Core, load_account, not_found};
use crate::domain::events::PlansEvent;
use crate::domain::plan::{Plan, PlanChange};
use crate::error::PlansError;
use crate::store::{self, Conn};

/// Loads a plan and brings it up to `today` (the customer's date), saving and publishing
/// what changed.
pub(super) async fn current(
    core: &Core,
    conn: &mut Conn,
    plan_id: Id,
    today: jiff::civil::Date,
) -> Result<Plan, PlansError> {
    let mut plan = store::plans::get(conn, plan_id)
        .await?
        .ok_or_else(|| not_found("plan", plan_id))?;
    bring_up_to_date(core, conn, &mut plan, today).await?;
    Ok(plan)
}

/// The plan's account and customer, and today on the customer's calendar; read before any
/// lock is taken.
pub(super) async fn plan_today(
    core: &Core,
    plan_id: Id,
) -> Result<(Id, jiff::civil::Date), PlansError> {
    let (account_id, customer_id) = {
        let mut conn = core.read().await?;
        store::plans::owners(&mut conn, plan_id)
            .await?
            .ok_or_else(|| not_found("plan", plan_id))?
    };
    Ok((account_id, core.customer_today(customer_id).await?))
}

/// Brings a plan up to `today` (the customer's date): misses judged, a plan completed or broken
/// as its rules say; what changed is saved and published, and the customer's standing follows.
pub(super) async fn bring_up_to_date(
    core: &Core,
    conn: &mut Conn,
    plan: &mut Plan,
    today: jiff::civil::Date,
) -> Result<(), PlansError> {
    let before = plan.clone();
    let changes = plan.review(today, core.now(), core.rules.misses_before_broken);
    if !changes.is_empty() {
        store::plans::save_changes(conn, &before, plan).await?;
        publish(conn, plan, &changes, core.now()).await?;
        super::standing::refresh(core, conn, plan.customer_id).await?;
    }
    Ok(())
}

/// Brings a plan read without the writer up to `today` in memory, by the same review
/// [`bring_up_to_date`] runs. `true` when the review has nothing to save or publish: the plan as it
/// now stands is what the write path would answer, and the writer is not needed.
pub(super) fn review_changes_nothing(
    core: &Core,
    plan: &mut Plan,
    today: jiff::civil::Date,
) -> bool {
    plan.review(today, core.now(), core.rules.misses_before_broken)
        .is_empty()
}

/// Today on the calendar of the account's customer; read before any lock is taken.
pub(super) async fn account_today(
    core: &Core,
    account_id: Id,
) -> Result<jiff::civil::Date, PlansError> {
    let customer_id = {
        let mut conn = core.read().await?;
        load_account(&mut conn, account_id).await?.customer_id
    };
    core.customer_today(customer_id).await
}

pub(super) async fn publish(
    conn: &mut Conn,
    plan: &Plan,
    changes: &[PlanChange],
    now: Timestamp,
) -> Result<(), PlansError> {
    for change in changes {
        let event = match *change {
            PlanChange::InstallmentPaid { sequence } => PlansEvent::InstallmentPaid {
                customer_id: plan.customer_id,
                plan_id: plan.id,
                sequence,
            },
            PlanChange::InstallmentMissed {
                sequence,
                consecutive,
            } => PlansEvent::InstallmentMissed {
                customer_id: plan.customer_id,
                plan_id: plan.id,
                sequence,
                consecutive,
            },
            PlanChange::Completed => PlansEvent::PlanCompleted {
                customer_id: plan.customer_id,
                plan_id: plan.id,
            },
            PlanChange::Broken => PlansEvent::PlanBroken {
                customer_id: plan.customer_id,
                plan_id: plan.id,
            },
        };
        rapport_outbox::append(conn, &event, now).await?;
    }
    Ok(())
}
