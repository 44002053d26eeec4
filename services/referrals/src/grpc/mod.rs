//! The gRPC edge: converts prost messages to domain types and domain errors to `Status`.

/// `rapport.referrals.v1.ReferralService`; RPCs not built yet answer `UNIMPLEMENTED` (the generated default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReferralApi;

#[tonic::async_trait]
impl rapport_proto::referrals::v1::referral_service_server::ReferralService for ReferralApi {}
