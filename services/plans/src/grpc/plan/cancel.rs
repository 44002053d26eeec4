//! CancelPlan: an active plan ends at the agent's word, with the reason.

use rapport_errors::Validation;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::super::convert::plan_to_pb;
use super::super::progress::{current, plan_today};
use super::super::{Core, commit, traced_id};
use crate::domain::events::PlansEvent;
use crate::error::PlansError;
use crate::store;
use crate::store::plans::Lockable;

#[tracing::instrument(skip_all, fields(plan_id = traced_id(&r.plan_id)))]
pub(super) async fn cancel(
    core: &Core,
    r: pb::CancelPlanRequest,
) -> Result<pb::CancelPlanResponse, PlansError> {
    let now = core.now();
    let mut v = Validation::new();
    let plan_id = wire::id("plan_id", &r.plan_id, &mut v);
    let reason = wire::required_text("reason", &r.reason, wire::MAX_TEXT_CHARS, &mut v);
    wire::actor("cancelled_by", r.cancelled_by.as_ref(), &mut v);
    v.clone().finish()?;
    let invalid = || PlansError::Invalid(v.clone());
    let plan_id = plan_id.ok_or_else(invalid)?;
    let (_, today) = plan_today(core, plan_id).await?;
    let mut tx = core.write().await?;
    store::plans::lock(&mut tx, Lockable::Plan, plan_id).await?;
    let mut plan = current(core, &mut tx, plan_id, today).await?;
    if plan.status == pb::PlanStatus::Cancelled {
        commit(tx).await?;
        return Ok(pb::CancelPlanResponse {
            plan: Some(plan_to_pb(&plan)),
        });
    }
    if !plan.is_active() {
        return Err(PlansError::FailedPrecondition(format!(
            "plan {plan_id} is already {}",
            plan.status.as_str_name()
        )));
    }
    plan.status = pb::PlanStatus::Cancelled;
    plan.ended_at = Some(now);
    plan.end_reason = reason.ok_or_else(invalid)?;
    store::plans::save_progress(&mut tx, &plan).await?;
    rapport_outbox::append(
        &mut tx,
        &PlansEvent::PlanCancelled {
            customer_id: plan.customer_id,
            plan_id,
        },
        now,
    )
    .await?;
    super::super::standing::refresh(core, &mut tx, plan.customer_id).await?;
    commit(tx).await?;
    Ok(pb::CancelPlanResponse {
        plan: Some(plan_to_pb(&plan)),
    })
}
