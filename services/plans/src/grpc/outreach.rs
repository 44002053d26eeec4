//! OutreachService: whether, when and how the bank may contact a customer about a debt, with
//! every reason stored for audit replay; the contact ledger; the next best action; messages.

use jiff::{SignedDuration, Timestamp};
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_proto::plans::v1::outreach_service_server::OutreachService;
use rapport_wire as wire;
use tonic::{Request, Response, Status};

use super::{Core, answer, commit, load_account, traced_id};
use crate::customers::ContactProfile;
use crate::domain::account::Account;
use crate::domain::affordability::{Explanation, ReasonEffect};
use crate::domain::contact_rules::{
    self, Attempt, PastDue, ProtectionPeriod, Protections, RuleSet,
};
use crate::domain::events::PlansEvent;
use crate::error::PlansError;
use crate::store::contact::{StoredAttempt, StoredDecision, StoredReason};
use crate::store::plans::Lockable;
use crate::store::{self, Conn};
use rapport_wire::reason_to_pb;

/// How long a held attempt slot lasts before another dialer may take it.
const RESERVATION: SignedDuration = SignedDuration::from_mins(5);
/// The ledger window that matters: the longest rule looks back 7 days; 30 is ample.
const LEDGER_DAYS: i64 = 30;

#[derive(Debug, Clone)]
pub(crate) struct OutreachApi(pub(crate) Core);

#[tonic::async_trait]
impl OutreachService for OutreachApi {
    async fn check_contact(
        &self,
        r: Request<pb::CheckContactRequest>,
    ) -> Result<Response<pb::CheckContactResponse>, Status> {
        answer(self.check(r.into_inner())).await
    }
    async fn record_contact_attempt(
        &self,
        r: Request<pb::RecordContactAttemptRequest>,
    ) -> Result<Response<pb::RecordContactAttemptResponse>, Status> {
        answer(self.record(r.into_inner())).await
    }
    async fn next_best_action(
        &self,
        r: Request<pb::NextBestActionRequest>,
    ) -> Result<Response<pb::NextBestActionResponse>, Status> {
        answer(self.next_best_action(r.into_inner())).await
    }
    async fn render_message(
        &self,
        r: Request<pb::RenderMessageRequest>,
    ) -> Result<Response<pb::RenderMessageResponse>, Status> {
        answer(super::messages::render(&self.0, r.into_inner())).await
    }
    async fn list_templates(
        &self,
        r: Request<pb::ListTemplatesRequest>,
    ) -> Result<Response<pb::ListTemplatesResponse>, Status> {
        answer(super::messages::list(r.into_inner())).await
    }
}

/// Everything a decision needs about the customer and the debt, read once.
struct Context {
    account: Account,
    customer: contact_rules::Customer,
    protections: Protections,
    ledger: Vec<Attempt>,
    preferred: Vec<common::Channel>,
}

impl OutreachApi {
    /// The rest of the context, read through `conn`; `profile` is the account owner's, asked
    /// of profiles before `conn` was taken (no connection is held across a call to profiles).
    async fn context(
        &self,
        conn: &mut Conn,
        account: Account,
        profile: ContactProfile,
        now: Timestamp,
    ) -> Result<Context, PlansError> {
        let mut opted_out = store::contact::opted_out_channels(conn, account.customer_id).await?;
        opted_out.sort_by_key(|c| *c as i32);
        let protections = store::protections::for_customer(conn, account.customer_id)
            .await?
            .into_iter()
            .filter(|p| p.covers(account.id))
            .map(|p| {
                ProtectionPeriod::on_calendar(p.kind, p.starts_at, p.ends_at, &profile.time_zone)
            })
            .collect();
        let since = now - SignedDuration::from_hours(24 * LEDGER_DAYS);
        let ledger =
            store::contact::attempts_for_debt(conn, account.customer_id, account.id, since)
                .await?
                .into_iter()
                .map(|a| Attempt {
                    channel: a.channel,
                    direction: a.direction,
                    outcome: a.outcome,
                    at: a.occurred_at,
                    automated: a.automated,
                })
                .collect();
        Ok(Context {
            customer: contact_rules::Customer {
                time_zone: profile.time_zone,
                quiet_hours: profile.quiet_hours,
                refused_channels: profile.refused_channels,
                do_not_contact: profile.do_not_contact,
                opted_out_channels: opted_out,
                electronic_collections_consent: profile.electronic_collections_consent,
                consented_to_out_of_hours_calls: false,
                vulnerable: profile.vulnerable,
            },
            protections: Protections {
                periods: protections,
            },
            ledger,
            preferred: profile.preferred_channels,
            account,
        })
    }

