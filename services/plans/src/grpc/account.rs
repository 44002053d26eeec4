//! AccountService: accounts fed by billing systems.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::account_service_server::AccountService;
use rapport_storage::Backend;
use rapport_wire as wire;
use tonic::{Request, Response, Status};

use super::account_view::{Surroundings, account_in_surroundings_to_pb, customer_account_to_pb};
use super::convert::{account_payment_to_pb, plan_payment_to_pb};
use super::payments::{NewMoney, PlanPaymentName, Posted, allocate_to_plan, post_to_account};
use super::{Core, answer, commit, load_account, traced_id};
use crate::domain::account::Account;
use crate::domain::affordability::{Explanation, ReasonEffect};
use crate::domain::rate::AnnualRate;
use crate::error::PlansError;
use crate::store;
use crate::store::accounts::PostedBy;

#[derive(Debug, Clone)]
pub(crate) struct AccountApi(pub(crate) Core);

#[tonic::async_trait]
impl AccountService for AccountApi {
    async fn upsert_account(
        &self,
        r: Request<pb::UpsertAccountRequest>,
    ) -> Result<Response<pb::UpsertAccountResponse>, Status> {
        answer(self.upsert(r.into_inner())).await
    }
    async fn report_payment(
        &self,
        r: Request<pb::ReportPaymentRequest>,
    ) -> Result<Response<pb::ReportPaymentResponse>, Status> {
        answer(self.report_payment(r.into_inner())).await
    }
    async fn report_arrears(
        &self,
        r: Request<pb::ReportArrearsRequest>,
    ) -> Result<Response<pb::ReportArrearsResponse>, Status> {
        answer(self.report_arrears(r.into_inner())).await
    }
    async fn get_account(
        &self,
        r: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::GetAccountResponse>, Status> {
        answer(self.get(r.into_inner())).await
    }
    async fn list_accounts(
        &self,
        r: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        answer(super::account_list::list(&self.0, r.into_inner())).await
    }
    async fn ingest_events(
        &self,
        r: Request<pb::IngestEventsRequest>,
    ) -> Result<Response<pb::IngestEventsResponse>, Status> {
        answer(super::events::ingest(&self.0, r.into_inner())).await
    }
}

impl AccountApi {
    #[tracing::instrument(skip_all, fields(customer_id = traced_id(&r.customer_id)))]
    async fn upsert(
        &self,
        r: pb::UpsertAccountRequest,
    ) -> Result<pb::UpsertAccountResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let source_system = wire::required_text(
            "source_system",
            &r.source_system,
            wire::MAX_CODE_CHARS,
            &mut v,
        );
        let external_id = wire::required_text(
            "external_account_id",
            &r.external_account_id,
            wire::MAX_CODE_CHARS,
            &mut v,
        );
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        let kind = wire::known_enum(
            "kind",
            r.kind,
            |k| pb::AccountKind::try_from(k).ok(),
            pb::AccountKind::Unspecified,
            &mut v,
        );
        let currency = wire::currency("currency_code", &r.currency_code, &mut v);
        let (balance, contractual_payment) = match currency {
            Some(c) => (
                wire::amount("balance", r.balance.as_ref(), c, &mut v),
                wire::amount(
                    "contractual_payment",
                    r.contractual_payment.as_ref(),
                    c,
                    &mut v,
                ),
            ),
            None => (None, None),
        };
        let rate = v.field("annual_rate", AnnualRate::parse(&r.annual_rate));
        if !(1..=31).contains(&r.due_day) {
            v.add("due_day", "must be a day of the month, 1–31");
        }
        let remaining = u32::try_from(r.remaining_term_months)
            .ok()
            .filter(|m| *m <= 600);
        if remaining.is_none() {
            v.add(
                "remaining_term_months",
                "must be between 0 (revolving) and 600",
            );
        }
        let jurisdiction = r.jurisdiction.clone();
        if !(jurisdiction.len() == 2 && jurisdiction.chars().all(|c| c.is_ascii_uppercase())) {
            v.add(
                "jurisdiction",
                "must be an ISO 3166-1 alpha-2 code, e.g. GB",
            );
        }
        let as_of = wire::past_instant("as_of", r.as_of.as_ref(), now, &mut v);
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let (source_system, external_id) = (
            source_system.ok_or_else(invalid)?,
            external_id.ok_or_else(invalid)?,
        );
        let (currency, as_of) = (currency.ok_or_else(invalid)?, as_of.ok_or_else(invalid)?);
        let owner = customer_id.ok_or_else(invalid)?;
        // An account belongs to a customer profiles knows (issue 16): asked before the write
        // transaction, so no lock is held across the call, and only when the owner is new.
        // An account posted under a merged-away id (billing not yet told) is the survivor's.
        let (owner, known_owner) = {
            let mut conn = self.0.read().await?;
            let owner = store::merges::survivor(&mut conn, owner).await?;
            let known = store::accounts::by_source(&mut conn, &source_system, &external_id)
                .await?
                .map(|existing| existing.customer_id);
            (owner, known)
        };
        if known_owner != Some(owner) {
            self.0.directory.ensure_known(owner, "customer_id").await?;
        }

