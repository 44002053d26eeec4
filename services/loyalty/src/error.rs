//! What a loyalty call can fail with. The causes and their gRPC codes are shared by every service
//! ([`rapport_storage::ServiceError`], one mapping, tested there); loyalty has no failure of its
//! own beyond them, so its error is that type.

pub type LoyaltyError = rapport_storage::ServiceError;
