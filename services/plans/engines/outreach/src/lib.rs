//! Plans' outreach engine: whether, when and how the bank may contact a customer about a debt
//! ([`contact_rules`]), and the messages it sends ([`templates`]): the shipped templates and the
//! tone phrase lists are data files (`templates/*.toml`, `tone.toml`), checked when loaded.
//!
//! Pure (DESIGN.md, Layout): no gRPC, storage, clock or tokio. The generated proto *enums*
//! (channel, purpose, stage, ...) are plain value types and are used as they are.
//!
//! The data files are TOML, not Fluent: serde and toml are already built for the workspace's
//! config (figment), a template file is one table with its locales side by side, and the texts
//! stay verbatim with our own `{name}` placeholders, which registration checks. Fluent would
//! bring its own placeholder and selector syntax (`{ $name }`) and a second set of rules to
//! check a message against.

pub mod calendar;
pub mod contact_rules;
pub mod stages;
pub mod templates;

/// The reason type is the options engine's, so plans' gRPC edge has one reason type to map.
pub use rapport_plans_options::affordability::{Explanation, ReasonEffect};
