//! The referrals domain: who may vouch, what qualifies, the trust graph and fraud signals,
//! independent of gRPC and SQL.
//!
//! The trust score and the fraud signals are pure engines in their own crate
//! (`engines/trust`, DESIGN.md "Layout"); they are re-exported here so the service reads them
//! as `crate::domain::trust` and `crate::domain::fraud`.

pub mod events;
pub mod member;
pub mod standing;

pub use rapport_referrals_trust::{fraud, trust};
