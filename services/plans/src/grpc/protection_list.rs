//! ListProtections: the protected states of a customer, or covering one of their accounts, as
//! the agent must know them before any contact about the debt.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::plans::v1 as pb;

use super::convert::protection_to_pb;
use super::{Core, load_account, traced_id};
use crate::error::PlansError;
use crate::store::{self, protections::ProtectionFilter};

#[tracing::instrument(skip_all, fields(customer_id = traced_id(&r.customer_id), account_id = traced_id(&r.account_id)))]
pub(super) async fn list(
    core: &Core,
    r: pb::ListProtectionsRequest,
) -> Result<pb::ListProtectionsResponse, PlansError> {
    let now = core.now();
    let mut v = Validation::new();
    let (customer_id, account_id) =
        super::customer_or_account(&r.customer_id, &r.account_id, &mut v);
    let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
    let after: Option<(i64, Id)> = page.after_pair(&mut v);
    v.finish()?;

    let mut conn = core.read().await?;
    let customer_id = match customer_id {
        Some(c) => Some(store::merges::survivor(&mut conn, c).await?),
        None => None,
    };
    // A protection belongs to the account's customer; one set for "every account" has no
    // account ids, so the account's owner is what finds it.
    let owner = match account_id {
        // Plans owns accounts: an unknown one is NOT_FOUND, not an empty list.
        Some(account_id) => Some(load_account(&mut conn, account_id).await?.customer_id),
        None => None,
    };
    let customer_id = match (customer_id, owner) {
        // Both named: the account's protections if it is that customer's, else none.
        (Some(named), Some(owner)) if named != owner => None,
        (named, owner) => named.or(owner),
    };
    let listed = match customer_id {
        Some(customer_id) => {
            let filter = ProtectionFilter {
                customer_id,
                covering: account_id,
                in_force_at: (!r.include_ended).then_some(now),
            };
            store::protections::list(&mut conn, &filter, after, page.fetch_limit()).await?
        }
        None => Vec::new(),
    };
    let (listed, page) = page.finish(listed, |p| {
        let (end, id) = store::protections::list_key(p);
        vec![end.to_string(), id.to_string()]
    });
    Ok(pb::ListProtectionsResponse {
        protections: listed.iter().map(|p| protection_to_pb(p, now)).collect(),
        page,
    })
}
