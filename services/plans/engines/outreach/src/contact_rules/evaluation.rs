//! Running every rule in order and searching for the next allowed instant.

use super::*;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy)]
pub(super) struct Inputs<'a> {
    pub(super) rules: &'a RuleSet,
    pub(super) customer: &'a Customer,
    pub(super) protections: &'a Protections,
    pub(super) ledger: &'a [Attempt],
}

/// How long a rule blocks the contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Block {
    /// The rule passes again from this instant (unless something else changes).
    Until(Timestamp),
    /// No end can be foreseen.
    Indefinitely,
}

#[derive(Debug)]
pub(super) struct Check {
    pub(super) reason: Explanation,
    pub(super) block: Option<Block>,
}

impl Check {
    pub(super) fn pass(reason: Explanation) -> Self {
        Self {
            reason,
            block: None,
        }
    }

    pub(super) fn block(reason: Explanation, block: Block) -> Self {
        let reason = match block {
            Block::Until(at) => reason.param("until", at),
            Block::Indefinitely => reason,
        };
        Self {
            reason,
            block: Some(block),
        }
    }

    /// A block until `until`, or for good when it cannot be computed (dates beyond year 9999).
    pub(super) fn block_until(reason: Explanation, until: Option<Timestamp>) -> Self {
        Self::block(reason, until.map_or(Block::Indefinitely, Block::Until))
    }
}

/// One evaluation of every rule for one request at one instant.
#[derive(Debug)]
pub(super) struct Context<'a> {
    pub(super) inputs: &'a Inputs<'a>,
    pub(super) request: Request,
    /// The customer's wall clock at `request.at`.
    pub(super) local: DateTime,
}

impl Context<'_> {
    pub(super) fn reason(
        &self,
        rule: ContactRule,
        effect: ReasonEffect,
        message: impl Into<String>,
    ) -> Explanation {
        Explanation::new(
            rule.code(),
            effect,
            self.inputs.rules.rule_ref(rule),
            message,
        )
    }

    pub(super) fn zone(&self) -> &TimeZone {
        &self.inputs.customer.time_zone
    }

    pub(super) fn local_date_of(&self, at: Timestamp) -> Date {
        at.to_zoned(self.zone().clone()).date()
    }

    /// The ledger as it stood at the instant evaluated.
    pub(super) fn earlier_attempts(&self) -> impl Iterator<Item = &Attempt> {
        let at = self.request.at;
        self.inputs.ledger.iter().filter(move |a| a.at < at)
    }

    pub(super) fn channel_label(&self) -> &'static str {
        channel_label(self.request.channel)
    }
}

pub(super) fn evaluate(inputs: &Inputs<'_>, request: Request) -> Vec<Check> {
    let cx = Context {
        inputs,
        request,
        local: request
            .at
            .to_zoned(inputs.customer.time_zone.clone())
            .datetime(),
    };
    ContactRule::ALL
        .iter()
        .map(|rule| match rule {
            ContactRule::DoNotContact => do_not_contact(&cx),
            ContactRule::RefusedChannel => refused_channel(&cx),
            ContactRule::OptedOutChannel => opted_out_channel(&cx),
            ContactRule::ElectronicConsent => electronic_consent(&cx),
            ContactRule::ProtectedState => protected_state(&cx),
            ContactRule::VulnerabilityHold => vulnerability_hold(&cx),
            ContactRule::ContactHours => contact_hours(&cx),
            ContactRule::SundaysAndPublicHolidays => sundays_and_public_holidays(&cx),
            ContactRule::QuietHours => quiet_hours(&cx),
            ContactRule::CallFrequency => call_frequency(&cx),
            ContactRule::PostConversationWait => post_conversation_wait(&cx),
            ContactRule::ElectronicOptOut => electronic_opt_out(&cx),
            ContactRule::NothingPastDue => nothing_past_due(&cx),
        })
        .collect()
}

#[derive(Debug)]
pub(super) enum NextAllowed {
    At(Timestamp),
    /// A rule blocking now has no foreseeable end.
    Unforeseeable,
    /// The rules blocking now end, but at `from` these block with no foreseeable end.
    BlockedLater {
        from: Timestamp,
        rules: Vec<Cow<'static, str>>,
    },
    BeyondHorizon,
}

/// The blocking rules of one evaluation, by code.
pub(super) fn blocks_of(checks: &[Check]) -> Vec<(Cow<'static, str>, Block)> {
    checks
        .iter()
        .filter_map(|c| c.block.map(|block| (c.reason.code.clone(), block)))
        .collect()
}

/// Bounds the search; a day takes at most a few steps (quiet hours, contact hours, a holiday).
pub(super) const MAX_SEARCH_STEPS: usize = 4 * SEARCH_HORIZON_DAYS as usize;

/// The earliest instant at which every rule passes. Each blocking rule reports an instant
/// before which it cannot pass, so the latest of them is a lower bound; re-evaluating there
/// either passes or yields a later bound (quiet hours ending after the contact hours, a Sunday
/// after a Saturday evening, attempts made meanwhile).
pub(super) fn next_allowed(
    inputs: &Inputs<'_>,
    request: &Request,
    mut blocks: Vec<(Cow<'static, str>, Block)>,
) -> NextAllowed {
    let horizon = request
        .at
        .checked_add(SignedDuration::from_hours(24 * SEARCH_HORIZON_DAYS))
        .unwrap_or(Timestamp::MAX);
    let mut evaluated_at = request.at;
    for _ in 0..MAX_SEARCH_STEPS {
        let Some(candidate) = latest_end(&blocks) else {
            if evaluated_at == request.at {
                return NextAllowed::Unforeseeable;
            }
            let rules = blocks
                .iter()
                .filter(|(_, block)| *block == Block::Indefinitely)
                .map(|(code, _)| code.clone())
                .collect();
            return NextAllowed::BlockedLater {
                from: evaluated_at,
                rules,
            };
        };
        if candidate <= evaluated_at {
            // Every block ends after the instant it was evaluated at; never loop in place.
            return NextAllowed::Unforeseeable;
        }
        if candidate > horizon {
            return NextAllowed::BeyondHorizon;
        }
        let later = Request {
            at: candidate,
            ..*request
        };
        blocks = blocks_of(&evaluate(inputs, later));
        if blocks.is_empty() {
            return NextAllowed::At(candidate);
        }
        evaluated_at = candidate;
    }
    NextAllowed::BeyondHorizon
}

/// The latest end of `blocks`, or `None` when one of them has no foreseeable end.
pub(super) fn latest_end(blocks: &[(Cow<'static, str>, Block)]) -> Option<Timestamp> {
    blocks
        .iter()
        .try_fold(Timestamp::MIN, |latest, (_, block)| match block {
            Block::Until(at) => Some(latest.max(*at)),
            Block::Indefinitely => None,
        })
}
