use std::collections::BTreeSet;

use jiff::civil::Date;
use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, date, date_text, flag, id, instant, micros};
use crate::domain::contact::{Email, Locale, Phone, TimeZoneName};
use crate::domain::customer::{
    ContactPoint, Customer, CustomerStatus, ExternalRef, PostalAddress, Profile, View,
};
use crate::domain::names::{escape_like, fold_for_search, is_unspaced, name_keys, query_key};
use crate::error::ProfilesError;

const COLUMNS: &str = "customer_id, legal_name, preferred_name, locale, time_zone, addresses, \
     customer_since, status, merged_into, created_at_micros, updated_at_micros";

/// Inserts a new customer with its contact points and references. A reference another customer
/// already holds is `AlreadyExists`.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer.id))]
pub async fn insert(
    conn: &mut Conn,
    customer: &Customer,
    create_request_id: Option<&str>,
) -> Result<(), ProfilesError> {
    let profile = &customer.profile;
    sqlx::query(
        "INSERT INTO customers (customer_id, legal_name, preferred_name, search_name, locale, time_zone, addresses, \
         customer_since, since_month_day, status, merged_into, create_request_id, created_at_micros, updated_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12, $12)",
    )
    .bind(customer.id.to_string())
    .bind(&profile.legal_name)
    .bind(&profile.preferred_name)
    .bind(profile.search_name())
    .bind(profile.locale.as_str())
    .bind(profile.time_zone.as_str())
    .bind(addresses_json(&profile.addresses)?)
    .bind(date_text(profile.customer_since))
    .bind(month_day(profile.customer_since))
    .bind(profile.status.as_str())
    .bind(create_request_id)
    .bind(micros(customer.created_at))
    .execute(&mut *conn)
    .await
    ?;
    write_name_keys(
        conn,
        customer.id,
        &BTreeSet::new(),
        &findable_name_keys(profile),
    )
    .await?;
    write_contact_points(conn, customer.id, profile).await?;
    write_external_refs(conn, customer.id, &profile.external_refs).await
}

