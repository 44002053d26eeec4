//! The score: now (or as of a time), its history, and who is at risk.

use rapport_errors::Validation;
use rapport_paging::Page;
use rapport_proto::loyalty::v1 as pb;
use rapport_wire as wire;

use super::convert::{score_to_pb, segment_from_pb};
use super::surveys::store_error;
use super::{LoyaltyApi, commit, compute};
use crate::error::LoyaltyError;
use crate::store::{centi, customers, scores};

impl LoyaltyApi {
    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&r.customer_id)))]
    pub(super) async fn score(
        &self,
        r: pb::GetLoyaltyScoreRequest,
    ) -> Result<pb::GetLoyaltyScoreResponse, LoyaltyError> {
        let now = self.now();
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        let as_of = match r.as_of.as_ref() {
            Some(at) => wire::timestamp("as_of", at, &mut v),
            None => Some(now),
        };
        v.clone().finish()?;
        let invalid = || LoyaltyError::Invalid(v.clone());
        let (customer_id, as_of) = (customer_id.ok_or_else(invalid)?, as_of.ok_or_else(invalid)?);

        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        let customer_id = customers::resolve(&mut conn, customer_id).await?;
        // Tenure comes from profiles (which also says whether the customer exists); remembered
        // once, so batch rescoring has it too.
        let known = customers::known(&mut conn, customer_id).await?;
        let customer_id = if known.customer_since.is_none() {
            drop(conn);
            let (live, since) = match self.live_customer(customer_id).await {
                // An erased customer's numbers remain (there is no personal data in them).
                Err(LoyaltyError::FailedPrecondition(_)) => (customer_id, None),
                other => other?,
            };
            let mut tx = self.write().await?;
            Self::remember(&mut tx, live, since).await?;
            commit(tx).await?;
            conn = self.storage.reader().acquire().await.map_err(store_error)?;
            live
        } else {
            customer_id
        };
        let (score, _) = compute(&mut conn, &self.rules, customer_id, as_of).await?;
        Ok(pb::GetLoyaltyScoreResponse {
            score: Some(score_to_pb(&customer_id.to_string(), &score, true)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&r.customer_id)))]
    pub(super) async fn history(
        &self,
        r: pb::GetScoreHistoryRequest,
    ) -> Result<pb::GetScoreHistoryResponse, LoyaltyError> {
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        let interval = r.interval.as_ref();
        let from = interval
            .and_then(|i| i.start_time.as_ref())
            .and_then(|t| wire::timestamp("interval.start_time", t, &mut v));
        let to = interval
            .and_then(|i| i.end_time.as_ref())
            .and_then(|t| wire::timestamp("interval.end_time", t, &mut v));
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            v.add("interval.end_time", "must be after interval.start_time");
        }
        let page = Page::parse(r.page.as_ref(), &mut v);
        let after: Option<(i64, String)> = page.after_pair(&mut v);
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(LoyaltyError::Invalid(v))?;
        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        let customer_id = customers::resolve(&mut conn, customer_id).await?;
        let first_page = after.is_none();
        let rows =
            scores::history(&mut conn, customer_id, from, to, after, page.fetch_limit()).await?;
        drop(conn);
        self.ensure_exists_if_empty(Some(customer_id), rows.is_empty() && first_page)
            .await?;
        let (rows, page) = page.finish(rows, |s| {
            vec![
                crate::store::micros(s.score.as_of).to_string(),
                s.score_id.clone(),
            ]
        });
        Ok(pb::GetScoreHistoryResponse {
            scores: rows
                .iter()
                .map(|s| score_to_pb(&s.customer_id.to_string(), &s.score, r.include_explanation))
                .collect(),
            page,
        })
    }

    #[tracing::instrument(skip_all, fields(page_size = r.page.as_ref().map(|p| p.page_size)))]
    pub(super) async fn at_risk(
        &self,
        r: pb::ListAtRiskRequest,
    ) -> Result<pb::ListAtRiskResponse, LoyaltyError> {
        let mut v = Validation::new();
        let segment = wire::optional_enum(
            "segment",
            r.segment,
            |s| pb::LoyaltySegment::try_from(s).ok(),
            &mut v,
        );
        let page = Page::parse(r.page.as_ref(), &mut v);
        let after: Option<(i64, String)> = page.after_pair(&mut v);
        v.finish()?;
        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        let rows = scores::at_risk(
            &mut conn,
            segment.and_then(segment_from_pb),
            after,
            page.fetch_limit(),
        )
        .await?;
        let (rows, page) = page.finish(rows, |r| {
            vec![
                centi(r.stored.score.loyalty).to_string(),
                r.stored.customer_id.to_string(),
            ]
        });
        Ok(pb::ListAtRiskResponse {
            customers: rows
                .iter()
                .map(|r| {
                    let customer_id = r.stored.customer_id.to_string();
                    let score = score_to_pb(&customer_id, &r.stored.score, true);
                    pb::AtRiskCustomer {
                        customer_id,
                        previous_loyalty: r.previous_loyalty.unwrap_or(score.loyalty),
                        reasons: score
                            .reasons
                            .iter()
                            .filter(|r| {
                                r.effect == rapport_proto::common::v1::ReasonEffect::Opposes as i32
                            })
                            .cloned()
                            .collect(),
                        score: Some(score),
                    }
                })
                .collect(),
            page,
        })
    }
}