    /// The ledger a decision at `at` sees, with the slots other dialers hold on `channel`.
    async fn with_held_slots(
        &self,
        conn: &mut Conn,
        context: &Context,
        channel: common::Channel,
        now: Timestamp,
        at: Timestamp,
    ) -> Result<Vec<Attempt>, PlansError> {
        let account = &context.account;
        let held =
            store::contact::held_slots(conn, account.customer_id, account.id, channel, now).await?;
        Ok(contact_rules::ledger_with_held_slots(
            &context.ledger,
            &held,
            channel,
            at,
        ))
    }

    #[tracing::instrument(skip_all, fields(customer_id = traced_id(&r.customer_id), account_id = traced_id(&r.account_id)))]
    async fn check(
        &self,
        r: pb::CheckContactRequest,
    ) -> Result<pb::CheckContactResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        let account_id = wire::id("account_id", &r.account_id, &mut v);
        let channel = wire::known_enum(
            "channel",
            r.channel,
            |c| common::Channel::try_from(c).ok(),
            common::Channel::Unspecified,
            &mut v,
        );
        let purpose = wire::known_enum(
            "purpose",
            r.purpose,
            |p| pb::ContactPurpose::try_from(p).ok(),
            pb::ContactPurpose::Unspecified,
            &mut v,
        );
        let at = match &r.at {
            Some(t) => wire::timestamp("at", t, &mut v),
            None => Some(now),
        };
        let requested_by = wire::actor("requested_by", r.requested_by.as_ref(), &mut v);
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let (customer_id, account_id, channel, purpose, at) = (
            customer_id.ok_or_else(invalid)?,
            account_id.ok_or_else(invalid)?,
            channel.ok_or_else(invalid)?,
            purpose.ok_or_else(invalid)?,
            at.ok_or_else(invalid)?,
        );

        // The owner's contact profile is asked of profiles before the write transaction: the
        // writer held across that call made every plans write wait for profiles. The account
        // is checked the same way in both places, so the errors come in the same order.
        let (mut owner, mut profile) = {
            let mut conn = self.0.read().await?;
            let account = owned_account(&mut conn, account_id, customer_id).await?;
            drop(conn);
            let profile = self
                .0
                .directory
                .contact_profile(account.customer_id)
                .await?;
            (account.customer_id, profile)
        };
        let (mut tx, account, customer_id) = loop {
            let mut tx = self.0.write().await?;
            // Decisions about one debt are taken one at a time, so held slots are counted exactly.
            store::plans::lock(&mut tx, Lockable::Account, account_id).await?;
            let account = owned_account(&mut tx, account_id, customer_id).await?;
            if account.customer_id == owner {
                break (tx, account, owner);
            }
            // A merge moved the account to its survivor since it was read: ask profiles about
            // the survivor, again without the writer.
            drop(tx);
            owner = account.customer_id;
            profile = self.0.directory.contact_profile(owner).await?;
        };
        let context = self.context(&mut tx, account, profile, now).await?;
        let ledger = self
            .with_held_slots(&mut tx, &context, channel, now, at)
            .await?;
        let rules = RuleSet::for_jurisdiction(&context.account.jurisdiction);
        rules
            .validate()
            .map_err(|e| PlansError::Corrupt(format!("contact rule set {}: {e}", rules.name)))?;
        let decision = contact_rules::decide(
            &rules,
            &context.customer,
            &context.protections,
            &ledger,
            &contact_rules::Request {
                channel,
                at,
                purpose,
                automated: r.automated,
                past_due: past_due(&context.account),
            },
        );
        let reserved_until = (r.reserve && decision.allowed).then(|| now + RESERVATION);
        let stored = StoredDecision {
            id: Id::new(),
            customer_id,
            account_id,
            channel,
            purpose,
            at,
            automated: r.automated,
            allowed: decision.allowed,
            reasons: decision.reasons.iter().map(stored_reason).collect(),
            next_allowed_at: decision.next_allowed_at,
            route_to_specialist: decision.route_to_specialist,
            rule_set: decision.rule_set.to_owned(),
            rule_set_version: decision.rule_set_version.to_owned(),
            requested_by: requested_by.ok_or_else(invalid)?,
            evaluated_at: now,
            reserved_until,
            consumed: false,
        };
        store::contact::insert_decision(&mut tx, &stored).await?;
        commit(tx).await?;
        Ok(pb::CheckContactResponse {
            allowed: decision.allowed,
            reasons: decision.reasons.iter().map(reason_to_pb).collect(),
            next_allowed_at: decision.next_allowed_at.map(wire::timestamp_to_pb),
            decision_id: stored.id.to_string(),
            route_to_specialist: decision.route_to_specialist,
            rule_set: decision.rule_set.to_owned(),
            rule_set_version: decision.rule_set_version.to_owned(),
            reservation_expires_at: reserved_until.map(wire::timestamp_to_pb),
            // The instant asked about (`at`, or now when unset), as the schema says; the stored
            // decision keeps when it was taken.
            evaluated_at: Some(wire::timestamp_to_pb(at)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = traced_id(&r.customer_id), account_id = traced_id(&r.account_id), decision_id = traced_id(&r.decision_id)))]
    async fn record(
        &self,
        r: pb::RecordContactAttemptRequest,
    ) -> Result<pb::RecordContactAttemptResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let customer_id = wire::id("customer_id", &r.customer_id, &mut v);
        let account_id = wire::id("account_id", &r.account_id, &mut v);
        let channel = wire::known_enum(
            "channel",
            r.channel,
            |c| common::Channel::try_from(c).ok(),
            common::Channel::Unspecified,
            &mut v,
        );
        let direction = wire::known_enum(
            "direction",
            r.direction,
            |d| common::Direction::try_from(d).ok(),
            common::Direction::Unspecified,
            &mut v,
        );
        let outcome = wire::known_enum(
            "outcome",
            r.outcome,
            |o| pb::ContactOutcome::try_from(o).ok(),
            pb::ContactOutcome::Unspecified,
            &mut v,
        );
        let occurred_at = wire::past_instant("occurred_at", r.occurred_at.as_ref(), now, &mut v);
        let template_id =
            wire::optional_text("template_id", &r.template_id, wire::MAX_CODE_CHARS, &mut v);
        let made_by = wire::actor("made_by", r.made_by.as_ref(), &mut v);
        let request_id = wire::request_id("request_id", &r.request_id, &mut v);
        let decision_id = if direction == Some(common::Direction::Outbound) {
            wire::id("decision_id", &r.decision_id, &mut v)
        } else {
            None
        };
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let (customer_id, account_id, channel, direction, outcome) = (
            customer_id.ok_or_else(invalid)?,
            account_id.ok_or_else(invalid)?,
            channel.ok_or_else(invalid)?,
            direction.ok_or_else(invalid)?,
            outcome.ok_or_else(invalid)?,
        );

