//! The closed loop: listing follow-ups and closing them with what the customer was told.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_paging::Page;
use rapport_proto::loyalty::v1 as pb;
use rapport_wire as wire;

use super::convert::follow_up_to_pb;
use super::surveys::store_error;
use super::{LoyaltyApi, commit, not_found, rescore};
use crate::domain::events::LoyaltyEvent;
use crate::domain::signal::{Kind, Signal};
use crate::error::LoyaltyError;
use crate::store::follow_ups::{self, Closed, ListFilter, State};
use crate::store::{customers, signals};

impl LoyaltyApi {
    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&r.customer_id)))]
    pub(super) async fn list_follow_ups(
        &self,
        r: pb::ListFollowUpsRequest,
    ) -> Result<pb::ListFollowUpsResponse, LoyaltyError> {
        let now = self.now();
        let mut v = Validation::new();
        let status = wire::optional_enum(
            "status",
            r.status,
            |s| pb::FollowUpStatus::try_from(s).ok(),
            &mut v,
        );
        let owner_id = wire::optional_text("owner_id", &r.owner_id, wire::MAX_CODE_CHARS, &mut v);
        let customer_id = if r.customer_id.is_empty() {
            None
        } else {
            wire::id("customer_id", &r.customer_id, &mut v)
        };
        let page = Page::parse(r.page.as_ref(), &mut v);
        let after: Option<Id> = page.after_one(&mut v);
        v.finish()?;
        let state = match status {
            Some(pb::FollowUpStatus::Open) => State::Open,
            Some(pb::FollowUpStatus::Overdue) => State::Overdue,
            Some(pb::FollowUpStatus::Closed) => State::Closed,
            _ => State::Any,
        };
        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        // A merged-away id is answered for its survivor.
        let customer_id = match customer_id {
            Some(c) => Some(customers::resolve(&mut conn, c).await?),
            None => None,
        };
        let rows = follow_ups::list(
            &mut conn,
            &ListFilter {
                state,
                owner_id: owner_id.filter(|o| !o.is_empty()),
                customer_id,
                now,
                after,
                limit: page.fetch_limit(),
            },
        )
        .await?;
        drop(conn);
        self.ensure_exists_if_empty(customer_id, rows.is_empty() && after.is_none())
            .await?;
        let (rows, page) = page.finish(rows, |f| vec![f.follow_up_id.to_string()]);
        Ok(pb::ListFollowUpsResponse {
            follow_ups: rows.iter().map(|f| follow_up_to_pb(f, now)).collect(),
            page,
        })
    }

    #[tracing::instrument(skip_all, fields(follow_up_id = super::traced_id(&r.follow_up_id)))]
    pub(super) async fn close_follow_up(
        &self,
        r: pb::CloseFollowUpRequest,
    ) -> Result<pb::CloseFollowUpResponse, LoyaltyError> {
        let now = self.now();
        let mut v = Validation::new();
        let follow_up_id = wire::id("follow_up_id", &r.follow_up_id, &mut v);
        // DESIGN.md: closing a follow-up records what the customer was told.
        let told = wire::required_text(
            "customer_told",
            &r.customer_told,
            wire::MAX_TEXT_CHARS,
            &mut v,
        );
        let outcome = wire::known_enum(
            "outcome",
            r.outcome,
            |o| pb::FollowUpOutcome::try_from(o).ok(),
            pb::FollowUpOutcome::Unspecified,
            &mut v,
        );
        let by = wire::actor("closed_by", r.closed_by.as_ref(), &mut v);
        let at = wire::past_instant("closed_at", r.closed_at.as_ref(), now, &mut v);
        v.clone().finish()?;
        let invalid = || LoyaltyError::Invalid(v.clone());
        let follow_up_id = follow_up_id.ok_or_else(invalid)?;
        let by = by.ok_or_else(invalid)?;
        let closed = Closed {
            at: at.ok_or_else(invalid)?,
            customer_told: told.ok_or_else(invalid)?,
            outcome: outcome.ok_or_else(invalid)?.as_str_name().to_owned(),
            by_kind: by.kind.as_str_name().to_owned(),
            by_id: by.id,
        };

        let mut tx = self.write().await?;
        let mut follow_up = follow_ups::get(&mut tx, follow_up_id)
            .await?
            .ok_or_else(|| not_found("follow-up", follow_up_id))?;
        if let Some(earlier) = &follow_up.closed {
            // A retry of the same close answers as the first did; a different close is refused.
            let same = earlier.customer_told == closed.customer_told
                && earlier.outcome == closed.outcome
                && earlier.by_id == closed.by_id;
            if same {
                return Ok(pb::CloseFollowUpResponse {
                    follow_up: Some(follow_up_to_pb(&follow_up, now)),
                });
            }
            return Err(LoyaltyError::FailedPrecondition(format!(
                "follow-up {follow_up_id} was already closed at {}",
                earlier.at
            )));
        }
        if closed.at < follow_up.opened_at {
            return Err(Validation::single(
                "closed_at",
                format!(
                    "must not be before the follow-up opened ({})",
                    follow_up.opened_at
                ),
            )
            .into());
        }
        if !follow_ups::close(&mut tx, follow_up_id, &closed).await? {
            return Err(LoyaltyError::FailedPrecondition(format!(
                "follow-up {follow_up_id} was closed by another call"
            )));
        }
        let within_sla = closed.at <= follow_up.due_at;
        signals::insert(
            &mut tx,
            &format!("{follow_up_id}:closed"),
            follow_up.customer_id,
            &Signal {
                kind: Kind::FollowUpClosed {
                    follow_up: follow_up_id.to_string(),
                    due: follow_up.due_at,
                },
                at: closed.at,
            },
        )
        .await?;
        rapport_outbox::append(
            &mut tx,
            &LoyaltyEvent::FollowUpClosed {
                customer_id: follow_up.customer_id,
                follow_up_id,
                nps: follow_up.nps,
                due_at: follow_up.due_at,
                outcome: outcome.ok_or_else(invalid)?.as_str_name(),
                within_sla,
            },
            now,
        )
        .await?;
        rescore(&mut tx, &self.rules, follow_up.customer_id, now).await?;
        commit(tx).await?;
        follow_up.closed = Some(closed);
        Ok(pb::CloseFollowUpResponse {
            follow_up: Some(follow_up_to_pb(&follow_up, now)),
        })
    }
}
