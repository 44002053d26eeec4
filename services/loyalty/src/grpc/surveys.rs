//! Surveys: recording answers (a detractor opens a follow-up), whether to survey, and the NPS.

use jiff::SignedDuration;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as pb;
use rapport_proto::profiles::v1 as profiles;
use rapport_reasons::{Reason, ReasonEffect};
use rapport_wire as wire;

use super::convert::{follow_up_to_pb, response_to_pb};
use super::{LoyaltyApi, commit, rescore};
use crate::domain::events::LoyaltyEvent;
use crate::domain::nps::Category;
use crate::domain::signal::{Kind, Signal};
use crate::error::LoyaltyError;
use crate::store::follow_ups::{self, FollowUp};
use crate::store::signals;
use crate::store::surveys::{self, NpsFilter, Response};

/// Locales are BCP 47 tags; the longest registered ones are far shorter than this.
const MAX_LOCALE_CHARS: usize = 35;

impl LoyaltyApi {
    #[tracing::instrument(
        skip_all,
        fields(
            customer_id = super::traced_id(r.response.as_ref().map_or("", |s| &s.customer_id))
        )
    )]
    pub(super) async fn record_response(
        &self,
        r: pb::RecordSurveyResponseRequest,
    ) -> Result<pb::RecordSurveyResponseResponse, LoyaltyError> {
        let now = self.now();
        let mut v = Validation::new();
        let request_id = wire::request_id("request_id", &r.request_id, &mut v);
        let Some(s) = r.response.as_ref() else {
            return Err(Validation::single("response", "is required").into());
        };
        let customer_id = wire::id("response.customer_id", &s.customer_id, &mut v);
        let kind = wire::known_enum(
            "response.kind",
            s.kind,
            |k| pb::SurveyKind::try_from(k).ok(),
            pb::SurveyKind::Unspecified,
            &mut v,
        );
        let nps = match s.nps {
            Some(n) if !(0..=10).contains(&n) => {
                v.add("response.nps", format!("is 0–10, not {n}"));
                None
            }
            n => n.and_then(|n| u8::try_from(n).ok()),
        };
        let csat = match s.csat {
            Some(c) if !(1..=5).contains(&c) => {
                v.add("response.csat", format!("is 1–5, not {c}"));
                None
            }
            c => c.and_then(|c| u8::try_from(c).ok()),
        };
        if s.nps.is_none() && s.csat.is_none() {
            v.add(
                "response.nps",
                "give an NPS answer (0–10), a CSAT answer (1–5) or both",
            );
        }
        let text = wire::optional_text("response.text", &s.text, wire::MAX_TEXT_CHARS, &mut v);
        let touchpoint = wire::optional_text(
            "response.touchpoint",
            &s.touchpoint,
            wire::MAX_CODE_CHARS,
            &mut v,
        );
        if !s.interaction_id.is_empty() {
            wire::id("response.interaction_id", &s.interaction_id, &mut v);
        }
        let channel = wire::optional_enum(
            "response.channel",
            s.channel,
            |c| common::Channel::try_from(c).ok(),
            &mut v,
        );
        let locale = wire::optional_text("response.locale", &s.locale, MAX_LOCALE_CHARS, &mut v);
        let responded_at = wire::past_instant(
            "response.responded_at",
            s.responded_at.as_ref(),
            now,
            &mut v,
        );
        v.clone().finish()?;
        let invalid = || LoyaltyError::Invalid(v.clone());
        let customer_id = customer_id.ok_or_else(invalid)?;

        if let Some(request_id) = &request_id
            && let Some(first) = self.replayed(request_id).await?
        {
            return Ok(first);
        }
        let (customer_id, since) = self.live_customer(customer_id).await?;
        let response = Response {
            response_id: Id::new(),
            customer_id,
            kind: kind.ok_or_else(invalid)?.as_str_name().to_owned(),
            nps,
            csat,
            text: text.ok_or_else(invalid)?,
            touchpoint: touchpoint.ok_or_else(invalid)?,
            interaction_id: s.interaction_id.clone(),
            channel: channel.ok_or_else(invalid)?.as_str_name().to_owned(),
            locale: locale.ok_or_else(invalid)?,
            responded_at: responded_at.ok_or_else(invalid)?,
        };

        let mut tx = self.write().await?;
        if !surveys::insert(&mut tx, &response, request_id.as_deref(), now).await? {
            // A concurrent twin with the same request id got there first: answer with its result.
            drop(tx);
            let request_id = request_id.unwrap_or_default();
            return self
                .replayed(&request_id)
                .await?
                .ok_or_else(|| LoyaltyError::Corrupt("a replayed response vanished".into()));
        }
        Self::remember(&mut tx, customer_id, since).await?;
        let id = response.response_id.to_string();
        signals::insert(
            &mut tx,
            &id,
            customer_id,
            &Signal {
                kind: Kind::Survey { nps, csat },
                at: response.responded_at,
            },
        )
        .await?;
        if !response.text.trim().is_empty() {
            signals::insert(
                &mut tx,
                &format!("{id}:opinion"),
                customer_id,
                &Signal {
                    kind: Kind::Opinion,
                    at: response.responded_at,
                },
            )
            .await?;
        }
        let category = nps.and_then(|n| Category::of(i32::from(n)).ok());
        rapport_outbox::append(
            &mut tx,
            &LoyaltyEvent::SurveyRecorded {
                customer_id,
                response_id: response.response_id,
                category: match category {
                    Some(Category::Promoter) => "promoter",
                    Some(Category::Passive) => "passive",
                    Some(Category::Detractor) => "detractor",
                    None => "",
                },
            },
            now,
        )
        .await?;
        // DESIGN.md: every detractor response opens a follow-up with a 48-hour SLA.
        let follow_up = match (category, nps) {
            (Some(Category::Detractor), Some(nps)) => {
                let follow_up = FollowUp {
                    follow_up_id: Id::new(),
                    customer_id,
                    response_id: response.response_id,
                    nps,
                    owner_id: self.rules.follow_up_default_owner.clone(),
                    opened_at: now,
                    due_at: now
                        + SignedDuration::from_hours(i64::from(self.rules.follow_up_sla_hours)),
                    closed: None,
                };
                follow_ups::insert(&mut tx, &follow_up).await?;
                signals::insert(
                    &mut tx,
                    &follow_up.follow_up_id.to_string(),
                    customer_id,
                    &Signal {
                        kind: Kind::FollowUpOpened {
                            follow_up: follow_up.follow_up_id.to_string(),
                            due: follow_up.due_at,
                        },
                        at: now,
                    },
                )
                .await?;
                rapport_outbox::append(
                    &mut tx,
                    &LoyaltyEvent::FollowUpOpened {
                        customer_id,
                        follow_up_id: follow_up.follow_up_id,
                        nps,
                        due_at: follow_up.due_at,
                    },
                    now,
                )
                .await?;
                Some(follow_up)
            }
            _ => None,
        };
        rescore(&mut tx, &self.rules, customer_id, now).await?;
        commit(tx).await?;
        Ok(pb::RecordSurveyResponseResponse {
            response: Some(response_to_pb(&response)),
            follow_up: follow_up.map(|f| follow_up_to_pb(&f, now)),
        })
    }

    /// The first result of a request id already recorded.
    async fn replayed(
        &self,
        request_id: &str,
    ) -> Result<Option<pb::RecordSurveyResponseResponse>, LoyaltyError> {
        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        let Some(first) = surveys::by_request(&mut conn, request_id).await? else {
            return Ok(None);
        };
        let follow_up = follow_ups::for_response(&mut conn, first.response_id).await?;
        Ok(Some(pb::RecordSurveyResponseResponse {
            response: Some(response_to_pb(&first)),
            follow_up: follow_up.map(|f| follow_up_to_pb(&f, self.now())),
        }))
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&r.customer_id)))]
    pub(super) async fn should(
        &self,
        r: pb::ShouldSurveyRequest,
    ) -> Result<pb::ShouldSurveyResponse, LoyaltyError> {
        let now = self.now();
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        wire::optional_enum("kind", r.kind, |k| pb::SurveyKind::try_from(k).ok(), &mut v);
        let channel = wire::optional_enum(
            "channel",
            r.channel,
            |c| common::Channel::try_from(c).ok(),
            &mut v,
        );
        let at = match r.at.as_ref() {
            Some(at) => wire::timestamp("at", at, &mut v),
            None => Some(now),
        };
        v.clone().finish()?;
        let invalid = || LoyaltyError::Invalid(v.clone());
        let (customer_id, channel, at) = (
            customer_id.ok_or_else(invalid)?,
            channel.ok_or_else(invalid)?,
            at.ok_or_else(invalid)?,
        );

        let consents = self
            .profiles
            .consents(&customer_id.to_string(), profiles::ConsentPurpose::Surveys)
            .await?;
        // A decision for this channel wins over one for every channel.
        let decision = consents
            .iter()
            .find(|c| channel != common::Channel::Unspecified && c.channel == channel as i32)
            .or_else(|| {
                consents
                    .iter()
                    .find(|c| c.channel == common::Channel::Unspecified as i32)
            });
        let mut reasons = Vec::new();
        let reason = |code: &'static str, message: String, effect: ReasonEffect| {
            wire::reason_to_pb(&Reason::new(
                code,
                effect,
                "DESIGN.md, Rules with numbers: Loyalty",
                message,
            ))
        };
        let consented = match decision.map(|d| d.status) {
            Some(s) if s == profiles::ConsentStatus::Granted as i32 => {
                reasons.push(reason(
                    "SURVEY_CONSENT_GRANTED",
                    "The customer agreed to be asked for feedback.".into(),
                    ReasonEffect::Supports,
                ));
                true
            }
            Some(_) => {
                reasons.push(reason(
                    "SURVEY_CONSENT_WITHDRAWN",
                    "The customer withdrew consent to surveys: do not ask.".into(),
                    ReasonEffect::Opposes,
                ));
                false
            }
            None => {
                reasons.push(reason(
                    "NO_SURVEY_CONSENT",
                    "The customer has not agreed to surveys: do not ask.".into(),
                    ReasonEffect::Opposes,
                ));
                false
            }
        };

        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        let last = signals::last_surveyed(&mut conn, customer_id).await?;
        let interval = SignedDuration::from_hours(24 * i64::from(self.rules.survey_interval_days));
        let next = last.map(|l| l + interval).filter(|n| *n > at);
        match (last, next) {
            (Some(last), Some(next)) => reasons.push(reason(
                "SURVEY_THROTTLED",
                format!(
                    "Surveyed on {}: at most one survey per {} days, next from {next}.",
                    last.strftime("%Y-%m-%d"),
                    self.rules.survey_interval_days
                ),
                ReasonEffect::Opposes,
            )),
            _ => reasons.push(reason(
                "NOT_SURVEYED_RECENTLY",
                format!(
                    "Not surveyed in the last {} days.",
                    self.rules.survey_interval_days
                ),
                ReasonEffect::Supports,
            )),
        }
        Ok(pb::ShouldSurveyResponse {
            should_survey: consented && next.is_none(),
            reasons,
            // Empty when allowed now, or never (no consent: no date would make it right).
            next_eligible_at: next.filter(|_| consented).map(wire::timestamp_to_pb),
        })
    }

    #[tracing::instrument(skip_all)]
    pub(super) async fn nps(
        &self,
        r: pb::GetNpsRequest,
    ) -> Result<pb::GetNpsResponse, LoyaltyError> {
        let now = self.now();
        let mut v = Validation::new();
        // Windows are half-open; one that ends "now" includes an answer recorded this instant.
        let end_now = now + SignedDuration::from_micros(1);
        let (from, to) = match r.window.as_ref() {
            None => (
                now - SignedDuration::from_hours(
                    24 * i64::from(self.rules.nps_default_window_days),
                ),
                end_now,
            ),
            Some(w) => {
                let from = w
                    .start_time
                    .as_ref()
                    .map(|t| wire::timestamp("window.start_time", t, &mut v));
                let to = w
                    .end_time
                    .as_ref()
                    .map(|t| wire::timestamp("window.end_time", t, &mut v));
                // No start: from the first instant a protobuf Timestamp can carry
                // (0001-01-01T00:00:00Z), which the response echoes.
                let from = from.flatten().unwrap_or_else(|| {
                    jiff::Timestamp::from_second(-62_135_596_800).unwrap_or(jiff::Timestamp::MIN)
                });
                let to = to.flatten().unwrap_or(end_now);
                if from >= to {
                    v.add("window.end_time", "must be after window.start_time");
                }
                (from, to)
            }
        };
        let segment = wire::optional_enum(
            "segment",
            r.segment,
            |s| pb::LoyaltySegment::try_from(s).ok(),
            &mut v,
        );
        let kind =
            wire::optional_enum("kind", r.kind, |k| pb::SurveyKind::try_from(k).ok(), &mut v);
        let touchpoint =
            wire::optional_text("touchpoint", &r.touchpoint, wire::MAX_CODE_CHARS, &mut v);
        v.clone().finish()?;
        let filter = NpsFilter {
            from: Some(from),
            to: Some(to),
            segment: segment
                .and_then(super::convert::segment_from_pb)
                .map(|s| s.code()),
            touchpoint: touchpoint.filter(|t| !t.is_empty()),
            kind: kind
                .filter(|k| *k != pb::SurveyKind::Unspecified)
                .map(|k| k.as_str_name().to_owned()),
        };
        let mut conn = self.storage.reader().acquire().await.map_err(store_error)?;
        let nps = surveys::nps(&mut conn, &filter).await?;
        let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(pb::GetNpsResponse {
            window: Some(common::TimeInterval {
                start_time: Some(wire::timestamp_to_pb(from)),
                end_time: Some(wire::timestamp_to_pb(to)),
            }),
            nps: nps.score,
            n: count(nps.n()),
            promoters: count(nps.promoters),
            passives: count(nps.passives),
            detractors: count(nps.detractors),
            margin_of_error: nps.margin_of_error,
        })
    }
}

pub(super) fn store_error(error: rapport_storage::sqlx::Error) -> LoyaltyError {
    LoyaltyError::Storage(error.into())
}