        let mut tx = self.0.write().await?;
        if let Some(request_id) = &request_id
            && let Some(earlier) = store::contact::attempt_by_request(&mut tx, request_id).await?
        {
            return Ok(pb::RecordContactAttemptResponse {
                attempt: Some(attempt_to_pb(&earlier)),
            });
        }
        store::plans::lock(&mut tx, Lockable::Account, account_id).await?;
        let account = load_account(&mut tx, account_id).await?;
        // A merged-away id is answered for its survivor (profiles' merge, through events).
        let customer_id = store::merges::survivor(&mut tx, customer_id).await?;
        if account.customer_id != customer_id {
            return Err(Validation::single("account_id", "belongs to another customer").into());
        }
        if let Some(decision_id) = decision_id {
            // An outbound attempt needs an allowed decision for this debt and channel, used once.
            let decision = store::contact::decision(&mut tx, decision_id)
                .await?
                .ok_or_else(|| {
                    Validation::single("decision_id", "is not a CheckContact decision")
                })?;
            if decision.account_id != account_id || decision.channel != channel {
                return Err(Validation::single(
                    "decision_id",
                    "was taken for another debt or channel",
                )
                .into());
            }
            if !decision.allowed {
                return Err(PlansError::FailedPrecondition(
                    "the contact was not allowed; nothing may be recorded against that decision"
                        .into(),
                ));
            }
            if decision.reserved_until.is_some_and(|until| until < now) {
                return Err(PlansError::FailedPrecondition(
                    "the held slot expired; ask CheckContact again".into(),
                ));
            }
            if !store::contact::consume(&mut tx, decision_id).await? {
                return Err(PlansError::FailedPrecondition(
                    "that decision was already used for an attempt".into(),
                ));
            }
        }
        let attempt = StoredAttempt {
            id: Id::new(),
            customer_id,
            account_id,
            channel,
            direction,
            outcome,
            occurred_at: occurred_at.ok_or_else(invalid)?,
            automated: r.automated,
            template_id: template_id.ok_or_else(invalid)?,
            decision_id: decision_id.map(|d| d.to_string()).unwrap_or_default(),
            made_by: made_by.ok_or_else(invalid)?,
            recorded_at: now,
        };
        store::contact::insert_attempt(&mut tx, &attempt, request_id.as_deref()).await?;
        if outcome == pb::ContactOutcome::OptedOut {
            rapport_outbox::append(
                &mut tx,
                &PlansEvent::ChannelOptedOut {
                    customer_id,
                    account_id,
                    channel: channel.as_str_name(),
                },
                now,
            )
            .await?;
        }
        commit(tx).await?;
        Ok(pb::RecordContactAttemptResponse {
            attempt: Some(attempt_to_pb(&attempt)),
        })
    }

    #[tracing::instrument(skip_all, fields(account_id = traced_id(&r.account_id)))]
    async fn next_best_action(
        &self,
        r: pb::NextBestActionRequest,
    ) -> Result<pb::NextBestActionResponse, PlansError> {
        let now = self.0.now();
        let mut v = Validation::new();
        let account_id = wire::id("account_id", &r.account_id, &mut v);
        let at = match &r.at {
            Some(t) => wire::timestamp("at", t, &mut v),
            None => Some(now),
        };
        v.clone().finish()?;
        let invalid = || PlansError::Invalid(v.clone());
        let (account_id, at) = (account_id.ok_or_else(invalid)?, at.ok_or_else(invalid)?);

        let mut conn = self.0.read().await?;
        let account = load_account(&mut conn, account_id).await?;
        // No reader is held across the call to profiles (the pool is small).
        drop(conn);
        let profile = self
            .0
            .directory
            .contact_profile(account.customer_id)
            .await?;
        let mut conn = self.0.read().await?;
        let in_hardship = store::cases::open_for_account(&mut conn, account_id)
            .await?
            .is_some();
        let context = self.context(&mut conn, account, profile, now).await?;
        let next = contact_rules::next_best_action(
            &contact_rules::ContactSituation {
                rules: &RuleSet::for_jurisdiction(&context.account.jurisdiction),
                customer: &context.customer,
                protections: &context.protections,
                ledger: &context.ledger,
                preferred: &context.preferred,
                in_hardship,
                past_due: past_due(&context.account),
            },
            at,
        );
        Ok(pb::NextBestActionResponse {
            action: next.action as i32,
            channel: next.channel as i32,
            earliest_at: next.earliest_at.map(wire::timestamp_to_pb),
            purpose: next.purpose as i32,
            template_id: next.template_id,
            reasons: next.reasons.iter().map(reason_to_pb).collect(),
        })
    }
}

