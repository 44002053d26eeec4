//! The customer's own quiet hours.

use super::*;

#[test]
fn quiet_hours_wrap_past_midnight_and_follow_their_days() {
    let rules = RuleSet::uk_conc7();
    let mut customer = customer(LONDON);
    // Friday evening to Saturday morning only.
    customer.quiet_hours = vec![(time(20, 0, 0, 0), time(9, 0, 0, 0), vec![Weekday::Friday])];
    let friday = decide_plain(
        &rules,
        &customer,
        &[],
        &call(local(LONDON, "2026-06-12T20:30")),
    );
    assert_eq!(opposing(&friday), ["QUIET_HOURS"]);
    assert_eq!(
        friday.next_allowed_at,
        Some(local(LONDON, "2026-06-13T09:00"))
    );
    let saturday_morning = decide_plain(
        &rules,
        &customer,
        &[],
        &call(local(LONDON, "2026-06-13T08:30")),
    );
    assert_eq!(opposing(&saturday_morning), ["QUIET_HOURS"]);
    assert_eq!(
        saturday_morning.next_allowed_at,
        Some(local(LONDON, "2026-06-13T09:00"))
    );
    assert!(
        decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(LONDON, "2026-06-13T20:30"))
        )
        .allowed
    );
    assert!(
        decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(LONDON, "2026-06-14T08:30"))
        )
        .allowed
    );
    assert!(
        decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(LONDON, "2026-06-12T19:59"))
        )
        .allowed
    );
}

#[test]
fn quiet_hours_running_into_the_evening_move_contact_to_the_next_morning() {
    let rules = RuleSet::uk_conc7();
    let mut customer = customer(LONDON);
    customer.quiet_hours = vec![
        (time(17, 0, 0, 0), time(21, 30, 0, 0), vec![]),
        (time(8, 0, 0, 0), time(10, 0, 0, 0), vec![Weekday::Saturday]),
    ];
    // Friday 18:00: quiet until 21:30, past the hours, and Saturday morning is quiet too.
    let decision = decide_plain(
        &rules,
        &customer,
        &[],
        &call(local(LONDON, "2026-06-12T18:00")),
    );
    assert_eq!(
        decision.next_allowed_at,
        Some(local(LONDON, "2026-06-13T10:00"))
    );
}

#[test]
fn quiet_hours_do_not_hold_back_letters() {
    let rules = RuleSet::uk_conc7();
    let mut customer = customer(LONDON);
    customer.quiet_hours = vec![(time(0, 0, 0, 0), time(0, 0, 0, 0), vec![])];
    let letter = decide_plain(
        &rules,
        &customer,
        &[],
        &request(Channel::Letter, local(LONDON, "2026-06-10T12:00")),
    );
    assert!(letter.allowed);
    // A whole-day span every day leaves no time for a call at all.
    let call = decide_plain(
        &rules,
        &customer,
        &[],
        &call(local(LONDON, "2026-06-10T12:00")),
    );
    assert!(!call.allowed);
    assert_eq!(call.next_allowed_at, None);
    assert!(
        call.reasons
            .iter()
            .any(|r| r.code == NO_ALLOWED_TIME_WITHIN_HORIZON)
    );
}
