//! What a plans call can fail with. The causes and their gRPC codes are shared by every service
//! ([`rapport_storage::ServiceError`], one mapping, tested there); plans has no failure of its
//! own beyond them, so its error is that type.

pub type PlansError = rapport_storage::ServiceError;