/// Replaces a customer's profile (the row, contact points and references).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer.id))]
pub async fn update(conn: &mut Conn, customer: &Customer) -> Result<(), ProfilesError> {
    let profile = &customer.profile;
    let keys_before = stored_name_keys(conn, customer.id, true).await?;
    sqlx::query(
        "UPDATE customers SET legal_name = $2, preferred_name = $3, search_name = $4, locale = $5, time_zone = $6, \
         addresses = $7, customer_since = $8, since_month_day = $9, status = $10, updated_at_micros = $11 \
         WHERE customer_id = $1",
    )
    .bind(customer.id.to_string())
    .bind(&profile.legal_name)
    .bind(&profile.preferred_name)
    .bind(profile.search_name())
    .bind(profile.locale.as_str())
    .bind(profile.time_zone.as_str())
    .bind(addresses_json(&profile.addresses)?)
    .bind(date_text(profile.customer_since))
    .bind(month_day(profile.customer_since))
    .bind(profile.status.as_str())
    .bind(micros(customer.updated_at))
    .execute(&mut *conn)
    .await
    ?;
    write_name_keys(
        conn,
        customer.id,
        &keys_before,
        &findable_name_keys(profile),
    )
    .await?;
    for table in [
        "DELETE FROM customer_emails WHERE customer_id = $1",
        "DELETE FROM customer_phones WHERE customer_id = $1",
        "DELETE FROM external_refs WHERE customer_id = $1",
    ] {
        sqlx::query(table)
            .bind(customer.id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    write_contact_points(conn, customer.id, profile).await?;
    write_external_refs(conn, customer.id, &profile.external_refs).await
}

/// Removes the customer's name keys, so search cannot find them by name: a merged-away
/// duplicate, or a customer about to be erased (the keys are personal data too). Call it before
/// the stored names change, in the same transaction.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn forget_name_keys(conn: &mut Conn, customer_id: Id) -> Result<(), ProfilesError> {
    let keys = stored_name_keys(conn, customer_id, false).await?;
    write_name_keys(conn, customer_id, &keys, &BTreeSet::new()).await
}

/// The keys a customer with this profile is found by: none unless search may return them.
fn findable_name_keys(profile: &Profile) -> BTreeSet<String> {
    if is_findable(profile.status) {
        name_keys(&profile.search_name())
    } else {
        BTreeSet::new()
    }
}

/// Search returns active and closed customers, never merged or erased ones.
fn is_findable(status: CustomerStatus) -> bool {
    matches!(status, CustomerStatus::Active | CustomerStatus::Closed)
}

/// The keys the stored row was indexed under (derived from its folded names, as written), or
/// with `only_findable`, only if its status is one search returns.
async fn stored_name_keys(
    conn: &mut Conn,
    customer_id: Id,
    only_findable: bool,
) -> Result<BTreeSet<String>, ProfilesError> {
    let row = sqlx::query("SELECT search_name, status FROM customers WHERE customer_id = $1")
        .bind(customer_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(BTreeSet::new());
    };
    if only_findable && !is_findable(status(&row.try_get::<String, _>(1)?)?) {
        return Ok(BTreeSet::new());
    }
    Ok(name_keys(&row.try_get::<String, _>(0)?))
}

/// Moves the customer's keys from `before` to `after`, touching only the keys that differ.
async fn write_name_keys(
    conn: &mut Conn,
    customer_id: Id,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
) -> Result<(), ProfilesError> {
    let id = customer_id.to_string();
    let gone: Vec<&String> = before.difference(after).collect();
    for chunk in gone.chunks(KEYS_PER_STATEMENT) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "DELETE FROM customer_name_keys WHERE customer_id = $1 AND name_key IN ({})",
            placeholders.join(", ")
        );
        // Built only from placeholders; every value is a bind parameter.
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(&id);
        for key in chunk {
            query = query.bind(key.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    // Names in scripts without spaces stored before their inner keys existed (the migration's
    // backfill gives word starts only) get them on their next write: their keys are written
    // whole, the existing ones left as they are.
    let new: Vec<&String> = if after.iter().any(|key| key.chars().any(is_unspaced)) {
        after.iter().collect()
    } else {
        after.difference(before).collect()
    };
    for chunk in new.chunks(KEYS_PER_STATEMENT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, $1)", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO customer_name_keys (name_key, customer_id) VALUES {} \
             ON CONFLICT (name_key, customer_id) DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(&id);
        for key in chunk {
            query = query.bind(key.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Keys per statement: well under SQLite's and PostgreSQL's bind limits.
const KEYS_PER_STATEMENT: usize = 200;

async fn write_contact_points(
    conn: &mut Conn,
    customer_id: Id,
    profile: &Profile,
) -> Result<(), ProfilesError> {
    for (position, email) in profile.emails.iter().enumerate() {
        sqlx::query(
            "INSERT INTO customer_emails (customer_id, position, address, address_search, verified, is_primary) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(customer_id.to_string())
        .bind(position as i64)
        .bind(email.value.as_str())
        .bind(email.value.as_str().to_lowercase())
        .bind(flag(email.verified))
        .bind(flag(email.primary))
        .execute(&mut *conn)
        .await
        ?;
    }
    for (position, phone) in profile.phones.iter().enumerate() {
        sqlx::query(
            "INSERT INTO customer_phones (customer_id, position, e164, verified, is_primary) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(customer_id.to_string())
        .bind(position as i64)
        .bind(phone.value.as_str())
        .bind(flag(phone.verified))
        .bind(flag(phone.primary))
        .execute(&mut *conn)
        .await
        ?;
    }
    Ok(())
}

async fn write_external_refs(
    conn: &mut Conn,
    customer_id: Id,
    refs: &[ExternalRef],
) -> Result<(), ProfilesError> {
    for reference in refs {
        let inserted = sqlx::query(
            "INSERT INTO external_refs (system, external_id, customer_id) VALUES ($1, $2, $3) \
             ON CONFLICT (system, external_id) DO NOTHING",
        )
        .bind(&reference.system)
        .bind(&reference.external_id)
        .bind(customer_id.to_string())
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(ProfilesError::AlreadyExists(format!(
                "external reference {}/{} belongs to another customer",
                reference.system, reference.external_id
            )));
        }
    }
    Ok(())
}

/// The customer stored under `customer_id`, as stored (a merged customer is returned as merged).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn load(
    conn: &mut Conn,
    customer_id: Id,
    view: View,
) -> Result<Option<Customer>, ProfilesError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM customers WHERE customer_id = $1"
    )))
    .bind(customer_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut customer = from_row(&row)?;
    customer.profile.emails = load_emails(conn, customer.id).await?;
    customer.profile.phones = load_phones(conn, customer.id).await?;
    customer.profile.external_refs = load_external_refs(conn, customer.id).await?;
    if view >= View::Full {
        customer.preferences = super::preferences::load_preferences(conn, customer.id).await?;
    }
    if view >= View::WithVulnerability {
        customer.vulnerability = super::preferences::load_vulnerability(conn, customer.id).await?;
    }
    Ok(Some(customer))
}

/// Like [`load`], but an id merged away answers with the customer it was merged into.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn resolve(
    conn: &mut Conn,
    customer_id: Id,
    view: View,
) -> Result<Option<Customer>, ProfilesError> {
    match load(conn, customer_id, view).await? {
        Some(Customer {
            merged_into: Some(survivor),
            ..
        }) => load(conn, survivor, view).await,
        other => Ok(other),
    }
}

/// The customers stored under `ids`, in that order (an id not stored is left out), read as
/// [`load`] reads one, in four statements whatever their number: a search page of 25 costs
/// four round trips, not a hundred.
#[tracing::instrument(level = "debug", skip_all, fields(customers = ids.len()))]
pub async fn load_many(
    conn: &mut Conn,
    ids: &[Id],
    view: View,
) -> Result<Vec<Customer>, ProfilesError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let texts: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let list = (1..=texts.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    // Built only from COLUMNS and placeholders; every id is a bind parameter.
    let select = |sql: String| {
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for text in &texts {
            query = query.bind(text.clone());
        }
        query
    };
    let rows = select(format!(
        "SELECT {COLUMNS} FROM customers WHERE customer_id IN ({list})"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut found = std::collections::HashMap::with_capacity(rows.len());
    for row in &rows {
        let customer = from_row(row)?;
        found.insert(customer.id, customer);
    }
    let owner = |row: &sqlx::any::AnyRow| id(&row.try_get::<String, _>(0)?);
    for row in select(format!(
        "SELECT customer_id, address, verified, is_primary FROM customer_emails \
         WHERE customer_id IN ({list}) ORDER BY customer_id, position"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        if let Some(customer) = found.get_mut(&owner(&row)?) {
            customer.profile.emails.push(email_from_row(&row, 1)?);
        }
    }
    for row in select(format!(
        "SELECT customer_id, e164, verified, is_primary FROM customer_phones \
         WHERE customer_id IN ({list}) ORDER BY customer_id, position"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        if let Some(customer) = found.get_mut(&owner(&row)?) {
            customer.profile.phones.push(phone_from_row(&row, 1)?);
        }
    }
    for row in select(format!(
        "SELECT customer_id, system, external_id FROM external_refs \
         WHERE customer_id IN ({list}) ORDER BY customer_id, system, external_id"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        if let Some(customer) = found.get_mut(&owner(&row)?) {
            customer
                .profile
                .external_refs
                .push(external_ref_from_row(&row, 1)?);
        }
    }
    let mut customers = Vec::with_capacity(found.len());
    for customer_id in ids {
        let Some(mut customer) = found.remove(customer_id) else {
            continue;
        };
        if view >= View::Full {
            customer.preferences = super::preferences::load_preferences(conn, customer.id).await?;
        }
        if view >= View::WithVulnerability {
            customer.vulnerability =
                super::preferences::load_vulnerability(conn, customer.id).await?;
        }
        customers.push(customer);
    }
    Ok(customers)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn id_by_external_ref(
    conn: &mut Conn,
    reference: &ExternalRef,
) -> Result<Option<Id>, ProfilesError> {
    let row =
        sqlx::query("SELECT customer_id FROM external_refs WHERE system = $1 AND external_id = $2")
            .bind(&reference.system)
            .bind(&reference.external_id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|row| id(&row.try_get::<String, _>(0)?)).transpose()
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn id_by_create_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Id>, ProfilesError> {
    let row = sqlx::query("SELECT customer_id FROM customers WHERE create_request_id = $1")
        .bind(request_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| id(&row.try_get::<String, _>(0)?)).transpose()
}

/// What `SearchCustomers` looks for; criteria combine with AND.
#[derive(Debug, Clone, Default)]
pub struct SearchCriteria {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub external_ref: Option<ExternalRef>,
    pub include_closed: bool,
}

/// Ids of matching customers after `after`, in id order (stable across pages), at most `limit`.
/// Merged and erased customers are never found.
///
/// A name matches when every word of the folded query begins a word of the folded legal or
/// preferred name, in any order ("popescu ana" finds "Ana Popescu", "pop" finds it too). The
/// most selective word's key drives the query through `customer_name_keys` in id order; every
/// word is then checked against the stored folded name, so a search by name scans nothing. (One
/// by email, phone or reference alone still walks customers in id order, as it always has.)
#[tracing::instrument(level = "debug", skip_all, fields(limit = limit))]
pub async fn search(
    conn: &mut Conn,
    criteria: &SearchCriteria,
    after: Option<Id>,
    limit: i64,
) -> Result<Vec<Id>, ProfilesError> {
    let statuses = if criteria.include_closed {
        "('active', 'closed')"
    } else {
        "('active')"
    };
    let mut binds: Vec<String> = Vec::new();
    let placeholder = |binds: &mut Vec<String>, value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
    let words = criteria
        .name
        .as_deref()
        .map(query_words)
        .unwrap_or_default();
    // What the customer's row must satisfy, as `c`.
    let mut row_filters = format!("c.status IN {statuses}");
    for word in &words {
        if word.starts_with(is_unspaced) {
            // A script without spaces: the word may begin anywhere (see `name_keys`).
            let p = placeholder(&mut binds, format!("%{}%", escape_like(word)));
            row_filters.push_str(&format!(" AND c.search_name LIKE {p} ESCAPE '\\'"));
        } else {
            // A word start: the folded name's words are separated by single spaces.
            let p = placeholder(&mut binds, format!("% {}%", escape_like(word)));
            row_filters.push_str(&format!(" AND (' ' || c.search_name) LIKE {p} ESCAPE '\\'"));
        }
    }
    if let Some(email) = &criteria.email {
        let p = placeholder(&mut binds, email.as_str().to_lowercase());
        row_filters.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM customer_emails e WHERE e.customer_id = c.customer_id AND e.address_search = {p})"
        ));
    }
    if let Some(phone) = &criteria.phone {
        let p = placeholder(&mut binds, phone.as_str().to_owned());
        row_filters.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.customer_id AND p.e164 = {p})"
        ));
    }
    if let Some(reference) = &criteria.external_ref {
        let system = placeholder(&mut binds, reference.system.clone());
        let external_id = placeholder(&mut binds, reference.external_id.clone());
        row_filters.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM external_refs r WHERE r.customer_id = c.customer_id AND r.system = {system} AND r.external_id = {external_id})"
        ));
    }
    // The column the page is keyed on: the driving table's, so its index gives the order.
    let (mut sql, id_column) = match driving_key(conn, &words, after).await? {
        Some(key) => {
            let p = placeholder(&mut binds, key.clone());
            let mut sql =
                format!("SELECT k.customer_id FROM customer_name_keys k WHERE k.name_key = {p}");
            // Scalar subqueries compared with `> 0`, not joins: PostgreSQL would otherwise judge
            // the LIKEs rare and scan every customer (or, judging each `= 1` rare, JIT-compile
            // a plan it thinks expensive); this way both backends walk the key in id order and
            // stop at the page's end. Up to two other words' keys come first: an index probe
            // each drops a candidate before its row is read (the LIKEs check every word).
            let mut probed = vec![key];
            for word in &words {
                let other = query_key(word);
                if probed.len() > KEY_PROBES || probed.iter().any(|k| k == other) {
                    continue;
                }
                probed.push(other.to_owned());
                let p = placeholder(&mut binds, other.to_owned());
                sql.push_str(&format!(
                    " AND (SELECT COUNT(*) FROM customer_name_keys o WHERE o.name_key = {p} AND o.customer_id = k.customer_id) > 0"
                ));
            }
            sql.push_str(&format!(
                " AND (SELECT COUNT(*) FROM customers c WHERE c.customer_id = k.customer_id AND {row_filters}) > 0"
            ));
            (sql, "k.customer_id")
        }
        None => (
            format!("SELECT c.customer_id FROM customers c WHERE {row_filters}"),
            "c.customer_id",
        ),
    };
    if let Some(after) = after {
        let p = placeholder(&mut binds, after.to_string());
        sql.push_str(&format!(" AND {id_column} > {p}"));
    }
    sql.push_str(&format!(" ORDER BY {id_column} LIMIT {limit}"));

    // Built only from the fixed fragments above; every value is a bind parameter.
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for value in binds {
        query = query.bind(value);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| id(&row.try_get::<String, _>(0)?))
        .collect()
}

