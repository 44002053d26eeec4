//! Do-not-contact, refused and opted-out channels, electronic consent.

use super::*;

#[test]
fn do_not_contact_has_no_next_time_except_for_statutory_letters() {
    let rules = RuleSet::uk_conc7();
    let mut customer = customer(LONDON);
    customer.do_not_contact = true;
    let noon = local(LONDON, "2026-06-10T12:00");
    for channel in [
        Channel::Phone,
        Channel::Email,
        Channel::Letter,
        Channel::Visit,
    ] {
        let decision = decide_plain(&rules, &customer, &[], &request(channel, noon));
        assert!(!decision.allowed, "{channel:?}");
        assert_eq!(decision.next_allowed_at, None);
        assert_eq!(opposing(&decision), ["DO_NOT_CONTACT"]);
    }
    let notice = Request {
        purpose: ContactPurpose::StatutoryNotice,
        ..request(Channel::Letter, noon)
    };
    assert!(decide_plain(&rules, &customer, &[], &notice).allowed);
    let emailed_notice = Request {
        channel: Channel::Email,
        ..notice
    };
    assert!(!decide_plain(&rules, &customer, &[], &emailed_notice).allowed);
}

#[test]
fn opted_out_and_refused_channels_are_closed_with_no_next_time() {
    let rules = RuleSet::us_reg_f();
    let noon = local(NEW_YORK, "2026-06-10T12:00");
    let mut opted_out = customer(NEW_YORK);
    opted_out.opted_out_channels = vec![Channel::Sms];
    let decision = decide_plain(&rules, &opted_out, &[], &request(Channel::Sms, noon));
    assert_eq!(opposing(&decision), ["CHANNEL_OPTED_OUT"]);
    assert_eq!(decision.next_allowed_at, None);
    assert!(decide_plain(&rules, &opted_out, &[], &request(Channel::Email, noon)).allowed);

    // An opt-out recorded in the ledger counts the same.
    let ledger = [Attempt {
        channel: Channel::Email,
        direction: Direction::Outbound,
        outcome: ContactOutcome::OptedOut,
        at: local(NEW_YORK, "2026-06-01T12:00"),
        automated: true,
    }];
    let plain = customer(NEW_YORK);
    let by_ledger = decide_plain(&rules, &plain, &ledger, &request(Channel::Email, noon));
    assert_eq!(opposing(&by_ledger), ["CHANNEL_OPTED_OUT"]);
    assert_eq!(
        param(
            reason(&by_ledger, ContactRule::OptedOutChannel),
            "recorded_in"
        ),
        Some("contact ledger")
    );

    let mut refused = customer(NEW_YORK);
    refused.refused_channels = vec![Channel::Phone];
    let decision = decide_plain(&rules, &refused, &[], &call(noon));
    assert_eq!(opposing(&decision), ["CHANNEL_REFUSED"]);
    assert_eq!(decision.next_allowed_at, None);
}

#[test]
fn withdrawn_electronic_consent_closes_electronic_channels() {
    let rules = RuleSet::uk_conc7();
    let mut customer = customer(LONDON);
    customer.electronic_collections_consent = Some(false);
    let noon = local(LONDON, "2026-06-10T12:00");
    let email = decide_plain(&rules, &customer, &[], &request(Channel::Email, noon));
    assert_eq!(opposing(&email), ["ELECTRONIC_CONSENT"]);
    assert_eq!(email.next_allowed_at, None);
    assert!(decide_plain(&rules, &customer, &[], &call(noon)).allowed);
}

#[test]
fn electronic_messages_are_reminded_of_their_opt_out() {
    let rules = RuleSet::uk_conc7();
    let customer = customer(LONDON);
    let email = decide_plain(
        &rules,
        &customer,
        &[],
        &request(Channel::Email, local(LONDON, "2026-06-10T12:00")),
    );
    let notice = reason(&email, ContactRule::ElectronicOptOut);
    assert_eq!(notice.effect, ReasonEffect::Neutral);
    assert!(notice.message.contains("opt out"));
    assert_eq!(
        RuleSet::us_reg_f().rule_ref(ContactRule::ElectronicOptOut),
        "12 CFR 1006.6(e)"
    );
}
