//! GetPlan and ListPlans: plans as they are today on the customer's calendar.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::super::convert::plan_to_pb;
use super::super::progress::{current, plan_today, review_changes_nothing};
use super::super::{Core, commit, ensure_named_exist, not_found, standing, traced_id};
use crate::domain::plan::Plan;
use crate::error::PlansError;
use crate::store;

#[tracing::instrument(skip_all, fields(plan_id = traced_id(&r.plan_id)))]
pub(super) async fn get(
    core: &Core,
    r: pb::GetPlanRequest,
) -> Result<pb::GetPlanResponse, PlansError> {
    let mut v = Validation::new();
    let plan_id = wire::id("plan_id", &r.plan_id, &mut v);
    v.clone().finish()?;
    let plan_id = plan_id.ok_or(PlansError::Invalid(v))?;
    let (_, today) = plan_today(core, plan_id).await?;
    // Most looks change nothing, so they do not queue behind the one writer (DESIGN.md,
    // Storage): the plan is reviewed as read, and the writer taken only when the review has
    // something to save.
    {
        let mut read = core.read_together().await?;
        let mut plan = store::plans::get(&mut read, plan_id)
            .await?
            .ok_or_else(|| not_found("plan", plan_id))?;
        if review_changes_nothing(core, &mut plan, today) {
            return Ok(pb::GetPlanResponse {
                plan: Some(plan_to_pb(&plan)),
            });
        }
    }
    let mut tx = core.write().await?;
    let plan = current(core, &mut tx, plan_id, today).await?;
    commit(tx).await?;
    Ok(pb::GetPlanResponse {
        plan: Some(plan_to_pb(&plan)),
    })
}

#[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id), customer_id = traced_id(&r.customer_id)))]
pub(super) async fn list(
    core: &Core,
    r: pb::ListPlansRequest,
) -> Result<pb::ListPlansResponse, PlansError> {
    let mut v = Validation::new();
    let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
    let account_id = if r.account_id.is_empty() {
        None
    } else {
        wire::id("account_id", &r.account_id, &mut v)
    };
    let customer_id = if r.customer_id.is_empty() {
        None
    } else {
        wire::id("customer_id", &r.customer_id, &mut v)
    };
    if r.account_id.is_empty() && r.customer_id.is_empty() {
        v.add("account_id", "give account_id or customer_id");
    }
    let mut statuses = Vec::new();
    for (i, s) in r.statuses.iter().enumerate() {
        match pb::PlanStatus::try_from(*s) {
            Ok(pb::PlanStatus::Unspecified) | Err(_) => {
                v.add(format!("statuses[{i}]"), "is not a plan status")
            }
            Ok(status) => statuses.push(status),
        }
    }
    let after: Option<(i64, Id)> = page.after_pair(&mut v);
    v.finish()?;

    let first_page = after.is_none();
    // The listed plans are one customer's (the account's, or the one named): reviewed on
    // that customer's calendar. Profiles is asked only when there is a plan to review.
    let (customer_id, owner) = {
        let mut conn = core.read().await?;
        let customer_id = match customer_id {
            Some(c) => Some(store::merges::survivor(&mut conn, c).await?),
            None => None,
        };
        let owner = store::plans::list(&mut conn, account_id, customer_id, after, 1)
            .await?
            .first()
            .map(|p| p.customer_id);
        (customer_id, owner)
    };
    let today = match owner {
        Some(customer_id) => core.customer_today(customer_id).await?,
        None => core.today(),
    };
    if let Some(listed) =
        listed_unchanged(core, account_id, customer_id, after, &page, today).await?
    {
        let none_at_all = listed.is_empty() && first_page;
        if none_at_all {
            ensure_named_exist(core, account_id, customer_id).await?;
        }
        let plans = listed
            .into_iter()
            .filter(|p| statuses.is_empty() || statuses.contains(&p.status))
            .collect();
        return Ok(answer_page(&page, plans));
    }

    let mut tx = core.write().await?;
    let mut plans = Vec::new();
    let listed =
        store::plans::list(&mut tx, account_id, customer_id, after, page.fetch_limit()).await?;
    let none_at_all = listed.is_empty() && first_page;
    for plan in listed {
        let plan = current(core, &mut tx, plan.id, today).await?;
        if statuses.is_empty() || statuses.contains(&plan.status) {
            plans.push(plan);
        }
    }
    if let Some(customer_id) = customer_id
        && !none_at_all
    {
        // Looking at a customer's plans re-evaluates their standing: a broken plan that
        // stopped counting with time is published when first seen.
        standing::refresh(core, &mut tx, customer_id).await?;
    }
    commit(tx).await?;
    if none_at_all {
        ensure_named_exist(core, account_id, customer_id).await?;
    }
    Ok(answer_page(&page, plans))
}

/// The page of plans as read without the writer and reviewed in memory, when looking at them
/// changes nothing: no plan's review has anything to save and, for a customer's plans, their
/// standing would not move. `None` when something would: then the write path looks.
async fn listed_unchanged(
    core: &Core,
    account_id: Option<Id>,
    customer_id: Option<Id>,
    after: Option<(i64, Id)>,
    page: &rapport_paging::Page,
    today: jiff::civil::Date,
) -> Result<Option<Vec<Plan>>, PlansError> {
    let mut read = core.read_together().await?;
    let mut listed = store::plans::list(
        &mut read,
        account_id,
        customer_id,
        after,
        page.fetch_limit(),
    )
    .await?;
    for plan in &mut listed {
        if !review_changes_nothing(core, plan, today) {
            return Ok(None);
        }
    }
    let none_at_all = listed.is_empty() && after.is_none();
    if let Some(customer_id) = customer_id
        && !none_at_all
        && standing::would_change(core, &mut read, customer_id).await?
    {
        return Ok(None);
    }
    Ok(Some(listed))
}

fn answer_page(page: &rapport_paging::Page, plans: Vec<Plan>) -> pb::ListPlansResponse {
    let (plans, page) = page.finish(plans, |p| {
        vec![
            rapport_clock::to_unix_micros(p.accepted_at).to_string(),
            p.id.to_string(),
        ]
    });
    pb::ListPlansResponse {
        plans: plans.iter().map(plan_to_pb).collect(),
        page,
    }
}
