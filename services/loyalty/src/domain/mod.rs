//! Loyalty's rules, free of gRPC and SQL.

pub mod nps;
