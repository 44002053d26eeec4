use jiff::Timestamp;
use rapport_ids::Id;
use rapport_proto::common::v1::{Channel, Direction, Sentiment};
use rapport_proto::profiles::v1::InteractionOutcome;
use rapport_storage::sqlx::{self, AssertSqlSafe, Row};

use super::{Conn, enum_from_name, id, instant, micros};
use crate::domain::interaction::Interaction;
use crate::error::ProfilesError;

const COLUMNS: &str = "interaction_id, customer_id, channel, direction, topic, outcome, agent_id, sentiment, \
     occurred_at_micros, summary, account_id, source_system";

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(
        interaction_id = %interaction.id,
        customer_id = %interaction.customer_id
    )
)]
pub async fn insert(
    conn: &mut Conn,
    interaction: &Interaction,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<(), ProfilesError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO interactions ({COLUMNS}, request_id, recorded_at_micros) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )))
    .bind(interaction.id.to_string())
    .bind(interaction.customer_id.to_string())
    .bind(interaction.channel.as_str_name())
    .bind(interaction.direction.as_str_name())
    .bind(&interaction.topic)
    .bind(interaction.outcome.as_str_name())
    .bind(&interaction.agent_id)
    .bind(interaction.sentiment.as_str_name())
    .bind(micros(interaction.occurred_at))
    .bind(&interaction.summary)
    .bind(&interaction.account_id)
    .bind(&interaction.source_system)
    .bind(request_id)
    .bind(micros(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_request(
    conn: &mut Conn,
    request_id: &str,
) -> Result<Option<Interaction>, ProfilesError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM interactions WHERE request_id = $1"
    )))
    .bind(request_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A position in the timeline: (occurred_at, interaction id), newest first.
pub type TimelineKey = (i64, Id);

#[derive(Debug, Clone, Default)]
pub struct TimelineFilter {
    pub channel: Option<Channel>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// The customer's touchpoints, newest first, after `after`, at most `limit`.
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn list(
    conn: &mut Conn,
    customer_id: Id,
    filter: &TimelineFilter,
    after: Option<TimelineKey>,
    limit: i64,
) -> Result<Vec<Interaction>, ProfilesError> {
    let mut sql = format!("SELECT {COLUMNS} FROM interactions WHERE customer_id = $1");
    let mut binds: Vec<(String, Option<i64>)> = Vec::new();
    let mut next = 2;
    if let Some(channel) = filter.channel {
        sql.push_str(&format!(" AND channel = ${next}"));
        binds.push((channel.as_str_name().to_owned(), None));
        next += 1;
    }
    if let Some(from) = filter.from {
        sql.push_str(&format!(" AND occurred_at_micros >= ${next}"));
        binds.push((String::new(), Some(micros(from))));
        next += 1;
    }
    if let Some(until) = filter.until {
        sql.push_str(&format!(" AND occurred_at_micros < ${next}"));
        binds.push((String::new(), Some(micros(until))));
        next += 1;
    }
    if let Some((at, last)) = after {
        sql.push_str(&format!(
            " AND (occurred_at_micros < ${next} OR (occurred_at_micros = ${next} AND interaction_id < ${}))",
            next + 1
        ));
        binds.push((String::new(), Some(at)));
        binds.push((last.to_string(), None));
    }
    sql.push_str(&format!(
        " ORDER BY occurred_at_micros DESC, interaction_id DESC LIMIT {limit}"
    ));

    // Built only from the fixed fragments above; every value is a bind parameter.
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(customer_id.to_string());
    for (text, number) in binds {
        query = match number {
            Some(number) => query.bind(number),
            None => query.bind(text),
        };
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}

/// Every touchpoint of the customer, oldest first (export).
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn all_for(conn: &mut Conn, customer_id: Id) -> Result<Vec<Interaction>, ProfilesError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM interactions WHERE customer_id = $1 ORDER BY occurred_at_micros, interaction_id"
    )))
    .bind(customer_id.to_string())
    .fetch_all(&mut *conn)
    .await
    ?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Interaction, ProfilesError> {
    let text = |index: usize| row.try_get::<String, _>(index).map_err(ProfilesError::from);
    Ok(Interaction {
        id: id(&text(0)?)?,
        customer_id: id(&text(1)?)?,
        channel: enum_from_name(&text(2)?, Channel::from_str_name)?,
        direction: enum_from_name(&text(3)?, Direction::from_str_name)?,
        topic: text(4)?,
        outcome: enum_from_name(&text(5)?, InteractionOutcome::from_str_name)?,
        agent_id: text(6)?,
        sentiment: enum_from_name(&text(7)?, Sentiment::from_str_name)?,
        occurred_at: instant(row.try_get::<i64, _>(8)?)?,
        summary: text(9)?,
        account_id: text(10)?,
        source_system: text(11)?,
    })
}
