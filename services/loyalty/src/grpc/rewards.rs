//! Tenure rewards (exactly once per customer and tenure year) and recognition.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_paging::Page;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as pb;
use rapport_wire as wire;

use super::convert::{recognition_to_pb, reward_to_pb};
use super::surveys::store_error;
use super::{LoyaltyApi, commit, rescore};
use crate::domain::events::LoyaltyEvent;
use crate::domain::signal::{Kind, Sentiment, Signal};
use crate::error::LoyaltyError;
use crate::store::rewards::{self, Recognition, Reward};
use crate::store::{customers, signals};

impl LoyaltyApi {
    /// Every customer whose anniversary falls on the date gets one reward for that tenure year,
    /// however often and however concurrently this runs: the `(customer, kind, tenure_year)` key
    /// lets exactly one insert win.
    #[tracing::instrument(skip_all)]
    pub(super) async fn anniversaries(
        &self,
        r: pb::IssueAnniversaryRewardsRequest,
    ) -> Result<pb::IssueAnniversaryRewardsResponse, LoyaltyError> {
        let now = self.now();
        let mut v = Validation::new();
        let date = wire::date("date", r.date.as_ref(), &mut v);
        let latest = now.to_zoned(jiff::tz::TimeZone::UTC).date().saturating_add(
            jiff::Span::new().days(crate::rules::ANNIVERSARY_DATE_AHEAD_OF_UTC_DAYS),
        );
        if date.is_some_and(|d| d > latest) {
            v.add(
                "date",
                format!(
                    "must have been reached somewhere (at most {} day after today in UTC, {latest})",
                    crate::rules::ANNIVERSARY_DATE_AHEAD_OF_UTC_DAYS
                ),
            );
        }
        v.clone().finish()?;
        let date = date.ok_or(LoyaltyError::Invalid(v))?;
        let currency = &self.rules.anniversary.currency;
        let (mut created, mut already) = (Vec::new(), 0_i32);
        let mut token = String::new();
        loop {
            // Profiles decides whose anniversary it is (their calendar, 29 February on the 28th).
            let page = self
                .profiles
                .anniversaries(
                    common::DateRange {
                        start: Some(wire::date_to_pb(date)),
                        end: Some(wire::date_to_pb(date)),
                    },
                    token,
                )
                .await?;
            let mut tx = self.write().await?;
            for a in &page.anniversaries {
                let (Ok(customer_id), Ok(year)) =
                    (Id::parse(&a.customer_id), u32::try_from(a.tenure_years))
                else {
                    return Err(LoyaltyError::Dependency(format!(
                        "profiles listed an anniversary loyalty cannot read ({})",
                        a.customer_id
                    )));
                };
                let Some(band) = self.rules.anniversary.band(year) else {
                    continue;
                };
                let reward = Reward {
                    reward_id: Id::new(),
                    customer_id,
                    tenure_year: year,
                    tenure_band: band.name.clone(),
                    currency: currency.clone(),
                    amount_minor: band.amount_minor,
                    anniversary_date: date,
                    issued_at: now,
                };
                if let Some(since) = a.customer_since.as_ref() {
                    let mut ignore = Validation::new();
                    if let Some(since) = wire::optional_date("", Some(since), &mut ignore) {
                        customers::remember_since(&mut tx, customer_id, since).await?;
                    }
                }
                if rewards::issue(&mut tx, &reward).await? {
                    rapport_outbox::append(
                        &mut tx,
                        &LoyaltyEvent::RewardIssued {
                            customer_id,
                            reward_id: reward.reward_id,
                            tenure_year: year,
                        },
                        now,
                    )
                    .await?;
                    created.push(reward);
                } else {
                    already += 1;
                }
            }
            commit(tx).await?;
            token = page.page.map(|p| p.next_page_token).unwrap_or_default();
            if token.is_empty() {
                break;
            }
        }
        Ok(pb::IssueAnniversaryRewardsResponse {
            issued: i32::try_from(created.len()).unwrap_or(i32::MAX),
            rewards: created.iter().map(reward_to_pb).collect(),
            already_issued: already,
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&r.customer_id)))]
    pub(super) async fn list_rewards(
        &self,
        r: pb::ListRewardsRequest,
    ) -> Result<pb::ListRewardsResponse, LoyaltyError> {
        let mut v = Validation::new();
        let customer_id = if r.customer_id.is_empty() {
            None
        } else {
            wire::id("customer_id", &r.customer_id, &mut v)
        };
        let page = Page::parse(r.page.as_ref(), &mut v);
        let after: Option<Id> = page.after_one(&mut v);
        v.finish()?;
        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        // A merged-away id is answered for its survivor.
        let customer_id = match customer_id {
            Some(c) => Some(customers::resolve(&mut conn, c).await?),
            None => None,
        };
        let rows = rewards::list(&mut conn, customer_id, after, page.fetch_limit()).await?;
        drop(conn);
        self.ensure_exists_if_empty(customer_id, rows.is_empty() && after.is_none())
            .await?;
        let (rows, page) = page.finish(rows, |r| vec![r.reward_id.to_string()]);
        Ok(pb::ListRewardsResponse {
            rewards: rows.iter().map(reward_to_pb).collect(),
            page,
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(
            customer_id = super::traced_id(r.recognition.as_ref().map_or("", |g| &g.customer_id))
        )
    )]
    pub(super) async fn recognise(
        &self,
        r: pb::RecordRecognitionRequest,
    ) -> Result<pb::RecordRecognitionResponse, LoyaltyError> {
        let now = self.now();
        let mut v = Validation::new();
        let request_id = wire::request_id("request_id", &r.request_id, &mut v);
        let Some(g) = r.recognition.as_ref() else {
            return Err(Validation::single("recognition", "is required").into());
        };
        let customer_id = wire::id("recognition.customer_id", &g.customer_id, &mut v);
        let kind = wire::known_enum(
            "recognition.kind",
            g.kind,
            |k| pb::RecognitionKind::try_from(k).ok(),
            pb::RecognitionKind::Unspecified,
            &mut v,
        );
        let description = wire::optional_text(
            "recognition.description",
            &g.description,
            wire::MAX_TEXT_CHARS,
            &mut v,
        );
        let value = match g.value.as_ref() {
            None => None,
            Some(m) => wire::currency("recognition.value.currency_code", &m.currency_code, &mut v)
                .and_then(|c| wire::amount("recognition.value", Some(m), c, &mut v))
                .map(|minor| (m.currency_code.clone(), minor)),
        };
        let by = wire::actor("recognition.given_by", g.given_by.as_ref(), &mut v);
        let at = wire::past_instant(
            "recognition.occurred_at",
            g.occurred_at.as_ref(),
            now,
            &mut v,
        );
        let response = wire::optional_enum(
            "recognition.customer_response",
            g.customer_response,
            |s| common::Sentiment::try_from(s).ok(),
            &mut v,
        );
        v.clone().finish()?;
        let invalid = || LoyaltyError::Invalid(v.clone());
        let by = by.ok_or_else(invalid)?;
        let response = response.ok_or_else(invalid)?;

        if let Some(first) = self.recognition_replayed(request_id.as_deref()).await? {
            return Ok(first);
        }
        let (customer_id, since) = self.live_customer(customer_id.ok_or_else(invalid)?).await?;
        let recognition = Recognition {
            recognition_id: Id::new(),
            customer_id,
            kind: kind.ok_or_else(invalid)?.as_str_name().to_owned(),
            description: description.ok_or_else(invalid)?,
            value,
            given_by_kind: by.kind.as_str_name().to_owned(),
            given_by_id: by.id,
            occurred_at: at.ok_or_else(invalid)?,
            customer_response: response.as_str_name().to_owned(),
        };
        let mut tx = self.write().await?;
        if !rewards::recognise(&mut tx, &recognition, request_id.as_deref()).await? {
            drop(tx);
            return self
                .recognition_replayed(request_id.as_deref())
                .await?
                .ok_or_else(|| LoyaltyError::Corrupt("a replayed recognition vanished".into()));
        }
        Self::remember(&mut tx, customer_id, since).await?;
        let sentiment = match response {
            common::Sentiment::Positive => Sentiment::Positive,
            common::Sentiment::Neutral => Sentiment::Neutral,
            common::Sentiment::Negative => Sentiment::Negative,
            common::Sentiment::Mixed => Sentiment::Mixed,
            common::Sentiment::Unspecified => Sentiment::Unknown,
        };
        signals::insert(
            &mut tx,
            &recognition.recognition_id.to_string(),
            customer_id,
            &Signal {
                kind: Kind::Recognition(sentiment),
                at: recognition.occurred_at,
            },
        )
        .await?;
        rapport_outbox::append(
            &mut tx,
            &LoyaltyEvent::RecognitionRecorded {
                customer_id,
                recognition_id: recognition.recognition_id,
            },
            now,
        )
        .await?;
        rescore(&mut tx, &self.rules, customer_id, now).await?;
        commit(tx).await?;
        Ok(pb::RecordRecognitionResponse {
            recognition: Some(recognition_to_pb(&recognition)),
        })
    }

    async fn recognition_replayed(
        &self,
        request_id: Option<&str>,
    ) -> Result<Option<pb::RecordRecognitionResponse>, LoyaltyError> {
        let Some(request_id) = request_id else {
            return Ok(None);
        };
        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        Ok(rewards::recognition_by_request(&mut conn, request_id)
            .await?
            .map(|r| pb::RecordRecognitionResponse {
                recognition: Some(recognition_to_pb(&r)),
            }))
    }
}
