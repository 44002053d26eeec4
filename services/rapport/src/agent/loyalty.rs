//! `rapport loyalty score` and `rapport loyalty follow-ups`.

use anyhow::Context;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;

use super::format::{short, table, utc};
use super::{Connection, Names, Output, refused, to_json};

/// `rapport loyalty score CUSTOMER`: the score, its segment and flags, and every point explained.
pub async fn loyalty_score(connection: Connection, customer_id: &str) -> anyhow::Result<String> {
    loyalty_score_as(connection, customer_id, Output::Text).await
}

pub async fn loyalty_score_as(
    connection: Connection,
    customer_id: &str,
    output: Output,
) -> anyhow::Result<String> {
    let mut names = Names::default();
    let mut client = LoyaltyServiceClient::new(connection.clone());
    let (answer, ()) = tokio::join!(
        client.get_loyalty_score(loyalty::GetLoyaltyScoreRequest {
            customer_id: customer_id.to_owned(),
            as_of: None,
        }),
        names.learn(&connection, [customer_id]),
    );
    let answer = answer.map_err(refused)?.into_inner();
    if output == Output::Json {
        return to_json(&answer, "rapport.loyalty.v1.GetLoyaltyScoreResponse");
    }
    let score = answer.score.context("loyalty answered without a score")?;
    let flags: Vec<String> = score
        .flags
        .iter()
        .filter_map(|f| loyalty::LoyaltyFlag::try_from(*f).ok())
        .map(|f| format!("{f:?}"))
        .collect();
    let mut out = format!(
        "Loyalty {:.1} ({:?}) — satisfaction {:.1}, involvement {:.1}, affinity {:.1}; model {}\n",
        score.loyalty,
        loyalty::LoyaltySegment::try_from(score.segment).unwrap_or_default(),
        score.satisfaction,
        score.involvement,
        score.affinity,
        score.model_version,
    );
    out.push_str(&format!("Customer: {}\n", names.with_id(customer_id)));
    if !flags.is_empty() {
        out.push_str(&format!("Flags: {}\n", flags.join(", ")));
    }
    let rows: Vec<Vec<String>> = score
        .explanation
        .iter()
        .map(|c| {
            vec![
                short(loyalty::ScoreComponent::try_from(c.component).ok()),
                c.signal.clone(),
                format!("{:+.1}", c.points),
                c.description.clone(),
            ]
        })
        .collect();
    out.push_str(&table(&["COMPONENT", "SIGNAL", "POINTS", "WHY"], &rows));
    for r in &score.reasons {
        out.push_str(&format!("{}: {}\n", r.code, r.message));
    }
    Ok(out)
}

/// `rapport loyalty follow-ups [--overdue] [--owner ID]`: the closed loop's open work, each
/// customer named beside their id.
pub async fn follow_ups(
    connection: Connection,
    overdue: bool,
    owner: &str,
) -> anyhow::Result<String> {
    follow_ups_as(connection, overdue, owner, Output::Text).await
}

pub async fn follow_ups_as(
    connection: Connection,
    overdue: bool,
    owner: &str,
    output: Output,
) -> anyhow::Result<String> {
    let listed = LoyaltyServiceClient::new(connection.clone())
        .list_follow_ups(loyalty::ListFollowUpsRequest {
            status: if overdue {
                loyalty::FollowUpStatus::Overdue
            } else {
                loyalty::FollowUpStatus::Open
            } as i32,
            owner_id: owner.to_owned(),
            customer_id: String::new(),
            page: Some(common::PageRequest {
                page_size: 100,
                page_token: String::new(),
            }),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if output == Output::Json {
        return to_json(&listed, "rapport.loyalty.v1.ListFollowUpsResponse");
    }
    if listed.follow_ups.is_empty() {
        return Ok("No follow-ups waiting.\n".to_owned());
    }
    let mut names = Names::default();
    names
        .learn(
            &connection,
            listed.follow_ups.iter().map(|f| f.customer_id.as_str()),
        )
        .await;
    let rows: Vec<Vec<String>> = listed
        .follow_ups
        .iter()
        .map(|f| {
            vec![
                f.follow_up_id.clone(),
                names.or_id(&f.customer_id),
                f.customer_id.clone(),
                f.nps.to_string(),
                f.owner_id.clone(),
                short(loyalty::FollowUpStatus::try_from(f.status).ok()),
                utc(f.due_at.as_ref()),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "FOLLOW-UP",
            "NAME",
            "CUSTOMER",
            "NPS",
            "OWNER",
            "STATUS",
            "DUE",
        ],
        &rows,
    );
    if listed.page.is_some_and(|p| !p.next_page_token.is_empty()) {
        out.push_str("(more are waiting: the first 100 are shown)\n");
    }
    Ok(out)
}
