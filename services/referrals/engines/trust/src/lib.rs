//! Referrals' trust engine (DESIGN.md "Trust customers", "Explain everything", "Rules with
//! numbers: Referrals"): pure functions over values the service loads, with no gRPC, storage or
//! tokio, so they are tested and benchmarked on their own.
//!
//! * [`trust`]: the explainable trust score, a personalised PageRank over who vouched for and
//!   referred whom.
//! * [`fraud`]: the fraud signals that hold referral rewards: self-referral, velocity, cycles and
//!   dense rings.

pub mod fraud;
pub mod trust;
