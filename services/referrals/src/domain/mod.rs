//! The referrals domain: who may vouch, what qualifies, the trust graph and fraud signals,
//! independent of gRPC and SQL.

pub mod events;
pub mod fraud;
pub mod member;
pub mod standing;
pub mod trust;
