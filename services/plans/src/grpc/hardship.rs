//! HardshipService: cases, income & expenditure, affordability, debt advice, protections.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::hardship_service_server::HardshipService;
use rapport_wire as wire;
use tonic::{Request, Response, Status};

use super::convert::{
    affordability_to_pb, case_to_pb, protection_to_pb, referral_to_pb, statement_from_pb,
};
use super::{Core, answer, commit, not_found, traced_id};
use crate::domain::affordability::{self, Assessment};
use crate::domain::case::{HardshipCase, Referral, SubmittedStatement};
use crate::domain::events::PlansEvent;
use crate::domain::protection::{self, Clearance, Protection};
use crate::error::PlansError;
use crate::store::{self, Conn};

#[derive(Debug, Clone)]
pub(crate) struct HardshipApi(pub(crate) Core);

#[tonic::async_trait]
impl HardshipService for HardshipApi {
    async fn open_hardship_case(
        &self,
        r: Request<pb::OpenHardshipCaseRequest>,
    ) -> Result<Response<pb::OpenHardshipCaseResponse>, Status> {
        answer(self.open_case(r.into_inner())).await
    }
    async fn submit_income_expenditure(
        &self,
        r: Request<pb::SubmitIncomeExpenditureRequest>,
    ) -> Result<Response<pb::SubmitIncomeExpenditureResponse>, Status> {
        answer(self.submit(r.into_inner())).await
    }
    async fn get_affordability(
        &self,
        r: Request<pb::GetAffordabilityRequest>,
    ) -> Result<Response<pb::GetAffordabilityResponse>, Status> {
        answer(self.affordability(r.into_inner())).await
    }
    async fn refer_to_debt_advice(
        &self,
        r: Request<pb::ReferToDebtAdviceRequest>,
    ) -> Result<Response<pb::ReferToDebtAdviceResponse>, Status> {
        answer(self.refer(r.into_inner())).await
    }
    async fn set_protection(
        &self,
        r: Request<pb::SetProtectionRequest>,
    ) -> Result<Response<pb::SetProtectionResponse>, Status> {
        answer(self.set_protection(r.into_inner())).await
    }
    async fn clear_protection(
        &self,
        r: Request<pb::ClearProtectionRequest>,
    ) -> Result<Response<pb::ClearProtectionResponse>, Status> {
        answer(self.clear_protection(r.into_inner())).await
    }
    async fn list_hardship_cases(
        &self,
        r: Request<pb::ListHardshipCasesRequest>,
    ) -> Result<Response<pb::ListHardshipCasesResponse>, Status> {
        answer(super::case_read::list(&self.0, r.into_inner())).await
    }
    async fn get_hardship_case(
        &self,
        r: Request<pb::GetHardshipCaseRequest>,
    ) -> Result<Response<pb::GetHardshipCaseResponse>, Status> {
        answer(super::case_read::get(&self.0, r.into_inner())).await
    }
    async fn list_protections(
        &self,
        r: Request<pb::ListProtectionsRequest>,
    ) -> Result<Response<pb::ListProtectionsResponse>, Status> {
        answer(super::protection_list::list(&self.0, r.into_inner())).await
    }
}

/// Assesses the case's latest statement.
pub(crate) fn assess(submitted: &SubmittedStatement) -> Result<Assessment, PlansError> {
    affordability::assess_in_currency(&submitted.statement, submitted.currency.code()).map_err(
        |e| match e {
            affordability::AffordabilityError::NegativeLine { section, index } => {
                PlansError::Invalid(Validation::single(
                    format!("income_expenditure.{section}[{index}]"),
                    "must not be negative",
                ))
            }
            other => {
                PlansError::Invalid(Validation::single("income_expenditure", other.to_string()))
            }
        },
    )
}

impl HardshipApi {
    async fn case(&self, conn: &mut Conn, case_id: Id) -> Result<HardshipCase, PlansError> {
        store::cases::get(conn, case_id)
            .await?
            .ok_or_else(|| not_found("hardship case", case_id))
    }

