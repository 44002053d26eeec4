//! GetPlanOptions: the options the customer may choose from, each stored until it expires with
//! the basis it was computed on.

use std::str::FromStr;

use jiff::SignedDuration;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::super::convert::affordability_to_pb;
use super::super::hardship::assess;
use super::super::offers::{OffersInFlight, save_offered};
use super::super::progress::current;
use super::super::{Core, commit, load_account, not_found, traced_id};
use crate::domain::account::Account;
use crate::domain::case::HardshipCase;
use crate::domain::options::{self, AccountTerms, OptionKind, OptionsConfig, Situation};
use crate::domain::plan::Plan;
use crate::domain::protection;
use crate::error::PlansError;
use crate::store::plans::{OfferedOption, StoredInstallment, StoredOption};
use crate::store::{self, Conn};

/// Everything an option depends on; if it changes, options offered earlier are no longer valid.
pub(super) struct Basis {
    pub(super) situation: Situation,
    terms: AccountTerms,
    case: Option<HardshipCase>,
    assessment: Option<crate::domain::affordability::Assessment>,
}

impl Basis {
    pub(super) fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{:?}|{}|{}",
            self.terms.balance,
            self.terms.arrears,
            self.terms.contractual_payment,
            self.terms.rate,
            self.terms.remaining_term_months,
            self.situation.disposable_income,
            self.situation.protected,
            self.situation.payday
        )
    }
}

fn kind_to_pb(kind: OptionKind) -> pb::PlanOptionKind {
    match kind {
        OptionKind::CatchUp => pb::PlanOptionKind::CatchUp,
        OptionKind::ReducedPayment => pb::PlanOptionKind::ReducedPayment,
        OptionKind::TermExtension => pb::PlanOptionKind::TermExtension,
        OptionKind::PaymentHoliday => pb::PlanOptionKind::PaymentHoliday,
        OptionKind::InterestFeeFreeze => pb::PlanOptionKind::InterestFeeFreeze,
        OptionKind::Settlement => pb::PlanOptionKind::Settlement,
        OptionKind::TokenPayment => pb::PlanOptionKind::TokenPayment,
        OptionKind::BreathingSpace => pb::PlanOptionKind::BreathingSpace,
    }
}

/// The options config from the rules: amounts in the account's currency.
fn options_config(core: &Core, currency: Currency) -> Result<OptionsConfig, PlansError> {
    let write_off = Decimal::from_str(&core.rules.write_off_recovery_rate)
        .map_err(|e| PlansError::Corrupt(format!("rules.write_off_recovery_rate: {e}")))?;
    Ok(OptionsConfig {
        write_off_recovery_rate: write_off,
        // A token payment of one major unit (£1, €1, ¥100 would be silly: ¥1) a month.
        token_amount: currency.minor_units_per_major(),
        breathing_space_days: core.rules.breathing_space_days,
        ..OptionsConfig::default()
    })
}

fn money_formatter(currency: Currency) -> impl Fn(i64) -> String {
    let plain = options::plain_money_formatter(u32::from(currency.minor_unit_exponent()));
    move |minor| format!("{} {}", currency.code(), plain(minor))
}

pub(super) async fn basis(
    core: &Core,
    conn: &mut Conn,
    account: &Account,
    case_id: Option<Id>,
    payday: i8,
    today: jiff::civil::Date,
) -> Result<Basis, PlansError> {
    let now = core.now();
    let case = match case_id {
        Some(case_id) => {
            let case = store::cases::get(conn, case_id)
                .await?
                .ok_or_else(|| not_found("hardship case", case_id))?;
            if !case.account_ids.contains(&account.id) {
                return Err(Validation::single("case_id", "does not cover this account").into());
            }
            Some(case)
        }
        None => match store::cases::open_for_account(conn, account.id).await? {
            Some(id) => store::cases::get(conn, id).await?,
            None => None,
        },
    };
    let assessment = match case.as_ref().and_then(|c| c.statement.as_ref()) {
        Some(statement) => Some(assess(statement)?),
        None => None,
    };
    let protections = store::protections::for_customer(conn, account.customer_id).await?;
    let protected = protections
        .iter()
        .any(|p| p.in_force(now) && p.covers(account.id));
    let used = protection::breathing_space_blocked_by(&protections, now, &core.rules).is_some();
    Ok(Basis {
        situation: Situation {
            disposable_income: assessment.as_ref().map(|a| a.disposable_income),
            protected,
            has_debt_advice_referral: case.as_ref().is_some_and(|c| !c.referrals.is_empty()),
            breathing_space_used_in_last_12_months: used,
            today,
            payday,
        },
        terms: AccountTerms {
            balance: account.balance,
            arrears: account.arrears,
            contractual_payment: account.contractual_payment,
            rate: account.rate,
            remaining_term_months: account.remaining_term_months,
            fees_monthly: 0,
        },
        case,
        assessment,
    })
}