/// The account, refused unless it belongs to `customer_id` or to the survivor it was merged
/// into (a merged-away id is answered for its survivor: profiles' merge, through events).
async fn owned_account(
    conn: &mut Conn,
    account_id: Id,
    customer_id: Id,
) -> Result<Account, PlansError> {
    let account = load_account(conn, account_id).await?;
    let customer_id = store::merges::survivor(conn, customer_id).await?;
    if account.customer_id != customer_id {
        return Err(Validation::single("account_id", "belongs to another customer").into());
    }
    Ok(account)
}

/// What billing last reported past due on the account.
fn past_due(account: &Account) -> PastDue {
    PastDue {
        days: account.days_past_due,
        arrears: account.arrears,
    }
}

fn stored_reason(e: &Explanation) -> StoredReason {
    StoredReason {
        code: e.code.to_string(),
        message: e.message.clone(),
        rule_ref: e.rule_ref.to_string(),
        effect: match e.effect {
            ReasonEffect::Neutral => "NEUTRAL",
            ReasonEffect::Supports => "SUPPORTS",
            ReasonEffect::Opposes => "OPPOSES",
        }
        .to_owned(),
        params: e.params.clone(),
    }
}

fn attempt_to_pb(a: &StoredAttempt) -> pb::ContactAttempt {
    pb::ContactAttempt {
        attempt_id: a.id.to_string(),
        customer_id: a.customer_id.to_string(),
        account_id: a.account_id.to_string(),
        channel: a.channel as i32,
        direction: a.direction as i32,
        outcome: a.outcome as i32,
        occurred_at: Some(wire::timestamp_to_pb(a.occurred_at)),
        automated: a.automated,
        template_id: a.template_id.clone(),
        decision_id: a.decision_id.clone(),
        made_by: Some(wire::actor_to_pb(&a.made_by)),
        recorded_at: Some(wire::timestamp_to_pb(a.recorded_at)),
    }
}
