//! The gRPC edge: converts prost messages to domain types and domain errors to `Status`.

/// `rapport.plans.v1.AccountService`; RPCs not built yet answer `UNIMPLEMENTED` (the generated default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AccountApi;

#[tonic::async_trait]
impl rapport_proto::plans::v1::account_service_server::AccountService for AccountApi {}

/// `rapport.plans.v1.HardshipService`; RPCs not built yet answer `UNIMPLEMENTED` (the generated default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HardshipApi;

#[tonic::async_trait]
impl rapport_proto::plans::v1::hardship_service_server::HardshipService for HardshipApi {}

/// `rapport.plans.v1.PlanService`; RPCs not built yet answer `UNIMPLEMENTED` (the generated default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PlanApi;

#[tonic::async_trait]
impl rapport_proto::plans::v1::plan_service_server::PlanService for PlanApi {}

/// `rapport.plans.v1.OutreachService`; RPCs not built yet answer `UNIMPLEMENTED` (the generated default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OutreachApi;

#[tonic::async_trait]
impl rapport_proto::plans::v1::outreach_service_server::OutreachService for OutreachApi {}

/// `rapport.plans.v1.ReportingService`; RPCs not built yet answer `UNIMPLEMENTED` (the generated default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReportingApi;

#[tonic::async_trait]
impl rapport_proto::plans::v1::reporting_service_server::ReportingService for ReportingApi {}
