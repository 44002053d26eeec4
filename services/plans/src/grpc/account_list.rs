//! ListAccounts: a customer's accounts for an agent who knows the customer and nothing else,
//! the most behind first.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::account_view::account_to_pb;
use super::{Core, traced_id};
use crate::domain::stages::days_past_due_of;
use crate::error::PlansError;
use crate::store::{self, accounts::AccountFilter, accounts::AccountKey};

#[tracing::instrument(skip_all, fields(customer_id = traced_id(&r.customer_id)))]
pub(super) async fn list(
    core: &Core,
    r: pb::ListAccountsRequest,
) -> Result<pb::ListAccountsResponse, PlansError> {
    let mut v = Validation::new();
    let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
    let mut days_past_due = Vec::new();
    for (i, s) in r.stages.iter().enumerate() {
        let range = pb::DelinquencyStage::try_from(*s)
            .ok()
            .and_then(|stage| days_past_due_of(stage, core.rules.delinquency_days));
        match range {
            Some(range) => days_past_due.push(range),
            None => v.add(format!("stages[{i}]"), "is not a delinquency stage"),
        }
    }
    let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
    let after = after_key(&page, &mut v);
    v.clone().finish()?;
    let customer_id = customer_id.ok_or(PlansError::Invalid(v))?;

    let accounts = {
        let mut conn = core.read().await?;
        let filter = AccountFilter {
            // A merged-away id is answered for its survivor, whose accounts these now are.
            customer_id: store::merges::survivor(&mut conn, customer_id).await?,
            in_arrears_only: r.in_arrears_only,
            days_past_due,
        };
        store::accounts::list(&mut conn, &filter, after, page.fetch_limit()).await?
    };
    let (accounts, page) = page.finish(accounts, |a| {
        vec![
            a.days_past_due.to_string(),
            rapport_clock::to_unix_micros(a.created_at).to_string(),
            a.id.to_string(),
        ]
    });
    // Plans does not own customers: none listed is an empty list, and profiles is asked (for
    // the customer's calendar, which dates the next payment) only when there is an account.
    let mut listed = Vec::with_capacity(accounts.len());
    if let Some(first) = accounts.first() {
        let today = core.customer_today(first.customer_id).await?;
        let mut conn = core.read().await?;
        for account in &accounts {
            listed.push(account_to_pb(core, &mut conn, account, today).await?);
        }
    }
    Ok(pb::ListAccountsResponse {
        accounts: listed,
        page,
    })
}

/// The (days past due, created at, id) a later page starts after; a token that is not one is a
/// `page.page_token` violation, not a silent first page.
fn after_key(page: &rapport_paging::Page, v: &mut Validation) -> Option<AccountKey> {
    let parts = page.after.as_ref()?;
    let key = match parts.as_slice() {
        [days, created, id] => match (days.parse(), created.parse(), Id::parse(id)) {
            (Ok(days), Ok(created), Ok(id)) => Some((days, created, id)),
            _ => None,
        },
        _ => None,
    };
    if key.is_none() {
        v.add("page.page_token", "is not a token this service issued");
    }
    key
}
