//! Contact hours, the hours floor, and no collections contact without arrears.

use super::*;

#[test]
fn contact_hours_boundaries_in_every_jurisdiction() {
    for (rules, zone_name, start) in [
        (RuleSet::us_reg_f(), NEW_YORK, 8),
        (RuleSet::uk_conc7(), LONDON, 8),
        (RuleSet::conservative_default(), BUCHAREST, 8),
        (RuleSet::ireland(), DUBLIN, 9),
    ] {
        let customer = customer(zone_name);
        // A Wednesday, no holiday anywhere.
        let check =
            |wall: &str| decide_plain(&rules, &customer, &[], &call(local(zone_name, wall)));
        let before = format!("2026-06-10T{:02}:59:59.999", start - 1);
        let opening = format!("2026-06-10T{start:02}:00");
        let blocked = check(&before);
        assert!(!blocked.allowed, "{} {before}", rules.name);
        assert_eq!(opposing(&blocked), ["CONTACT_HOURS"]);
        assert_eq!(blocked.next_allowed_at, Some(local(zone_name, &opening)));
        assert!(
            check(&format!("2026-06-10T{:02}:59", start - 1))
                .next_allowed_at
                .is_some()
        );
        assert!(check(&opening).allowed, "{} opening", rules.name);
        assert!(check("2026-06-10T20:59").allowed, "{} 20:59", rules.name);
        assert!(check("2026-06-10T20:59:59.999999999").allowed);
        let closing = check("2026-06-10T21:00");
        assert!(!closing.allowed, "{} 21:00", rules.name);
        assert_eq!(
            closing.next_allowed_at,
            Some(local(zone_name, &format!("2026-06-11T{start:02}:00")))
        );
        let hours = reason(&closing, ContactRule::ContactHours);
        assert_eq!(param(hours, "local_time"), Some("21:00"));
        assert_eq!(param(hours, "time_zone"), Some(zone_name));
    }
}

#[test]
fn seven_fifty_nine_is_blocked_and_eight_is_allowed() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    let early = decide_plain(
        &rules,
        &customer,
        &[],
        &call(local(NEW_YORK, "2026-06-10T07:59")),
    );
    assert!(!early.allowed);
    assert_eq!(early.next_allowed_at, Some(at("2026-06-10T12:00:00Z")));
    assert!(
        decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(NEW_YORK, "2026-06-10T08:00"))
        )
        .allowed
    );
}

#[test]
fn reg_f_hours_cover_the_send_time_of_email_and_text_but_not_letters() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    let late = local(NEW_YORK, "2026-06-10T21:30");
    for channel in [Channel::Email, Channel::Sms] {
        let decision = decide_plain(&rules, &customer, &[], &request(channel, late));
        assert!(!decision.allowed);
        assert_eq!(
            decision.next_allowed_at,
            Some(local(NEW_YORK, "2026-06-11T08:00"))
        );
        assert!(
            reason(&decision, ContactRule::ContactHours)
                .message
                .contains("sent at")
        );
    }
    let letter = decide_plain(&rules, &customer, &[], &request(Channel::Letter, late));
    assert!(letter.allowed);
    assert_eq!(
        reason(&letter, ContactRule::ContactHours).effect,
        ReasonEffect::Neutral
    );
}

#[test]
fn irish_hours_rule_covers_calls_and_visits_and_the_floor_covers_the_rest() {
    let rules = RuleSet::ireland();
    let customer = customer(DUBLIN);
    let late = local(DUBLIN, "2026-06-10T22:00");
    let visit = decide_plain(&rules, &customer, &[], &request(Channel::Visit, late));
    assert!(!visit.allowed);
    assert_eq!(
        reason(&visit, ContactRule::ContactHours).rule_ref,
        IE_CCA_S46
    );
    let email = decide_plain(&rules, &customer, &[], &request(Channel::Email, late));
    assert!(!email.allowed, "an email's send time keeps to the floor");
    assert_eq!(
        reason(&email, ContactRule::ContactHours).rule_ref,
        HOURS_FLOOR
    );
    assert!(decide_plain(&rules, &customer, &[], &request(Channel::Letter, late)).allowed);
    // 08:30: the floor is open for a text; the Irish rule keeps calls until 09:00.
    let early = local(DUBLIN, "2026-06-10T08:30");
    assert!(decide_plain(&rules, &customer, &[], &request(Channel::Sms, early)).allowed);
    assert!(!decide_plain(&rules, &customer, &[], &request(Channel::Phone, early)).allowed);
}