/// How many keys besides the driving one a search probes before reading a candidate's row.
const KEY_PROBES: usize = 2;

/// The distinct words of a name query, folded.
fn query_words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in fold_for_search(name).split(' ').filter(|w| !w.is_empty()) {
        if !words.iter().any(|w| w == word) {
            words.push(word.to_owned());
        }
    }
    words
}

/// How many customers a key's count looks at, at most, to compare selectivity: enough to tell
/// a surname from a common first letter, bounded so counting stays cheap.
const SELECTIVITY_SAMPLE: i64 = 2_000;

/// The key of the word with the fewest candidates after `after` (ties: the longer key), which
/// drives the query: "zoltan qwxzyk" walks the customers of no one's surname, not every Zoltán.
async fn driving_key(
    conn: &mut Conn,
    words: &[String],
    after: Option<Id>,
) -> Result<Option<String>, ProfilesError> {
    let mut keys: Vec<&str> = words.iter().map(|w| query_key(w)).collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.len() <= 1 {
        return Ok(keys.first().map(|k| (*k).to_owned()));
    }
    let after = after.map(|id| id.to_string()).unwrap_or_default();
    let mut best: Option<(i64, std::cmp::Reverse<usize>, &str)> = None;
    for key in keys {
        let count: i64 = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM customer_name_keys \
             WHERE name_key = $1 AND customer_id > $2 LIMIT {SELECTIVITY_SAMPLE}) sample"
        )))
        .bind(key)
        .bind(&after)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        let rank = (count, std::cmp::Reverse(key.chars().count()), key);
        if best.is_none_or(|b| rank < b) {
            best = Some(rank);
        }
        if count == 0 {
            break;
        }
    }
    Ok(best.map(|(_, _, key)| key.to_owned()))
}

