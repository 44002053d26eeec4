//! The domain events plans publishes through its outbox. Payloads carry ids, codes and amounts in
//! minor units (as decimal strings, DESIGN's DomainEvent convention), never personal data.

use jiff::Timestamp;
use rapport_ids::Id;
use serde_json::{Value, json};

use super::standing::{Standing, StandingReason};

#[derive(Debug, Clone, PartialEq)]
pub enum PlansEvent {
    PaymentReported {
        customer_id: Id,
        account_id: Id,
        amount: i64,
        currency: &'static str,
    },
    CaseOpened {
        customer_id: Id,
        case_id: Id,
        reason: &'static str,
    },
    ProtectionSet {
        customer_id: Id,
        protection_id: Id,
        kind: &'static str,
    },
    ProtectionCleared {
        customer_id: Id,
        protection_id: Id,
        kind: &'static str,
    },
    PlanAccepted {
        customer_id: Id,
        account_id: Id,
        plan_id: Id,
        kind: &'static str,
    },
    InstallmentPaid {
        customer_id: Id,
        plan_id: Id,
        sequence: u32,
    },
    /// One missed installment: a gentle check-in, the plan stays active.
    InstallmentMissed {
        customer_id: Id,
        plan_id: Id,
        sequence: u32,
        consecutive: u32,
    },
    PlanCompleted {
        customer_id: Id,
        plan_id: Id,
    },
    PlanBroken {
        customer_id: Id,
        plan_id: Id,
    },
    PlanCancelled {
        customer_id: Id,
        plan_id: Id,
    },
    PromiseResolved {
        customer_id: Id,
        promise_id: Id,
        kept: bool,
    },
    /// The customer used a message's opt-out: the channel is closed (Reg F §1006.6(e)).
    ChannelOptedOut {
        customer_id: Id,
        account_id: Id,
        channel: &'static str,
    },
    /// The customer's good standing changed (`domain::standing`): the verdict, every reason (each
    /// opposing one with when it lapses by itself, if it does), and since when it holds.
    StandingChanged {
        customer_id: Id,
        standing: Standing,
        since: Timestamp,
    },
}

/// The rule a standing event applies, for consumers' explanations.
pub const STANDING_RULE: &str = "DESIGN.md: Good standing";

fn standing_reason_payload(reason: &StandingReason) -> Value {
    let mut body = json!({
        "code": reason.code(),
        "effect": if reason.opposes() { "OPPOSES" } else { "SUPPORTS" },
        "message": reason.message(),
    });
    let fields = match reason {
        StandingReason::PastDue {
            account_id,
            days_past_due,
            limit,
        } => json!({
            "account_id": account_id.to_string(), "days_past_due": days_past_due, "max_days_past_due": limit,
        }),
        StandingReason::PlanBroken {
            plan_id,
            broken_at,
            lapses_at,
        } => json!({
            "plan_id": plan_id.to_string(), "broken_at": broken_at.to_string(), "lapses_at": lapses_at.to_string(),
        }),
        StandingReason::KeepingPlan {
            account_id,
            plan_id,
            days_past_due,
        } => json!({
            "account_id": account_id.to_string(), "plan_id": plan_id.to_string(), "days_past_due": days_past_due,
        }),
    };
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
    body
}

