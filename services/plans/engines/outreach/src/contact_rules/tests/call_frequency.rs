//! Reg F: seven calls in seven days, and the wait after a conversation.

use super::*;

#[test]
fn the_seventh_call_in_seven_days_is_allowed() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    let ledger: Vec<Attempt> = (2..=7)
        .map(|day| outbound_call(local(NEW_YORK, &format!("2026-06-{day:02}T10:00"))))
        .collect();
    let decision = decide_plain(
        &rules,
        &customer,
        &ledger,
        &call(local(NEW_YORK, "2026-06-08T10:00")),
    );
    assert!(decision.allowed);
    let frequency = reason(&decision, ContactRule::CallFrequency);
    assert_eq!(frequency.effect, ReasonEffect::Supports);
    assert_eq!(param(frequency, "attempts"), Some("6"));
    assert!(frequency.message.contains("number 7"));
}

#[test]
fn the_eighth_call_in_seven_days_is_blocked_until_the_oldest_day_leaves_the_window() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    // Across the spring-forward change: 2026-03-02 .. 2026-03-08.
    let mut ledger: Vec<Attempt> = (2..=7)
        .map(|day| outbound_call(local(NEW_YORK, &format!("2026-03-{day:02}T10:00"))))
        .collect();
    ledger.push(outbound_call(local(NEW_YORK, "2026-03-08T09:00")));
    let eighth = call(local(NEW_YORK, "2026-03-08T10:00"));
    let decision = decide_plain(&rules, &customer, &ledger, &eighth);
    assert!(!decision.allowed);
    assert_eq!(opposing(&decision), ["CALL_FREQUENCY"]);
    let frequency = reason(&decision, ContactRule::CallFrequency);
    assert_eq!(param(frequency, "attempts"), Some("7"));
    // 2026-03-02 leaves the window at local midnight starting 2026-03-09 (EDT).
    assert_eq!(param(frequency, "until"), Some("2026-03-09T04:00:00Z"));
    // ... and the contact hours then move it to 08:00 EDT.
    assert_eq!(decision.next_allowed_at, Some(at("2026-03-09T12:00:00Z")));
    let then = decide_plain(
        &rules,
        &customer,
        &ledger,
        &call(at("2026-03-09T12:00:00Z")),
    );
    assert!(then.allowed);
}

#[test]
fn inbound_calls_and_other_channels_do_not_count() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    let mut ledger: Vec<Attempt> = (2..=7)
        .map(|day| outbound_call(local(NEW_YORK, &format!("2026-06-{day:02}T10:00"))))
        .collect();
    for hour in 11..14 {
        ledger.push(attempt(
            Direction::Inbound,
            ContactOutcome::NoAnswer,
            local(NEW_YORK, &format!("2026-06-08T{hour}:00")),
        ));
    }
    ledger.push(Attempt {
        channel: Channel::Sms,
        direction: Direction::Outbound,
        outcome: ContactOutcome::MessageSent,
        at: local(NEW_YORK, "2026-06-08T09:00"),
        automated: true,
    });
    assert!(
        decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(local(NEW_YORK, "2026-06-08T15:00"))
        )
        .allowed
    );
}

#[test]
fn an_attempt_eight_days_back_has_left_the_window() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    let ledger: Vec<Attempt> = (1..=7)
        .map(|day| outbound_call(local(NEW_YORK, &format!("2026-06-{day:02}T10:00"))))
        .collect();
    assert!(
        decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(local(NEW_YORK, "2026-06-08T10:00"))
        )
        .allowed
    );
}

#[test]
fn the_ledger_after_the_instant_evaluated_is_ignored() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    let ledger: Vec<Attempt> = (0..7)
        .map(|minute| outbound_call(local(NEW_YORK, &format!("2026-06-08T10:{minute:02}"))))
        .collect();
    let earlier = decide_plain(
        &rules,
        &customer,
        &ledger,
        &call(local(NEW_YORK, "2026-06-08T09:30")),
    );
    assert!(
        earlier.allowed,
        "a stored decision replays the same against a later ledger"
    );
    assert!(
        !decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(local(NEW_YORK, "2026-06-08T11:00"))
        )
        .allowed
    );
}

#[test]
fn the_default_rule_set_caps_calls_too() {
    let rules = RuleSet::conservative_default();
    let customer = customer(BUCHAREST);
    let ledger: Vec<Attempt> = (2..=8)
        .map(|day| outbound_call(local(BUCHAREST, &format!("2026-06-{day:02}T10:00"))))
        .collect();
    let decision = decide_plain(
        &rules,
        &customer,
        &ledger,
        &call(local(BUCHAREST, "2026-06-08T12:00")),
    );
    assert_eq!(opposing(&decision), ["CALL_FREQUENCY"]);
    assert!(
        decide_plain(
            &RuleSet::uk_conc7(),
            &customer,
            &ledger,
            &call(local(BUCHAREST, "2026-06-08T12:00"))
        )
        .allowed
    );
}

// ------------------------------------------------------------ Reg F wait after a conversation

#[test]
fn day_seven_after_a_conversation_is_blocked_and_day_eight_allowed() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    // Thursday 2026-03-05 is day 1; the clocks change on day 4.
    let ledger = [attempt(
        Direction::Outbound,
        ContactOutcome::Conversation,
        local(NEW_YORK, "2026-03-05T14:00"),
    )];
    let day_seven = decide_plain(
        &rules,
        &customer,
        &ledger,
        &call(local(NEW_YORK, "2026-03-11T20:00")),
    );
    assert!(!day_seven.allowed);
    assert_eq!(opposing(&day_seven), ["POST_CONVERSATION_WAIT"]);
    let wait = reason(&day_seven, ContactRule::PostConversationWait);
    assert_eq!(param(wait, "day"), Some("7"));
    assert_eq!(param(wait, "until"), Some("2026-03-12T04:00:00Z"));
    assert_eq!(
        day_seven.next_allowed_at,
        Some(local(NEW_YORK, "2026-03-12T08:00"))
    );

    let day_eight = decide_plain(
        &rules,
        &customer,
        &ledger,
        &call(local(NEW_YORK, "2026-03-12T08:00")),
    );
    assert!(day_eight.allowed);
    assert_eq!(
        param(reason(&day_eight, ContactRule::PostConversationWait), "day"),
        Some("8")
    );
}

#[test]
fn an_inbound_conversation_starts_the_wait_and_a_voicemail_does_not() {
    let rules = RuleSet::us_reg_f();
    let customer = customer(NEW_YORK);
    let inbound = [attempt(
        Direction::Inbound,
        ContactOutcome::Conversation,
        local(NEW_YORK, "2026-06-08T10:00"),
    )];
    let decision = decide_plain(
        &rules,
        &customer,
        &inbound,
        &call(local(NEW_YORK, "2026-06-09T10:00")),
    );
    assert_eq!(opposing(&decision), ["POST_CONVERSATION_WAIT"]);
    let voicemail = [attempt(
        Direction::Outbound,
        ContactOutcome::Voicemail,
        local(NEW_YORK, "2026-06-08T10:00"),
    )];
    assert!(
        decide_plain(
            &rules,
            &customer,
            &voicemail,
            &call(local(NEW_YORK, "2026-06-09T10:00"))
        )
        .allowed
    );
    // A letter is not a call.
    let letter = request(Channel::Letter, local(NEW_YORK, "2026-06-09T10:00"));
    assert!(decide_plain(&rules, &customer, &inbound, &letter).allowed);
}
