use jiff::civil::Date;
use rapport_errors::stored_json_error;
use rapport_ids::Id;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, date, date_text, flag, id, instant, micros};
use crate::domain::contact::{Email, Locale, Phone, TimeZoneName};
use crate::domain::customer::{
    ContactPoint, Customer, CustomerStatus, ExternalRef, PostalAddress, Profile, View,
};
use crate::domain::names::{escape_like, fold_for_search};
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
    write_contact_points(conn, customer.id, profile).await?;
    write_external_refs(conn, customer.id, &profile.external_refs).await
}

/// Replaces a customer's profile (the row, contact points and references).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer.id))]
pub async fn update(conn: &mut Conn, customer: &Customer) -> Result<(), ProfilesError> {
    let profile = &customer.profile;
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
    let mut sql = format!("SELECT c.customer_id FROM customers c WHERE c.status IN {statuses}");
    let mut binds: Vec<String> = Vec::new();
    let placeholder = |binds: &mut Vec<String>, value: String| {
        binds.push(value);
        format!("${}", binds.len())
    };
    if let Some(name) = &criteria.name {
        // Every word must appear in the folded names, in any order ("popescu ana" finds "Ana Popescu").
        for word in fold_for_search(name).split(' ').filter(|w| !w.is_empty()) {
            let p = placeholder(&mut binds, format!("%{}%", escape_like(word)));
            sql.push_str(&format!(" AND c.search_name LIKE {p} ESCAPE '\\'"));
        }
    }
    if let Some(email) = &criteria.email {
        let p = placeholder(&mut binds, email.as_str().to_lowercase());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM customer_emails e WHERE e.customer_id = c.customer_id AND e.address_search = {p})"
        ));
    }
    if let Some(phone) = &criteria.phone {
        let p = placeholder(&mut binds, phone.as_str().to_owned());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.customer_id AND p.e164 = {p})"
        ));
    }
    if let Some(reference) = &criteria.external_ref {
        let system = placeholder(&mut binds, reference.system.clone());
        let external_id = placeholder(&mut binds, reference.external_id.clone());
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM external_refs r WHERE r.customer_id = c.customer_id AND r.system = {system} AND r.external_id = {external_id})"
        ));
    }
    if let Some(after) = after {
        let p = placeholder(&mut binds, after.to_string());
        sql.push_str(&format!(" AND c.customer_id > {p}"));
    }
    sql.push_str(&format!(" ORDER BY c.customer_id LIMIT {limit}"));

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
    rows.iter()
        .map(|row| {
            Ok(ContactPoint {
                value: Email::parse(&row.try_get::<String, _>(0)?)
                    .map_err(|e| ProfilesError::Corrupt(format!("email: {e}")))?,
                verified: row.try_get::<i64, _>(1)? != 0,
                primary: row.try_get::<i64, _>(2)? != 0,
            })
        })
        .collect()
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
    rows.iter()
        .map(|row| {
            Ok(ContactPoint {
                value: Phone::parse(&row.try_get::<String, _>(0)?)
                    .map_err(|e| ProfilesError::Corrupt(format!("phone: {e}")))?,
                verified: row.try_get::<i64, _>(1)? != 0,
                primary: row.try_get::<i64, _>(2)? != 0,
            })
        })
        .collect()
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
        .map(|row| {
            Ok(ExternalRef {
                system: row.try_get::<String, _>(0)?,
                external_id: row.try_get::<String, _>(1)?,
            })
        })
        .collect()
}