#[test]
fn a_text_at_half_past_ten_in_ireland_is_refused_by_the_hours_floor() {
    let rules = RuleSet::ireland();
    let customer = customer(DUBLIN);
    let late = local(DUBLIN, "2026-03-10T22:30");
    for channel in [
        Channel::Sms,
        Channel::Push,
        Channel::InApp,
        Channel::Messaging,
        Channel::Email,
    ] {
        for purpose in [
            ContactPurpose::PaymentDemand,
            ContactPurpose::Support,
            ContactPurpose::StatutoryNotice,
        ] {
            let decision = decide_plain(
                &rules,
                &customer,
                &[],
                &Request {
                    purpose,
                    ..request(channel, late)
                },
            );
            let case = format!("{channel:?} {purpose:?}");
            assert!(!decision.allowed, "{case}");
            assert_eq!(opposing(&decision), vec!["CONTACT_HOURS"], "{case}");
            let hours = reason(&decision, ContactRule::ContactHours);
            assert_eq!(hours.rule_ref, HOURS_FLOOR, "{case}");
            assert_eq!(param(hours, "window_start"), Some("08:00"), "{case}");
            assert_eq!(
                decision.next_allowed_at,
                Some(local(DUBLIN, "2026-03-11T08:00")),
                "{case}"
            );
        }
    }
}

#[test]
fn every_rule_set_keeps_every_timed_channel_within_the_floor() {
    // 07:59 and 21:00 are outside the floor: no shipped rule set allows any channel that
    // reaches a person then, nor email's send time.
    for rules in [
        RuleSet::us_reg_f(),
        RuleSet::uk_conc7(),
        RuleSet::ireland(),
        RuleSet::conservative_default(),
    ] {
        for channel in [
            Channel::Phone,
            Channel::Visit,
            Channel::Video,
            Channel::Sms,
            Channel::Push,
            Channel::InApp,
            Channel::Messaging,
            Channel::Email,
        ] {
            for wall in ["2026-06-10T07:59", "2026-06-10T21:00", "2026-06-10T23:30"] {
                let decision = decide_plain(
                    &rules,
                    &customer(LONDON),
                    &[],
                    &request(channel, local(LONDON, wall)),
                );
                assert!(!decision.allowed, "{} {channel:?} at {wall}", rules.name);
            }
        }
    }
}

#[test]
fn a_window_looser_than_the_floor_needs_a_cited_rule() {
    for (hours, probe) in [
        ((time(7, 0, 0, 0), time(21, 0, 0, 0)), "2026-06-10T07:30"),
        ((time(9, 0, 0, 0), time(22, 0, 0, 0)), "2026-06-10T21:30"),
    ] {
        let mut rules = RuleSet::ireland();
        rules.allowed_hours = hours;
        assert!(matches!(
            rules.validate(),
            Err(ContactRulesError::LooserThanTheFloor { .. })
        ));
        rules.looser_hours_rule = Some("  ");
        assert!(rules.validate().is_err(), "a blank citation cites nothing");
        rules.looser_hours_rule = Some("Hypothetical Act s.1");
        rules
            .validate()
            .expect("a cited rule may loosen the window");
        let decision = decide_plain(&rules, &customer(DUBLIN), &[], &call(local(DUBLIN, probe)));
        assert!(decision.allowed, "{probe}: {:?}", decision.reasons);
        let hours = reason(&decision, ContactRule::ContactHours);
        assert_eq!(
            param(hours, "looser_than_the_floor_under"),
            Some("Hypothetical Act s.1"),
            "the citation is on the reason"
        );
    }
    // Stricter is always fine.
    let mut rules = RuleSet::uk_conc7();
    rules.allowed_hours = (time(9, 0, 0, 0), time(20, 0, 0, 0));
    rules.validate().expect("stricter than the floor");
}

