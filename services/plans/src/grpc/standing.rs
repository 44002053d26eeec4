//! Keeps each customer's good standing (`domain::standing`) published: evaluated in the
//! transaction of every change it depends on (arrears reported, a payment, a plan accepted, paid,
//! broken, completed or cancelled) and whenever plans lists the customer's plans, so a plan that
//! broke or stopped counting with time is published when first seen (a list asks
//! [`would_change`] on a reader first, and takes the writer only when it would). No scheduled job
//! is needed for the time-bound part: the event says when each reason lapses by itself, and
//! consumers read it at the time they need it.

use rapport_ids::Id;
use rapport_proto::plans::v1::PlanStatus;

use super::Core;
use crate::domain::events::PlansEvent;
use crate::domain::standing::{self, AccountPosition, BrokenPlan, Standing, StandingFacts};
use crate::error::PlansError;
use crate::store::standing::Recorded;
use crate::store::{self, Conn};

/// Evaluates the customer's standing now and, if the verdict or the reasons it rests on changed
/// since plans last published it, records it and appends `plans.standing_changed.v1` to the
/// outbox, in the caller's transaction.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub(crate) async fn refresh(
    core: &Core,
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Standing, PlansError> {
    let now = core.now();
    let previous = store::standing::lock(conn, customer_id, now).await?;
    let standing = evaluate(core, conn, customer_id, now).await?;
    let basis = standing.basis();
    if basis == previous.basis {
        return Ok(standing);
    }
    let since = if standing.in_good_standing == previous.in_good_standing {
        // Still out of good standing, for other reasons: since when it was lost.
        previous.since.unwrap_or(now)
    } else if standing.in_good_standing {
        standing::regained_at(previous.lapses_at, now)
    } else {
        now
    };
    let recorded = Recorded {
        in_good_standing: standing.in_good_standing,
        basis,
        since: Some(since),
        lapses_at: standing.lapses_at(),
    };
    store::standing::save(conn, customer_id, &recorded, now).await?;
    rapport_outbox::append(
        conn,
        &PlansEvent::StandingChanged {
            customer_id,
            standing: standing.clone(),
            since,
        },
        now,
    )
    .await?;
    Ok(standing)
}

/// Whether [`refresh`] would write anything now, read without the writer (a reader may ask):
/// when the verdict's basis moved since it was published, or when the customer has no standing
/// row yet (refresh creates it).
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub(crate) async fn would_change(
    core: &Core,
    conn: &mut Conn,
    customer_id: Id,
) -> Result<bool, PlansError> {
    let now = core.now();
    let Some(previous) = store::standing::recorded(conn, customer_id).await? else {
        return Ok(true);
    };
    let standing = evaluate(core, conn, customer_id, now).await?;
    Ok(standing.basis() != previous.basis)
}

/// The customer's standing at `now`, from what is stored.
async fn evaluate(
    core: &Core,
    conn: &mut Conn,
    customer_id: Id,
    now: jiff::Timestamp,
) -> Result<Standing, PlansError> {
    // Plans as their last look left them: each reader and writer of a plan brings it up to the
    // customer's today first (`progress::bring_up_to_date`) and re-evaluates standing when it
    // changed, so a plan broken by misses counts from the moment plans sees it break.
    let plans = store::standing::plan_positions(conn, customer_id).await?;
    let accounts = store::standing::accounts_behind(conn, customer_id).await?;
    let facts = StandingFacts {
        accounts: accounts
            .into_iter()
            .map(|(account_id, days_past_due)| AccountPosition {
                account_id,
                days_past_due,
                kept_plan: plans
                    .iter()
                    .find(|p| p.account_id == account_id && p.status == PlanStatus::Active)
                    .map(|p| p.plan_id),
            })
            .collect(),
        broken_plans: plans
            .iter()
            .filter(|p| p.status == PlanStatus::Broken)
            .map(|p| BrokenPlan {
                plan_id: p.plan_id,
                broken_at: p.ended_at.unwrap_or(p.accepted_at),
            })
            .collect(),
    };
    Ok(standing::evaluate(&facts, &core.rules.standing(), now))
}
