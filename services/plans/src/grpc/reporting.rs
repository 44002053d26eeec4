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
use crate::domain::recovery::{AccountOutcome, Cohort, PlanOutcome};
use crate::error::PlansError;
use crate::store;

/// Accounts per page of the report (also the size of the plans query's IN list).
const REPORT_PAGE: i64 = 500;

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

        let now = self.0.now();
        let (mut vulnerable, mut others) = (Cohort::default(), Cohort::default());
        // Pages by account id: the report never holds more than one page of accounts.
        let mut after = String::new();
        loop {
            let page = {
                let mut conn = self.0.read().await?;
                let page = store::recovery::delinquent_page(
                    &mut conn,
                    currency,
                    &r.jurisdiction,
                    from,
                    until,
                    &after,
                    REPORT_PAGE,
                )
                .await?;
                let ids: Vec<_> = page.iter().map(|a| a.account_id).collect();
                let plans = store::recovery::plans_started(&mut conn, &ids, from, until).await?;
                (page, plans)
            };
            let (accounts, plans) = page;
            let Some(last) = accounts.last() else { break };
            after = last.account_id.to_string();
            // Vulnerable: plans' own holds, or the vulnerability profiles records (asked once per
            // customer in the page, outside any transaction).
            let mut vulnerable_accounts = std::collections::HashSet::new();
            let mut asked = std::collections::HashMap::new();
            for a in &accounts {
                let is_vulnerable = if a.held {
                    true
                } else if let Some(known) = asked.get(&a.customer_id) {
                    *known
                } else {
                    let known = self.profile_vulnerable(a.customer_id).await?;
                    asked.insert(a.customer_id, known);
                    known
                };
                if is_vulnerable {
                    vulnerable_accounts.insert(a.account_id);
                }
                let cohort = if is_vulnerable {
                    &mut vulnerable
                } else {
                    &mut others
                };
                cohort.add_account(&AccountOutcome {
                    baseline: a.baseline,
                    cured: a.cured,
                    recovered: a.recovered,
                });
            }
            for p in &plans {
                let cohort = if vulnerable_accounts.contains(&p.account_id) {
                    &mut vulnerable
                } else {
                    &mut others
                };
                cohort.add_plan(
                    &PlanOutcome {
                        status: p.status,
                        accepted_at: p.accepted_at,
                        ended_at: p.ended_at,
                    },
                    now,
                );
            }
            if i64::try_from(accounts.len()).unwrap_or(i64::MAX) < REPORT_PAGE {
                break;
            }
        }
        let total = vulnerable.merged(&others);
        let c = currency;
        let expected = total.expected_write_off_recovery(write_off);
        Ok(pb::GetRecoveryReportResponse {
            period: r.period,
            currency_code: c.code().to_owned(),
            recovered: Some(wire::money_to_pb(c, total.recovered_minor())),
            expected_write_off_recovery: Some(wire::money_to_pb(c, expected)),
            recovery_advantage: Some(wire::money_to_pb(
                c,
                total.recovered_minor().saturating_sub(expected),
            )),
            delinquent_accounts: i32::try_from(total.accounts).unwrap_or(i32::MAX),
            cured_accounts: i32::try_from(total.cured).unwrap_or(i32::MAX),
            cure_rate: total.cure_rate(),
            plan_survival: survival_to_pb(&total),
            vulnerable: Some(cohort_to_pb(&vulnerable, c, write_off)),
            others: Some(cohort_to_pb(&others, c, write_off)),
            generated_at: Some(wire::timestamp_to_pb(now)),
        })
    }

    /// Whether profiles records a vulnerability for the customer. A customer profiles no longer
    /// knows (erased) has none on record.
    async fn profile_vulnerable(&self, customer_id: rapport_ids::Id) -> Result<bool, PlansError> {
        match self.0.directory.contact_profile(customer_id).await {
            Ok(profile) => Ok(profile.vulnerable),
            Err(PlansError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
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

fn cohort_to_pb(c: &Cohort, currency: Currency, write_off: Decimal) -> pb::CohortOutcome {
    pb::CohortOutcome {
        accounts: i32::try_from(c.accounts).unwrap_or(i32::MAX),
        recovered: Some(wire::money_to_pb(currency, c.recovered_minor())),
        expected_write_off_recovery: Some(wire::money_to_pb(
            currency,
            c.expected_write_off_recovery(write_off),
        )),
        cured_accounts: i32::try_from(c.cured).unwrap_or(i32::MAX),
        cure_rate: c.cure_rate(),
        plans_started: i32::try_from(c.plans_started).unwrap_or(i32::MAX),
        plans_completed: i32::try_from(c.plans_completed).unwrap_or(i32::MAX),
        plans_broken: i32::try_from(c.plans_broken).unwrap_or(i32::MAX),
        plan_survival: survival_to_pb(c),
    }
}