/// Issue 19.1: every account stage × every purpose × every channel. Collections contact
/// (a payment demand, or a purpose left unspecified) needs something past due; help, service
/// messages and statutory notices do not.
#[test]
fn no_collections_contact_without_something_past_due() {
    let stages = [
        ("current, never behind", PastDue::default()),
        (
            "back to current",
            PastDue {
                days: 0,
                arrears: 0,
            },
        ),
        (
            "early",
            PastDue {
                days: 10,
                arrears: 5_000,
            },
        ),
        (
            "mid",
            PastDue {
                days: 45,
                arrears: 30_000,
            },
        ),
        (
            "late",
            PastDue {
                days: 100,
                arrears: 60_000,
            },
        ),
        (
            "severe",
            PastDue {
                days: 400,
                arrears: 90_000,
            },
        ),
        (
            "arrears reported without days",
            PastDue {
                days: 0,
                arrears: 1,
            },
        ),
    ];
    let purposes = [
        (ContactPurpose::Unspecified, true),
        (ContactPurpose::PaymentDemand, true),
        (ContactPurpose::Support, false),
        (ContactPurpose::StatutoryNotice, false),
    ];
    let noon = local(LONDON, "2026-06-10T12:00");
    for rules in [RuleSet::uk_conc7(), RuleSet::us_reg_f(), RuleSet::ireland()] {
        for (stage, past_due) in stages {
            for (purpose, collections) in purposes {
                for channel in [
                    Channel::Sms,
                    Channel::Email,
                    Channel::Phone,
                    Channel::Letter,
                ] {
                    let decision = decide_plain(
                        &rules,
                        &customer(LONDON),
                        &[],
                        &Request {
                            purpose,
                            past_due,
                            ..request(channel, noon)
                        },
                    );
                    let case = format!("{} {stage} {purpose:?} {channel:?}", rules.name);
                    let refused = collections && !past_due.anything();
                    assert_eq!(decision.allowed, !refused, "{case}: {:?}", decision.reasons);
                    let rule = reason(&decision, ContactRule::NothingPastDue);
                    assert_eq!(rule.rule_ref, NOTHING_PAST_DUE, "{case}");
                    let expected = match (collections, past_due.anything()) {
                        (false, _) => ReasonEffect::Neutral,
                        (true, true) => ReasonEffect::Supports,
                        (true, false) => ReasonEffect::Opposes,
                    };
                    assert_eq!(rule.effect, expected, "{case}");
                    if refused {
                        assert_eq!(opposing(&decision), vec!["NOTHING_PAST_DUE"], "{case}");
                        assert_eq!(decision.next_allowed_at, None, "{case}");
                        assert_eq!(
                            decision.reasons.len(),
                            ContactRule::ALL.len(),
                            "{case}: no extra search reason"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn consent_to_out_of_hours_calls_lifts_the_hours_but_not_quiet_hours() {
    let rules = RuleSet::ireland();
    let mut customer = customer(DUBLIN);
    customer.consented_to_out_of_hours_calls = true;
    assert!(
        decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(DUBLIN, "2026-06-10T22:00"))
        )
        .allowed
    );
    customer.quiet_hours = vec![(time(21, 30, 0, 0), time(7, 0, 0, 0), vec![])];
    let decision = decide_plain(
        &rules,
        &customer,
        &[],
        &call(local(DUBLIN, "2026-06-10T22:00")),
    );
    assert_eq!(opposing(&decision), ["QUIET_HOURS"]);
    assert_eq!(
        decision.next_allowed_at,
        Some(local(DUBLIN, "2026-06-11T07:00"))
    );
}
