//! The gRPC edge of `rapport.desk.v1.DeskService`: the overview (`overview`), its fan-out within
//! the budget (`fan_out`), its sections (`sections`) and what desk reads of the caller
//! (`caller`).

mod caller;
mod fan_out;
mod overview;
mod sections;

use std::time::Duration;

use rapport_clock::SharedClock;
use rapport_proto::desk::v1 as pb;
use rapport_proto::desk::v1::desk_service_server::DeskService;
use tonic::{Request, Response, Status};

use crate::upstreams::Upstreams;

/// What the desk API shares: the four services' clients, the clock, the budget.
#[derive(Debug, Clone)]
pub(crate) struct DeskApi {
    upstreams: Upstreams,
    clock: SharedClock,
    budget: Duration,
}

impl DeskApi {
    pub(crate) fn new(upstreams: Upstreams, clock: SharedClock, budget: Duration) -> Self {
        Self {
            upstreams,
            clock,
            budget,
        }
    }
}

#[tonic::async_trait]
impl DeskService for DeskApi {
    async fn get_customer_overview(
        &self,
        request: Request<pb::GetCustomerOverviewRequest>,
    ) -> Result<Response<pb::GetCustomerOverviewResponse>, Status> {
        let caller = request
            .extensions()
            .get::<rapport_security::Caller>()
            .cloned();
        let as_caller = fan_out::AsCaller::from_metadata(request.metadata());
        let budget = fan_out::Budget::for_call(self.budget, request.metadata());
        // Boxed: the fan-out's joined calls make a large future.
        let overview =
            Box::pin(self.overview(request.into_inner(), caller.as_ref(), &as_caller, budget))
                .await?;
        Ok(Response::new(overview))
    }
}