        let mut tx = self.0.write().await?;
        let existing = store::accounts::by_source(&mut tx, &source_system, &external_id).await?;
        let created = existing.is_none();
        let mut account = match existing {
            Some(existing) => {
                if existing.currency != currency {
                    return Err(Validation::single(
                        "currency_code",
                        format!(
                            "the account is in {}; its currency cannot change",
                            existing.currency.code()
                        ),
                    )
                    .into());
                }
                if let Some(reason) =
                    stale_snapshot(as_of, r.as_of.is_some(), Some(existing.source_as_of))
                {
                    // Billing sent an older snapshot after a newer one: keep the newer, and say so.
                    commit(tx).await?;
                    return Ok(pb::UpsertAccountResponse {
                        account: Some(self.to_pb(existing).await?),
                        created: false,
                        ignored: true,
                        ignored_reason: Some(reason),
                    });
                }
                existing
            }
            None => Account {
                id: Id::new(),
                customer_id: owner,
                source_system,
                external_account_id: external_id,
                kind: pb::AccountKind::Unspecified,
                currency,
                balance: 0,
                contractual_payment: 0,
                rate: AnnualRate::zero(),
                due_day: 1,
                remaining_term_months: 0,
                jurisdiction: String::new(),
                days_past_due: 0,
                arrears: 0,
                ever_delinquent: false,
                became_delinquent_at: None,
                cured_at: None,
                last_payment: None,
                source_as_of: as_of,
                arrears_as_of: None,
                delinquent_balance: None,
                created_at: now,
                updated_at: now,
            },
        };
        account.customer_id = owner;
        account.kind = kind.ok_or_else(invalid)?;
        account.balance = balance.ok_or_else(invalid)?;
        account.contractual_payment = contractual_payment.ok_or_else(invalid)?;
        account.rate = rate.ok_or_else(invalid)?;
        account.due_day = i8::try_from(r.due_day).map_err(|_| invalid())?;
        account.remaining_term_months = remaining.ok_or_else(invalid)?;
        account.jurisdiction = jurisdiction;
        account.source_as_of = as_of;
        account.updated_at = now;
        if created {
            store::accounts::insert(&mut tx, &account).await?;
        } else {
            store::accounts::update(&mut tx, &account).await?;
        }
        commit(tx).await?;
        Ok(pb::UpsertAccountResponse {
            account: Some(self.to_pb(account).await?),
            created,
            ignored: false,
            ignored_reason: None,
        })
    }

    #[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id)))]
    async fn report_payment(
        &self,
        r: pb::ReportPaymentRequest,
    ) -> Result<pb::ReportPaymentResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let account_id = wire::id("account_id", &r.account_id, &mut v);
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
        let (account_id, key) = (account_id.ok_or_else(invalid)?, key.ok_or_else(invalid)?);

        // The writer first, no reader before it (issue 23: every pool checkout is round trips
        // to PostgreSQL). Two payments on one account at once must not both read the old
        // balance, and billing and an agent reporting the same money take turns
        // (docs/payments.md). The customer's calendar judges the plan's installments and dates
        // the answer: their zone as profiles gave it in the last minutes, or, when it is not at
        // hand, asked of profiles with no transaction open — nothing is written yet, so the
        // payment starts again (a merge may have moved the account meanwhile).
        let mut asked: Option<(Id, jiff::tz::TimeZone)> = None;
        let (mut tx, mut account, today) = loop {
            let (tx, account) = store::accounts::begin_locked(&self.0.storage, account_id).await?;
            let account = account.ok_or_else(|| super::not_found("account", account_id))?;
            let owner = account.customer_id;
            let zone = self.0.zones.fresh(owner).or_else(|| {
                asked
                    .take()
                    .and_then(|(customer, zone)| (customer == owner).then_some(zone))
            });
            if let Some(zone) = zone {
                break (
                    tx,
                    account,
                    crate::domain::schedule::customer_today(now, &zone),
                );
            }
            drop(tx);
            asked = Some((owner, self.0.zones.zone(owner).await?));
        };
        let mut v = Validation::new();
        let amount = wire::positive_amount("amount", r.amount.as_ref(), account.currency, &mut v);
        v.clone().finish()?;
        let amount = amount.ok_or_else(|| PlansError::Invalid(v.clone()))?;
        let (received_at, reference) = (
            received_at.ok_or_else(invalid)?,
            reference.ok_or_else(invalid)?,
        );

