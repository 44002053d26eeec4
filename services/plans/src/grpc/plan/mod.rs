//! PlanService: options the customer chooses from, plans, plan payments, promises to pay. One
//! file per concern: the options offered (`options`), accepting one (`accept`), reading plans
//! (`read`), paying (`payment`) and cancelling (`cancel`); promises to pay are `grpc/promises`.

mod accept;
mod cancel;
mod options;
mod payment;
mod read;

use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::plan_service_server::PlanService;
use tonic::{Request, Response, Status};

use super::{Core, answer, promises};

#[derive(Debug, Clone)]
pub(crate) struct PlanApi(pub(crate) Core);

#[tonic::async_trait]
impl PlanService for PlanApi {
    async fn get_plan_options(
        &self,
        r: Request<pb::GetPlanOptionsRequest>,
    ) -> Result<Response<pb::GetPlanOptionsResponse>, Status> {
        answer(options::options(&self.0, r.into_inner())).await
    }
    async fn accept_plan(
        &self,
        r: Request<pb::AcceptPlanRequest>,
    ) -> Result<Response<pb::AcceptPlanResponse>, Status> {
        answer(accept::accept(&self.0, r.into_inner())).await
    }
    async fn get_plan(
        &self,
        r: Request<pb::GetPlanRequest>,
    ) -> Result<Response<pb::GetPlanResponse>, Status> {
        answer(read::get(&self.0, r.into_inner())).await
    }
    async fn list_plans(
        &self,
        r: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        answer(read::list(&self.0, r.into_inner())).await
    }
    async fn record_plan_payment(
        &self,
        r: Request<pb::RecordPlanPaymentRequest>,
    ) -> Result<Response<pb::RecordPlanPaymentResponse>, Status> {
        answer(payment::pay(&self.0, r.into_inner())).await
    }
    async fn cancel_plan(
        &self,
        r: Request<pb::CancelPlanRequest>,
    ) -> Result<Response<pb::CancelPlanResponse>, Status> {
        answer(cancel::cancel(&self.0, r.into_inner())).await
    }
    async fn record_promise_to_pay(
        &self,
        r: Request<pb::RecordPromiseToPayRequest>,
    ) -> Result<Response<pb::RecordPromiseToPayResponse>, Status> {
        answer(promises::record(&self.0, r.into_inner())).await
    }
    async fn list_promises_to_pay(
        &self,
        r: Request<pb::ListPromisesToPayRequest>,
    ) -> Result<Response<pb::ListPromisesToPayResponse>, Status> {
        answer(promises::list(&self.0, r.into_inner())).await
    }
}
