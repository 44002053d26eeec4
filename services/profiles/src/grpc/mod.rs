//! The gRPC edge: converts prost messages to domain types and domain errors to `Status`.

/// `rapport.profiles.v1.ProfileService`; RPCs not built yet answer `UNIMPLEMENTED` (the generated default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProfileApi;

#[tonic::async_trait]
impl rapport_proto::profiles::v1::profile_service_server::ProfileService for ProfileApi {}
