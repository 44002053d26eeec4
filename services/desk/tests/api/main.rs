//! DeskService through its generated client, with profiles, plans, referrals and loyalty running
//! beside it as `rapport serve` builds them (fresh SQLite databases, one clock), and with
//! services that are down or never answer.

#![allow(clippy::unwrap_used)]

mod faults;
mod overview;
mod roles;
mod seed;
mod support;
