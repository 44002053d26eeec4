//! Referrals' SQL, one portable code path for SQLite and PostgreSQL.

pub mod flags;
pub mod members;
pub mod merges;
pub mod referrals;
pub mod rewards;
pub mod standings;
pub mod trust;
pub mod vouches;

use jiff::Timestamp;
use rapport_ids::Id;

use crate::error::ReferralsError;

pub type Conn = rapport_storage::sqlx::AnyConnection;

/// Rows per read when a whole table is read (the trust graph).
pub(crate) const READ_PAGE: usize = 10_000;

pub(crate) fn micros(at: Timestamp) -> i64 {
    rapport_clock::to_unix_micros(at)
}

pub(crate) fn instant(micros: i64) -> Result<Timestamp, ReferralsError> {
    rapport_clock::from_unix_micros(micros)
        .ok_or_else(|| ReferralsError::Corrupt(format!("instant {micros}")))
}

pub(crate) fn id(text: &str) -> Result<Id, ReferralsError> {
    Id::parse(text).map_err(|_| ReferralsError::Corrupt(format!("id {text:?}")))
}

pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> ReferralsError {
    ReferralsError::Corrupt(format!("{what}: {error}"))
}

/// One reason as stored with a reward or a flag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredReason {
    pub code: String,
    pub message: String,
    pub rule_ref: String,
    /// "NEUTRAL" | "SUPPORTS" | "OPPOSES"
    pub effect: String,
}

impl From<&StoredReason> for rapport_reasons::Reason {
    /// An effect this version does not know reads as neutral.
    fn from(r: &StoredReason) -> Self {
        use rapport_reasons::ReasonEffect;
        let effect = match r.effect.as_str() {
            "SUPPORTS" => ReasonEffect::Supports,
            "OPPOSES" => ReasonEffect::Opposes,
            _ => ReasonEffect::Neutral,
        };
        Self::new(
            r.code.clone(),
            effect,
            r.rule_ref.clone(),
            r.message.clone(),
        )
    }
}