/// Active customers whose tenure start's month and day fall in one of `month_days` ranges
/// (inclusive MMDD pairs), with their start date and time zone.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn with_start_in(
    conn: &mut Conn,
    month_days: &[(i64, i64)],
) -> Result<Vec<(Id, Date, TimeZoneName)>, ProfilesError> {
    let mut found = Vec::new();
    for (from, to) in month_days {
        let rows = sqlx::query(
            "SELECT customer_id, customer_since, time_zone FROM customers \
             WHERE status = 'active' AND since_month_day >= $1 AND since_month_day <= $2",
        )
        .bind(*from)
        .bind(*to)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            found.push((
                id(&row.try_get::<String, _>(0)?)?,
                date(&row.try_get::<String, _>(1)?)?,
                TimeZoneName::parse(&row.try_get::<String, _>(2)?)
                    .map_err(|e| ProfilesError::Corrupt(format!("time zone: {e}")))?,
            ));
        }
    }
    Ok(found)
}

pub fn month_day(date: Date) -> i64 {
    i64::from(date.month()) * 100 + i64::from(date.day())
}

fn status(text: &str) -> Result<CustomerStatus, ProfilesError> {
    CustomerStatus::parse(text).ok_or_else(|| ProfilesError::Corrupt(format!("status {text:?}")))
}