#[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id), case_id = traced_id(&r.case_id)))]
pub(super) async fn options(
    core: &Core,
    r: pb::GetPlanOptionsRequest,
) -> Result<pb::GetPlanOptionsResponse, PlansError> {
    let now = core.now();
    let mut v = Validation::new();
    let account_id = wire::id("account_id", &r.account_id, &mut v);
    let case_id = if r.case_id.is_empty() {
        None
    } else {
        wire::id("case_id", &r.case_id, &mut v)
    };
    if r.payday != 0 && !(1..=31).contains(&r.payday) {
        v.add(
            "payday",
            "must be a day of the month, 1–31 (0 = the account's due day)",
        );
    }
    v.clone().finish()?;
    let account_id = account_id.ok_or(PlansError::Invalid(v))?;

    // Everything the options depend on is read from a reader connection, and the options are
    // computed, before the writer is asked for: on SQLite there is one, and a read must not
    // queue behind posting payments (issue 23). The basis is stored with each option, and
    // AcceptPlan refuses one whose basis changed since, so reading outside the write is safe.
    let account = {
        let mut conn = core.read().await?;
        load_account(&mut conn, account_id).await?
    };
    if account.balance <= 0 {
        return Err(PlansError::FailedPrecondition(format!(
            "account {account_id} has nothing outstanding"
        )));
    }
    // The schedule starts on the customer's date (asked without holding a connection).
    let today = core.customer_today(account.customer_id).await?;
    let payday = if r.payday == 0 {
        account.due_day
    } else {
        i8::try_from(r.payday).unwrap_or(account.due_day)
    };
    let (basis, replan) = {
        let mut conn = core.read().await?;
        let basis = basis(core, &mut conn, &account, case_id, payday, today).await?;
        let active = store::plans::active_for_account(&mut conn, account_id).await?;
        (basis, active.filter(|plan| needs_saving(core, plan, today)))
    };
    let config = options_config(core, account.currency)?;
    let format = money_formatter(account.currency);
    let offered =
        options::plan_options(&basis.terms, &basis.situation, &config, &format).map_err(|e| {
            PlansError::FailedPrecondition(format!(
                "no options can be computed for this account: {e}"
            ))
        })?;

    let expires_at = now + SignedDuration::from_mins(i64::from(core.rules.option_valid_minutes));
    let fingerprint = basis.fingerprint();
    let case_text = basis
        .case
        .as_ref()
        .map(|c| c.id.to_string())
        .unwrap_or_default();
    let c = account.currency;
    let m = |v: i64| Some(wire::money_to_pb(c, v));
    let mut options_pb = Vec::with_capacity(offered.offered.len());
    let mut to_store = Vec::with_capacity(offered.offered.len());
    for option in &offered.offered {
        let option_id = Id::new();
        let stored = StoredOption {
            kind: kind_to_pb(option.kind).as_str_name().to_owned(),
            monthly: option.monthly_amount,
            total_payable: option.total_payable,
            interest_waived: option.interest_waived,
            fees_waived: option.fees_waived,
            annual_rate: option.annual_rate.normalize().to_string(),
            payday,
            review_date: option.review_date.map(|d| d.to_string()),
            summary: option.summary.clone(),
            installments: option
                .schedule
                .iter()
                .map(|i| StoredInstallment {
                    sequence: i.sequence,
                    due_date: i.due_date.to_string(),
                    amount: i.amount,
                    principal: i.principal,
                    interest: i.interest,
                    closing_balance: Some(i.closing_balance),
                })
                .collect(),
        };
        to_store.push(OfferedOption {
            id: option_id,
            account_id,
            case_id: case_text.clone(),
            option: stored,
            basis: fingerprint.clone(),
            created_at: now,
            expires_at,
        });
        let installments = installments_preview(c, &option.schedule);
        options_pb.push(pb::PlanOption {
            option_id: option_id.to_string(),
            kind: kind_to_pb(option.kind) as i32,
            rank: i32::try_from(option.rank).unwrap_or(i32::MAX),
            schedule: installments,
            monthly_amount: m(option.monthly_amount),
            months: i32::try_from(option.months).unwrap_or(i32::MAX),
            total_payable: m(option.total_payable),
            interest_waived: m(option.interest_waived),
            fees_waived: m(option.fees_waived),
            affordability_headroom: option.headroom.map(|h| wire::money_to_pb(c, h)),
            expected_recovery: m(option.expected_recovery),
            write_off_recovery: m(option.write_off_baseline),
            recovery_advantage: m(option.recovery_advantage()),
            completion_likelihood: option.completion_likelihood.to_f64().unwrap_or(0.0),
            annual_rate: option.annual_rate.normalize().to_string(),
            first_payment_date: option.first_payment_date.map(wire::date_to_pb),
            review_date: option.review_date.map(wire::date_to_pb),
            includes_debt_advice_referral: option.requires_debt_advice_referral,
            summary: option.summary.clone(),
            reasons: option.reasons.iter().map(wire::reason_to_pb).collect(),
            expires_at: Some(wire::timestamp_to_pb(expires_at)),
            remaining_balance: m(option.remaining_balance),
            after_plan: after_plan_to_pb(option.after_plan) as i32,
        });
    }

    match replan {
        // Options offered while a plan has missed installments are the re-plan offer a plan
        // must have had before it can be called broken: recorded with the options before the
        // answer. The plan is brought up to today first (under the writer, as it is now): a
        // miss nobody has looked at yet still counts.
        Some(active) => {
            let mut tx = core.write().await?;
            let mut active = current(core, &mut tx, active.id, today).await?;
            if owes_replan_offer(&active) {
                active.replan_offered_at = Some(now);
                store::plans::save_progress(&mut tx, &active).await?;
            }
            save_offered(&mut tx, account_id, now, &to_store).await?;
            commit(tx).await?;
        }
        // The usual case: nothing to record but the offer, written behind the answer.
        None => OffersInFlight::store_behind(core, account_id, now, to_store),
    }
    Ok(pb::GetPlanOptionsResponse {
        options: options_pb,
        excluded: offered
            .excluded
            .iter()
            .map(|e| pb::ExcludedOption {
                kind: kind_to_pb(e.kind) as i32,
                reasons: vec![wire::reason_to_pb(&e.explanation)],
            })
            .collect(),
        affordability: match (&basis.case, &basis.assessment) {
            (Some(case), Some(a)) => Some(affordability_to_pb(case.id, c, a, now)),
            _ => None,
        },
        write_off_baseline: m(offered.write_off_baseline),
        generated_at: Some(wire::timestamp_to_pb(now)),
    })
}

