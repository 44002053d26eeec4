//! Wire conversions the handlers share: domain values into the prost messages of
//! `rapport.plans.v1` and `rapport.common.v1`. A conversion only one handler needs stays beside it.

use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use crate::domain::affordability::{Assessment, FlexibleCostCategory};
use crate::domain::protection::Protection;
use crate::store::accounts::{AccountPayment, PostedBy};
use crate::store::plans::PlanPayment;

pub(super) fn affordability_to_pb(
    case_id: Id,
    c: Currency,
    a: &Assessment,
    computed_at: jiff::Timestamp,
) -> pb::Affordability {
    let m = |v: i64| Some(wire::money_to_pb(c, v));
    pb::Affordability {
        case_id: case_id.to_string(),
        total_income: m(a.total_income),
        total_fixed_costs: m(a.total_fixed),
        total_flexible_costs: m(a.total_flexible),
        savings_allowance: m(a.savings_allowance),
        disposable_income: m(a.disposable_income),
        flagged_costs: a
            .flagged
            .iter()
            .map(|f| pb::FlaggedCost {
                category: flexible_category_to_pb(f.category) as i32,
                declared: m(f.declared),
                trigger_figure: m(f.trigger_figure),
                excess: m(f.excess),
                reason: Some(wire::reason_to_pb(&f.explanation)),
            })
            .collect(),
        reasons: a.reasons.iter().map(wire::reason_to_pb).collect(),
        trigger_figures_version: a.figures_version.clone(),
        computed_at: Some(wire::timestamp_to_pb(computed_at)),
    }
}

fn flexible_category_to_pb(c: FlexibleCostCategory) -> pb::FlexibleCostCategory {
    match c {
        FlexibleCostCategory::CommunicationsAndLeisure => {
            pb::FlexibleCostCategory::CommunicationsAndLeisure
        }
        FlexibleCostCategory::FoodAndHousekeeping => pb::FlexibleCostCategory::FoodAndHousekeeping,
        FlexibleCostCategory::Personal => pb::FlexibleCostCategory::Personal,
    }
}

pub(super) fn protection_to_pb(p: &Protection, now: jiff::Timestamp) -> pb::Protection {
    pb::Protection {
        protection_id: p.id.to_string(),
        customer_id: p.customer_id.to_string(),
        account_ids: p.account_ids.iter().map(ToString::to_string).collect(),
        kind: p.kind as i32,
        status: p.status(now) as i32,
        starts_at: Some(wire::timestamp_to_pb(p.starts_at)),
        ends_at: p.ends_at.map(wire::timestamp_to_pb),
        effects: p.effects().into_iter().map(|e| e as i32).collect(),
        reference: p.reference.clone(),
        reason: p.reason.clone(),
        case_id: p.case_id.clone(),
        set_by: Some(wire::actor_to_pb(&p.set_by)),
        cleared_at: p.cleared.as_ref().map(|c| wire::timestamp_to_pb(c.at)),
        cleared_by: p.cleared.as_ref().map(|c| wire::actor_to_pb(&c.by)),
        clear_reason: p
            .cleared
            .as_ref()
            .map(|c| c.reason.clone())
            .unwrap_or_default(),
        reasons: Vec::new(),
    }
}

pub(super) fn plan_payment_to_pb(p: &PlanPayment, c: Currency) -> pb::PlanPayment {
    pb::PlanPayment {
        payment_id: p.id.to_string(),
        plan_id: p.plan_id.to_string(),
        amount: Some(wire::money_to_pb(c, p.amount)),
        received_at: Some(wire::timestamp_to_pb(p.received_at)),
        allocations: p
            .allocations
            .iter()
            .map(|a| pb::InstallmentAllocation {
                installment_sequence: i32::try_from(a.sequence).unwrap_or(i32::MAX),
                amount: Some(wire::money_to_pb(c, a.applied)),
                installment_remaining: Some(wire::money_to_pb(c, a.remaining)),
            })
            .collect(),
        overpayment: Some(wire::money_to_pb(c, p.overpayment)),
        source_reference: p.source_reference.clone(),
        recorded_at: Some(wire::timestamp_to_pb(p.recorded_at)),
        account_payment_id: p
            .account_payment_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
    }
}

/// The account's entry for the money as callers see it.
pub(super) fn account_payment_to_pb(
    p: &AccountPayment,
    plan_payment_id: Option<Id>,
    c: Currency,
) -> pb::Payment {
    pb::Payment {
        payment_id: p.id.to_string(),
        account_id: p.account_id.to_string(),
        amount: Some(wire::money_to_pb(c, p.amount)),
        received_at: Some(wire::timestamp_to_pb(p.received_at)),
        source_reference: p.source_reference.clone(),
        recorded_at: Some(wire::timestamp_to_pb(p.recorded_at)),
        reference: p.reference.clone(),
        posted_by: match p.posted_by {
            PostedBy::Billing => pb::PaymentSource::Billing,
            PostedBy::Plan => pb::PaymentSource::PlanPayment,
        } as i32,
        applied_to_balance: p.movement.map(|m| wire::money_to_pb(c, m.to_balance)),
        applied_to_arrears: p.movement.map(|m| wire::money_to_pb(c, m.to_arrears)),
        billing_reported_at: p.billing_reported_at.map(wire::timestamp_to_pb),
        plan_recorded_at: p.plan_recorded_at.map(wire::timestamp_to_pb),
        plan_payment_id: plan_payment_id.map(|id| id.to_string()).unwrap_or_default(),
    }
}
