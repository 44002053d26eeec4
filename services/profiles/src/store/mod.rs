//! Profiles' SQL, one portable code path for SQLite and PostgreSQL (DESIGN.md, Storage).
//! Every function takes a connection, so a handler composes several in one transaction.

pub mod commitments;
pub mod consents;
pub mod customers;
pub mod interactions;
pub mod lifecycle;
pub mod preferences;

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;

use crate::error::ProfilesError;

pub type Conn = rapport_storage::sqlx::AnyConnection;

pub(crate) fn micros(at: Timestamp) -> i64 {
    rapport_clock::to_unix_micros(at)
}

pub(crate) fn instant(micros: i64) -> Result<Timestamp, ProfilesError> {
    rapport_clock::from_unix_micros(micros)
        .ok_or_else(|| ProfilesError::Corrupt(format!("instant {micros} out of range")))
}

/// Dates are stored as ISO text ('2026-03-10'), which sorts as the dates do.
pub(crate) fn date_text(date: Date) -> String {
    date.to_string()
}

pub(crate) fn date(text: &str) -> Result<Date, ProfilesError> {
    text.parse()
        .map_err(|_| ProfilesError::Corrupt(format!("date {text:?}")))
}

pub(crate) fn id(text: &str) -> Result<Id, ProfilesError> {
    Id::parse(text).map_err(|_| ProfilesError::Corrupt(format!("id {text:?}")))
}

pub(crate) fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// A generated enum stored by its proto name (stable within a package version).
pub(crate) fn enum_from_name<T>(
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, ProfilesError> {
    parse(text).ok_or_else(|| ProfilesError::Corrupt(format!("enum value {text:?}")))
}