impl rapport_outbox::OutboxEvent for PlansEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::PaymentReported { .. } => "plans.payment_reported.v1",
            Self::CaseOpened { .. } => "plans.hardship_case_opened.v1",
            Self::ProtectionSet { .. } => "plans.protection_set.v1",
            Self::ProtectionCleared { .. } => "plans.protection_cleared.v1",
            Self::PlanAccepted { .. } => "plans.plan_accepted.v1",
            Self::InstallmentPaid { .. } => "plans.installment_paid.v1",
            Self::InstallmentMissed { .. } => "plans.installment_missed.v1",
            Self::PlanCompleted { .. } => "plans.plan_completed.v1",
            Self::PlanBroken { .. } => "plans.plan_broken.v1",
            Self::PlanCancelled { .. } => "plans.plan_cancelled.v1",
            Self::PromiseResolved { .. } => "plans.promise_resolved.v1",
            Self::ChannelOptedOut { .. } => "plans.channel_opted_out.v1",
            Self::StandingChanged { .. } => "plans.standing_changed.v1",
        }
    }

    fn customer_id(&self) -> Id {
        match self {
            Self::PaymentReported { customer_id, .. }
            | Self::CaseOpened { customer_id, .. }
            | Self::ProtectionSet { customer_id, .. }
            | Self::ProtectionCleared { customer_id, .. }
            | Self::PlanAccepted { customer_id, .. }
            | Self::InstallmentPaid { customer_id, .. }
            | Self::InstallmentMissed { customer_id, .. }
            | Self::PlanCompleted { customer_id, .. }
            | Self::PlanBroken { customer_id, .. }
            | Self::PlanCancelled { customer_id, .. }
            | Self::PromiseResolved { customer_id, .. }
            | Self::ChannelOptedOut { customer_id, .. }
            | Self::StandingChanged { customer_id, .. } => *customer_id,
        }
    }

    fn payload(&self) -> Value {
        let customer = self.customer_id().to_string();
        match self {
            Self::PaymentReported {
                account_id,
                amount,
                currency,
                ..
            } => json!({
                "customer_id": customer, "account_id": account_id.to_string(),
                "amount": { "currency_code": currency, "minor_units": amount.to_string() },
            }),
            Self::CaseOpened {
                case_id, reason, ..
            } => {
                json!({ "customer_id": customer, "case_id": case_id.to_string(), "reason": reason })
            }
            Self::ProtectionSet {
                protection_id,
                kind,
                ..
            }
            | Self::ProtectionCleared {
                protection_id,
                kind,
                ..
            } => {
                json!({ "customer_id": customer, "protection_id": protection_id.to_string(), "kind": kind })
            }
            Self::PlanAccepted {
                account_id,
                plan_id,
                kind,
                ..
            } => json!({
                "customer_id": customer, "account_id": account_id.to_string(), "plan_id": plan_id.to_string(), "kind": kind,
            }),
            Self::InstallmentPaid {
                plan_id, sequence, ..
            } => {
                json!({ "customer_id": customer, "plan_id": plan_id.to_string(), "sequence": sequence })
            }
            Self::InstallmentMissed {
                plan_id,
                sequence,
                consecutive,
                ..
            } => json!({
                "customer_id": customer, "plan_id": plan_id.to_string(), "sequence": sequence,
                "consecutive_missed": consecutive, "check_in": true,
            }),
            Self::PlanCompleted { plan_id, .. }
            | Self::PlanBroken { plan_id, .. }
            | Self::PlanCancelled { plan_id, .. } => {
                json!({ "customer_id": customer, "plan_id": plan_id.to_string() })
            }
            Self::PromiseResolved {
                promise_id, kept, ..
            } => {
                json!({ "customer_id": customer, "promise_id": promise_id.to_string(), "kept": kept })
            }
            Self::ChannelOptedOut {
                account_id,
                channel,
                ..
            } => {
                json!({ "customer_id": customer, "account_id": account_id.to_string(), "channel": channel })
            }
            Self::StandingChanged {
                standing, since, ..
            } => json!({
                "customer_id": customer,
                "in_good_standing": standing.in_good_standing,
                "since": since.to_string(),
                "reasons": standing.reasons.iter().map(standing_reason_payload).collect::<Vec<_>>(),
                "rule_ref": STANDING_RULE,
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod event_types {

    use rapport_outbox::OutboxEvent;

    use super::*;

    /// Every event type plans publishes, kept beside its events: `rapport_clients::TYPED_EVENTS`
    /// names the message carrying each, and loyalty's test shows it interprets or ignores each.
    const EVENT_TYPES: &[&str] = &[
        "plans.payment_reported.v1",
        "plans.hardship_case_opened.v1",
        "plans.protection_set.v1",
        "plans.protection_cleared.v1",
        "plans.plan_accepted.v1",
        "plans.installment_paid.v1",
        "plans.installment_missed.v1",
        "plans.plan_completed.v1",
        "plans.plan_broken.v1",
        "plans.plan_cancelled.v1",
        "plans.promise_resolved.v1",
        "plans.channel_opted_out.v1",
        "plans.standing_changed.v1",
    ];

    /// One event of each kind. The match has no catch-all: a new kind does not compile until it
    /// is added here too.
    fn one_of_each() -> Vec<PlansEvent> {
        let all = vec![
            PlansEvent::PaymentReported {
                customer_id: Id::new(),
                account_id: Id::new(),
                amount: 1234,
                currency: "EUR",
            },
            PlansEvent::CaseOpened {
                customer_id: Id::new(),
                case_id: Id::new(),
                reason: "JOB_LOSS",
            },
            PlansEvent::ProtectionSet {
                customer_id: Id::new(),
                protection_id: Id::new(),
                kind: "BREATHING_SPACE",
            },
            PlansEvent::ProtectionCleared {
                customer_id: Id::new(),
                protection_id: Id::new(),
                kind: "BREATHING_SPACE",
            },
            PlansEvent::PlanAccepted {
                customer_id: Id::new(),
                account_id: Id::new(),
                plan_id: Id::new(),
                kind: "REDUCED_PAYMENT",
            },
            PlansEvent::InstallmentPaid {
                customer_id: Id::new(),
                plan_id: Id::new(),
                sequence: 1,
            },
            PlansEvent::InstallmentMissed {
                customer_id: Id::new(),
                plan_id: Id::new(),
                sequence: 2,
                consecutive: 1,
            },
            PlansEvent::PlanCompleted {
                customer_id: Id::new(),
                plan_id: Id::new(),
            },
            PlansEvent::PlanBroken {
                customer_id: Id::new(),
                plan_id: Id::new(),
            },
            PlansEvent::PlanCancelled {
                customer_id: Id::new(),
                plan_id: Id::new(),
            },
            PlansEvent::PromiseResolved {
                customer_id: Id::new(),
                promise_id: Id::new(),
                kept: true,
            },
            PlansEvent::ChannelOptedOut {
                customer_id: Id::new(),
                account_id: Id::new(),
                channel: "CHANNEL_SMS",
            },
            PlansEvent::StandingChanged {
                customer_id: Id::new(),
                standing: Standing {
                    in_good_standing: true,
                    reasons: vec![],
                },
                since: Timestamp::UNIX_EPOCH,
            },
        ];
        for event in &all {
            match event {
                PlansEvent::PaymentReported { .. }
                | PlansEvent::CaseOpened { .. }
                | PlansEvent::ProtectionSet { .. }
                | PlansEvent::ProtectionCleared { .. }
                | PlansEvent::PlanAccepted { .. }
                | PlansEvent::InstallmentPaid { .. }
                | PlansEvent::InstallmentMissed { .. }
                | PlansEvent::PlanCompleted { .. }
                | PlansEvent::PlanBroken { .. }
                | PlansEvent::PlanCancelled { .. }
                | PlansEvent::PromiseResolved { .. }
                | PlansEvent::ChannelOptedOut { .. }
                | PlansEvent::StandingChanged { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_event_plans_writes_is_listed_and_travels_typed() {
        let written: Vec<(&str, Value)> = one_of_each()
            .iter()
            .map(|event| (event.event_type(), event.payload()))
            .collect();
        rapport_clients::producer_events_agree(
            "plans",
            EVENT_TYPES,
            &written,
            include_str!("events.rs"),
        )
        .unwrap();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rapport_outbox::OutboxEvent;

    use super::*;

    #[test]
    fn a_standing_change_carries_the_verdict_its_reasons_and_when_they_lapse() {
        let at = |text: &str| -> Timestamp { text.parse().unwrap() };
        let (customer_id, account_id, plan_id) = (Id::new(), Id::new(), Id::new());
        let event = PlansEvent::StandingChanged {
            customer_id,
            standing: Standing {
                in_good_standing: false,
                reasons: vec![
                    StandingReason::PastDue {
                        account_id,
                        days_past_due: 95,
                        limit: 30,
                    },
                    StandingReason::PlanBroken {
                        plan_id,
                        broken_at: at("2026-01-10T00:00:00Z"),
                        lapses_at: at("2027-01-10T00:00:00Z"),
                    },
                ],
            },
            since: at("2026-03-02T09:00:00Z"),
        };
        assert_eq!(event.event_type(), "plans.standing_changed.v1");
        let payload = event.payload();
        assert_eq!(payload["customer_id"], customer_id.to_string());
        assert_eq!(payload["in_good_standing"], false);
        assert_eq!(payload["since"], "2026-03-02T09:00:00Z");
        assert_eq!(payload["rule_ref"], STANDING_RULE);
        let reasons = payload["reasons"].as_array().unwrap();
        assert_eq!(reasons[0]["code"], "PAST_DUE");
        assert_eq!(reasons[0]["effect"], "OPPOSES");
        assert_eq!(reasons[0]["account_id"], account_id.to_string());
        assert_eq!(reasons[0]["days_past_due"], 95);
        assert!(
            reasons[0].get("lapses_at").is_none(),
            "arrears do not lapse"
        );
        assert_eq!(reasons[1]["code"], "PLAN_BROKEN");
        assert_eq!(reasons[1]["lapses_at"], "2027-01-10T00:00:00Z");
        assert!(
            reasons[1]["message"]
                .as_str()
                .unwrap()
                .contains("2027-01-10")
        );
    }
}
