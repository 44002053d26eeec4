//! An account as callers see it: its figures, stage, protections in force, open case and active
//! plan. Shared by the account and plan handlers.

use rapport_ids::Id;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::Core;
use super::convert::protection_to_pb;
use crate::domain::account::Account;
use crate::domain::plan::PlanTerms;
use crate::domain::protection::Protection;
use crate::domain::stages::delinquency_stage;
use crate::error::PlansError;
use crate::store::{self, Conn};

/// The account as callers see it now, its next due date on the customer's calendar. Call it
/// after the write transaction: it may ask profiles.
pub(crate) async fn customer_account_to_pb(
    core: &Core,
    account: &Account,
) -> Result<pb::Account, PlansError> {
    let today = core.customer_today(account.customer_id).await?;
    let mut conn = core.read().await?;
    account_to_pb(core, &mut conn, account, today).await
}

/// The account as callers see it, what surrounds it read on `conn`.
pub(crate) async fn account_to_pb(
    core: &Core,
    conn: &mut Conn,
    a: &Account,
    today: jiff::civil::Date,
) -> Result<pb::Account, PlansError> {
    let surroundings = Surroundings {
        protections: store::protections::for_customer(conn, a.customer_id).await?,
        open_case: store::cases::open_for_account(conn, a.id).await?,
        active_plan: store::plans::active_terms_for_account(conn, a.id).await?,
    };
    Ok(account_in_surroundings_to_pb(core, a, today, &surroundings))
}

/// What the account's answer shows besides its own row.
#[derive(Debug, Clone, Default)]
pub(crate) struct Surroundings {
    /// The customer's protections, in force or not: the answer shows those in force covering
    /// the account.
    pub protections: Vec<Protection>,
    pub open_case: Option<Id>,
    pub active_plan: Option<PlanTerms>,
}

/// The account as callers see it, for a caller that has read (or just written) what surrounds
/// it in its own transaction: nothing is read.
pub(crate) fn account_in_surroundings_to_pb(
    core: &Core,
    a: &Account,
    today: jiff::civil::Date,
    surroundings: &Surroundings,
) -> pb::Account {
    let c = a.currency;
    let now = core.now();
    let protections: Vec<_> = surroundings
        .protections
        .iter()
        .filter(|p| p.in_force(now) && p.covers(a.id))
        .collect();
    let effects: Vec<pb::ProtectionEffect> = protections.iter().flat_map(|p| p.effects()).collect();
    let (open_case, active_plan) = (surroundings.open_case, surroundings.active_plan);
    pb::Account {
        account_id: a.id.to_string(),
        customer_id: a.customer_id.to_string(),
        source_system: a.source_system.clone(),
        external_account_id: a.external_account_id.clone(),
        kind: a.kind as i32,
        currency_code: c.code().to_owned(),
        balance: Some(wire::money_to_pb(c, a.balance)),
        contractual_payment: Some(wire::money_to_pb(c, a.contractual_payment)),
        annual_rate: a.rate.to_string(),
        due_day: i32::from(a.due_day),
        remaining_term_months: i32::try_from(a.remaining_term_months).unwrap_or(i32::MAX),
        jurisdiction: a.jurisdiction.clone(),
        days_past_due: i32::try_from(a.days_past_due).unwrap_or(i32::MAX),
        arrears_amount: Some(wire::money_to_pb(c, a.arrears)),
        stage: delinquency_stage(a.days_past_due, core.rules.delinquency_days) as i32,
        next_due_date: Some(wire::date_to_pb(a.next_due_date(today))),
        last_payment_at: a.last_payment.map(|(at, _)| wire::timestamp_to_pb(at)),
        last_payment_amount: a
            .last_payment
            .map(|(_, amount)| wire::money_to_pb(c, amount)),
        active_protections: protections
            .iter()
            .map(|p| protection_to_pb(p, now))
            .collect(),
        // "protection or plan" (plans_types.proto)
        interest_frozen: effects.contains(&pb::ProtectionEffect::FreezeInterest)
            || active_plan.is_some_and(|plan| plan.freezes_interest),
        fees_frozen: effects.contains(&pb::ProtectionEffect::FreezeFees)
            || active_plan.is_some_and(|plan| plan.freezes_fees),
        payment_demands_blocked: effects.contains(&pb::ProtectionEffect::StopPaymentDemands),
        active_plan_id: active_plan
            .map(|plan| plan.id.to_string())
            .unwrap_or_default(),
        open_hardship_case_id: open_case.map(|id| id.to_string()).unwrap_or_default(),
        created_at: Some(wire::timestamp_to_pb(a.created_at)),
        updated_at: Some(wire::timestamp_to_pb(a.updated_at)),
    }
}
