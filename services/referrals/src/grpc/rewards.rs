//! Qualification and double-sided rewards: issued exactly once, within an annual cap, held while
//! a strong fraud flag is open; the fraud flag review.

use jiff::{SignedDuration, Timestamp};
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::referrals::v1 as pb;
use rapport_wire as wire;

use super::convert::{flag_to_pb, reason, reason_to_pb, reward_to_pb};
use super::{ReferralApi, commit, not_found};
use crate::domain::events::ReferralEvent;
use crate::error::ReferralsError;
use crate::store::flags::Flag;
use crate::store::referrals::Referral;
use crate::store::rewards::Reward;
use crate::store::{self, Conn, StoredReason};

const RULE_REWARDS: &str = "DESIGN.md: qualification after ≥ 90 days in good standing; double-sided rewards; an annual cap per person";

impl ReferralApi {
    #[tracing::instrument(skip_all, fields(referral_id = super::traced_id(&r.referral_id)))]
    pub(super) async fn evaluate(
        &self,
        r: pb::EvaluateQualificationsRequest,
    ) -> Result<pb::EvaluateQualificationsResponse, ReferralsError> {
        let now = self.now();
        let mut v = Validation::new();
        let as_of = wire::past_instant("as_of", r.as_of.as_ref(), now, &mut v);
        let only = if r.referral_id.is_empty() {
            None
        } else {
            wire::id("referral_id", &r.referral_id, &mut v)
        };
        v.clone().finish()?;
        let as_of = as_of.ok_or(ReferralsError::Invalid(v))?;
        let due_by =
            as_of - SignedDuration::from_hours(24 * i64::from(self.rules.qualification_days));

        let candidates: Vec<Referral> = {
            let mut conn = self.storage.reader().acquire().await?;
            match only {
                Some(id) => vec![
                    store::referrals::get(&mut conn, id)
                        .await?
                        .ok_or_else(|| not_found("referral", id))?,
                ],
                None => store::referrals::all(&mut conn)
                    .await?
                    .into_iter()
                    .filter(|r| r.status == pb::ReferralStatus::SignedUp)
                    .collect(),
            }
        };
        let mut response = pb::EvaluateQualificationsResponse::default();
        for candidate in candidates {
            response.evaluated += 1;
            let mut reasons = Vec::new();
            let Some(referee) = candidate.referee_id else {
                reasons.push(reason(
                    "NOT_SIGNED_UP",
                    "The prospect has not become a customer yet.",
                    RULE_REWARDS,
                    common::ReasonEffect::Opposes,
                ));
                response
                    .results
                    .push(result(&candidate, false, &reasons, &[]));
                continue;
            };
            if candidate.signed_up_at.is_none_or(|at| at > due_by) {
                reasons.push(reason(
                    "TOO_EARLY",
                    format!(
                        "A referral qualifies {} days after sign-up.",
                        self.rules.qualification_days
                    ),
                    RULE_REWARDS,
                    common::ReasonEffect::Opposes,
                ));
                response
                    .results
                    .push(result(&candidate, false, &reasons, &[]));
                continue;
            }
            // DESIGN.md: ≥ 90 days in good standing, as plans publishes it (a customer back in
            // good standing after arrears or a broken plan counts from their return).
            let member = self.member(referee).await?;
            if !member
                .standing
                .held_for_days(self.rules.qualification_days, as_of)
            {
                reasons.push(if member.good_standing() {
                    reason(
                        "REFEREE_NOT_LONG_ENOUGH_IN_GOOD_STANDING",
                        format!(
                            "The new customer is in good standing again since {}; a referral qualifies after {} days in good standing.",
                            member
                                .standing
                                .since
                                .map(|at| at.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
                                .unwrap_or_default(),
                            self.rules.qualification_days
                        ),
                        RULE_REWARDS,
                        common::ReasonEffect::Opposes,
                    )
                } else {
                    reason(
                        "REFEREE_NOT_IN_GOOD_STANDING",
                        format!(
                            "The new customer is not in good standing: {}",
                            member.standing.why_not()
                        ),
                        RULE_REWARDS,
                        common::ReasonEffect::Opposes,
                    )
                });
                response
                    .results
                    .push(result(&candidate, false, &reasons, &[]));
                continue;
            }
            let mut tx = self.write().await?;
            let mut referral = store::referrals::get(&mut tx, candidate.id)
                .await?
                .ok_or_else(|| not_found("referral", candidate.id))?;
            if referral.status == pb::ReferralStatus::SignedUp {
                referral.status = pb::ReferralStatus::Qualified;
                referral.qualified_at = Some(as_of);
                store::referrals::save(&mut tx, &referral).await?;
                rapport_outbox::append(
                    &mut tx,
                    &ReferralEvent::ReferralQualified {
                        referrer_id: referral.referrer_id,
                        referral_id: referral.id,
                    },
                    now,
                )
                .await?;
            }
            reasons.push(reason(
                "QUALIFIED",
                format!(
                    "The new customer has been in good standing for {} days.",
                    self.rules.qualification_days
                ),
                RULE_REWARDS,
                common::ReasonEffect::Supports,
            ));
            let flags = store::flags::all(&mut tx).await?;
            let mut rewards = Vec::new();
            for (customer, role, amount) in [
                (
                    referral.referrer_id,
                    pb::RewardRole::Referrer,
                    self.rules.referrer_reward_minor,
                ),
                (
                    referee,
                    pb::RewardRole::Referee,
                    self.rules.referee_reward_minor,
                ),
            ] {
                let mut reward = Reward {
                    id: Id::new(),
                    referral_id: referral.id,
                    customer_id: customer,
                    role,
                    currency: self.rules.reward_currency.clone(),
                    amount,
                    status: pb::RewardStatus::Held,
                    reasons: Vec::new(),
                    created_at: now,
                    issued_at: None,
                };
                self.settle(&mut tx, &mut reward, &referral, &flags, as_of)
                    .await?;
                // Exactly once: a second evaluation (or a concurrent one) finds the row taken.
                if store::rewards::insert(&mut tx, &reward).await? {
                    match reward.status {
                        pb::RewardStatus::Issued => {
                            response.rewards_issued += 1;
                            rapport_outbox::append(
                                &mut tx,
                                &ReferralEvent::RewardIssued {
                                    customer_id: customer,
                                    reward_id: reward.id,
                                    referral_id: referral.id,
                                },
                                now,
                            )
                            .await?;
                        }
                        pb::RewardStatus::Held => response.rewards_held += 1,
                        _ => {}
                    }
                    rewards.push(reward);
                }
            }
            if r.dry_run {
                drop(tx); // nothing written
            } else {
                commit(tx).await?;
            }
            response.qualified += 1;
            response
                .results
                .push(result(&referral, true, &reasons, &rewards));
        }
        Ok(response)
    }

    /// Decides a reward's status: held while a strong flag touching it is open, capped beyond the
    /// annual cap, issued otherwise.
    async fn settle(
        &self,
        conn: &mut Conn,
        reward: &mut Reward,
        referral: &Referral,
        flags: &[Flag],
        as_of: Timestamp,
    ) -> Result<(), ReferralsError> {
        let holding: Vec<&Flag> = flags
            .iter()
            .filter(|f| {
                f.holds()
                    && (f.referral_ids.contains(&referral.id)
                        || f.customer_ids.contains(&reward.customer_id))
            })
            .collect();
        if let Some(flag) = holding.first() {
            reward.status = pb::RewardStatus::Held;
            reward.reasons = vec![reason(
                "HELD_FOR_REVIEW",
                format!(
                    "Held while fraud flag {} ({}) is reviewed.",
                    flag.id,
                    flag.signal.as_str_name()
                ),
                RULE_REWARDS,
                common::ReasonEffect::Opposes,
            )];
            return Ok(());
        }
        // One customer's cap is checked by one evaluation at a time.
        sqlx_lock_member(conn, reward.customer_id).await?;
        let year = as_of.to_zoned(jiff::tz::TimeZone::UTC).date().year();
        let start = jiff::civil::date(year, 1, 1)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(as_of);
        let end = jiff::civil::date(year.saturating_add(1), 1, 1)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or(as_of);
        let so_far = store::rewards::issued_between(conn, reward.customer_id, start, end).await?;
        if so_far.saturating_add(reward.amount) > self.rules.annual_cap_minor {
            reward.status = pb::RewardStatus::Capped;
            reward.reasons = vec![reason(
                "ANNUAL_CAP",
                format!(
                    "This would take the customer's rewards for {year} beyond the cap of {} minor units.",
                    self.rules.annual_cap_minor
                ),
                RULE_REWARDS,
                common::ReasonEffect::Opposes,
            )];
        } else {
            reward.status = pb::RewardStatus::Issued;
            reward.issued_at = Some(as_of);
            reward.reasons = vec![reason(
                "ISSUED",
                "Thank you for recommending us.",
                RULE_REWARDS,
                common::ReasonEffect::Supports,
            )];
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&r.customer_id)))]
    pub(super) async fn list_rewards(
        &self,
        r: pb::ListRewardsRequest,
    ) -> Result<pb::ListRewardsResponse, ReferralsError> {
        let mut v = Validation::new();
        let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
        let customer = wire::id("customer_id", &r.customer_id, &mut v);
        let after: Option<Id> = page.after_one(&mut v);
        v.clone().finish()?;
        let customer = customer.ok_or(ReferralsError::Invalid(v))?;
        let mut conn = self.storage.reader().acquire().await?;
        // A merged-away id is answered for its survivor.
        let customer = store::merges::resolve(&mut conn, customer).await?;
        let mut rewards = store::rewards::for_customer(&mut conn, customer).await?;
        drop(conn);
        if rewards.is_empty() {
            // Nobody's rewards are not an empty list: an unknown customer is NOT_FOUND.
            self.read_member(customer).await?;
        }
        rewards.retain(|w| {
            (r.statuses.is_empty() || r.statuses.contains(&(w.status as i32)))
                && after.is_none_or(|a| w.id > a)
        });
        rewards.truncate(page.fetch_limit() as usize);
        let (rewards, page) = page.finish(rewards, |w| vec![w.id.to_string()]);
        Ok(pb::ListRewardsResponse {
            rewards: rewards.iter().map(reward_to_pb).collect(),
            page,
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&r.customer_id)))]
    pub(super) async fn list_flags(
        &self,
        r: pb::ListFraudFlagsRequest,
    ) -> Result<pb::ListFraudFlagsResponse, ReferralsError> {
        let mut v = Validation::new();
        let page = rapport_paging::Page::parse(r.page.as_ref(), &mut v);
        let customer = if r.customer_id.is_empty() {
            None
        } else {
            wire::id("customer_id", &r.customer_id, &mut v)
        };
        let after: Option<Id> = page.after_one(&mut v);
        v.finish()?;
        let mut conn = self.storage.reader().acquire().await?;
        let customer = match customer {
            Some(c) => Some(store::merges::resolve(&mut conn, c).await?),
            None => None,
        };
        let mut flags = store::flags::all(&mut conn).await?;
        flags.retain(|f| {
            (r.statuses.is_empty() || r.statuses.contains(&(f.status as i32)))
                && (r.signals.is_empty() || r.signals.contains(&(f.signal as i32)))
                && customer.is_none_or(|c| f.customer_ids.contains(&c))
                && after.is_none_or(|a| f.id > a)
        });
        flags.truncate(page.fetch_limit() as usize);
        let (flags, page) = page.finish(flags, |f| vec![f.id.to_string()]);
        Ok(pb::ListFraudFlagsResponse {
            fraud_flags: flags.iter().map(flag_to_pb).collect(),
            page,
        })
    }

    #[tracing::instrument(skip_all, fields(flag_id = super::traced_id(&r.flag_id)))]
    pub(super) async fn resolve_flag(
        &self,
        r: pb::ResolveFraudFlagRequest,
    ) -> Result<pb::ResolveFraudFlagResponse, ReferralsError> {
        let now = self.now();
        let mut v = Validation::new();
        let flag_id = wire::id("flag_id", &r.flag_id, &mut v);
        let decision = match pb::FraudFlagStatus::try_from(r.decision) {
            Ok(d @ (pb::FraudFlagStatus::Confirmed | pb::FraudFlagStatus::Dismissed)) => Some(d),
            _ => {
                v.add("decision", "must be CONFIRMED or DISMISSED");
                None
            }
        };
        let reason_text = wire::required_text("reason", &r.reason, wire::MAX_TEXT_CHARS, &mut v);
        let reviewer = wire::actor("reviewer", r.reviewer.as_ref(), &mut v);
        v.clone().finish()?;
        let invalid = || ReferralsError::Invalid(v.clone());
        let (flag_id, decision, reason_text, reviewer) = (
            flag_id.ok_or_else(invalid)?,
            decision.ok_or_else(invalid)?,
            reason_text.ok_or_else(invalid)?,
            reviewer.ok_or_else(invalid)?,
        );

        let mut tx = self.write().await?;
        let mut flag = store::flags::get(&mut tx, flag_id)
            .await?
            .ok_or_else(|| not_found("fraud flag", flag_id))?;
        if flag.status != pb::FraudFlagStatus::Open {
            return Err(ReferralsError::FailedPrecondition(format!(
                "fraud flag {flag_id} was already resolved"
            )));
        }
        flag.status = decision;
        flag.resolved = Some((now, reviewer.kind, reviewer.id, reason_text));
        store::flags::resolve(&mut tx, &flag).await?;
        // Rewards the flag held: cancelled when fraud is confirmed, settled again when dismissed.
        let flags = store::flags::all(&mut tx).await?;
        let mut touched = Vec::new();
        for mut reward in store::rewards::held(&mut tx).await? {
            if !(flag.referral_ids.contains(&reward.referral_id)
                || flag.customer_ids.contains(&reward.customer_id))
            {
                continue;
            }
            if decision == pb::FraudFlagStatus::Confirmed {
                reward.status = pb::RewardStatus::Cancelled;
                reward.reasons = vec![reason(
                    "FRAUD_CONFIRMED",
                    "Cancelled: the review confirmed fraud.",
                    RULE_REWARDS,
                    common::ReasonEffect::Opposes,
                )];
            } else {
                let referral = store::referrals::get(&mut tx, reward.referral_id)
                    .await?
                    .ok_or_else(|| not_found("referral", reward.referral_id))?;
                self.settle(&mut tx, &mut reward, &referral, &flags, now)
                    .await?;
                if reward.status == pb::RewardStatus::Issued {
                    rapport_outbox::append(
                        &mut tx,
                        &ReferralEvent::RewardIssued {
                            customer_id: reward.customer_id,
                            reward_id: reward.id,
                            referral_id: reward.referral_id,
                        },
                        now,
                    )
                    .await?;
                }
            }
            store::rewards::save(&mut tx, &reward).await?;
            touched.push(reward);
        }
        commit(tx).await?;
        Ok(pb::ResolveFraudFlagResponse {
            fraud_flag: Some(flag_to_pb(&flag)),
            rewards: touched.iter().map(reward_to_pb).collect(),
        })
    }
}

/// The member's row lock (a no-op update), so two evaluations never both fit under one cap.
async fn sqlx_lock_member(conn: &mut Conn, customer_id: Id) -> Result<(), ReferralsError> {
    rapport_storage::sqlx::query(
        "UPDATE members SET customer_id = customer_id WHERE customer_id = $1",
    )
    .bind(customer_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn result(
    referral: &Referral,
    qualified: bool,
    reasons: &[StoredReason],
    rewards: &[Reward],
) -> pb::QualificationResult {
    pb::QualificationResult {
        referral_id: referral.id.to_string(),
        qualified,
        reasons: reasons.iter().map(reason_to_pb).collect(),
        rewards: rewards.iter().map(reward_to_pb).collect(),
    }
}