fn addresses_json(addresses: &[PostalAddress]) -> Result<String, ProfilesError> {
    serde_json::to_string(addresses).map_err(|e| ProfilesError::Corrupt(format!("addresses: {e}")))
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Customer, ProfilesError> {
    let text = |index: usize| row.try_get::<String, _>(index).map_err(ProfilesError::from);
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| ProfilesError::Corrupt(format!("{what}: {e}"));
    let addresses: Vec<PostalAddress> = serde_json::from_str(&text(5)?)
        .map_err(|e| corrupt("addresses", &stored_json_error(&e)))?;
    Ok(Customer {
        id: id(&text(0)?)?,
        profile: Profile {
            legal_name: text(1)?,
            preferred_name: text(2)?,
            locale: Locale::parse(&text(3)?).map_err(|e| corrupt("locale", &e))?,
            time_zone: TimeZoneName::parse(&text(4)?).map_err(|e| corrupt("time zone", &e))?,
            emails: Vec::new(),
            phones: Vec::new(),
            addresses,
            customer_since: date(&text(6)?)?,
            status: status(&text(7)?)?,
            external_refs: Vec::new(),
        },
        merged_into: row
            .try_get::<Option<String>, _>(8)?
            .map(|text| id(&text))
            .transpose()?,
        created_at: instant(row.try_get::<i64, _>(9)?)?,
        updated_at: instant(row.try_get::<i64, _>(10)?)?,
        preferences: None,
        vulnerability: None,
    })
}

async fn load_emails(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Vec<ContactPoint<Email>>, ProfilesError> {
    let rows = sqlx::query(
        "SELECT address, verified, is_primary FROM customer_emails WHERE customer_id = $1 ORDER BY position",
    )
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await
    ?;
    rows.iter().map(|row| email_from_row(row, 0)).collect()
}

async fn load_phones(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Vec<ContactPoint<Phone>>, ProfilesError> {
    let rows = sqlx::query(
        "SELECT e164, verified, is_primary FROM customer_phones WHERE customer_id = $1 ORDER BY position",
    )
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await
    ?;
    rows.iter().map(|row| phone_from_row(row, 0)).collect()
}

async fn load_external_refs(
    conn: &mut Conn,
    customer_id: Id,
) -> Result<Vec<ExternalRef>, ProfilesError> {
    let rows = sqlx::query(
        "SELECT system, external_id FROM external_refs WHERE customer_id = $1 ORDER BY system, external_id",
    )
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await
    ?;
    rows.iter()
        .map(|row| external_ref_from_row(row, 0))
        .collect()
}

/// An email from `address, verified, is_primary` starting at column `first`.
fn email_from_row(
    row: &sqlx::any::AnyRow,
    first: usize,
) -> Result<ContactPoint<Email>, ProfilesError> {
    Ok(ContactPoint {
        value: Email::parse(&row.try_get::<String, _>(first)?)
            .map_err(|e| ProfilesError::Corrupt(format!("email: {e}")))?,
        verified: row.try_get::<i64, _>(first + 1)? != 0,
        primary: row.try_get::<i64, _>(first + 2)? != 0,
    })
}

/// A phone from `e164, verified, is_primary` starting at column `first`.
fn phone_from_row(
    row: &sqlx::any::AnyRow,
    first: usize,
) -> Result<ContactPoint<Phone>, ProfilesError> {
    Ok(ContactPoint {
        value: Phone::parse(&row.try_get::<String, _>(first)?)
            .map_err(|e| ProfilesError::Corrupt(format!("phone: {e}")))?,
        verified: row.try_get::<i64, _>(first + 1)? != 0,
        primary: row.try_get::<i64, _>(first + 2)? != 0,
    })
}

/// A reference from `system, external_id` starting at column `first`.
fn external_ref_from_row(
    row: &sqlx::any::AnyRow,
    first: usize,
) -> Result<ExternalRef, ProfilesError> {
    Ok(ExternalRef {
        system: row.try_get::<String, _>(first)?,
        external_id: row.try_get::<String, _>(first + 1)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rapport_storage::testing::TestDatabase;
    use rapport_storage::{Migrations, backend_tests};

    use super::*;

    /// Names stored before the keys existed get, from the migrations' SQL (7, and 8 for the
    /// long keys), exactly the keys the Rust rule gives them at word starts; merged and erased
    /// customers get none. A name in a script without spaces gets its inner keys ("小龍" in
    /// "李小龍") on its next write.
    async fn the_backfill_writes_the_keys_the_rust_rule_would(database: TestDatabase) {
        let storage = database.open();
        let before_keys = crate::MIGRATIONS
            .0
            .iter()
            .position(|m| m.description == "customer_name_keys")
            .unwrap();
        storage
            .migrate(&Migrations(&crate::MIGRATIONS.0[..before_keys]))
            .await
            .unwrap();
        let people = [
            ("Ștefan Ionuț Popescu", "Ștefi", "active"),
            ("Ana  Maria", "", "active"),
            ("Jo Li", "Jo", "closed"),
            ("李小龍", "", "active"),
            ("Δημήτρης Παπαδόπουλος", "Μήτσος", "active"),
            ("हिन्दी नाम", "", "closed"),
            ("Guðrún Þórsdóttir", "", "merged"),
            ("erased customer", "", "erased"),
            ("Hubert Wolfeschlegelsteinhausen", "Bert", "active"),
            ("やまだたろうさん", "", "active"),
        ];
        let mut expected = Vec::new();
        {
            let mut tx = storage.begin_write().await.unwrap();
            for (legal, preferred, status) in people {
                let id = Id::new();
                let search_name = fold_for_search(&format!("{legal} {preferred}"));
                sqlx::query(
                    "INSERT INTO customers (customer_id, legal_name, preferred_name, search_name, locale, \
                     time_zone, addresses, customer_since, since_month_day, status, created_at_micros, \
                     updated_at_micros) VALUES ($1, $2, $3, $4, 'ro-RO', 'Europe/Bucharest', '[]', \
                     '2020-01-01', 101, $5, 0, 0)",
                )
                .bind(id.to_string())
                .bind(legal)
                .bind(preferred)
                .bind(&search_name)
                .bind(status)
                .execute(&mut *tx)
                .await
                .unwrap();
                let keys = match status {
                    "active" | "closed" => word_start_keys(&search_name),
                    _ => BTreeSet::new(),
                };
                expected.push((id, legal, keys));
            }
            tx.commit().await.unwrap();
        }
        storage.migrate(&crate::MIGRATIONS).await.unwrap();
        let mut conn = storage.reader().acquire().await.unwrap();
        for (id, legal, keys) in expected {
            let rows =
                sqlx::query("SELECT name_key FROM customer_name_keys WHERE customer_id = $1")
                    .bind(id.to_string())
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
            let stored: BTreeSet<String> = rows
                .iter()
                .map(|row| row.try_get::<String, _>(0).unwrap())
                .collect();
            assert_eq!(stored, keys, "{legal}");
        }
        drop(conn);
        storage.close().await;
    }

    backend_tests!(the_backfill_writes_the_keys_the_rust_rule_would);

    /// The Rust rule's keys that start a word: what the migration's SQL can compute.
    fn word_start_keys(search_name: &str) -> BTreeSet<String> {
        name_keys(search_name)
            .into_iter()
            .filter(|key| {
                search_name
                    .split(' ')
                    .any(|word| word.starts_with(key.as_str()))
            })
            .collect()
    }
}
