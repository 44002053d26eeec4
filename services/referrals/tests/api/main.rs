//! ReferralService through its generated client, with profiles beside it, on SQLite and (with
//! RAPPORT_TEST_DATABASE_URL) PostgreSQL.

#![allow(clippy::unwrap_used)]

mod merges;
mod referrals;
mod rewards;
mod standing;
mod support;
mod time_bounds;
mod trust;
