//! One customer everywhere (DESIGN.md, Between services): what a merge and an erasure in
//! profiles do to referrals' rows. Both are idempotent and tolerate any order: a merge into a
//! customer already erased is erased too, and ids merged before are remembered so a later
//! erasure reaches them.

use jiff::Timestamp;
use rapport_ids::Id;
use rapport_proto::referrals::v1::{FraudFlagStatus, FraudSeverity, FraudSignal};
use rapport_storage::sqlx::{self, Row};

use super::flags::{self, Flag};
use super::{Conn, StoredReason, id, micros};
use crate::error::ReferralsError;

/// The code of the flag a merge raises on a referral that became a self-referral.
pub const MERGED_SELF_REFERRAL: &str = "MERGED_SELF_REFERRAL";

/// The customer `customer_id` now is: itself, or the survivor it was merged into.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn resolve(conn: &mut Conn, customer_id: Id) -> Result<Id, ReferralsError> {
    let row = sqlx::query("SELECT survivor_id FROM merges WHERE duplicate_id = $1")
        .bind(customer_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => id(&row.try_get::<String, _>(0)?),
        None => Ok(customer_id),
    }
}

/// Moves every row of `duplicate` to `survivor`: codes, referrals (as referrer and as referee),
/// vouches (given and about), rewards, prospects that signed up, members, published standing,
/// the customers named by fraud flags. A referral between the two becomes a referral from the
/// survivor to itself: a fraud flag with its reason, not an error.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        duplicate_id = %duplicate,
        survivor_id = %survivor
    )
)]
pub async fn merge(
    conn: &mut Conn,
    duplicate: Id,
    survivor: Id,
    at: Timestamp,
) -> Result<(), ReferralsError> {
    if duplicate == survivor {
        return Ok(());
    }
    let (dup, surv) = (duplicate.to_string(), survivor.to_string());
    sqlx::query(
        "INSERT INTO merges (duplicate_id, survivor_id, merged_at_micros) VALUES ($1, $2, $3) \
         ON CONFLICT (duplicate_id) DO UPDATE SET survivor_id = excluded.survivor_id",
    )
    .bind(&dup)
    .bind(&surv)
    .bind(micros(at))
    .execute(&mut *conn)
    .await?;
    // Ids merged into the duplicate before now follow the survivor (one step deep).
    for repoint in [
        "UPDATE merges SET survivor_id = $2 WHERE survivor_id = $1",
        "UPDATE referral_codes SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE referrals SET referrer_id = $2 WHERE referrer_id = $1",
        // One referrer per referee: where both were referred, the duplicate's stays on its id
        // (answered for the survivor through `resolve`).
        "UPDATE referrals SET referee_id = $2 WHERE referee_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM referrals kept WHERE kept.referee_id = $2)",
        "UPDATE vouches SET voucher_id = $2 WHERE voucher_id = $1",
        "UPDATE vouches SET prospect_customer_id = $2 WHERE prospect_customer_id = $1",
        "UPDATE rewards SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE prospects SET customer_id = $2 WHERE customer_id = $1",
        // Tenure and status are refreshed from profiles at the survivor's next call; the
        // duplicate's own rows move only where the survivor has none.
        "UPDATE members SET customer_id = $2 WHERE customer_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM members kept WHERE kept.customer_id = $2)",
        "DELETE FROM members WHERE customer_id = $1",
        "UPDATE standings SET customer_id = $2 WHERE customer_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM standings kept WHERE kept.customer_id = $2)",
        "DELETE FROM standings WHERE customer_id = $1",
    ] {
        sqlx::query(repoint)
            .bind(&dup)
            .bind(&surv)
            .execute(&mut *conn)
            .await?;
    }
    // Ids are UUIDs: a textual replace inside the JSON list touches only that id.
    sqlx::query(
        "UPDATE fraud_flags SET customer_ids = REPLACE(customer_ids, $1, $2) \
         WHERE customer_ids LIKE $3",
    )
    .bind(&dup)
    .bind(&surv)
    .bind(format!("%{dup}%"))
    .execute(&mut *conn)
    .await?;
    flag_self_referrals(conn, survivor, duplicate, at).await?;
    let erased = sqlx::query("SELECT 1 FROM erasures WHERE customer_id = $1")
        .bind(&surv)
        .fetch_optional(&mut *conn)
        .await?;
    if erased.is_some() {
        erase(conn, survivor, at).await?;
    }
    Ok(())
}

