//! The accounts and the help in progress: arrears and stage, open hardship cases with the
//! disposable income and headroom, plans with the next installment and misses, promises to pay.

use std::fmt::Write as _;

use rapport_proto::desk::v1 as desk;
use rapport_proto::plans::v1 as plans;

use super::super::format::{date, indented, instant, money, words};
use super::Context;

pub(super) fn accounts(out: &mut String, s: &desk::AccountsSection) {
    if s.accounts.is_empty() {
        out.push_str("Accounts: none\n");
        return;
    }
    out.push_str("Accounts:\n");
    let rows: Vec<Vec<String>> = s
        .accounts
        .iter()
        .map(|a| {
            vec![
                a.account_id.clone(),
                words(a.kind().as_str_name(), "ACCOUNT_KIND_"),
                a.external_account_id.clone(),
                money(a.balance.as_ref()),
                money(a.arrears_amount.as_ref()),
                a.days_past_due.to_string(),
                words(a.stage().as_str_name(), "DELINQUENCY_STAGE_"),
                date(a.next_due_date.as_ref()),
            ]
        })
        .collect();
    out.push_str(&indented(
        &[
            "ACCOUNT",
            "KIND",
            "REFERENCE",
            "BALANCE",
            "ARREARS",
            "DAYS PAST DUE",
            "STAGE",
            "NEXT DUE",
        ],
        &rows,
    ));
}

pub(super) fn hardship(out: &mut String, s: &desk::HardshipSection, context: &Context<'_>) {
    if s.open_cases.is_empty() {
        out.push_str("Hardship cases: none open\n");
        return;
    }
    out.push_str("Hardship cases (open):\n");
    for detail in &s.open_cases {
        hardship_case(out, detail, context);
    }
}

pub(super) fn plans(out: &mut String, s: &desk::PlansSection, context: &Context<'_>) {
    if s.plans.is_empty() {
        out.push_str("Plans: none\n");
        return;
    }
    out.push_str("Plans:\n");
    for summary in &s.plans {
        plan(out, summary, context);
    }
}

pub(super) fn promises(out: &mut String, s: &desk::PromisesSection, context: &Context<'_>) {
    if s.promises.is_empty() {
        out.push_str("Promises to pay: none\n");
        return;
    }
    out.push_str("Promises to pay:\n");
    let rows: Vec<Vec<String>> = s
        .promises
        .iter()
        .map(|p| {
            vec![
                date(p.promised_date.as_ref()),
                money(p.amount.as_ref()),
                words(p.status().as_str_name(), "PROMISE_TO_PAY_STATUS_"),
                money(p.paid_amount.as_ref()),
                context.account(&p.account_id),
            ]
        })
        .collect();
    out.push_str(&indented(
        &["PROMISED FOR", "AMOUNT", "STATUS", "PAID", "ACCOUNT"],
        &rows,
    ));
}

fn hardship_case(out: &mut String, detail: &plans::HardshipCaseDetail, context: &Context<'_>) {
    let Some(case) = &detail.hardship_case else {
        return;
    };
    let opened = instant(case.opened_at.as_ref())
        .map_or("-".to_owned(), |t| t.strftime("%Y-%m-%d").to_string());
    let accounts: Vec<String> = case
        .account_ids
        .iter()
        .map(|id| context.account(id))
        .collect();
    let _ = writeln!(
        out,
        "  case {} — {}, opened {opened}, for {}",
        case.case_id,
        words(case.reason().as_str_name(), "HARDSHIP_REASON_"),
        if accounts.is_empty() {
            "no account".to_owned()
        } else {
            accounts.join(", ")
        }
    );
    match &detail.affordability {
        Some(a) => {
            let _ = writeln!(
                out,
                "    disposable income {} a month (income {}, fixed costs {}, flexible costs {}); headroom {}",
                money(a.disposable_income.as_ref()),
                money(a.total_income.as_ref()),
                money(a.total_fixed_costs.as_ref()),
                money(a.total_flexible_costs.as_ref()),
                money(detail.headroom.as_ref()),
            );
            for f in &a.flagged_costs {
                let _ = writeln!(
                    out,
                    "    to talk about: {} {} is {} above its trigger figure {}",
                    words(f.category().as_str_name(), "FLEXIBLE_COST_CATEGORY_"),
                    money(f.declared.as_ref()),
                    money(f.excess.as_ref()),
                    money(f.trigger_figure.as_ref()),
                );
            }
        }
        None => out.push_str("    no income and expenditure yet: take the statement first\n"),
    }
    match &detail.accepted_plan {
        Some(p) => {
            let _ = writeln!(
                out,
                "    plan accepted: {} ({}), {}",
                words(p.kind().as_str_name(), "PLAN_OPTION_KIND_"),
                words(p.status().as_str_name(), "PLAN_STATUS_"),
                p.plan_id
            );
        }
        None => {
            let first = case.account_ids.first().map_or("ACCOUNT", String::as_str);
            let _ = writeln!(
                out,
                "    no plan yet: rapport plans options --account {first} --case {}",
                case.case_id
            );
        }
    }
    for r in &case.debt_advice_referrals {
        if let Some(service) = &r.service {
            let _ = writeln!(
                out,
                "    referred to debt advice: {} {}",
                service.name, service.phone
            );
        }
    }
    if case.review_date.is_some() {
        let _ = writeln!(out, "    review {}", date(case.review_date.as_ref()));
    }
}

fn plan(out: &mut String, summary: &desk::PlanSummary, context: &Context<'_>) {
    let Some(p) = &summary.plan else {
        return;
    };
    let _ = writeln!(
        out,
        "  plan {} — {}, {}, on {}: {} a month, {} paid of {}",
        p.plan_id,
        words(p.kind().as_str_name(), "PLAN_OPTION_KIND_"),
        words(p.status().as_str_name(), "PLAN_STATUS_"),
        context.account(&p.account_id),
        money(p.monthly_amount.as_ref()),
        money(p.paid_to_date.as_ref()),
        money(p.total_payable.as_ref()),
    );
    let next = match &summary.next_installment {
        Some(i) => format!(
            "next installment #{} due {}: {} ({})",
            i.sequence,
            date(i.due_date.as_ref()),
            money(i.amount.as_ref()),
            words(i.status().as_str_name(), "INSTALLMENT_STATUS_"),
        ),
        None => "no installment left".to_owned(),
    };
    let _ = writeln!(
        out,
        "    {next}; missed {} ({} in a row)",
        summary.missed_installments, p.consecutive_missed
    );
}
