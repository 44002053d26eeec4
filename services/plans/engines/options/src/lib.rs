//! Plans' options engine: what a customer in arrears can afford and the payment plans they can
//! choose from, as pure functions of their account and statement (no gRPC, storage or tokio).
//!
//! - [`affordability`]: disposable income from a Standard Financial Statement, with reasons;
//! - [`rate`]: a nominal annual rate as an exact decimal;
//! - [`amortisation`]: level-payment schedules to DESIGN.md's convention, checked against the
//!   independent reference `src/amortisation_reference.py`;
//! - [`schedule`]: installments on the customer's payday;
//! - [`allocation`]: a payment spread over a plan's installments, oldest due first;
//! - [`options`]: `GetPlanOptions`' ranked forbearance options and the reasons behind them.
//!
//! Money is `i64` minor units of one currency the caller carries; the gRPC edge and the store
//! stay in `rapport-plans`.

pub mod affordability;
pub mod allocation;
pub mod amortisation;
pub mod options;
pub mod rate;
pub mod schedule;
