//! ProfileService through its generated client, on SQLite and (with RAPPORT_TEST_DATABASE_URL)
//! PostgreSQL: every RPC, the bad inputs a caller can send, and the rules that matter.

#![allow(clippy::unwrap_used)]

mod care;
mod customers;
mod lifecycle;
mod search;
mod support;
mod timeline;