/// Referrals from the survivor to itself, each flagged once.
async fn flag_self_referrals(
    conn: &mut Conn,
    survivor: Id,
    duplicate: Id,
    at: Timestamp,
) -> Result<(), ReferralsError> {
    let rows =
        sqlx::query("SELECT referral_id FROM referrals WHERE referrer_id = $1 AND referee_id = $1")
            .bind(survivor.to_string())
            .fetch_all(&mut *conn)
            .await?;
    for row in rows {
        let referral_id: String = row.try_get(0)?;
        let flagged =
            sqlx::query("SELECT 1 FROM fraud_flags WHERE referral_ids LIKE $1 AND reasons LIKE $2")
                .bind(format!("%{referral_id}%"))
                .bind(format!("%{MERGED_SELF_REFERRAL}%"))
                .fetch_optional(&mut *conn)
                .await?;
        if flagged.is_some() {
            continue;
        }
        flags::insert(
            conn,
            &Flag {
                id: Id::new(),
                // A referral from a customer to itself is a cycle of one in the referral graph.
                signal: FraudSignal::Cycle,
                severity: FraudSeverity::Strong,
                status: FraudFlagStatus::Open,
                referral_ids: vec![id(&referral_id)?],
                customer_ids: vec![survivor],
                reasons: vec![StoredReason {
                    code: MERGED_SELF_REFERRAL.to_owned(),
                    message: format!(
                        "Profiles merged customer {duplicate} into {survivor}: this referral is now \
                         from the customer to themselves."
                    ),
                    rule_ref: "DESIGN.md#referrals (fraud flags for self-referral)".to_owned(),
                    effect: "OPPOSES".to_owned(),
                }],
                raised_at: at,
                resolved: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Erasure in profiles: the contact points referrals keeps — prospects' names, emails, phones
/// and addresses, device hashes and IP addresses, vouch comments — go for the customer and every
/// id merged into it; amounts, dates, statuses and decisions stay with their reasons.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn erase(conn: &mut Conn, customer_id: Id, at: Timestamp) -> Result<(), ReferralsError> {
    let customer = customer_id.to_string();
    sqlx::query(
        "INSERT INTO erasures (customer_id, erased_at_micros) VALUES ($1, $2) \
         ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(&customer)
    .bind(micros(at))
    .execute(&mut *conn)
    .await?;
    let mut every_id = vec![customer];
    let merged = sqlx::query("SELECT duplicate_id FROM merges WHERE survivor_id = $1")
        .bind(&every_id[0])
        .fetch_all(&mut *conn)
        .await?;
    for row in merged {
        every_id.push(row.try_get(0)?);
    }
    for erased in &every_id {
        for blank in [
            // The customer's own contact points, kept from when they were a prospect.
            "UPDATE prospects SET name = '', email = '', phone = '', address = '' \
             WHERE customer_id = $1",
            // Contact points the customer gave of people they referred or vouched for who never
            // became customers (those who did keep their own).
            "UPDATE prospects SET name = '', email = '', phone = '', address = '' \
             WHERE customer_id IS NULL AND prospect_id IN \
             (SELECT r.prospect_id FROM referrals r WHERE r.referrer_id = $1)",
            "UPDATE prospects SET name = '', email = '', phone = '', address = '' \
             WHERE customer_id IS NULL AND prospect_id IN \
             (SELECT v.prospect_id FROM vouches v WHERE v.voucher_id = $1)",
            "UPDATE referrals SET device_hash = '', ip_address = '' \
             WHERE referrer_id = $1 OR referee_id = $1",
            "UPDATE vouches SET comment = '' WHERE voucher_id = $1 OR prospect_customer_id = $1",
        ] {
            sqlx::query(blank).bind(erased).execute(&mut *conn).await?;
        }
    }
    Ok(())
}
