//! The gRPC edge of `rapport.referrals.v1.ReferralService`.

mod convert;
mod events;
mod referrals;
mod rewards;
mod seeds;
pub(crate) mod trust;
mod vouches;

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_clock::SharedClock;
use rapport_ids::Id;
use rapport_proto::referrals::v1 as pb;
use rapport_proto::referrals::v1::referral_service_server::ReferralService;
use rapport_storage::{Storage, WriteTransaction};
use tonic::{Request, Response, Status};

use crate::domain::fraud;
use crate::domain::member::Member;
use crate::domain::standing::Standing;
use crate::error::ReferralsError;
use crate::rules::Rules;
use crate::settings::TrustSettings;

/// What the referral API shares: storage, the clock, the rules and profiles.
#[derive(Debug, Clone)]
pub(crate) struct ReferralApi {
    storage: Storage,
    clock: SharedClock,
    rules: Arc<Rules>,
    profiles: rapport_clients::Profiles,
    /// How old a stored trust answer may be served.
    trust: Arc<TrustSettings>,
}

impl ReferralApi {
    pub(crate) fn new(
        storage: Storage,
        clock: SharedClock,
        rules: Arc<Rules>,
        profiles: rapport_clients::Profiles,
        trust: Arc<TrustSettings>,
    ) -> Self {
        Self {
            storage,
            clock,
            rules,
            profiles,
            trust,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn today(&self) -> Date {
        self.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    async fn write(&self) -> Result<WriteTransaction, ReferralsError> {
        Ok(self.storage.begin_write().await?)
    }

    /// Tenure, standing and contact points of a customer: tenure and status from profiles
    /// (remembered for the trust graph), good standing from what plans published.
    async fn member(&self, customer_id: Id) -> Result<Member, ReferralsError> {
        let mut member = self.read_member(customer_id).await?;
        let mut tx = self.write().await?;
        let before = crate::store::members::get(&mut tx, customer_id).await?;
        crate::store::members::remember(
            &mut tx,
            customer_id,
            member.customer_since,
            member.active,
            self.now(),
        )
        .await?;
        // Tenure weighs a customer's vouches and seeds trust; status decides standing: either
        // changing changes the trust graph.
        if before
            .is_none_or(|m| (m.customer_since, m.active) != (member.customer_since, member.active))
        {
            crate::store::trust::graph_changed(&mut tx, self.now()).await?;
        }
        let inactive_since = crate::store::members::get(&mut tx, customer_id)
            .await?
            .and_then(|m| m.inactive_since);
        let published = crate::store::standings::get(&mut tx, customer_id).await?;
        commit(tx).await?;
        member.standing = Standing::of(
            member.active,
            inactive_since,
            published.as_ref(),
            self.now(),
        );
        Ok(member)
    }

    /// The customer as profiles knows them (NOT_FOUND when it does not), with the standing
    /// plans published; the first sight of an inactive status counts from now.
    async fn read_member(&self, customer_id: Id) -> Result<Member, ReferralsError> {
        let customer = self.profiles.customer(&customer_id.to_string()).await?;
        let since = customer
            .customer_since
            .and_then(|d| {
                Date::new(
                    i16::try_from(d.year).ok()?,
                    i8::try_from(d.month).ok()?,
                    i8::try_from(d.day).ok()?,
                )
                .ok()
            })
            .ok_or_else(|| {
                ReferralsError::Dependency("profiles returned no tenure start".into())
            })?;
        let active = customer.status == rapport_proto::profiles::v1::CustomerStatus::Active as i32;
        let published = {
            let mut conn = self.storage.reader().acquire().await?;
            crate::store::standings::get(&mut conn, customer_id).await?
        };
        Ok(Member {
            customer_since: since,
            active,
            standing: Standing::of(active, None, published.as_ref(), self.now()),
            emails: customer
                .emails
                .iter()
                .filter_map(|e| fraud::normalise_email(&e.address))
                .collect(),
            phones: customer
                .phones
                .iter()
                .filter_map(|p| fraud::normalise_phone(&p.e164))
                .collect(),
            addresses: customer
                .addresses
                .iter()
                .filter_map(|a| a.address.as_ref())
                .filter_map(|a| fraud::normalise_address(&a.lines, &a.postal_code, &a.country_code))
                .collect(),
        })
    }
}

async fn commit(tx: WriteTransaction) -> Result<(), ReferralsError> {
    tx.commit().await?;
    Ok(())
}

fn not_found(entity: &'static str, id: impl ToString) -> ReferralsError {
    ReferralsError::NotFound {
        entity,
        id: id.to_string(),
    }
}

async fn answer<T>(
    work: impl Future<Output = Result<T, ReferralsError>>,
) -> Result<Response<T>, Status> {
    Ok(Response::new(work.await?))
}

/// Ids as span fields: only what parses as one of our ids (`rapport_wire::traced_id`).
use rapport_wire::traced_id;

#[tonic::async_trait]
impl ReferralService for ReferralApi {
    async fn issue_referral_code(
        &self,
        r: Request<pb::IssueReferralCodeRequest>,
    ) -> Result<Response<pb::IssueReferralCodeResponse>, Status> {
        answer(self.issue_code(r.into_inner())).await
    }
    async fn create_referral(
        &self,
        r: Request<pb::CreateReferralRequest>,
    ) -> Result<Response<pb::CreateReferralResponse>, Status> {
        answer(self.create(r.into_inner())).await
    }
    async fn attribute_signup(
        &self,
        r: Request<pb::AttributeSignupRequest>,
    ) -> Result<Response<pb::AttributeSignupResponse>, Status> {
        answer(self.attribute(r.into_inner())).await
    }
    async fn get_referral(
        &self,
        r: Request<pb::GetReferralRequest>,
    ) -> Result<Response<pb::GetReferralResponse>, Status> {
        answer(self.get(r.into_inner())).await
    }
    async fn list_referrals(
        &self,
        r: Request<pb::ListReferralsRequest>,
    ) -> Result<Response<pb::ListReferralsResponse>, Status> {
        answer(self.list(r.into_inner())).await
    }
    async fn request_vouch(
        &self,
        r: Request<pb::RequestVouchRequest>,
    ) -> Result<Response<pb::RequestVouchResponse>, Status> {
        answer(self.request_vouch(r.into_inner())).await
    }
    async fn respond_to_vouch(
        &self,
        r: Request<pb::RespondToVouchRequest>,
    ) -> Result<Response<pb::RespondToVouchResponse>, Status> {
        answer(self.respond(r.into_inner())).await
    }
    async fn get_trust(
        &self,
        r: Request<pb::GetTrustRequest>,
    ) -> Result<Response<pb::GetTrustResponse>, Status> {
        answer(self.trust(r.into_inner())).await
    }
    async fn evaluate_qualifications(
        &self,
        r: Request<pb::EvaluateQualificationsRequest>,
    ) -> Result<Response<pb::EvaluateQualificationsResponse>, Status> {
        answer(self.evaluate(r.into_inner())).await
    }
    async fn list_rewards(
        &self,
        r: Request<pb::ListRewardsRequest>,
    ) -> Result<Response<pb::ListRewardsResponse>, Status> {
        answer(self.list_rewards(r.into_inner())).await
    }
    async fn list_fraud_flags(
        &self,
        r: Request<pb::ListFraudFlagsRequest>,
    ) -> Result<Response<pb::ListFraudFlagsResponse>, Status> {
        answer(self.list_flags(r.into_inner())).await
    }
    async fn resolve_fraud_flag(
        &self,
        r: Request<pb::ResolveFraudFlagRequest>,
    ) -> Result<Response<pb::ResolveFraudFlagResponse>, Status> {
        answer(self.resolve_flag(r.into_inner())).await
    }
    async fn ingest_events(
        &self,
        r: Request<pb::IngestEventsRequest>,
    ) -> Result<Response<pb::IngestEventsResponse>, Status> {
        answer(self.ingest(r.into_inner())).await
    }
}
