//! `rapport customer find NAME` and `rapport customer show NAME|ID`.

use rapport_proto::desk::v1 as desk;
use rapport_proto::desk::v1::desk_service_client::DeskServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;

use super::format::{date, short, table};
use super::overview::{mentioned_customers, render_overview};
use super::{Connection, Names, Output, refused, to_json};

/// How many matches `customer show NAME` lists before asking for a narrower name.
const CHOICES: i32 = 20;

/// `rapport customer find NAME`: customers whose name matches, ignoring case and diacritics.
pub async fn customer_find(connection: Connection, name: &str) -> anyhow::Result<String> {
    customer_find_as(connection, name, Output::Text).await
}

pub async fn customer_find_as(
    connection: Connection,
    name: &str,
    output: Output,
) -> anyhow::Result<String> {
    let found = search(connection, name, 100).await?;
    if output == Output::Json {
        return to_json(&found, "rapport.profiles.v1.SearchCustomersResponse");
    }
    if found.customers.is_empty() {
        return Ok(format!("No customer matches {name:?}.\n"));
    }
    let mut out = choices(&found.customers);
    if found.page.is_some_and(|p| !p.next_page_token.is_empty()) {
        out.push_str("(more match: narrow the name)\n");
    }
    Ok(out)
}

async fn search(
    connection: Connection,
    name: &str,
    page_size: i32,
) -> anyhow::Result<profiles::SearchCustomersResponse> {
    Ok(ProfileServiceClient::new(connection)
        .search_customers(profiles::SearchCustomersRequest {
            name: name.to_owned(),
            include_closed: true,
            page: Some(rapport_proto::common::v1::PageRequest {
                page_size,
                page_token: String::new(),
            }),
            ..Default::default()
        })
        .await
        .map_err(refused)?
        .into_inner())
}

/// The customers as a table: what tells two people of the same name apart.
fn choices(customers: &[profiles::Customer]) -> String {
    let rows: Vec<Vec<String>> = customers
        .iter()
        .map(|c| {
            vec![
                c.customer_id.clone(),
                c.legal_name.clone(),
                date(c.customer_since.as_ref()),
                short(profiles::CustomerStatus::try_from(c.status).ok()),
                c.locale.clone(),
                c.time_zone.clone(),
                c.external_refs
                    .iter()
                    .map(|r| format!("{} {}", r.system, r.external_id))
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    table(
        &[
            "CUSTOMER",
            "NAME",
            "SINCE",
            "STATUS",
            "LOCALE",
            "TIME ZONE",
            "EXTERNAL REFS",
        ],
        &rows,
    )
}

/// What `customer show` was given: an id, or a name to search for.
fn is_id(who: &str) -> bool {
    uuid::Uuid::try_parse(who.trim()).is_ok()
}

/// `rapport customer show NAME|ID`: the desk's overview of one customer. A name that matches
/// several customers is refused with the choices listed (pick one by id); one that matches
/// none is refused too.
pub async fn customer_show(
    connection: Connection,
    who: &str,
    output: Output,
) -> anyhow::Result<String> {
    let customer_id = if is_id(who) {
        who.trim().to_owned()
    } else {
        let found = search(connection.clone(), who, CHOICES).await?;
        match found.customers.as_slice() {
            [] => anyhow::bail!("No customer matches {who:?}."),
            [one] => one.customer_id.clone(),
            several => {
                let count = if found.page.is_some_and(|p| !p.next_page_token.is_empty()) {
                    format!("More than {}", several.len())
                } else {
                    several.len().to_string()
                };
                anyhow::bail!(
                    "{}{count} customers match {who:?}: show one by its id, e.g.\n  rapport customer show {}",
                    choices(several),
                    several[0].customer_id
                )
            }
        }
    };
    let overview = DeskServiceClient::new(connection.clone())
        .get_customer_overview(desk::GetCustomerOverviewRequest {
            customer_id,
            channel: 0,
        })
        .await
        .map_err(|status| {
            if status.code() == tonic::Code::Unimplemented {
                anyhow::anyhow!(
                    "The suite at this address serves no desk (rapport.desk.v1.DeskService): \
                     point --address at one that does (`rapport dev` serves it beside the four)."
                )
            } else {
                refused(status).context("the desk's overview")
            }
        })?
        .into_inner();
    if output == Output::Json {
        return to_json(&overview, "rapport.desk.v1.GetCustomerOverviewResponse");
    }
    let mut names = Names::default();
    if let Some(c) = overview.customer.as_ref().and_then(|s| s.customer.as_ref()) {
        names.insert(&overview.customer_id, &c.legal_name);
    }
    names
        .learn(
            &connection,
            mentioned_customers(&overview).iter().map(String::as_str),
        )
        .await;
    Ok(render_overview(&overview, &names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_uuid_and_anything_else_is_a_name() {
        assert!(is_id("0190f3a2-7c1e-7d4b-9a51-3c2e1f0a9b8c"));
        assert!(!is_id("Ana Popescu"));
        assert!(!is_id("popescu"));
    }
}
