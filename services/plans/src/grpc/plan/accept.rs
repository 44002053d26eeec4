//! AcceptPlan: the option the customer chose becomes their plan, replacing the one before.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::super::convert::plan_to_pb;
use super::super::progress::account_today;
use super::super::{Core, commit, load_account, not_found, traced_id};
use super::options::basis;
use crate::domain::events::PlansEvent;
use crate::domain::plan::{Agreement, Plan, PlannedInstallment};
use crate::domain::protection::Protection;
use crate::domain::rate::AnnualRate;
use crate::error::PlansError;
use crate::store;
use crate::store::plans::Lockable;

#[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id), option_id = traced_id(&r.option_id)))]
pub(super) async fn accept(
    core: &Core,
    r: pb::AcceptPlanRequest,
) -> Result<pb::AcceptPlanResponse, PlansError> {
    let now = core.now();
    let mut v = Validation::new();
    let account_id = wire::id("account_id", &r.account_id, &mut v);
    let option_id = wire::id("option_id", &r.option_id, &mut v);
    let accepted_by = wire::actor("accepted_by", r.accepted_by.as_ref(), &mut v);
    let request_id = wire::request_id("request_id", &r.request_id, &mut v);
    let agreement = match &r.agreement {
        None => {
            v.add("agreement", "is required: record how the customer agreed");
            None
        }
        Some(a) => {
            let method = wire::known_enum(
                "agreement.method",
                a.method,
                |m| pb::AgreementMethod::try_from(m).ok(),
                pb::AgreementMethod::Unspecified,
                &mut v,
            );
            let agreed_at =
                wire::past_instant("agreement.agreed_at", a.agreed_at.as_ref(), now, &mut v);
            let evidence = wire::optional_text(
                "agreement.evidence_ref",
                &a.evidence_ref,
                wire::MAX_CODE_CHARS,
                &mut v,
            );
            match (method, agreed_at, evidence) {
                (Some(method), Some(agreed_at), Some(evidence_ref)) => Some(Agreement {
                    method,
                    evidence_ref,
                    agreed_at,
                }),
                _ => None,
            }
        }
    };
    v.clone().finish()?;
    let invalid = || PlansError::Invalid(v.clone());
    let (account_id, option_id) = (
        account_id.ok_or_else(invalid)?,
        option_id.ok_or_else(invalid)?,
    );

    let today = account_today(core, account_id).await?;
    // An option just offered may still be being written (`offers`), which needs the writer.
    core.offers.written(option_id).await;
    let mut tx = core.write().await?;
    if let Some(request_id) = &request_id
        && let Some(existing) = store::plans::by_request(&mut tx, request_id).await?
    {
        let plan = store::plans::get(&mut tx, existing)
            .await?
            .ok_or_else(|| not_found("plan", existing))?;
        return Ok(pb::AcceptPlanResponse {
            plan: Some(plan_to_pb(&plan)),
        });
    }
    store::plans::lock(&mut tx, Lockable::Account, account_id).await?;
    let account = load_account(&mut tx, account_id).await?;
    let offered = store::plans::option(&mut tx, option_id)
        .await?
        .ok_or_else(|| not_found("plan option", option_id))?;
    if offered.account_id != account_id {
        return Err(Validation::single("option_id", "was offered for another account").into());
    }
    if offered.expires_at < now {
        return Err(PlansError::FailedPrecondition(format!(
            "option {option_id} expired at {}; ask GetPlanOptions for current options",
            offered.expires_at
        )));
    }
    if let Some(agreement) = &agreement
        && agreement.agreed_at < offered.created_at - crate::rules::AGREED_BEFORE_OFFERED_TOLERANCE
    {
        return Err(Validation::single(
            "agreement.agreed_at",
            format!(
                "must not be before the option was offered ({}, less {} minutes)",
                offered.created_at,
                crate::rules::AGREED_BEFORE_OFFERED_TOLERANCE.as_mins()
            ),
        )
        .into());
    }
    let case_id = if offered.case_id.is_empty() {
        None
    } else {
        Id::parse(&offered.case_id).ok()
    };
    let basis = basis(
        core,
        &mut tx,
        &account,
        case_id,
        offered.option.payday,
        today,
    )
    .await?;
    if basis.fingerprint() != offered.basis {
        return Err(PlansError::FailedPrecondition(
            "the account or the customer's situation changed since this option was offered; ask GetPlanOptions again".into(),
        ));
    }
    let previous = store::plans::active_for_account(&mut tx, account_id).await?;
    if let Some(previous) = &previous
        && previous.accepted_at >= offered.created_at
    {
        return Err(PlansError::FailedPrecondition(format!(
            "plan {} was accepted after this option was offered; ask GetPlanOptions again",
            previous.id
        )));
    }
    let kind = pb::PlanOptionKind::from_str_name(&offered.option.kind)
        .ok_or_else(|| PlansError::Corrupt(format!("option kind {:?}", offered.option.kind)))?;
    if kind == pb::PlanOptionKind::BreathingSpace {
        // The basis just read the customer's protections in this transaction.
        if basis.situation.breathing_space_used_in_last_12_months {
            return Err(PlansError::FailedPrecondition(
                "a breathing space was already used in the last 12 months".into(),
            ));
        }
        let space = Protection {
            id: Id::new(),
            customer_id: account.customer_id,
            account_ids: vec![],
            kind: pb::ProtectionKind::BreathingSpace,
            starts_at: now,
            ends_at: Protection::natural_end(pb::ProtectionKind::BreathingSpace, now, &core.rules),
            reference: String::new(),
            reason: "chosen by the customer as a plan option".into(),
            case_id: offered.case_id.clone(),
            set_by: accepted_by.clone().ok_or_else(invalid)?,
            cleared: None,
        };
        store::protections::insert(&mut tx, &space, None).await?;
        rapport_outbox::append(
            &mut tx,
            &PlansEvent::ProtectionSet {
                customer_id: account.customer_id,
                protection_id: space.id,
                kind: space.kind.as_str_name(),
            },
            now,
        )
        .await?;
    }
    let mut balance: i64 = offered
        .option
        .installments
        .iter()
        .map(|i| i.principal)
        .sum();
    let installments = offered
        .option
        .installments
        .iter()
        .map(|i| {
            balance -= i.principal;
            Ok(PlannedInstallment {
                sequence: i.sequence,
                due_date: store::date(&i.due_date)?,
                amount: i.amount,
                principal: i.principal,
                interest: i.interest,
                // The offer's own balances: an option that leaves a remainder does not
                // close at 0 (issue 17).
                closing_balance: i.closing_balance.unwrap_or(balance),
                paid: 0,
                status: if i.amount == 0 {
                    pb::InstallmentStatus::Waived
                } else {
                    pb::InstallmentStatus::Scheduled
                },
            })
        })
        .collect::<Result<Vec<_>, PlansError>>()?;
    let plan = Plan {
        id: Id::new(),
        account_id,
        customer_id: account.customer_id,
        case_id: offered.case_id.clone(),
        kind,
        status: pb::PlanStatus::Active,
        currency: account.currency,
        monthly: offered.option.monthly,
        total_payable: offered.option.total_payable,
        interest_waived: offered.option.interest_waived,
        fees_waived: offered.option.fees_waived,
        rate: AnnualRate::parse(&offered.option.annual_rate)
            .map_err(|e| PlansError::Corrupt(format!("rate: {e}")))?,
        payday: offered.option.payday,
        review_date: offered
            .option
            .review_date
            .as_deref()
            .map(store::date)
            .transpose()?,
        consecutive_missed: 0,
        replan_offered_at: None,
        accepted_by: accepted_by.ok_or_else(invalid)?,
        agreement: agreement.ok_or_else(invalid)?,
        accepted_at: now,
        ended_at: None,
        end_reason: String::new(),
        previous_plan_id: previous
            .as_ref()
            .map(|p| p.id.to_string())
            .unwrap_or_default(),
        summary: offered.option.summary.clone(),
        installments,
    };
    if let Some(mut previous) = previous {
        previous.status = pb::PlanStatus::Superseded;
        previous.ended_at = Some(now);
        previous.end_reason = format!("replaced by plan {}", plan.id);
        store::plans::save_progress(&mut tx, &previous).await?;
    }
    store::plans::insert(&mut tx, &plan, request_id.as_deref()).await?;
    rapport_outbox::append(
        &mut tx,
        &PlansEvent::PlanAccepted {
            customer_id: plan.customer_id,
            account_id,
            plan_id: plan.id,
            kind: kind.as_str_name(),
        },
        now,
    )
    .await?;
    super::super::standing::refresh(core, &mut tx, plan.customer_id).await?;
    commit(tx).await?;
    Ok(pb::AcceptPlanResponse {
        plan: Some(plan_to_pb(&plan)),
    })
}
