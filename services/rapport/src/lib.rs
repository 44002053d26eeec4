//! The `rapport` binary's library: the suite assembled in one process (`rapport dev`) and the
//! per-service commands, kept here so tests drive exactly what the binary runs.

pub mod agent;
pub mod backup;
pub mod business_clock;
pub mod check;
pub mod demo;
pub mod dev;
pub mod service;
