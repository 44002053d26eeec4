//! ReportingService: does helping first pay?

use std::str::FromStr;

use rapport_errors::Validation;
use rapport_money::Currency;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::reporting_service_server::ReportingService;
use rapport_wire as wire;
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{Core, answer};
use crate::domain::recovery::{self, AccountFacts, Cohort};
use crate::error::PlansError;
use crate::store;

#[derive(Debug, Clone)]
pub(crate) struct ReportingApi(pub(crate) Core);

#[tonic::async_trait]
impl ReportingService for ReportingApi {
    async fn get_recovery_report(
        &self,
        r: Request<pb::GetRecoveryReportRequest>,
    ) -> Result<Response<pb::GetRecoveryReportResponse>, Status> {
        answer(self.report(r.into_inner())).await
    }
}

impl ReportingApi {
    #[tracing::instrument(skip_all)]
    async fn report(
        &self,
        r: pb::GetRecoveryReportRequest,
    ) -> Result<pb::GetRecoveryReportResponse, PlansError> {
        let mut v = Validation::new();
        let (start, end) = match &r.period {
            None => {
                v.add("period", "is required");
                (None, None)
            }
            Some(p) => (
                wire::date("period.start", p.start.as_ref(), &mut v),
                wire::date("period.end", p.end.as_ref(), &mut v),
            ),
        };
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            v.add("period.end", "must not be before period.start");
        }
        // The period's last day is included, so it needs a next day.
        if end.is_some_and(|e| e.tomorrow().is_err()) {
            v.add("period.end", "must be before 9999-12-31");
        }
        let alpha2 = |code: &str| code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase());
        if !r.jurisdiction.is_empty() && !alpha2(&r.jurisdiction) {
            v.add(
                "jurisdiction",
                "must be empty (every jurisdiction) or an ISO 3166-1 alpha-2 code, e.g. GB",
            );
        }
        // Amounts in different currencies never add up: one report per currency.
        let currency = wire::currency("currency_code", &r.currency_code, &mut v);
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let (start, end, currency) = (
            start.ok_or_else(invalid)?,
            end.ok_or_else(invalid)?,
            currency.ok_or_else(invalid)?,
        );
        let utc = |d: jiff::civil::Date| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp());
        let from = utc(start).map_err(|_| invalid())?;
        // The period's last day is included.
        let until = end
            .tomorrow()
            .ok()
            .and_then(|d| utc(d).ok())
            .ok_or_else(invalid)?;
        let write_off = Decimal::from_str(&self.0.rules.write_off_recovery_rate)
            .map_err(|e| PlansError::Corrupt(format!("rules.write_off_recovery_rate: {e}")))?;

        let mut conn = self.0.read().await?;
        let accounts: Vec<_> = store::accounts::all(&mut conn)
            .await?
            .into_iter()
            .filter(|a| {
                a.currency == currency
                    && (r.jurisdiction.is_empty() || a.jurisdiction == r.jurisdiction)
            })
            .collect();
        let mut facts = Vec::with_capacity(accounts.len());
        for account in &accounts {
            let recovered = store::promises::paid_between(
                &mut conn,
                account.id,
                from - jiff::SignedDuration::from_micros(1),
                until - jiff::SignedDuration::from_micros(1),
            )
            .await?;
            facts.push(AccountFacts { account, recovered });
        }
        let plans = store::plans::all(&mut conn).await?;
        // Vulnerable: a vulnerability hold or a mental-health crisis moratorium, ever.
        let vulnerable: Vec<_> = store::protections::all(&mut conn)
            .await?
            .into_iter()
            .filter(|p| {
                matches!(
                    p.kind,
                    pb::ProtectionKind::VulnerabilityHold | pb::ProtectionKind::MentalHealthCrisis
                )
            })
            .map(|p| p.customer_id)
            .collect();
        let in_scope = |account_id| accounts.iter().any(|a| a.id == account_id);
        let split = |vulnerable_side: bool| {
            let f: Vec<AccountFacts<'_>> = facts
                .iter()
                .filter(|f| {
                    recovery::is_vulnerable(f.account.customer_id, &vulnerable) == vulnerable_side
                })
                .cloned()
                .collect();
            let p: Vec<&crate::domain::plan::Plan> = plans
                .iter()
                .filter(|p| {
                    in_scope(p.account_id)
                        && recovery::is_vulnerable(p.customer_id, &vulnerable) == vulnerable_side
                })
                .collect();
            recovery::cohort(&f, &p, from, until, write_off)
        };
        let all_plans: Vec<&crate::domain::plan::Plan> =
            plans.iter().filter(|p| in_scope(p.account_id)).collect();
        let total = recovery::cohort(&facts, &all_plans, from, until, write_off);
        let c = currency;
        Ok(pb::GetRecoveryReportResponse {
            period: r.period,
            currency_code: c.code().to_owned(),
            recovered: Some(wire::money_to_pb(c, total.recovered)),
            expected_write_off_recovery: Some(wire::money_to_pb(
                c,
                total.expected_write_off_recovery,
            )),
            recovery_advantage: Some(wire::money_to_pb(
                c,
                total
                    .recovered
                    .saturating_sub(total.expected_write_off_recovery),
            )),
            delinquent_accounts: i32::try_from(total.delinquent).unwrap_or(i32::MAX),
            cured_accounts: i32::try_from(total.cured).unwrap_or(i32::MAX),
            cure_rate: total.cure_rate(),
            plan_survival: survival_to_pb(&total),
            vulnerable: Some(cohort_to_pb(&split(true), c)),
            others: Some(cohort_to_pb(&split(false), c)),
            generated_at: Some(wire::timestamp_to_pb(self.0.now())),
        })
    }
}

fn survival_to_pb(c: &Cohort) -> Vec<pb::PlanSurvival> {
    c.survival
        .iter()
        .map(|s| pb::PlanSurvival {
            months: i32::try_from(s.months).unwrap_or(i32::MAX),
            plans_measured: i32::try_from(s.measured).unwrap_or(i32::MAX),
            plans_surviving: i32::try_from(s.surviving).unwrap_or(i32::MAX),
            survival_rate: s.rate(),
        })
        .collect()
}

fn cohort_to_pb(c: &Cohort, currency: Currency) -> pb::CohortOutcome {
    pb::CohortOutcome {
        accounts: i32::try_from(c.accounts).unwrap_or(i32::MAX),
        recovered: Some(wire::money_to_pb(currency, c.recovered)),
        expected_write_off_recovery: Some(wire::money_to_pb(
            currency,
            c.expected_write_off_recovery,
        )),
        cured_accounts: i32::try_from(c.cured).unwrap_or(i32::MAX),
        cure_rate: c.cure_rate(),
        plans_started: i32::try_from(c.plans_started).unwrap_or(i32::MAX),
        plans_completed: i32::try_from(c.plans_completed).unwrap_or(i32::MAX),
        plans_broken: i32::try_from(c.plans_broken).unwrap_or(i32::MAX),
        plan_survival: survival_to_pb(c),
    }
}
