//! What a decision says: allowed or not, every rule's reason, and when contact would next be
//! allowed.

use super::*;

/// The rules, in the order their reasons appear in a [`Decision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactRule {
    DoNotContact,
    RefusedChannel,
    OptedOutChannel,
    ElectronicConsent,
    ProtectedState,
    VulnerabilityHold,
    ContactHours,
    SundaysAndPublicHolidays,
    QuietHours,
    CallFrequency,
    PostConversationWait,
    ElectronicOptOut,
    NothingPastDue,
}

impl ContactRule {
    pub const ALL: [Self; 13] = [
        Self::DoNotContact,
        Self::RefusedChannel,
        Self::OptedOutChannel,
        Self::ElectronicConsent,
        Self::ProtectedState,
        Self::VulnerabilityHold,
        Self::ContactHours,
        Self::SundaysAndPublicHolidays,
        Self::QuietHours,
        Self::CallFrequency,
        Self::PostConversationWait,
        Self::ElectronicOptOut,
        Self::NothingPastDue,
    ];

    /// The stable `Reason.code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::DoNotContact => "DO_NOT_CONTACT",
            Self::RefusedChannel => "CHANNEL_REFUSED",
            Self::OptedOutChannel => "CHANNEL_OPTED_OUT",
            Self::ElectronicConsent => "ELECTRONIC_CONSENT",
            Self::ProtectedState => "PROTECTED_STATE",
            Self::VulnerabilityHold => "VULNERABILITY_HOLD",
            Self::ContactHours => "CONTACT_HOURS",
            Self::SundaysAndPublicHolidays => "SUNDAY_OR_PUBLIC_HOLIDAY",
            Self::QuietHours => "QUIET_HOURS",
            Self::CallFrequency => "CALL_FREQUENCY",
            Self::PostConversationWait => "POST_CONVERSATION_WAIT",
            Self::ElectronicOptOut => "ELECTRONIC_OPT_OUT_NOTICE",
            Self::NothingPastDue => "NOTHING_PAST_DUE",
        }
    }
}

/// Code of the extra reason added when no allowed moment exists within the search horizon.
pub const NO_ALLOWED_TIME_WITHIN_HORIZON: &str = "NO_ALLOWED_TIME_WITHIN_HORIZON";
/// Code of the extra reason added when the rules blocking now end, but by then another rule
/// blocks with no foreseeable end (e.g. an open-ended protection that starts later).
pub const BLOCKED_INDEFINITELY_LATER: &str = "BLOCKED_INDEFINITELY_LATER";

/// How far ahead [`decide`] looks for the next allowed moment.
pub const SEARCH_HORIZON_DAYS: i64 = 400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// One reason per rule, in [`ContactRule::ALL`] order: blocking ones `Opposes`, passing
    /// ones `Supports`, rules that do not apply `Neutral`.
    pub reasons: Vec<Explanation>,
    /// When refused, the earliest instant at which this contact would be allowed, given the
    /// same ledger; `None` when allowed or when none is foreseeable (do-not-contact, refused or
    /// opted-out channel, open-ended protection, nothing within [`SEARCH_HORIZON_DAYS`]).
    pub next_allowed_at: Option<Timestamp>,
    /// A vulnerability hold is in force: a specialist must make the contact.
    pub route_to_specialist: bool,
    /// The rule set applied, and its version.
    pub rule_set: &'static str,
    pub rule_set_version: &'static str,
}

/// Decides whether `request` may go ahead, with a reason for every rule and, when refused, the
/// next allowed instant. Ledger entries at or after `request.at` are ignored, so a stored
/// decision replays the same against a later ledger.
pub fn decide(
    rules: &RuleSet,
    customer: &Customer,
    protections: &Protections,
    ledger: &[Attempt],
    request: &Request,
) -> Decision {
    let inputs = Inputs {
        rules,
        customer,
        protections,
        ledger,
    };
    let checks = evaluate(&inputs, *request);
    let blocks = blocks_of(&checks);
    let allowed = blocks.is_empty();
    let mut reasons: Vec<Explanation> = checks.into_iter().map(|c| c.reason).collect();
    let next_allowed_at = if allowed {
        None
    } else {
        let (next, unforeseeable) = explain_search(next_allowed(&inputs, request, blocks));
        reasons.extend(unforeseeable);
        next
    };
    Decision {
        allowed,
        reasons,
        next_allowed_at,
        route_to_specialist: customer.vulnerable
            || vulnerability_holds(protections, request.at)
                .next()
                .is_some(),
        rule_set: rules.name,
        rule_set_version: rules.version,
    }
}

/// The next allowed instant a search found, or the reason it found none when the rules'
/// reasons do not already say it (they do when a rule blocking now has no foreseeable end).
pub(super) fn explain_search(outcome: NextAllowed) -> (Option<Timestamp>, Option<Explanation>) {
    match outcome {
        NextAllowed::At(at) => (Some(at), None),
        NextAllowed::Unforeseeable => (None, None),
        NextAllowed::BlockedLater { from, rules } => {
            let rules = rules.join(", ");
            let reason = Explanation::new(
                BLOCKED_INDEFINITELY_LATER,
                ReasonEffect::Neutral,
                "",
                format!(
                    "The rules blocking now would pass at {from}, but from then on these block \
                     contact with no foreseeable end: {rules}."
                ),
            )
            .param("from", from)
            .param("rules", rules);
            (None, Some(reason))
        }
        NextAllowed::BeyondHorizon => {
            let reason = Explanation::new(
                NO_ALLOWED_TIME_WITHIN_HORIZON,
                ReasonEffect::Neutral,
                "",
                format!(
                    "No moment in the next {SEARCH_HORIZON_DAYS} days satisfies every rule; check \
                     the customer's quiet hours against the contact hours."
                ),
            )
            .param("horizon_days", SEARCH_HORIZON_DAYS);
            (None, Some(reason))
        }
    }
}

/// The first instant of the local day after `last_day` in `time_zone`: where a protection whose
/// last protected day is `last_day` ends (e.g. the end date of a breathing space on the
/// Insolvency Service's notice, with the England and Wales zone `Europe/London`).
pub fn local_midnight_after(
    last_day: Date,
    time_zone: &TimeZone,
) -> Result<Timestamp, ContactRulesError> {
    last_day
        .tomorrow()
        .ok()
        .and_then(|day| start_of_local_day(time_zone, day))
        .ok_or(ContactRulesError::DateOutOfRange(last_day))
}
