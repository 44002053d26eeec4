//! Which rule set a jurisdiction gets, and what a rule set must hold.

use super::*;

#[test]
fn jurisdictions_pick_their_rule_sets() {
    assert_eq!(RuleSet::for_jurisdiction("US").name, "US");
    assert_eq!(RuleSet::for_jurisdiction("gb").name, "GB");
    assert_eq!(RuleSet::for_jurisdiction("UK").name, "GB");
    assert_eq!(RuleSet::for_jurisdiction(" ie ").name, "IE");
    assert_eq!(RuleSet::for_jurisdiction("RO").name, "DEFAULT");
    assert_eq!(RuleSet::for_jurisdiction("").name, "DEFAULT");
    let default = RuleSet::default();
    assert_eq!(
        default.call_cap,
        Some(CallCap {
            attempts: 7,
            days: 7
        })
    );
    assert_eq!(default.allowed_hours, (time(8, 0, 0, 0), time(21, 0, 0, 0)));
}

#[test]
fn shipped_rule_sets_are_valid_and_bad_ones_are_named() {
    for rules in [
        RuleSet::us_reg_f(),
        RuleSet::uk_conc7(),
        RuleSet::ireland(),
        RuleSet::conservative_default(),
    ] {
        rules.validate().expect("shipped rule set is valid");
    }
    let mut rules = RuleSet::uk_conc7();
    rules.allowed_hours = (time(21, 0, 0, 0), time(8, 0, 0, 0));
    assert!(matches!(
        rules.validate(),
        Err(ContactRulesError::EmptyContactHours { .. })
    ));
    let mut rules = RuleSet::us_reg_f();
    rules.call_cap = Some(CallCap {
        attempts: 0,
        days: 7,
    });
    assert!(matches!(
        rules.validate(),
        Err(ContactRulesError::ZeroCallCap)
    ));
    rules.call_cap = None;
    rules.post_conversation_wait_days = Some(0);
    assert!(matches!(
        rules.validate(),
        Err(ContactRulesError::ZeroConversationWait)
    ));
}

#[test]
fn only_ireland_keeps_a_holiday_calendar_and_reports_its_version() {
    assert_eq!(
        RuleSet::ireland().sundays_and_public_holidays,
        Some(HolidayCalendar::ireland())
    );
    for rules in [
        RuleSet::us_reg_f(),
        RuleSet::uk_conc7(),
        RuleSet::conservative_default(),
    ] {
        assert_eq!(rules.sundays_and_public_holidays, None, "{}", rules.name);
        assert_eq!(rules.version, SHIPPED_VERSION);
    }
    let decision = decide_plain(
        &RuleSet::ireland(),
        &customer(DUBLIN),
        &[],
        &call(local(DUBLIN, "2026-06-10T10:00")),
    );
    assert_eq!(
        (decision.rule_set, decision.rule_set_version),
        ("IE", IRELAND_VERSION)
    );
    assert_ne!(IRELAND_VERSION, SHIPPED_VERSION);
}

#[test]
fn every_decision_gives_one_reason_per_rule_in_order() {
    let decision = decide_plain(
        &RuleSet::us_reg_f(),
        &customer(NEW_YORK),
        &[],
        &call(local(NEW_YORK, "2026-06-10T10:00")),
    );
    assert!(decision.allowed);
    let codes: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_ref()).collect();
    let expected: Vec<&str> = ContactRule::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(codes, expected);
    assert_eq!(decision.next_allowed_at, None);
    assert_eq!(
        (decision.rule_set, decision.rule_set_version),
        ("US", SHIPPED_VERSION)
    );
    assert_eq!(
        reason(&decision, ContactRule::CallFrequency).rule_ref,
        "12 CFR 1006.14(b)(2)(i)(A)"
    );
}