    #[tracing::instrument(skip_all, fields(customer_id = traced_id(&r.customer_id)))]
    async fn open_case(
        &self,
        r: pb::OpenHardshipCaseRequest,
    ) -> Result<pb::OpenHardshipCaseResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        let mut account_ids = Vec::new();
        for (i, account) in r.account_ids.iter().enumerate() {
            if let Some(id) = wire::id(&format!("account_ids[{i}]"), account, &mut v) {
                account_ids.push(id);
            }
        }
        if r.account_ids.is_empty() {
            v.add("account_ids", "name at least one account the case covers");
        }
        let reason = wire::known_enum(
            "reason",
            r.reason,
            |k| pb::HardshipReason::try_from(k).ok(),
            pb::HardshipReason::Unspecified,
            &mut v,
        );
        let detail = wire::optional_text(
            "reason_detail",
            &r.reason_detail,
            wire::MAX_TEXT_CHARS,
            &mut v,
        );
        let opened_by = wire::actor("opened_by", r.opened_by.as_ref(), &mut v);
        if let Some(actor) = &opened_by
            && !matches!(
                actor.kind,
                common::ActorKind::Agent
                    | common::ActorKind::Customer
                    | common::ActorKind::DebtAdviser
                    | common::ActorKind::Supervisor
            )
        {
            v.add(
                "opened_by.kind",
                "a case is opened by an agent, the customer or a debt adviser",
            );
        }
        let request_id = wire::request_id("request_id", &r.request_id, &mut v);
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let customer_id = customer_id.ok_or_else(invalid)?;

        let mut tx = self.0.write().await?;
        let customer_id = store::merges::survivor(&mut tx, customer_id).await?;
        if let Some(request_id) = &request_id
            && let Some(existing) = store::cases::by_request(&mut tx, request_id).await?
        {
            let case = self.case(&mut tx, existing).await?;
            return Ok(pb::OpenHardshipCaseResponse {
                hardship_case: Some(case_to_pb(&case)),
            });
        }
        for (i, account_id) in account_ids.iter().enumerate() {
            let account = super::load_account(&mut tx, *account_id).await?;
            if account.customer_id != customer_id {
                return Err(Validation::single(
                    format!("account_ids[{i}]"),
                    "belongs to another customer",
                )
                .into());
            }
        }
        let case = HardshipCase {
            id: Id::new(),
            customer_id,
            account_ids,
            reason: reason.ok_or_else(invalid)?,
            reason_detail: detail.ok_or_else(invalid)?,
            opened_by: opened_by.ok_or_else(invalid)?,
            open: true,
            opened_at: now,
            closed_at: None,
            statement: None,
            referrals: Vec::new(),
        };
        store::cases::insert(&mut tx, &case, request_id.as_deref()).await?;
        rapport_outbox::append(
            &mut tx,
            &PlansEvent::CaseOpened {
                customer_id,
                case_id: case.id,
                reason: case.reason.as_str_name(),
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::OpenHardshipCaseResponse {
            hardship_case: Some(case_to_pb(&case)),
        })
    }

    #[tracing::instrument(skip_all, fields(case_id = traced_id(&r.case_id)))]
    async fn submit(
        &self,
        r: pb::SubmitIncomeExpenditureRequest,
    ) -> Result<pb::SubmitIncomeExpenditureResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let case_id = wire::id("case_id", &r.case_id, &mut v);
        let submitted_by = wire::actor("submitted_by", r.submitted_by.as_ref(), &mut v);
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let case_id = case_id.ok_or_else(invalid)?;

