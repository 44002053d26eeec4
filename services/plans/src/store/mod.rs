//! Plans' SQL, one portable code path for SQLite and PostgreSQL (DESIGN.md, Storage).
//! Every function takes a connection, so a handler composes several in one transaction.

pub mod accounts;
pub mod cases;
pub mod contact;
pub mod listing;
pub mod merges;
pub mod plans;
pub mod promises;
pub mod protections;
pub mod recovery;
pub mod standing;

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;

use crate::error::PlansError;

pub type Conn = rapport_storage::sqlx::AnyConnection;

pub(crate) fn micros(at: Timestamp) -> i64 {
    rapport_clock::to_unix_micros(at)
}

pub(crate) fn instant(micros: i64) -> Result<Timestamp, PlansError> {
    rapport_clock::from_unix_micros(micros)
        .ok_or_else(|| PlansError::Corrupt(format!("instant {micros} out of range")))
}

/// Dates are stored as ISO text ('2026-03-10'), which sorts as the dates do.
pub(crate) fn date(text: &str) -> Result<Date, PlansError> {
    text.parse()
        .map_err(|_| PlansError::Corrupt(format!("date {text:?}")))
}

pub(crate) fn id(text: &str) -> Result<Id, PlansError> {
    Id::parse(text).map_err(|_| PlansError::Corrupt(format!("id {text:?}")))
}

/// A generated enum stored by its proto name (stable within a package version).
pub(crate) fn enum_from_name<T>(
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, PlansError> {
    parse(text).ok_or_else(|| PlansError::Corrupt(format!("enum value {text:?}")))
}

pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> PlansError {
    PlansError::Corrupt(format!("{what}: {error}"))
}
