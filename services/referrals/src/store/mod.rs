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

use rapport_storage::sqlx::any::AnyRow;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use crate::error::ReferralsError;

pub type Conn = sqlx::AnyConnection;

/// Rows per read when a whole table is read (the trust graph).
pub(crate) const READ_PAGE: usize = 10_000;

/// Every row `select` finds, in pages by key: a million raw rows at once would hold several times
/// their parsed size. `select` is `SELECT key, … FROM … WHERE … key > $n`, the `key` column
/// first and `$n` after the `binds`; the pages are ordered by the key and limited here. `decode`
/// skips a row with `None`.
pub(crate) async fn in_pages<T>(
    conn: &mut Conn,
    select: &str,
    key: &str,
    binds: &[&str],
    decode: impl Fn(&AnyRow) -> Result<Option<T>, ReferralsError>,
) -> Result<Vec<T>, ReferralsError> {
    let sql = format!("{select} ORDER BY {key} LIMIT {READ_PAGE}");
    let mut all = Vec::new();
    let mut after = String::new();
    loop {
        let mut query = sqlx::query(AssertSqlSafe(sql.as_str()));
        for bind in binds {
            query = query.bind(*bind);
        }
        let rows = query.bind(&after).fetch_all(&mut *conn).await?;
        for row in &rows {
            all.extend(decode(row)?);
        }
        match rows.last() {
            Some(last) if rows.len() == READ_PAGE => after = last.try_get(0)?,
            _ => return Ok(all),
        }
    }
}

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
