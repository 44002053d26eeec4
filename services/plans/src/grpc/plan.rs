//! PlanService: options the customer chooses from, plans, plan payments, promises to pay.

use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::plan_service_server::PlanService;
use rapport_wire as wire;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tonic::{Request, Response, Status};

use super::account::customer_account_to_pb;
use super::convert::{account_payment_to_pb, affordability_to_pb, plan_payment_to_pb};
use super::hardship::assess;
use super::payments::{NewMoney, PlanPaymentName, allocate_to_plan, post_to_account};
use super::{Core, answer, commit, load_account, not_found};
use crate::domain::account::Account;
use crate::domain::affordability::{Explanation, ReasonEffect};
use crate::domain::case::HardshipCase;
use crate::domain::events::PlansEvent;
use crate::domain::options::{self, AccountTerms, OptionKind, OptionsConfig, Situation};
use crate::domain::plan::{Agreement, Plan, PlanChange, PlannedInstallment};
use crate::domain::protection::{self, Protection};
use crate::domain::rate::AnnualRate;
use crate::error::PlansError;
use crate::store::accounts::PostedBy;
use crate::store::plans::{Lockable, OfferedOption, PlanPayment, StoredInstallment, StoredOption};
use crate::store::{self, Conn};

#[derive(Debug, Clone)]
pub(crate) struct PlanApi(pub(crate) Core);

#[tonic::async_trait]
impl PlanService for PlanApi {
    async fn get_plan_options(
        &self,
        r: Request<pb::GetPlanOptionsRequest>,
    ) -> Result<Response<pb::GetPlanOptionsResponse>, Status> {
        answer(self.options(r.into_inner())).await
    }
    async fn accept_plan(
        &self,
        r: Request<pb::AcceptPlanRequest>,
    ) -> Result<Response<pb::AcceptPlanResponse>, Status> {
        answer(self.accept(r.into_inner())).await
    }
    async fn get_plan(
        &self,
        r: Request<pb::GetPlanRequest>,
    ) -> Result<Response<pb::GetPlanResponse>, Status> {
        answer(self.get(r.into_inner())).await
    }
    async fn list_plans(
        &self,
        r: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        answer(self.list(r.into_inner())).await
    }
    async fn record_plan_payment(
        &self,
        r: Request<pb::RecordPlanPaymentRequest>,
    ) -> Result<Response<pb::RecordPlanPaymentResponse>, Status> {
        answer(self.pay(r.into_inner())).await
    }
    async fn cancel_plan(
        &self,
        r: Request<pb::CancelPlanRequest>,
    ) -> Result<Response<pb::CancelPlanResponse>, Status> {
        answer(self.cancel(r.into_inner())).await
    }
    async fn record_promise_to_pay(
        &self,
        r: Request<pb::RecordPromiseToPayRequest>,
    ) -> Result<Response<pb::RecordPromiseToPayResponse>, Status> {
        answer(super::promises::record(&self.0, r.into_inner())).await
    }
    async fn list_promises_to_pay(
        &self,
        r: Request<pb::ListPromisesToPayRequest>,
    ) -> Result<Response<pb::ListPromisesToPayResponse>, Status> {
        answer(super::promises::list(&self.0, r.into_inner())).await
    }
}

/// Everything an option depends on; if it changes, options offered earlier are no longer valid.
struct Basis {
    situation: Situation,
    terms: AccountTerms,
    case: Option<HardshipCase>,
    assessment: Option<crate::domain::affordability::Assessment>,
}

