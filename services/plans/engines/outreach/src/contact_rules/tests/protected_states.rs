//! Protected states and vulnerability holds.

use super::*;

#[test]
fn a_breathing_space_ends_at_midnight_local_time() {
    let rules = RuleSet::uk_conc7();
    let customer = customer(LONDON);
    let ends_at = local_midnight_after(date(2026, 6, 30), &zone(LONDON)).expect("midnight");
    assert_eq!(ends_at, at("2026-06-30T23:00:00Z"), "midnight BST");
    let protections = Protections {
        periods: vec![ProtectionPeriod {
            kind: ProtectionKind::BreathingSpace,
            starts_at: local(LONDON, "2026-05-02T00:00"),
            ends_at: Some(ends_at),
        }],
    };
    let demand = |at: Timestamp| request(Channel::Letter, at);
    let last_second = decide(
        &rules,
        &customer,
        &protections,
        &[],
        &demand(local(LONDON, "2026-06-30T23:59:59")),
    );
    assert!(!last_second.allowed);
    assert_eq!(opposing(&last_second), ["PROTECTED_STATE"]);
    assert!(
        reason(&last_second, ContactRule::ProtectedState)
            .message
            .contains("debt adviser")
    );
    assert_eq!(last_second.next_allowed_at, Some(ends_at));
    let midnight = decide(
        &rules,
        &customer,
        &protections,
        &[],
        &demand(local(LONDON, "2026-07-01T00:00:00")),
    );
    assert!(midnight.allowed);
    // A call must also wait for the contact hours.
    let phone = decide(
        &rules,
        &customer,
        &protections,
        &[],
        &call(local(LONDON, "2026-06-30T23:59:59")),
    );
    assert_eq!(
        phone.next_allowed_at,
        Some(local(LONDON, "2026-07-01T08:00"))
    );
    // Support and statutory notices are not payment demands.
    for purpose in [ContactPurpose::Support, ContactPurpose::StatutoryNotice] {
        let other = Request {
            purpose,
            ..demand(local(LONDON, "2026-06-15T12:00"))
        };
        assert!(
            decide(&rules, &customer, &protections, &[], &other).allowed,
            "{purpose:?}"
        );
    }
}

#[test]
fn an_open_ended_protection_has_no_next_time_for_payment_demands() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    let protections = Protections {
        periods: vec![ProtectionPeriod {
            kind: ProtectionKind::Dispute,
            starts_at: at("2026-01-01T00:00:00Z"),
            ends_at: None,
        }],
    };
    let decision = decide(
        &rules,
        &customer,
        &protections,
        &[],
        &call(local(NEW_YORK, "2026-06-10T10:00")),
    );
    assert!(!decision.allowed);
    assert_eq!(decision.next_allowed_at, None);
    assert!(!decision.route_to_specialist);
}

#[test]
fn a_vulnerability_profiles_records_holds_contact_like_a_hold() {
    let rules = RuleSet::uk_conc7();
    let customer = Customer {
        vulnerable: true,
        ..customer(LONDON)
    };
    let none = Protections { periods: vec![] };
    let support = |automated: bool| Request {
        channel: Channel::Phone,
        at: local(LONDON, "2026-06-10T10:00"),
        purpose: ContactPurpose::Support,
        automated,
        past_due: BEHIND,
    };
    let dialler = decide(&rules, &customer, &none, &[], &support(true));
    assert!(!dialler.allowed);
    assert!(dialler.route_to_specialist);
    assert_eq!(opposing(&dialler), ["VULNERABILITY_HOLD"]);
    assert_eq!(
        dialler.next_allowed_at, None,
        "no end date: held until cleared"
    );
    let specialist = decide(&rules, &customer, &none, &[], &support(false));
    assert!(specialist.allowed && specialist.route_to_specialist);
}

#[test]
fn a_vulnerability_hold_routes_to_a_specialist_and_blocks_automated_contact() {
    let rules = RuleSet::uk_conc7();
    let customer = customer(LONDON);
    let protections = Protections {
        periods: vec![ProtectionPeriod {
            kind: ProtectionKind::VulnerabilityHold,
            starts_at: at("2026-01-01T00:00:00Z"),
            ends_at: None,
        }],
    };
    let support = |automated: bool, channel: Channel| Request {
        channel,
        at: local(LONDON, "2026-06-10T10:00"),
        purpose: ContactPurpose::Support,
        automated,
        past_due: BEHIND,
    };
    let dialler = decide(
        &rules,
        &customer,
        &protections,
        &[],
        &support(true, Channel::Phone),
    );
    assert!(!dialler.allowed);
    assert!(dialler.route_to_specialist);
    assert_eq!(opposing(&dialler), ["VULNERABILITY_HOLD"]);
    assert_eq!(dialler.next_allowed_at, None);
    assert!(
        !decide(
            &rules,
            &customer,
            &protections,
            &[],
            &support(true, Channel::Sms)
        )
        .allowed
    );

    let specialist = decide(
        &rules,
        &customer,
        &protections,
        &[],
        &support(false, Channel::Phone),
    );
    assert!(specialist.allowed);
    assert!(specialist.route_to_specialist);
    assert_eq!(
        reason(&specialist, ContactRule::VulnerabilityHold).effect,
        ReasonEffect::Neutral
    );

    // A hold also stops payment demands.
    let demand = Request {
        purpose: ContactPurpose::PaymentDemand,
        ..support(false, Channel::Phone)
    };
    assert_eq!(
        opposing(&decide(&rules, &customer, &protections, &[], &demand)),
        ["PROTECTED_STATE"]
    );
}

#[test]
fn a_hold_with_an_end_gives_the_dialler_a_next_time() {
    let rules = RuleSet::uk_conc7();
    let customer = customer(LONDON);
    let ends_at = local(LONDON, "2026-06-12T00:00");
    let protections = Protections {
        periods: vec![ProtectionPeriod {
            kind: ProtectionKind::VulnerabilityHold,
            starts_at: at("2026-01-01T00:00:00Z"),
            ends_at: Some(ends_at),
        }],
    };
    let request = Request {
        channel: Channel::Phone,
        at: local(LONDON, "2026-06-10T10:00"),
        purpose: ContactPurpose::Support,
        automated: true,
        past_due: BEHIND,
    };
    let decision = decide(&rules, &customer, &protections, &[], &request);
    assert_eq!(
        decision.next_allowed_at,
        Some(local(LONDON, "2026-06-12T08:00"))
    );
}