/// Whether offering options changes the active plan: a miss to record first, or the re-plan
/// offer it is owed.
fn needs_saving(core: &Core, plan: &Plan, today: jiff::civil::Date) -> bool {
    let mut reviewed = plan.clone();
    let changes = reviewed.review(today, core.now(), core.rules.misses_before_broken);
    !changes.is_empty() || owes_replan_offer(&reviewed)
}

/// An active plan with misses is owed one re-plan offer.
fn owes_replan_offer(plan: &Plan) -> bool {
    plan.status == pb::PlanStatus::Active
        && plan.consecutive_missed > 0
        && plan.replan_offered_at.is_none()
}

fn after_plan_to_pb(after: options::AfterPlan) -> pb::AfterPlan {
    match after {
        options::AfterPlan::PaidOff => pb::AfterPlan::PaidOff,
        options::AfterPlan::ContractResumes => pb::AfterPlan::ContractResumes,
        options::AfterPlan::Review => pb::AfterPlan::Review,
        options::AfterPlan::Forgiven => pb::AfterPlan::Forgiven,
    }
}

/// An option's schedule as the engine built it: each row's balances are its own, not derived
/// from the principal (a catch-up or a token payment leaves a balance behind).
fn installments_preview(
    c: Currency,
    schedule: &[crate::domain::schedule::Installment],
) -> Vec<pb::Installment> {
    schedule
        .iter()
        .map(|i| pb::Installment {
            sequence: i32::try_from(i.sequence).unwrap_or(i32::MAX),
            due_date: Some(wire::date_to_pb(i.due_date)),
            amount: Some(wire::money_to_pb(c, i.amount)),
            principal: Some(wire::money_to_pb(c, i.principal)),
            interest: Some(wire::money_to_pb(c, i.interest)),
            fees: Some(wire::money_to_pb(c, 0)),
            closing_balance: Some(wire::money_to_pb(c, i.closing_balance)),
            paid: Some(wire::money_to_pb(c, 0)),
            status: pb::InstallmentStatus::Scheduled as i32,
            opening_balance: Some(wire::money_to_pb(c, i.opening_balance)),
        })
        .collect()
}
