//! NextBestAction: of the channels the customer prefers (then SMS, email, phone, letter), the
//! first contact the rules allow, with the purpose, the template and every reason.

use rapport_proto::plans::v1::NextActionKind;

use super::*;

/// What the bank should do next about a debt, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextAction {
    pub action: NextActionKind,
    /// `Unspecified` unless the action is a call or a message.
    pub channel: Channel,
    /// When the action may happen; `None` when no contact is allowed.
    pub earliest_at: Option<Timestamp>,
    /// `Unspecified` when nothing is past due.
    pub purpose: ContactPurpose,
    /// The shipped template for a message; empty otherwise.
    pub template_id: String,
    pub reasons: Vec<Explanation>,
}

/// Everything the next action depends on about the customer and the debt.
#[derive(Debug, Clone, Copy)]
pub struct ContactSituation<'a> {
    pub rules: &'a RuleSet,
    pub customer: &'a Customer,
    pub protections: &'a Protections,
    pub ledger: &'a [Attempt],
    /// The customer's preferred channels, in order.
    pub preferred: &'a [Channel],
    /// An open hardship case covers the debt.
    pub in_hardship: bool,
    pub past_due: PastDue,
}

/// The next best action at `at`.
pub fn next_best_action(s: &ContactSituation<'_>, at: Timestamp) -> NextAction {
    if !s.past_due.anything() {
        // Every suggestion below is collections contact (the first-contact templates speak of
        // a missed payment); service messages follow their own events, not this one.
        let reason = Explanation::new(
            ContactRule::NothingPastDue.code(),
            ReasonEffect::Opposes,
            RuleSet::default().rule_ref(ContactRule::NothingPastDue),
            "Nothing on the account is past due: there is no debt to contact the customer about.",
        )
        .param("days_past_due", s.past_due.days)
        .param("arrears_minor_units", s.past_due.arrears);
        return no_contact(ContactPurpose::Unspecified, None, vec![reason]);
    }
    let contacted_before = s.ledger.iter().any(|a| a.direction == Direction::Outbound);
    // The first contact, and every contact in a hardship journey, offers help; it never demands.
    let purpose = if !contacted_before || s.in_hardship {
        ContactPurpose::Support
    } else {
        ContactPurpose::PaymentDemand
    };
    let mut reasons = vec![if purpose == ContactPurpose::Support {
        Explanation::new(
            "SUPPORT_FIRST",
            ReasonEffect::Supports,
            "DESIGN.md: the first contact offers help, never threats",
            if s.in_hardship {
                "The customer is in a hardship journey: contact offers help, not a demand."
            } else {
                "No earlier contact about this debt: the first message offers help."
            },
        )
    } else {
        Explanation::new(
            "FOLLOW_UP",
            ReasonEffect::Neutral,
            "",
            "The customer has been contacted before about this debt.",
        )
    }];
    let mut candidates: Vec<Channel> = s.preferred.to_vec();
    for fallback in [
        Channel::Sms,
        Channel::Email,
        Channel::Phone,
        Channel::Letter,
    ] {
        if !candidates.contains(&fallback) {
            candidates.push(fallback);
        }
    }
    let mut best: Option<(Timestamp, Channel)> = None;
    let mut specialist = false;
    for channel in candidates {
        let request = Request {
            channel,
            at,
            purpose,
            automated: false,
            past_due: s.past_due,
        };
        let decision = decide(s.rules, s.customer, s.protections, s.ledger, &request);
        specialist |= decision.route_to_specialist;
        let when = if decision.allowed {
            Some(at)
        } else {
            decision.next_allowed_at
        };
        if let Some(when) = when
            && best.is_none_or(|(earliest, _)| when < earliest)
        {
            best = Some((when, channel));
        }
        if decision.allowed {
            break; // preferences come first: the first channel allowed now wins
        }
    }
    if specialist {
        reasons.push(Explanation::new(
            "VULNERABILITY_HOLD",
            ReasonEffect::Opposes,
            "DESIGN.md: a vulnerability hold routes to a specialist",
            "A vulnerability hold is in force: a specialist takes over; no automated contact.",
        ));
        let mut review = no_contact(purpose, Some(at), reasons);
        review.action = NextActionKind::SpecialistReview;
        return review;
    }
    let Some((when, channel)) = best else {
        reasons.push(Explanation::new(
            "NO_CONTACT_ALLOWED",
            ReasonEffect::Opposes,
            "",
            "No channel may be used: the customer asked not to be contacted, or a protection is in force.",
        ));
        return no_contact(purpose, None, reasons);
    };
    let action = if channel == Channel::Phone || channel == Channel::Visit {
        NextActionKind::Call
    } else {
        NextActionKind::SendMessage
    };
    let template_id = if action == NextActionKind::SendMessage {
        crate::templates::template_for(channel, purpose, contacted_before).unwrap_or_default()
    } else {
        String::new()
    };
    if when > at {
        reasons.push(Explanation::new(
            "WAIT_UNTIL_ALLOWED",
            ReasonEffect::Neutral,
            "",
            format!(
                "The earliest allowed moment on {} is later than requested.",
                channel.as_str_name()
            ),
        ));
    }
    NextAction {
        action,
        channel,
        earliest_at: Some(when),
        purpose,
        template_id,
        reasons,
    }
}

fn no_contact(
    purpose: ContactPurpose,
    earliest_at: Option<Timestamp>,
    reasons: Vec<Explanation>,
) -> NextAction {
    NextAction {
        action: NextActionKind::NoContact,
        channel: Channel::Unspecified,
        earliest_at,
        purpose,
        template_id: String::new(),
        reasons,
    }
}

/// The ledger a decision at `at` sees: every recorded attempt (one recorded for the same
/// instant still happened, so it counts just before `at`) and every slot another dialer holds on
/// `channel` (`held`, when each was taken), so two dialers never share the last one.
pub fn ledger_with_held_slots(
    ledger: &[Attempt],
    held: &[Timestamp],
    channel: Channel,
    at: Timestamp,
) -> Vec<Attempt> {
    let just_before = at - SignedDuration::from_micros(1);
    let mut seen: Vec<Attempt> = ledger
        .iter()
        .map(|a| Attempt {
            at: a.at.min(just_before),
            ..*a
        })
        .collect();
    seen.extend(held.iter().map(|held| Attempt {
        channel,
        direction: Direction::Outbound,
        outcome: ContactOutcome::NoAnswer,
        at: (*held).min(just_before),
        automated: false,
    }));
    seen.sort_by_key(|a| a.at);
    seen
}
