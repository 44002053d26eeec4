//! Properties over random ledgers, zones and instants.

use super::*;

use proptest::prelude::*;
use proptest::sample::select;

const ZONES: [&str; 7] = [
    NEW_YORK,
    BUCHAREST,
    DUBLIN,
    LONDON,
    "UTC",
    "Australia/Lord_Howe",
    "America/Havana",
];
const CHANNELS: [Channel; 12] = [
    Channel::Phone,
    Channel::Sms,
    Channel::Email,
    Channel::Letter,
    Channel::InApp,
    Channel::Push,
    Channel::Messaging,
    Channel::WebChat,
    Channel::Web,
    Channel::Branch,
    Channel::Visit,
    Channel::Video,
];
const PURPOSES: [ContactPurpose; 4] = [
    ContactPurpose::Unspecified,
    ContactPurpose::PaymentDemand,
    ContactPurpose::Support,
    ContactPurpose::StatutoryNotice,
];
fn outcome() -> impl Strategy<Value = ContactOutcome> {
    prop_oneof![
        20 => Just(ContactOutcome::NoAnswer),
        10 => Just(ContactOutcome::Voicemail),
        3 => Just(ContactOutcome::Conversation),
        4 => Just(ContactOutcome::MessageSent),
        1 => Just(ContactOutcome::OptedOut),
    ]
}
const KINDS: [ProtectionKind; 4] = [
    ProtectionKind::BreathingSpace,
    ProtectionKind::MentalHealthCrisis,
    ProtectionKind::Dispute,
    ProtectionKind::VulnerabilityHold,
];
/// 2025-01-01T00:00:00Z .. 2036-01-01T00:00:00Z: past the one-off holiday list, through
/// years whose holidays are computed.
const FROM: i64 = 1_735_689_600;
const TO: i64 = 2_082_758_400;
const DAY: i64 = 86_400;

fn instant(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).expect("in range")
}

fn rule_set(index: usize) -> RuleSet {
    match index {
        0 => RuleSet::us_reg_f(),
        1 => RuleSet::uk_conc7(),
        2 => RuleSet::ireland(),
        _ => RuleSet::conservative_default(),
    }
}

fn quiet_span() -> impl Strategy<Value = QuietHours> {
    (
        0..24i8,
        prop_oneof![Just(0i8), Just(30i8)],
        0..24i8,
        prop_oneof![Just(0i8), Just(30i8)],
        0u8..128,
    )
        .prop_map(|(h0, m0, h1, m1, mask)| {
            let days = (0..7)
                .filter(|bit| mask & (1 << bit) != 0)
                .filter_map(|bit| Weekday::from_monday_one_offset(bit + 1).ok())
                .collect();
            (time(h0, m0, 0, 0), time(h1, m1, 0, 0), days)
        })
}

prop_compose! {
    fn customer_in_zone()(
        zone_name in select(&ZONES[..]),
        quiet_hours in prop::collection::vec(quiet_span(), 0..3),
        refused in prop::option::weighted(0.1, select(&CHANNELS[..])),
        opted_out in prop::option::weighted(0.1, select(&CHANNELS[..])),
        do_not_contact in prop::bool::weighted(0.05),
        electronic in prop::option::of(prop::bool::weighted(0.8)),
        out_of_hours in prop::bool::weighted(0.1),
    ) -> Customer {
        Customer {
            time_zone: zone(zone_name),
            quiet_hours,
            refused_channels: refused.into_iter().collect(),
            do_not_contact,
            opted_out_channels: opted_out.into_iter().collect(),
            electronic_collections_consent: electronic,
            consented_to_out_of_hours_calls: out_of_hours,
            vulnerable: false,
        }
    }
}

prop_compose! {
    fn scenario()(
        rules in 0usize..4,
        customer in customer_in_zone(),
        now in FROM..TO,
        channel in prop_oneof![4 => Just(Channel::Phone), 1 => select(&CHANNELS[..])],
        purpose in select(&PURPOSES[..]),
        automated in any::<bool>(),
        ledger in prop::collection::vec(
            (
                1..9 * DAY,
                prop::bool::weighted(0.8),
                outcome(),
                prop_oneof![9 => Just(Channel::Phone), 1 => select(&CHANNELS[..])],
            ),
            0..24,
        ),
        periods in prop::collection::vec(
            (
                select(&KINDS[..]),
                -90 * DAY..30 * DAY,
                prop::option::weighted(0.8, 1..90 * DAY),
            ),
            0..3,
        ),
    ) -> (RuleSet, Customer, Protections, Vec<Attempt>, Request) {
        let ledger = ledger
            .into_iter()
            .map(|(ago, outbound, outcome, channel)| Attempt {
                channel,
                direction: if outbound { Direction::Outbound } else { Direction::Inbound },
                outcome,
                at: instant(now - ago),
                automated: false,
            })
            .collect();
        let periods = periods
            .into_iter()
            .map(|(kind, start, length)| ProtectionPeriod {
                kind,
                starts_at: instant(now + start),
                ends_at: length.map(|length| instant(now + start + length)),
            })
            .collect();
        let request = Request { channel, at: instant(now), purpose, automated, past_due: BEHIND };
        (rule_set(rules), customer, Protections { periods }, ledger, request)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The next allowed moment is after the request, allowed itself, and the earliest:
    /// a nanosecond before it the contact is still refused.
    #[test]
    fn next_allowed_is_the_first_allowed_moment(
        (rules, customer, protections, ledger, request) in scenario()
    ) {
        let decide_at = |at: Timestamp| {
            decide(&rules, &customer, &protections, &ledger, &Request { at, ..request })
        };
        let decision = decide_at(request.at);
        let rule_codes: Vec<&str> = decision
            .reasons
            .iter()
            .map(|r| r.code.as_ref())
            .take(ContactRule::ALL.len())
            .collect();
        let expected: Vec<&str> = ContactRule::ALL.iter().map(|r| r.code()).collect();
        prop_assert_eq!(rule_codes, expected);
        prop_assert_eq!(decision.allowed, opposing(&decision).is_empty());
        if decision.allowed {
            prop_assert_eq!(decision.next_allowed_at, None);
        }
        if let Some(next) = decision.next_allowed_at {
            prop_assert!(!decision.allowed);
            prop_assert!(next > request.at);
            let then = decide_at(next);
            prop_assert!(then.allowed, "not allowed at {}: {:?}", next, opposing(&then));
            let just_before = next - SignedDuration::from_nanos(1);
            let before = decide_at(just_before);
            prop_assert!(!before.allowed, "already allowed at {}", just_before);
        }
    }

    /// A refusal with no foreseeable end comes from a rule that blocks for good.
    #[test]
    fn no_next_time_only_for_lasting_blocks(
        (rules, customer, protections, ledger, request) in scenario()
    ) {
        let decision = decide(&rules, &customer, &protections, &ledger, &request);
        if !decision.allowed && decision.next_allowed_at.is_none() {
            let lasting = decision.reasons.iter().any(|r| {
                r.code == NO_ALLOWED_TIME_WITHIN_HORIZON
                    || r.code == BLOCKED_INDEFINITELY_LATER
                    || (r.effect == ReasonEffect::Opposes && param(r, "until").is_none())
            });
            prop_assert!(lasting, "{:?}", decision.reasons);
        }
    }
}
