//! Identifiers.
//!
//! Keys are UUIDv7 (DESIGN.md, Storage): time-ordered so indexes stay append-friendly, random
//! enough that no node owns a hot sequence when the database is distributed. They travel and are
//! stored as canonical lowercase hyphenated text.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A UUIDv7 identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(Uuid);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("is not a UUID")]
    Malformed,
    #[error("is a UUID of version {0}, expected version 7")]
    WrongVersion(usize),
}

impl Id {
    /// A new time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Parses an id received from a caller; only UUIDv7 ids are ours.
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let uuid = Uuid::try_parse(text).map_err(|_| IdError::Malformed)?;
        match uuid.get_version_num() {
            7 => Ok(Self(uuid)),
            other => Err(IdError::WrongVersion(other)),
        }
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for Id {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for Id {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip() {
        let first = Id::new();
        let second = Id::new();
        assert!(first < second, "UUIDv7 ids sort by creation time");
        assert_eq!(Id::parse(&first.to_string()), Ok(first));
    }

    #[test]
    fn rejects_other_versions_and_garbage() {
        assert_eq!(
            Id::parse("67e55044-10b1-426f-9247-bb680e5fe0c8"),
            Err(IdError::WrongVersion(4))
        );
        assert_eq!(Id::parse("not-an-id"), Err(IdError::Malformed));
    }
}
