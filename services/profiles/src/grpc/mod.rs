//! The gRPC edge of `rapport.profiles.v1.ProfileService`: each RPC converts its request
//! (`convert`), does its work in one transaction (`store`), and answers; errors become a
//! `Status` in exactly one place (`crate::error`).

mod care;
mod convert;
mod customers;
mod lifecycle;
mod read_cache;
mod timeline;

use std::sync::Arc;

use jiff::Timestamp;
use rapport_clock::SharedClock;
use rapport_ids::Id;
use rapport_proto::profiles::v1 as pb;
use rapport_proto::profiles::v1::profile_service_server::ProfileService;
use rapport_storage::sqlx::Any;
use rapport_storage::sqlx::pool::PoolConnection;
use rapport_storage::{Storage, WriteTransaction};
use tonic::{Request, Response, Status};

use crate::domain::customer::{Customer, CustomerStatus, View};
use crate::error::ProfilesError;
use crate::store::{self, Conn};

#[derive(Debug, Clone)]
pub(crate) struct ProfileApi {
    storage: Storage,
    clock: SharedClock,
    /// What `GetCustomer` answers with, cached between commits on SQLite.
    resolved: Arc<read_cache::ResolvedCustomers>,
}

impl ProfileApi {
    pub(crate) fn new(storage: Storage, clock: SharedClock) -> Self {
        let resolved = Arc::new(read_cache::ResolvedCustomers::new(&storage));
        Self {
            storage,
            clock,
            resolved,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    async fn read(&self) -> Result<PoolConnection<Any>, ProfilesError> {
        Ok(self.storage.reader().acquire().await?)
    }

    async fn write(&self) -> Result<WriteTransaction, ProfilesError> {
        Ok(self.storage.begin_write().await?)
    }
}

async fn commit(tx: WriteTransaction) -> Result<(), ProfilesError> {
    tx.commit().await?;
    Ok(())
}

fn not_found(id: Id) -> ProfilesError {
    ProfilesError::NotFound {
        entity: "customer",
        id: id.to_string(),
    }
}

/// Ids as span fields: only what parses as one of our ids (`rapport_wire::traced_id`).
use rapport_wire::traced_id;

/// The customer a write about `customer_id` applies to: the survivor if the id was merged away.
/// Erased customers take no new personal data.
async fn live_customer(conn: &mut Conn, customer_id: Id) -> Result<Customer, ProfilesError> {
    let customer = store::customers::resolve(conn, customer_id, View::Basic)
        .await?
        .ok_or_else(|| not_found(customer_id))?;
    if customer.profile.status == CustomerStatus::Erased {
        return Err(ProfilesError::FailedPrecondition(format!(
            "customer {customer_id} has been erased"
        )));
    }
    Ok(customer)
}

/// The customer a read about `customer_id` is answered for (the survivor if merged away);
/// erased customers can still be read (what is left of them).
async fn live_or_erased(conn: &mut Conn, customer_id: Id) -> Result<Customer, ProfilesError> {
    store::customers::resolve(conn, customer_id, View::Basic)
        .await?
        .ok_or_else(|| not_found(customer_id))
}

/// Runs one handler and turns its domain error into a `Status`.
async fn answer<T>(
    work: impl Future<Output = Result<T, ProfilesError>>,
) -> Result<Response<T>, Status> {
    Ok(Response::new(work.await?))
}

#[tonic::async_trait]
impl ProfileService for ProfileApi {
    async fn create_customer(
        &self,
        r: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::CreateCustomerResponse>, Status> {
        answer(self.create(r.into_inner())).await
    }
    async fn upsert_customer_by_external_ref(
        &self,
        r: Request<pb::UpsertCustomerByExternalRefRequest>,
    ) -> Result<Response<pb::UpsertCustomerByExternalRefResponse>, Status> {
        answer(self.upsert(r.into_inner())).await
    }
    async fn get_customer(
        &self,
        r: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::GetCustomerResponse>, Status> {
        answer(self.get(r.into_inner())).await
    }
    async fn update_customer(
        &self,
        r: Request<pb::UpdateCustomerRequest>,
    ) -> Result<Response<pb::UpdateCustomerResponse>, Status> {
        answer(self.update(r.into_inner())).await
    }
    async fn search_customers(
        &self,
        r: Request<pb::SearchCustomersRequest>,
    ) -> Result<Response<pb::SearchCustomersResponse>, Status> {
        answer(self.search(r.into_inner())).await
    }
    async fn record_interaction(
        &self,
        r: Request<pb::RecordInteractionRequest>,
    ) -> Result<Response<pb::RecordInteractionResponse>, Status> {
        answer(self.record_interaction(r.into_inner())).await
    }
    async fn list_interactions(
        &self,
        r: Request<pb::ListInteractionsRequest>,
    ) -> Result<Response<pb::ListInteractionsResponse>, Status> {
        answer(self.list_interactions(r.into_inner())).await
    }
    async fn record_commitment(
        &self,
        r: Request<pb::RecordCommitmentRequest>,
    ) -> Result<Response<pb::RecordCommitmentResponse>, Status> {
        answer(self.record_commitment(r.into_inner())).await
    }
    async fn resolve_commitment(
        &self,
        r: Request<pb::ResolveCommitmentRequest>,
    ) -> Result<Response<pb::ResolveCommitmentResponse>, Status> {
        answer(self.resolve_commitment(r.into_inner())).await
    }
    async fn list_commitments(
        &self,
        r: Request<pb::ListCommitmentsRequest>,
    ) -> Result<Response<pb::ListCommitmentsResponse>, Status> {
        answer(self.list_commitments(r.into_inner())).await
    }
    async fn set_consent(
        &self,
        r: Request<pb::SetConsentRequest>,
    ) -> Result<Response<pb::SetConsentResponse>, Status> {
        answer(self.set_consent(r.into_inner())).await
    }
    async fn list_consents(
        &self,
        r: Request<pb::ListConsentsRequest>,
    ) -> Result<Response<pb::ListConsentsResponse>, Status> {
        answer(self.list_consents(r.into_inner())).await
    }
    async fn set_contact_preferences(
        &self,
        r: Request<pb::SetContactPreferencesRequest>,
    ) -> Result<Response<pb::SetContactPreferencesResponse>, Status> {
        answer(self.set_contact_preferences(r.into_inner())).await
    }
    async fn set_vulnerability(
        &self,
        r: Request<pb::SetVulnerabilityRequest>,
    ) -> Result<Response<pb::SetVulnerabilityResponse>, Status> {
        answer(self.set_vulnerability(r.into_inner())).await
    }
    async fn clear_vulnerability(
        &self,
        r: Request<pb::ClearVulnerabilityRequest>,
    ) -> Result<Response<pb::ClearVulnerabilityResponse>, Status> {
        answer(self.clear_vulnerability(r.into_inner())).await
    }
    async fn list_anniversaries(
        &self,
        r: Request<pb::ListAnniversariesRequest>,
    ) -> Result<Response<pb::ListAnniversariesResponse>, Status> {
        answer(self.list_anniversaries(r.into_inner())).await
    }
    async fn merge_customers(
        &self,
        r: Request<pb::MergeCustomersRequest>,
    ) -> Result<Response<pb::MergeCustomersResponse>, Status> {
        answer(self.merge(r.into_inner())).await
    }
    async fn export_customer(
        &self,
        r: Request<pb::ExportCustomerRequest>,
    ) -> Result<Response<pb::ExportCustomerResponse>, Status> {
        answer(self.export(r.into_inner())).await
    }
    async fn erase_customer(
        &self,
        r: Request<pb::EraseCustomerRequest>,
    ) -> Result<Response<pb::EraseCustomerResponse>, Status> {
        answer(self.erase(r.into_inner())).await
    }
}
