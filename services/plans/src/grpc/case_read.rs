//! ListHardshipCases and GetHardshipCase: an agent finds a customer's cases and reads one, with
//! its affordability and the plan accepted from it. Income and expenditure are sensitive: the
//! server's guard audits both reads (policy: SensitiveRead).

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::case_detail::case_detail;
use super::{Core, load_account, not_found, traced_id};
use crate::error::PlansError;
use crate::store::{self, cases::CaseFilter};

#[tracing::instrument(skip_all, fields(customer_id = traced_id(&r.customer_id), account_id = traced_id(&r.account_id)))]
pub(super) async fn list(
    core: &Core,
    r: pb::ListHardshipCasesRequest,
) -> Result<pb::ListHardshipCasesResponse, PlansError> {
    let mut v = Validation::new();
    let (customer_id, account_id) =
        super::customer_or_account(&r.customer_id, &r.account_id, &mut v);
    let mut open = Vec::new();
    for (i, s) in r.statuses.iter().enumerate() {
        match pb::HardshipCaseStatus::try_from(*s) {
            Ok(pb::HardshipCaseStatus::Open) => open.push(true),
            Ok(pb::HardshipCaseStatus::Closed) => open.push(false),
            Ok(pb::HardshipCaseStatus::Unspecified) | Err(_) => {
                v.add(format!("statuses[{i}]"), "is not a hardship case status")
            }
        }
    }
    let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
    let after: Option<(i64, Id)> = page.after_pair(&mut v);
    v.finish()?;

    let mut conn = core.read().await?;
    let customer_id = match customer_id {
        Some(c) => Some(store::merges::survivor(&mut conn, c).await?),
        None => None,
    };
    if let Some(account_id) = account_id {
        // Plans owns accounts: an unknown one is NOT_FOUND, not an empty list.
        load_account(&mut conn, account_id).await?;
    }
    let filter = CaseFilter {
        customer_id,
        account_id,
        // Both statuses named is no filter.
        open: match (open.contains(&true), open.contains(&false)) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        },
    };
    let listed = store::cases::list(&mut conn, &filter, after, page.fetch_limit()).await?;
    let (listed, page) = page.finish(listed, |c| {
        vec![
            rapport_clock::to_unix_micros(c.opened_at).to_string(),
            c.id.to_string(),
        ]
    });
    let mut cases = Vec::with_capacity(listed.len());
    for case in &listed {
        cases.push(case_detail(core, &mut conn, case).await?);
    }
    Ok(pb::ListHardshipCasesResponse { cases, page })
}

#[tracing::instrument(skip_all, fields(case_id = traced_id(&r.case_id)))]
pub(super) async fn get(
    core: &Core,
    r: pb::GetHardshipCaseRequest,
) -> Result<pb::GetHardshipCaseResponse, PlansError> {
    let mut v = Validation::new();
    let case_id = wire::id("case_id", &r.case_id, &mut v);
    v.clone().finish()?;
    let case_id = case_id.ok_or(PlansError::Invalid(v))?;
    let mut conn = core.read().await?;
    let case = store::cases::get(&mut conn, case_id)
        .await?
        .ok_or_else(|| not_found("hardship case", case_id))?;
    Ok(pb::GetHardshipCaseResponse {
        detail: Some(case_detail(core, &mut conn, &case).await?),
    })
}
