//! Promises to pay, kept or broken with tolerance for partial payment.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_wire as wire;

use super::{Core, commit, load_account, traced_id};
use crate::domain::affordability::{Explanation, ReasonEffect};
use crate::domain::events::PlansEvent;
use crate::domain::promise::Promise;
use crate::error::PlansError;
use crate::store::{self, Conn};

#[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id)))]
pub(crate) async fn record(
    core: &Core,
    r: pb::RecordPromiseToPayRequest,
) -> Result<pb::RecordPromiseToPayResponse, PlansError> {
    let now = core.now();
    let mut v = Validation::new();
    let account_id = wire::id("account_id", &r.account_id, &mut v);
    let promised_date = wire::date("promised_date", r.promised_date.as_ref(), &mut v);
    if let Some(d) = promised_date
        && d < core.today()
    {
        v.add("promised_date", "must not be in the past");
    }
    let channel = wire::optional_enum(
        "channel",
        r.channel,
        |c| common::Channel::try_from(c).ok(),
        &mut v,
    );
    let recorded_by = wire::actor("recorded_by", r.recorded_by.as_ref(), &mut v);
    let note = wire::optional_text("note", &r.note, wire::MAX_TEXT_CHARS, &mut v);
    let request_id = wire::request_id("request_id", &r.request_id, &mut v);
    v.clone().finish()?;
    let invalid = || PlansError::Invalid(v.clone());
    let account_id = account_id.ok_or_else(invalid)?;

    let mut tx = core.write().await?;
    if let Some(request_id) = &request_id
        && let Some(existing) = store::promises::by_request(&mut tx, request_id).await?
    {
        return Ok(pb::RecordPromiseToPayResponse {
            promise: Some(promise_to_pb(&existing, core)),
        });
    }
    let account = load_account(&mut tx, account_id).await?;
    let mut v = Validation::new();
    let amount = wire::positive_amount("amount", r.amount.as_ref(), account.currency, &mut v);
    v.clone().finish()?;
    let promise = Promise {
        id: Id::new(),
        account_id,
        customer_id: account.customer_id,
        currency: account.currency,
        amount: amount.ok_or(PlansError::Invalid(v))?,
        promised_date: promised_date.ok_or_else(invalid)?,
        status: pb::PromiseToPayStatus::Pending,
        paid: 0,
        channel: channel.ok_or_else(invalid)?,
        recorded_by: recorded_by.ok_or_else(invalid)?,
        note: note.ok_or_else(invalid)?,
        created_at: now,
        resolved_at: None,
    };
    store::promises::insert(&mut tx, &promise, request_id.as_deref()).await?;
    commit(tx).await?;
    Ok(pb::RecordPromiseToPayResponse {
        promise: Some(promise_to_pb(&promise, core)),
    })
}

#[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id), customer_id = traced_id(&r.customer_id)))]
pub(crate) async fn list(
    core: &Core,
    r: pb::ListPromisesToPayRequest,
) -> Result<pb::ListPromisesToPayResponse, PlansError> {
    let mut v = Validation::new();
    let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
    let account_id = if r.account_id.is_empty() {
        None
    } else {
        wire::id("account_id", &r.account_id, &mut v)
    };
    let customer_id = if r.customer_id.is_empty() {
        None
    } else {
        wire::id("customer_id", &r.customer_id, &mut v)
    };
    if r.account_id.is_empty() && r.customer_id.is_empty() {
        v.add("account_id", "give account_id or customer_id");
    }
    let mut statuses = Vec::new();
    for (i, s) in r.statuses.iter().enumerate() {
        match pb::PromiseToPayStatus::try_from(*s) {
            Ok(pb::PromiseToPayStatus::Unspecified) | Err(_) => {
                v.add(format!("statuses[{i}]"), "is not a promise status")
            }
            Ok(status) => statuses.push(status),
        }
    }
    let after: Option<Id> = page.after_one(&mut v);
    v.finish()?;

    let first_page = after.is_none();
    // Most looks resolve nothing, so they do not queue behind the one writer (DESIGN.md,
    // Storage): the promises are judged as read, and the writer taken only when a status or a
    // paid amount would change.
    let (customer_id, listed) = {
        let mut read = core.read_together().await?;
        let customer_id = match customer_id {
            Some(c) => Some(store::merges::survivor(&mut read, c).await?),
            None => None,
        };
        let mut listed = store::promises::list(
            &mut read,
            account_id,
            customer_id,
            after,
            page.fetch_limit(),
        )
        .await?;
        let mut unchanged = true;
        for promise in &mut listed {
            if judge(core, &mut read, promise).await?.changed {
                unchanged = false;
                break;
            }
        }
        (customer_id, unchanged.then_some(listed))
    };
    if let Some(listed) = listed {
        let none_at_all = listed.is_empty() && first_page;
        if none_at_all {
            super::ensure_named_exist(core, account_id, customer_id).await?;
        }
        let promises = listed
            .into_iter()
            .filter(|p| statuses.is_empty() || statuses.contains(&p.status))
            .collect();
        return Ok(answer_page(core, &page, promises));
    }

    let mut tx = core.write().await?;
    let customer_id = match customer_id {
        Some(c) => Some(store::merges::survivor(&mut tx, c).await?),
        None => None,
    };
    let mut promises = Vec::new();
    let listed =
        store::promises::list(&mut tx, account_id, customer_id, after, page.fetch_limit()).await?;
    let none_at_all = listed.is_empty() && first_page;
    for mut promise in listed {
        evaluate(core, &mut tx, &mut promise).await?;
        if statuses.is_empty() || statuses.contains(&promise.status) {
            promises.push(promise);
        }
    }
    commit(tx).await?;
    if none_at_all {
        super::ensure_named_exist(core, account_id, customer_id).await?;
    }
    Ok(answer_page(core, &page, promises))
}