        let mut tx = self.0.write().await?;
        let case = self.case(&mut tx, case_id).await?;
        if !case.open {
            return Err(PlansError::FailedPrecondition(format!(
                "hardship case {case_id} is closed"
            )));
        }
        // The statement is in the currency of the accounts it covers.
        let first_account = case
            .account_ids
            .first()
            .copied()
            .ok_or_else(|| PlansError::Corrupt("case without accounts".into()))?;
        let currency = super::load_account(&mut tx, first_account).await?.currency;
        let mut v = Validation::new();
        let statement = statement_from_pb(r.income_expenditure.as_ref(), currency, &mut v);
        v.clone().finish()?;
        let submitted = SubmittedStatement {
            currency,
            statement: statement.ok_or(PlansError::Invalid(v))?,
            submitted_by: submitted_by.ok_or_else(invalid)?,
            submitted_at: now,
        };
        let assessment = assess(&submitted)?;
        store::cases::save_statement(&mut tx, case_id, &submitted).await?;
        commit(tx).await?;
        Ok(pb::SubmitIncomeExpenditureResponse {
            affordability: Some(affordability_to_pb(case_id, currency, &assessment, now)),
        })
    }

    #[tracing::instrument(skip_all, fields(case_id = traced_id(&r.case_id)))]
    async fn affordability(
        &self,
        r: pb::GetAffordabilityRequest,
    ) -> Result<pb::GetAffordabilityResponse, PlansError> {
        let mut v = Validation::new();
        let case_id = wire::id("case_id", &r.case_id, &mut v);
        v.clone().finish()?;
        let case_id = case_id.ok_or(PlansError::Invalid(v))?;
        let mut conn = self.0.read().await?;
        let case = self.case(&mut conn, case_id).await?;
        let submitted = case.statement.ok_or_else(|| {
            PlansError::FailedPrecondition(format!(
                "hardship case {case_id} has no income & expenditure yet"
            ))
        })?;
        let assessment = assess(&submitted)?;
        Ok(pb::GetAffordabilityResponse {
            affordability: Some(affordability_to_pb(
                case_id,
                submitted.currency,
                &assessment,
                submitted.submitted_at,
            )),
        })
    }

    #[tracing::instrument(skip_all, fields(case_id = traced_id(&r.case_id)))]
    async fn refer(
        &self,
        r: pb::ReferToDebtAdviceRequest,
    ) -> Result<pb::ReferToDebtAdviceResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let case_id = wire::id("case_id", &r.case_id, &mut v);
        let service = self
            .0
            .rules
            .debt_advice
            .iter()
            .find(|s| s.service_id == r.service_id)
            .cloned();
        if service.is_none() {
            let known: Vec<&str> = self
                .0
                .rules
                .debt_advice
                .iter()
                .map(|s| s.service_id.as_str())
                .collect();
            v.add(
                "service_id",
                format!("is not in the debt-advice directory ({})", known.join(", ")),
            );
        }
        let referred_by = wire::actor("referred_by", r.referred_by.as_ref(), &mut v);
        let notes = wire::optional_text("notes", &r.notes, wire::MAX_TEXT_CHARS, &mut v);
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let case_id = case_id.ok_or_else(invalid)?;

        let mut tx = self.0.write().await?;
        let case = self.case(&mut tx, case_id).await?;
        if !case.open {
            return Err(PlansError::FailedPrecondition(format!(
                "hardship case {case_id} is closed"
            )));
        }
        let referral = Referral {
            id: Id::new(),
            case_id,
            service_id: r.service_id.clone(),
            referred_by: referred_by.ok_or_else(invalid)?,
            customer_consented: r.customer_consented,
            referred_at: now,
            notes: notes.ok_or_else(invalid)?,
        };
        store::cases::insert_referral(&mut tx, &referral).await?;
        commit(tx).await?;
        Ok(pb::ReferToDebtAdviceResponse {
            referral: Some(referral_to_pb(&referral, &self.0.rules)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = traced_id(&r.customer_id), case_id = traced_id(&r.case_id)))]
    async fn set_protection(
        &self,
        r: pb::SetProtectionRequest,
    ) -> Result<pb::SetProtectionResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        let mut account_ids = Vec::new();
        for (i, account) in r.account_ids.iter().enumerate() {
            if let Some(id) = wire::id(&format!("account_ids[{i}]"), account, &mut v) {
                account_ids.push(id);
            }
        }
        let kind = wire::known_enum(
            "kind",
            r.kind,
            |k| pb::ProtectionKind::try_from(k).ok(),
            pb::ProtectionKind::Unspecified,
            &mut v,
        );
        let starts_at = match &r.starts_at {
            Some(t) => wire::timestamp("starts_at", t, &mut v),
            None => Some(now),
        };
        let reference =
            wire::optional_text("reference", &r.reference, wire::MAX_CODE_CHARS, &mut v);
        let reason = wire::optional_text("reason", &r.reason, wire::MAX_TEXT_CHARS, &mut v);
        let set_by = wire::actor("set_by", r.set_by.as_ref(), &mut v);
        let request_id = wire::request_id("request_id", &r.request_id, &mut v);
        if !r.case_id.is_empty() {
            wire::id("case_id", &r.case_id, &mut v);
        }
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let (customer_id, kind, starts_at) = (
            customer_id.ok_or_else(invalid)?,
            kind.ok_or_else(invalid)?,
            starts_at.ok_or_else(invalid)?,
        );
        // With accounts named, their owner proves the customer; without, profiles must know
        // them (issue 16). Asked before the write transaction.
        if account_ids.is_empty() {
            self.0
                .directory
                .ensure_known(customer_id, "customer_id")
                .await?;
        }

        let mut tx = self.0.write().await?;
        if let Some(request_id) = &request_id
            && let Some(existing) = store::protections::by_request(&mut tx, request_id).await?
        {
            return Ok(pb::SetProtectionResponse {
                protection: Some(protection_to_pb(&existing, now)),
            });
        }
        let customer_id = store::merges::survivor(&mut tx, customer_id).await?;
        for (i, account_id) in account_ids.iter().enumerate() {
            let account = super::load_account(&mut tx, *account_id).await?;
            if account.customer_id != customer_id {
                return Err(Validation::single(
                    format!("account_ids[{i}]"),
                    "belongs to another customer",
                )
                .into());
            }
        }
        if kind == pb::ProtectionKind::BreathingSpace {
            let earlier = store::protections::for_customer(&mut tx, customer_id).await?;
            if let Some(blocking) =
                protection::breathing_space_blocked_by(&earlier, starts_at, &self.0.rules)
            {
                let eligible = protection::eligible_again(blocking, &self.0.rules)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                return Err(PlansError::FailedPrecondition(format!(
                    "a standard breathing space began on {blocking}; at most one is allowed in any {} months \
                     (Debt Respite Scheme Regulations 2020); the next can start from {eligible}. \
                     A mental-health crisis moratorium has no such limit.",
                    self.0.rules.breathing_space_window_months
                )));
            }
        }
        let protection = Protection {
            id: Id::new(),
            customer_id,
            account_ids,
            kind,
            starts_at,
            ends_at: Protection::natural_end(kind, starts_at, &self.0.rules),
            reference: reference.ok_or_else(invalid)?,
            reason: reason.ok_or_else(invalid)?,
            case_id: r.case_id.clone(),
            set_by: set_by.ok_or_else(invalid)?,
            cleared: None,
        };
        store::protections::insert(&mut tx, &protection, request_id.as_deref()).await?;
        rapport_outbox::append(
            &mut tx,
            &PlansEvent::ProtectionSet {
                customer_id,
                protection_id: protection.id,
                kind: kind.as_str_name(),
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::SetProtectionResponse {
            protection: Some(protection_to_pb(&protection, now)),
        })
    }

    #[tracing::instrument(skip_all, fields(protection_id = traced_id(&r.protection_id)))]
    async fn clear_protection(
        &self,
        r: pb::ClearProtectionRequest,
    ) -> Result<pb::ClearProtectionResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let protection_id = wire::id("protection_id", &r.protection_id, &mut v);
        let reason = wire::required_text("reason", &r.reason, wire::MAX_TEXT_CHARS, &mut v);
        let cleared_by = wire::actor("cleared_by", r.cleared_by.as_ref(), &mut v);
        let treatment_ended_at = r
            .treatment_ended_at
            .as_ref()
            .and_then(|t| wire::past_instant("treatment_ended_at", Some(t), now, &mut v));
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let protection_id = protection_id.ok_or_else(invalid)?;

        let mut tx = self.0.write().await?;
        let mut protection = store::protections::get(&mut tx, protection_id)
            .await?
            .ok_or_else(|| not_found("protection", protection_id))?;
        if protection.cleared.is_some() || !protection.in_force(now) {
            // Clearing twice is a retry; the first clearance stands.
            return Ok(pb::ClearProtectionResponse {
                protection: Some(protection_to_pb(&protection, now)),
            });
        }
        if protection.kind == pb::ProtectionKind::MentalHealthCrisis && treatment_ended_at.is_none()
        {
            return Err(Validation::single(
                "treatment_ended_at",
                "a mental-health crisis moratorium ends 30 days after crisis treatment ends: say when it ended",
            )
            .into());
        }
        protection.ends_at =
            Some(protection.end_when_cleared(now, treatment_ended_at, &self.0.rules));
        protection.cleared = Some(Clearance {
            at: now,
            by: cleared_by.ok_or_else(invalid)?,
            reason: reason.ok_or_else(invalid)?,
        });
        store::protections::clear(&mut tx, &protection).await?;
        rapport_outbox::append(
            &mut tx,
            &PlansEvent::ProtectionCleared {
                customer_id: protection.customer_id,
                protection_id,
                kind: protection.kind.as_str_name(),
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::ClearProtectionResponse {
            protection: Some(protection_to_pb(&protection, now)),
        })
    }
}
