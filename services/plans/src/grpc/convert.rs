//! Wire conversions: domain values into the prost messages of `rapport.plans.v1` and
//! `rapport.common.v1` that several handlers share, and the statement a customer submits into the
//! domain's (long enough to hide its handler). A small conversion only one handler needs stays
//! beside it.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use crate::domain::affordability::{
    Assessment, Explanation, FixedCost, FixedCostCategory, FlexibleCost, FlexibleCostCategory,
    Household, IncomeCategory, IncomeLine, ReasonEffect, Statement,
};
use crate::domain::case::{HardshipCase, Referral};
use crate::domain::plan::Plan;
use crate::domain::protection::Protection;
use crate::rules::Rules;
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

pub(super) fn flexible_category_to_pb(c: FlexibleCostCategory) -> pb::FlexibleCostCategory {
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

/// The case as it is opened: without its statement and referrals (see `case_detail`).
pub(super) fn case_to_pb(c: &HardshipCase) -> pb::HardshipCase {
    pb::HardshipCase {
        case_id: c.id.to_string(),
        customer_id: c.customer_id.to_string(),
        account_ids: c.account_ids.iter().map(ToString::to_string).collect(),
        reason: c.reason as i32,
        reason_detail: c.reason_detail.clone(),
        opened_by: Some(wire::actor_to_pb(&c.opened_by)),
        status: if c.open {
            pb::HardshipCaseStatus::Open
        } else {
            pb::HardshipCaseStatus::Closed
        } as i32,
        opened_at: Some(wire::timestamp_to_pb(c.opened_at)),
        closed_at: c.closed_at.map(wire::timestamp_to_pb),
        ..pb::HardshipCase::default()
    }
}

pub(super) fn referral_to_pb(r: &Referral, rules: &Rules) -> pb::DebtAdviceReferral {
    pb::DebtAdviceReferral {
        referral_id: r.id.to_string(),
        case_id: r.case_id.to_string(),
        service: rules
            .debt_advice
            .iter()
            .find(|s| s.service_id == r.service_id)
            .map(|s| pb::DebtAdviceService {
                service_id: s.service_id.clone(),
                name: s.name.clone(),
                phone: s.phone.clone(),
                website: s.website.clone(),
                jurisdiction: s.jurisdiction.clone(),
                description: s.description.clone(),
            }),
        referred_by: Some(wire::actor_to_pb(&r.referred_by)),
        customer_consented: r.customer_consented,
        referred_at: Some(wire::timestamp_to_pb(r.referred_at)),
        notes: r.notes.clone(),
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

pub(super) fn plan_to_pb(p: &Plan) -> pb::Plan {
    let c = p.currency;
    let m = |v: i64| Some(wire::money_to_pb(c, v));
    pb::Plan {
        plan_id: p.id.to_string(),
        account_id: p.account_id.to_string(),
        customer_id: p.customer_id.to_string(),
        case_id: p.case_id.clone(),
        kind: p.kind as i32,
        status: p.status as i32,
        schedule: p
            .installments
            .iter()
            .map(|i| pb::Installment {
                sequence: i32::try_from(i.sequence).unwrap_or(i32::MAX),
                due_date: Some(wire::date_to_pb(i.due_date)),
                amount: m(i.amount),
                principal: m(i.principal),
                interest: m(i.interest),
                fees: m(0),
                closing_balance: m(i.closing_balance),
                paid: m(i.paid),
                status: i.status as i32,
                // Every row takes its principal off what it opened with.
                opening_balance: m(i.closing_balance.saturating_add(i.principal)),
            })
            .collect(),
        monthly_amount: m(p.monthly),
        total_payable: m(p.total_payable),
        paid_to_date: m(p.paid_to_date()),
        remaining: m(p.remaining()),
        interest_waived: m(p.interest_waived),
        fees_waived: m(p.fees_waived),
        annual_rate: p.rate.to_string(),
        payday: i32::from(p.payday),
        review_date: p.review_date.map(wire::date_to_pb),
        consecutive_missed: i32::try_from(p.consecutive_missed).unwrap_or(i32::MAX),
        replan_offered: p.replan_offered_at.is_some(),
        accepted_by: Some(wire::actor_to_pb(&p.accepted_by)),
        agreement: Some(pb::CustomerAgreement {
            method: p.agreement.method as i32,
            evidence_ref: p.agreement.evidence_ref.clone(),
            agreed_at: Some(wire::timestamp_to_pb(p.agreement.agreed_at)),
        }),
        accepted_at: Some(wire::timestamp_to_pb(p.accepted_at)),
        ended_at: p.ended_at.map(wire::timestamp_to_pb),
        end_reasons: if p.end_reason.is_empty() {
            Vec::new()
        } else {
            vec![wire::reason_to_pb(&Explanation::new(
                format!(
                    "PLAN_{}",
                    p.status.as_str_name().trim_start_matches("PLAN_STATUS_")
                ),
                ReasonEffect::Neutral,
                if p.status == pb::PlanStatus::Broken {
                    "DESIGN.md: broken only after N consecutive misses and a re-plan offer"
                } else {
                    ""
                },
                p.end_reason.clone(),
            ))]
        },
        previous_plan_id: p.previous_plan_id.clone(),
        summary: p.summary.clone(),
    }
}

/// An income & expenditure statement from the wire, in the currency of the accounts it covers;
/// every bad line is a field violation.
pub(super) fn statement_from_pb(
    s: Option<&pb::IncomeExpenditure>,
    currency: Currency,
    v: &mut Validation,
) -> Option<Statement> {
    let Some(s) = s else {
        v.add("income_expenditure", "is required");
        return None;
    };
    let household = s
        .household
        .as_ref()
        .map_or(Household::default(), |h| Household {
            adults: u8::try_from(h.adults).unwrap_or_else(|_| {
                v.add(
                    "income_expenditure.household.adults",
                    "must be between 0 and 255",
                );
                0
            }),
            children: u8::try_from(h.children).unwrap_or_else(|_| {
                v.add(
                    "income_expenditure.household.children",
                    "must be between 0 and 255",
                );
                0
            }),
            vehicles: u8::try_from(h.vehicles).unwrap_or_else(|_| {
                v.add(
                    "income_expenditure.household.vehicles",
                    "must be between 0 and 255",
                );
                0
            }),
        });
    let mut income = Vec::new();
    for (i, line) in s.income.iter().enumerate() {
        let path = format!("income_expenditure.income[{i}]");
        let category = match pb::IncomeCategory::try_from(line.category) {
            Ok(pb::IncomeCategory::Earnings) => Some(IncomeCategory::Earnings),
            Ok(pb::IncomeCategory::PartnerEarnings) => Some(IncomeCategory::PartnerEarnings),
            Ok(pb::IncomeCategory::Benefits) => Some(IncomeCategory::Benefits),
            Ok(pb::IncomeCategory::Pension) => Some(IncomeCategory::Pension),
            Ok(pb::IncomeCategory::ChildMaintenance) => Some(IncomeCategory::ChildMaintenance),
            Ok(pb::IncomeCategory::Other) => Some(IncomeCategory::Other),
            _ => {
                v.add(format!("{path}.category"), "is required");
                None
            }
        };
        let monthly = wire::amount(
            &format!("{path}.monthly_amount"),
            line.monthly_amount.as_ref(),
            currency,
            v,
        );
        if let (Some(category), Some(monthly)) = (category, monthly) {
            income.push(IncomeLine {
                category,
                description: line.description.clone(),
                monthly,
            });
        }
    }
    let mut fixed = Vec::new();
    for (i, line) in s.fixed_costs.iter().enumerate() {
        let path = format!("income_expenditure.fixed_costs[{i}]");
        let category = match pb::FixedCostCategory::try_from(line.category) {
            Ok(pb::FixedCostCategory::HomeAndContents) => Some(FixedCostCategory::HomeAndContents),
            Ok(pb::FixedCostCategory::Utilities) => Some(FixedCostCategory::Utilities),
            Ok(pb::FixedCostCategory::CareAndHealth) => Some(FixedCostCategory::CareAndHealth),
            Ok(pb::FixedCostCategory::TransportAndTravel) => {
                Some(FixedCostCategory::TransportAndTravel)
            }
            Ok(pb::FixedCostCategory::School) => Some(FixedCostCategory::School),
            Ok(pb::FixedCostCategory::PensionsAndInsurance) => {
                Some(FixedCostCategory::PensionsAndInsurance)
            }
            Ok(pb::FixedCostCategory::Professional) => Some(FixedCostCategory::Professional),
            Ok(pb::FixedCostCategory::PriorityDebts) => Some(FixedCostCategory::PriorityDebts),
            Ok(pb::FixedCostCategory::OtherEssential) => Some(FixedCostCategory::OtherEssential),
            _ => {
                v.add(format!("{path}.category"), "is required");
                None
            }
        };
        let monthly = wire::amount(
            &format!("{path}.monthly_amount"),
            line.monthly_amount.as_ref(),
            currency,
            v,
        );
        if let (Some(category), Some(monthly)) = (category, monthly) {
            fixed.push(FixedCost {
                category,
                description: line.description.clone(),
                monthly,
            });
        }
    }
    let mut flexible = Vec::new();
    for (i, line) in s.flexible_costs.iter().enumerate() {
        let path = format!("income_expenditure.flexible_costs[{i}]");
        let category = flexible_category(line.category);
        if category.is_none() {
            v.add(format!("{path}.category"), "is required");
        }
        let monthly = wire::amount(
            &format!("{path}.monthly_amount"),
            line.monthly_amount.as_ref(),
            currency,
            v,
        );
        if let (Some(category), Some(monthly)) = (category, monthly) {
            flexible.push(FlexibleCost {
                category,
                description: line.description.clone(),
                monthly,
            });
        }
    }
    let savings_allowance = match &s.savings_allowance {
        Some(m) => {
            wire::amount("income_expenditure.savings_allowance", Some(m), currency, v).unwrap_or(0)
        }
        None => 0,
    };
    Some(Statement {
        household,
        income,
        fixed,
        flexible,
        savings_allowance,
    })
}

fn flexible_category(value: i32) -> Option<FlexibleCostCategory> {
    match pb::FlexibleCostCategory::try_from(value) {
        Ok(pb::FlexibleCostCategory::CommunicationsAndLeisure) => {
            Some(FlexibleCostCategory::CommunicationsAndLeisure)
        }
        Ok(pb::FlexibleCostCategory::FoodAndHousekeeping) => {
            Some(FlexibleCostCategory::FoodAndHousekeeping)
        }
        Ok(pb::FlexibleCostCategory::Personal) => Some(FlexibleCostCategory::Personal),
        _ => None,
    }
}