impl Basis {
    fn fingerprint(&self) -> String {
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
pub(crate) fn options_config(core: &Core, currency: Currency) -> Result<OptionsConfig, PlansError> {
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

pub(crate) fn money_formatter(currency: Currency) -> impl Fn(i64) -> String {
    let plain = options::plain_money_formatter(u32::from(currency.minor_unit_exponent()));
    move |minor| format!("{} {}", currency.code(), plain(minor))
}

impl PlanApi {
    async fn basis(
        &self,
        conn: &mut Conn,
        account: &Account,
        case_id: Option<Id>,
        payday: i8,
        today: jiff::civil::Date,
    ) -> Result<Basis, PlansError> {
        let now = self.0.now();
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
        let used =
            protection::breathing_space_blocked_by(&protections, now, &self.0.rules).is_some();
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

    #[tracing::instrument(skip_all)]
    async fn options(
        &self,
        r: pb::GetPlanOptionsRequest,
    ) -> Result<pb::GetPlanOptionsResponse, PlansError> {
        let now = self.0.now();
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

        // The schedule starts on the customer's date (read before any lock is taken).
        let today = account_today(&self.0, account_id).await?;
        let mut tx = self.0.write().await?;
        let account = load_account(&mut tx, account_id).await?;
        if account.balance <= 0 {
            return Err(PlansError::FailedPrecondition(format!(
                "account {account_id} has nothing outstanding"
            )));
        }
        let payday = if r.payday == 0 {
            account.due_day
        } else {
            i8::try_from(r.payday).unwrap_or(account.due_day)
        };
        let basis = self
            .basis(&mut tx, &account, case_id, payday, today)
            .await?;
        let config = options_config(&self.0, account.currency)?;
        let format = money_formatter(account.currency);
        let offered = options::plan_options(&basis.terms, &basis.situation, &config, &format)
            .map_err(|e| {
                PlansError::FailedPrecondition(format!(
                    "no options can be computed for this account: {e}"
                ))
            })?;

        // Options offered while a plan has missed installments are the re-plan offer a plan
        // must have had before it can be called broken. The plan is brought up to today first:
        // a miss nobody has looked at yet still counts.
        if let Some(active) = store::plans::active_for_account(&mut tx, account_id).await? {
            let mut active = self.current(&mut tx, active.id, today).await?;
            if active.status == pb::PlanStatus::Active
                && active.consecutive_missed > 0
                && active.replan_offered_at.is_none()
            {
                active.replan_offered_at = Some(now);
                store::plans::save_progress(&mut tx, &active).await?;
            }
        }

        store::plans::drop_expired_options(&mut tx, account_id, now).await?;
        let expires_at =
            now + SignedDuration::from_mins(i64::from(self.0.rules.option_valid_minutes));
        let fingerprint = basis.fingerprint();
        let case_text = basis
            .case
            .as_ref()
            .map(|c| c.id.to_string())
            .unwrap_or_default();
        let c = account.currency;
        let m = |v: i64| Some(wire::money_to_pb(c, v));
        let mut options_pb = Vec::with_capacity(offered.offered.len());
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
            store::plans::save_option(
                &mut tx,
                &OfferedOption {
                    id: option_id,
                    account_id,
                    case_id: case_text.clone(),
                    option: stored,
                    basis: fingerprint.clone(),
                    created_at: now,
                    expires_at,
                },
            )
            .await?;
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
        commit(tx).await?;
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

    #[tracing::instrument(skip_all)]
    async fn accept(&self, r: pb::AcceptPlanRequest) -> Result<pb::AcceptPlanResponse, PlansError> {
        let now = self.0.now();
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

        let today = account_today(&self.0, account_id).await?;
        let mut tx = self.0.write().await?;
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
            && agreement.agreed_at
                < offered.created_at - crate::rules::AGREED_BEFORE_OFFERED_TOLERANCE
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
        let basis = self
            .basis(&mut tx, &account, case_id, offered.option.payday, today)
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
                ends_at: Protection::natural_end(
                    pb::ProtectionKind::BreathingSpace,
                    now,
                    &self.0.rules,
                ),
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
        super::standing::refresh(&self.0, &mut tx, plan.customer_id).await?;
        commit(tx).await?;
        Ok(pb::AcceptPlanResponse {
            plan: Some(plan_to_pb(&plan)),
        })
    }

    /// Loads a plan and brings it up to `today` (the customer's date), saving and publishing
    /// what changed.
    async fn current(
        &self,
        conn: &mut Conn,
        plan_id: Id,
        today: jiff::civil::Date,
    ) -> Result<Plan, PlansError> {
        let mut plan = store::plans::get(conn, plan_id)
            .await?
            .ok_or_else(|| not_found("plan", plan_id))?;
        bring_up_to_date(&self.0, conn, &mut plan, today).await?;
        Ok(plan)
    }

    /// The plan's account and customer, and today on the customer's calendar; read before any
    /// lock is taken.
    async fn plan_today(&self, plan_id: Id) -> Result<(Id, jiff::civil::Date), PlansError> {
        let (account_id, customer_id) = {
            let mut conn = self.0.read().await?;
            store::plans::owners(&mut conn, plan_id)
                .await?
                .ok_or_else(|| not_found("plan", plan_id))?
        };
        Ok((account_id, self.0.customer_today(customer_id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn get(&self, r: pb::GetPlanRequest) -> Result<pb::GetPlanResponse, PlansError> {
        let mut v = Validation::new();
        let plan_id = wire::id("plan_id", &r.plan_id, &mut v);
        v.clone().finish()?;
        let plan_id = plan_id.ok_or(PlansError::Invalid(v))?;
        let (_, today) = self.plan_today(plan_id).await?;
        let mut tx = self.0.write().await?;
        let plan = self.current(&mut tx, plan_id, today).await?;
        commit(tx).await?;
        Ok(pb::GetPlanResponse {
            plan: Some(plan_to_pb(&plan)),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn list(&self, r: pb::ListPlansRequest) -> Result<pb::ListPlansResponse, PlansError> {
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
            let mut conn = self.0.read().await?;
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
            Some(customer_id) => self.0.customer_today(customer_id).await?,
            None => self.0.today(),
        };
        let mut tx = self.0.write().await?;
        let mut plans = Vec::new();
        let listed =
            store::plans::list(&mut tx, account_id, customer_id, after, page.fetch_limit()).await?;
        let none_at_all = listed.is_empty() && first_page;
        for plan in listed {
            let plan = self.current(&mut tx, plan.id, today).await?;
            if statuses.is_empty() || statuses.contains(&plan.status) {
                plans.push(plan);
            }
        }
        if let Some(customer_id) = customer_id
            && !none_at_all
        {
            // Looking at a customer's plans re-evaluates their standing: a broken plan that
            // stopped counting with time is published when first seen.
            super::standing::refresh(&self.0, &mut tx, customer_id).await?;
        }
        commit(tx).await?;
        if none_at_all {
            super::ensure_named_exist(&self.0, account_id, customer_id).await?;
        }
        let (plans, page) = page.finish(plans, |p| {
            vec![
                rapport_clock::to_unix_micros(p.accepted_at).to_string(),
                p.id.to_string(),
            ]
        });
        Ok(pb::ListPlansResponse {
            plans: plans.iter().map(plan_to_pb).collect(),
            page,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn pay(
        &self,
        r: pb::RecordPlanPaymentRequest,
    ) -> Result<pb::RecordPlanPaymentResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let plan_id = wire::id("plan_id", &r.plan_id, &mut v);
        let key = wire::required_text(
            "idempotency_key",
            &r.idempotency_key,
            wire::MAX_CODE_CHARS,
            &mut v,
        );
        let received_at = wire::past_instant("received_at", r.received_at.as_ref(), now, &mut v);
        let reference = wire::optional_text(
            "source_reference",
            &r.source_reference,
            wire::MAX_CODE_CHARS,
            &mut v,
        );
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let (plan_id, key) = (plan_id.ok_or_else(invalid)?, key.ok_or_else(invalid)?);

        let (account_id, today) = self.plan_today(plan_id).await?;
        let mut tx = self.0.write().await?;
        // The account's lock first, as ReportPayment takes it: billing and the agent reporting
        // the same money take turns, and the money posts once (docs/payments.md).
        store::plans::lock(&mut tx, Lockable::Account, account_id).await?;
        store::plans::lock(&mut tx, Lockable::Plan, plan_id).await?;
        let different_amount =
            |first: i64| r.amount.as_ref().is_some_and(|m| m.minor_units != first);
        if let Some(first) = store::plans::payment_by_key(&mut tx, plan_id, &key).await? {
            // The same key again answers with the first result; nothing is posted twice.
            if different_amount(first.amount) {
                return Err(PlansError::AlreadyExists(format!(
                    "idempotency key {key:?} was used for a payment of a different amount"
                )));
            }
            return self.answer_recorded(tx, first, plan_id, true).await;
        }
        let mut plan = self.current(&mut tx, plan_id, today).await?;
        let mut v = Validation::new();
        let amount = wire::positive_amount("amount", r.amount.as_ref(), plan.currency, &mut v);
        v.clone().finish()?;
        let amount = amount.ok_or(PlansError::Invalid(v))?;
        let (received_at, reference) = (
            received_at.ok_or_else(invalid)?,
            reference.ok_or_else(invalid)?,
        );

        let plan_payment_id = Id::new();
        let money_reference = if reference.is_empty() {
            super::payments::unmatched_reference(plan_payment_id)
        } else {
            reference.clone()
        };
        let known =
            store::accounts::payment_by_reference(&mut tx, account_id, &money_reference).await?;
        if known.as_ref().is_some_and(|entry| entry.amount != amount) {
            return Err(PlansError::AlreadyExists(format!(
                "source reference {reference:?} is a payment of a different amount on the account"
            )));
        }
        let allocated = match &known {
            Some(entry) => store::plans::payment_of_account_payment(&mut tx, entry.id).await?,
            None => None,
        };
        if let (Some(entry), Some(allocated)) = (&known, &allocated)
            && allocated.plan_id == plan_id
            && entry.plan_recorded_at.is_none()
        {
            // Billing reported it first and it paid this plan then (whatever the plan's status
            // since): the agent's record confirms it, and the agent's key finds it from now on.
            let mut entry = entry.clone();
            entry.plan_recorded_at = Some(now);
            store::accounts::save_reports(&mut tx, &entry).await?;
            store::plans::rekey_payment(&mut tx, allocated.id, &key).await?;
            return self
                .answer_recorded(tx, allocated.clone(), plan_id, false)
                .await;
        }
        if !plan.is_active() {
            return Err(PlansError::FailedPrecondition(format!(
                "plan {plan_id} is {}; payments go to the account (ReportPayment)",
                plan.status.as_str_name()
            )));
        }
        if let Some(allocated) = allocated {
            // A reference names one payment: the same one recorded under another key is a
            // mistake to show, not money to swallow (a generic reference such as "card" would
            // otherwise hide next month's payment).
            return Err(if allocated.plan_id == plan_id {
                PlansError::AlreadyExists(format!(
                    "source reference {reference:?} was recorded on this plan under idempotency key {:?}; \
                     a new payment needs the bank's reference for it",
                    allocated.idempotency_key
                ))
            } else {
                PlansError::FailedPrecondition(format!(
                    "the payment with source reference {reference:?} was allocated to plan {}",
                    allocated.plan_id
                ))
            });
        }
        let mut account = load_account(&mut tx, account_id).await?;
        let entry = match known {
            // Billing reported it before the account had a plan: it moved the account then;
            // now it pays the plan, and the account does not move again.
            Some(mut entry) => {
                entry.plan_recorded_at = Some(now);
                store::accounts::save_reports(&mut tx, &entry).await?;
                entry
            }
            None => {
                post_to_account(
                    &self.0,
                    &mut tx,
                    &mut account,
                    NewMoney {
                        id: Id::new(),
                        reference: money_reference,
                        amount,
                        received_at,
                        source_reference: reference.clone(),
                        posted_by: PostedBy::Plan,
                    },
                )
                .await?
            }
        };
        let payment = allocate_to_plan(
            &self.0,
            &mut tx,
            &mut plan,
            &entry,
            PlanPaymentName {
                id: plan_payment_id,
                idempotency_key: key,
                source_reference: reference,
            },
            today,
        )
        .await?;
        super::standing::refresh(&self.0, &mut tx, plan.customer_id).await?;
        self.answer_recorded(tx, payment, plan_id, false).await
    }

    /// Answers RecordPlanPayment with the plan payment, the plan, the account's entry for the
    /// money and the account, all as they are now.
    async fn answer_recorded(
        &self,
        mut tx: rapport_storage::WriteTransaction,
        payment: PlanPayment,
        plan_id: Id,
        replayed: bool,
    ) -> Result<pb::RecordPlanPaymentResponse, PlansError> {
        let plan = store::plans::get(&mut tx, plan_id)
            .await?
            .ok_or_else(|| not_found("plan", plan_id))?;
        let entry = match payment.account_payment_id {
            Some(id) => store::accounts::payment(&mut tx, id).await?,
            None => None,
        };
        let account = load_account(&mut tx, plan.account_id).await?;
        commit(tx).await?;
        let reconciled = entry
            .as_ref()
            .is_some_and(|e| e.posted_by == PostedBy::Billing);
        Ok(pb::RecordPlanPaymentResponse {
            payment: Some(plan_payment_to_pb(&payment, plan.currency)),
            plan: Some(plan_to_pb(&plan)),
            replayed,
            account_payment: entry
                .as_ref()
                .map(|e| account_payment_to_pb(e, Some(payment.id), plan.currency)),
            account: Some(customer_account_to_pb(&self.0, &account).await?),
            reconciled,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn cancel(&self, r: pb::CancelPlanRequest) -> Result<pb::CancelPlanResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let plan_id = wire::id("plan_id", &r.plan_id, &mut v);
        let reason = wire::required_text("reason", &r.reason, wire::MAX_TEXT_CHARS, &mut v);
        wire::actor("cancelled_by", r.cancelled_by.as_ref(), &mut v);
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let plan_id = plan_id.ok_or_else(invalid)?;
        let (_, today) = self.plan_today(plan_id).await?;
        let mut tx = self.0.write().await?;
        store::plans::lock(&mut tx, Lockable::Plan, plan_id).await?;
        let mut plan = self.current(&mut tx, plan_id, today).await?;
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
        super::standing::refresh(&self.0, &mut tx, plan.customer_id).await?;
        commit(tx).await?;
        Ok(pb::CancelPlanResponse {
            plan: Some(plan_to_pb(&plan)),
        })
    }
}

/// Brings a plan up to `today` (the customer's date): misses judged, a plan completed or broken
/// as its rules say; what changed is saved and published, and the customer's standing follows.
pub(super) async fn bring_up_to_date(
    core: &Core,
    conn: &mut Conn,
    plan: &mut Plan,
    today: jiff::civil::Date,
) -> Result<(), PlansError> {
    let changes = plan.review(today, core.now(), core.rules.misses_before_broken);
    if !changes.is_empty() {
        store::plans::save_progress(conn, plan).await?;
        publish(conn, plan, &changes, core.now()).await?;
        super::standing::refresh(core, conn, plan.customer_id).await?;
    }
    Ok(())
}

/// Today on the calendar of the account's customer; read before any lock is taken.
pub(super) async fn account_today(
    core: &Core,
    account_id: Id,
) -> Result<jiff::civil::Date, PlansError> {
    let customer_id = {
        let mut conn = core.read().await?;
        load_account(&mut conn, account_id).await?.customer_id
    };
    core.customer_today(customer_id).await
}

pub(super) async fn publish(
    conn: &mut Conn,
    plan: &Plan,
    changes: &[PlanChange],
    now: Timestamp,
) -> Result<(), PlansError> {
    for change in changes {
        let event = match *change {
            PlanChange::InstallmentPaid { sequence } => PlansEvent::InstallmentPaid {
                customer_id: plan.customer_id,
                plan_id: plan.id,
                sequence,
            },
            PlanChange::InstallmentMissed {
                sequence,
                consecutive,
            } => PlansEvent::InstallmentMissed {
                customer_id: plan.customer_id,
                plan_id: plan.id,
                sequence,
                consecutive,
            },
            PlanChange::Completed => PlansEvent::PlanCompleted {
                customer_id: plan.customer_id,
                plan_id: plan.id,
            },
            PlanChange::Broken => PlansEvent::PlanBroken {
                customer_id: plan.customer_id,
                plan_id: plan.id,
            },
        };
        rapport_outbox::append(conn, &event, now).await?;
    }
    Ok(())
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

pub(crate) fn plan_to_pb(p: &Plan) -> pb::Plan {
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
