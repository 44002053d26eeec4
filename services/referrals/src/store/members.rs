use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, Row};

use super::{Conn, corrupt, id, instant, micros};
use crate::error::ReferralsError;

pub async fn remember(
    conn: &mut Conn,
    customer_id: Id,
    since: Date,
    good_standing: bool,
    now: Timestamp,
) -> Result<(), ReferralsError> {
    sqlx::query(
        "INSERT INTO members (customer_id, customer_since, good_standing, refreshed_at_micros, standing_lost_at_micros) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (customer_id) DO UPDATE SET customer_since = excluded.customer_since, good_standing = excluded.good_standing, \
         refreshed_at_micros = excluded.refreshed_at_micros, \
         standing_lost_at_micros = CASE WHEN excluded.good_standing = 1 THEN NULL \
                                        ELSE COALESCE(members.standing_lost_at_micros, excluded.standing_lost_at_micros) END",
    )
    .bind(customer_id.to_string())
    .bind(since.to_string())
    .bind(i64::from(good_standing))
    .bind(micros(now))
    .bind((!good_standing).then(|| micros(now)))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Customers in good standing who joined on or before `joined_by`: the pre-trusted seeds.
pub async fn trusted(conn: &mut Conn, joined_by: Date) -> Result<Vec<(Id, Date)>, ReferralsError> {
    let rows = sqlx::query("SELECT customer_id, customer_since FROM members WHERE good_standing = 1 AND customer_since <= $1")
        .bind(joined_by.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            let since: String = row.try_get(1)?;
            Ok((
                id(&row.try_get::<String, _>(0)?)?,
                since.parse().map_err(|e| corrupt("date", e))?,
            ))
        })
        .collect()
}

/// One remembered member, as the trust graph needs them.
#[derive(Debug, Clone, Copy)]
pub struct Remembered {
    pub customer_id: Id,
    pub customer_since: Date,
    pub good_standing: bool,
    /// When referrals first saw them out of good standing (for voucher penalties).
    pub standing_lost_at: Option<Timestamp>,
}

/// Every remembered member, in one read.
pub async fn all(conn: &mut Conn) -> Result<Vec<Remembered>, ReferralsError> {
    let rows = sqlx::query(
        "SELECT customer_id, customer_since, good_standing, standing_lost_at_micros FROM members",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let since: String = row.try_get(1)?;
            Ok(Remembered {
                customer_id: id(&row.try_get::<String, _>(0)?)?,
                customer_since: since.parse().map_err(|e| corrupt("date", e))?,
                good_standing: row.try_get::<i64, _>(2)? == 1,
                standing_lost_at: row.try_get::<Option<i64>, _>(3)?.map(instant).transpose()?,
            })
        })
        .collect()
}
