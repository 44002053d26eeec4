//! The gRPC edge: converts prost messages to domain types and domain errors to `Status`.

/// `rapport.loyalty.v1.LoyaltyService`; RPCs not built yet answer `UNIMPLEMENTED` (the generated default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LoyaltyApi;

#[tonic::async_trait]
impl rapport_proto::loyalty::v1::loyalty_service_server::LoyaltyService for LoyaltyApi {}
