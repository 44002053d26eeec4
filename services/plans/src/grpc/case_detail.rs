//! A hardship case as an agent reads it (`HardshipCaseDetail`): the case with its latest
//! income & expenditure and referrals, its affordability, the plan accepted from it and the
//! headroom left each month. Shared by ListHardshipCases and GetHardshipCase.

use rapport_money::Currency;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::Core;
use super::convert::{
    affordability_to_pb, case_to_pb, flexible_category_to_pb, plan_to_pb, referral_to_pb,
};
use crate::domain::affordability::{self, FixedCostCategory, IncomeCategory};
use crate::domain::case::{HardshipCase, SubmittedStatement};
use crate::error::PlansError;
use crate::store::{self, Conn};

/// The case with what an agent needs beside it, read on `conn` as stored (a read changes
/// nothing: the accepted plan is shown as last reviewed).
pub(super) async fn case_detail(
    core: &Core,
    conn: &mut Conn,
    case: &HardshipCase,
) -> Result<pb::HardshipCaseDetail, PlansError> {
    let accepted_plan = store::plans::newest_for_case(conn, case.id).await?;
    let mut affordability = None;
    let mut headroom = None;
    if let Some(submitted) = &case.statement {
        // The statement was assessed when it was submitted: failing now is damaged data.
        let assessment =
            affordability::assess_in_currency(&submitted.statement, submitted.currency.code())
                .map_err(|e| PlansError::Corrupt(format!("case {}: statement: {e}", case.id)))?;
        // DESIGN.md: disposable income = income − fixed − flexible; what an active plan takes
        // each month is no longer free. (A plan in another currency than the statement cannot
        // be taken from it: money of two currencies is never mixed.)
        let committed = accepted_plan
            .as_ref()
            .filter(|p| p.status == pb::PlanStatus::Active && p.currency == submitted.currency)
            .map_or(0, |p| p.monthly);
        let left = assessment
            .disposable_income
            .checked_sub(committed)
            .ok_or_else(|| PlansError::Corrupt(format!("case {}: headroom overflows", case.id)))?;
        headroom = Some(wire::money_to_pb(submitted.currency, left));
        affordability = Some(affordability_to_pb(
            case.id,
            submitted.currency,
            &assessment,
            submitted.submitted_at,
        ));
    }
    Ok(pb::HardshipCaseDetail {
        hardship_case: Some(pb::HardshipCase {
            debt_advice_referrals: case
                .referrals
                .iter()
                .map(|r| referral_to_pb(r, &core.rules))
                .collect(),
            income_expenditure: case.statement.as_ref().map(statement_to_pb),
            ..case_to_pb(case)
        }),
        affordability,
        accepted_plan: accepted_plan.as_ref().map(plan_to_pb),
        headroom,
    })
}

/// The statement as submitted, in its currency (the inverse of `convert::statement_from_pb`).
fn statement_to_pb(s: &SubmittedStatement) -> pb::IncomeExpenditure {
    let c: Currency = s.currency;
    let m = |v: i64| Some(wire::money_to_pb(c, v));
    let statement = &s.statement;
    pb::IncomeExpenditure {
        household: Some(pb::Household {
            adults: i32::from(statement.household.adults),
            children: i32::from(statement.household.children),
            vehicles: i32::from(statement.household.vehicles),
        }),
        income: statement
            .income
            .iter()
            .map(|l| pb::IncomeLine {
                category: income_category_to_pb(l.category) as i32,
                description: l.description.clone(),
                monthly_amount: m(l.monthly),
            })
            .collect(),
        fixed_costs: statement
            .fixed
            .iter()
            .map(|l| pb::FixedCostLine {
                category: fixed_category_to_pb(l.category) as i32,
                description: l.description.clone(),
                monthly_amount: m(l.monthly),
            })
            .collect(),
        flexible_costs: statement
            .flexible
            .iter()
            .map(|l| pb::FlexibleCostLine {
                category: flexible_category_to_pb(l.category) as i32,
                description: l.description.clone(),
                monthly_amount: m(l.monthly),
            })
            .collect(),
        savings_allowance: m(statement.savings_allowance),
        submitted_by: Some(wire::actor_to_pb(&s.submitted_by)),
        submitted_at: Some(wire::timestamp_to_pb(s.submitted_at)),
    }
}

fn income_category_to_pb(c: IncomeCategory) -> pb::IncomeCategory {
    match c {
        IncomeCategory::Earnings => pb::IncomeCategory::Earnings,
        IncomeCategory::PartnerEarnings => pb::IncomeCategory::PartnerEarnings,
        IncomeCategory::Benefits => pb::IncomeCategory::Benefits,
        IncomeCategory::Pension => pb::IncomeCategory::Pension,
        IncomeCategory::ChildMaintenance => pb::IncomeCategory::ChildMaintenance,
        IncomeCategory::Other => pb::IncomeCategory::Other,
    }
}

fn fixed_category_to_pb(c: FixedCostCategory) -> pb::FixedCostCategory {
    match c {
        FixedCostCategory::HomeAndContents => pb::FixedCostCategory::HomeAndContents,
        FixedCostCategory::Utilities => pb::FixedCostCategory::Utilities,
        FixedCostCategory::CareAndHealth => pb::FixedCostCategory::CareAndHealth,
        FixedCostCategory::TransportAndTravel => pb::FixedCostCategory::TransportAndTravel,
        FixedCostCategory::School => pb::FixedCostCategory::School,
        FixedCostCategory::PensionsAndInsurance => pb::FixedCostCategory::PensionsAndInsurance,
        FixedCostCategory::Professional => pb::FixedCostCategory::Professional,
        FixedCostCategory::PriorityDebts => pb::FixedCostCategory::PriorityDebts,
        FixedCostCategory::OtherEssential => pb::FixedCostCategory::OtherEssential,
    }
}
