//! The gRPC edge of `rapport.loyalty.v1.LoyaltyService`: prost messages in, domain types out,
//! domain errors to `Status`.

mod convert;
mod follow_ups;
mod ingest;
mod rewards;
mod scores;
mod surveys;
mod typed_event;

use std::sync::Arc;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use rapport_clock::SharedClock;
use rapport_ids::Id;
use rapport_proto::loyalty::v1 as pb;
use rapport_proto::loyalty::v1::loyalty_service_server::LoyaltyService;
use rapport_proto::profiles::v1::CustomerStatus;
use rapport_storage::{Storage, WriteTransaction};
use tonic::{Request, Response, Status};

use crate::domain::score::{self, Inputs, Score};
use crate::error::LoyaltyError;
use crate::rules::Rules;
use crate::store::{self, customers, scores as stored_scores, signals};

/// What the loyalty API shares: storage, the clock, the rules and profiles.
#[derive(Debug, Clone)]
pub(crate) struct LoyaltyApi {
    storage: Storage,
    clock: SharedClock,
    rules: Arc<Rules>,
    profiles: rapport_clients::Profiles,
}

impl LoyaltyApi {
    pub(crate) fn new(
        storage: Storage,
        clock: SharedClock,
        rules: Arc<Rules>,
        profiles: rapport_clients::Profiles,
    ) -> Self {
        Self {
            storage,
            clock,
            rules,
            profiles,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    async fn write(&self) -> Result<WriteTransaction, LoyaltyError> {
        Ok(self.storage.begin_write().await?)
    }

    /// The customer as profiles knows them: their id (a merged-away duplicate's survivor) and
    /// tenure start. NOT_FOUND when profiles does not know them; an erased customer gives no
    /// more opinions to record.
    async fn live_customer(&self, customer_id: Id) -> Result<(Id, Option<Date>), LoyaltyError> {
        let mut customer = self.profiles.customer(&customer_id.to_string()).await?;
        if customer.status == CustomerStatus::Merged as i32 {
            let survivor = Id::parse(&customer.merged_into_customer_id).map_err(|_| {
                LoyaltyError::Dependency("profiles named no survivor for a merged customer".into())
            })?;
            customer = self.profiles.customer(&survivor.to_string()).await?;
        }
        if customer.status == CustomerStatus::Erased as i32 {
            return Err(LoyaltyError::FailedPrecondition(format!(
                "customer {customer_id} was erased"
            )));
        }
        let id = Id::parse(&customer.customer_id).map_err(|_| {
            LoyaltyError::Dependency("profiles answered with a malformed id".into())
        })?;
        let since = customer.customer_since.and_then(|d| {
            Date::new(
                i16::try_from(d.year).ok()?,
                i8::try_from(d.month).ok()?,
                i8::try_from(d.day).ok()?,
            )
            .ok()
        });
        Ok((id, since))
    }

    /// An empty answer about a customer is only true of a customer: one that profiles does not
    /// know is NOT_FOUND, and UNAVAILABLE when profiles cannot say (issue 16). Asked only when
    /// a first page came back empty, so a customer with data costs no call.
    async fn ensure_exists_if_empty(
        &self,
        customer_id: Option<Id>,
        first_page_empty: bool,
    ) -> Result<(), LoyaltyError> {
        if let Some(customer_id) = customer_id
            && first_page_empty
        {
            self.profiles.customer(&customer_id.to_string()).await?;
        }
        Ok(())
    }

    /// Remembers what profiles said, in the caller's transaction.
    async fn remember(
        conn: &mut store::Conn,
        customer_id: Id,
        since: Option<Date>,
    ) -> Result<(), LoyaltyError> {
        match since {
            Some(since) => customers::remember_since(conn, customer_id, since).await,
            None => customers::ensure(conn, customer_id).await,
        }
    }
}

/// The start of the window a score is compared against for "falling".
fn falling_from(rules: &Rules, at: Timestamp) -> Timestamp {
    at - SignedDuration::from_hours(24 * i64::from(rules.model.falling_window_days))
}

/// The customer's score at `at` from what is stored (read inside `conn`'s view).
pub(crate) async fn compute(
    conn: &mut store::Conn,
    rules: &Rules,
    customer_id: Id,
    at: Timestamp,
) -> Result<(Score, Option<f64>), LoyaltyError> {
    let known = customers::known(conn, customer_id).await?;
    let signals = signals::for_customer(conn, customer_id).await?;
    let previous = stored_scores::loyalty_at(conn, customer_id, falling_from(rules, at)).await?;
    let score = score::score(
        &rules.model,
        &Inputs {
            customer_since: known.customer_since,
            products_held: known.products_held,
            signals: &signals,
            previous_loyalty: previous,
        },
        at,
    );
    Ok((score, previous))
}

/// Rescores a customer after a change, in the change's transaction: history and current.
pub(crate) async fn rescore(
    conn: &mut store::Conn,
    rules: &Rules,
    customer_id: Id,
    now: Timestamp,
) -> Result<Score, LoyaltyError> {
    let (score, _) = compute(conn, rules, customer_id, now).await?;
    stored_scores::record(
        conn,
        &[stored_scores::Entry {
            customer_id,
            score: score.clone(),
            // After a change: always a full history row.
            current: None,
        }],
    )
    .await?;
    Ok(score)
}

async fn commit(tx: WriteTransaction) -> Result<(), LoyaltyError> {
    tx.commit().await?;
    Ok(())
}

fn not_found(entity: &'static str, id: impl ToString) -> LoyaltyError {
    LoyaltyError::NotFound {
        entity,
        id: id.to_string(),
    }
}

async fn answer<T>(
    work: impl Future<Output = Result<T, LoyaltyError>>,
) -> Result<Response<T>, Status> {
    Ok(Response::new(work.await?))
}

/// Ids as span fields: only what parses as one of our ids (`rapport_wire::traced_id`).
use rapport_wire::traced_id;

#[tonic::async_trait]
impl LoyaltyService for LoyaltyApi {
    async fn record_survey_response(
        &self,
        r: Request<pb::RecordSurveyResponseRequest>,
    ) -> Result<Response<pb::RecordSurveyResponseResponse>, Status> {
        answer(self.record_response(r.into_inner())).await
    }
    async fn should_survey(
        &self,
        r: Request<pb::ShouldSurveyRequest>,
    ) -> Result<Response<pb::ShouldSurveyResponse>, Status> {
        answer(self.should(r.into_inner())).await
    }
    async fn list_follow_ups(
        &self,
        r: Request<pb::ListFollowUpsRequest>,
    ) -> Result<Response<pb::ListFollowUpsResponse>, Status> {
        answer(self.list_follow_ups(r.into_inner())).await
    }
    async fn close_follow_up(
        &self,
        r: Request<pb::CloseFollowUpRequest>,
    ) -> Result<Response<pb::CloseFollowUpResponse>, Status> {
        answer(self.close_follow_up(r.into_inner())).await
    }
    async fn get_loyalty_score(
        &self,
        r: Request<pb::GetLoyaltyScoreRequest>,
    ) -> Result<Response<pb::GetLoyaltyScoreResponse>, Status> {
        answer(self.score(r.into_inner())).await
    }
    async fn get_score_history(
        &self,
        r: Request<pb::GetScoreHistoryRequest>,
    ) -> Result<Response<pb::GetScoreHistoryResponse>, Status> {
        answer(self.history(r.into_inner())).await
    }
    async fn list_at_risk(
        &self,
        r: Request<pb::ListAtRiskRequest>,
    ) -> Result<Response<pb::ListAtRiskResponse>, Status> {
        answer(self.at_risk(r.into_inner())).await
    }
    async fn get_nps(
        &self,
        r: Request<pb::GetNpsRequest>,
    ) -> Result<Response<pb::GetNpsResponse>, Status> {
        answer(self.nps(r.into_inner())).await
    }
    async fn issue_anniversary_rewards(
        &self,
        r: Request<pb::IssueAnniversaryRewardsRequest>,
    ) -> Result<Response<pb::IssueAnniversaryRewardsResponse>, Status> {
        answer(self.anniversaries(r.into_inner())).await
    }
    async fn list_rewards(
        &self,
        r: Request<pb::ListRewardsRequest>,
    ) -> Result<Response<pb::ListRewardsResponse>, Status> {
        answer(self.list_rewards(r.into_inner())).await
    }
    async fn record_recognition(
        &self,
        r: Request<pb::RecordRecognitionRequest>,
    ) -> Result<Response<pb::RecordRecognitionResponse>, Status> {
        answer(self.recognise(r.into_inner())).await
    }
    async fn ingest_events(
        &self,
        r: Request<pb::IngestEventsRequest>,
    ) -> Result<Response<pb::IngestEventsResponse>, Status> {
        answer(self.ingest(r.into_inner())).await
    }
}