fn answer_page(
    core: &Core,
    page: &rapport_paging::Page,
    promises: Vec<Promise>,
) -> pb::ListPromisesToPayResponse {
    let (promises, page) = page.finish(promises, |p| vec![p.id.to_string()]);
    pb::ListPromisesToPayResponse {
        promises: promises.iter().map(|p| promise_to_pb(p, core)).collect(),
        page,
    }
}

/// Brings a pending promise up to date with what the account received since it was made.
async fn evaluate(core: &Core, conn: &mut Conn, promise: &mut Promise) -> Result<(), PlansError> {
    let judged = judge(core, conn, promise).await?;
    if judged.changed {
        store::promises::save(conn, promise).await?;
    }
    if let Some(kept) = judged.resolved {
        rapport_outbox::append(
            conn,
            &PlansEvent::PromiseResolved {
                customer_id: promise.customer_id,
                promise_id: promise.id,
                kept,
            },
            core.now(),
        )
        .await?;
    }
    Ok(())
}

/// What judging a promise at the current clock did to it (in memory).
struct Judged {
    /// Kept (`true`) or broken (`false`), when it resolved just now.
    resolved: Option<bool>,
    /// Whether anything stored about it would change.
    changed: bool,
}

/// Judges a pending promise by what the account received since it was made, in memory only:
/// the write path saves what changed, a reader only asks whether anything would.
async fn judge(core: &Core, conn: &mut Conn, promise: &mut Promise) -> Result<Judged, PlansError> {
    if promise.status != pb::PromiseToPayStatus::Pending {
        return Ok(Judged {
            resolved: None,
            changed: false,
        });
    }
    let end_of_day = promise
        .promised_date
        .tomorrow()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::MAX);
    let paid =
        store::promises::paid_between(conn, promise.account_id, promise.created_at, end_of_day)
            .await?;
    let before = promise.paid;
    let resolved = promise.evaluate(
        paid,
        core.today(),
        core.now(),
        core.rules.promise_kept_percent,
    );
    Ok(Judged {
        resolved,
        changed: resolved.is_some() || promise.paid != before,
    })
}

fn promise_to_pb(p: &Promise, core: &Core) -> pb::PromiseToPay {
    let c = p.currency;
    let threshold = p.threshold(core.rules.promise_kept_percent);
    let rule_ref = format!(
        "rules.promise_kept_percent = {}",
        core.rules.promise_kept_percent
    );
    let reasons = match p.status {
        pb::PromiseToPayStatus::Kept => vec![
            Explanation::new(
                "PROMISE_KEPT",
                ReasonEffect::Supports,
                rule_ref,
                format!(
                    "{} was paid; at least {} keeps the promise.",
                    p.paid, threshold
                ),
            )
            .param("paid", p.paid)
            .param("threshold", threshold),
        ],
        pb::PromiseToPayStatus::Broken => vec![
            Explanation::new(
                "PROMISE_BROKEN",
                ReasonEffect::Opposes,
                rule_ref,
                format!(
                    "By the promised date {} had been paid of the {} needed.",
                    p.paid, threshold
                ),
            )
            .param("paid", p.paid)
            .param("threshold", threshold),
        ],
        _ => Vec::new(),
    };
    pb::PromiseToPay {
        promise_id: p.id.to_string(),
        account_id: p.account_id.to_string(),
        customer_id: p.customer_id.to_string(),
        amount: Some(wire::money_to_pb(c, p.amount)),
        promised_date: Some(wire::date_to_pb(p.promised_date)),
        status: p.status as i32,
        paid_amount: Some(wire::money_to_pb(c, p.paid)),
        channel: p.channel as i32,
        recorded_by: Some(wire::actor_to_pb(&p.recorded_by)),
        note: p.note.clone(),
        created_at: Some(wire::timestamp_to_pb(p.created_at)),
        resolved_at: p.resolved_at.map(wire::timestamp_to_pb),
        reasons: reasons.iter().map(wire::reason_to_pb).collect(),
    }
}
