//! The end-to-end tests that need no tracing subscriber, one binary: the whole workspace is linked
//! once, not once per file. Tests that install the process's subscriber are in `traced.rs`: once
//! one is installed (even recording nothing) the flood in `security` runs eight times slower.

#![allow(clippy::unwrap_used)]

mod agent;
mod delivery;
mod demo;
mod desk;
mod dev_suite;
mod migrations;
mod operations;
mod replicas;
mod security;
