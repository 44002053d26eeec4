//! The plans services through their generated clients, on SQLite and (with
//! RAPPORT_TEST_DATABASE_URL) PostgreSQL.

#![allow(clippy::unwrap_used)]

mod account_list;
mod accounts;
mod case_read;
mod contact_writer;
mod discovery_roles;
mod due_dates;
mod hardship;
mod merges;
mod messages;
mod offers;
mod outreach;
mod payments;
mod plan_reads;
mod plans;
mod promises;
mod protection_list;
mod reporting;
mod statements;
mod support;