        // New money is the common case: the ledger's unique reference says when it is not. On
        // PostgreSQL the call's audit row goes into the posting's statement (a round trip less).
        let days_past_due_before = account.days_past_due;
        let commit_row = match self.0.storage.backend() {
            Backend::Postgres => tx.take_commit_row(),
            Backend::Sqlite => None,
        };
        let posted = post_to_account(
            &self.0,
            &mut tx,
            &mut account,
            NewMoney {
                id: Id::new(),
                reference: key.clone(),
                amount,
                received_at,
                source_reference: reference.clone(),
                posted_by: PostedBy::Billing,
            },
            commit_row,
        )
        .await?;
        let Some(Posted {
            payment: entry,
            around,
        }) = posted
        else {
            let mut first = store::accounts::payment_by_reference(&mut tx, account_id, &key)
                .await?
                .ok_or_else(|| {
                    PlansError::Corrupt(format!(
                        "payment reference {key:?} vanished under the account's lock"
                    ))
                })?;
            if first.amount != amount {
                return Err(PlansError::AlreadyExists(format!(
                    "idempotency key {key:?} was used for a payment of a different amount"
                )));
            }
            // A retry answers with the first payment; billing's first report of money an agent
            // recorded on a plan confirms it. Neither moves anything.
            let replayed = first.billing_reported_at.is_some();
            if !replayed {
                first.billing_reported_at = Some(now);
                if !reference.is_empty() {
                    first.source_reference = reference;
                }
                store::accounts::save_reports(&mut tx, &first).await?;
            }
            let plan_payment = store::plans::payment_of_account_payment(&mut tx, first.id).await?;
            commit(tx).await?;
            return Ok(pb::ReportPaymentResponse {
                payment: Some(account_payment_to_pb(
                    &first,
                    plan_payment.as_ref().map(|p| p.id),
                    account.currency,
                )),
                plan_payment: plan_payment
                    .as_ref()
                    .map(|p| plan_payment_to_pb(p, account.currency)),
                account: Some(self.to_pb(account).await?),
                replayed,
                reconciled: first.posted_by == PostedBy::Plan,
            });
        };
        // Money on an account with an active plan pays the plan. The plan's own lock too
        // (CancelPlan takes only that one), and the plan as it is under it.
        let mut plan_payment = None;
        let mut active_plan = None;
        let mut plan_moved = false;
        if around.active_plan.is_some()
            && let Some(mut plan) =
                store::plans::lock_active_for_account(&mut tx, account_id).await?
        {
            super::progress::bring_up_to_date(&self.0, &mut tx, &mut plan, today).await?;
            if plan.is_active() {
                plan_payment = Some(
                    allocate_to_plan(
                        &self.0,
                        &mut tx,
                        &mut plan,
                        &entry,
                        PlanPaymentName {
                            id: Id::new(),
                            idempotency_key: format!("account-payment:{}", entry.id),
                            source_reference: key,
                        },
                        today,
                    )
                    .await?,
                );
                // Paid off: no longer the account's active plan.
                plan_moved = !plan.is_active();
            }
            active_plan = plan.is_active().then(|| plan.terms());
        }
        // Standing reads each account's days past due and its plans' statuses, nothing else a
        // payment moves (`standing::evaluate`); a plan brought up to date published its own. So
        // a payment that moved neither leaves the verdict as it was.
        if account.days_past_due != days_past_due_before || plan_moved {
            super::standing::refresh(&self.0, &mut tx, account.customer_id).await?;
        }
        let protections = if around.protections > 0 {
            store::protections::for_customer(&mut tx, account.customer_id).await?
        } else {
            Vec::new()
        };
        commit(tx).await?;
        // Written or read in this transaction: nothing is read back.
        let view = account_in_surroundings_to_pb(
            &self.0,
            &account,
            today,
            &Surroundings {
                protections,
                open_case: around.open_case,
                active_plan,
            },
        );
        Ok(pb::ReportPaymentResponse {
            payment: Some(account_payment_to_pb(
                &entry,
                plan_payment.as_ref().map(|p| p.id),
                account.currency,
            )),
            plan_payment: plan_payment
                .as_ref()
                .map(|p| plan_payment_to_pb(p, account.currency)),
            account: Some(view),
            replayed: false,
            reconciled: false,
        })
    }

    #[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id)))]
    async fn report_arrears(
        &self,
        r: pb::ReportArrearsRequest,
    ) -> Result<pb::ReportArrearsResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let account_id = wire::id("account_id", &r.account_id, &mut v);
        let days = u32::try_from(r.days_past_due).ok();
        if days.is_none() {
            v.add("days_past_due", "must not be negative");
        }
        let as_of = wire::past_instant("as_of", r.as_of.as_ref(), now, &mut v);
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let (account_id, days, as_of) = (
            account_id.ok_or_else(invalid)?,
            days.ok_or_else(invalid)?,
            as_of.ok_or_else(invalid)?,
        );

        let mut tx = self.0.write().await?;
        let mut account = load_account(&mut tx, account_id).await?;
        if let Some(reason) = stale_snapshot(as_of, r.as_of.is_some(), account.arrears_as_of) {
            // An older report arriving late never rewinds the account, and the caller is told.
            commit(tx).await?;
            return Ok(pb::ReportArrearsResponse {
                account: Some(self.to_pb(account).await?),
                ignored: true,
                ignored_reason: Some(reason),
            });
        }
        let mut v = Validation::new();
        let arrears = wire::amount(
            "arrears_amount",
            r.arrears_amount.as_ref(),
            account.currency,
            &mut v,
        );
        if let Some(arrears) = arrears {
            if arrears > account.balance {
                v.add("arrears_amount", "must not exceed the account's balance");
            }
            if (arrears == 0) != (days == 0) {
                v.add(
                    "days_past_due",
                    "must be 0 exactly when arrears_amount is 0",
                );
            }
        }
        v.clone().finish()?;
        account.report_arrears(days, arrears.ok_or(PlansError::Invalid(v))?, as_of);
        account.arrears_as_of = Some(as_of);
        account.updated_at = now;
        store::accounts::update(&mut tx, &account).await?;
        super::standing::refresh(&self.0, &mut tx, account.customer_id).await?;
        commit(tx).await?;
        Ok(pb::ReportArrearsResponse {
            account: Some(self.to_pb(account).await?),
            ignored: false,
            ignored_reason: None,
        })
    }

    #[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id)))]
    async fn get(&self, r: pb::GetAccountRequest) -> Result<pb::GetAccountResponse, PlansError> {
        let mut v = Validation::new();
        let account_id = wire::id("account_id", &r.account_id, &mut v);
        v.clone().finish()?;
        let account_id = account_id.ok_or(PlansError::Invalid(v))?;
        let mut conn = self.0.read().await?;
        let account = load_account(&mut conn, account_id).await?;
        drop(conn);
        Ok(pb::GetAccountResponse {
            account: Some(self.to_pb(account).await?),
        })
    }

    /// The account as callers see it, with what protections and plans mean for it now, and its
    /// next due date on the customer's calendar.
    async fn to_pb(&self, account: Account) -> Result<pb::Account, PlansError> {
        customer_account_to_pb(&self.0, &account).await
    }
}

/// Why a billing snapshot taken at `as_of` is not applied over one taken at `stored`, if it is
/// not. Both are kept to the microsecond (wire::timestamp truncates to what storage keeps), so
/// two snapshots in the same second but different microseconds are ordered, not merged. One as
/// old as the stored one is a repeat when the caller named its time; an empty `as_of` is "now",
/// which orders by arrival, so it is stale only when strictly older (a clock behind the stored
/// snapshot's skew).
fn stale_snapshot(
    as_of: jiff::Timestamp,
    explicit: bool,
    stored: Option<jiff::Timestamp>,
) -> Option<rapport_proto::common::v1::Reason> {
    let stored = stored?;
    let stale = as_of < stored || (explicit && as_of == stored);
    stale.then(|| {
        rapport_wire::reason_to_pb(
            &Explanation::new(
                "STALE_SNAPSHOT",
                ReasonEffect::Opposes,
                "",
                format!(
                    "billing's snapshot of {as_of} is not newer than the one already applied \
                     ({stored}); nothing changed"
                ),
            )
            .param("as_of", as_of)
            .param("stored_as_of", stored),
        )
    })
}
