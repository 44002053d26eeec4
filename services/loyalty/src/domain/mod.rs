//! The loyalty rules, free of gRPC and SQL.

pub mod events;
pub mod ingest;
pub mod nps;
pub mod score;
pub mod signal;
